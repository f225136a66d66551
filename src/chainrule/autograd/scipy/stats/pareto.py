"""``autograd.scipy.stats.pareto`` (not in autograd itself: chainrule's, at autograd's paths)."""

from ....scipy.stats.pareto import *  # noqa: F403
from ....scipy.stats.pareto import __all__  # noqa: F401
