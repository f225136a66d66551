"""``autograd.scipy.stats.betabinom`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.betabinom import *  # noqa: F403
from ....scipy.stats.betabinom import __all__  # noqa: F401
