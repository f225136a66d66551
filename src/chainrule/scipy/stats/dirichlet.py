"""``chainrule.scipy.stats.dirichlet``: the Dirichlet distribution, as ``scipy.stats.dirichlet``'s
methods (arguments ``x, alpha``; ``x`` has the categories on its FIRST axis, as SciPy's),
differentiable in ``x`` and ``alpha``."""

from ...rules.distributions import dirichlet as _dist

pdf = _dist.pdf
logpdf = _dist.logpdf
entropy = _dist.entropy

__all__ = ["pdf", "logpdf", "entropy"]
