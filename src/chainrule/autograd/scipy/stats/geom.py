"""``autograd.scipy.stats.geom`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.geom import *  # noqa: F403
from ....scipy.stats.geom import __all__  # noqa: F401
