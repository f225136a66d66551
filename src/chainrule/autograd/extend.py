"""``autograd.extend``: ``primitive``, ``defvjp``, ``defjvp`` with autograd's signatures.

chainrule pushes whole batches of cotangents (tangents) through a rule, with the batch axes
leading (``jacobian``, ``hessian``, and ``check_grads``' batched passes); autograd passes one at
a time, and its rules are written for one (``np.full(x.shape, g)``). So a rule defined here
that receives a batch (more axes than the output, or input, it belongs to) is called once per
row and the results stacked: any autograd rule works unchanged, at the price of a Python loop
over the batch. A rule written with chainrule's ``Primitive.defvjp`` has no such loop.
"""

from __future__ import annotations

import functools
import math

from .. import numpy as _cnp
from ..core.aval import shape_of
from ..core.primitive import Primitive, unbox_all
from ..extend import primitive

__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum", "defjvp_argnum", "def_linear",
           "notrace_primitive"]


def per_row(one, gt, like):
    """``one(gt)`` for a cotangent (tangent) ``gt`` shaped like ``like``; for a batch of them
    (extra leading axes), ``one`` of each row, stacked: autograd's rules take one at a time."""
    base, shape = shape_of(like), shape_of(gt)
    lead = len(shape) - len(base)
    if lead <= 0 or tuple(shape[lead:]) != tuple(base):
        return one(gt)
    rows = _cnp.reshape(gt, (math.prod(shape[:lead]),) + tuple(base))
    out = _cnp.stack([_cnp.asarray(one(rows[r])) for r in range(shape_of(rows)[0])])
    return _cnp.reshape(out, tuple(shape[:lead]) + shape_of(out)[1:])


def _jvp_rule(fn, i):
    """autograd's ``fn(g, ans, *args)`` for argument ``i`` as a rule, one tangent row at a time."""
    return lambda t, ans, *args, **kw: per_row(lambda row: fn(row, ans, *args, **kw), t, args[i])


def defvjp(prim, *vjpmakers, argnums=None):
    """autograd style: each maker is ``maker(ans, *args, **kwargs) -> (g -> contribution)``."""
    argnums = range(len(vjpmakers)) if argnums is None else argnums
    rules = [None] * (max(argnums) + 1)
    for i, maker in zip(argnums, vjpmakers):
        if maker is not None:
            rules[i] = (lambda m: lambda g, ans, *args, **kw: per_row(m(ans, *args, **kw), g, ans))(maker)
    Primitive.defvjp(prim, *rules)  # the record's own method (autograd.core's primitive has its own)


def defjvp(prim, *jvpfuns, argnums=None):
    """autograd style: each is ``jvp(g, ans, *args, **kwargs)`` with ``g`` the input tangent."""
    argnums = range(len(jvpfuns)) if argnums is None else argnums
    rules = [None] * (max(argnums) + 1)
    for i, fn in zip(argnums, jvpfuns):
        if fn is not None:
            rules[i] = _jvp_rule(fn, i)
    prim.defjvp(*rules)


def defvjp_argnum(prim, makevjp):
    """``makevjp(argnum, ans, args, kwargs) -> (g -> contribution)``."""
    prim.defvjp_argnum(lambda argnum, g, ans, *args, **kw: per_row(makevjp(argnum, ans, args, kw), g, ans))


def defjvp_argnum(prim, jvpmaker):
    """``jvpmaker(argnum, g, ans, args, kwargs)`` -> the output tangent from input ``argnum``'s ``g``."""
    prim.defjvp_argnum(lambda argnum, t, ans, *args, **kw: per_row(
        lambda row: jvpmaker(argnum, row, ans, args, kw), t, args[argnum]))


def def_linear(prim):
    """``prim`` is linear in each argument: its tangent from argument ``i`` is ``prim`` applied
    with that argument replaced by its tangent (autograd defines only this forward rule)."""
    def jvp(argnum, t, ans, *args, **kw):
        return per_row(lambda row: prim(*[row if i == argnum else a for i, a in enumerate(args)], **kw),
                       t, args[argnum])
    prim.defjvp_argnum(jvp)


def notrace_primitive(f_raw):
    """``f_raw`` called on the plain values of its arguments: its result carries no
    derivative (autograd's ``notrace_primitive``, for functions such as ``np.shape``)."""
    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        return f_raw(*[unbox_all(a) for a in args], **kwargs)
    return f_wrapped
