"""Traces: how a primitive call is recorded in reverse mode and pushed forward in forward mode.

Every transform opens its own trace with a fresh, higher ``level``. A value traced
by several nested transforms is a box inside a box; ``bind`` always lets the
highest level handle the call first, which keeps nested derivatives apart
(no perturbation confusion).

Reverse mode records a **Wengert list**: ``tape`` is a flat Python list of
:class:`Record` (primitive, primal inputs, static params, output, which inputs are
traced). The backward pass walks it once from the end, holding cotangents in a
dict keyed by node id and popping each one as soon as it has been used. There is
no recursion and no topological sort: the tape is already in execution order.
"""

from __future__ import annotations

import itertools

import numpy as np

from .errors import InPlaceError, NoRuleError, TracerEscapeError
from .primitive import FUNCTIONS, UFUNCS, Box, bind

_levels = itertools.count(1)


class Record:
    """One executed primitive: the row of the Wengert list that the glass box also reads."""

    __slots__ = ("prim", "args", "params", "ans", "parents", "out")

    def __init__(self, prim, args, params, ans, parents, out):
        self.prim = prim
        self.args = args  # primal inputs, unboxed at this trace's level
        self.params = params
        self.ans = ans  # primal output (a tuple for multiple-result primitives)
        self.parents = parents  # ((argnum, node id), ...) for the traced inputs
        self.out = out  # node id, or a tuple of node ids

    def __repr__(self) -> str:
        return f"Record({self.prim.name}, parents={self.parents}, out={self.out})"


class ReverseTrace:
    __slots__ = ("level", "tape", "_nodes")

    def __init__(self):
        self.level = next(_levels)
        self.tape: list[Record] = []
        self._nodes = itertools.count()

    def new_input(self, value) -> ReverseBox:
        return ReverseBox(value, self, next(self._nodes))

    def process(self, prim, args, params):
        vals = list(args)
        parents = []
        for i, a in enumerate(args):
            if type(a) is ReverseBox and a._trace is self:
                vals[i] = a._value
                parents.append((i, a._node))
        ans = bind(prim, vals, params)
        nodes = self._nodes
        if prim.multiple_results:
            out = tuple(next(nodes) for _ in ans)
            result = tuple(ReverseBox(v, self, n) for v, n in zip(ans, out))
        else:
            out = next(nodes)
            result = ReverseBox(ans, self, out)
        self.tape.append(Record(prim, vals, params, ans, tuple(parents), out))
        return result

    def backward(self, seeds: dict, wanted, create_graph: bool = False) -> list:
        """Chain rule over the tape: ``seeds`` maps output node -> cotangent.

        Returns the accumulated cotangent (or ``None``, a symbolic zero) of each
        node in ``wanted``. Fan-out adds up here: a node used twice receives two
        contributions (UFLDL's tied ``W`` in ``W^T W x``).

        With ``create_graph`` the rules see the primal values as boxes of this same
        trace, so the backward pass is itself recorded on the tape and can be
        differentiated again (PyTorch's ``create_graph=True``).
        """
        ct = dict(seeds)
        tape = self.tape[:] if create_graph else self.tape
        for rec in reversed(tape):
            if type(rec.out) is tuple:
                g = tuple(ct.pop(o, None) for o in rec.out)
                if all(x is None for x in g):
                    continue
            else:
                g = ct.pop(rec.out, None)
                if g is None:
                    continue
            vjp = rec.prim.vjp
            args, ans = (self._reboxed(rec) if create_graph else (rec.args, rec.ans))
            for argnum, node in rec.parents:
                contribution = vjp(argnum, g, ans, args, rec.params)
                prev = ct.get(node)
                ct[node] = contribution if prev is None else prev + contribution
        return [ct.get(n) for n in wanted]


    def _reboxed(self, rec: Record):
        """A record's inputs and output as boxes of this trace (same node ids)."""
        args = list(rec.args)
        for argnum, node in rec.parents:
            args[argnum] = ReverseBox(args[argnum], self, node)
        if type(rec.out) is tuple:
            ans = tuple(ReverseBox(v, self, n) for v, n in zip(rec.ans, rec.out))
        else:
            ans = ReverseBox(rec.ans, self, rec.out)
        return args, ans


class ForwardTrace:
    __slots__ = ("level",)

    def __init__(self):
        self.level = next(_levels)

    def new_input(self, value, tangent) -> ForwardBox:
        return ForwardBox(value, self, tangent)

    def process(self, prim, args, params):
        vals = list(args)
        tangents = []
        for i, a in enumerate(args):
            if type(a) is ForwardBox and a._trace is self:
                vals[i] = a._value
                tangents.append((i, a._tangent))
        ans = bind(prim, vals, params)
        t_out = None
        for i, t in tangents:
            c = prim.jvp(i, t, ans, vals, params)
            if t_out is None:
                t_out = c
            elif prim.multiple_results:
                t_out = tuple(_add_maybe(a, b) for a, b in zip(t_out, c))
            else:
                t_out = t_out + c
        if prim.multiple_results:
            t_out = t_out or (None,) * len(ans)
            return tuple(v if t is None else ForwardBox(v, self, t) for v, t in zip(ans, t_out))
        return ans if t_out is None else ForwardBox(ans, self, t_out)


def _add_maybe(a, b):
    return b if a is None else a if b is None else a + b


def _shape(x):
    try:
        return x.shape
    except AttributeError:
        return ()


class TracedArray(Box):
    """What user code sees in place of an array while chainrule traces it.

    It supports NumPy's operators and methods, and NumPy's dispatch protocols
    (``__array_ufunc__`` and ``__array_function__``), so ``np.tanh(x)`` on a traced
    ``x`` calls chainrule's ``tanh``. Anything that would drop the trace raises.
    """

    __slots__ = ()
    __array_priority__ = 1000.0

    # -- metadata is read through, never traced --
    @property
    def shape(self):
        return _shape(self._value)

    @property
    def ndim(self):
        return len(_shape(self._value))

    @property
    def size(self):
        return int(np.prod(_shape(self._value)))

    @property
    def dtype(self):
        v = self._value
        return v.dtype if hasattr(v, "dtype") else np.result_type(v)

    def __len__(self):
        s = _shape(self._value)
        if not s:
            raise TypeError("len() of unsized traced array")
        return s[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        # Control flow on a value is fine: it picks a branch, it does not drop a derivative.
        return bool(_unbox_fully(self))

    # -- conversions that would silently lose the derivative --
    def __array__(self, dtype=None, copy=None):
        raise TracerEscapeError(
            "a traced array was converted to a plain NumPy array (np.asarray, np.array, "
            "or assignment into an ndarray such as `a[i] = x`); its derivative would be lost. "
            "Use chainrule.numpy functions or keep the value traced (np.stack instead of filling "
            "an array, for example).")

    def __float__(self):
        raise TracerEscapeError("float() on a traced value, or its assignment into an ndarray "
                                "(`a[i] = x`), drops its derivative; keep it as a traced array "
                                "(build arrays with chainrule.numpy.stack/where), or use "
                                "chainrule.stop_gradient if a constant is what you mean")

    def __int__(self):
        raise TracerEscapeError("int() on a traced value drops its derivative")

    def __complex__(self):
        raise TracerEscapeError("complex() on a traced value drops its derivative")

    def item(self, *args):
        raise TracerEscapeError(".item() on a traced value drops its derivative")

    def tolist(self):
        raise TracerEscapeError(".tolist() on a traced value drops its derivative")

    def __setitem__(self, key, value):
        raise InPlaceError(
            f"in-place write `x[{key!r}] = ...` into a traced array: the tape still needs the old "
            "value. Build a new array instead (chainrule.numpy.where, concatenate, or "
            "chainrule.numpy.at_set(x, index, value)).")

    def __hash__(self):
        return id(self)

    # -- NumPy dispatch protocols --
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if kwargs.get("out") is not None:
            raise InPlaceError(f"in-place {name}(..., out=...) with a traced array: the tape needs "
                               "its inputs unchanged; write `y = op(...)` instead of `op(..., out=y)` "
                               "or augmented assignment into an ndarray")
        fn = UFUNCS.get(ufunc) if method == "__call__" else None
        if fn is None:
            raise NoRuleError(f"chainrule has no derivative rule for {name}")
        kwargs.pop("out", None)
        if kwargs.pop("dtype", None) is not None or kwargs:
            raise NoRuleError(f"{name} with keyword arguments {sorted(kwargs)} is not supported "
                              "on traced arrays")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        fn = FUNCTIONS.get(func)
        if fn is None:
            mod = getattr(func, "__module__", "numpy") or "numpy"
            raise NoRuleError(f"chainrule has no derivative rule for {mod}.{func.__name__}; "
                              "write it with supported functions or define a custom primitive "
                              "(chainrule.primitive)")
        return fn(*args, **kwargs)

    def __repr__(self):
        return f"{type(self).__name__}({self._value!r})"


def _unbox_fully(x):
    while isinstance(x, Box):
        x = x._value
    return x


class ReverseBox(TracedArray):
    __slots__ = ("_node",)

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node


class ForwardBox(TracedArray):
    __slots__ = ("_tangent",)

    def __init__(self, value, trace, tangent):
        self._value = value
        self._trace = trace
        self._tangent = tangent


# Operators and methods map to chainrule.numpy names; installed once that namespace exists.
OPERATORS = {
    "__add__": "add", "__sub__": "subtract", "__mul__": "multiply", "__truediv__": "divide",
    "__pow__": "power", "__matmul__": "matmul", "__mod__": "mod", "__floordiv__": "floor_divide",
    "__neg__": "negative", "__pos__": "positive", "__abs__": "abs",
    "__lt__": "less", "__le__": "less_equal", "__gt__": "greater", "__ge__": "greater_equal",
    "__eq__": "equal", "__ne__": "not_equal", "__getitem__": "getitem",
}
REFLECTED = {
    "__radd__": "add", "__rsub__": "subtract", "__rmul__": "multiply", "__rtruediv__": "divide",
    "__rpow__": "power", "__rmatmul__": "matmul", "__rmod__": "mod",
    "__rfloordiv__": "floor_divide",
}
METHODS = ("sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "reshape",
           "transpose", "swapaxes", "squeeze", "ravel", "flatten", "dot", "clip", "round",
           "argmax", "argmin", "argsort", "astype", "diagonal", "trace", "repeat", "conj", "copy",
           "all", "any", "nonzero", "take", "sort")


def _missing(name):
    def op(*args, **kwargs):
        raise NoRuleError(f"chainrule.numpy has no {name} yet")
    return op


def install_operators(namespace) -> None:
    """Give traced arrays NumPy's operators and methods, from the chainrule.numpy namespace."""
    for dunder, name in OPERATORS.items():
        setattr(TracedArray, dunder, getattr(namespace, name, None) or _missing(name))
    for dunder, name in REFLECTED.items():
        fn = getattr(namespace, name, None) or _missing(name)
        setattr(TracedArray, dunder, lambda self, other, fn=fn: fn(other, self))
    for name in METHODS:
        fn = getattr(namespace, "method_" + name, None) or getattr(namespace, name, None)
        if fn is not None:
            setattr(TracedArray, name, fn)
    TracedArray.T = property(namespace.transpose)
    TracedArray.__hash__ = lambda self: id(self)
