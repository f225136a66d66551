"""Functions whose result carries no derivative: indices, shapes, counts, comparisons of whole
arrays, and arrays shaped like an input (``zeros_like``).

Only functions whose result is never made of an input's values belong here: one that returns
a subset or a rearrangement of its input (``unique``, ``sort``, ``partition``, the set
routines) is a gather with a derivative, and lives with the gathers (``.shape``, ``.sets``).

Each runs NumPy on the *values* of its arguments (traced arrays are unboxed wherever they sit:
positional, keyword, or inside lists) and returns a plain value. They are registered for
NumPy dispatch, so ``np.argmax(x)`` on a traced ``x`` works and records nothing.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of
from ..core.errors import NoRuleError
from ..core.primitive import Box, strip_derivatives, unbox_all
from .dispatch import implements
from .linear import broadcast_to


def _values(obj):
    """``obj`` with every traced array replaced by its value (through lists, tuples, dicts)."""
    if isinstance(obj, Box):
        return unbox_all(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_values(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _values(v) for k, v in obj.items()}
    return obj


def _metadata(obj):
    """``obj`` with every traced array replaced by a stand-in of its shape and dtype (no data):
    what a function of shapes and types reads, without reading a value ``jit`` is staging."""
    if isinstance(obj, Box):
        v = strip_derivatives(obj)
        return np.broadcast_to(np.empty((), v.dtype), v.shape) if isinstance(v, Box) else v
    if isinstance(obj, (list, tuple)):
        return type(obj)(_metadata(o) for o in obj)
    return obj


def stands_for(np_fn, doc: str):
    """Decorator: the function is what NumPy's ``np_fn`` does on traced arrays, named after
    it, documented by ``doc``, and registered for NumPy's dispatch (``np_fn(x)`` with a traced
    ``x`` calls it). For the wrappers a rule family builds in a loop from NumPy's functions."""
    def register(fn):
        fn.__name__ = fn.__qualname__ = np_fn.__name__
        fn.__doc__ = doc
        implements(np_fn)(fn)
        return fn
    return register


def _constant(np_fn, values=_values):
    @stands_for(np_fn, f"``numpy.{np_fn.__name__}`` of the values; a constant (no derivative "
                       "flows through it).")
    def fn(*args, **kwargs):
        return np_fn(*values(args), **values(kwargs))
    return fn


# indices and orderings
argmax = _constant(np.argmax)
argmin = _constant(np.argmin)
argsort = _constant(np.argsort)
argpartition = _constant(np.argpartition)
lexsort = _constant(np.lexsort)
argwhere = _constant(np.argwhere)
nonzero = _constant(np.nonzero)
flatnonzero = _constant(np.flatnonzero)
searchsorted = _constant(np.searchsorted)
digitize = _constant(np.digitize)

# shapes and types
shape = _constant(np.shape, _metadata)
ndim = _constant(np.ndim, _metadata)
size = _constant(np.size, _metadata)
result_type = _constant(np.result_type, _metadata)
iscomplexobj = _constant(np.iscomplexobj, _metadata)
isrealobj = _constant(np.isrealobj, _metadata)
iscomplex = _constant(np.iscomplex)
isreal = _constant(np.isreal)

# whole-array tests and counts
isclose = _constant(np.isclose)
allclose = _constant(np.allclose)
array_equal = _constant(np.array_equal)
array_equiv = _constant(np.array_equiv)
count_nonzero = _constant(np.count_nonzero)
any = _constant(np.any)  # noqa: A001 - mirrors numpy.any
all = _constant(np.all)  # noqa: A001 - mirrors numpy.all

# set membership (a mask; the set routines that return values are gathers, in .sets)
isin = _constant(np.isin)

# arrays shaped like an input
zeros_like = _constant(np.zeros_like, _metadata)
ones_like = _constant(np.ones_like, _metadata)
empty_like = _constant(np.empty_like, _metadata)


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
    """An array shaped like ``a`` filled with ``fill_value``; traced only if ``fill_value`` is."""
    like = _metadata(a)
    if not isinstance(fill_value, Box) or (dtype is not None
                                           and not np.issubdtype(np.dtype(dtype), np.floating)):
        return np.full_like(like, unbox_all(fill_value), dtype=dtype, order=order, subok=subok,
                            shape=shape, **kwargs)
    zeros = np.zeros_like(like, dtype=dtype, order=order, subok=subok, shape=shape, **kwargs)
    return broadcast_to(fill_value, zeros.shape) + zeros


def full(shape, fill_value, dtype=None, order="C", **kwargs):
    """An array of ``shape`` filled with ``fill_value`` (``dtype`` by default that of
    ``fill_value``, as NumPy's); traced only if ``fill_value`` is, as in an autograd-style rule's
    ``np.full(x.shape, g)``. NumPy's own ``np.full`` would convert a traced ``fill_value``."""
    if not isinstance(fill_value, Box) or (dtype is not None
                                           and not np.issubdtype(np.dtype(dtype), np.floating)):
        return np.full(shape, unbox_all(fill_value), dtype=dtype, order=order, **kwargs)
    zeros = np.zeros(shape, dtype=dtype if dtype is not None else dtype_of(fill_value), order=order, **kwargs)
    return broadcast_to(fill_value, zeros.shape) + zeros


@implements(np.bincount)
def bincount(x, weights=None, minlength=0):
    """Counts of each value in ``x`` (a constant); traced ``weights`` are not supported."""
    if isinstance(weights, Box):
        raise NoRuleError("bincount with traced weights has no derivative rule; use "
                          "chainrule.numpy.at_add(zeros(n), x, weights) instead")
    return np.bincount(unbox_all(x), weights=weights, minlength=minlength)


__all__ = ["argmax", "argmin", "argsort", "argpartition", "lexsort", "argwhere", "nonzero",
           "flatnonzero", "searchsorted", "digitize", "shape", "ndim", "size", "result_type",
           "iscomplexobj", "isrealobj", "iscomplex", "isreal", "isclose", "allclose",
           "array_equal", "array_equiv", "count_nonzero", "any", "all", "isin", "zeros_like",
           "ones_like", "empty_like", "full", "full_like", "bincount"]
