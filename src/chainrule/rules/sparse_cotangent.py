"""Sparse cotangents: the transposes of many small picks of one array, added up lazily.

The VJP of ``y = x[idx]`` is ``zeros(x.shape)`` with ``g`` added at ``idx``. A program that
reads ``x`` through k small picks (``np.stack([x[i] for i in range(n)])``, an LSTM slicing
its gates) then makes k full-size arrays in the backward pass and adds them up one by one:
O(n k) time and memory traffic for O(n + k) useful work. :class:`SparseCotangent` keeps such
a cotangent as its list of ``(idx, g)`` pairs instead:

    S(x.shape; (idx_1, g_1), ..., (idx_k, g_k))  =  sum_j scatter_add(g_j, idx_j, x.shape)

``S + S'`` of the same array appends the pairs (amortised O(|S'|): an append to the shared
list when ``S`` is the latest sum made from it), and :meth:`~SparseCotangent.dense`
materialises the sum once: one ``zeros(x.shape)`` and k in-place adds, O(n + sum_j |g_j|).

The tape's backward sweep (``core.tape.pull``) adds contributions with ``+`` and densifies a
lazy cotangent (``core.tape.LazyCotangent``, which this class extends) before any rule,
observer or caller sees it, so nothing but ``+`` ever meets one. Only plain-array cotangents
are kept sparse: a traced cotangent (``create_graph``, ``grad(grad(f))``) must be recorded op
by op, so the getitem VJP keeps the dense, differentiable ``scatter_add`` for those. Until the
core densifies lazy cotangents (``LazyCotangent`` exists there), :data:`ENABLED` is False and
the VJP stays dense.

Batch polymorphism: a cotangent with leading batch axes ``b`` is kept with those axes moved
last (indices address leading axes, so trailing batch axes ride along whatever the index), and
:meth:`dense` moves them back to the front, as the dense rule does.
"""

from __future__ import annotations

import builtins

import numpy as np

from ..core import tape as _tape

__all__ = ["SparseCotangent", "ENABLED", "worth_it"]

_Lazy = getattr(_tape, "LazyCotangent", None)
#: Whether the getitem VJP returns sparse cotangents: the tape must densify them (see above).
ENABLED = _Lazy is not None


#: Picks of at most 1/PICK_FRACTION of an array of at least MIN_SIZE elements are kept sparse.
#: A dense transpose costs one zeros(n) and one n-element add per pick, O(n); a sparse one a
#: few microseconds of Python. Below these sizes (an LSTM's gate slices: 7 of 28) dense is
#: cheaper; above them the dense cost grows with n and the sparse one does not.
MIN_SIZE = 256
PICK_FRACTION = 8


def worth_it(pick_size: int, array_size: int) -> bool:
    """Whether the transpose of a pick of ``pick_size`` elements (batch included) from an
    array of ``array_size`` elements is kept sparse."""
    return array_size >= MIN_SIZE and PICK_FRACTION * pick_size <= array_size


def _has_int_array(idx) -> bool:
    return builtins.any(isinstance(k, np.ndarray) and k.dtype != bool for k in idx)


class SparseCotangent(_Lazy or object):
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
