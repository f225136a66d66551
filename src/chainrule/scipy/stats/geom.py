"""``chainrule.scipy.stats.geom``: the geometric distribution on 1, 2, ..., as ``scipy.stats.geom``'s
methods (arguments ``k, p, loc=0``), differentiable in every continuous argument."""

from ...rules.distributions import geom as _dist

pmf = _dist.pmf
logpmf = _dist.logpmf
cdf = _dist.cdf
logcdf = _dist.logcdf
sf = _dist.sf
logsf = _dist.logsf
entropy = _dist.entropy

__all__ = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf", "entropy"]
