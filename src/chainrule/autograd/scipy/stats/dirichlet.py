"""``autograd.scipy.stats.dirichlet``; ``rvs`` is SciPy's sampler, as in autograd (a sample
has no derivative in ``alpha``)."""

from scipy.stats import dirichlet as _scipy_dirichlet

from ....scipy.stats.dirichlet import *  # noqa: F403
from ....scipy.stats.dirichlet import __all__ as _all

rvs = _scipy_dirichlet.rvs
__all__ = [*_all, "rvs"]
