"""``chainrule.scipy.stats.nbinom``: the negative binomial distribution, as ``scipy.stats.nbinom``'s
methods (arguments ``k, n, p, loc=0``), differentiable in every continuous argument."""

from ...rules.distributions import nbinom as _dist

pmf = _dist.pmf
logpmf = _dist.logpmf
cdf = _dist.cdf
logcdf = _dist.logcdf
sf = _dist.sf
logsf = _dist.logsf
entropy = _dist.entropy

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "entropy"]
