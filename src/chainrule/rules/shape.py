"""Shape and indexing primitives. All are linear: the JVP is the op itself (applied
behind the batch axes) and the VJP is its transpose.

Primitives here: reshape, broadcast_to, transpose, getitem and its transpose
scatter_add, concatenate, pad. Everything else (moveaxis, squeeze, stack, split,
take, repeat, tile, flip, roll, sort, ...) is a composite of these and needs no rule.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..core.primitive import Primitive, implements, unbox_all
from . import reductions as _reductions


def _shape(x) -> tuple:
    try:
        return x.shape
    except AttributeError:
        return ()


def _lead(g, ans) -> tuple:
    """The leading batch shape of a cotangent/tangent ``g`` for output ``ans``."""
    gs = _shape(g)
    return gs[: len(gs) - len(_shape(ans))]


# ---------------------------------------------------------------- reshape
reshape_p = Primitive("reshape", lambda x, shape: np.reshape(x, shape),
                      doc="reshape(x, shape); shape is fully resolved (no -1)")
reshape_p.defvjp(lambda g, ans, x, shape: reshape(g, _lead(g, ans) + _shape(x)))
reshape_p.defjvp(lambda t, ans, x, shape: reshape(t, _lead(t, x) + shape))


@implements(np.reshape)
def reshape(x, shape=None, order="C", *, newshape=None):
    """Reshape ``x``; ``-1`` is resolved here so the recorded op carries the real shape."""
    if order != "C":
        raise NotImplementedError("reshape with order other than 'C' is not supported")
    shape = newshape if shape is None else shape
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    old = _shape(x)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape = tuple(math.prod(old) // known if s == -1 else s for s in shape)
    if shape == old:
        return x
    return reshape_p(x, shape=shape)


def method_reshape(x, *shape, order="C"):
    """``x.reshape(2, 3)`` and ``x.reshape((2, 3))`` both work, as for ndarrays."""
    return reshape(x, shape[0] if len(shape) == 1 else shape, order=order)


@implements(np.ravel)
def ravel(x, order="C"):
    return reshape(x, (-1,), order=order)


flatten = ravel


# ---------------------------------------------------------------- broadcast_to
broadcast_to_p = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                           doc="broadcast_to(x, shape); VJP sums the broadcast axes away")


def _unbroadcast_to(g, ans, x):
    lead = _lead(g, ans)
    xs = _shape(x)
    nb = len(lead)
    extra = len(_shape(ans)) - len(xs)
    axes = tuple(range(nb, nb + extra)) + tuple(
        nb + extra + i for i, d in enumerate(xs) if d == 1 and _shape(ans)[extra + i] != 1)
    return reshape(_reductions.sum(g, axis=axes), lead + xs)


def _broadcast_tangent(t, ans, x, shape):
    lead = _lead(t, x)
    xs = _shape(x)
    t = reshape(t, lead + (1,) * (len(shape) - len(xs)) + xs)
    return broadcast_to(t, lead + tuple(shape))


broadcast_to_p.defvjp(lambda g, ans, x, shape: _unbroadcast_to(g, ans, x))
broadcast_to_p.defjvp(lambda t, ans, x, shape: _broadcast_tangent(t, ans, x, shape))


@implements(np.broadcast_to)
def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if _shape(x) == shape:
        return x
    return broadcast_to_p(x, shape=shape)


# ---------------------------------------------------------------- transpose
def _batched_axes(nb, axes):
    return tuple(range(nb)) + tuple(nb + a for a in axes)


transpose_p = Primitive("transpose", lambda x, axes: np.transpose(x, axes),
                        doc="transpose(x, axes) with a full permutation")
transpose_p.defvjp(lambda g, ans, x, axes: transpose_p(
    g, axes=_batched_axes(len(_lead(g, ans)), tuple(np.argsort(axes)))))
transpose_p.defjvp(lambda t, ans, x, axes: transpose_p(
    t, axes=_batched_axes(len(_lead(t, x)), axes)))


@implements(np.transpose)
def transpose(x, axes=None):
    n = len(_shape(x))
    axes = tuple(range(n))[::-1] if axes is None else tuple(a % n for a in axes)
    if axes == tuple(range(n)):
        return x
    return transpose_p(x, axes=axes)


def method_transpose(x, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], (int, np.integer))):
        axes = axes[0]
    return transpose(x, axes or None)


@implements(np.moveaxis)
def moveaxis(x, source, destination):
    n = len(_shape(x))
    src = [s % n for s in np.atleast_1d(source).tolist()]
    dst = [d % n for d in np.atleast_1d(destination).tolist()]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


@implements(np.swapaxes)
def swapaxes(x, axis1, axis2):
    axes = list(range(len(_shape(x))))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


@implements(np.expand_dims)
def expand_dims(x, axis):
    shape = list(_shape(x))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = len(shape) + len(axes)
    for a in sorted(a % n for a in axes):
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


@implements(np.squeeze)
def squeeze(x, axis=None):
    shape = _shape(x)
    if axis is None:
        axes = {i for i, d in enumerate(shape) if d == 1}
    else:
        axes = {a % len(shape) for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis)}
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"cannot select an axis to squeeze out which has size not equal "
                                 f"to one (axis {a} has size {shape[a]})")
    return reshape(x, tuple(d for i, d in enumerate(shape) if i not in axes))


# ---------------------------------------------------------------- indexing
def normalize_index(key, ndim: int) -> tuple:
    """A key as an explicit tuple: Ellipsis expanded, lists as arrays, traced indices as values."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        k = unbox_all(k)
        if isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray) and not (k.dtype == bool or np.issubdtype(k.dtype, np.integer)):
            raise IndexError(f"arrays used as indices must be of integer or boolean type, got {k.dtype}")
        out.append(k)
    consumed = builtins.sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else
                            0 if k is None or k is Ellipsis else 1 for k in out)
    if Ellipsis in [k for k in out if not isinstance(k, np.ndarray)]:
        i = next(i for i, k in enumerate(out) if not isinstance(k, np.ndarray) and k is Ellipsis)
        out[i:i + 1] = [slice(None)] * (ndim - consumed)
    return tuple(out)


def _has_int_array(idx) -> bool:
    return any(isinstance(k, np.ndarray) and k.dtype != bool for k in idx)


def _scatter_add_impl(g, idx, shape):
    z = np.zeros(shape, dtype=np.result_type(g, np.float64))
    if _has_int_array(idx):
        np.add.at(z, idx, g)
    else:
        z[idx] = g
    return z


def _batch_last(fn, v, nb):
    """Apply ``fn`` to ``v`` with its ``nb`` leading batch axes moved to the end and back.

    Indexing only touches leading axes, so trailing batch axes ride along unchanged
    whatever the index (advanced indices included).
    """
    if nb == 0:
        return fn(v)
    n = len(_shape(v))
    moved = transpose(v, tuple(range(nb, n)) + tuple(range(nb)))
    r = fn(moved)
    m = len(_shape(r))
    return transpose(r, tuple(range(m - nb, m)) + tuple(range(m - nb)))


getitem_p = Primitive("getitem", lambda x, idx: x[idx], doc="x[idx] (basic, fancy or boolean)")
scatter_add_p = Primitive("scatter_add", _scatter_add_impl,
                          doc="zeros(shape) with g added at idx: the transpose of x[idx]")

getitem_p.defvjp(lambda g, ans, x, idx: _batch_last(
    lambda v: scatter_add_p(v, idx=idx, shape=_shape(x) + _lead(g, ans)), g, len(_lead(g, ans))))
getitem_p.defjvp(lambda t, ans, x, idx: _batch_last(
    lambda v: getitem_p(v, idx=idx), t, len(_lead(t, x))))
scatter_add_p.defvjp(lambda g, ans, v, idx, shape: _batch_last(
    lambda w: getitem_p(w, idx=idx), g, len(_lead(g, ans))))
scatter_add_p.defjvp(lambda t, ans, v, idx, shape: _batch_last(
    lambda w: scatter_add_p(w, idx=idx, shape=shape + _lead(t, v)), t, len(_lead(t, v))))


def getitem(x, key):
    """``x[key]``; indices are constants, the indexed values are traced."""
    return getitem_p(x, idx=normalize_index(key, len(_shape(x))))


def at_add(x, key, values):
    """Functional ``x[key] += values`` (repeated indices accumulate, like ``np.add.at``)."""
    idx = normalize_index(key, len(_shape(x)))
    target = getitem_p(np.zeros(_shape(x)), idx=idx)
    values = broadcast_to(values, _shape(target))
    return x + scatter_add_p(values, idx=idx, shape=_shape(x))


def at_set(x, key, values):
    """Functional ``x[key] = values``: a new array; the old entries get no gradient."""
    idx = normalize_index(key, len(_shape(x)))
    mask = np.zeros(_shape(x), dtype=bool)
    mask[idx] = True
    target = getitem_p(np.zeros(_shape(x)), idx=idx)
    values = broadcast_to(values, _shape(target))
    return x * ~mask + scatter_add_p(values, idx=idx, shape=_shape(x))


__all__ = ["reshape", "method_reshape", "ravel", "flatten", "broadcast_to", "transpose",
           "method_transpose", "moveaxis", "swapaxes", "expand_dims", "squeeze", "getitem",
           "at_add", "at_set", "normalize_index"]
