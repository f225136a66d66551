"""``autograd.scipy.stats``: a module per distribution, as autograd has."""

from . import (  # noqa: F401
    bernoulli,
    beta,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    laplace,
    logistic,
    multivariate_normal,
    norm,
    poisson,
    t,
)
