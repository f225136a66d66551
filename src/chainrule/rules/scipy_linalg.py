"""``scipy.linalg``'s matrix functions and structured solves, differentiable.

Primitives (VJP and JVP beside each): ``expm``, ``logm``, ``sqrtm`` (primary matrix functions),
``solve_sylvester``, ``solve_banded``, ``lu_factor``. Composites: ``expm_frechet`` (blocks of one
``expm``), ``lu_solve`` (a permutation and two triangular solves), ``block_diag`` (concatenations
with zero blocks).

The derivative of a primary matrix function ``f`` at ``A`` in the direction ``E`` is the Fréchet
derivative ``L_f(A, E)``, the top-right block of ``f([[A, E], [0, A]])`` (Higham, *Functions of
Matrices*, Thm 3.6; Mathias 1996). The JVP is written exactly so, with the primitive itself, so
every order composes; the VJP is ``L_f(A^T, g)`` (for ``f`` with real Taylor coefficients,
``L_f(A, .)``'s transpose under ``<X, Y> = sum X Y`` is ``L_f(A^T, .)``). A leading batch of
tangents or cotangents is a stack of block matrices (SciPy's matrix functions take stacks).

SciPy's functions convert their arguments to ndarrays and never see a traced value, so these
are called as ``chainrule.scipy.linalg.*`` inside a transform.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as shape
from ..core.primitive import Box, Primitive, strip_derivatives
from . import elementwise as _ew
from . import reductions as _red
from . import shape as _shape_ops
from .linalg import _asarray, _check_square, _inexact, _reshape, _sum_to, matmul, mT, solve_triangular_p
from .linear import lift, ndim


def _scipy_linalg():
    import scipy.linalg  # imported when first used: importing scipy.linalg costs ~0.5 s

    return scipy.linalg


# ================================================================ primary matrix functions
def _frechet(prim, a, e):
    """``L_f(A, E)``: the top-right block of ``f([[A, E], [0, A]])`` (``E`` may carry a batch)."""
    n = shape(a)[-1]
    full = shape(e)
    a = a if shape(a) == full else _shape_ops.broadcast_to(a, full)
    zero = np.zeros(full, dtype=np.result_type(dtype_of(a), dtype_of(e)))
    top = _shape_ops.concatenate([a, e], axis=-1)
    bottom = _shape_ops.concatenate([zero, a], axis=-1)
    big = prim(_shape_ops.concatenate([top, bottom], axis=-2))
    return _shape_ops.getitem(big, (Ellipsis, slice(None, n), slice(n, None)))


def _real_result(name, a, out):
    """A real matrix's function, real: SciPy returns complex where the principal branch is."""
    if np.iscomplexobj(out) and not np.iscomplexobj(a):
        if np.any(out.imag != 0):
            raise ValueError(f"{name}: the result for this real matrix is complex (an eigenvalue on "
                             "the closed negative real axis); pass a complex matrix")
        out = out.real
    return out.astype(np.result_type(a.dtype, np.float32), copy=False)


def _matrix_function(name, scipy_name, formula):
    def impl(a):
        return _real_result(name, a, getattr(_scipy_linalg(), scipy_name)(a))

    prim = Primitive(name, impl, saves=(0,), doc=f"{formula} (scipy.linalg.{scipy_name})")
    prim.defjvp(lambda t, ans, a: _frechet(prim, a, lift(t, a, ans)))
    prim.defvjp(lambda g, ans, a: _frechet(prim, mT(a), g))
    return prim


expm_p = _matrix_function("expm", "expm", "the matrix exponential")
logm_p = _matrix_function("logm", "logm", "the principal matrix logarithm")
sqrtm_p = _matrix_function("sqrtm", "sqrtm", "the principal matrix square root")


def _call(prim, name, a):
    a = _asarray(a)
    _check_square(name, a)
    if dtype_of(a).kind not in "fc":
        a = a.astype(np.float64) if isinstance(a, np.ndarray) else a * 1.0
    return prim(a)


def expm(A):
    """``exp(A)`` of a square matrix or a stack. JVP ``L_exp(A, E)``, the top-right block of
    ``exp([[A, E], [0, A]])`` (``scipy.linalg.expm_frechet``'s quantity); VJP ``L_exp(A^T, g)``."""
    return _call(expm_p, "expm", A)


def expm_frechet(A, E, method=None, compute_expm=True, check_finite=True):
    """``(expm(A), L_exp(A, E))`` (or the Fréchet derivative alone), as ``scipy.linalg.expm_frechet``:
    the blocks of ``expm([[A, E], [0, A]])``, differentiable in ``A`` and ``E`` to any order."""
    a, e = _asarray(A), _asarray(E)
    _check_square("expm_frechet", a)
    if shape(e) != shape(a):
        raise ValueError(f"expm_frechet: A and E must have the same shape; got {shape(a)} and {shape(e)}")
    frechet = _frechet(expm_p, a, e)
    return (expm(a), frechet) if compute_expm else frechet


def logm(A, disp=True):
    """The principal logarithm. Derivative ``L_log(A, E)`` from ``logm([[A, E], [0, A]])``; a real
    ``A`` whose logarithm is complex (an eigenvalue on the negative real axis) is an error."""
    return _call(logm_p, "logm", A)


def sqrtm(A, disp=True, blocksize=64):
    """The principal square root ``X`` (``X @ X = A``). Its derivative solves ``X dX + dX X = dA``;
    computed as the Fréchet derivative ``sqrtm([[A, E], [0, A]])[:n, n:]``. A real ``A`` whose
    square root is complex is an error."""
    return _call(sqrtm_p, "sqrtm", A)


# ================================================================ Sylvester
def _sylvester_impl(a, b, q):
    sl = _scipy_linalg()
    stack = np.broadcast_shapes(a.shape[:-2], b.shape[:-2], q.shape[:-2])
    n, m = q.shape[-2:]
    out = np.result_type(a, b, q, np.float32)
    a = np.broadcast_to(a, stack + a.shape[-2:])
    b = np.broadcast_to(b, stack + b.shape[-2:])
    q = np.broadcast_to(q, stack + (n, m))
    return np.asarray(sl.solve_sylvester(a, b, q), dtype=out)


def _sylvester_vjp_q(g, ans, a, b, q):
    return _sum_to(sylvester_p(mT(a), mT(b), g), ndim(g) - ndim(ans), shape(q))


def _sylvester_vjp_a(g, ans, a, b, q):
    gq = sylvester_p(mT(a), mT(b), g)
    return _sum_to(-matmul(gq, mT(ans)), ndim(g) - ndim(ans), shape(a))


def _sylvester_vjp_b(g, ans, a, b, q):
    gq = sylvester_p(mT(a), mT(b), g)
    return _sum_to(-matmul(mT(ans), gq), ndim(g) - ndim(ans), shape(b))


sylvester_p = Primitive("solve_sylvester", _sylvester_impl, saves=(0, 1, "ans"),
                        doc="X with A X + X B = Q")
sylvester_p.defvjp(_sylvester_vjp_a, _sylvester_vjp_b, _sylvester_vjp_q)
sylvester_p.defjvp(lambda t, ans, a, b, q: -sylvester_p(a, b, matmul(lift(t, a, ans), ans)),
                   lambda t, ans, a, b, q: -sylvester_p(a, b, matmul(ans, lift(t, b, ans))),
                   lambda t, ans, a, b, q: sylvester_p(a, b, lift(t, q, ans)))


def solve_sylvester(a, b, q):
    """``X`` with ``A X + X B = Q`` (``A``: n x n, ``B``: m x m, ``Q``: n x m; stacks broadcast).

    JVP ``dX = sylv(A, B, dQ - dA X - X dB)``; VJP ``gQ = sylv(A^T, B^T, g)``, ``gA = -gQ X^T``,
    ``gB = -X^T gQ``."""
    a, b, q = _asarray(a), _asarray(b), _asarray(q)
    _check_square("solve_sylvester", a)
    _check_square("solve_sylvester", b)
    if ndim(q) < 2 or shape(q)[-2:] != (shape(a)[-1], shape(b)[-1]):
        raise ValueError(f"solve_sylvester: q must be (..., {shape(a)[-1]}, {shape(b)[-1]}) for a of "
                         f"shape {shape(a)} and b of shape {shape(b)}; got {shape(q)}")
    return sylvester_p(a, b, q)


# ================================================================ banded solves
def _band_index(l_and_u, n):
    """Index arrays for a band ``ab`` (``(l + u + 1, n)``, ``ab[u + i - j, j] = A[i, j]``): for each
    row ``r`` and column ``i`` of the result of ``A x``, the column ``j = i + u - r`` it reads, and
    whether it lies inside the matrix."""
    lo, up = l_and_u
    r = np.arange(lo + up + 1)[:, None]
    j = np.arange(n)[None, :] + up - r
    inside = (j >= 0) & (j < n)
    return np.broadcast_to(r, j.shape), np.clip(j, 0, n - 1), inside


def _band_matvec(ab, x, l_and_u):
    """``A x`` for ``A`` in banded storage: ``y[i] = sum_r ab[r, i + u - r] x[i + u - r]``.
    ``ab`` and ``x`` (``(..., n, k)``) may carry leading batch axes."""
    n = shape(ab)[-1]
    rows, cols, inside = _band_index(l_and_u, n)
    prod = _reshape(ab, shape(ab) + (1,)) * _reshape(x, shape(x)[:-2] + (1,) + shape(x)[-2:])
    picked = _shape_ops.getitem(prod, (Ellipsis, rows, cols, slice(None)))
    mask = inside[:, :, None].astype(_inexact(picked))
    return _red.sum(picked * mask, axis=-3)


def _band_transpose(ab, l_and_u):
    """``A^T``'s band (``(u, l)`` swapped): ``abT[r, j] = ab[l + u - r, j + r - l]``."""
    lo, up = l_and_u
    n = shape(ab)[-1]
    r = np.arange(lo + up + 1)[:, None]
    j = np.arange(n)[None, :] + r - lo
    inside = (j >= 0) & (j < n)
    picked = _shape_ops.getitem(ab, (Ellipsis, np.broadcast_to(lo + up - r, j.shape), np.clip(j, 0, n - 1)))
    return picked * inside.astype(_inexact(picked))


def _banded_impl(ab, b, l_and_u):
    return _scipy_linalg().solve_banded(l_and_u, ab, b, check_finite=False)


def _banded_vjp_ab(g, ans, ab, b, l_and_u):
    """``gab[r, j] = -sum_k gb[j + r - u, k] x[j, k]`` (the band of ``-gb x^T``)."""
    lo, up = l_and_u
    gb = banded_p(_band_transpose(ab, l_and_u), g, l_and_u=(up, lo))
    n = shape(ab)[-1]
    r = np.arange(lo + up + 1)[:, None]
    i = np.arange(n)[None, :] + r - up
    inside = (i >= 0) & (i < n)
    picked = _shape_ops.getitem(gb, (Ellipsis, np.clip(i, 0, n - 1), slice(None)))  # (..., L, n, k)
    prod = picked * _reshape(ans, shape(ans)[:-2] + (1,) + shape(ans)[-2:])
    gab = -_red.sum(prod, axis=-1) * inside.astype(_inexact(picked))
    return _sum_to(gab, ndim(g) - ndim(ans), shape(ab))  # b's stack axes share the one band


banded_p = Primitive("solve_banded", _banded_impl, saves=(0, "ans"),
                     doc="A^{-1} b for A in banded storage ab, b of shape (..., n, k)")
banded_p.defvjp(
    _banded_vjp_ab,
    lambda g, ans, ab, b, l_and_u: _sum_to(
        banded_p(_band_transpose(ab, l_and_u), g, l_and_u=l_and_u[::-1]), ndim(g) - ndim(ans), shape(b)))
banded_p.defjvp(
    lambda t, ans, ab, b, l_and_u: -banded_p(ab, _band_matvec(lift(t, ab, ans), ans, l_and_u),
                                             l_and_u=l_and_u),
    lambda t, ans, ab, b, l_and_u: banded_p(ab, lift(t, b, ans), l_and_u=l_and_u))


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """``A^{-1} b`` with ``A`` in LAPACK's banded storage ``ab[u + i - j, j] = A[i, j]``
    (``scipy.linalg.solve_banded``); ``b`` is ``(n,)`` or ``(..., n, k)``, ``ab`` one band.

    JVP ``A^{-1} (db - dA x)``; VJP ``gb = A^{-T} g`` (a banded solve with ``A^T``'s band),
    ``gab`` the band of ``-gb x^T``: both O(n (l + u) k), no dense matrix is formed. Entries of
    ``ab`` outside the matrix (its corners) are never read and get a zero gradient."""
    ab, b = _asarray(ab), _asarray(b)
    lo, up = (int(v) for v in l_and_u)
    if ndim(ab) != 2 or shape(ab)[0] != lo + up + 1:
        raise ValueError(f"solve_banded: ab must have shape ({lo + up + 1}, n) for (l, u) = ({lo}, {up}); "
                         f"got {shape(ab)}")
    n = shape(ab)[1]
    if ndim(b) == 0 or shape(b)[0 if ndim(b) == 1 else -2] != n:
        raise ValueError(f"solve_banded: b must be ({n},) or (..., {n}, k); got {shape(b)}")
    if ndim(b) == 1:
        return _reshape(banded_p(ab, _reshape(b, (n, 1)), l_and_u=(lo, up)), (n,))
    return banded_p(ab, b, l_and_u=(lo, up))


# ================================================================ LU
def _permutation(piv):
    """LAPACK's row interchanges (row ``i`` swapped with ``piv[i]``, in order) as a permutation
    ``perm`` with ``A[perm] = L U``; stacks pivot row by row. Pivots that are traced values
    (``vmap``'s batch of them, ``jit``'s staged ones) are swapped with elementwise ops and
    gathers, so one program serves every example."""
    if isinstance(piv, Box):
        n = shape(piv)[-1]
        ar = np.arange(n)
        perm = _ew.add(_ew.multiply(piv, 0), ar)
        for i in range(n):
            j = _shape_ops.getitem(piv, (Ellipsis, slice(i, i + 1)))
            at_i = _shape_ops.getitem(perm, (Ellipsis, slice(i, i + 1)))
            at_j = _shape_ops.take_along_axis(perm, j, axis=-1)
            perm = _ew.where(ar == i, at_j, _ew.where(_ew.equal(ar, j), at_i, perm))
        return perm
    piv = np.asarray(piv)
    perm = np.broadcast_to(np.arange(piv.shape[-1]), piv.shape).copy()
    flat_perm, flat_piv = perm.reshape(-1, piv.shape[-1]), piv.reshape(-1, piv.shape[-1])
    for p, v in zip(flat_perm, flat_piv):
        for i, j in enumerate(v):
            p[i], p[j] = p[j], p[i]
    return perm


def _inverse(perm):
    """The inverse permutation: ``inv[perm[i]] = i`` (``argsort``; for traced ``perm`` the
    sum of ``i`` over the one-hot matches, exact in integers)."""
    if not isinstance(perm, Box):
        return np.argsort(perm, axis=-1)
    n = shape(perm)[-1]
    hits = _ew.equal(_shape_ops.expand_dims(perm, -1), np.arange(n))  # [..., i, k]: perm[i] == k
    return _red.sum(_ew.where(hits, np.arange(n)[:, None], 0), axis=-2)


def _lu_impl(a):
    lu, piv = _scipy_linalg().lu_factor(a, check_finite=False)
    return lu, piv


def _tri(a, b, trans, lower, unit):
    """``op(A)^{-1} b`` for triangular ``A`` and ``b`` of shape ``(..., n, k)``: the primitive itself,
    whose rules are plain transposes, so complex (holomorphic) LU factors are solved too."""
    return solve_triangular_p(a, b, trans=trans, lower=lower, unit=unit)


def _lu_parts(lu):
    n = shape(lu)[-1]
    dt = _inexact(lu)
    low = lu * np.tri(n, n, -1, dtype=dt) + np.eye(n, dtype=dt)
    up = lu * np.triu(np.ones((n, n), dtype=dt))
    return low, up


def _rows_of(x, perm):
    """``x[..., perm[...], :]`` for a stack of permutations (``x`` may carry a leading batch)."""
    stack = perm.shape[:-1]
    if not stack:
        return _shape_ops.getitem(x, (Ellipsis, perm, slice(None)))
    idx = tuple(np.arange(s).reshape((-1,) + (1,) * (len(stack) - k)) for k, s in enumerate(stack))
    return _shape_ops.getitem(x, (Ellipsis,) + idx + (perm, slice(None)))


def _lu_jvp(t, ans, a):
    """``X = L^{-1} dA[perm] U^{-1}``: ``dlu = L tril(X, -1) + triu(X) U``."""
    lu, piv = ans
    low, up = _lu_parts(lu)
    n = shape(lu)[-1]
    perm = _permutation(strip_derivatives(piv))
    y = _tri(low, _rows_of(t, perm), trans=False, lower=True, unit=True)
    x = mT(_tri(up, mT(y), trans=True, lower=False, unit=False))
    dt = _inexact(x)
    strict, upper = np.tri(n, n, -1, dtype=dt), np.triu(np.ones((n, n), dtype=dt))
    return matmul(low, x * strict) + matmul(x * upper, up), None


def _lu_vjp(g, ans, a):
    """``gX = tril(L^T gL, -1) + triu(gU U^T)``, ``gA[perm] = L^{-T} gX U^{-T}``."""
    lu, piv = ans
    glu = g[0]
    low, up = _lu_parts(lu)
    n = shape(lu)[-1]
    dt = _inexact(glu)
    strict, upper = np.tri(n, n, -1, dtype=dt), np.triu(np.ones((n, n), dtype=dt))
    gx = matmul(mT(low), glu * strict) * strict + matmul(glu * upper, mT(up)) * upper
    z = _tri(low, gx, trans=True, lower=True, unit=True)
    gperm = mT(_tri(up, mT(z), trans=False, lower=False, unit=False))  # L^{-T} gX U^{-T}
    perm = _permutation(strip_derivatives(piv))
    return _rows_of(gperm, _inverse(perm))


lu_p = Primitive("lu_factor", _lu_impl, multiple_results=True, saves=("ans",),
                 doc="packed LU factors and LAPACK pivots: A[perm] = L U")
lu_p.defvjp(_lu_vjp)
lu_p.defjvp(_lu_jvp)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """``(lu, piv)`` as ``scipy.linalg.lu_factor``: ``L`` (unit diagonal, not stored) and ``U`` packed
    in ``lu``, ``piv`` LAPACK's row interchanges (an integer array, no derivative).

    With ``A[perm] = L U`` and ``X = L^{-1} dA[perm] U^{-1}``: ``dL = L tril(X, -1)``,
    ``dU = triu(X) U``. A pivot choice is piecewise constant; where it changes (ties in a column's
    largest magnitude) the factors jump and the derivative is one-sided. Under ``vmap`` and ``jit``
    the pivots stay traced (one per example, or staged) and ``lu_solve`` turns them into a
    permutation with elementwise ops and gathers, so neither reads their values."""
    a = _asarray(a)
    _check_square("lu_factor", a)
    lu, piv = lu_p(a)
    return lu, strip_derivatives(piv)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """``A^{-1} b`` (``trans`` 1: ``A^{-T} b``, 2: ``A^{-H} b``) from :func:`lu_factor`'s output: a
    permutation and two triangular solves, differentiable in ``lu`` and ``b``."""
    lu, piv = lu_and_piv
    lu, b = _asarray(lu), _asarray(b)
    perm = _permutation(strip_derivatives(piv))
    vector = ndim(b) == 1
    if vector:
        b = _reshape(b, shape(b) + (1,))
    if trans in (0, "N"):
        y = _tri(lu, _rows_of(b, perm), trans=False, lower=True, unit=True)
        x = _tri(lu, y, trans=False, lower=False, unit=False)
    elif trans in (1, 2, "T", "C"):
        # A^H x = b is A^T conj(x) = conj(b); for a real A, trans 2 is trans 1
        conj = trans in (2, "C") and (dtype_of(lu).kind == "c" or dtype_of(b).kind == "c")
        if conj:
            b = _ew.conj(b)
        z = _tri(lu, b, trans=True, lower=False, unit=False)
        w = _tri(lu, z, trans=True, lower=True, unit=True)
        x = _rows_of(w, _inverse(perm))
        if conj:
            x = _ew.conj(x)
    else:
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    return _reshape(x, shape(x)[:-1]) if vector else x


# ================================================================ block_diag
def block_diag(*arrs):
    """``scipy.linalg.block_diag``: the arrays (0-d and 1-d ones as one row) on the diagonal of a
    zero matrix. Linear: each block's derivative is the matching block."""
    if not arrs:
        return np.empty((1, 0))
    blocks = []
    for x in arrs:
        x = _asarray(x)
        if ndim(x) > 2:
            raise ValueError(f"block_diag: arguments must have at most 2 dimensions; got shape {shape(x)}")
        blocks.append(_reshape(x, (1,) * (2 - ndim(x)) + shape(x)))
    dt = np.result_type(*[dtype_of(x) for x in blocks])
    widths = [shape(x)[1] for x in blocks]
    total = sum(widths)
    rows, left = [], 0
    for x, w in zip(blocks, widths):
        h = shape(x)[0]
        parts = [np.zeros((h, left), dt), x, np.zeros((h, total - left - w), dt)]
        rows.append(_shape_ops.concatenate(parts, axis=1))
        left += w
    return _shape_ops.concatenate(rows, axis=0)
