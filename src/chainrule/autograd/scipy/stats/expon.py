"""``autograd.scipy.stats.expon``."""

from ....scipy.stats.expon import *  # noqa: F403
from ....scipy.stats.expon import __all__  # noqa: F401
