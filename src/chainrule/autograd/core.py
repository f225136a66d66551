"""``autograd.core``: the unary ``make_vjp(fun, x)`` and ``make_jvp(fun, x)`` (``fun`` of one
argument; :mod:`chainrule.autograd`'s versions take ``argnum``), and the rule-definition
functions of :mod:`chainrule.autograd.extend`, which ``autograd.core`` also holds. autograd's
tracer machinery (nodes, vector spaces, its rule tables) has no counterpart: chainrule records
on its own tape (see docs/autograd.md)."""

from __future__ import annotations

import warnings
from collections.abc import MutableMapping

from .. import numpy as _cnp
from .. import transforms as _t
from ..core.aval import dtype_of, shape_of
from ..core.primitive import Primitive
from .extend import def_linear, defjvp, defjvp_argnum, defvjp, defvjp_argnum

__all__ = ["def_linear", "defjvp", "defjvp_argnum", "defvjp", "defvjp_argnum", "make_jvp", "make_vjp",
           "primitive", "primitive_vjps", "primitive_jvps"]

_DEPRECATED = ("{} is deprecated: use autograd.extend's defvjp(primitive, *vjpmakers) (autograd 1.2's "
               "API), which chainrule.autograd.extend also provides")


class _VSpace:
    """What a pre-1.2 rule's ``vs``/``gvs`` arguments were used for: the shape, dtype and zeros
    of a value's space."""

    def __init__(self, value):
        self.shape, self.dtype = shape_of(value), dtype_of(value)
        self.size = int(_cnp.prod(self.shape)) if self.shape else 1

    def zeros(self):
        return _cnp.zeros(self.shape, self.dtype)


class DeprecatedPrimitive(Primitive):
    """``autograd.core.primitive``'s functions: autograd 1.9 still gives them the pre-1.2 rule
    definitions, each with a ``DeprecationWarning``: ``defvjp(vjpfun(g, ans, vs, gvs, *args),
    argnum=0)``, ``defgrad(gradmaker(ans, *args) -> (g -> ...), argnum=0)`` and
    ``defvjp_is_zero(argnums)``; rules accumulate per argument, as autograd's."""

    __slots__ = ()

    def defvjp(self, vjpfun, argnum=0):
        warnings.warn(_DEPRECATED.format("defvjp(vjpfun, argnum)"), DeprecationWarning, stacklevel=2)

        def maker(ans, *args, **kwargs):
            return lambda g: vjpfun(g, ans, _VSpace(args[argnum]), _VSpace(g), *args, **kwargs)
        return self._define(argnum, maker)

    def defgrad(self, gradmaker, argnum=0):
        warnings.warn(_DEPRECATED.format("defgrad"), DeprecationWarning, stacklevel=2)
        return self._define(argnum, gradmaker)

    def defvjp_is_zero(self, argnums=(0,)):
        warnings.warn(_DEPRECATED.format("defvjp_is_zero"), DeprecationWarning, stacklevel=2)
        for argnum in argnums:
            self._define(argnum, lambda ans, *args, i=argnum, **kw: lambda g: _cnp.zeros_like(args[i]))
        return self

    def _define(self, argnum, maker):
        makers = _PRE12_MAKERS.setdefault(self, {})
        makers[argnum] = maker
        argnums = sorted(makers)
        defvjp(self, *[makers[i] for i in argnums], argnums=argnums)
        return self


_PRE12_MAKERS: dict = {}  # DeprecatedPrimitive -> {argnum: vjp maker}, as autograd accumulates them


def primitive(f_raw):
    """autograd.core's ``primitive``: autograd.extend's, plus the deprecated pre-1.2 methods."""
    return DeprecatedPrimitive(f_raw.__name__, f_raw, doc=f_raw.__doc__)


def make_vjp(fun, x):
    """``(vjp, ans)`` of the unary ``fun`` at ``x``: ``vjp(g) = g^T J(x)``."""
    ans, f_vjp = _t.vjp(fun, x)
    return (lambda g: f_vjp(g)[0]), ans


def make_jvp(fun, x):
    """``jvp(v) -> (ans, J(x) v)`` for the unary ``fun`` at ``x``."""
    return lambda v: _t.jvp(fun, (x,), (v,))


class _RuleTable(MutableMapping):
    """autograd's ``primitive_vjps``/``primitive_jvps``: the rules of each primitive, by the
    primitive (a function that is not a chainrule ``Primitive`` has none). Programs use them to
    take a primitive's rules away for a while and put them back (``pop`` then ``table[f] = r``)."""

    def __init__(self, slot: str):
        self._slot = slot  # "_vjps" or "_jvps": the Primitive's own rules, not a copy of them

    def __getitem__(self, prim):
        rules = getattr(prim, self._slot, None) if isinstance(prim, Primitive) else None
        if not rules:
            raise KeyError(prim)
        return rules

    def __setitem__(self, prim, rules):
        if not isinstance(prim, Primitive):
            raise TypeError(f"{prim!r} is not a primitive")
        (Primitive.defvjp if self._slot == "_vjps" else Primitive.defjvp)(prim, *rules)

    def __delitem__(self, prim):
        self[prim]  # KeyError when it has none
        (Primitive.defvjp if self._slot == "_vjps" else Primitive.defjvp)(prim)

    def __iter__(self):
        raise TypeError("chainrule keeps no registry of every primitive: look one up, pop it or set it")

    def __len__(self):
        raise TypeError("chainrule keeps no registry of every primitive: look one up, pop it or set it")


primitive_vjps = _RuleTable("_vjps")
primitive_jvps = _RuleTable("_jvps")
