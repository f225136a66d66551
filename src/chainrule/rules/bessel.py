"""Bessel functions (``scipy.special``): elementwise primitives differentiable in the argument.

Every derivative is a recurrence of the same family (DLMF 10.6.1, 10.29.1), written with the
primitives of this module, so each differentiates again to any order:

    J_v'(x) = (J_{v-1}(x) - J_{v+1}(x)) / 2        Y_n'(x) = (Y_{n-1}(x) - Y_{n+1}(x)) / 2
    I_v'(x) = (I_{v-1}(x) + I_{v+1}(x)) / 2        K_v'(x) = -(K_{v-1}(x) + K_{v+1}(x)) / 2
    J_0' = -J_1, Y_0' = -Y_1, I_0' = I_1

The first-order forms ``(J_{v-1} - J_{v+1}) / 2`` are used for ``j1``, ``y1``, ``i1`` rather than
``J_0 - J_1/x``: they are finite at ``x = 0`` (``j1'(0) = 1/2``). The exponentially scaled
``ive(v, x) = iv(v, x) exp(-|x|)`` has ``ive' = (ive_{v-1} + ive_{v+1}) / 2 - sign(x) ive``.

The order (``v``, ``n``) is a constant: SciPy has no derivative of a Bessel function with respect
to its order, and differentiating with respect to it raises ``NoRuleError`` naming it.
"""

from __future__ import annotations

import scipy.special as _sc

from ._util import no_derivative
from .elementwise import absolute, elementwise, sign, where

_X, _VX = (0,), (0, 1)


def _flush_subnormal(x):
    """``x`` with |x| < 1e-300 made 0. SciPy's ``iv(v, x)`` is nan for a subnormal x (and 2e-308),
    for every order, where ``i1(x)`` is fine: i1'(5e-324) came out nan, not 1/2. I_2(x) ~ x^2/8
    is 0 there in any float, so reading it at 0 changes nothing else."""
    return where(absolute(x) < 1e-300, 0.0, x)


def _order(name: str, order: str):
    return no_derivative(name, f"the order {order} (argument 0)")


# unary, order fixed
j0 = elementwise("j0", _sc.j0, lambda a, x: -j1(x), saves=_X, doc="Bessel J_0(x)")
j1 = elementwise("j1", _sc.j1, lambda a, x: 0.5 * (j0(x) - jv(2, x)), saves=_X, doc="Bessel J_1(x)")
y0 = elementwise("y0", _sc.y0, lambda a, x: -y1(x), saves=_X, doc="Bessel Y_0(x)")
y1 = elementwise("y1", _sc.y1, lambda a, x: 0.5 * (y0(x) - yn(2, x)), saves=_X, doc="Bessel Y_1(x)")
i0 = elementwise("i0", _sc.i0, lambda a, x: i1(x), saves=_X, doc="modified Bessel I_0(x)")
i1 = elementwise("i1", _sc.i1, lambda a, x: 0.5 * (i0(x) + iv(2, _flush_subnormal(x))), saves=_X,
                 doc="modified Bessel I_1(x)")
i0e = elementwise("i0e", _sc.i0e, lambda a, x: i1e(x) - sign(x) * a, saves=("ans", 0),
                  doc="I_0(x) exp(-|x|)")
i1e = elementwise("i1e", _sc.i1e, lambda a, x: _i1e_d(a, x), saves=("ans", 0), doc="I_1(x) exp(-|x|)")


def _i1e_d(a, x):
    """i1e'(x) = (i0e(x) + ive(2, x)) / 2 - sign(x) i1e(x), with ive(2, x) = i0e(x) - 2 i1e(x) / x for
    |x| > 2 (I_2 = I_0 - (2/x) I_1, DLMF 10.29.1): SciPy's ive(2, x) is nan from about x = 1e10
    on, where i1e is finite (i1e'(1e10) was nan). Each branch reads x clamped to its side (the
    branch not taken is finite and adds an exact 0 to higher derivatives)."""
    big = absolute(x) > 2.0
    xl = where(big, x, 2.0)
    ive2 = where(big, i0e(xl) - 2.0 * i1e(xl) / xl, ive(2, where(big, 0.0, x)))
    return 0.5 * (i0e(x) + ive2) - sign(x) * a


# binary: (order, x); the order is a constant
jv = elementwise("jv", _sc.jv, _order("jv", "v"), lambda a, v, x: 0.5 * (jv(v - 1, x) - jv(v + 1, x)),
                 saves=_VX, doc="Bessel J_v(x) of real order v")
yn = elementwise("yn", _sc.yn, _order("yn", "n"), lambda a, n, x: 0.5 * (yn(n - 1, x) - yn(n + 1, x)),
                 saves=_VX, doc="Bessel Y_n(x) of integer order n")
iv = elementwise("iv", _sc.iv, _order("iv", "v"), lambda a, v, x: 0.5 * (iv(v - 1, x) + iv(v + 1, x)),
                 saves=_VX, doc="modified Bessel I_v(x) of real order v")
ive = elementwise("ive", _sc.ive, _order("ive", "v"),
                  lambda a, v, x: 0.5 * (ive(v - 1, x) + ive(v + 1, x)) - sign(x) * a,
                  saves=("ans", 0, 1), doc="I_v(x) exp(-|x|)")
kv = elementwise("kv", _sc.kv, _order("kv", "v"), lambda a, v, x: -0.5 * (kv(v - 1, x) + kv(v + 1, x)),
                 saves=_VX, doc="modified Bessel K_v(x) of real order v (second kind)")

BESSEL = ["j0", "j1", "y0", "y1", "i0", "i1", "i0e", "i1e", "iv", "ive", "jv", "yn", "kv"]
__all__: list[str] = []
