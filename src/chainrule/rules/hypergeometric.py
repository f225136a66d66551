"""Hypergeometric functions, the Hurwitz zeta, Pochhammer's symbol, ``loggamma``, the Box-Cox
transforms, ``binom`` (``scipy.special``'s ufuncs), and ``comb``, ``factorial`` and ``zeta``
(Python functions in SciPy, mirrored here over those primitives).

Derivatives (DLMF 13.3.15, 15.5.1, 25.11.17, 5.2.2, 5.15.1), written with chainrule's own ops
so each differentiates again to any order:

    d/dx hyp1f1(a, b, x)    = a/b hyp1f1(a + 1, b + 1, x)
    d/dx hyp2f1(a, b, c, x) = ab/c hyp2f1(a + 1, b + 1, c + 1, x)
    d/dq zeta(x, q)         = -x zeta(x + 1, q)          (Hurwitz: sum_k (k + q)^-x)
    poch(z, m) = Gamma(z + m) / Gamma(z):  d/dz = poch (psi(z + m) - psi(z)),  d/dm = poch psi(z + m)
    binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)):
        d/dn = binom (psi(n + 1) - psi(n - k + 1)),  d/dk = binom (psi(n - k + 1) - psi(k + 1))
    loggamma'(x) = psi(x)                                (real x)

Box-Cox, ``boxcox(x, l) = (x^l - 1)/l = expm1(l L)/l`` with ``L = log x`` (``log1p x`` for
``boxcox1p``), and ``u = l L``:

    d/dx = x^(l - 1)     d/dl = L^2 phi(u),  phi(u) = (u e^u - expm1 u) / u^2 = d/du (expm1(u)/u)

``phi`` is entire (``phi(0) = 1/2``: ``d/dl boxcox(x, 0) = log(x)^2 / 2``); for ``|u| < 1/2`` it
is its Taylor series ``sum_k (k + 1) u^k / (k + 2)!``, so there is no cancellation near ``l = 0``
and every derivative is right at ``l = 0``. The inverses (``y = boxcox(x, l)`` solved for
``x``) follow by the implicit function theorem: ``dx/dy = x^(1 - l)``, ``dx/dl = -x^(1 - l) L^2
phi(l L)``, with ``L = log1p(inv_boxcox1p(y, l))`` (accurate also where ``x`` is near 1).
At the end of the domain, ``x = 0`` (``L = -inf``), the ``l``-derivative is NaN (its limit
``1/l^2`` is not taken there).

The parameters of ``hyp1f1``/``hyp2f1`` and the exponent ``x`` of ``zeta`` have no derivative in
SciPy: differentiating with respect to them raises ``NoRuleError`` naming them. ``poch`` and
``binom`` at the poles of the gamma functions in their formulas (``z`` a non-positive integer;
``binom`` where ``n`` or ``n - k`` is a negative integer, where for an integer ``k`` it is a
polynomial in ``n``) have a NaN derivative, never a wrong number.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sc
from scipy.special import _ufuncs as _scu

from ..core.aval import dtype_of
from ..core.primitive import Box
from ._util import no_derivative
from .elementwise import absolute, elementwise, exp, expm1, isnan, log, log1p, power, where
from .linear import astype
from .shape import asarray
from .special import digamma, gamma


def _real_params(ans, *params):
    """Python-scalar parameters as NumPy scalars of the real dtype of ``ans`` (weak typing, as
    NumPy's): SciPy's 1F1/2F1 take real parameters also for a complex ``x``."""
    dt = dtype_of(ans)
    dt = np.dtype(dt.char.lower()) if dt.kind == "c" else dt if dt.kind == "f" else np.dtype(np.float64)
    return [dt.type(p) if type(p) in (float, int, bool) else p for p in params]


def _hyp1f1_dx(ans, a, b, x):
    a, b = _real_params(ans, a, b)
    return a / b * hyp1f1(a + 1.0, b + 1.0, x)


def _hyp2f1_dx(ans, a, b, c, x):
    a, b, c = _real_params(ans, a, b, c)
    return a * b / c * hyp2f1(a + 1.0, b + 1.0, c + 1.0, x)


hyp1f1 = elementwise(
    "hyp1f1", _sc.hyp1f1, no_derivative("hyp1f1", "the parameter a (argument 0)"),
    no_derivative("hyp1f1", "the parameter b (argument 1)"), _hyp1f1_dx, saves=(0, 1, 2),
    scalars=False, doc="Kummer's confluent hypergeometric function 1F1(a; b; x)")
hyp2f1 = elementwise(
    "hyp2f1", _sc.hyp2f1, no_derivative("hyp2f1", "the parameter a (argument 0)"),
    no_derivative("hyp2f1", "the parameter b (argument 1)"),
    no_derivative("hyp2f1", "the parameter c (argument 2)"), _hyp2f1_dx, saves=(0, 1, 2, 3),
    scalars=False, doc="Gauss's hypergeometric function 2F1(a, b; c; x)")

# SciPy's zeta(x, q=None) is a Python function over these two ufuncs
_hurwitz = elementwise("zeta", _scu._zeta, no_derivative("zeta", "the exponent x (argument 0)"),
                       lambda ans, x, q: -x * _hurwitz(x + 1.0, q), saves=(0, 1),
                       doc="Hurwitz zeta(x, q) = sum_k (k + q)^-x")
_riemann = elementwise("riemann_zeta", _scu._riemann_zeta,
                       no_derivative("zeta", "the exponent x (argument 0)"), saves=(),
                       doc="Riemann zeta(x)")


def zeta(x, q=None):
    """SciPy's ``zeta``: Hurwitz's ``sum_k (k + q)^-x`` (Riemann's when ``q`` is None),
    differentiable in ``q`` (``d/dq = -x zeta(x + 1, q)``); not in ``x`` (``NoRuleError``)."""
    return _riemann(x) if q is None else _hurwitz(x, q)


def _loggamma_dx(ans, x):
    if dtype_of(x).kind == "c":  # SciPy's complex branch: psi's derivative is real-only in SciPy
        raise NotImplementedError("loggamma: complex input is not supported by chainrule (real x only)")
    return where(x < 0, np.nan, digamma(x))  # SciPy's real loggamma is nan below 0: so is its slope


loggamma = elementwise("loggamma", _sc.loggamma, _loggamma_dx, saves=(0,),
                       doc="log Gamma(x) (real x > 0; nan for x < 0, as SciPy's)")
poch = elementwise("poch", _sc.poch, lambda ans, z, m: ans * (digamma(z + m) - digamma(z)),
                   lambda ans, z, m: ans * digamma(z + m), saves=("ans", 0, 1),
                   doc="Pochhammer's (z)_m = Gamma(z + m) / Gamma(z)")
binom = elementwise("binom", _sc.binom,
                    lambda ans, n, k: ans * (digamma(n + 1.0) - digamma(n - k + 1.0)),
                    lambda ans, n, k: ans * (digamma(n - k + 1.0) - digamma(k + 1.0)),
                    saves=("ans", 0, 1),
                    doc="binomial coefficient Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1))")


# --------------------------------------------------------------- Box-Cox
# phi(u) = sum_k (k + 1) u^k / (k + 2)! for |u| < 1/2 (the k = 16 term is below 1e-19)
_PHI = [(k + 1) / math.factorial(k + 2) for k in range(17)]


def _phi(u):
    """``(u e^u - expm1 u) / u^2``; its series near 0 (no 0/0, no cancellation). The double
    ``where`` gives each branch a harmless argument where it is not taken."""
    near = absolute(u) < 0.5
    far = where(near, 1.0, u)
    un = where(near, u, 0.0)
    s = _PHI[-1]
    for c in reversed(_PHI[:-1]):
        s = s * un + c
    return where(near, s, (far * exp(far) - expm1(far)) / (far * far))


def _d_lmbda(lmbda, L):
    """``d/dl expm1(l L) / l`` at fixed ``L``."""
    return L * L * _phi(lmbda * L)


boxcox = elementwise("boxcox", _sc.boxcox, lambda ans, x, lm: power(x, lm - 1.0),
                     lambda ans, x, lm: _d_lmbda(lm, log(x)), saves=(0, 1),
                     doc="(x^l - 1) / l, log x at l = 0")
boxcox1p = elementwise("boxcox1p", _sc.boxcox1p, lambda ans, x, lm: power(1.0 + x, lm - 1.0),
                       lambda ans, x, lm: _d_lmbda(lm, log1p(x)), saves=(0, 1),
                       doc="((1 + x)^l - 1) / l, log1p x at l = 0")


def _inv_dy(L, lm):
    return exp((1.0 - lm) * L)  # x^(1 - l)


inv_boxcox = elementwise(
    "inv_boxcox", _sc.inv_boxcox, lambda ans, y, lm: _inv_dy(log1p(inv_boxcox1p(y, lm)), lm),
    lambda ans, y, lm: _inv_dl(log1p(inv_boxcox1p(y, lm)), lm), saves=(0, 1),
    doc="x with boxcox(x, l) = y: (1 + l y)^(1/l), e^y at l = 0")
inv_boxcox1p = elementwise(
    "inv_boxcox1p", _sc.inv_boxcox1p, lambda ans, y, lm: _inv_dy(log1p(ans), lm),
    lambda ans, y, lm: _inv_dl(log1p(ans), lm), saves=("ans", 1),
    doc="x with boxcox1p(x, l) = y: (1 + l y)^(1/l) - 1, expm1(y) at l = 0")


def _inv_dl(L, lm):
    return -_inv_dy(L, lm) * _d_lmbda(lm, L)


# --------------------------------------------------------------- Python functions of SciPy
def _traced(*xs) -> bool:
    return any(isinstance(x, Box) for x in xs)


def comb(N, k, *, exact=False, repetition=False):
    """SciPy's ``comb(N, k)`` (``exact=False``): ``binom(N, k)`` where ``0 <= k <= N``, else 0
    (with ``repetition``: ``binom(N + k - 1, k)``, 1 where ``k = 0 <= N``). Differentiable in
    ``N`` and ``k`` inside that region, as ``binom``; 0 outside it, where SciPy's is the
    constant 0. ``exact=True`` gives integers, which have no derivative."""
    if not _traced(N, k):
        return _sc.comb(N, k, exact=exact, repetition=repetition)
    if exact:
        raise TypeError("comb: exact=True computes integers, which have no derivative; "
                        "use exact=False on traced values")
    N, k = asarray(N), asarray(k)
    if repetition:
        one = (k == 0) & (N >= 0)
        return where(one, 1.0, binom(where(one, 1.0, N + k - 1.0), k))  # binom(1, 0) where not taken
    inside = (k <= N) & (N >= 0) & (k >= 0)
    # outside, binom is given (1, 0): its derivative there is never 0 * nan
    return where(inside, binom(where(inside, N, 1.0), where(inside, k, 0.0)), 0.0)


def factorial(n, exact=False, extend="zero"):
    """SciPy's ``factorial(n)`` (``exact=False``): ``Gamma(n + 1)`` for ``n >= 0``, 0 for
    ``n < 0`` (NaN stays NaN), float64 as SciPy's; differentiable for ``n >= 0``
    (``Gamma(n + 1) psi(n + 1)``), 0 below. ``extend='complex'`` and ``exact=True`` are
    not differentiable here."""
    if not _traced(n):
        return _sc.factorial(n, exact=exact, extend=extend)
    if exact or extend != "zero":
        raise TypeError("factorial: only exact=False, extend='zero' is differentiable "
                        f"(got exact={exact!r}, extend={extend!r})")
    n = asarray(n)
    if dtype_of(n).kind not in "iuf":
        raise ValueError(f"factorial: unsupported dtype {dtype_of(n)} (integers and real floats)")
    keep = (n >= 0) | isnan(n)
    # SciPy computes Gamma(n + 1) in n's float dtype and stores it into float64 zeros
    return astype(where(keep, gamma(where(keep, n, 0.0) + 1.0), 0.0), np.float64)


HYPERGEOMETRIC = ["hyp1f1", "hyp2f1", "zeta", "poch", "loggamma", "binom", "boxcox", "boxcox1p",
                  "inv_boxcox", "inv_boxcox1p", "comb", "factorial"]
__all__: list[str] = []
