"""``autograd.scipy.stats.multivariate_normal``."""

from ....scipy.stats.multivariate_normal import *  # noqa: F403
from ....scipy.stats.multivariate_normal import __all__  # noqa: F401
