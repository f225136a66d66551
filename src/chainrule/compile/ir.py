"""The staged program's representation: equations over numbered variables.

A staged call is straight-line code. Each variable is an ``int``; its abstract value
(:class:`~chainrule.core.aval.ShapedArray`: shape and dtype) is in ``avals``, and
``weak`` names the variables that hold a Python number (NumPy types them weakly:
``float32_array * 2.5`` is float32, ``float32_array * np.float64(2.5)`` is not). An
operand that is not a variable is a :class:`Lit` constant. Staging builds this data,
the rewrites in :mod:`~chainrule.compile.fusion` transform it, and code generation
reads it; none of them imports another's module for it.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.aval import ShapedArray, aval_of

__all__ = ["Lit", "Eqn", "Staged", "prune", "freeze", "PY_NUMBERS"]

PY_NUMBERS = (bool, int, float, complex)  # weakly typed in NumPy's promotion


class Lit:
    """A constant operand of an equation (a closed-over array, a scalar, a seed)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"Lit({self.value!r})"


class Eqn:
    """One staged primitive call: ``outs = prim.impl(*ins, **params)``.

    ``ins`` holds variable numbers (ints) and :class:`Lit` constants; ``outs`` is always a
    tuple of variable numbers (one per result), like a tape record's ``out``.
    """

    __slots__ = ("prim", "ins", "params", "outs")

    def __init__(self, prim, ins, params, outs):
        self.prim = prim
        self.ins = ins
        self.params = params
        self.outs = outs

    def in_vars(self) -> list:
        return [a for a in self.ins if type(a) is int]

    def __repr__(self) -> str:
        return f"Eqn({self.prim.name}, ins={self.ins}, outs={self.outs})"


class Staged:
    """A staged call: ``eqns`` from ``in_vars`` to ``outs`` (variables or :class:`Lit`).

    ``avals`` maps every variable to its :class:`ShapedArray`; ``weak`` is the set of
    variables holding Python numbers. Rewrites that add variables take them from
    :meth:`new_var`.
    """

    __slots__ = ("eqns", "in_vars", "outs", "avals", "weak", "_next", "_shared")

    def __init__(self):
        self.eqns: list[Eqn] = []
        self.in_vars: list[int] = []
        self.outs: list = []
        self.avals: dict[int, ShapedArray] = {}
        self.weak: set[int] = set()
        self._next = 0
        # one ShapedArray per (shape, dtype): a program has few distinct ones and many
        # variables (an LSTM gradient: 5 and 168,000), and each object costs an allocation
        # and a place among the objects the garbage collector traverses
        self._shared: dict = {}

    def new_var(self, value=None, aval: ShapedArray | None = None) -> int:
        """A fresh variable typed like ``value`` (or with the given ``aval``)."""
        var = self._next
        self._next += 1
        if aval is None:
            t = type(value)
            if t is np.ndarray or t is np.float64:  # the common cases, without aval_of
                key = (value.shape, value.dtype)
                aval = self._shared.get(key)
                if aval is None:
                    aval = self._shared[key] = ShapedArray(*key)
            else:
                aval = aval_of(value)
                if type(value) in PY_NUMBERS:
                    self.weak.add(var)
        self.avals[var] = aval
        return var

    def dtype_in(self, a):
        """What NumPy's type resolution sees for operand ``a``: a dtype, or ``int``/``float``
        for a weakly typed Python number (``ufunc.resolve_dtypes`` accepts both; a Python
        bool is NumPy's bool); None for a constant that is neither an array nor a number."""
        if type(a) is int:
            dtype, weak = self.avals[a].dtype, a in self.weak
        elif isinstance(a.value, np.ndarray | np.generic) or type(a.value) in PY_NUMBERS:
            dtype, weak = aval_of(a.value).dtype, type(a.value) in PY_NUMBERS
        else:  # a list, a tuple, None: no dtype of its own (NumPy converts it per call)
            return None
        return _WEAK.get(dtype.kind, dtype) if weak else dtype


_WEAK = {"i": int, "f": float, "c": complex}


def freeze(v):
    """A hashable key for a constant or parameter: equal keys mean interchangeable values.

    Python ints, strings and None are their own keys (the common parameters: axes, shapes,
    indices; a bool, a float or a NumPy scalar is tagged with its type, so ``1``, ``True``
    and ``1.0`` stay apart), and so is a tuple of ints; anything else is tagged. An array is
    keyed by its identity (a program's constants are its own copies, alive as long as it)."""
    t = type(v)
    if t is int or t is str or v is None:
        return v
    if t is float or t is np.float64:  # the sign keeps -0.0 and 0.0 apart (equal as keys)
        return (t, v, math.copysign(1.0, v))
    if t is np.ndarray:
        return ("array", id(v))
    if t is tuple:
        for x in v:
            if type(x) is not int:
                return ("tuple",) + tuple(map(freeze, v))
        return v
    if t is slice:
        a, b, c = v.start, v.stop, v.step
        if (type(a) is int or a is None) and (type(b) is int or b is None) \
                and (type(c) is int or c is None):
            return ("slice", a, b, c)
        return ("slice", freeze(a), freeze(b), freeze(c))
    if t is list:
        return ("list",) + tuple(map(freeze, v))
    if t is dict:  # parameters
        return ("dict",) + tuple([(k, freeze(x)) for k, x in v.items()])
    if isinstance(v, (float, np.floating)):
        return (t, repr(v))  # keeps -0.0 and 0.0 apart
    if isinstance(v, np.ndarray):
        return ("array", id(v))
    try:
        hash(v)
    except TypeError:
        return ("object", id(v))
    return (t, v)


def prune(eqns: list[Eqn], wanted, uses: dict | None = None) -> list[Eqn]:
    """The equations the ``wanted`` variables depend on, in their original order (one pass
    from the end). ``uses``, if given, is filled with how many times each variable is read
    by the kept equations (the ``wanted`` count once each)."""
    live = set(wanted)
    if uses is not None:
        for w in wanted:
            uses[w] = uses.get(w, 0) + 1
        count = uses.get
    kept = []
    add = live.add
    for e in reversed(eqns):
        for o in e.outs:
            if o in live:
                kept.append(e)
                if uses is None:
                    for a in e.ins:
                        if type(a) is int:
                            add(a)
                else:
                    for a in e.ins:
                        if type(a) is int:
                            add(a)
                            uses[a] = count(a, 0) + 1
                break
    kept.reverse()
    return kept
