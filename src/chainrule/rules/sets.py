"""NumPy's set routines (``unique`` and its NumPy 2 forms, ``union1d``, ``intersect1d``,
``setdiff1d``, ``setxor1d``) on traced arrays.

Their values are elements picked from the inputs, so they are gathers, not constants: the
derivative of each returned value flows to the input element it was taken from, as in JAX
(``unique(x)`` is ``x.flat[first]``, ``first`` the first occurrence of each value). The
counts, indices and inverses they also return are integers, constants.

NumPy computes each result on the values, so the values, their order, the counts and the
inverses are exactly NumPy's; :func:`positions` then finds, for each returned value, the
input element it came from (its first occurrence; the k-th returned NaN is the k-th NaN of
the input), and the traced result is a gather of those elements.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import unbox_all
from .constants import stands_for
from .dispatch import implements
from .linear import getitem, ravel
from .shape import _contains_box, asarray, concatenate, take


def positions(flat, picked) -> np.ndarray:
    """Indices ``i`` with ``flat[i] == picked`` (1-d ``flat``), each value's first occurrence;
    the k-th NaN of ``picked`` is given the k-th NaN of ``flat``."""
    order = np.argsort(flat, kind="stable")
    pos = np.searchsorted(flat[order], picked, side="left")
    if flat.dtype.kind in "fc":
        nan = np.isnan(picked)
        if nan.any():  # NaNs sort last and never compare equal: count them off in order
            pos[nan] += np.arange(np.count_nonzero(nan))
    return order[pos]


def _pick(sources, picked):
    """``picked`` (NumPy's result) as a gather from the flattened, concatenated ``sources``."""
    flat = [ravel(s) for s in sources]
    flat = flat[0] if len(flat) == 1 else concatenate(flat)
    picked = np.asarray(picked)
    return getitem(flat, (positions(np.asarray(unbox_all(flat)), picked),))


def _traced(*args) -> bool:
    return _contains_box(list(args))


@implements(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True):  # noqa: A002 - NumPy's keyword
    """The distinct values of ``ar`` (with NumPy's optional indices, inverse and counts);
    each value's derivative flows to its first occurrence."""
    kw = dict(return_index=return_index, return_inverse=return_inverse,
              return_counts=return_counts, axis=axis, equal_nan=equal_nan, sorted=sorted)
    if not _traced(ar):
        return np.unique(ar, **kw)
    x = asarray(ar)
    v = np.asarray(unbox_all(x))
    res = np.unique(v, **kw)
    first = res[0] if isinstance(res, tuple) else res
    if axis is None:
        values = _pick([x], first)
    else:  # unique slices along an axis: NumPy's first indices pick them
        _, idx = np.unique(v, return_index=True, axis=axis, equal_nan=equal_nan)
        if not np.array_equal(np.take(v, idx, axis=axis), first, equal_nan=True):
            raise NotImplementedError("unique(axis=..., sorted=False) of a traced array: the "
                                      "order NumPy returns could not be matched; use sorted=True")
        values = take(x, idx, axis=axis)
    return (values,) + tuple(res[1:]) if isinstance(res, tuple) else values


@implements(np.unique_values)
def unique_values(x):
    """NumPy 2's ``unique_values`` (NaNs are distinct); values flow to their first occurrence."""
    if not _traced(x):
        return np.unique_values(x)
    x = asarray(x)
    return _pick([x], np.unique_values(np.asarray(unbox_all(x))))


def _unique_result(np_fn):
    @stands_for(np_fn, f"NumPy 2's ``{np_fn.__name__}``: the ``values`` field is traced (each "
                       "value flows to its first occurrence), the other fields are constants.")
    def fn(x):
        if not _traced(x):
            return np_fn(x)
        x = asarray(x)
        res = np_fn(np.asarray(unbox_all(x)))
        return res._replace(values=_pick([x], res.values))
    return fn


unique_counts = _unique_result(np.unique_counts)
unique_inverse = _unique_result(np.unique_inverse)
unique_all = _unique_result(np.unique_all)


@implements(np.union1d)
def union1d(ar1, ar2):
    """Sorted distinct values of both; a value in both flows to its first occurrence in ``ar1``."""
    if not _traced(ar1, ar2):
        return np.union1d(ar1, ar2)
    a, b = asarray(ar1), asarray(ar2)
    return _pick([a, b], np.union1d(unbox_all(a), unbox_all(b)))


@implements(np.intersect1d)
def intersect1d(ar1, ar2, assume_unique=False, return_indices=False):
    """Sorted values found in both; each flows to its first occurrence in ``ar1`` (the element
    ``ar1.flat[comm1]`` NumPy's ``return_indices`` names)."""
    if not _traced(ar1, ar2):
        return np.intersect1d(ar1, ar2, assume_unique=assume_unique, return_indices=return_indices)
    a, b = asarray(ar1), asarray(ar2)
    res = np.intersect1d(unbox_all(a), unbox_all(b), assume_unique=assume_unique,
                         return_indices=return_indices)
    if return_indices:
        return (take(ravel(a), res[1]),) + tuple(res[1:])
    return _pick([a, b], res)


@implements(np.setdiff1d)
def setdiff1d(ar1, ar2, assume_unique=False):
    """Values of ``ar1`` not in ``ar2``; they flow to ``ar1`` (``ar2`` only chooses which)."""
    if not _traced(ar1, ar2):
        return np.setdiff1d(ar1, ar2, assume_unique=assume_unique)
    a = asarray(ar1)
    va, vb = np.asarray(unbox_all(a)), unbox_all(ar2)
    if assume_unique:  # NumPy keeps ar1's order and any repeats: a mask of ar1
        return getitem(ravel(a), (np.isin(va.ravel(), vb, assume_unique=True, invert=True),))
    return _pick([a], np.setdiff1d(va, vb))


@implements(np.setxor1d)
def setxor1d(ar1, ar2, assume_unique=False):
    """Sorted values in exactly one of the two; each flows to where it occurs."""
    if not _traced(ar1, ar2):
        return np.setxor1d(ar1, ar2, assume_unique=assume_unique)
    a, b = asarray(ar1), asarray(ar2)
    return _pick([a, b], np.setxor1d(unbox_all(a), unbox_all(b), assume_unique=assume_unique))


__all__ = ["unique", "unique_values", "unique_counts", "unique_inverse", "unique_all",
           "union1d", "intersect1d", "setdiff1d", "setxor1d"]
