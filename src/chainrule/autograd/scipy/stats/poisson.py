"""``autograd.scipy.stats.poisson``."""

from ....scipy.stats.poisson import *  # noqa: F403
from ....scipy.stats.poisson import __all__  # noqa: F401
