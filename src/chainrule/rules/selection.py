"""NumPy functions that select or repeat elements of an array by an index NumPy computes:
``compress``, ``extract``, ``delete``, ``resize``. Their values are the input's, so they
are gathers (``take``), never constants: the derivative flows to the selected elements, and
an element selected twice (``resize``) receives both contributions.

Each index is computed by NumPy itself on positions (``np.delete(np.arange(n), obj)``), so
every form of ``obj`` NumPy accepts means the same here.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.errors import InPlaceError
from ..core.primitive import unbox_all
from .dispatch import implements
from .linear import normalize_axis1, ravel, reshape
from .shape import _contains_box, asarray, take


@implements(np.compress)
def compress(condition, a, axis=None, out=None):
    """The slices of ``a`` along ``axis`` (``None``: of the flattened ``a``) where
    ``condition`` is true."""
    if out is not None:
        raise InPlaceError("compress(..., out=...) writes in place; not supported on traced arrays")
    if not _contains_box([a]):
        return np.compress(unbox_all(condition), a, axis=axis)
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    cond = np.asarray(unbox_all(condition))
    if cond.ndim != 1:
        raise ValueError("condition must be a 1-d array")
    return take(x, np.flatnonzero(cond), axis=axis)


@implements(np.extract)
def extract(condition, arr):
    """``ravel(arr)[ravel(condition) != 0]``, as NumPy defines it."""
    if not _contains_box([arr]):
        return np.extract(unbox_all(condition), arr)
    return take(ravel(asarray(arr)), np.flatnonzero(np.ravel(unbox_all(condition))))


@implements(np.delete)
def delete(arr, obj, axis=None):
    """``arr`` without the entries ``obj`` names along ``axis`` (``None``: flattened)."""
    if not _contains_box([arr]):
        return np.delete(arr, unbox_all(obj), axis=axis)
    x = asarray(arr)
    if axis is None:
        x, axis = ravel(x), 0
    ax = normalize_axis1(axis, len(_shape(x)))
    kept = np.delete(np.arange(_shape(x)[ax]), unbox_all(obj))
    return take(x, kept, axis=ax)


@implements(np.resize)
def resize(a, new_shape):
    """``a`` flattened, repeated cyclically to fill ``new_shape`` (each element's derivative
    sums over its copies)."""
    if not _contains_box([a]):
        return np.resize(a, new_shape)
    x = asarray(a)
    size = int(np.prod(_shape(x)))
    positions = np.resize(np.arange(size), new_shape)
    if not size or not positions.size:  # nothing to repeat: NumPy's zeros, a constant
        return np.zeros(positions.shape, dtype=dtype_of(x))
    return reshape(take(ravel(x), positions.ravel()), positions.shape)


__all__ = ["compress", "extract", "delete", "resize"]
