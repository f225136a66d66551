"""``autograd.scipy.stats.vonmises`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.vonmises import *  # noqa: F403
from ....scipy.stats.vonmises import __all__  # noqa: F401
