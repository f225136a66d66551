"""``autograd.scipy.stats.gamma``."""

from ....scipy.stats.gamma import *  # noqa: F403
from ....scipy.stats.gamma import __all__  # noqa: F401
