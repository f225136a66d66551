"""``autograd.scipy.stats.gumbel_r`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.gumbel_r import *  # noqa: F403
from ....scipy.stats.gumbel_r import __all__  # noqa: F401
