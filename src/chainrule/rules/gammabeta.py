"""The gamma and beta families of ``scipy.special`` beyond ``gamma``/``gammaln``/``digamma``,
and the divergences ``kl_div``/``rel_entr``: elementwise primitives and one composite.

Derivatives (DLMF 5.12, 8.8.13, 8.17.19), written with chainrule's own ops (any order):

    d/da beta(a, b)  = beta(a, b) (psi(a) - psi(a + b))     d/da betaln = psi(a) - psi(a + b)
    d/dx betainc(a, b, x) = x^(a-1) (1 - x)^(b-1) / B(a, b)
    d/dx gammainc(a, x)   = x^(a-1) e^(-x) / Gamma(a) = -d/dx gammaincc(a, x)
    d/dx rgamma(x)        = -rgamma(x) psi(x)
    d/dt stdtr(df, t)     = the Student t density
    d/dx kl_div(x, y) = log(x / y),  d/dy = 1 - x / y          (kl_div = x log(x/y) - x + y)
    d/dx rel_entr(x, y) = log(x / y) + 1,  d/dy = -x / y       (rel_entr = x log(x/y))

The regularized incomplete functions have no closed-form derivative in their shape parameters
(``a``, ``b`` of ``betainc``; ``a`` of ``gammainc``/``gammaincc``; ``stdtr``'s ``df``):
differentiating with respect to one raises ``NoRuleError`` naming it. ``gammasgn`` is
piecewise constant (no derivative). The densities are evaluated in log space
(``xlogy``/``xlog1py``), so ``a = 1`` at ``x = 0`` gives ``0 log 0 = 0`` rather than ``nan``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sc

from ..core.aval import dtype_of
from ..core.primitive import Box, strip_derivatives
from ._util import constant_op, no_derivative
from ._util import elementwise as _elementwise
from .elementwise import elementwise, exp, log, log1p, where
from .special import digamma, gammaln, xlog1py, xlogy

_LOG_PI = math.log(math.pi)


def _as_numpy(ans, *args):
    """Python scalars as NumPy scalars of the result's float dtype (weak typing, as NumPy's
    arithmetic treats them): a float32 betainc keeps float32 derivatives."""
    dt = dtype_of(ans)
    dt = dt if dt.kind in "fc" else np.dtype(np.float64)
    return [dt.type(v) if type(v) in (float, int, bool) else v for v in args]


beta = elementwise("beta", _sc.beta, lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
                   lambda ans, a, b: ans * (digamma(b) - digamma(a + b)), saves=("ans", 0, 1),
                   doc="B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)")
betaln = elementwise("betaln", _sc.betaln, lambda ans, a, b: digamma(a) - digamma(a + b),
                     lambda ans, a, b: digamma(b) - digamma(a + b), saves=(0, 1), doc="log |B(a, b)|")


def _betainc_dx(ans, a, b, x):
    a, b, x = _as_numpy(ans, a, b, x)
    return exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))


betainc = _elementwise("betainc", _sc.betainc, no_derivative("betainc", "a (argument 0)"),
                       no_derivative("betainc", "b (argument 1)"), _betainc_dx, saves=(0, 1, 2),
                       doc="regularized incomplete beta I_x(a, b)")


def _gammainc_dx(ans, a, x):
    return exp(xlogy(a - 1.0, x) - x - gammaln(a))


gammainc = elementwise("gammainc", _sc.gammainc, no_derivative("gammainc", "a (argument 0)"),
                       _gammainc_dx, saves=(0, 1), doc="regularized lower incomplete gamma P(a, x)")
gammaincc = elementwise("gammaincc", _sc.gammaincc, no_derivative("gammaincc", "a (argument 0)"),
                        lambda ans, a, x: -_gammainc_dx(ans, a, x), saves=(0, 1),
                        doc="regularized upper incomplete gamma Q(a, x) = 1 - P(a, x)")
rgamma = elementwise("rgamma", _sc.rgamma, lambda ans, x: -ans * digamma(x), saves=("ans", 0),
                     doc="1 / Gamma(x)")


def _student_t_density(ans, df, t):
    return exp(gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * log(df * math.pi)
               - 0.5 * (df + 1.0) * log1p(t * t / df))


# The t CDF as a primitive, not as a composite of betainc: betainc's density in x = df/(df+t^2)
# is infinite at t = 0 where dx/dt is 0, and 0 * inf would make the composite's derivative nan.
stdtr = elementwise("stdtr", _sc.stdtr, no_derivative("stdtr", "the degrees of freedom df (argument 0)"),
                    _student_t_density, saves=(0, 1), doc="Student t CDF with df degrees of freedom")
gammasgn = constant_op("gammasgn", _sc.gammasgn, doc="the sign of Gamma(x)")
# kl_div(0, y) = y: d/dy = 1 there (x / y would be 0 / 0 at y = 0); the where keeps it exact.
kl_div = elementwise("kl_div", _sc.kl_div, lambda ans, x, y: log(x / y),
                     lambda ans, x, y: 1.0 - x / where(x == 0, 1.0, y), saves=(0, 1),
                     doc="x log(x / y) - x + y")
rel_entr = elementwise("rel_entr", _sc.rel_entr, lambda ans, x, y: log(x / y) + 1.0,
                       lambda ans, x, y: -x / where(x == 0, 1.0, y), saves=(0, 1),
                       doc="x log(x / y), 0 where x == 0")


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension ``d`` (SciPy's signature):

        log Gamma_d(a) = d (d - 1) / 4 log(pi) + sum_{j=0}^{d-1} gammaln(a - j / 2)

    ``d`` is a constant positive integer; as SciPy, every ``a`` must exceed ``(d - 1) / 2``.
    """
    if isinstance(d, Box) or not (np.ndim(d) == 0 and float(d) == int(d) and int(d) > 0):
        raise ValueError("multigammaln: d should be a positive integer (dimension)")
    d = int(d)
    concrete = strip_derivatives(a)
    if not isinstance(concrete, Box) and np.any(np.asarray(concrete) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a > 0.5 * (d - 1) = {0.5 * (d - 1)} not met")
    out = gammaln(a)
    for j in range(1, d):
        out = out + gammaln(a - 0.5 * j)
    # SciPy's constant is a float64 scalar, which makes a float32 result float64: so does this
    return np.float64(d * (d - 1) * 0.25 * _LOG_PI) + out


GAMMA_BETA = ["beta", "betaln", "betainc", "gammainc", "gammaincc", "rgamma", "gammasgn",
              "multigammaln", "kl_div", "rel_entr", "stdtr"]
__all__: list[str] = []
