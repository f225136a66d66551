"""The linear primitives, which are each other's transposes, and the helpers rules are written with.

This is the bottom layer of ``rules/``: it imports only the core, and every other rule module
imports from it. The primitives here are linear, so each one's JVP is the op itself (applied
behind the batch axes) and its VJP is another primitive of this module:

==================  ==============================================================
primitive           VJP (its transpose)
==================  ==============================================================
reshape             reshape back
broadcast_to        sum over the broadcast axes (``unbroadcast``)
sum                 broadcast back (``expand_to_input``)
transpose           transpose by the inverse permutation
getitem             scatter_add into zeros (repeats accumulate)
scatter_add         getitem
gather              gather_scatter_add (getitem / scatter_add with a traced index)
gather_scatter_add  gather
concatenate         getitem (one slice per argument)
astype              astype back to the argument's dtype
==================  ==============================================================

Batch polymorphism: a cotangent ``g`` reaching a rule has shape ``batch + ans.shape`` and a
tangent ``t`` of argument ``x`` has shape ``batch + x.shape``, where ``batch`` is zero or more
leading axes (a Jacobian's identity rows). Rules never look at ``batch`` directly; they use
:func:`lead`, :func:`unbroadcast`, :func:`lift`, :func:`fill` and negative axes.
"""

from __future__ import annotations

import builtins
import math
import operator

import numpy as np

from ..core import tape as _tape
from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.errors import NoRuleError
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from .dispatch import implements


# ---------------------------------------------------------------- batch and axis helpers
def ndim(x) -> int:
    return len(_shape(x))


def lead(g, ans) -> tuple:
    """The leading batch shape of a cotangent/tangent ``g`` for output (argument) ``ans``."""
    gs = _shape(g)
    return gs[: len(gs) - len(_shape(ans))]


def _is_int(a) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def normalize_axis(axis, ndim: int) -> tuple:
    """``None``/int/tuple -> sorted tuple of negative axes.

    Raises ``AxisError`` for an axis out of range, ``ValueError`` for a repeated axis and
    ``TypeError`` for a non-integer axis. A 0-d array accepts ``axis=0``/``-1`` (as NumPy
    does) and reduces nothing.
    """
    if axis is None:
        return tuple(range(-ndim, 0))
    if _is_int(axis) and ndim == 0 and axis in (0, -1):
        return ()
    if _is_int(axis):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"axis must be an integer or a tuple of integers, got {axis!r}")
    out = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(f"axis must be an integer or a tuple of integers, got {a!r}")
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim)
        out.append(int(a) - ndim if a >= 0 else int(a))
    if len(set(out)) != len(out):
        raise ValueError(f"duplicate value in 'axis': {axis!r}")
    return tuple(sorted(out))


def normalize_axis1(axis, ndim: int) -> int:
    """One integer axis -> a negative int (``AxisError`` when out of range)."""
    if not _is_int(axis):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(int(axis), ndim)
    return int(axis) - ndim if axis >= 0 else int(axis)


def positive_axes(axes, n) -> tuple:
    """Axes in ``[0, n)``; ``AxisError`` out of range, ``ValueError`` when repeated."""
    out = tuple(normalize_axis1(a, n) + n for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {tuple(axes)}")
    return out


def keepdims_shape(x_shape: tuple, axes: tuple) -> tuple:
    n = len(x_shape)
    return tuple(1 if i - n in axes else d for i, d in enumerate(x_shape))


def axis_key(axis: int, k) -> tuple:
    """An index applying ``k`` to negative ``axis`` and leaving every other axis whole.

    Written from the end (``Ellipsis`` first) so leading batch axes pass through.
    """
    return (Ellipsis, k) + (slice(None),) * (-axis - 1)


def _batched_axes(nb, axes):
    return tuple(range(nb)) + tuple(nb + a for a in axes)


# ---------------------------------------------------------------- broadcasting bookkeeping
def unbroadcast(g, x, ans):
    """Sum ``g`` (shape ``batch + ans.shape``) down to ``batch + x.shape``: the VJP of broadcasting."""
    gs = getattr(g, "shape", ())  # (shape_of, inlined: this runs in most backward steps)
    xs = getattr(x, "shape", ())
    if gs == xs:
        return g
    nb = len(gs) - len(_shape(ans))
    target = gs[:nb] + xs
    if gs == target:
        return g
    extra = len(gs) - len(target)
    n = len(gs)
    axes = tuple(range(nb - n, nb + extra - n)) + tuple(
        nb + extra + i - n for i, d in enumerate(xs) if d == 1 and gs[nb + extra + i] != 1)
    return reshape(sum_p(g, axis=axes, keepdims=False), target)


def lift(t, x, ans):
    """Reshape a tangent ``batch + x.shape`` to ``batch + (1,...) + x.shape`` so it broadcasts like ``x``."""
    ts = getattr(t, "shape", ())
    xn = len(getattr(x, "shape", ()))
    an = len(getattr(ans, "shape", ()))
    if len(ts) == xn or xn == an:
        return t
    nb = len(ts) - xn
    return reshape(t, ts[:nb] + (1,) * (an - xn) + ts[nb:])


def fill(c, t, x, ans):
    """Broadcast a tangent contribution to the full ``batch + ans.shape``."""
    ts = getattr(t, "shape", ())
    want = ts[: len(ts) - len(getattr(x, "shape", ()))] + getattr(ans, "shape", ())
    return c if getattr(c, "shape", ()) == want else broadcast_to(c, want)


def expand_to_input(g, ans, x, axes, keepdims):
    """Broadcast a reduced cotangent (``batch + ans.shape``) back to ``batch + x.shape``."""
    gs = _shape(g)
    lead_ = gs[: len(gs) - len(_shape(ans))]
    xs = _shape(x)
    n = len(xs)
    # the reduced axes need a 1 put back, unless they lead (a full sum): then broadcasting
    # already lines up the rest, and the reshape is skipped
    if not keepdims and (lead_ or axes != tuple(range(-n, len(axes) - n))):
        g = reshape(g, lead_ + keepdims_shape(xs, axes))
    return broadcast_to(g, lead_ + xs)


# ---------------------------------------------------------------- reshape
reshape_p = Primitive("reshape", lambda x, shape: np.reshape(x, shape),
                      doc="reshape(x, shape); shape is fully resolved (no -1)", saves=())
reshape_p.defvjp(lambda g, ans, x, shape: reshape(g, lead(g, ans) + _shape(x)))
reshape_p.defjvp(lambda t, ans, x, shape: reshape(t, lead(t, x) + shape))


@implements(np.reshape)
def reshape(x, shape=None, order="C", *, newshape=None):
    """Reshape ``x``; ``-1`` is resolved here so the recorded op carries the real shape."""
    if order != "C":
        raise NotImplementedError("reshape with order other than 'C' is not supported")
    shape = newshape if shape is None else shape
    # NumPy's index protocol: integers (and NumPy's) pass, a float size is a TypeError
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(operator.index(s) for s in shape)
    old = _shape(x)
    if shape == old:  # the common no-op (a rule reshaping to the shape it already has)
        return x
    size = math.prod(old)
    if shape.count(-1) > 1 or builtins.any(s < -1 for s in shape):
        raise ValueError(f"invalid shape {shape} for reshape: at most one -1 and no other "
                         "negative sizes")
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} (shape {old}) into shape {shape}")
    return reshape_p(x, shape=shape)


@implements(np.ravel)
def ravel(x, order="C"):
    return reshape(x, (-1,), order=order)


# ---------------------------------------------------------------- broadcast_to
def _broadcast_impl(x, shape):
    """``np.broadcast_to``; a 0-d float (the cotangent of a full sum) as a read-only view made
    directly, without NumPy's Python-level shape analysis (a few microseconds per call)."""
    if isinstance(x, np.floating):  # a NumPy float scalar (0-d arithmetic returns these)
        x = np.asarray(x)
    if type(x) is np.ndarray and x.ndim == 0 and x.dtype.kind == "f":
        v = np.ndarray(shape, x.dtype, x, 0, (0,) * len(shape))
        v.flags.writeable = False
        return v
    return np.broadcast_to(x, shape)


broadcast_to_p = Primitive("broadcast_to", _broadcast_impl,
                           doc="broadcast_to(x, shape); VJP sums the broadcast axes away", saves=())


def _broadcast_tangent(t, ans, x, shape):
    lead_ = lead(t, x)
    xs = _shape(x)
    t = reshape(t, lead_ + (1,) * (len(shape) - len(xs)) + xs)
    return broadcast_to(t, lead_ + tuple(shape))


broadcast_to_p.defvjp(lambda g, ans, x, shape: unbroadcast(g, x, ans))
broadcast_to_p.defjvp(_broadcast_tangent)


@implements(np.broadcast_to)
def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if _shape(x) == shape:
        return x
    return broadcast_to_p(x, shape=shape)


# ---------------------------------------------------------------- sum
_ROW_SUM_MAX = 128  # the last axis: rows up to this long
_TAIL_SUM_MAX = 16  # another axis: at most this many elements after it


def _sum_impl(x, axis, keepdims):
    """``np.sum``, with one axis of a C-contiguous float array summed by BLAS instead.

    NumPy's add.reduce pays a fixed cost per inner loop, which is short when the summed axis
    is the last one and short (rows of 10: 25,000 of them take about 500 us against 60 us
    for ``rows @ ones``), or is followed by few elements (a (25, 1000, 10) array summed over
    its middle axis: 560 us against 80 us for ``ones @ x``). Such sums are the norms,
    Mahalanobis terms and broadcast cotangents of batched models. Longer rows and wider tails
    stay with add.reduce, which is faster there.
    """
    if (len(axis) == 1 and type(x) is np.ndarray and x.size >= 1024 and x.dtype.char in "fd"
            and x.flags.c_contiguous):
        shape = x.shape
        a = axis[0] + len(shape)
        n = shape[a]
        tail = math.prod(shape[a + 1:])
        r = None
        if tail == 1 and 1 < n <= _ROW_SUM_MAX:
            r = x.reshape(-1, n) @ np.ones(n, dtype=x.dtype)
        elif 1 < tail <= _TAIL_SUM_MAX and n > 1:
            r = np.ones(n, dtype=x.dtype) @ x.reshape(-1, n, tail)
        if r is not None:
            out = shape[:a] + ((1,) if keepdims else ()) + shape[a + 1:]
            return r.reshape(out)
    return _add_reduce(x, axis=axis, keepdims=keepdims)  # np.sum without its Python wrapper


_add_reduce = np.add.reduce

sum_p = Primitive("sum", _sum_impl, doc="sum over axes (negative); linear", saves=())
sum_p.defvjp(lambda g, ans, x, axis, keepdims: expand_to_input(g, ans, x, axis, keepdims))
sum_p.defjvp(lambda t, ans, x, axis, keepdims: sum_p(t, axis=axis, keepdims=keepdims))


# ---------------------------------------------------------------- transpose
transpose_p = Primitive("transpose", lambda x, axes: np.transpose(x, axes),
                        doc="transpose(x, axes) with a full permutation", saves=())
transpose_p.defvjp(lambda g, ans, x, axes: transpose_p(
    g, axes=_batched_axes(len(lead(g, ans)), tuple(np.argsort(axes)))))
transpose_p.defjvp(lambda t, ans, x, axes: transpose_p(
    t, axes=_batched_axes(len(lead(t, x)), axes)))


@implements(np.transpose)
def transpose(x, axes=None):
    n = len(_shape(x))
    axes = tuple(range(n))[::-1] if axes is None else positive_axes(axes, n)
    if len(axes) != n:
        raise ValueError(f"axes {axes} don't match array of {n} dimensions")
    if axes == tuple(range(n)):
        return x
    return transpose_p(x, axes=axes)


# ---------------------------------------------------------------- indexing
def _index_part(k):
    """One entry of an index as NumPy reads it, with its traced values replaced by values."""
    k = unbox_all(k)
    if isinstance(k, (list, tuple)):  # a sequence inside the key is an index array
        k = np.asarray(k)
        if k.size == 0 and k.dtype.kind == "f":  # ``x[[]]`` selects nothing (an intp index)
            k = k.astype(np.intp)
    elif isinstance(k, (bool, np.bool_)):
        # a boolean scalar is a 0-d boolean array: a new axis of length 1 (True) or 0 (False)
        k = np.asarray(k)
    if isinstance(k, np.ndarray) and not (k.dtype == bool or np.issubdtype(k.dtype, np.integer)):
        raise IndexError(f"arrays used as indices must be of integer or boolean type, got {k.dtype}")
    return k


def normalize_index(key, shape) -> tuple:
    """A key for an array of ``shape`` as an explicit tuple NumPy reads as it reads ``key``,
    without ``Ellipsis``.

    Lists, nested tuples and boolean scalars become arrays and traced indices their values.
    The ``Ellipsis`` is spelled out as the full slices it stands for: a boolean array
    consumes as many axes as it has, ``None`` and boolean scalars none, anything else one.
    Without an ``Ellipsis`` the key addresses leading axes only, so the batch axes that the
    rules move behind the indexed ones pass through it.
    """
    shape = tuple(shape)
    ndim = len(shape)
    out = [_index_part(k) for k in (key if isinstance(key, tuple) else (key,))]
    ellipses = [i for i, k in enumerate(out) if k is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = builtins.sum(k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else
                            0 if k is None or k is Ellipsis else 1 for k in out)
    if consumed > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but "
                         f"{consumed} were indexed")
    if not ellipses:
        return tuple(out)
    i = ellipses[0]
    norm = tuple(out[:i]) + (slice(None),) * (ndim - consumed) + tuple(out[i + 1:])
    if (consumed == ndim and _indexes(out[:i]) and _indexes(out[i + 1:])
            and builtins.any(isinstance(k, np.ndarray) for k in out)):  # advanced indices
        return _keep_apart(tuple(out), norm, shape)
    return norm


def _indexes(entries) -> bool:
    return builtins.any(not isinstance(k, slice) and k is not None for k in entries)


def _keep_apart(key, norm, shape):
    """``norm`` (``key`` without an ``Ellipsis`` that stands for no axis), or an equivalent
    of ``key`` where dropping the ``Ellipsis`` changes how NumPy reads it.

    NumPy puts the axes of advanced indices first when the indices are not adjacent in the
    key, and an ``Ellipsis`` keeps them apart even when it stands for no axis: on a 2-d
    ``x``, ``x[None, [0, 0], ..., 0]`` has shape (2, 1) but ``x[None, [0, 0], 0]`` (1, 2).
    NumPy itself then says which element each output takes (an index of flat positions),
    and that is spelled as adjacent integer arrays, one per axis.
    """
    positions = np.arange(math.prod(shape)).reshape(shape)
    want = positions[key]
    got = positions[norm]
    if want.shape == got.shape and np.array_equal(want, got):
        return norm
    if shape:
        return np.unravel_index(want, shape)
    # a 0-d array: only None and boolean scalars, whose one advanced axis NumPy puts first
    flags = [k for k in norm if k is not None]
    return tuple(flags) + (None,) * (len(norm) - len(flags))


def _has_int_array(idx) -> bool:
    for k in idx:  # (a loop: any() over a generator costs more than the short keys it reads)
        if type(k) is np.ndarray and k.dtype.kind != "b":
            return True
    return False


def _scatter_add_impl(g, idx, shape):
    dt = np.asarray(g).dtype
    if dt.kind not in "fc" or dt.itemsize < 4:  # (result_type costs 1 us; it is needed only here)
        dt = np.result_type(dt, np.float32)
    z = np.zeros(shape, dtype=dt)
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


getitem_p = Primitive("getitem", lambda x, idx: x[idx], doc="x[idx] (basic, fancy or boolean)", saves=())
scatter_add_p = Primitive("scatter_add", _scatter_add_impl,
                          doc="zeros(shape) with g added at idx: the transpose of x[idx]", saves=())



# ---------------------------------------------------------------- sparse cotangents of picks
# Sparse cotangents: the transposes of many small picks of one array, added up lazily.
#
# The VJP of ``y = x[idx]`` is ``zeros(x.shape)`` with ``g`` added at ``idx``. A program that
# reads ``x`` through k small picks (``np.stack([x[i] for i in range(n)])``, an LSTM slicing
# its gates) then makes k full-size arrays in the backward pass and adds them up one by one:
# O(n k) time and memory traffic for O(n + k) useful work. :class:`SparseCotangent` keeps such
# a cotangent as its list of ``(idx, g)`` pairs instead:
#
#     S(x.shape; (idx_1, g_1), ..., (idx_k, g_k))  =  sum_j scatter_add(g_j, idx_j, x.shape)
#
# ``S + S'`` of the same array appends the pairs (amortised O(|S'|): an append to the shared
# list when ``S`` is the latest sum made from it), and :meth:`~SparseCotangent.dense`
# materialises the sum once: one ``zeros(x.shape)`` and k in-place adds, O(n + sum_j |g_j|).
#
# The tape's backward sweep (``core.tape.pull``) adds contributions with ``+`` and densifies a
# lazy cotangent (``core.tape.LazyCotangent``, which this class extends) before any rule,
# observer or caller sees it, so nothing but ``+`` ever meets one. Only plain-array cotangents
# are kept sparse: a traced cotangent (``create_graph``, ``grad(grad(f))``) must be recorded op
# by op, so the getitem VJP keeps the dense, differentiable ``scatter_add`` for those. Until the
# core densifies lazy cotangents (``LazyCotangent`` exists there), :data:`SPARSE_ENABLED` is False and
# the VJP stays dense.
#
# Batch polymorphism: a cotangent with leading batch axes ``b`` is kept with those axes moved
# last (indices address leading axes, so trailing batch axes ride along whatever the index), and
# :meth:`dense` moves them back to the front, as the dense rule does.

_LazyCotangent = getattr(_tape, "LazyCotangent", None)
#: Whether the getitem VJP may return sparse cotangents: the tape must densify them.
SPARSE_ENABLED = _LazyCotangent is not None


#: Picks of at most 1/SPARSE_PICK_FRACTION of an array of at least SPARSE_MIN_SIZE elements
#: are kept sparse.
#: A dense transpose costs one zeros(n) and one n-element add per pick, O(n); a sparse one a
#: few microseconds of Python. Below these sizes (an LSTM's gate slices: 7 of 28) dense is
#: cheaper; above them the dense cost grows with n and the sparse one does not.
SPARSE_MIN_SIZE = 256
SPARSE_PICK_FRACTION = 8


def sparse_worth_it(pick_size: int, array_size: int) -> bool:
    """Whether the transpose of a pick of ``pick_size`` elements (batch included) from an
    array of ``array_size`` elements is kept sparse."""
    return array_size >= SPARSE_MIN_SIZE and SPARSE_PICK_FRACTION * pick_size <= array_size


class SparseCotangent(_LazyCotangent or object):
    """``sum_j scatter_add(g_j, idx_j, shape)``, kept as the pairs until :meth:`dense`.

    ``shape`` is the dense value's shape (batch axes first), ``dtype`` its dtype (NumPy's
    scatter_add dtype: the cotangents' promoted with float32). The pairs live in a list
    shared by the sums made from one another; ``_n`` is how many of them this sum holds.
    """

    __slots__ = ("shape", "dtype", "_base", "_nb", "_terms", "_n", "_dense")
    __array_priority__ = 1000  # ndarray + sparse defers to __radd__ (NumPy's binop rule)

    def __init__(self, base_shape: tuple, nb: int, dtype, terms: list, n: int):
        self._base = base_shape
        self._nb = nb
        self._terms = terms
        self._n = n
        self.dtype = dtype
        batch = terms[0][1].shape[-nb:] if nb else ()
        self.shape = tuple(batch) + tuple(base_shape)
        self._dense = None

    @classmethod
    def pick(cls, g: np.ndarray, idx: tuple, base_shape: tuple, nb: int):
        """The transpose of ``x[idx]`` applied to ``g`` (``nb`` leading batch axes)."""
        v = g if nb == 0 else np.moveaxis(g, tuple(range(nb)), tuple(range(g.ndim - nb, g.ndim)))
        return cls(tuple(base_shape), nb, np.result_type(g.dtype, np.float32), [(idx, v)], 1)

    def _same_array(self, other) -> bool:
        return (type(other) is SparseCotangent and other._base == self._base
                and other._nb == self._nb and other.shape == self.shape)

    def __add__(self, other):
        if not self._same_array(other):
            return self.dense() + other
        if len(self._terms) == self._n:  # the latest sum of this list: append in place
            terms = self._terms
        else:  # an older sum is added to again: it gets its own list
            terms = self._terms[:self._n]
        terms.extend(other._terms[:other._n])
        return SparseCotangent(self._base, self._nb, np.result_type(self.dtype, other.dtype),
                               terms, len(terms))

    def __radd__(self, other):
        return other + self.dense()

    def dense(self) -> np.ndarray:
        """The sum as one array: ``zeros(shape)`` with every ``g_j`` added at ``idx_j``."""
        if self._dense is None:
            nb = self._nb
            batch = self.shape[:nb]
            z = np.zeros(self._base + batch, dtype=self.dtype)
            for idx, v in self._terms[:self._n]:
                if _has_int_array(idx):  # repeated positions accumulate
                    np.add.at(z, idx, v)
                else:
                    z[idx] += v
            if nb:
                n = z.ndim
                z = np.transpose(z, tuple(range(n - nb, n)) + tuple(range(n - nb)))
            self._dense = z
        return self._dense

    # Nothing but ``+`` should ever meet a sparse cotangent (the tape densifies it first);
    # should anything else, it reads as its dense value.
    def __array__(self, dtype=None, copy=None):
        d = self.dense()
        return d.astype(dtype) if dtype is not None and d.dtype != dtype else d

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dense(), name)

    def __repr__(self) -> str:
        return f"SparseCotangent({self._n} picks, shape={self.shape}, dtype={self.dtype})"


def _dense_op(name):
    def op(self, *args):
        return getattr(self.dense(), name)(*args)
    op.__name__ = name
    return op


for _name in ("__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__matmul__", "__rmatmul__", "__pow__", "__neg__", "__getitem__", "__len__",
              "__iter__", "__float__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(SparseCotangent, _name, _dense_op(_name))
SparseCotangent.__hash__ = None


def _getitem_vjp(g, ans, x, idx):
    """``scatter_add(g, idx, x.shape)``; for a plain-array ``g``, kept sparse until the tape
    adds up every pick of ``x`` (O(n + k) for k picks, not O(n k); see SparseCotangent)."""
    batch = lead(g, ans)
    nb = len(batch)
    if SPARSE_ENABLED and not isinstance(g, Box):  # a plain array or number
        g = np.asarray(g)
        if sparse_worth_it(g.size, math.prod(_shape(x)) * math.prod(batch)):
            return SparseCotangent.pick(g, idx, _shape(x), nb)
    return _batch_last(lambda v: scatter_add_p(v, idx=idx, shape=_shape(x) + lead(g, ans)), g, nb)


getitem_p.defvjp(_getitem_vjp)
getitem_p.defjvp(lambda t, ans, x, idx: _batch_last(
    lambda v: getitem_p(v, idx=idx), t, len(lead(t, x))))
scatter_add_p.defvjp(lambda g, ans, v, idx, shape: _batch_last(
    lambda w: getitem_p(w, idx=idx), g, len(lead(g, ans))))
scatter_add_p.defjvp(lambda t, ans, v, idx, shape: _batch_last(
    lambda w: scatter_add_p(w, idx=idx, shape=shape + lead(t, v)), t, len(lead(t, v))))


def getitem(x, key):
    """``x[key]``; the indexed values are traced. A constant index is a parameter of
    ``getitem``; an integer index that is itself a staged or batched value (``jit``, ``vmap``:
    its contents are not one constant) is an operand of :data:`gather_p` instead."""
    tk = type(key)
    if tk is int or tk is slice:  # already normal: nothing to convert, nothing traced
        return getitem_p(x, idx=(key,))
    parts = key if tk is tuple else (key,)
    for k in parts:
        if isinstance(k, Box) and _traced_integers(k):
            return _gather_traced(x, parts)
    # (a traced mask is read here: the shape of its result depends on its value)
    return getitem_p(x, idx=normalize_index(key, _shape(x)))


# ---------------------------------------------------------------- gathers with a traced index
# ``x[i]`` where ``i`` is an integer array whose value is not one constant: a value staged by
# ``jit`` or batched by ``vmap`` (an embedding lookup or a label pick, ``logp[y]``, per
# example). The index cannot be a parameter, so it is an operand: ``gather(x, *arrays, key)``
# where ``key`` is the normalized index with an ``Ellipsis`` in place of each traced array
# (a normalized index never holds one). The pair is linear in ``x`` (``g``), as getitem and
# scatter_add are, and never differentiated in the index:
#
#     gather(x, i; key)             = x[key(i)]
#     gather_scatter_add(g, i; key) = zeros(shape) with g added at key(i)     (its transpose)
#
# ``vmap``'s batching rules turn both into the constant-index getitem / scatter_add over the
# batch axis (``x[arange(B)[:, None], i]``) as soon as the index is a plain array again, so a
# vmapped gather reuses their kernels, their VJPs and the sparse cotangents above.

def fill_key(key: tuple, arrays) -> tuple:
    """``key`` with its ``Ellipsis`` slots filled by ``arrays``, in order."""
    it = iter(arrays)
    return tuple(next(it) if k is Ellipsis else k for k in key)


def split_key(key: tuple):
    """A normalized index as (template, operands): each traced entry becomes an ``Ellipsis``."""
    ops = [k for k in key if isinstance(k, Box)]
    if not ops:
        return key, ops
    return tuple(Ellipsis if isinstance(k, Box) else k for k in key), ops


def index(x, key: tuple):
    """``x[key]`` for a normalized ``key`` whose entries may be traced integer arrays."""
    template, ops = split_key(key)
    return gather_p(x, *ops, key=template) if ops else getitem_p(x, idx=key)


def scatter_index(g, key: tuple, shape: tuple):
    """``zeros(shape)`` with ``g`` added at normalized ``key`` (traced integer arrays allowed)."""
    template, ops = split_key(key)
    if ops:
        return gather_scatter_add_p(g, *ops, key=template, shape=shape)
    return scatter_add_p(g, idx=key, shape=shape)


def _traced_integers(k) -> bool:
    """Whether index entry ``k`` is an array whose value is not one constant and not a mask
    (an integer index, or a bad one that :func:`_gather_traced` names)."""
    v = strip_derivatives(k)
    return isinstance(v, Box) and dtype_of(v).kind != "b"


def _gather_traced(x, parts):
    """``x[parts]`` where some entries are staged or batched values: normalized as NumPy reads
    the key (placeholders of the traced entries' shapes stand in for them), then a gather."""
    held, probe = {}, []
    for k in parts:
        if _traced_integers(k):
            v = strip_derivatives(k)
            if dtype_of(v).kind not in "iu":
                raise IndexError(f"arrays used as indices must be of integer or boolean type, "
                                 f"got {dtype_of(v)}")
            stand_in = np.zeros(_shape(v), dtype=np.intp)
            held[id(stand_in)] = v
            probe.append(stand_in)
        else:
            probe.append(k)
    norm = normalize_index(tuple(probe), _shape(x))
    found = [id(k) for k in norm if isinstance(k, np.ndarray) and id(k) in held]
    if len(found) != len(held):  # _keep_apart spelled the key as flat positions
        raise IndexError("an index with a traced integer array, an Ellipsis that stands for no "
                         "axis and indices on both sides of it is not supported; drop the "
                         "Ellipsis")
    key = []
    for k in norm:
        if isinstance(k, np.ndarray) and id(k) in held:
            key.append(held[id(k)])
        elif isinstance(k, np.ndarray) and k.dtype == bool:
            if k.ndim == 0:
                raise IndexError("a boolean scalar index beside a traced integer index is not "
                                 "supported; use None for a new axis")
            key.extend(np.nonzero(k))  # what NumPy does with a mask among advanced indices
        else:
            key.append(k)
    return index(x, tuple(key))


def _gather_impl(x, *arrays, key):
    return x[fill_key(key, arrays)]


def _scatter_impl(g, *arrays, key, shape):
    return _scatter_add_impl(g, fill_key(key, arrays), shape)


gather_p = Primitive("gather", _gather_impl,
                     doc="x[key] where the key's Ellipsis slots are the (traced) integer arrays "
                         "given after x; linear in x, not differentiable in the index")
gather_scatter_add_p = Primitive(
    "gather_scatter_add", _scatter_impl,
    doc="zeros(shape) with g added at key (its Ellipsis slots: the integer arrays given after "
        "g): the transpose of gather")


def _not_the_index(name):
    def rule(argnum, gt, ans, x, *arrays, **params):
        raise NoRuleError(f"{name}: argument {argnum} is an integer index, which has no "
                          "derivative")
    return rule


def _gather_rule(kind):
    """gather's VJP (kind 'vjp') and JVP: the other primitive of the pair, or itself, applied
    with the batch axes of the cotangent / tangent moved behind the indexed ones."""
    def rule(argnum, gt, ans, x, *arrays, key):
        if argnum:
            return _not_the_index("gather")(argnum, gt, ans, x, *arrays, key=key)
        full = fill_key(key, arrays)
        if kind == "vjp":
            batch = lead(gt, ans)
            return _batch_last(lambda v: scatter_index(v, full, _shape(x) + batch), gt, len(batch))
        return _batch_last(lambda v: index(v, full), gt, len(lead(gt, x)))
    return rule


def _scatter_rule(kind):
    def rule(argnum, gt, ans, g, *arrays, key, shape):
        if argnum:
            return _not_the_index("gather_scatter_add")(argnum, gt, ans, g, *arrays, key=key)
        full = fill_key(key, arrays)
        if kind == "vjp":
            return _batch_last(lambda w: index(w, full), gt, len(lead(gt, ans)))
        batch = lead(gt, g)
        return _batch_last(lambda w: scatter_index(w, full, tuple(shape) + batch), gt, len(batch))
    return rule


gather_p.defvjp_argnum(_gather_rule("vjp"))
gather_p.defjvp_argnum(_gather_rule("jvp"))
gather_scatter_add_p.defvjp_argnum(_scatter_rule("vjp"))
gather_scatter_add_p.defjvp_argnum(_scatter_rule("jvp"))


def scatter_add(values, key, shape):
    """``zeros(shape)`` with ``values`` added at ``key`` (repeated indices accumulate)."""
    shape = tuple(shape)
    return scatter_add_p(values, idx=normalize_index(key, shape), shape=shape)


def slice_axis(x, axis: int, start=None, stop=None, step=None):
    """``x[..., start:stop:step, :, ...]`` along negative ``axis``."""
    # the key written out normalized (all slices, no Ellipsis): concatenate's VJP runs this
    # once per argument, and normalize_index would only rebuild it
    whole = (slice(None),)
    return getitem_p(x, idx=whole * (len(_shape(x)) + axis) + (slice(start, stop, step),)
                     + whole * (-axis - 1))


# ---------------------------------------------------------------- concatenate
# (the record's output, the start of each argument along the axis): the rules below are
# called once per argument with the same ``ans``, so the prefix sums are computed once per
# record; summing them per call made the backward pass of concatenating n arrays O(n^2).
# ``ans`` is kept, so no other object can take its id while it is remembered.
_starts: list = [(None, ())]


def _concat_start(argnum, ans, xs, axis) -> int:
    entry = _starts[0]
    if entry[0] is not ans or len(entry[1]) != len(xs) + 1:
        starts = [0]
        for x in xs:
            starts.append(starts[-1] + _shape(x)[axis])
        entry = _starts[0] = (ans, starts)  # one assignment: safe for concurrent passes
    return entry[1][argnum]


def _concat_vjp(argnum, g, ans, *xs, axis):
    start = _concat_start(argnum, ans, xs, axis)
    return slice_axis(g, axis, start, start + _shape(xs[argnum])[axis])


def _concat_jvp(argnum, t, ans, *xs, axis):
    # t placed into zeros shaped like the output: one allocation, however many arguments
    lead_ = lead(t, xs[argnum])
    start = _concat_start(argnum, ans, xs, axis)
    key = axis_key(axis, slice(start, start + _shape(xs[argnum])[axis]))
    return scatter_add_p(t, idx=normalize_index(key, _shape(t)), shape=lead_ + _shape(ans))


concatenate_p = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis),
                          doc="concatenate(*xs, axis) along one negative axis; VJP slices g apart", saves=())
concatenate_p.defvjp_argnum(_concat_vjp)
concatenate_p.defjvp_argnum(_concat_jvp)


# ---------------------------------------------------------------- astype
astype_p = Primitive("astype", lambda x, dtype: np.asarray(x).astype(dtype),
                     doc="cast between float and complex dtypes; VJP casts the cotangent back")


def _cast(v, dtype):
    """``v`` in ``dtype``; complex to real keeps the real part (the transpose of the inclusion
    R -> C under the pairing Re(sum a*b)) without NumPy's ComplexWarning."""
    if dtype_of(v).kind == "c" and np.dtype(dtype).kind != "c":
        v = np.real(v)
    return v if dtype_of(v) == dtype else astype_p(v, dtype=dtype)


astype_p.defvjp(lambda g, ans, x, dtype: _cast(g, dtype_of(x)))
astype_p.defjvp(lambda t, ans, x, dtype: _cast(t, dtype))


@implements(np.astype)
def astype(x, dtype, /, *, copy=True, device=None):
    """Cast ``x``. A float cast stays traced; an integer or bool cast is a constant."""
    if not isinstance(x, Box):
        return np.asarray(x).astype(dtype, copy=copy)
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":  # integers and booleans carry no derivative
        value = strip_derivatives(x)
        return astype_p(value, dtype=dtype) if isinstance(value, Box) else \
            np.asarray(value).astype(dtype)
    if dtype == dtype_of(x):
        return x
    return astype_p(x, dtype=dtype)


__all__ = ["reshape", "ravel", "broadcast_to", "transpose", "getitem", "scatter_add",
           "normalize_index", "astype"]
