"""``autograd.scipy.stats.laplace``."""

from ....scipy.stats.laplace import *  # noqa: F403
from ....scipy.stats.laplace import __all__  # noqa: F401
