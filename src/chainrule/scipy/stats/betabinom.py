"""``chainrule.scipy.stats.betabinom``: the beta-binomial distribution, as ``scipy.stats.betabinom``'s
methods (arguments ``k, n, a, b, loc=0``), differentiable in every continuous argument."""

from ...rules.distributions import betabinom as _dist

pmf = _dist.pmf
logpmf = _dist.logpmf
cdf = _dist.cdf
logcdf = _dist.logcdf
sf = _dist.sf
logsf = _dist.logsf
entropy = _dist.entropy

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "entropy"]
