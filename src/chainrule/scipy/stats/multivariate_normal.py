"""``chainrule.scipy.stats.multivariate_normal``: the multivariate normal distribution, as
``scipy.stats.multivariate_normal``'s methods (arguments ``x, mean=None, cov=1``),
differentiable in ``x``, ``mean`` and ``cov``."""

from ...rules.distributions import multivariate_normal as _dist

pdf = _dist.pdf
logpdf = _dist.logpdf
entropy = _dist.entropy

__all__ = ["pdf", "logpdf", "entropy"]
