"""``chainrule.scipy.stats.vonmises``: the von Mises distribution, as ``scipy.stats.vonmises``'s
methods (arguments ``x, kappa, loc=0, scale=1``; SciPy's density, on the whole line and 2 pi
periodic), differentiable in every continuous argument. Its CDF has no closed form (SciPy's is a
series and a normal approximation) and is not provided."""

from ...rules.distributions import vonmises as _dist

pdf = _dist.pdf
logpdf = _dist.logpdf
entropy = _dist.entropy

__all__ = ["pdf", "logpdf", "entropy"]
