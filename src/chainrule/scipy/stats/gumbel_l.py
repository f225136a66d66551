"""``chainrule.scipy.stats.gumbel_l``: the left-skewed Gumbel distribution, as
``scipy.stats.gumbel_l``'s methods (arguments ``x, loc=0, scale=1``), differentiable in every
continuous argument."""

from ...rules.distributions import gumbel_l as _dist

pdf = _dist.pdf
logpdf = _dist.logpdf
cdf = _dist.cdf
logcdf = _dist.logcdf
sf = _dist.sf
logsf = _dist.logsf
entropy = _dist.entropy
ppf = _dist.ppf
isf = _dist.isf

__all__ = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "entropy", "ppf", "isf"]
