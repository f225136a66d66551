"""NumPy's array protocol on traced values: what makes a traced array behave like an ndarray.

Installed on :class:`~chainrule.core.trace.TracedArray` (so on every transform's
boxes and on jit's staged values) when :mod:`chainrule.numpy` is imported:
metadata read through without tracing, NumPy's dispatch protocols
(``__array_ufunc__``, ``__array_function__``) routed to the rules registered with
``implements``, the operators and methods of the one operator table, and the
conversions that would silently drop a derivative, which raise.
"""

from __future__ import annotations

import ctypes
import math
import sys

from ..core.aval import dtype_of, shape_of
from ..core.errors import InPlaceError, NoRuleError, TracerEscapeError
from ..core.primitive import Primitive, bind, unbox_all
from ..core.trace import TracedArray
from ..rules.dispatch import FUNCTIONS, MIRRORS, UFUNCS
from ..rules.numeric import ufunc_method
from .operators import METHODS, OPERATORS, PROPERTIES, REFLECTED

_mirror_codes: dict = {}  # code object (of every wrapper layer) -> [(function, MIRRORS' entry)]


def _mirrored_by(hits, frame):
    """The one ``(function, entry)`` of ``hits`` that ``frame`` runs. A decorator's wrapper
    (SciPy's ``_apply_over_batch``) shares one code object among the functions it wraps; its
    frame holds the wrapped function as a local (the closure's ``f``), which says which one.
    ``None`` when that cannot be told: better no advice than advice naming another function."""
    if len(hits) == 1:
        return hits[0]
    local = {id(v) for v in frame.f_locals.values()}
    which = [h for h in hits if id(getattr(h[0], "__wrapped__", None)) in local]
    return which[0] if len(which) == 1 else None


def _mirror_hint(frame) -> str:
    """``"scipy.special.logsumexp is ...: use chainrule.scipy.special.logsumexp. "`` when
    ``frame`` or one of its callers runs a function chainrule mirrors (innermost first), else ``""``."""
    if _mirror_codes.get("indexed") != len(MIRRORS):
        _mirror_codes.clear()
        for fn, entry in MIRRORS.items():
            layer = fn
            while layer is not None:
                code = getattr(layer, "__code__", None)
                if code is not None:
                    _mirror_codes.setdefault(code, []).append((fn, entry))
                layer = getattr(layer, "__wrapped__", None)
        _mirror_codes["indexed"] = len(MIRRORS)
    while frame is not None:
        hits = _mirror_codes.get(frame.f_code)
        hit = _mirrored_by(hits, frame) if hits else None
        if hit is not None:
            name, replacement, *mirrored_for = hit[1]
            if not mirrored_for:
                return f"{name} is SciPy's or NumPy's own code, not differentiable: use {replacement}. "
            dist = getattr(frame.f_locals.get("self"), "name", None)  # which distribution's method
            if dist in mirrored_for[0]:
                return (f"{name.format(dist=dist)} is SciPy's own Python code, not differentiable: use "
                        f"{replacement.format(dist=dist)}. ")
        frame = frame.f_back
    return ""


def _escape(what: str) -> TracerEscapeError:
    """The error for a conversion of a traced value to a Python number (``what`` is
    ``"float()"``...), which is also what NumPy does to store it in an ndarray."""
    return TracerEscapeError(
        f"{what} on a traced value, or its assignment into an ndarray (`a[i] = x`, `a.fill(x)`), "
        "drops its derivative; keep it as a traced array (build arrays with "
        "chainrule.numpy.stack/where, write into one with chainrule.numpy.at_set), or use "
        "chainrule.stop_gradient if a constant is what you mean")


# -- the C sequence slot --
# NumPy stores a value into an element of a float ndarray (`a[i] = x`, `a.fill(x)`,
# `a[i] += x`, an object array's astype) with float(x), and when that raises it replaces the
# error by "ValueError: setting an array element with a sequence" whenever C's
# PySequence_Check(x) is true (arraytypes.c.src, @TYPE@_setitem), our TracerEscapeError left
# only as its __cause__. PySequence_Check reads the type's C slot sq_item alone, which CPython
# fills for every Python class defining __getitem__, whatever __len__ says (so a 0-d
# __len__ raising TypeError, as ndarray's does, cannot help). Indexing reaches __getitem__
# through the mapping slot mp_subscript, len() and iteration have their own slots, and the
# conversions NumPy tries first (np.asarray, slices, np.array([...])) call __array__; so a
# traced array loses only the few C functions that index through sq_item alone (the
# stdlib's bisect; docs/guarantees.md), and it is cleared once per class, at no cost to any
# operation. The slot's address comes from PyTypeObject's documented
# layout and is used only after PyType_GetSlot agrees with it on probe classes; where it
# does not (another interpreter or layout), nothing is written and NumPy's ValueError,
# with our error as its cause, is what the user sees.
_PTR = ctypes.sizeof(ctypes.c_void_p)
_TP_AS_SEQUENCE = 13 * _PTR  # ob_refcnt, ob_type, ob_size, tp_name .. tp_repr, tp_as_number
_SQ_ITEM = 3 * _PTR          # sq_length, sq_concat, sq_repeat, then sq_item
_PY_SQ_ITEM = 44             # the slot's number in CPython's typeslots.h (stable ABI)


def _sq_item_address(cls) -> int | None:
    """Where ``cls``'s ``tp_as_sequence->sq_item`` lives, if this interpreter's layout is
    the one above: a heap type's sequence methods are stored inside the type object."""
    if sys.implementation.name != "cpython":
        return None
    methods = ctypes.c_void_p.from_address(id(cls) + _TP_AS_SEQUENCE).value
    if not methods or not id(cls) < methods < id(cls) + type(cls).__basicsize__:
        return None
    return methods + _SQ_ITEM


def _slot_layout_checked() -> bool:
    """True when the address above is verified on throwaway classes: it holds exactly what
    PyType_GetSlot reports (set for a class with __getitem__, empty for one without), and
    clearing it makes PySequence_Check false while indexing still works."""
    try:  # prototypes of our own: ctypes.pythonapi's function objects are shared
        get_slot = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_int)(
            ("PyType_GetSlot", ctypes.pythonapi))
        is_sequence = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object)(
            ("PySequence_Check", ctypes.pythonapi))
    except (AttributeError, ValueError):
        return False

    class Indexable:
        def __getitem__(self, i):
            return i

    class Plain:
        pass

    def slot_agrees(cls):
        address = _sq_item_address(cls)
        return address is not None and (
            ctypes.c_void_p.from_address(address).value == get_slot(cls, _PY_SQ_ITEM))

    if not (slot_agrees(Indexable) and slot_agrees(Plain) and get_slot(Indexable, _PY_SQ_ITEM)
            and not get_slot(Plain, _PY_SQ_ITEM) and is_sequence(Indexable())):
        return False
    ctypes.c_void_p.from_address(_sq_item_address(Indexable)).value = None
    return not is_sequence(Indexable()) and Indexable()[3] == 3


_SLOT_OK = _slot_layout_checked()


def not_a_c_sequence(cls) -> None:
    """Make instances of ``cls`` and of its present subclasses no C sequence (see above), so
    that NumPy's "setting an array element with a sequence" cannot replace the
    TracerEscapeError their ``__float__`` raises; a no-op where the layout is unverified.
    Call it after the last ``setattr(cls, "__getitem__", ...)``, which refills the slot."""
    classes = [cls]
    while _SLOT_OK and classes:
        c = classes.pop()
        ctypes.c_void_p.from_address(_sq_item_address(c)).value = None
        classes.extend(c.__subclasses__())


class _ArraySurface:
    """The methods installed on :class:`~chainrule.core.trace.TracedArray`."""

    # -- metadata is read through, never traced --
    @property
    def shape(self):
        # shape_of inlined: rules read .shape of traced values on every call (and a caught
        # AttributeError, for a Python-float value, would cost ten times more)
        return getattr(self._value, "shape", ())

    @property
    def ndim(self):
        return len(shape_of(self._value))

    @property
    def size(self):
        return math.prod(shape_of(self._value))

    @property
    def dtype(self):
        return dtype_of(self._value)

    def __len__(self):
        s = shape_of(self._value)
        if not s:
            raise TypeError("len() of unsized traced array")
        return s[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __reversed__(self):
        # Python's reversed() would otherwise need the C sequence slot that install() clears.
        return (self[i] for i in range(len(self) - 1, -1, -1))

    def __bool__(self):
        # Control flow on a value is fine: it picks a branch, it does not drop a derivative.
        return bool(unbox_all(self))

    # -- conversions that would silently lose the derivative --
    def __array__(self, dtype=None, copy=None):
        raise TracerEscapeError(
            _mirror_hint(sys._getframe(1))
            + "a traced array was converted to a plain NumPy array (np.asarray, np.array, "
            "or assignment into an ndarray such as `a[i] = x`); its derivative would be lost. "
            "Use chainrule.numpy functions or keep the value traced (build an array from traced "
            "pieces with chainrule.numpy.stack, or write into one with chainrule.numpy.at_set).")

    def __float__(self):
        raise _escape("float()")

    def __int__(self):
        raise _escape("int()")

    def __complex__(self):
        raise _escape("complex()")

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

    def __init_subclass__(cls, **kwargs):
        # A box class defined after install() (vmap's, jit's) gets the C sequence slot back
        # from its inherited __getitem__ when it is created: clear it there too.
        super(TracedArray, cls).__init_subclass__(**kwargs)
        not_a_c_sequence(cls)

    # -- NumPy dispatch protocols --
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:  # the common call, before any message is built
            fn = UFUNCS.get(ufunc)
            if fn is not None:
                return fn(*inputs)
        name = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if kwargs.get("out") is not None:
            raise InPlaceError(f"in-place {name}(..., out=...) with a traced array: the tape needs "
                               "its inputs unchanged; write `y = op(...)` instead of `op(..., out=y)` "
                               "or augmented assignment into an ndarray")
        if method != "__call__":
            result = ufunc_method(ufunc, method, *inputs, **kwargs)
            if result is None:
                raise NoRuleError(f"chainrule has no derivative rule for {name}")
            return result
        fn = UFUNCS.get(ufunc)
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


def install_operators(cls, operators: dict = OPERATORS, reflected: dict = REFLECTED,
                      methods: dict = METHODS, properties: dict = PROPERTIES) -> None:
    """Give ``cls`` NumPy's operators, methods and properties from the one operator table
    (:mod:`chainrule.numpy.operators`): dunder or name -> the function it calls."""
    for dunder, fn in operators.items():
        setattr(cls, dunder, _method(fn))
    for dunder, fn in reflected.items():
        setattr(cls, dunder, _method(fn, reflected=True))
    for name, fn in methods.items():
        setattr(cls, name, _method(fn))
    for name, fn in properties.items():
        setattr(cls, name, property(fn))
    cls.__hash__ = lambda self: id(self)


_NOT_METHODS = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"}


def install() -> None:
    """Give traced arrays the NumPy surface and the one operator table."""
    for name, attr in vars(_ArraySurface).items():
        if name not in _NOT_METHODS:
            setattr(TracedArray, name, attr)
    install_operators(TracedArray)
    not_a_c_sequence(TracedArray)  # after the setattr of __getitem__ above, which refills it
