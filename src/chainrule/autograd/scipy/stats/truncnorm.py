"""``autograd.scipy.stats.truncnorm`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.truncnorm import *  # noqa: F403
from ....scipy.stats.truncnorm import __all__  # noqa: F401
