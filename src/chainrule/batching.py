"""``vmap``: a function of one example, run on a batch of them in one pass per primitive.

``vmap(f)(xs)`` is ``stack([f(x) for x in xs])`` computed without the loop. It opens a
:class:`BatchTrace`; each mapped input becomes a :class:`BatchBox` whose value carries the
batch axis in front, while ``f`` sees the per-example shape (``x.shape`` has no batch axis).
Every primitive that meets a batched value is handed to its **batching rule**, keyed by the
Primitive object, which computes all examples with one call of the primitive itself:

* elementwise primitives (every ufunc without a core signature, ``where``, ``integer_pow``,
  casts): a batched operand of per-example rank ``r`` is reshaped from ``(B,) + s`` to
  ``(B,) + (1,) * (R - r) + s``, ``R`` the largest per-example rank, so broadcasting from
  the right pairs example ``b`` with example ``b`` and an unbatched operand with all of them;
* reductions, cumulative sums and products, and the stacked linear algebra (``inv``, ``det``,
  ``cholesky``, ``eigh``, ...): their parameters address trailing axes only (axes are stored
  negative), so the leading batch axis passes through unchanged;
* the linear shape primitives (reshape, broadcast_to, transpose, getitem, scatter_add, sum,
  cumsum, astype): the batching rule *is* the JVP rule, which already lets leading batch axes
  of a tangent through; the batched value is given to it as the tangent;
* ``matmul``, ``solve``, ``solve_triangular``: NumPy's stacked semantics after aligning the
  stack ranks (1-D operands made matrices and back); ``einsum``: a fresh letter for the batch;
* ``gather`` (an integer index that differs per example: ``x[i]``, ``take``,
  ``take_along_axis``) and its transpose: one constant-index ``getitem`` / ``scatter_add``
  over the whole batch, ``x[arange(B)[:, None], i]``, with the result's axes where NumPy
  puts them for one example.

Nothing loops over the batch. A primitive without a batching rule raises
``NoRuleError`` naming it, and code that reads a batched value as one value (``bool``,
``int``, an index or a shape computed from the data) raises :class:`BatchedValueError`
naming the function: each example has its own value, and the output shape cannot depend
on it. A composite that needs a size may read every example at once through
``rules._util.every_example`` when one size serves them all (a number of terms large enough
for each: ``poisson.entropy``), and a shape chosen from the values is taken when every example
agrees on it (``rules._util.agreed``: ``lstsq``'s residuals), else the error names why.
The semantics are JAX's (``in_axes``/``out_axes`` as ints, ``None`` or pytree prefixes,
``axis_size``, nesting, any order with ``grad``, ``jvp``, ``jacobian``, ``hessian`` and
``jit``); ``chunk_size`` runs the batch in slices of at most that many examples to bound
memory.
"""

from __future__ import annotations

import functools
import math
import traceback
from string import ascii_letters

import numpy as np

from .core.aval import ShapedArray, dtype_of, shape_of
from .core.errors import ChainruleError, NoRuleError, TracerEscapeError
from .core.primitive import Box, Primitive, bind
from .core.pytree import tree_flatten, tree_unflatten
from .core.trace import Trace, TracedArray, to_complex
from .rules import decompositions as _dec
from .rules import elementwise as _ew
from .rules import fft as _fft
from .rules import gammabeta as _gb
from .rules import linalg as _la
from .rules import linear as _lin
from .rules import mvn_cdf as _mvn
from .rules import reductions as _red
from .rules import scipy_linalg as _sla
from .rules import special as _sp
from .rules.dispatch import UFUNCS
from .rules.shape import concatenate, moveaxis

__all__ = ["vmap", "BatchTrace", "BatchBox", "BatchedValueError", "register_batching_rule",
           "batching_rule"]


class BatchedValueError(ChainruleError, TypeError):
    """Code under ``vmap`` read a batched value as one value (control flow, a size, an index)."""


# ------------------------------------------------------------------ the trace and its boxes
class BatchBox(TracedArray):
    """A batched value: ``_value`` holds every example, the batch axis first.

    Its metadata is the per-example one (``shape`` without the batch axis), which is what
    ``f`` and every rule written for one example expect to see.
    """

    __slots__ = ()
    # Like jit's staged values, its contents are not one value: rules take their general,
    # value-independent form (``strip_derivatives`` keeps it, ``unbox_all`` asks the trace)
    _staged = True
    # ...but a choice every example shares may read them all at once: a number of terms that
    # suffices for each, or a shape they agree on (rules._util.every_example and agreed)
    _holds_every_example = True

    def __init__(self, value, trace):
        self._value = value
        self._trace = trace

    @property
    def shape(self):
        return shape_of(self._value)[1:]

    @property
    def ndim(self):
        return len(shape_of(self._value)) - 1

    @property
    def size(self):
        return math.prod(shape_of(self._value)[1:])  # (np.prod of a tuple: 9 us, this 0.3)

    def __len__(self):
        s = shape_of(self._value)
        if len(s) < 2:
            raise TypeError("len() of unsized traced array")
        return s[1]

    def __repr__(self):
        return f"BatchBox(batch of {self._trace.size}, {self._value!r})"

    def __array__(self, dtype=None, copy=None):
        # NumPy's own indexing of a plain ndarray by a batched index lands here too (it
        # converts the index): say what to write instead
        try:
            return TracedArray.__array__(self, dtype, copy)
        except TracerEscapeError as e:
            raise TracerEscapeError(
                f"vmap({self._trace.name}): {e} An ndarray `x` indexed by a batched index `i` "
                "(NumPy's own x[i], np.take(x, i)) converts the index this way: write "
                "chainrule.numpy.take(x, i, axis=0), or index a traced array.") from None


class BatchTrace(Trace):
    """The trace of one ``vmap`` call: ``size`` examples, ``name`` the mapped function's name."""

    __slots__ = ("size", "name", "done")

    def __init__(self, size: int, name: str = "f"):
        super().__init__()
        self.size = size
        self.name = name
        self.done = False

    def new_input(self, value) -> BatchBox:
        return BatchBox(value, self)

    def read_value(self, why: str | None = None):
        """Called when code reads a batched value as one value (``unbox_all``), or, with
        ``why``, when a choice of shape that every example must share differs between them
        (``rules._util.agreed``)."""
        if why is not None:
            raise BatchedValueError(f"vmap({self.name}): {why}; the {self.size} examples differ "
                                    "here, so one program cannot produce one shape for all of them")
        frames = [f for f in traceback.extract_stack()[:-2]
                  if "/chainrule/core/" not in f.filename.replace("\\", "/")]
        where = f" at {frames[-1].filename}:{frames[-1].lineno} ({frames[-1].line})" if frames else ""
        raise BatchedValueError(
            f"vmap({self.name}): the function reads the value of a batched array{where} "
            "(Python control flow, int()/bool(), or an index, size or shape computed from the "
            f"data); each of the {self.size} examples has its own value, so one program cannot "
            "take one branch or produce one shape for all of them. Use chainrule.numpy.where for "
            "branches, and give data-dependent sizes as unbatched (in_axes=None) arguments.")

    def process(self, prim, args, params):
        if self.done:
            raise TracerEscapeError(f"`{prim.name}` on a value batched by a vmap({self.name}) "
                                    "call that has returned (kept in a global or a closure); "
                                    "return it from the mapped function instead")
        for a in args:
            # ``bind`` hands a non-differentiable primitive to the first box's trace; a box of a
            # higher level (an inner vmap) must be processed first, or levels would mix
            if isinstance(a, Box) and a._trace.level > self.level:
                top = max((b._trace for b in args if isinstance(b, Box)), key=lambda t: t.level)
                return top.process(prim, args, params)
        vals, batched = [], []
        for a in args:
            if type(a) is BatchBox and a._trace is self:
                vals.append(a._value)
                batched.append(True)
            else:
                vals.append(a)
                batched.append(False)
        rule = _RULES.get(prim) or batching_rule(prim)
        if rule is None:
            raise NoRuleError(
                f"vmap({self.name}): the primitive `{prim.name}` has no batching rule, so it cannot "
                "run on a batch in one call; register one with "
                "chainrule.batching.register_batching_rule(prim, rule) (chainrule never loops over "
                "the batch silently)")
        out = rule(self.size, vals, batched, **params)
        if prim.multiple_results:
            return tuple(BatchBox(o, self) for o in out)
        return BatchBox(out, self)


# ------------------------------------------------------------------ batching rules
_RULES: dict = {}


def register_batching_rule(prim: Primitive, rule) -> None:
    """Give ``prim`` a batching rule ``rule(size, vals, batched, **params)``.

    ``vals`` are the arguments with each batched one's batch axis first (``batched[i]``
    says which); the rule returns the batched output (a tuple for a multiple-result
    primitive), batch axis first, computed without a loop over the batch.
    """
    if not isinstance(prim, Primitive):
        raise TypeError(f"register_batching_rule takes a Primitive, got {type(prim).__name__}")
    _RULES[prim] = rule


def batching_rule(prim: Primitive):
    """The batching rule registered for ``prim``, or ``None``."""
    rule = _RULES.get(prim)
    if rule is None and prim in _elementwise_primitives():
        # a ufunc's primitive registered for dispatch after this module was imported (the
        # rule families import in any order): elementwise, so its rule is the elementwise one
        rule = _RULES[prim] = _elementwise_rule(prim)
    return rule


def _ndim(x) -> int:
    return len(shape_of(x))


def _insert_after_batch(v, k: int):
    """A batched ``v`` of shape ``(B,) + s`` as ``(B,) + (1,) * k + s``."""
    if k <= 0:
        return v
    s = shape_of(v)
    return _lin.reshape(v, s[:1] + (1,) * k + s[1:])


def _elementwise_rule(prim):
    """Broadcasting from the right, after giving every batched operand the largest rank."""
    def rule(size, vals, batched, **params):
        rank = max(_ndim(v) - b for v, b in zip(vals, batched))
        vals = [_insert_after_batch(v, rank + 1 - _ndim(v)) if b else v
                for v, b in zip(vals, batched)]
        return bind(prim, vals, params)
    return rule


def _trailing_rule(prim):
    """The parameters address trailing axes only (negative axes, the last two of a matrix)."""
    def rule(size, vals, batched, **params):
        return bind(prim, vals, params)
    return rule


def _jvp_rule(prim):
    """A linear primitive of one argument: its JVP rule lets leading batch axes of the tangent
    through, so it maps the batch when given the batched value as the tangent and the
    per-example abstract value as the argument (linear rules read only its shape and dtype)."""
    def rule(size, vals, batched, **params):
        (x,) = vals
        example = ShapedArray(shape_of(x)[1:], dtype_of(x))
        return prim.jvp(0, x, None, [example], params)
    return rule


def _broadcast_batch(v, size):
    """An unbatched value given the batch axis (a broadcast view where NumPy makes one)."""
    return _lin.broadcast_to(v, (size,) + shape_of(v))


def _concatenate_rule(size, vals, batched, *, axis):
    vals = [v if b else _broadcast_batch(v, size) for v, b in zip(vals, batched)]
    return _lin.concatenate_p(*vals, axis=axis)


def _stacked_rule(prim, core_ranks):
    """NumPy's stacked linear algebra: the stack axes broadcast, the last ``core_ranks[i]``
    axes of operand ``i`` are its matrix. A batched operand gets singleton stack axes so that
    its batch axis lines up in front of every other operand's stack."""
    def rule(size, vals, batched, **params):
        stack = [_ndim(v) - b - c for v, b, c in zip(vals, batched, core_ranks)]
        rank = max(stack)
        vals = [_insert_after_batch(v, rank - s) if b else v
                for v, b, s in zip(vals, batched, stack)]
        return bind(prim, vals, params)
    return rule


def _matmul_rule(size, vals, batched):
    """``a @ b`` for each example: a batched vector becomes a one-row (one-column) matrix and
    its inserted axis is dropped again; a batch of vectors or matrices times one unbatched
    matrix is a single matrix product with the batch folded into the rows (one GEMM, not a
    stack of small ones)."""
    (a, b), (ba, bb) = vals, batched
    da, db = _ndim(a) - ba, _ndim(b) - bb
    if ba and not bb and db == 2:  # rows of every example times one matrix: one GEMM
        sa = shape_of(a)
        r = _la.matmul_p(_lin.reshape(a, (-1, sa[-1])), b)
        return _lin.reshape(r, sa[:-1] + shape_of(b)[-1:])
    if bb and not ba and da == 2 and db == 1:  # one matrix times a batch of vectors: B @ A^T
        return _la.matmul_p(b, _lin.transpose(a, (1, 0)))
    drop = []  # the axes inserted for batched vectors, counted from the end of the result
    if ba and da == 1:  # its row axis: second to last unless b stays an (unbatched) vector
        s = shape_of(a)
        a, da = _lin.reshape(a, (s[0], 1, s[1])), 2
        drop.append(-2 if (db >= 2 or bb) else -1)
    if bb and db == 1:  # its column axis: the last
        s = shape_of(b)
        b, db = _lin.reshape(b, s + (1,)), 2
        drop.append(-1)
    r = _stacked_rule(_la.matmul_p, (min(da, 2), min(db, 2)))(size, [a, b], [ba, bb])
    if drop:
        s = shape_of(r)
        n = len(s)
        r = _lin.reshape(r, tuple(d for i, d in enumerate(s) if i - n not in drop))
    return r


def _einsum_rule(size, vals, batched, *, subscripts):
    ins, out = subscripts.split("->")
    letter = next(c for c in ascii_letters if c not in subscripts)
    ins = [letter + s if b else s for s, b in zip(ins.split(","), batched)]
    return _la.einsum_p(*vals, subscripts=",".join(ins) + "->" + letter + out)


# ------------------------------------------------------------------ gathers with a batched index
def _is_advanced(k) -> bool:
    """Whether a normalized index entry is advanced: an integer array (or an ``Ellipsis`` slot
    for one) or, beside one, an integer (NumPy broadcasts it as a 0-d array)."""
    return k is Ellipsis or (k is not None and not isinstance(k, slice))


def _batched_key(size, key, arrays, batched, x_batched):
    """The per-example index ``key`` (``Ellipsis`` slots filled by ``arrays``) as one index of
    the whole batch, and how the batched result's axes must be permuted.

    Per example, NumPy puts the broadcast shape ``S`` of the advanced entries where the first
    of them is when they are adjacent in the key (``pre + S + post``), and first otherwise.
    A batched array ``(B,) + s`` is reshaped to ``(B,) + (1,) * (len(S) - len(s)) + s`` so it
    broadcasts with the others as ``(B,) + S``; a batched ``x`` is indexed by
    ``arange(B)`` shaped the same way, in front. NumPy then puts ``(B,) + S`` at the front
    unless the per-example entries are adjacent, ``x`` unbatched and ``pre`` non-empty
    (``pre + (B,) + S + post``); when ``x`` is batched and ``pre`` non-empty, the result is
    ``(B,) + S + pre + post``. Returns ``(key, perm)``, ``perm`` the transpose of that
    result into ``(B,) + pre + S + post`` (``None`` when it is already so).
    """
    shapes = []
    filled, it = [], iter(zip(arrays, batched))
    for k in key:
        if k is Ellipsis:
            v, b = next(it)
            shapes.append(shape_of(v)[1:] if b else shape_of(v))
            filled.append((v, b))
        else:
            if _is_advanced(k):
                shapes.append(shape_of(k))
            filled.append((k, False))
    ls = len(np.broadcast_shapes(*shapes))
    adv = [i for i, k in enumerate(key) if _is_advanced(k)]
    adjacent = adv == list(range(adv[0], adv[-1] + 1))
    npre = adv[0] if adjacent else 0
    out = []
    for k, b in filled:
        if b:
            k = _insert_after_batch(k, ls + 1 - _ndim(k))
        out.append(k)
    perm = None
    if x_batched:
        out.insert(0, np.arange(size).reshape((size,) + (1,) * ls))
        if npre:  # (B,) + S + pre + rest  ->  (B,) + pre + S + rest
            perm = (0,) + tuple(range(1 + ls, 1 + ls + npre)) + tuple(range(1, 1 + ls))
    elif npre:  # pre + (B,) + S + rest  ->  (B,) + pre + S + rest
        perm = (npre,) + tuple(range(npre)) + tuple(range(npre + 1, npre + 1 + ls))
    return tuple(out), perm


def _full_perm(perm, n):
    return perm + tuple(range(len(perm), n))


def _gather_rule(size, vals, batched, *, key):
    x, arrays = vals[0], vals[1:]
    bkey, perm = _batched_key(size, key, arrays, batched[1:], batched[0])
    r = _lin.index(x, bkey)
    return r if perm is None else _lin.transpose(r, _full_perm(perm, _ndim(r)))


def _gather_scatter_add_rule(size, vals, batched, *, key, shape):
    g, arrays = vals[0], vals[1:]
    if not batched[0]:  # every example adds its own copy of g
        g = _broadcast_batch(g, size)
    bkey, perm = _batched_key(size, key, arrays, batched[1:], True)
    if perm is not None:  # g is laid out as the per-example result: into the key's layout
        g = _lin.transpose(g, tuple(np.argsort(_full_perm(perm, _ndim(g)))))
    return _lin.scatter_index(g, bkey, (size,) + tuple(shape))


def _elementwise_primitives():
    """Every primitive NumPy dispatches a ufunc without a core signature to, and the
    elementwise primitives that are not ufuncs (``where``, ``integer_pow``, casts, ...)."""
    found = {fn for uf, fn in UFUNCS.items() if isinstance(fn, Primitive) and uf.signature is None}
    found |= {_ew.power_p, _ew.integer_pow, _ew.where, _ew.real_p, _ew.imag_p, _ew.conj_p,
              _ew._angle_real, _ew.round, _sp._polygamma, _sp.weighted_exp, to_complex,
              _gb.gammainc_da, _gb.betainc_dab, _gb.stdtr_ddf}
    return found


for _p in _elementwise_primitives():
    register_batching_rule(_p, _elementwise_rule(_p))
for _p in (_red.max_p, _red.min_p, _red.prod_p, _red.cumprod_p, _la.inv_p, _la.det_p,
           _la.slogdet_p, _la.cholesky_p, _la.eigh_p, _la.adjugate_p, _dec.svd_p, _dec.svdvals_p, _dec.qr_p,
           _dec.eig_p, _dec.pinv_p, _sla.expm_p, _sla.logm_p, _sla.sqrtm_p, _sla.lu_p,
           _fft.dft, _fft.rdft, _fft.irdft):
    register_batching_rule(_p, _trailing_rule(_p))
for _p in (_lin.reshape_p, _lin.broadcast_to_p, _lin.transpose_p, _lin.getitem_p,
           _lin.scatter_add_p, _lin.sum_p, _lin.astype_p, _red.cumsum_p):
    register_batching_rule(_p, _jvp_rule(_p))
register_batching_rule(_lin.concatenate_p, _concatenate_rule)
register_batching_rule(_lin.gather_p, _gather_rule)
register_batching_rule(_lin.gather_scatter_add_p, _gather_scatter_add_rule)
register_batching_rule(_la.matmul_p, _matmul_rule)
register_batching_rule(_la.einsum_p, _einsum_rule)
register_batching_rule(_la.solve_p, _stacked_rule(_la.solve_p, (2, 2)))
register_batching_rule(_la.solve_triangular_p, _stacked_rule(_la.solve_triangular_p, (2, 2)))
register_batching_rule(_sla.sylvester_p, _stacked_rule(_sla.sylvester_p, (2, 2, 2)))
register_batching_rule(_sla.banded_p, _stacked_rule(_sla.banded_p, (2, 2)))
register_batching_rule(_mvn.mvn_cdf_p, _stacked_rule(_mvn.mvn_cdf_p, (1, 2)))  # b (..., d), cov (..., d, d)


# ------------------------------------------------------------------ in_axes / out_axes
def _axes_of_leaves(prefix, tree, what: str) -> list:
    """The mapped axis of each leaf of ``tree``: ``prefix`` is an int or ``None`` for a whole
    subtree, or a container of the same kind holding one prefix per child (JAX's tree prefix)."""
    if prefix is None or _is_axis(prefix):
        return [prefix] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict) and isinstance(tree, dict):
        if set(prefix) != set(tree):
            raise ValueError(f"vmap {what}: the keys {sorted(prefix)} do not match the "
                             f"argument's keys {sorted(tree)}")
        return [a for k in sorted(tree) for a in _axes_of_leaves(prefix[k], tree[k], what)]
    if isinstance(prefix, (tuple, list)) and isinstance(tree, (tuple, list)):
        if len(prefix) != len(tree):
            raise ValueError(f"vmap {what}: {len(prefix)} entries for a "
                             f"{type(tree).__name__} of {len(tree)}")
        return [a for p, t in zip(prefix, tree) for a in _axes_of_leaves(p, t, what)]
    raise ValueError(f"vmap {what}: {prefix!r} is not an int, None or a tree prefix of the "
                     f"value's structure {tree_flatten(tree)[1]!r}")


def _is_axis(a) -> bool:
    return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))


def _normalize(ax, ndim: int, what: str) -> int:
    if not -ndim <= ax < ndim:
        raise ValueError(f"vmap {what}: axis {ax} is out of bounds for an array of rank {ndim}")
    return int(ax) % ndim


def _mapped_size(leaves, axes, axis_size, name):
    sizes = {}
    for i, (x, ax) in enumerate(zip(leaves, axes)):
        if ax is not None:
            nd = _ndim(x)
            if nd == 0:
                raise ValueError(f"vmap({name}): in_axes={ax} for a 0-d (scalar) argument; "
                                 "use None for an argument that is not mapped")
            sizes.setdefault(shape_of(x)[_normalize(ax, nd, 'in_axes')], []).append(i)
    if len(sizes) > 1:
        detail = ", ".join(f"size {n} (leaves {ids})" for n, ids in sizes.items())
        raise ValueError(f"vmap({name}): the mapped axes have different sizes: {detail}")
    if sizes:
        (size,) = sizes
        if axis_size is not None and axis_size != size:
            raise ValueError(f"vmap({name}): axis_size={axis_size} but the mapped axes have "
                             f"size {size}")
        return size
    if axis_size is None:
        raise ValueError(f"vmap({name}): no argument is mapped (every in_axes is None); give "
                         "axis_size to say how many examples there are")
    return int(axis_size)


def _as_array(x):
    return x if isinstance(x, (Box, np.ndarray)) else np.asarray(x)


# ------------------------------------------------------------------ vmap
def vmap(fun, in_axes=0, out_axes=0, axis_size: int | None = None,
         chunk_size: int | None = None):
    """``fun`` mapped over an axis of its arguments: ``vmap(f)(xs)[b] == f(xs[b])``.

    ``in_axes``: an int (the mapped axis of every argument), ``None`` (not mapped), or a tuple
    with one tree prefix per positional argument (keyword arguments are mapped over axis 0).
    ``out_axes``: where the batch axis goes in each output (a tree prefix of the output;
    ``None`` for an output that does not depend on the mapped axis). ``axis_size`` gives the
    batch size when no argument is mapped. ``chunk_size`` maps at most that many examples at
    a time and concatenates the results, bounding the memory of the intermediates.

    Each primitive runs once on the whole batch (its batching rule); the per-example
    computation is never repeated in a Python loop.
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)  # JAX: a list of in_axes is a tuple of them
    if chunk_size is not None and (not _is_axis(chunk_size) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be a positive integer, got {chunk_size!r}")
    if axis_size is not None and (not _is_axis(axis_size) or axis_size < 0):
        raise ValueError(f"vmap: axis_size must be a non-negative integer, got {axis_size!r}")
    name = getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def batched(*args, **kwargs):
        if isinstance(in_axes, tuple):
            if len(in_axes) != len(args):
                raise ValueError(f"vmap({name}): in_axes has {len(in_axes)} entries but the "
                                 f"function was called with {len(args)} positional arguments")
            prefix = in_axes
        elif in_axes is None or _is_axis(in_axes):
            prefix = (in_axes,) * len(args)
        else:
            raise ValueError(f"vmap({name}): in_axes must be an int, None or a tuple, got "
                             f"{type(in_axes).__name__} (a dict of axes goes inside the tuple)")
        axes = _axes_of_leaves(prefix, args, "in_axes") + [0] * len(tree_flatten(kwargs)[0])
        leaves, in_def = tree_flatten((args, kwargs))
        size = _mapped_size(leaves, axes, axis_size, name)
        if chunk_size is None or size <= chunk_size:
            return _map(fun, name, leaves, axes, in_def, size, out_axes)
        parts = []
        for start in range(0, size, chunk_size):
            stop = min(start + chunk_size, size)
            part = [x if ax is None else
                    _lin.getitem(_as_array(x), _lin.axis_key(ax % _ndim(x) - _ndim(x),
                                                             slice(start, stop)))
                    for x, ax in zip(leaves, axes)]
            parts.append(_map(fun, name, part, axes, in_def, stop - start, out_axes))
        return _join(parts, out_axes, name)

    return batched


def _map(fun, name, leaves, axes, in_def, size, out_axes):
    trace = BatchTrace(size, name)
    boxed = []
    for x, ax in zip(leaves, axes):
        if ax is None:
            boxed.append(x)
        else:
            x = _as_array(x)
            ax = _normalize(ax, _ndim(x), "in_axes")
            boxed.append(BatchBox(x if ax == 0 else moveaxis(x, ax, 0), trace))
    args, kwargs = tree_unflatten(in_def, boxed)
    try:
        out = fun(*args, **kwargs)
    finally:
        trace.done = True
    out_leaves, out_def = tree_flatten(out)
    oaxes = _axes_of_leaves(out_axes, out, "out_axes")
    result = []
    for o, ax in zip(out_leaves, oaxes):
        if type(o) is BatchBox and o._trace is trace:
            if ax is None:
                raise ValueError(f"vmap({name}): out_axes=None for an output that depends on the "
                                 "mapped axis; give it an axis")
            v = o._value
        elif ax is None:
            result.append(o)
            continue
        else:  # the output does not depend on the mapped axis: every example has it
            v = _broadcast_batch(_as_array(o), size)
        ax = _normalize(ax, _ndim(v), "out_axes")
        result.append(v if ax == 0 else moveaxis(v, 0, ax))
    return tree_unflatten(out_def, result)


def _join(parts, out_axes, name):
    """The chunks' outputs concatenated along each output's batch axis."""
    first, out_def = tree_flatten(parts[0])
    oaxes = _axes_of_leaves(out_axes, parts[0], "out_axes")
    columns = list(zip(*(tree_flatten(p)[0] for p in parts)))
    joined = [col[0] if ax is None else concatenate(col, axis=ax)
              for col, ax in zip(columns, oaxes)]
    return tree_unflatten(out_def, joined)
