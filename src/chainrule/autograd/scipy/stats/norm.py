"""``autograd.scipy.stats.norm``."""

from ....scipy.stats.norm import *  # noqa: F403
from ....scipy.stats.norm import __all__  # noqa: F401
