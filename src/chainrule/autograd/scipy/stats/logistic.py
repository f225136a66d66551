"""``autograd.scipy.stats.logistic``."""

from ....scipy.stats.logistic import *  # noqa: F403
from ....scipy.stats.logistic import __all__  # noqa: F401
