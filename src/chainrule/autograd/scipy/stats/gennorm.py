"""``autograd.scipy.stats.gennorm`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.gennorm import *  # noqa: F403
from ....scipy.stats.gennorm import __all__  # noqa: F401
