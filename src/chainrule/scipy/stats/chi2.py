"""``chainrule.scipy.stats.chi2``: the chi-squared distribution, as ``scipy.stats.chi2``'s methods
(arguments ``x, df, loc=0, scale=1``), differentiable in every continuous argument."""

from ...rules.distributions import chi2 as _dist

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
