"""``autograd.scipy.stats.bernoulli``."""

from ....scipy.stats.bernoulli import *  # noqa: F403
from ....scipy.stats.bernoulli import __all__  # noqa: F401
