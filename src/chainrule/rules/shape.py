"""Shape and indexing composites: everything here is built from the linear primitives of
:mod:`.linear` (reshape, broadcast_to, transpose, getitem / scatter_add, concatenate, astype)
and ``where``, so it needs no rule of its own:

* stack/hstack/vstack/append/roll are concatenations; split/flip/diff are slices;
* take/take_along_axis/repeat/sort/diagonal are fancy indexing (repeated indices accumulate
  in the VJP, as ``np.add.at`` does); tile is a reshape of a broadcast;
* triu/tril and ``at_set`` select with a constant mask (``where``).

The linear primitives' user-facing functions are re-exported here, where
``chainrule.numpy`` and older code import them from.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.errors import InPlaceError
from ..core.primitive import Box, strip_derivatives, unbox_all
from . import constants as _constants
from .dispatch import implements
from .elementwise import conj, conjugate, imag, real, where  # noqa: F401 (re-exported)
from .linear import (
    astype,
    broadcast_to,
    concatenate_p,
    getitem,
    getitem_p,
    normalize_axis,
    normalize_axis1,
    normalize_index,
    positive_axes,
    ravel,
    reshape,
    scatter_add,
    scatter_add_p,
    slice_axis,
    transpose,
)


def method_reshape(x, *shape, order="C"):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` both work, as for ndarrays."""
    return reshape(x, shape[0] if len(shape) == 1 else shape, order=order)


flatten = ravel


# ---------------------------------------------------------------- transposes
def method_transpose(x, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
        axes = axes[0]
    return transpose(x, axes or None)


@implements(np.moveaxis)
def moveaxis(x, source, destination):
    n = len(_shape(x))
    src = list(positive_axes(np.atleast_1d(source).tolist(), n))
    dst = list(positive_axes(np.atleast_1d(destination).tolist(), n))
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src, strict=True)):
        order.insert(d, s)
    return transpose(x, order)


@implements(np.swapaxes)
def swapaxes(x, axis1, axis2):
    axes = list(range(len(_shape(x))))
    axis1, axis2 = positive_axes((axis1,), len(axes))[0], positive_axes((axis2,), len(axes))[0]
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@implements(np.expand_dims)
def expand_dims(x, axis):
    shape = list(_shape(x))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = len(shape) + len(axes)
    for a in sorted(positive_axes(axes, n)):
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


@implements(np.squeeze)
def squeeze(x, axis=None):
    shape = _shape(x)
    if axis is None:
        axes = {i for i, d in enumerate(shape) if d == 1}
    else:
        axes = set(positive_axes((axis,) if isinstance(axis, (int, np.integer)) else axis, len(shape)))
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                                 f"to one (axis {a} has size {shape[a]})")
    return reshape(x, tuple(d for i, d in enumerate(shape) if i not in axes))


# ---------------------------------------------------------------- indexing
def _indexed_shape(shape, idx) -> tuple:
    """The shape of ``x[idx]`` for an ``x`` of ``shape`` (read off a zero-strided stand-in)."""
    return np.broadcast_to(np.empty((), bool), shape)[idx].shape


def _fit(values, target):
    """``values`` broadcast to ``target`` as NumPy's ``a[idx] = values`` does (which also drops
    leading length-1 axes that ``target`` lacks)."""
    values = asarray(values)
    vs = _shape(values)
    extra = len(vs) - len(target)
    if extra > 0 and builtins.all(d == 1 for d in vs[:extra]):
        values = reshape(values, vs[extra:])
    return broadcast_to(values, target)


def at_add(x, key, values):
    """Functional ``x[key] += values`` (repeated indices accumulate, like ``np.add.at``)."""
    xs = _shape(x)
    idx = normalize_index(key, xs)
    values = _fit(values, _indexed_shape(xs, idx))
    return x + scatter_add_p(values, idx=idx, shape=xs)


def at_set(x, key, values):
    """Functional ``x[key] = values``: NumPy's assignment, as a new array of ``x``'s dtype.

    Where ``key`` repeats a position the last write wins, as in NumPy. NumPy's own assignment
    of the values' positions, ``winner[key] = arange(n)``, says which of the (broadcast)
    values lands at each written position, and the result is
    ``where(written, values.flat[winner], x)``: the gradient reaches the winning values
    only, and none reaches the overwritten entries of ``x`` (``where``, not ``x * ~written``,
    so an overwritten inf or nan does not leak into it either).
    """
    if not isinstance(x, Box) and not _contains_box(values):
        out = np.array(x)  # nothing traced: NumPy's own assignment, on a copy
        out[normalize_index(key, out.shape)] = values
        return out
    x = asarray(x)
    xs = _shape(x)
    idx = normalize_index(key, xs)
    target = _indexed_shape(xs, idx)
    values = _fit(values, target)
    if math.prod(target) == 0:  # nothing is written
        return x
    if not builtins.any(isinstance(k, np.ndarray) and k.dtype != bool for k in idx):
        # slices, integers and masks write each position once: values scattered into place
        written = np.zeros(xs, dtype=bool)
        written[idx] = True
        r = where(written, scatter_add_p(values, idx=idx, shape=xs), x)
    else:
        winner = np.full(xs, -1, dtype=np.intp)
        winner[idx] = np.arange(math.prod(target)).reshape(target)
        written = winner >= 0
        taken = getitem_p(reshape(values, (-1,)), idx=(np.where(written, winner, 0),))
        r = where(written, taken, x)
    return r if dtype_of(r) == dtype_of(x) else astype(r, dtype_of(x))


# ---------------------------------------------------------------- building arrays
def _contains_box(obj) -> bool:
    if isinstance(obj, Box):
        return True
    if isinstance(obj, (list, tuple)):
        return builtins.any(_contains_box(o) for o in obj)
    return False


def _build(obj):
    if isinstance(obj, Box):
        return obj
    if isinstance(obj, (list, tuple)) and _contains_box(obj):
        return stack([_build(o) for o in obj], axis=0)
    return np.asarray(obj)


def array(obj, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """``np.array`` that accepts traced values anywhere in nested lists (``array([x, y])``).

    Nested sequences holding traced values are stacked (so the result stays traced);
    anything else is handed to NumPy.
    """
    if not _contains_box(obj):
        return np.array(obj, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin)
    x = _build(obj)
    if dtype is not None:
        x = astype(x, dtype)
    nd = len(_shape(x))
    if ndmin > nd:
        x = reshape(x, (1,) * (ndmin - nd) + _shape(x))
    return x


def asarray(a, dtype=None, order=None, *, copy=None, like=None):
    """``np.asarray`` that passes traced arrays through and stacks lists holding them."""
    if isinstance(a, np.ndarray) and dtype is None:
        return a
    if not _contains_box(a):
        return np.asarray(a, dtype=dtype, order=order, copy=copy)
    x = _build(a)
    return x if dtype is None else astype(x, dtype)


asanyarray = asarray


def method_astype(x, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``x.astype(float)`` keeps tracing; ``x.astype(int)`` gives a plain (constant) array."""
    return astype(x, dtype)


@implements(np.copy)
def copy(a, order="K", subok=False):
    """A traced value is never written in place, so its copy is itself."""
    return a if isinstance(a, Box) else np.copy(a, order=order, subok=subok)


def method_copy(x, order="C"):
    return x


# Methods of traced arrays that are constants (so they work before or without the
# chainrule.numpy namespace re-exporting rules.constants).
method_argmax = _constants.argmax
method_argmin = _constants.argmin
method_argsort = _constants.argsort
method_nonzero = _constants.nonzero
method_all = _constants.all
method_any = _constants.any


def _in_place(np_fn, hint):
    def reject(*args, **kwargs):
        raise InPlaceError(f"numpy.{np_fn.__name__} writes into an array in place, which a traced "
                           f"array does not allow (the tape still needs the old value); {hint}")
    implements(np_fn)(reject)


_in_place(np.put, "use chainrule.numpy.at_set(x, index, values)")
_in_place(np.put_along_axis, "use chainrule.numpy.at_set with the matching index")
_in_place(np.place, "use chainrule.numpy.where(mask, values, x)")
_in_place(np.putmask, "use chainrule.numpy.where(mask, values, x)")
_in_place(np.copyto, "build the new array with chainrule.numpy.where or concatenate")
_in_place(np.fill_diagonal, "add a diagonal built with chainrule.numpy.at_set instead")


# ---------------------------------------------------------------- concatenate and friends
@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (``axis=None``: of the flattened arrays)."""
    if out is not None:
        raise InPlaceError("concatenate(..., out=...) writes in place; not supported on traced arrays")
    xs = [asarray(a) for a in arrays]
    if not xs:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        xs, axis = [ravel(x) for x in xs], 0
    nd = len(_shape(xs[0]))
    if nd == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    for x in xs:
        if len(_shape(x)) != nd:
            raise ValueError(f"all the input arrays must have same number of dimensions, got "
                             f"shapes {[_shape(x) for x in xs]}")
    r = concatenate_p(*xs, axis=normalize_axis1(axis, nd))
    return r if dtype is None else astype(r, dtype)


@implements(np.stack)
def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join same-shaped arrays along a new axis."""
    xs = [asarray(a) for a in arrays]
    if not xs:
        raise ValueError("need at least one array to stack")
    shapes = {_shape(x) for x in xs}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {[_shape(x) for x in xs]}")
    ax = normalize_axis1(axis, len(_shape(xs[0])) + 1)
    return concatenate([expand_dims(x, ax) for x in xs], axis=ax, out=out, dtype=dtype)


@implements(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    xs = atleast_1d(*tup)
    xs = [xs] if not isinstance(xs, tuple) else list(xs)
    return concatenate(xs, axis=0 if len(_shape(xs[0])) == 1 else 1, dtype=dtype)


@implements(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    xs = atleast_2d(*tup)
    return concatenate(list(xs) if isinstance(xs, tuple) else [xs], axis=0, dtype=dtype)


@implements(np.dstack)
def dstack(tup):
    xs = atleast_3d(*tup)
    return concatenate(list(xs) if isinstance(xs, tuple) else [xs], axis=2)


@implements(np.column_stack)
def column_stack(tup):
    """Stack 1-d arrays as columns of a 2-d array (2-d arrays are joined as they are)."""
    cols = []
    for a in tup:
        a = asarray(a)
        if len(_shape(a)) < 2:
            a = reshape(a, (-1, 1))
        cols.append(a)
    return concatenate(cols, axis=1)


@implements(np.append)
def append(arr, values, axis=None):
    arr, values = asarray(arr), asarray(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


# ---------------------------------------------------------------- splitting
def _split_points(n, indices_or_sections, equal):
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0")
        if equal and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        return list(np.cumsum([0] + sizes))
    return [0] + [int(i) for i in np.asarray(unbox_all(indices_or_sections)).ravel()] + [n]


def _split(ary, indices_or_sections, axis, equal):
    x = asarray(ary)
    ax = normalize_axis1(axis, len(_shape(x)))
    pts = _split_points(_shape(x)[ax], indices_or_sections, equal)
    return [slice_axis(x, ax, a, b) for a, b in zip(pts[:-1], pts[1:], strict=True)]


@implements(np.split)
def split(ary, indices_or_sections, axis=0):
    """Split into equal sections, or at the given indices; a list of views."""
    return _split(ary, indices_or_sections, axis, equal=True)


@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """Like ``split``, but sections may differ in size by one."""
    return _split(ary, indices_or_sections, axis, equal=False)


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if len(_shape(ary)) > 1 else 0)


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    if len(_shape(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    if len(_shape(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)


# ---------------------------------------------------------------- gathers
def _index_operand(indices):
    """An index as an array: its value, or (staged by jit, batched by vmap) the traced value
    itself, which ``getitem`` turns into a gather."""
    v = strip_derivatives(indices)
    return v if isinstance(v, Box) else np.asarray(unbox_all(v))


@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """Elements of ``a`` at ``indices`` along ``axis`` (``None``: of the flattened array)."""
    if out is not None:
        raise InPlaceError("take(..., out=...) writes in place; not supported on traced arrays")
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    nd = len(_shape(x))
    ax = normalize_axis1(axis, nd) + nd
    n = _shape(x)[ax]
    idx = _index_operand(indices)
    if not (np.issubdtype(dtype_of(idx), np.integer) or math.prod(_shape(idx)) == 0):
        raise IndexError(f"take indices must be integers, got dtype {dtype_of(idx)}")
    if not isinstance(idx, Box):
        idx = idx.astype(np.intp)
    if mode == "wrap":
        idx = np.mod(idx, n)
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap', got {mode!r}")
    return getitem(x, (slice(None),) * ax + (idx,))


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """``arr`` gathered with ``indices`` along ``axis``, the other axes matched elementwise."""
    x = asarray(arr)
    idx = _index_operand(indices)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        x, axis = ravel(x), 0
    nd = len(_shape(x))
    if idx.ndim != nd:
        raise ValueError(f"`indices` and `arr` must have the same number of dimensions "
                         f"({idx.ndim} vs {nd})")
    ax = normalize_axis1(axis, nd) + nd
    key = []
    for d, n in enumerate(_shape(x)):
        if d == ax:
            key.append(idx)
        else:
            key.append(np.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1)))
    return getitem(x, tuple(key))


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (a gather; the VJP sums the copies)."""
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    ax = normalize_axis1(axis, len(_shape(x)))
    idx = np.repeat(np.arange(_shape(x)[ax]), np.asarray(unbox_all(repeats)))
    return take(x, idx, axis=ax)


@implements(np.tile)
def tile(A, reps):
    """Repeat the whole array ``reps`` times per axis: a reshaped broadcast (VJP sums the tiles)."""
    x = asarray(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    xs = _shape(x)
    d = builtins.max(len(reps), len(xs))
    xs = (1,) * (d - len(xs)) + xs
    reps = (1,) * (d - len(reps)) + reps
    x = reshape(x, tuple(v for s in xs for v in (1, s)))
    x = broadcast_to(x, tuple(v for r, s in zip(reps, xs, strict=True) for v in (r, s)))
    return reshape(x, tuple(r * s for r, s in zip(reps, xs, strict=True)))


# ---------------------------------------------------------------- reordering
@implements(np.flip)
def flip(m, axis=None):
    """Reverse the order of elements along ``axis`` (``None``: all axes); negative-step slices."""
    x = asarray(m)
    axes = normalize_axis(axis, len(_shape(x)))
    if not axes:
        return x
    tail = [slice(None)] * -axes[0]
    for a in axes:
        tail[a] = slice(None, None, -1)
    return getitem(x, (Ellipsis,) + tuple(tail))


@implements(np.fliplr)
def fliplr(m):
    if len(_shape(m)) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@implements(np.flipud)
def flipud(m):
    if len(_shape(m)) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (flips and a transpose)."""
    x = asarray(m)
    nd = len(_shape(x))
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = (normalize_axis1(a, nd) + nd for a in axes)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    return transpose(flip(x, a1), perm) if k == 1 else flip(transpose(x, perm), a1)


@implements(np.roll)
def roll(a, shift, axis=None):
    """Roll elements along ``axis``: two slices concatenated in swapped order."""
    x = asarray(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), _shape(x))
    shifts = np.atleast_1d(np.asarray(unbox_all(shift)))
    axes = np.atleast_1d(np.asarray(axis))
    shifts, axes = np.broadcast_arrays(shifts, axes)
    nd = len(_shape(x))
    total = {}
    for s, ax in zip(shifts.tolist(), axes.tolist(), strict=True):
        ax = normalize_axis1(ax, nd)
        total[ax] = total.get(ax, 0) + s
    for ax, s in total.items():
        n = _shape(x)[ax]
        s = s % n if n else 0
        if s:
            x = concatenate([slice_axis(x, ax, n - s, n), slice_axis(x, ax, 0, n - s)], axis=ax)
    return x


@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """Sorted copy: argsort of the values (a constant), then a gather along ``axis``."""
    if order is not None:
        raise NotImplementedError("sort(order=...) (structured arrays) is not supported")
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), -1
    if not isinstance(x, Box):
        return np.sort(x, axis=axis, kind=kind, stable=stable)
    idx = np.argsort(unbox_all(x), axis=axis, kind=kind, stable=stable)
    return take_along_axis(x, idx, axis)


@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """Partitioned copy: argpartition of the values (a constant), then a gather along ``axis``."""
    if order is not None:
        raise NotImplementedError("partition(order=...) (structured arrays) is not supported")
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), -1
    kth = unbox_all(kth)
    if not isinstance(x, Box):
        return np.partition(x, kth, axis=axis, kind=kind)
    idx = np.argpartition(unbox_all(x), kth, axis=axis, kind=kind)
    return take_along_axis(x, idx, axis)


def method_sort(x, axis=-1, kind=None, order=None, *, stable=None):
    raise InPlaceError("x.sort() sorts in place, which a traced array does not allow (the tape "
                       "still needs the old order); use y = np.sort(x) instead")


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th forward difference along ``axis``: x[1:] - x[:-1], repeated."""
    x = asarray(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if n == 0:
        return x
    nd = len(_shape(x))
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    ax = normalize_axis1(axis, nd)
    def edge(e):
        e = asarray(e)
        if len(_shape(e)) == 0:
            shp = list(_shape(x))
            shp[ax] = 1
            e = broadcast_to(e, tuple(shp))
        return e

    parts = ([] if prepend is None else [edge(prepend)]) + [x] + ([] if append is None else [edge(append)])
    if len(parts) > 1:
        x = concatenate(parts, axis=ax)
    for _ in range(n):
        x = slice_axis(x, ax, 1, None) - slice_axis(x, ax, None, -1)
    return x


# ---------------------------------------------------------------- diagonals and triangles
@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The ``offset`` diagonal over ``axis1``/``axis2``, appended as the last axis (a gather)."""
    x = asarray(a)
    nd = len(_shape(x))
    if nd < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    a1, a2 = normalize_axis1(axis1, nd), normalize_axis1(axis2, nd)
    if a1 == a2:
        raise ValueError("axis1 and axis2 cannot be the same")
    y = moveaxis(x, (a1, a2), (-2, -1))
    n1, n2 = _shape(y)[-2:]
    offset = operator.index(offset)  # as NumPy's: a float offset is a TypeError
    if offset >= 0:
        k = builtins.max(0, builtins.min(n1, n2 - offset))
        rows, cols = np.arange(k), np.arange(k) + offset
    else:
        k = builtins.max(0, builtins.min(n1 + offset, n2))
        rows, cols = np.arange(k) - offset, np.arange(k)
    return getitem(y, (Ellipsis, rows, cols))


def _triangle(m, k, lower):
    x = asarray(m)
    xs = _shape(x)
    if len(xs) == 0:
        raise ValueError("tril/triu need an array of at least one dimension")
    rows, cols = xs[-2:] if len(xs) >= 2 else (xs[-1], xs[-1])
    mask = np.tri(rows, cols, k=k if lower else k - 1, dtype=bool)
    return where(mask, x, 0.0) if lower else where(mask, 0.0, x)


@implements(np.tril)
def tril(m, k=0):
    """Lower triangle (entries above the ``k``-th diagonal set to zero)."""
    return _triangle(m, k, lower=True)


@implements(np.triu)
def triu(m, k=0):
    """Upper triangle (entries below the ``k``-th diagonal set to zero)."""
    return _triangle(m, k, lower=False)


# ---------------------------------------------------------------- dimensions
def _atleast(arys, fn):
    res = [fn(asarray(a)) for a in arys]
    return res[0] if len(res) == 1 else tuple(res)


@implements(np.atleast_1d)
def atleast_1d(*arys):
    return _atleast(arys, lambda x: x if len(_shape(x)) >= 1 else reshape(x, (1,)))


@implements(np.atleast_2d)
def atleast_2d(*arys):
    def two(x):
        nd = len(_shape(x))
        return x if nd >= 2 else reshape(x, (1,) * (2 - nd) + _shape(x))
    return _atleast(arys, two)


@implements(np.atleast_3d)
def atleast_3d(*arys):
    def three(x):
        s = _shape(x)
        if len(s) == 0:
            return reshape(x, (1, 1, 1))
        if len(s) == 1:
            return reshape(x, (1,) + s + (1,))
        if len(s) == 2:
            return reshape(x, s + (1,))
        return x
    return _atleast(arys, three)


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    xs = [asarray(a) for a in args]
    shape = np.broadcast_shapes(*[_shape(x) for x in xs])
    return tuple(broadcast_to(x, shape) for x in xs)


__all__ = ["reshape", "method_reshape", "ravel", "flatten", "broadcast_to", "transpose",
           "method_transpose", "moveaxis", "swapaxes", "expand_dims", "squeeze", "getitem",
           "at_add", "at_set", "scatter_add", "normalize_index",
           "array", "asarray", "asanyarray", "astype", "method_astype", "copy", "method_copy",
           "conj", "conjugate", "real", "imag", "method_argmax", "method_argmin", "method_argsort",
           "method_nonzero", "method_all", "method_any",
           "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "append",
           "split", "array_split", "hsplit", "vsplit", "dsplit",
           "take", "take_along_axis", "repeat", "tile",
           "flip", "fliplr", "flipud", "rot90", "roll", "sort", "partition", "method_sort", "diff",
           "diagonal", "tril", "triu", "atleast_1d", "atleast_2d", "atleast_3d",
           "broadcast_arrays"]
