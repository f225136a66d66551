"""Traces: how a primitive call is recorded in reverse mode and pushed forward in forward mode.

Every transform opens its own trace with a fresh, higher ``level``. A value traced by several
nested transforms is a box inside a box; ``bind`` always lets the highest level handle the call
first, which keeps nested derivatives apart (no perturbation confusion). Reverse mode appends
a :class:`~chainrule.core.tape.Record` per call to a flat tape, walked by ``core/tape.py``.
"""

from __future__ import annotations

import gc
import itertools

import numpy as np

from .aval import ShapedArray, dtype_of
from .primitive import Box, Primitive, bind
from .tape import Checks, Record, consume, jvp_sum, pull

_levels = itertools.count(1)


def new_level() -> int:
    """A trace level above every existing one (a trace opened later is handled first)."""
    return next(_levels)


class collector_paused:  # noqa: N801 (a context manager: `with collector_paused():`)
    """The cyclic garbage collector paused while a trace records: recording makes no cycles, but
    each allocation burst makes it walk every live object again (a third of an LSTM gradient)."""

    __slots__ = ("was",)  # a class: a generator-based context manager cost ~1 us per use

    def __enter__(self):
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc):
        if self.was:
            gc.enable()


class Trace:
    """The protocol every interpreter implements: reverse, forward, staging and Tensor.

    ``level`` orders nested traces (``bind`` hands a call to the highest one, which
    unboxes its own values and binds again for the ones below); ``new_input`` boxes a
    value as an input of this trace; ``process(prim, args, params)`` runs one primitive
    call whose arguments include this trace's boxes.
    """

    __slots__ = ("level",)

    def __init__(self):
        self.level = new_level()

    def new_input(self, value, *data):
        raise NotImplementedError

    def process(self, prim, args, params):
        raise NotImplementedError


class Shaped(ShapedArray):
    """What a lean tape keeps of a value its rules never read: the abstract value only.

    A lean trace (``ReverseTrace(keep_values=False)``) stores these in place of the
    arrays a primitive does not list in ``saves``, so the tape does not keep them
    alive. Reading the value (arithmetic, ``np.asarray``, comparison) raises: the
    primitive's ``saves`` declaration is then wrong.
    """

    __slots__ = ("prim", "which")

    def __init__(self, shape, dtype, prim=None, which="ans"):
        self.shape = shape
        self.dtype = dtype
        self.prim = prim  # the primitive whose record this sits in, and which value it was
        self.which = which

    def _not_saved(self, *args, **kwargs):
        name = getattr(self.prim, "name", "?")
        what = f"the output of {name}" if self.which == "ans" else f"argument {self.which} of {name}"
        raise TypeError(f"{what} was not kept on this lean tape, only its shape and dtype: a rule "
                        "that reads it must be listed in its primitive's `saves`, and code that "
                        "reads record values needs ReverseTrace(keep_values=True)")

    __array__ = __bool__ = __eq__ = __ne__ = __float__ = __getitem__ = __iter__ = _not_saved
    __hash__ = object.__hash__


_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_REAL = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.bool_})


def _residuals(prim, args: list, ans, min_bytes=-1):
    """Reduce, in place, the arrays of a record that its rules never read to shape and dtype."""
    saves = prim.saves
    for i, a in enumerate(args):
        if type(a) is _ndarray and i not in saves and a.nbytes > min_bytes:
            args[i] = Shaped(a.shape, a.dtype, prim, i)
    if "ans" in saves:
        return args, ans
    if prim.multiple_results:
        return args, tuple(Shaped(a.shape, a.dtype, prim) if type(a) is _ndarray and a.nbytes > min_bytes
                           else a for a in ans)
    return args, (Shaped(ans.shape, ans.dtype, prim) if type(ans) is _ndarray and ans.nbytes > min_bytes
                  else ans)


def _complex_impl(x):
    """``x`` as a complex value of its precision (float32 -> complex64, float64 -> complex128)."""
    return np.asarray(x, dtype=np.result_type(dtype_of(x), np.complex64))


# Real -> complex promotion, recorded where a real traced value meets a complex result (JAX's
# convert_element_type). The inclusion R -> C is linear; under the pairing <a, b> = Re(sum a*b)
# its transpose is the real part, so a real input's cotangent stays real (a derivative has its
# input's dtype). ``np.real`` dispatches to chainrule's rule for a traced cotangent.
to_complex = Primitive("to_complex", _complex_impl, doc="real -> complex; VJP g -> real(g)",
                       saves=())
to_complex.defvjp(lambda g, ans, x: np.real(g))
to_complex.defjvp(lambda t, ans, x: t)


def _is_complex(prim, ans) -> bool:
    return any(type(a) is complex or getattr(a, "dtype", _F64).kind == "c"
               for a in (ans if prim.multiple_results else (ans,)))


class ReverseTrace(Trace):
    """The Wengert list of one reverse-mode transform.

    ``keep_values=False`` makes a lean tape: each record keeps only the values its
    primitive declares in ``Primitive.saves`` (undeclared primitives keep all), the
    rest as :class:`Shaped`. Gradients are the same; the glass box and the per-record
    checks of ``check_grads`` want every value and use the default. Arrays of at most
    ``lean_min_bytes`` are kept: their stand-in would cost more time than they cost memory
    (the tests set it to -1, so a wrong ``saves`` declaration shows on any array).
    """

    __slots__ = ("tape", "_nodes", "keep_values", "_released")
    lean_min_bytes = 512

    def __init__(self, keep_values: bool = True):
        super().__init__()
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
        arrays = False  # an input array the lean tape may drop
        i = 0
        for a in args:
            if type(a) is ReverseBox and a._trace is self:
                parents.append((i, a._node))
                a = vals[i] = a._value
            if type(a) is _ndarray:
                if a.nbytes > self.lean_min_bytes:
                    arrays = True
            elif isinstance(a, Box):
                nested = True
            i += 1
        ans = bind(prim, vals, params) if nested else prim.impl(*vals, **params)
        t = type(ans)  # known real types skip the complex test
        if t not in _REAL and (t is not _ndarray or ans.dtype.kind == "c") and _is_complex(prim, ans):
            parents = self._promote(vals, parents)
        if Checks.value is not None:
            Checks.value(prim, vals, params, ans)
        if prim.multiple_results:
            out = tuple(next(self._nodes) for _ in ans)
            result = tuple(ReverseBox(v, self, n) for v, n in zip(ans, out, strict=True))
        else:
            node = next(self._nodes)
            out = (node,)
            result = ReverseBox(ans, self, node)
        # a lean tape keeps only what the rules read
        if not (self.keep_values or prim.saves is None) and (arrays or prim.multiple_results or (
                t is _ndarray and ans.nbytes > self.lean_min_bytes)):
            vals, ans = _residuals(prim, vals, ans, self.lean_min_bytes)
        self.tape.append(Record(prim, vals, params, ans, tuple(parents), out))
        return result

    def _promote(self, vals, parents):
        """A complex result with real traced arguments: each real one is first recorded through
        :data:`to_complex`, so the real part of its cotangent is what reaches it."""
        out = []
        for i, node in parents:
            v = vals[i]
            if dtype_of(v).kind != "c":
                new = next(self._nodes)
                args = [v]
                if self.keep_values:
                    c = bind(to_complex, args, {}) if isinstance(v, Box) else _complex_impl(v)
                else:  # a lean tape: its rules read nothing
                    args, c = _residuals(to_complex, args, None)
                self.tape.append(Record(to_complex, args, {}, c, ((0, node),), (new,)))
                node = new
            out.append((i, node))
        return out

    def backward(self, seeds: dict, wanted, create_graph: bool = False,
                 release: bool = False, observer=None) -> list:
        """:func:`~chainrule.core.tape.pull` over this tape; ``seeds`` maps output node -> cotangent.

        With ``create_graph`` the rules see the primal values as boxes of this same trace, so
        the backward pass is itself recorded and can be differentiated again (PyTorch's
        ``create_graph=True``). With ``release`` each record is dropped once its rules have run,
        freeing its saved values as the pass goes (``retain_graph=False``); a later backward raises.
        """
        if self._released:
            raise RuntimeError("this tape was released by an earlier backward(release=True); "
                               "trace the function again (or do not release) to pull again")
        if release and create_graph:
            raise ValueError("backward(create_graph=True) records onto the tape; it cannot release it")
        if release:
            self._released = True
            records = consume(self.tape)
        else:
            records = reversed(self.tape[:] if create_graph else self.tape)
        with collector_paused():
            return pull(records, seeds, wanted, self._reboxed if create_graph else None, observer)

    def _reboxed(self, rec: Record):
        """A record's inputs and output as boxes of this trace (same node ids)."""
        args = list(rec.args)
        for argnum, node in rec.parents:
            args[argnum] = ReverseBox(args[argnum], self, node)
        if rec.prim.multiple_results:
            return args, tuple(ReverseBox(v, self, n) for v, n in zip(rec.ans, rec.out, strict=True))
        return args, ReverseBox(rec.ans, self, rec.out[0])


class ForwardTrace(Trace):
    __slots__ = ()

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
        if Checks.value is not None:
            Checks.value(prim, vals, params, ans)
        t_out = jvp_sum(prim, tangents, ans, vals, params) if tangents else None
        if prim.multiple_results:
            t_out = t_out or (None,) * len(ans)
            return tuple(v if t is None else ForwardBox(v, self, t) for v, t in zip(ans, t_out, strict=True))
        return ans if t_out is None else ForwardBox(ans, self, t_out)


class TracedArray(Box):
    """What user code sees in place of an array while chainrule traces it.

    The NumPy surface (operators, methods, ``__array_ufunc__``/``__array_function__``,
    and the conversions that would drop a derivative, which raise) is installed on
    it by :mod:`chainrule.numpy.protocol` from the one operator table.
    """

    __slots__ = ()
    __array_priority__ = 1000.0


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
