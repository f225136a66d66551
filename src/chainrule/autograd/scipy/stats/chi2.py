"""``autograd.scipy.stats.chi2``."""

from ....scipy.stats.chi2 import *  # noqa: F403
from ....scipy.stats.chi2 import __all__  # noqa: F401
