"""``autograd.scipy.stats.uniform`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.uniform import *  # noqa: F403
from ....scipy.stats.uniform import __all__  # noqa: F401
