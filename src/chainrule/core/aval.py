"""One abstract value: a shape and a dtype (Autodidax's ``ShapedArray``).

Lean tapes keep one in place of a value their rules never read, jit's staged
program types its variables with them, and every rule that needs a value's shape
or dtype without its contents reads them through :func:`aval_of`, :func:`shape_of`
and :func:`dtype_of`. Python scalars are weakly typed as NumPy treats them
(``np.result_type(2.5)`` is float64, but ``float32_array * 2.5`` stays float32).
"""

from __future__ import annotations

import math

import numpy as np


class ShapedArray:
    """A shape and a dtype, nothing else. Equal when both are equal (hashable)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

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

    def __eq__(self, other):
        return (type(other) is type(self) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.shape}, {self.dtype})"


def shape_of(x) -> tuple:
    """The shape of an array, a traced array or an abstract value; ``()`` for a Python scalar;
    a (nested) list or tuple's as ``np.array`` would give it, traced items included."""
    s = getattr(x, "shape", None)  # (a caught AttributeError would cost ten times more)
    if s is not None:
        return s
    return _sequence_shape(x) if type(x) in _SEQUENCES else ()


def dtype_of(x):
    """The dtype of a value or a traced value, read without reading its contents; a list's or
    tuple's as ``np.array`` would give it (its Python scalars strongly typed)."""
    dt = getattr(x, "dtype", None)
    if dt is not None:
        return dt
    if type(x) in _SEQUENCES:
        return np.result_type(*[dtype_of(e) if hasattr(e, "dtype") or type(e) in _SEQUENCES
                                else np.asarray(e).dtype for e in x]) if x else np.dtype(np.float64)
    return np.result_type(x)


_SEQUENCES = frozenset({list, tuple})


def _sequence_shape(x) -> tuple:
    """``np.shape`` of a list or tuple whose items may be traced: its length, then its first
    item's shape (NumPy refuses ragged nesting anyway when the array is built)."""
    return (len(x),) + (shape_of(x[0]) if len(x) else ())


def aval_of(x) -> ShapedArray:
    """The abstract value of a value or a traced value."""
    return ShapedArray(shape_of(x), dtype_of(x))


def derivative_dtype(x):
    """The dtype of a derivative with respect to ``x``: its own when inexact (float32 in,
    float32 out), float64 otherwise."""
    dt = dtype_of(x)
    return dt if dt.kind in "fc" else np.dtype(np.float64)
