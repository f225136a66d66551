"""``autograd.scipy.stats.t``."""

from ....scipy.stats.t import *  # noqa: F403
from ....scipy.stats.t import __all__  # noqa: F401
