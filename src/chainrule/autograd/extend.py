"""``autograd.extend``: ``primitive``, ``defvjp``, ``defjvp`` with autograd's signatures."""

from __future__ import annotations

from ..extend import primitive

__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum"]


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
