"""``autograd.scipy.stats.gumbel_l`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.gumbel_l import *  # noqa: F403
from ....scipy.stats.gumbel_l import __all__  # noqa: F401
