"""``autograd.core``: the unary ``make_vjp(fun, x)`` and ``make_jvp(fun, x)`` (``fun`` of one
argument; :mod:`chainrule.autograd`'s versions take ``argnum``), and the rule-definition
functions of :mod:`chainrule.autograd.extend`, which ``autograd.core`` also holds. autograd's
tracer machinery (nodes, vector spaces, its rule tables) has no counterpart: chainrule records
on its own tape (see docs/autograd.md)."""

from __future__ import annotations

from .. import transforms as _t
from .extend import def_linear, defjvp, defjvp_argnum, defvjp, defvjp_argnum, primitive

__all__ = ["def_linear", "defjvp", "defjvp_argnum", "defvjp", "defvjp_argnum", "make_jvp", "make_vjp",
           "primitive"]


def make_vjp(fun, x):
    """``(vjp, ans)`` of the unary ``fun`` at ``x``: ``vjp(g) = g^T J(x)``."""
    ans, f_vjp = _t.vjp(fun, x)
    return (lambda g: f_vjp(g)[0]), ans


def make_jvp(fun, x):
    """``jvp(v) -> (ans, J(x) v)`` for the unary ``fun`` at ``x``."""
    return lambda v: _t.jvp(fun, (x,), (v,))
