"""``chainrule.scipy.stats.multivariate_normal``: the multivariate normal distribution, as
``scipy.stats.multivariate_normal``'s methods (arguments ``x, mean=None, cov=1``),
differentiable in ``x``, ``mean`` and ``cov``; ``cdf`` and ``logcdf`` to any order too
(``chainrule.rules.mvn_cdf``: exact in one and two dimensions, quadrature in three, SciPy's
quasi-Monte Carlo with a fixed seed in more)."""

from ...rules.distributions import multivariate_normal as _dist

pdf = _dist.pdf
logpdf = _dist.logpdf
cdf = _dist.cdf
logcdf = _dist.logcdf
entropy = _dist.entropy

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "entropy"]
