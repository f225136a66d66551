"""Truncated Taylor polynomials in one or two perturbations, for derivatives of special functions
in their shape parameters (``gammainc``'s ``a``; ``betainc``'s ``a`` and ``b``; ``stdtr``'s ``df``).

A :class:`Taylor` holds the coefficients ``c[p, q]`` of ``e1^p e2^q`` for ``p <= P``, ``q <= Q``:
the value of a function at ``(a + e1, b + e2)`` to that order, so that
``d^(p+q) f / da^p db^q = p! q! c[p, q]``. Pushing such polynomials through a series or a continued
fraction gives every derivative of its limit in one pass (the sum or fraction converges uniformly
in a neighbourhood of the parameters, so the coefficients converge to the derivatives'), which is
how :mod:`.gammabeta` evaluates the incomplete gamma and beta functions' parameter derivatives.

Coefficients are NumPy arrays or traced values alike: the arithmetic is ``+``, ``-``, ``*``, ``/``,
and :func:`compose` takes the derivatives of the outer function from the caller, so a rule that
builds a Taylor polynomial from chainrule's own ops (``digamma``, ``polygamma``) stays
differentiable to any order. Missing coefficients are zero and are never materialised.
"""

from __future__ import annotations

import math

import numpy as np

from .elementwise import exp, log
from .special import digamma, gammaln, polygamma


class Taylor:
    """``sum_{p <= P, q <= Q} c[p, q] e1^p e2^q``, truncated (a missing ``c[p, q]`` is zero)."""

    __slots__ = ("c", "order")
    __array_ufunc__ = None  # ``ndarray * Taylor`` defers to Taylor's reflected operators

    def __init__(self, c: dict, order: tuple[int, int]):
        self.c, self.order = c, order

    @classmethod
    def terms(cls, c: dict, order: tuple[int, int]) -> Taylor:
        """The polynomial with coefficients ``c``, dropping those beyond ``order``."""
        return cls({k: v for k, v in c.items() if k[0] <= order[0] and k[1] <= order[1]}, order)

    @classmethod
    def variable(cls, value, order: tuple[int, int], axis: int = 0) -> Taylor:
        """``value + e1`` (``axis`` 0) or ``value + e2`` (``axis`` 1)."""
        return cls.terms({(0, 0): value, (1, 0) if axis == 0 else (0, 1): 1.0}, order)

    def __getitem__(self, pq):
        return self.c.get(pq, 0.0)

    def derivative(self, p: int, q: int = 0):
        """``d^(p+q) / da^p db^q`` of the function: ``p! q! c[p, q]``."""
        return self[p, q] * float(math.factorial(p) * math.factorial(q))

    def _lift(self, other) -> Taylor:
        return other if isinstance(other, Taylor) else Taylor({(0, 0): other}, self.order)

    def __add__(self, other):
        other = self._lift(other)
        c = dict(self.c)
        for k, v in other.c.items():
            c[k] = c[k] + v if k in c else v
        return Taylor(c, self.order)

    __radd__ = __add__

    def __neg__(self):
        return Taylor({k: -v for k, v in self.c.items()}, self.order)

    def __sub__(self, other):
        return self + (-self._lift(other))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        if not isinstance(other, Taylor):
            return Taylor({k: v * other for k, v in self.c.items()}, self.order)
        P, Q = self.order
        c: dict = {}
        for (i, j), u in self.c.items():
            for (k, m), v in other.c.items():
                if i + k <= P and j + m <= Q:
                    key = (i + k, j + m)
                    c[key] = c[key] + u * v if key in c else u * v
        return Taylor(c, self.order)

    __rmul__ = __mul__

    def reciprocal(self) -> Taylor:
        """``1 / self``: ``r00 = 1 / c00`` and ``sum_{i<=p, j<=q} c[i, j] r[p-i, q-j] = 0``."""
        P, Q = self.order
        r0 = 1.0 / self.c[0, 0]
        r = {(0, 0): r0}
        for p, q in _keys(P, Q)[1:]:
            acc = None
            for (i, j), u in self.c.items():
                if (i or j) and i <= p and j <= q and (p - i, q - j) in r:
                    term = u * r[p - i, q - j]
                    acc = term if acc is None else acc + term
            if acc is not None:
                r[p, q] = -(acc * r0)
        return Taylor(r, self.order)

    def __truediv__(self, other):
        return self * (other.reciprocal() if isinstance(other, Taylor) else 1.0 / other)

    def __rtruediv__(self, other):
        return self.reciprocal() * other

    def map(self, fn) -> Taylor:
        """Every coefficient through ``fn`` (a subset of elements, a clamp of the constant term)."""
        return Taylor({k: fn(v) for k, v in self.c.items()}, self.order)

    def max_abs(self, skip_constant: bool = False):
        """The largest ``|c[p, q]|`` per element, over the stored coefficients."""
        vals = [np.abs(v) for k, v in self.c.items() if k != (0, 0) or not skip_constant]
        return np.max(np.broadcast_arrays(*vals), axis=0) if vals else 0.0


def _keys(P: int, Q: int) -> list[tuple[int, int]]:
    """Every ``(p, q)``, by increasing total degree (a recurrence's order)."""
    return sorted(((p, q) for p in range(P + 1) for q in range(Q + 1)), key=sum)


def compose(derivatives, u: Taylor) -> Taylor:
    """``f(u)`` from ``derivatives(k)`` = the ``k``-th derivative of ``f`` at ``u``'s constant term:
    ``f(u) = sum_k f^(k)(u00) / k! (u - u00)^k`` (Faa di Bruno, in coefficient form)."""
    P, Q = u.order
    delta = Taylor({k: v for k, v in u.c.items() if k != (0, 0)}, u.order)
    out = Taylor({(0, 0): derivatives(0)}, u.order)
    if not delta.c:
        return out
    power = delta
    for k in range(1, P + Q + 1):
        out = out + power * (derivatives(k) / float(math.factorial(k)))
        if k < P + Q:
            power = power * delta
    return out


def texp(u: Taylor) -> Taylor:
    """``exp(u)``: every derivative of exp is ``exp(u00)``."""
    e = exp(u[0, 0])
    return compose(lambda k: e, u)


def tlog(u: Taylor) -> Taylor:
    """``log(u)``: ``d^k log / du^k = (-1)^(k-1) (k-1)! / u^k``."""
    u0 = u[0, 0]
    inv = 1.0 / u0
    return compose(lambda k: log(u0) if k == 0 else (-1.0) ** (k - 1) * math.factorial(k - 1) * inv ** k, u)


def tgammaln(u: Taylor) -> Taylor:
    """``log Gamma(u)``: the derivatives are digamma and the polygammas."""
    u0 = u[0, 0]
    return compose(lambda k: gammaln(u0) if k == 0 else digamma(u0) if k == 1 else polygamma(k - 1, u0), u)


__all__: list[str] = []
