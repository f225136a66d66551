"""Exponential, sine/cosine and Fresnel integrals, Dawson's integral, Spence's function and
Owen's T (``scipy.special``): elementwise primitives differentiable in every real argument.

Derivatives (DLMF 6.2.1, 6.2.5, 8.19.13, 6.2.9-10, 6.2.15-16, 7.2.7-8, 7.5.1, 25.12.1; Owen's
T by differentiating its integral), written with chainrule's own ops, so each differentiates
again to any order:

    exp1'(x)  = -e^-x / x                    expi'(x) = e^x / x
    d/dx expn(n, x) = -expn(n - 1, x)        (n >= 1;  E_0(x) = e^-x / x, E_0' = -(1 + x) e^-x / x^2)
    Si'(x)  = sin(x) / x     Ci'(x)  = cos(x) / x          (sici)
    Shi'(x) = sinh(x) / x    Chi'(x) = cosh(x) / x         (shichi)
    S'(x) = sin(pi x^2 / 2)  C'(x) = cos(pi x^2 / 2)       (fresnel)
    dawsn'(x) = 1 - 2 x dawsn(x)
    spence'(z) = log(z) / (1 - z)            (SciPy's spence(z) = int_1^z log t / (1 - t) dt)
    d/dh owens_t(h, a) = -phi(h) erf(a h / sqrt 2) / 2     (phi the standard normal density)
    d/da owens_t(h, a) = e^(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2))

``sin(x)/x``, ``sinh(x)/x`` and ``log(z)/(1 - z)`` have removable singularities; near them
(|x| < 1/2, |z - 1| < 1/10) they are evaluated as their Taylor polynomials, so the value and
the derivatives of every order are right there (``Si''(0) = 0``, ``Shi'''(0) = -1/3``... ), not
0/0. For negative ``x`` SciPy's ``Ci`` and ``Chi`` are the real parts (of ``log x``), whose
derivative is still ``cos(x)/x``, ``cosh(x)/x``.

``sici``, ``shichi`` and ``fresnel`` return two arrays: each is one primitive with
``multiple_results`` (one SciPy call), whose rules take the pair of cotangents (either may be
absent) and give the pair of tangents. ``expn``'s order ``n`` is an integer: differentiating
with respect to it raises ``NoRuleError`` naming it.
"""

from __future__ import annotations

import math

import scipy.special as _sc

from ..core.primitive import Primitive
from ._util import _PY_SCALARS, _cast, no_derivative
from .dispatch import implements
from .elementwise import absolute, cos, cosh, elementwise, exp, log1p, sin, sinh, where
from .special import erf

_INV_2PI = 1.0 / (2.0 * math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_HALF_PI = 0.5 * math.pi

# Taylor coefficients: sin(x)/x = sum (-1)^k x^(2k) / (2k+1)!, sinh(x)/x without the signs
# (|x| < 1/2: the k = 9 term is below 1e-24); log1p(u)/u = sum (-u)^k / (k + 1) (|u| < 1/10).
_SINHC = [1.0 / math.factorial(2 * k + 1) for k in range(10)]
_SINC = [(-1) ** k * c for k, c in enumerate(_SINHC)]
_LOG1P_OVER = [(-1) ** k / (k + 1) for k in range(18)]


def _horner(coefs, u):
    """``sum_k coefs[k] u^k``."""
    s = coefs[-1]
    for c in reversed(coefs[:-1]):
        s = s * u + c
    return s


def _removable(closed, coefs, x, radius, square):
    """``closed(x)``, a function with a removable singularity at 0, as its Taylor polynomial
    ``coefs`` (in ``x^2`` when ``square``) where ``|x| < radius``: exact at 0 in every
    derivative, and no cancellation near it. The double ``where`` keeps each branch finite
    where it is not taken (a nan there would reach the derivative as 0 * nan)."""
    near = absolute(x) < radius
    far = where(near, radius, x)
    xn = where(near, x, 0.0)
    return where(near, _horner(coefs, xn * xn if square else xn), closed(far))


def _sin_over_x(x):
    return _removable(lambda x: sin(x) / x, _SINC, x, 0.5, True)


def _sinh_over_x(x):
    return _removable(lambda x: sinh(x) / x, _SINHC, x, 0.5, True)


# --------------------------------------------------------------- one argument
exp1 = elementwise("exp1", _sc.exp1, lambda a, x: -exp(-x) / x, saves=(0,),
                   doc="E_1(x) = int_x^inf e^-t / t dt")
expi = elementwise("expi", _sc.expi, lambda a, x: exp(x) / x, saves=(0,),
                   doc="Ei(x) = -PV int_-x^inf e^-t / t dt")
dawsn = elementwise("dawsn", _sc.dawsn, lambda a, x: 1.0 - 2.0 * x * a, saves=("ans", 0),
                    doc="Dawson's integral F(x) = e^(-x^2) int_0^x e^(t^2) dt")
spence = elementwise("spence", _sc.spence,
                     lambda a, z: -_removable(lambda u: log1p(u) / u, _LOG1P_OVER, z - 1.0, 0.1, False),
                     saves=(0,), doc="int_1^z log t / (1 - t) dt (the dilogarithm Li_2(1 - z))")


def _expn_dx(a, n, x):
    # SciPy truncates n to an integer: E_0 for |n| < 1. The branch not taken is given harmless
    # arguments (n = 1, x = 1), so that neither is evaluated at a pole.
    zero = absolute(n) < 1
    xz = where(zero, x, 1.0)
    return where(zero, -(1.0 + xz) * exp(-xz) / (xz * xz), -expn(where(zero, 1, n) - 1, x))


expn = elementwise("expn", _sc.expn, no_derivative("expn", "the order n (argument 0)"), _expn_dx,
                   saves=(0, 1), doc="E_n(x) = int_1^inf e^(-x t) / t^n dt, n a constant integer")


def _owens_t_dh(a, h, s):
    return -0.5 * _INV_SQRT_2PI * exp(-0.5 * h * h) * erf(_INV_SQRT2 * s * h)


def _owens_t_da(a, h, s):
    q = 1.0 + s * s
    return _INV_2PI * exp(-0.5 * h * h * q) / q


owens_t = elementwise("owens_t", _sc.owens_t, _owens_t_dh, _owens_t_da, saves=(0, 1),
                      doc="Owen's T(h, a) = 1/(2 pi) int_0^a e^(-h^2 (1 + x^2) / 2) / (1 + x^2) dx")


# --------------------------------------------------------------- two results
def _pair(name: str, ufunc, d_first, d_second, doc: str) -> Primitive:
    """A primitive for a ufunc of one argument with two results, from their derivatives
    ``d(x)``: VJP ``g1 d_first + g2 d_second`` (over the cotangents present), JVP
    ``(t d_first, t d_second)``. Leading batch axes of ``g``/``t`` broadcast against ``x``."""
    prim = Primitive(name, ufunc, multiple_results=True, saves=(0,), doc=doc)

    def vjp(g, ans, x):
        if type(x) in _PY_SCALARS:  # NumPy's arithmetic on it, in the result's dtype
            x = _cast(ans[0], x)
        g1, g2 = g
        out = None if g1 is None else g1 * d_first(x)
        if g2 is not None:
            c = g2 * d_second(x)
            out = c if out is None else out + c
        return out

    def jvp(t, ans, x):
        if type(x) in _PY_SCALARS:
            x = _cast(ans[0], x)
        return t * d_first(x), t * d_second(x)

    prim.defvjp(vjp)
    prim.defjvp(jvp)
    implements(ufunc)(prim)
    return prim


sici = _pair("sici", _sc.sici, _sin_over_x, lambda x: cos(x) / x,
             doc="(Si(x), Ci(x)): the sine and cosine integrals")
shichi = _pair("shichi", _sc.shichi, _sinh_over_x, lambda x: cosh(x) / x,
               doc="(Shi(x), Chi(x)): the hyperbolic sine and cosine integrals")
fresnel = _pair("fresnel", _sc.fresnel, lambda x: sin(_HALF_PI * x * x), lambda x: cos(_HALF_PI * x * x),
                doc="(S(x), C(x)) = int_0^x (sin, cos)(pi t^2 / 2) dt")

EXPINT = ["exp1", "expi", "expn", "sici", "shichi", "fresnel", "dawsn", "spence", "owens_t"]
__all__: list[str] = []
