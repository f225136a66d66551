"""``chainrule.scipy.stats.truncnorm``: the normal distribution truncated to ``[a, b]``, as
``scipy.stats.truncnorm``'s methods (arguments ``x, a, b, loc=0, scale=1``; ``a``, ``b`` in
standard units: the support is ``[loc + a scale, loc + b scale]``), differentiable in every
continuous argument."""

from ...rules.distributions import truncnorm as _dist

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
