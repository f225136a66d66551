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
import math

import numpy as np

from .errors import InPlaceError, NoRuleError, TracerEscapeError
from .primitive import FUNCTIONS, UFUNCS, Box, Primitive, bind, unbox_all

_levels = itertools.count(1)


def new_level() -> int:
    """A trace level above every existing one (a trace opened later is handled first)."""
    return next(_levels)


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


class Shaped:
    """What a record keeps of a value its rules never read: the shape and dtype only.

    A lean trace (``ReverseTrace(keep_values=False)``) stores these in place of the
    arrays a primitive does not list in ``saves``, so the tape does not keep them
    alive. Reading the value (arithmetic, ``np.asarray``, comparison) raises: the
    primitive's ``saves`` declaration is then wrong.
    """

    __slots__ = ("shape", "dtype", "prim", "which")

    def __init__(self, shape, dtype, prim=None, which="ans"):
        self.shape = shape
        self.dtype = dtype
        self.prim = prim  # the primitive whose record this sits in, and which value it was
        self.which = which

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self) -> str:
        return f"Shaped({self.shape}, {self.dtype})"

    def _not_saved(self, *args, **kwargs):
        name = getattr(self.prim, "name", "?")
        what = f"the output of {name}" if self.which == "ans" else f"argument {self.which} of {name}"
        raise TypeError(f"{what} was not kept on this lean tape, only its shape and dtype: a rule "
                        "that reads it must be listed in its primitive's `saves`, and code that "
                        "reads record values needs ReverseTrace(keep_values=True)")

    __array__ = __bool__ = __eq__ = __ne__ = __float__ = __getitem__ = __iter__ = _not_saved
    __hash__ = object.__hash__


_ndarray = np.ndarray


def _residuals(prim, args: list, ans):
    """Reduce, in place, the arrays of a record that its rules never read to shape and dtype."""
    saves = prim.saves
    for i, a in enumerate(args):
        if type(a) is _ndarray and i not in saves:
            args[i] = Shaped(a.shape, a.dtype, prim, i)
    if "ans" in saves:
        return args, ans
    if prim.multiple_results:
        return args, tuple(Shaped(a.shape, a.dtype, prim) if type(a) is _ndarray else a for a in ans)
    return args, (Shaped(ans.shape, ans.dtype, prim) if type(ans) is _ndarray else ans)


class ReverseTrace:
    """The Wengert list of one reverse-mode transform.

    ``keep_values=False`` makes a lean tape: each record keeps only the values its
    primitive declares in ``Primitive.saves`` (undeclared primitives keep all), the
    rest as :class:`Shaped`. Gradients are the same; the glass box and the per-record
    checks of ``check_grads`` want every value and use the default.
    """

    __slots__ = ("level", "tape", "_nodes", "keep_values", "_released")

    def __init__(self, keep_values: bool = True):
        self.level = new_level()
        self.tape: list[Record] = []
        self._nodes = itertools.count()
        self.keep_values = keep_values
        self._released = False

    def new_input(self, value) -> ReverseBox:
        return ReverseBox(value, self, next(self._nodes))

    def process(self, prim, args, params):
        vals = list(args)
        parents = []
        nested = False  # a value still boxed by an outer (lower-level) trace
        for i, a in enumerate(args):
            if type(a) is ReverseBox and a._trace is self:
                parents.append((i, a._node))
                a = vals[i] = a._value
            if isinstance(a, Box):
                nested = True
        ans = bind(prim, vals, params) if nested else prim.impl(*vals, **params)
        nodes = self._nodes
        if prim.multiple_results:
            out = tuple(next(nodes) for _ in ans)
            result = tuple(ReverseBox(v, self, n) for v, n in zip(ans, out, strict=True))
        else:
            out = next(nodes)
            result = ReverseBox(ans, self, out)
        if self.keep_values or prim.saves is None:
            self.tape.append(Record(prim, vals, params, ans, tuple(parents), out))
        else:  # a lean tape: keep only what the rules read
            vals, kept = _residuals(prim, vals, ans)
            self.tape.append(Record(prim, vals, params, kept, tuple(parents), out))
        return result

    def backward(self, seeds: dict, wanted, create_graph: bool = False,
                 release: bool = False) -> list:
        """Chain rule over the tape: ``seeds`` maps output node -> cotangent.

        Returns the accumulated cotangent (or ``None``, a symbolic zero) of each
        node in ``wanted``. Fan-out adds up here: a node used twice receives two
        contributions (UFLDL's tied ``W`` in ``W^T W x``).

        With ``create_graph`` the rules see the primal values as boxes of this same
        trace, so the backward pass is itself recorded on the tape and can be
        differentiated again (PyTorch's ``create_graph=True``).

        With ``release`` the tape is consumed: each record is dropped once its rules
        have run, so its saved values are freed as the pass goes (PyTorch's default,
        ``retain_graph=False``). A later backward on this trace raises.
        """
        if self._released:
            raise RuntimeError("this tape was released by an earlier backward(release=True); "
                               "trace the function again (or do not release) to pull again")
        if release and create_graph:
            raise ValueError("backward(create_graph=True) records onto the tape; it cannot release it")
        ct = dict(seeds)
        pop = ct.pop
        get = ct.get
        if release:
            self._released = True
            tape = _consume(self.tape)
        else:
            tape = reversed(self.tape[:] if create_graph else self.tape)
        for rec in tape:
            out = rec.out
            if type(out) is tuple:
                g = tuple(pop(o, None) for o in out)
                if all(x is None for x in g):
                    continue
            else:
                g = pop(out, None)
                if g is None:  # symbolic zero: this record does not lead to the outputs
                    continue
            if create_graph:
                args, ans = self._reboxed(rec)
            else:
                args = rec.args
                ans = rec.ans
            prim = rec.prim
            params = rec.params
            # The per-argument rule is called here directly (one frame less than prim.vjp);
            # prim.vjp handles variable-arity rules and raises the missing-rule error.
            rules = prim._vjps if prim._vjp_argnum is None else ()
            for argnum, node in rec.parents:
                prev = get(node)
                if prev is not None:
                    # Fan-out adds up. The new contribution is an unnamed temporary here, so
                    # NumPy can add into its buffer instead of allocating a third array.
                    ct[node] = prev + prim.vjp(argnum, g, ans, args, params)
                    continue
                rule = rules[argnum] if argnum < len(rules) else None
                if rule is None:
                    ct[node] = prim.vjp(argnum, g, ans, args, params)
                else:
                    ct[node] = rule(g, ans, *args, **params)
        return [ct.get(n) for n in wanted]


    def _reboxed(self, rec: Record):
        """A record's inputs and output as boxes of this trace (same node ids)."""
        args = list(rec.args)
        for argnum, node in rec.parents:
            args[argnum] = ReverseBox(args[argnum], self, node)
        if type(rec.out) is tuple:
            ans = tuple(ReverseBox(v, self, n) for v, n in zip(rec.ans, rec.out, strict=True))
        else:
            ans = ReverseBox(rec.ans, self, rec.out)
        return args, ans


def _consume(tape: list):
    """The records of ``tape`` from the last, each removed before the next is handed out."""
    pop = tape.pop
    while tape:
        yield pop()


class ForwardTrace:
    __slots__ = ("level",)

    def __init__(self):
        self.level = new_level()

    def new_input(self, value, tangent) -> ForwardBox:
        return ForwardBox(value, self, tangent)

    def process(self, prim, args, params):
        vals = list(args)
        tangents = []
        nested = False
        for i, a in enumerate(args):
            if type(a) is ForwardBox and a._trace is self:
                tangents.append((i, a._tangent))
                a = vals[i] = a._value
            if isinstance(a, Box):
                nested = True
        ans = bind(prim, vals, params) if nested else prim.impl(*vals, **params)
        t_out = None
        rules = prim._jvps if prim._jvp_argnum is None else ()  # called directly, as in backward
        for i, t in tangents:
            if t_out is None:
                rule = rules[i] if i < len(rules) else None
                t_out = prim.jvp(i, t, ans, vals, params) if rule is None else rule(t, ans, *vals, **params)
            elif prim.multiple_results:
                c = prim.jvp(i, t, ans, vals, params)
                t_out = tuple(_add_maybe(a, b) for a, b in zip(t_out, c, strict=True))
            else:  # the new term is an unnamed temporary, so NumPy can add into its buffer
                t_out = t_out + prim.jvp(i, t, ans, vals, params)
        if prim.multiple_results:
            t_out = t_out or (None,) * len(ans)
            return tuple(v if t is None else ForwardBox(v, self, t) for v, t in zip(ans, t_out, strict=True))
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
        try:  # inlined _shape: rules read .shape of traced values on every call
            return self._value.shape
        except AttributeError:
            return ()

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
        return bool(unbox_all(self))

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


def _method(fn, reflected=False):
    """``fn`` as a traced-array method or operator.

    A primitive becomes a plain function that binds it directly: no bound-method
    object per call and one frame less than calling the primitive.
    """
    if not isinstance(fn, Primitive):
        return (lambda self, other: fn(other, self)) if reflected else fn
    prim = fn
    if reflected:
        return lambda self, other: bind(prim, (other, self), {})

    def method(*args, **params):
        return bind(prim, args, params)
    method.__name__ = method.__qualname__ = prim.name
    method.__doc__ = prim.doc
    return method


def install_operators(namespace) -> None:
    """Give traced arrays NumPy's operators and methods, from the chainrule.numpy namespace."""
    for dunder, name in OPERATORS.items():
        setattr(TracedArray, dunder, _method(getattr(namespace, name, None) or _missing(name)))
    for dunder, name in REFLECTED.items():
        fn = getattr(namespace, name, None) or _missing(name)
        setattr(TracedArray, dunder, _method(fn, reflected=True))
    for name in METHODS:
        fn = getattr(namespace, "method_" + name, None) or getattr(namespace, name, None)
        if fn is not None:
            setattr(TracedArray, name, _method(fn))
    TracedArray.T = property(namespace.transpose)
    TracedArray.__hash__ = lambda self: id(self)
