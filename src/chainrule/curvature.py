"""Jacobians, Hessians and curvature products, each one vectorised pass.

PRML 5.3.4 defines the Jacobian of a network, ``J_ki = dy_k / dx_i`` (5.70), and
computes it one row at a time: a backward pass per output ``k`` (5.73-5.74), or
a forward pass per input. Here a whole identity matrix travels through the
trace at once: every rule lets leading batch axes pass through, so

* reverse mode seeds the backward pass with the ``M`` rows of ``I_M`` (one
  cotangent per output element, shape ``(M,) + out.shape``) and gets all of
  ``J`` from **one** walk of the Wengert list;
* forward mode seeds the forward pass with the ``N`` rows of ``I_N`` (one
  tangent per input element) and gets all of ``J`` from **one** forward pass.

``jacobian(mode="auto")`` records ``f`` once and then picks the cheaper sweep:
forward when there are fewer inputs than outputs (``N < M``), reverse otherwise.
Its forward sweep replays the JVP rules along the recorded tape instead of
running ``f`` again.

The Hessian is the forward-mode Jacobian of the reverse-mode gradient
(``jacfwd(jacrev(f))``): one forward pass, with ``N`` batched tangents, through
the recorded backward pass. ``hvp`` is Pearlmutter's R-operator
``R{grad E} = H v``: one forward-over-reverse pass, never the matrix.

Layouts follow JAX: a Jacobian block has shape ``out.shape + in.shape``; with
pytrees the result is the output's tree with each leaf replaced by the input's
tree of blocks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from .core.aval import derivative_dtype, dtype_of, shape_of
from .core.linearize import ReverseLinearization, check_differentiable, linearize_reverse, push_forward
from .core.primitive import Box, unbox_all
from .core.pytree import tree_flatten, tree_unflatten
from .rules.shape import concatenate, getitem, moveaxis, reshape
from .transforms import _argnums_tuple, _partial_args, grad

__all__ = ["jacobian", "jacfwd", "jacrev", "hessian", "hvp", "ggnvp", "hessian_diagonal",
           "gauss_newton_diagonal", "linearize", "LinearMap"]

_MODES = ("auto", "fwd", "rev", "forward", "reverse")


# ------------------------------------------------------------------ small helpers
def _size(x) -> int:
    return math.prod(shape_of(x))


def _offsets(leaves) -> list[int]:
    out, o = [], 0
    for x in leaves:
        out.append(o)
        o += _size(x)
    return out + [o]


def _identity_rows(leaves, dtype, start: int = 0, stop: int | None = None) -> list:
    """Rows ``start:stop`` of ``I_N`` (``N`` = total size; all of them by default), cut into
    one block per leaf.

    Leaf ``j`` gets shape ``(stop - start,) + leaf.shape``: row ``r`` is the unit vector of
    flattened element ``start + r`` restricted to that leaf.
    """
    offs = _offsets(leaves)
    n = offs[-1]
    stop = n if stop is None else stop
    k = stop - start
    if len(leaves) == 1:
        return [np.eye(k, n, start, dtype=dtype).reshape((k,) + shape_of(leaves[0]))]
    out = []
    for j, x in enumerate(leaves):
        block = np.zeros((k, offs[j + 1] - offs[j]), dtype=dtype)
        rows = np.arange(max(start, offs[j]), min(stop, offs[j + 1]))
        block[rows - start, rows - offs[j]] = 1
        out.append(block.reshape((k,) + shape_of(x)))
    return out


def _chunked(sweep, leaves, dtype, chunk_size):
    """``sweep(seeds, batch)`` over the rows of ``I_N`` (``N`` = total size of ``leaves``), at
    most ``chunk_size`` rows at a time, each result leaf concatenated along the batch axis.

    Only one chunk of seeds and of the tangents or cotangents they become is alive at once:
    the memory of a sweep is ``chunk_size / N`` of the unchunked one (the result itself is
    all of ``J``).
    """
    n = sum(_size(x) for x in leaves)
    if chunk_size is None or n <= chunk_size:
        return sweep(_identity_rows(leaves, dtype), (n,))
    parts = []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        parts.append(sweep(_identity_rows(leaves, dtype, start, stop), (stop - start,)))
    return [concatenate(col, axis=0) for col in zip(*parts, strict=True)]


def _check_chunk(chunk_size):
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")


def _rows(a, start: int, stop: int, total: int):
    """``a[start:stop]`` on the leading axis, skipping the op when it is the whole axis."""
    return a if (start == 0 and stop == total) else getitem(a, slice(start, stop))


def _check_mode(mode):
    if mode not in _MODES:
        raise ValueError(f"mode must be 'auto', 'fwd' or 'rev', got {mode!r}")
    return {"forward": "fwd", "reverse": "rev"}.get(mode, mode)


def _jac_tree(out_def, in_def, blocks, single_arg: bool):
    """Nest blocks[k][j] as the output tree of input trees (JAX's layout)."""
    per_out = []
    for row in blocks:
        t = tree_unflatten(in_def, row)
        per_out.append(t[0] if single_arg else t)
    return tree_unflatten(out_def, per_out)


# ------------------------------------------------------------------ Jacobians
def _record(f, args, kwargs, argnums, has_aux):
    """``f`` recorded on a lean tape as a function of its ``argnums`` arguments alone."""
    nums = _argnums_tuple(argnums, len(args))
    g = _partial_args(f, args, nums, kwargs)
    return linearize_reverse(g, [args[i] for i in nums], has_aux)


def _check_complex(name, in_leaves, out_leaves, holomorphic, complex_out_ok=False):
    """JAX's contract: with ``holomorphic=True`` inputs and outputs are complex and the result is
    the complex derivative; without it inputs are real (a real Jacobian of a non-holomorphic
    map of complex values is not a complex matrix: use vjp/jvp), and so are the outputs of a
    reverse-mode Jacobian (``complex_out_ok`` for forward mode)."""
    kinds_in = {np.dtype(dtype_of(x)).kind for x in in_leaves}
    kinds_out = {np.dtype(dtype_of(o)).kind for o in out_leaves}
    if holomorphic:
        if kinds_in - {"c"} or kinds_out - {"c"}:
            raise TypeError(f"{name}(holomorphic=True) requires complex inputs and outputs, got "
                            f"{sorted(map(str, {dtype_of(x) for x in list(in_leaves) + list(out_leaves)}))}")
    elif "c" in kinds_in:
        raise TypeError(f"{name} of a function of complex inputs: pass holomorphic=True for a "
                        "holomorphic function, or differentiate with respect to real and imaginary "
                        "parts (use vjp/jvp for a non-holomorphic map)")
    elif "c" in kinds_out and not complex_out_ok:
        raise TypeError(f"{name} of a complex-valued function of real inputs needs forward mode "
                        "(jacfwd), or holomorphic=True with complex inputs")


def _rev_blocks(lin, in_leaves, chunk_size=None):
    """All of J from one backward pass seeded with I_M (one per ``chunk_size`` rows);
    blocks[k][j]: out_k.shape + in_j.shape."""
    outs = lin.out_values
    o_offs = _offsets(outs)
    m = o_offs[-1]
    if m == 1:  # a scalar output: an ordinary VJP, no batch axis to carry
        cts = lin.pull([np.ones(shape_of(o), dtype=derivative_dtype(o)) for o in outs])
        return [[reshape(c, shape_of(o) + shape_of(x)) for c, x in zip(cts, in_leaves, strict=True)]
                for o in outs]
    dtype = np.result_type(*[derivative_dtype(o) for o in outs]) if outs else np.float64
    cts = _chunked(lambda seeds, batch: lin.pull(seeds, batch=batch), outs, dtype, chunk_size)
    return [[reshape(_rows(c, o_offs[k], o_offs[k + 1], m), shape_of(o) + shape_of(x))
             for c, x in zip(cts, in_leaves, strict=True)]
            for k, o in enumerate(outs)]


def _fwd_blocks(out_tans, out_vals, in_leaves, batched: bool):
    """blocks[k][j] from pushed tangents of shape (N,) + out_k.shape (or out_k.shape if N == 1)."""
    i_offs = _offsets(in_leaves)
    n = i_offs[-1]
    blocks = []
    for t, o in zip(out_tans, out_vals, strict=True):
        row = []
        for j, x in enumerate(in_leaves):
            want = shape_of(o) + shape_of(x)
            if not batched:
                row.append(reshape(t, want))
                continue
            b = _rows(t, i_offs[j], i_offs[j + 1], n)
            if isinstance(b, Box):  # traced by an outer transform: stay differentiable
                row.append(reshape(moveaxis(b, 0, -1), want))
            else:  # the batch axis (one per input element) moves last
                row.append(b.transpose(tuple(range(1, b.ndim)) + (0,)).reshape(want))
        blocks.append(row)
    return blocks


def _in_seeds(in_leaves):
    n = sum(_size(x) for x in in_leaves)
    dtype = np.result_type(*[derivative_dtype(x) for x in in_leaves]) if in_leaves else np.float64
    if n == 1:
        return [np.ones(shape_of(x), dtype=dtype) for x in in_leaves], ()
    return _identity_rows(in_leaves, dtype), (n,)


def _pushed(push, in_leaves, chunk_size):
    """``(tangents, batched)``: ``push(seeds, batch)`` of the ``N`` unit tangents (one chunk of
    at most ``chunk_size`` at a time), as :func:`_fwd_blocks` takes them."""
    n = sum(_size(x) for x in in_leaves)
    if n == 1 or chunk_size is None or n <= chunk_size:
        seeds, batch = _in_seeds(in_leaves)
        return push(seeds, batch), bool(batch)
    dtype = np.result_type(*[derivative_dtype(x) for x in in_leaves])
    return _chunked(push, in_leaves, dtype, chunk_size), True


def jacobian(f: Callable, argnums=0, has_aux: bool = False, mode: str = "auto",
             holomorphic: bool = False, chunk_size: int | None = None):
    """The Jacobian ``J_ki = dy_k / dx_i`` (PRML 5.70) of ``f`` in one vectorised pass.

    ``mode="rev"`` backpropagates all ``M`` output rows at once (5.73-5.76 for
    every ``k`` together); ``mode="fwd"`` pushes all ``N`` input directions at
    once; ``mode="auto"`` (default) records ``f`` once and uses forward mode when
    ``N < M``, reverse mode otherwise. Pytrees in and out; each block has shape
    ``out.shape + in.shape`` (JAX's layout). ``argnums``, ``has_aux`` and ``holomorphic`` as in
    :func:`chainrule.grad`; with ``has_aux`` the result is ``(jac, aux)``. A complex output of
    real inputs takes forward mode. ``chunk_size`` sends at most that many unit seeds through
    a sweep at a time (JAX's ``chunk_size``): the same ``J``, with the memory of the batched
    tangents or cotangents bounded.
    """
    mode = _check_mode(mode)
    _check_chunk(chunk_size)
    if mode == "fwd":
        return jacfwd(f, argnums, has_aux, holomorphic, chunk_size)
    if mode == "rev":
        return jacrev(f, argnums, has_aux, holomorphic, chunk_size)
    return _recorded_jacobian(f, argnums, has_aux, forward=None, holomorphic=holomorphic,
                              chunk_size=chunk_size)


def _recorded_jacobian(f, argnums, has_aux, forward, holomorphic=False, chunk_size=None):
    """Record ``f`` once, then one batched sweep along the tape: forward (JVP rules, ``N``
    unit tangents) when ``forward`` is true, reverse when false, the cheaper one when None."""
    @functools.wraps(f)
    def jac(*args, **kwargs):
        lin, out_def, in_def, aux = _record(f, args, kwargs, argnums, has_aux)
        in_leaves = lin.in_leaves
        _check_complex("jacobian", in_leaves, lin.out_values, holomorphic, forward is not False)
        n = sum(_size(x) for x in in_leaves)
        m = sum(_size(o) for o in lin.out_values)
        real_to_complex = not holomorphic and any(dtype_of(o).kind == "c" for o in lin.out_values)
        if (n < m or real_to_complex) if forward is None else forward:
            tans, batched = _pushed(lin.pusher(), in_leaves, chunk_size)
            blocks = _fwd_blocks(tans, lin.out_values, in_leaves, batched)
        else:
            lin.require_float_outputs("jacobian (reverse mode)")
            blocks = _rev_blocks(lin, in_leaves, chunk_size)
        out = _jac_tree(out_def, in_def, blocks, isinstance(argnums, int))
        return (out, aux) if has_aux else out

    return jac


def jacrev(f: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           chunk_size: int | None = None):
    """Reverse-mode Jacobian: ONE backward pass seeded with all ``M`` output rows of ``I_M``
    (one per ``chunk_size`` rows, to bound memory).

    Best when outputs are few (``M <= N``). See :func:`jacobian` for layout.
    """
    _check_chunk(chunk_size)

    @functools.wraps(f)
    def jac(*args, **kwargs):
        lin, out_def, in_def, aux = _record(f, args, kwargs, argnums, has_aux)
        _check_complex("jacrev", lin.in_leaves, lin.out_values, holomorphic)
        lin.require_float_outputs("jacrev")
        blocks = _rev_blocks(lin, lin.in_leaves, chunk_size)
        out = _jac_tree(out_def, in_def, blocks, isinstance(argnums, int))
        return (out, aux) if has_aux else out

    return jac


def jacfwd(f: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
           chunk_size: int | None = None):
    """Forward-mode Jacobian: ONE forward pass pushing all ``N`` input directions of ``I_N``.

    Best when inputs are few (``N < M``). See :func:`jacobian` for layout. With
    ``chunk_size``, ``f`` is recorded once and at most that many directions at a time are
    pushed along the tape (bounded memory, ``f`` not run again per chunk).
    """
    _check_chunk(chunk_size)
    if chunk_size is not None:
        return _recorded_jacobian(f, argnums, has_aux, forward=True, holomorphic=holomorphic,
                                  chunk_size=chunk_size)

    @functools.wraps(f)
    def jac(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        g = _partial_args(f, args, nums, kwargs)
        primals = tuple(args[i] for i in nums)
        in_leaves, in_def = tree_flatten(primals)
        for x in in_leaves:
            check_differentiable(x)
        seeds, batch = _in_seeds(in_leaves)
        out, t_out, aux = push_forward(g, primals, tree_unflatten(in_def, seeds), has_aux, batch)
        out_vals, out_def = tree_flatten(out)
        _check_complex("jacfwd", in_leaves, out_vals, holomorphic, complex_out_ok=True)
        blocks = _fwd_blocks(tree_flatten(t_out)[0], out_vals, in_leaves, bool(batch))
        res = _jac_tree(out_def, in_def, blocks, isinstance(argnums, int))
        return (res, aux) if has_aux else res

    return jac


# ------------------------------------------------------------------ Hessians
def hessian(f: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
            chunk_size: int | None = None):
    """``H_ij = d^2 f / dx_i dx_j``: forward mode over reverse mode, vectorised.

    ``jacfwd(jacrev(f))``, computed as: ``f`` is recorded on a tape, its backward pass is
    recorded onto the same tape as it runs (``create_graph``), and then all ``N`` unit
    tangents are pushed along that tape in one batched sweep of JVP rules: no op runs
    twice and no value is boxed twice. Shape ``out.shape + in.shape + in.shape`` (nested
    input trees for pytrees). A non-scalar ``f`` (a Hessian per output element) takes the
    general route, ``jacfwd`` of ``jacrev``, which records ``f`` a second time. ``chunk_size``
    pushes at most that many unit tangents at a time (the same ``H``, bounded memory).
    """
    _check_chunk(chunk_size)
    general = _recorded_jacobian(jacrev(f, argnums, has_aux, holomorphic, chunk_size), argnums,
                                 has_aux, forward=True, holomorphic=holomorphic,
                                 chunk_size=chunk_size)

    @functools.wraps(f)
    def hess(*args, **kwargs):
        lin, out_def, in_def, aux = _record(f, args, kwargs, argnums, has_aux)
        out = lin.out_values
        _check_complex("hessian", lin.in_leaves, out, holomorphic)
        lin.require_float_outputs("hessian")
        if out_def.num_leaves != 1 or shape_of(out[0]) != () or lin.out_nodes[0] is None:
            return general(*args, **kwargs)
        in_leaves = lin.in_leaves
        glin = _gradient_linearization(lin)
        tans, batched = _pushed(glin.pusher(), in_leaves, chunk_size)
        blocks = _fwd_blocks(tans, glin.out_values, in_leaves, batched)
        grad_def = in_def.children[0] if isinstance(argnums, int) else in_def
        res = _jac_tree(grad_def, in_def, blocks, isinstance(argnums, int))
        return (res, aux) if has_aux else res

    return hess


def _gradient_linearization(lin):
    """The map ``x -> grad f(x)`` on one tape, from ``f`` recorded on ``lin`` (a scalar output).

    The backward pass runs with ``create_graph``, so its operations are appended to the same
    tape as it goes; the returned linearization has f's inputs as inputs and the gradient as
    outputs, ready for a forward sweep of tangents (:meth:`ReverseLinearization.pusher`):
    forward over reverse.
    """
    out = lin.out_values[0]
    seed = {lin.out_nodes[0]: np.ones((), dtype=derivative_dtype(out))}
    grads = lin.trace.backward(seed, lin.in_nodes, create_graph=True)
    grads = [np.zeros(shape_of(x), dtype=derivative_dtype(x)) if c is None else c
             for c, x in zip(grads, lin.in_leaves, strict=True)]
    # tangents enter where f's inputs did; the gradient leaves are the outputs
    return ReverseLinearization(lin.trace, lin.in_nodes, lin.in_leaves, grads)


def _batch_of(primal_leaves, tangent_leaves, what: str) -> tuple:
    """The common leading batch shape of ``tangent_leaves`` (``()`` for a single direction)."""
    batch = None
    for x, t in zip(primal_leaves, tangent_leaves, strict=True):
        xs, ts = shape_of(x), shape_of(t)
        if len(ts) < len(xs) or ts[len(ts) - len(xs):] != xs:
            raise ValueError(f"{what} shape {ts} does not end with the primal shape {xs}")
        b = ts[:len(ts) - len(xs)]
        if batch is not None and b != batch:
            raise ValueError(f"{what} leaves carry different batch shapes: {batch} and {b}")
        batch = b
    return batch or ()


def _as_float(t, x):
    return t if isinstance(t, Box) else np.asarray(t, dtype=derivative_dtype(x))


def hvp(f: Callable, x, v):
    """``H v`` for scalar ``f`` at ``x``: Pearlmutter's R-operator, never forming ``H``.

    ``f`` and its backward pass are recorded on one tape, then ``v`` is pushed along it
    (forward over reverse): ``R{grad f} = H v``, at a few times the cost of one
    gradient. ``x`` may be a pytree; ``v`` has its structure. ``v`` may carry
    leading batch axes (``V`` of shape ``(k,) + x.shape`` gives ``k`` products in
    the same single pass).
    """
    x_leaves, x_def = tree_flatten(x)
    v_leaves, v_def = tree_flatten(v)
    if v_def != x_def:
        raise ValueError(f"v must have the structure of x: {v_def!r} vs {x_def!r}")
    batch = _batch_of(x_leaves, v_leaves, "v")
    lin, out_def, _, _ = linearize_reverse(f, (x,))
    lin.require_float_outputs("hvp")
    if out_def.num_leaves != 1 or shape_of(lin.out_values[0]) != ():
        raise TypeError(f"hvp requires a function with a scalar output, got structure {out_def!r}"
                        f" with shapes {[shape_of(o) for o in lin.out_values]}")
    if lin.out_nodes[0] is None:  # f does not depend on x: H = 0
        return tree_unflatten(x_def, [np.zeros(tuple(batch) + shape_of(xl), dtype=derivative_dtype(xl))
                                      for xl in x_leaves])
    v_leaves = [_as_float(t, xl) for t, xl in zip(v_leaves, x_leaves, strict=True)]
    return tree_unflatten(x_def, _gradient_linearization(lin).pusher()(v_leaves, batch))


def hessian_diagonal(f: Callable, argnums=0, batch_size: int | None = None):
    """The exact diagonal ``H_ii`` of the Hessian of scalar ``f``.

    There is no exact shortcut for a general function: ``H_ii = e_i^T H e_i``
    needs every unit direction. This pushes all ``N`` of them through the
    recorded gradient in one forward-over-reverse pass (as :func:`hessian`) and
    keeps only the diagonal; ``batch_size`` splits the ``N`` directions into
    passes of that many rows to bound memory at ``batch_size * N`` numbers.

    Bishop's cheaper approximations (PRML 5.4) are not exact: the one offered
    here is the outer-product / Gauss-Newton diagonal of 5.4.2 (eq. 5.84, which
    drops the second derivatives of the network), :func:`gauss_newton_diagonal`.
    The Becker-Le Cun diagonal backpropagation of 5.4.1 (5.79-5.81, which also
    drops the off-diagonal terms inside the recursion) is not implemented: it
    needs the layered structure of a network rather than an arbitrary function.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")

    @functools.wraps(f)
    def diag(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        g = grad(_partial_args(f, args, nums, kwargs), argnums=tuple(range(len(nums))))
        primals = tuple(args[i] for i in nums)
        leaves, in_def = tree_flatten(primals)
        for x in leaves:
            check_differentiable(x)
        offs = _offsets(leaves)
        n = offs[-1]
        dtype = np.result_type(*[derivative_dtype(x) for x in leaves]) if leaves else np.float64
        eye = _identity_rows(leaves, dtype)
        step = n if batch_size is None else batch_size
        pieces: list[list] = [[] for _ in leaves]
        for s in range(0, n, max(step, 1)):
            e = min(s + step, n)
            seeds = tree_unflatten(in_def, [blk[s:e] for blk in eye])
            _, tans, _ = push_forward(g, primals, seeds, batch=(e - s,))
            for j, t in enumerate(tree_flatten(tans)[0]):
                lo, hi = max(s, offs[j]), min(e, offs[j + 1])
                if lo >= hi:
                    continue
                rows = np.arange(lo, hi)
                flat = reshape(t, (e - s, offs[j + 1] - offs[j]))
                pieces[j].append(getitem(flat, (rows - s, rows - offs[j])))
        out = []
        for j, x in enumerate(leaves):
            p = pieces[j]
            d = p[0] if len(p) == 1 else (np.zeros(0) if not p else np.concatenate(p))
            out.append(reshape(d, shape_of(x)))
        res = tree_unflatten(in_def, out)
        return res[0] if isinstance(argnums, int) else res

    return diag


# ------------------------------------------------------------------ linear maps
class LinearMap:
    """``dx -> J dx`` at a fixed point, from one recorded evaluation of ``f``.

    ``lin(*dx)`` pushes tangents forward along the recorded tape (``f`` is not
    run again); ``lin.T(ct)`` pulls cotangents back (``J^T ct``, one backward
    pass). Both accept leading batch axes on every leaf, so many perturbations
    (eq. 5.72) or many output rows go through in one pass. Maps compose with
    ``@``: ``(lin_y @ lin_z)(dw)`` is ``J_y J_z dw``, the chain of eq. 5.71, and
    ``(lin_y @ lin_z).T(g)`` is ``J_z^T J_y^T g``.
    """

    def __init__(self, fwd, bwd, n_in: int, n_out: int):
        self._fwd = fwd
        self._bwd = bwd
        self.n_in = n_in  # positional arguments taken by __call__
        self.n_out = n_out  # positional arguments taken by T (1: one output pytree)

    def __call__(self, *tangents):
        if len(tangents) != self.n_in:
            raise TypeError(f"this linear map takes {self.n_in} tangent argument(s), "
                            f"got {len(tangents)}")
        return self._fwd(*tangents)

    @property
    def T(self) -> LinearMap:
        """The transpose ``ct -> J^T ct`` (a vector-Jacobian product)."""
        return LinearMap(self._bwd, self._fwd, self.n_out, self.n_in)

    def __matmul__(self, other: LinearMap) -> LinearMap:
        if not isinstance(other, LinearMap):
            return NotImplemented
        a, b = self, other

        def fwd(*t):
            return a._fwd(*_spread(b._fwd(*t), a.n_in))

        def bwd(*c):
            return b._bwd(*_spread(a._bwd(*c), b.n_out))

        return LinearMap(fwd, bwd, b.n_in, a.n_out)


def _spread(value, n: int) -> tuple:
    if n == 1:
        return (value,)
    if not isinstance(value, tuple) or len(value) != n:
        raise TypeError(f"composed linear maps do not match: expected {n} values, got {value!r}")
    return value


def linearize(f: Callable, *primals):
    """``y, f_jvp = linearize(f, x)``: ``y = f(x)`` and the linear map ``dx -> J dx``.

    PRML eq. 5.72, ``dy ~= J dx``, is ``f_jvp(dx)``; eq. 5.71's chain of module
    Jacobians is ``(lin_E @ lin_y @ lin_z).T(1.0)``. ``f`` runs once, on a tape;
    each ``f_jvp`` call replays only the JVP rules, and ``f_jvp.T`` runs the
    backward pass (see :class:`LinearMap`). With several primals, ``f_jvp``
    takes one tangent per primal and ``f_jvp.T`` returns a tuple.
    """
    lin, out_def, in_def, _ = linearize_reverse(f, primals)
    lin.freeze()
    out = tree_unflatten(out_def, lin.out_values)
    push = lin.pusher()
    in_leaves = lin.in_leaves
    n_args = len(primals)

    def fwd(*tangents):
        t_leaves, t_def = tree_flatten(tuple(tangents))
        if t_def != in_def:
            raise ValueError(f"tangents must have the structure of the primals: {t_def!r} vs "
                             f"{in_def!r}")
        batch = _batch_of(in_leaves, t_leaves, "tangent")
        t_leaves = [_as_float(t, x) for t, x in zip(t_leaves, in_leaves, strict=True)]
        return tree_unflatten(out_def, push(t_leaves, batch))

    def bwd(ct):
        c_leaves, c_def = tree_flatten(ct)
        if c_def != out_def:
            raise ValueError(f"cotangent must have the structure of the output: {c_def!r} vs "
                             f"{out_def!r}")
        batch = _batch_of(lin.out_values, c_leaves, "cotangent")
        c_leaves = [_as_float(c, o) for c, o in zip(c_leaves, lin.out_values, strict=True)]
        res = tree_unflatten(in_def, lin.pull(c_leaves, batch=batch))
        return res[0] if n_args == 1 else res

    return out, LinearMap(fwd, bwd, n_args, 1)


# ------------------------------------------------------------------ Gauss-Newton
def ggnvp(f_inner: Callable, loss: Callable, params, v):
    """The generalised Gauss-Newton product ``G v = J^T H_L J v``.

    ``J = d f_inner / d params`` at ``params`` and ``H_L`` the Hessian of ``loss``
    at ``z = f_inner(params)``. This is the Hessian of ``loss(f_inner(params))``
    without the term that carries second derivatives of ``f_inner`` (PRML 5.83),
    positive semi-definite whenever ``H_L`` is. With ``loss = 0.5 * sum(r**2)``
    (``H_L = I``) it is Bishop's outer-product / Levenberg-Marquardt
    approximation ``sum_n b_n b_n^T v`` (5.84-5.85).

    ``f_inner`` runs once on a tape: ``J v`` replays its JVP rules, ``H_L (J v)``
    is one :func:`hvp` of the loss, and ``J^T (...)`` one backward pass.
    ``v`` has the structure of ``params`` and may carry leading batch axes.
    """
    z, lin = linearize(f_inner, params)
    return lin.T(hvp(loss, z, lin(v)))


def gauss_newton_diagonal(f_inner: Callable, loss: Callable, params):
    """``diag(J^T H_L J)``: the diagonal of the Gauss-Newton matrix of :func:`ggnvp`.

    Bishop's outer-product approximation (PRML 5.84) reduced to its diagonal,
    ``sum_n (d y_n / d w_i)^2`` when ``H_L = I``. Computed exactly, from one
    vectorised Jacobian of ``f_inner`` (``mode="auto"``) and the Hessian of
    ``loss`` at ``z``: ``G_ii = sum_ab J_ai (H_L)_ab J_bi``. Returns plain arrays
    shaped like ``params``.
    """
    z = f_inner(params)
    p_leaves, p_def = tree_flatten(params)
    z_leaves, z_def = tree_flatten(z)
    jac = jacobian(f_inner)(params)
    hess = hessian(loss)(z)
    m = sum(_size(o) for o in z_leaves)

    def as_matrix(block_tree, leaves_in):
        # an output tree of input trees of blocks -> one (M, total input size) matrix
        rows = []
        for o, sub in zip(z_leaves, _outer_leaves(block_tree, z_def), strict=True):
            blocks = tree_flatten(sub)[0]
            rows.append(np.concatenate([np.reshape(unbox_all(b), (_size(o), _size(x)))
                                        for b, x in zip(blocks, leaves_in, strict=True)], axis=1))
        return np.concatenate(rows, axis=0)

    J = as_matrix(jac, p_leaves)  # (M, N)
    H = as_matrix(hess, z_leaves)  # (M, M)
    d = np.sum(J * (H @ J), axis=0) if m else np.zeros(J.shape[1])
    offs = _offsets(p_leaves)
    return tree_unflatten(p_def, [d[offs[j]:offs[j + 1]].reshape(shape_of(x))
                                  for j, x in enumerate(p_leaves)])


def _outer_leaves(tree, out_def):
    """Split a Jacobian tree (output tree of input trees) into one input tree per output leaf."""
    if out_def.kind == "leaf":
        return [tree]
    if out_def.kind == "none":
        return []
    children = [tree[k] for k in out_def.meta] if out_def.kind is dict else list(tree)
    res = []
    for sub, c in zip(children, out_def.children, strict=True):
        res += _outer_leaves(sub, c)
    return res

