"""``autograd.extend``: ``primitive``, ``defvjp``, ``defjvp`` with autograd's signatures."""

from __future__ import annotations

import functools

from ..core.primitive import unbox_all
from ..extend import primitive

__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum", "defjvp_argnum", "def_linear",
           "notrace_primitive"]


def defvjp(prim, *vjpmakers, argnums=None):
    """autograd style: each maker is ``maker(ans, *args, **kwargs) -> (g -> contribution)``."""
    argnums = range(len(vjpmakers)) if argnums is None else argnums
    rules = [None] * (max(argnums) + 1)
    for i, maker in zip(argnums, vjpmakers):
        if maker is not None:
            rules[i] = (lambda m: lambda g, ans, *args, **kw: m(ans, *args, **kw)(g))(maker)
    prim.defvjp(*rules)


def defjvp(prim, *jvpfuns, argnums=None):
    """autograd style: each is ``jvp(g, ans, *args, **kwargs)`` with ``g`` the input tangent."""
    argnums = range(len(jvpfuns)) if argnums is None else argnums
    rules = [None] * (max(argnums) + 1)
    for i, fn in zip(argnums, jvpfuns):
        rules[i] = fn
    prim.defjvp(*rules)


def defvjp_argnum(prim, makevjp):
    """``makevjp(argnum, ans, args, kwargs) -> (g -> contribution)``."""
    prim.defvjp_argnum(lambda argnum, g, ans, *args, **kw: makevjp(argnum, ans, args, kw)(g))


def defjvp_argnum(prim, jvpmaker):
    """``jvpmaker(argnum, g, ans, args, kwargs)`` -> the output tangent from input ``argnum``'s ``g``."""
    prim.defjvp_argnum(lambda argnum, t, ans, *args, **kw: jvpmaker(argnum, t, ans, args, kw))


def def_linear(prim):
    """``prim`` is linear in each argument: its tangent from argument ``i`` is ``prim`` applied
    with that argument replaced by its tangent (autograd defines only this forward rule)."""
    def jvp(argnum, t, ans, *args, **kw):
        return prim(*[t if i == argnum else a for i, a in enumerate(args)], **kw)
    prim.defjvp_argnum(jvp)


def notrace_primitive(f_raw):
    """``f_raw`` called on the plain values of its arguments: its result carries no
    derivative (autograd's ``notrace_primitive``, for functions such as ``np.shape``)."""
    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        return f_raw(*[unbox_all(a) for a in args], **kwargs)
    return f_wrapped
