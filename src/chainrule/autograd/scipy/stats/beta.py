"""``autograd.scipy.stats.beta``."""

from ....scipy.stats.beta import *  # noqa: F403
from ....scipy.stats.beta import __all__  # noqa: F401
