"""``autograd.scipy.stats.cauchy``."""

from ....scipy.stats.cauchy import *  # noqa: F403
from ....scipy.stats.cauchy import __all__  # noqa: F401
