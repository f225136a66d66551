"""``chainrule.scipy.stats``: SciPy's distributions, differentiable.

One module per distribution, as JAX and autograd lay it out (``stats.norm.logpdf(x, loc, scale)``),
with SciPy's calling convention: shape parameters, then ``loc`` and ``scale``, by position or by
name. ``x``, ``loc``, ``scale`` and the continuous shape parameters are differentiable; see
``chainrule.rules.distributions`` for the conventions (support, invalid parameters, dtypes).
"""

from . import (  # noqa: F401
    bernoulli,
    beta,
    betabinom,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    gennorm,
    geom,
    gumbel_l,
    gumbel_r,
    laplace,
    logistic,
    multivariate_normal,
    nbinom,
    norm,
    pareto,
    poisson,
    t,
    truncnorm,
    uniform,
    vonmises,
)

__all__ = ["bernoulli", "beta", "betabinom", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma",
           "gennorm", "geom", "gumbel_l", "gumbel_r", "laplace", "logistic", "multivariate_normal", "nbinom",
           "norm", "pareto", "poisson", "t", "truncnorm", "uniform", "vonmises"]
