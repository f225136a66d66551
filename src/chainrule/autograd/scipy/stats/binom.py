"""``autograd.scipy.stats.binom``."""

from ....scipy.stats.binom import *  # noqa: F403
from ....scipy.stats.binom import __all__  # noqa: F401
