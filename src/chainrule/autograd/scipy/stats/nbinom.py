"""``autograd.scipy.stats.nbinom`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.nbinom import *  # noqa: F403
from ....scipy.stats.nbinom import __all__  # noqa: F401
