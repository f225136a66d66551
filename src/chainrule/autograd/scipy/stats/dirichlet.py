"""``autograd.scipy.stats.dirichlet``."""

from ....scipy.stats.dirichlet import *  # noqa: F403
from ....scipy.stats.dirichlet import __all__  # noqa: F401
