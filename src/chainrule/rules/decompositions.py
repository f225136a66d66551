"""Matrix decompositions: ``svd``, ``qr``, ``eig``, and what is built on them.

Primitives (VJP and JVP beside each): ``svd`` (tall matrices, ``m >= n``), ``qr`` (``m >= n``),
``eig``, ``pinv``. Composites: ``svdvals``, ``eigvals``, ``lstsq``, ``cond``, and ``norm`` with
the spectral orders (``2``, ``-2``, ``'nuc'``) on matrices. A wide matrix is decomposed through its
transpose (``svd``) or as ``[X | Y]`` with ``X`` square (``qr``, JAX's construction), so the rules
are written once.

Conventions (see also ``rules/linalg.py``): matrices are the last two axes, any axes before them a
stack; cotangents and tangents carry extra *leading* batch axes, which every rule lets through
(``matmul`` broadcasts right-aligned, singular values and eigenvalues scale rows or columns by
broadcasting from the right). Complex matrices are supported throughout, with JAX's convention:
a VJP is the transpose of the JVP under ``<X, Y> = Re sum X Y``, which for these non-holomorphic
maps is ``conj(adjoint(conj(g)))``, the adjoint being the familiar formula with ``^H``.

Degenerate points, as in JAX (and as ``eigh`` does): the derivatives of singular vectors and of
eigenvectors divide by the gaps ``s_j^2 - s_i^2`` and ``w_j - w_i``. Where two singular values
(eigenvalues) coincide the vectors are not differentiable (not even unique) and the derivative
comes out ``inf``/``nan`` (near such a point it is finite but as large as ``1 / gap``); so do a
tall/wide SVD's vector derivatives at a zero singular value,
and QR's at a zero on ``R``'s diagonal (rank deficiency). Functions of the singular values alone
(``svdvals``, the nuclear and spectral norms, ``cond``) and of the eigenvalues alone
(``eigvals``) need no gap at first order: their VJPs skip the gap matrix when no cotangent
reaches the vectors. No value is read to detect these points (that would stop ``jit`` from
staging), so they are not reported by an error; ``chainrule.debug_nans`` finds the operation.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as shape
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from . import elementwise as _ew
from . import linalg as _la
from . import reductions as _red
from . import shape as _shape_ops
from ._util import agreed
from .dispatch import implements
from .linalg import _asarray, _check_square, _eye, _inexact, _reshape, matmul, mT
from .linalg import solve as _solve
from .linear import astype, ndim

SVDResult = type(np.linalg.svd(np.eye(1)))
QRResult = type(np.linalg.qr(np.eye(1)))
EigResult = type(np.linalg.eig(np.eye(1)))
LstsqResult = tuple


# ---------------------------------------------------------------- helpers
def _cols(s):
    """A vector ``(..., k)`` as ``(..., 1, k)``: ``X * _cols(s)`` is ``X diag(s)``."""
    return _reshape(s, shape(s)[:-1] + (1, shape(s)[-1]))


def _rows(s):
    """A vector ``(..., k)`` as ``(..., k, 1)``: ``_rows(s) * X`` is ``diag(s) X``."""
    return _reshape(s, shape(s) + (1,))


def _diag_part(m):
    """The diagonal of the last two axes, ``(..., k)``."""
    return _shape_ops.diagonal(m, 0, -2, -1)


def _diag_matrix(v):
    return _rows(v) * _eye(shape(v)[-1], _inexact(v))


def _gap_inverse(d):
    """``F[i, j] = 1 / d[..., i, j]`` off the diagonal, 0 on it (``d`` antisymmetric gaps)."""
    n = shape(d)[-1]
    eye = np.eye(n, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ew.where(eye, 0.0, 1.0 / _ew.where(eye, 1.0, d))


def _square_gaps(s):
    """``F[i, j] = 1 / (s_j^2 - s_i^2)`` (0 on the diagonal)."""
    s2 = s * s
    return _gap_inverse(_cols(s2) - _rows(s2))


def _split(x, k, axis):
    """``x[..., :k, :]`` and ``x[..., k:, :]`` (``axis=-2``) or the same over columns."""
    head = (Ellipsis, slice(None, k)) + ((slice(None),) if axis == -2 else ())
    tail = (Ellipsis, slice(k, None)) + ((slice(None),) if axis == -2 else ())
    return _shape_ops.getitem(x, head), _shape_ops.getitem(x, tail)


def _check_matrix(name, a):
    if ndim(a) < 2:
        raise np.linalg.LinAlgError(
            f"{name}: expected a matrix or a stack of them, shape (..., m, n); got shape {shape(a)}")


# ================================================================ svd
def _svd_impl(a, full):
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    return u, s, np.conj(np.swapaxes(vh, -1, -2)) if np.iscomplexobj(vh) else np.swapaxes(vh, -1, -2)


def _is_complex(x) -> bool:
    return dtype_of(x).kind == "c"


def _H(x):
    """The conjugate transpose of the last two axes (the transpose of a real matrix)."""
    return _ew.conj(mT(x)) if _is_complex(x) else mT(x)


def _conj(x):
    return _ew.conj(x) if _is_complex(x) else x


def _imag_diag(p, s):
    """``diag(i Im(P_kk) / s_k)``: the phase term of a complex SVD's ``dU`` (JAX's choice of gauge)."""
    return _diag_matrix(1j * _ew.imag(_diag_part(p)) / s)


def _svd_jvp(t, ans, a, full):
    """Tall ``A = U1 S V^H`` (``U1``: the first ``n`` columns of ``U``); ``P = U1^H dA V``:

    ``dS = Re diag(P)``, ``dV = V (F o (S P + P^H S))``,
    ``dU1 = U1 (F o (P S + S P^H) + i Im diag(P) S^{-1}) + (dA V - U1 P) S^{-1}``,
    ``dU2 = -U1 S^{-1} (U2^H dA V)^H`` (full ``U``: the complement's columns turn only into the
    range, the minimal rotation that keeps ``U`` unitary), ``F_ij = 1 / (s_j^2 - s_i^2)``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # inf/nan at repeated values: documented
        return _svd_jvp_body(t, ans, a, full)


def _svd_jvp_body(t, ans, a, full):
    u, s, v = ans
    m, n = shape(a)[-2:]
    u1 = _split(u, n, -1)[0] if full and m > n else u
    dav = matmul(t, v)
    p = matmul(_H(u1), dav)
    f = _square_gaps(s)
    ds = _ew.real(_diag_part(p)) if _is_complex(p) else _diag_part(p)
    sc = _cols(s)
    dv = matmul(v, f * (_rows(s) * p + _H(p) * sc))
    inner = f * (p * sc + _rows(s) * _H(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        if _is_complex(p):
            inner = inner + _imag_diag(p, s)
        du = matmul(u1, inner)
        if m > n:
            du = du + (dav - matmul(u1, p)) / sc
            if full:
                u2 = _split(u, n, -1)[1]
                du2 = -matmul(u1, _H(matmul(_H(u2), dav) / sc))
                du = _shape_ops.concatenate([du, du2], axis=-1)
    return du, ds, dv


def _svd_vjp(g, ans, a, full):
    """The transpose of :func:`_svd_jvp` under ``<X, Y> = Re sum X Y``: ``conj`` of the adjoint
    ``U1 (J S + diag(gS) + S K + i Im diag(U1^H gU1) S^{-1}) V^H + (I - U1 U1^H) gU1 S^{-1} V^H
    - U2 gU2^H U1 S^{-1} V^H`` taken at the conjugated cotangents, with
    ``J = F o (U1^H gU1 - gU1^H U1)``, ``K = F o (V^H gV - gV^H V)``. Without cotangents on ``U``
    and ``V`` it is ``conj(U1 diag(gS) V^H)``, with no gap.
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # inf/nan at repeated values: documented
        return _svd_vjp_body(g, ans, a, full)


def _svd_vjp_body(g, ans, a, full):
    u, s, v = ans
    gu, gs, gv = g
    m, n = shape(a)[-2:]
    u1, u2 = _split(u, n, -1) if full and m > n else (u, None)
    sc = _cols(s)
    inner = 0.0 if gs is None else _diag_matrix(gs)
    extra = None  # the part outside U1's span, before the final V^H
    if gu is not None or gv is not None:
        f = _square_gaps(s)
        if gu is not None:
            gu = _conj(gu)
            gu1, gu2 = _split(gu, n, -1) if full and m > n else (gu, None)
            ug = matmul(_H(u1), gu1)
            inner = inner + (f * (ug - _H(ug))) * sc
            with np.errstate(divide="ignore", invalid="ignore"):
                if _is_complex(ug):
                    inner = inner + _imag_diag(ug, s)
                if m > n:
                    extra = (gu1 - matmul(u1, ug)) / sc
                if gu2 is not None:
                    extra = extra - matmul(u2, matmul(_H(gu2), u1)) / sc
        if gv is not None:
            vg = matmul(_H(v), _conj(gv))
            inner = inner + _rows(s) * (f * (vg - _H(vg)))
    ga = matmul(u1, inner) if extra is None else matmul(u1, inner) + extra
    return _conj(matmul(ga, _H(v)))


svd_p = Primitive("svd", _svd_impl, multiple_results=True, saves=("ans",),
                  doc="A = U diag(s) V^H of a tall matrix (m >= n); returns (U, s, V)")
svd_p.defvjp(_svd_vjp)
svd_p.defjvp(_svd_jvp)


def _svdvals_jvp(t, ans, a):
    """``ds = Re diag(U^H dA V)``: the singular vectors come from :data:`svd_p` (differentiable, so
    higher orders compose), and no gap matrix is formed at first order."""
    u, _, v = svd_p(a, full=False)
    ds = _red.sum(_conj(u) * matmul(t, v), axis=-2)  # diag(U^H dA V)
    return _ew.real(ds) if _is_complex(ds) else ds


def _svdvals_vjp(g, ans, a):
    """``gA = conj(U diag(g) V^H)`` (``U diag(g) V^T`` for a real matrix)."""
    u, _, v = svd_p(a, full=False)
    return _conj(matmul(u * _cols(g), _H(v)))


svdvals_p = Primitive("svdvals", lambda a: np.linalg.svd(a, compute_uv=False), saves=(0,),
                      doc="the singular values of a tall matrix (m >= n), descending")
svdvals_p.defvjp(_svdvals_vjp)
svdvals_p.defjvp(_svdvals_jvp)


def _hermitian_svd(a, compute_uv):
    """NumPy's ``hermitian=True`` path, step for step, with differentiable operations: ``eigh``, then
    ``s = |w|`` sorted descending (the order and the signs are read from the values, as NumPy
    does), ``U`` the eigenvectors in that order and ``Vh = (U sign(w))^T``."""
    _check_square("svd", a)
    w, v = _la.eigh(a)
    values = np.asarray(unbox_all(w))
    order = np.argsort(np.abs(values), axis=-1)[..., ::-1]
    s = _shape_ops.take_along_axis(_ew.absolute(w), order, axis=-1)
    if not compute_uv:
        return s
    signs = np.take_along_axis(np.sign(values), order, axis=-1).astype(_inexact(a))
    u = _shape_ops.take_along_axis(v, np.broadcast_to(order[..., None, :], shape(v)), axis=-1)
    return SVDResult(u, s, mT(u * signs[..., None, :]))


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """NumPy's ``svd``: ``A = U diag(s) Vh``, singular values descending; ``s`` alone when
    ``compute_uv`` is false. ``hermitian`` is accepted and ignored: the general SVD is computed (the
    same ``s``; the signs of ``U``'s and ``Vh``'s columns may differ from NumPy's eigh-based path).

    Derivatives (tall ``A``; a wide one goes through ``A^H = V S U^H``), with ``P = U^H dA V`` and
    ``F_ij = 1 / (s_j^2 - s_i^2)``: ``ds = Re diag(P)``, ``dV = V (F o (S P + P^H S))``,
    ``dU = U (F o (P S + S P^H) + i Im diag(P) S^{-1}) + (I - U U^H) dA V S^{-1}`` (JAX's formula;
    for a complex matrix each pair of singular vectors has a free phase, and the last term is
    JAX's choice for it, so only phase-invariant functions such as ``U diag(s) Vh`` or
    ``|U|`` have meaningful derivatives). ``full_matrices`` with ``m != n``: the complement's
    columns ``U2`` move only into the range, ``dU2 = -U S^{-1} V^H dA^H U2`` (they are an
    arbitrary basis, so only functions of ``U2`` that do not depend on its basis, like
    ``U2 U2^H``, have a meaningful derivative).

    At repeated singular values (and, for non-square ``A``, at a zero one) the derivatives of ``U``
    and ``Vh`` are ``inf``/``nan``, as in JAX; the singular values' own are always finite.
    """
    a = _asarray(a)
    _check_matrix("svd", a)
    if hermitian and not _is_complex(a):
        return _hermitian_svd(a, compute_uv)
    m, n = shape(a)[-2:]
    wide = m < n
    if not compute_uv:  # its own primitive: no singular vectors' derivatives (nor gaps) are formed
        return svdvals_p(_H(a) if wide else a)
    u, s, v = svd_p(_H(a) if wide else a, full=bool(full_matrices))
    if wide:  # A^H = U' S V'^H, so A = V' S U'^H
        u, v = v, u
    return SVDResult(u, s, _H(v))


def svdvals(x, /):
    """NumPy 2's ``linalg.svdvals``: the singular values, descending. VJP ``U diag(g) V^T``."""
    return svd(x, full_matrices=False, compute_uv=False)


if hasattr(np.linalg, "svdvals"):
    implements(np.linalg.svdvals)(svdvals)


# ================================================================ qr
def _right_solve_upper(x, r):
    """``X R^{-1}`` for upper-triangular ``R``: ``(R^{-T} X^T)^T`` (plain transposes: linear in ``X``
    over the complex numbers too)."""
    return mT(_la.solve_triangular_p(r, mT(x), trans=True, lower=False, unit=False))


def _tril_strict(x):
    n = shape(x)[-1]
    return x * np.tri(n, n, -1, dtype=_inexact(x))


def _antihermitian_part(c):
    """``W = tril(C, -1) - tril(C, -1)^H + i Im diag(C)``: what keeps ``Q^H dQ`` anti-Hermitian and
    ``R``'s diagonal real."""
    low = _tril_strict(c)
    w = low - _H(low)
    if _is_complex(c):
        w = w + _diag_matrix(1j * _ew.imag(_diag_part(c)))
    return w


def _qr_jvp(t, ans, a, complete):
    """Tall ``A = Q1 R`` with ``B = dA R^{-1}``, ``C = Q1^H B``, ``W`` = :func:`_antihermitian_part`
    of ``C``: ``dQ1 = Q1 (W - C) + B``, ``dR = (C - W) R``; complete ``Q``: ``dQ2 = -Q1 B^H Q2``
    (the minimal rotation of the complement, as in :func:`svd`).
    """
    q, r = ans
    m, n = shape(a)[-2:]
    big = complete and m > n
    q1, q2 = _split(q, n, -1) if big else (q, None)
    r1 = _split(r, n, -2)[0] if big else r
    b = _right_solve_upper(t, r1)
    c = matmul(_H(q1), b)
    w = _antihermitian_part(c)
    dq = matmul(q1, w - c) + b
    dr = matmul(c - w, r1)
    if big:
        dq = _shape_ops.concatenate([dq, -matmul(q1, matmul(_H(b), q2))], axis=-1)
        zeros = np.zeros(shape(dr)[:-2] + (m - n, n), dtype=dtype_of(dr))  # R's zero rows stay zero
        dr = _shape_ops.concatenate([dr, zeros], axis=-2)
    return dq, dr


def _qr_vjp(g, ans, a, complete):
    """The transpose of :func:`_qr_jvp` under ``<X, Y> = Re sum X Y``: ``conj(Bbar) R^{-T}`` with,
    at the conjugated cotangents, ``M = Q1^H gQ1 - gR R^H``,
    ``Cbar = gR R^H - Q1^H gQ1 + L(M - M^H) + i Im diag(M)`` (``L``: the strictly lower triangle)
    and ``Bbar = gQ1 + Q1 Cbar - Q2 gQ2^H Q1``."""
    q, r = ans
    gq, gr = g
    m, n = shape(a)[-2:]
    big = complete and m > n
    q1, q2 = _split(q, n, -1) if big else (q, None)
    r1 = _split(r, n, -2)[0] if big else r
    gq1, gq2 = (_split(_conj(gq), n, -1) if big else (_conj(gq), None)) if gq is not None else (None, None)
    gr1 = _conj(_split(gr, n, -2)[0] if big else gr) if gr is not None else None
    qg = 0.0 if gq1 is None else matmul(_H(q1), gq1)
    rr = 0.0 if gr1 is None else matmul(gr1, _H(r1))
    mm = qg - rr
    coef_c = rr - qg + _tril_strict(mm - _H(mm))
    if _is_complex(mm):
        coef_c = coef_c + _diag_matrix(1j * _ew.imag(_diag_part(mm)))
    gb = matmul(q1, coef_c)
    if gq1 is not None:
        gb = gb + gq1
    if gq2 is not None:
        gb = gb - matmul(q2, matmul(_H(gq2), q1))
    return mT(_la.solve_triangular_p(r1, mT(_conj(gb)), trans=False, lower=False, unit=False))


def _qr_impl(a, complete):
    q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
    return q, r


qr_p = Primitive("qr", _qr_impl, multiple_results=True, saves=("ans",),
                 doc="A = Q R of a tall matrix (m >= n), reduced or complete")
qr_p.defvjp(_qr_vjp)
qr_p.defjvp(_qr_jvp)


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """NumPy's ``qr`` (modes ``'reduced'``, ``'complete'``, ``'r'``); ``Q`` orthonormal, ``R`` upper.

    Tall ``A`` (JAX's rule): with ``B = dA R^{-1}``, ``C = Q^H B`` and ``W`` the anti-Hermitian
    part built from ``C``'s strict lower triangle (plus ``i Im diag C``, so ``R``'s diagonal stays
    real), ``dQ = Q (W - C) + B``, ``dR = (C - W) R``. Complex matrices included.
    Wide ``A = [X | Y]`` (``X`` square): ``X = Q R1`` and ``R2 = Q^H Y``, differentiated through
    those. Complete ``Q`` of a tall ``A``: the extra columns move only into the range (see
    :func:`svd`). A zero on ``R``'s diagonal (``A`` rank deficient) makes the derivative ``inf``/``nan``.
    ``mode='raw'`` (Householder reflectors) is not differentiated.
    """
    a = _asarray(a)
    _check_matrix("qr", a)
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr: unrecognized mode {mode!r}")
    if mode == "raw":
        raise NotImplementedError("qr(mode='raw') is not differentiated; use mode='reduced' or 'r'")
    m, n = shape(a)[-2:]
    if m < n:  # reduced == complete here: Q is m x m
        x, y = _split(a, m, -1)
        q, r1 = qr_p(x, complete=False)
        r = _shape_ops.concatenate([r1, matmul(_H(q), y)], axis=-1)
    else:
        q, r = qr_p(a, complete=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# ================================================================ eig
def _phase_mask(v):
    """Per eigenvector (column), 1 at its largest-magnitude entry, which LAPACK makes real (this
    fixes the phase); 0 elsewhere. A constant, computed with recorded operations on the value
    without its derivatives, so ``jit`` stages it rather than reading it."""
    mag = _ew.absolute(strip_derivatives(v))
    top = _red.max(mag, axis=-2, keepdims=True)
    one = np.ones((), dtype=dtype_of(mag))  # the mask has the value's precision (float32 stays)
    return _ew.where(mag == top, one, 0.0 * one)


def _take_rows(x, mask):
    """``x``'s entry at each column's marked row, ``(..., k)`` (``x`` may carry leading batch axes)."""
    return _red.sum(x * mask, axis=-2)


def _eig_normalize(v, dv0, mask):
    """Keep each column of ``V`` at unit norm with its largest entry real:
    ``dV = dV0 + V diag(c)``, ``c_j = -Re(v_j^H dv0_j) - i Im(dv0[k_j, j]) / v[k_j, j]``."""
    alpha = -_ew.real(_red.sum(_ew.conj(v) * dv0, axis=-2))
    pivot = _ew.real(_take_rows(v, mask))
    beta = -_ew.imag(_take_rows(dv0, mask)) / pivot
    return dv0 + v * _cols(alpha + 1j * beta)


def _eig_jvp(t, ans, a):
    """``M = V^{-1} dA V``; ``dw = diag(M)``, ``dV = V (F o M)`` with ``F_ij = 1 / (w_j - w_i)``, then
    the normalisation NumPy's (LAPACK's) eigenvectors have: unit norm, largest entry real."""
    w, v = ans
    mm = _solve(v, matmul(t, v))
    dw = _diag_part(mm)
    f = _gap_inverse(_cols(w) - _rows(w))
    dv = _eig_normalize(v, matmul(v, f * mm), _phase_mask(v))
    return dw, dv


def _eig_vjp(g, ans, a):
    """The transpose of :func:`_eig_jvp` under ``<x, y> = Re(sum x y)``: ``gA = V^{-T} gM V^T``,
    ``gM = diag(gw) + F o (V^T gV0)``; ``gV0`` is ``gV`` through the normalisation's transpose."""
    w, v = ans
    gw, gv = g
    gm = 0.0 if gw is None else _diag_matrix(gw)
    if gv is not None:
        mask = _phase_mask(v)
        gc = _red.sum(v * gv, axis=-2)  # the transpose of c -> V diag(c)
        pivot = _ew.real(_take_rows(v, mask))
        gv0 = (gv - _ew.conj(v) * _cols(_ew.real(gc))
               - 1j * mask * _cols(_ew.imag(gc) / pivot))
        f = _gap_inverse(_cols(w) - _rows(w))
        gm = gm + f * matmul(mT(v), gv0)
    return _solve(mT(v), matmul(gm, mT(v)))


def _eig_impl(a):
    w, v = np.linalg.eig(a)
    dt = np.result_type(a.dtype, np.complex64)  # complex whatever the values: no value-dependent dtype
    return w.astype(dt, copy=False), v.astype(dt, copy=False)


eig_p = Primitive("eig", _eig_impl, multiple_results=True, saves=("ans",),
                  doc="eigenvalues and right eigenvectors of a general square matrix (complex)")
eig_p.defvjp(_eig_vjp)
eig_p.defjvp(_eig_jvp)


@implements(np.linalg.eig)
def eig(a):
    """``A V = V diag(w)``, always returned complex (NumPy returns real arrays when every eigenvalue
    is real; chainrule's derivatives of a real matrix's eigenvalues are complex in general, so the
    dtype does not depend on the value).

    With ``M = V^{-1} dA V`` and ``F_ij = 1 / (w_j - w_i)``: ``dw = diag(M)`` (eqn 4.60 of
    Giles / Boeddeker et al., arXiv:1701.00392, as in JAX), ``dV = V (F o M) + V diag(c)``, where
    ``c`` keeps NumPy's normalisation (unit-norm columns whose largest-magnitude entry is real), so
    the derivative is that of the eigenvectors NumPy returns. Holomorphic apart from that
    normalisation; VJPs follow chainrule's complex convention. At repeated eigenvalues the
    eigenvector derivatives are ``inf``/``nan`` (as ``eigh``'s); eigenvalues alone need no gap.
    """
    a = _asarray(a)
    _check_square("eig", a)
    return EigResult(*eig_p(a))


@implements(np.linalg.eigvals)
def eigvals(a):
    """Eigenvalues of a general square matrix (complex); derivative ``diag(V^{-1} dA V)``."""
    return eig(a)[0]


# ================================================================ pinv, lstsq, cond
def _pinv_jvp(t, ans, a, rtol):
    """``dA+ = -A+ dA A+ + A+ A+^H dA^H (I - A A+) + (I - A+ A) dA^H A+^H A+`` (Golub & Pereyra 1973;
    exact where the rank is locally constant)."""
    p = ans
    dah = _H(t)
    first = -matmul(p, matmul(t, p))
    pdah = matmul(p, matmul(_H(p), dah))  # A+ A+^H dA^H
    second = pdah - matmul(pdah, matmul(a, p))
    dap = matmul(dah, matmul(_H(p), p))  # dA^H A+^H A+
    third = dap - matmul(p, matmul(a, dap))
    return first + second + third


def _pinv_vjp(g, ans, a, rtol):
    """The transpose of :func:`_pinv_jvp` under ``<X, Y> = Re sum X Y``: ``conj`` of the adjoint
    ``-A+^H g A+^H + (I - A A+) g^H A+ A+^H + A+^H A+ g^H (I - A+ A)`` at ``conj(g)`` (``A A+`` and
    ``A+ A`` are Hermitian)."""
    p = ans
    g = _conj(g)
    gh = _H(g)
    first = -matmul(_H(p), matmul(g, _H(p)))
    x = matmul(gh, matmul(p, _H(p)))  # g^H A+ A+^H
    second = x - matmul(a, matmul(p, x))
    y = matmul(matmul(_H(p), p), gh)  # A+^H A+ g^H
    third = y - matmul(matmul(y, p), a)
    return _conj(first + second + third)


def _pinv_impl(a, rtol):
    return np.linalg.pinv(a, rcond=rtol)


pinv_p = Primitive("pinv", _pinv_impl, saves=(0, "ans"), doc="Moore-Penrose pseudo-inverse")
pinv_p.defvjp(_pinv_vjp)
pinv_p.defjvp(_pinv_jvp)


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """The Moore-Penrose pseudo-inverse ``A+`` (singular values at or below ``rcond * s_max`` are
    treated as zero; NumPy's default ``1e-15``). Its derivative is the Golub-Pereyra formula,
    exact wherever the rank is locally constant (no singular-value gaps: it is finite at repeated
    singular values); the rank cut itself is a jump and has no derivative."""
    a = _asarray(a)
    _check_matrix("pinv", a)
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both")
    cut = rcond if rcond is not None else rtol
    if cut is None:
        cut = 1e-15
    return pinv_p(a, rtol=float(cut))


def rank_from_singular_values(s, rtol):
    """The number of singular values ``s`` of one matrix above ``rtol * s_max``, as an
    ``int32``. It is computed, not read: each example of a ``vmap`` batch gets its own (and
    ``jit`` stages it). Piecewise constant, so it carries no derivative."""
    s = strip_derivatives(s)
    rank = _red.sum(s > rtol * s.max(initial=0.0), axis=-1)
    return astype(rank, np.int32) if isinstance(rank, Box) else np.int32(rank)


@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """NumPy's ``lstsq``: ``(x, residuals, rank, s)`` with ``x = A+ b`` (the minimum-norm least
    squares solution; singular values at or below ``rcond * s_max`` count as zero, by default
    ``eps * max(m, n)``). ``x``, ``residuals`` (the squared 2-norms of ``b - A x`` per column, only
    when ``m > n`` and ``A`` has full rank, as in NumPy) and ``s`` are differentiable; ``rank``
    is an integer computed from the singular values. Whether there are residuals is read from
    them when ``m > n`` (so under ``jit`` that ``lstsq`` runs eagerly); under ``vmap`` every
    example must then agree on it (all of full rank or none), else ``BatchedValueError``."""
    a, b = _asarray(a), _asarray(b)
    if ndim(a) != 2:
        raise np.linalg.LinAlgError(f"lstsq: a must be a matrix (2-D); got shape {shape(a)}")
    m, n = shape(a)
    if ndim(b) not in (1, 2) or shape(b)[0] != m:
        raise np.linalg.LinAlgError(f"lstsq: a has shape {shape(a)} but b has shape {shape(b)}; "
                                    "b must be (m,) or (m, k)")
    if rcond is None:
        rcond = np.finfo(_inexact(a)).eps * max(m, n)
    s = svdvals(a)
    rank = rank_from_singular_values(s, rcond)
    x = matmul(pinv(a, rcond=rcond), b)
    if m > n and agreed(rank == n, "lstsq's residuals exist only where a has full rank (NumPy's "
                        "convention), and the examples differ in rank; for x alone use "
                        "pinv(a, rcond) @ b"):
        r = b - matmul(a, x)
        res = _red.sum(_ew.real(r * _ew.conj(r)) if _is_complex(r) else r * r, axis=0)
        if ndim(b) == 1:
            res = _reshape(res, (1,))
    else:
        res = np.zeros((0,), dtype=np.finfo(_inexact(a)).dtype)  # real, as NumPy's
    return LstsqResult((x, res, rank, s))


@implements(np.linalg.cond)
def cond(x, p=None):
    """The condition number: ``s_max / s_min`` for ``p`` ``None``/``2``, ``s_min / s_max`` for
    ``-2`` (from the singular values, no gaps needed), else ``norm(x, p) * norm(inv(x), p)``."""
    x = _asarray(x)
    _check_matrix("cond", x)
    if p is None or p == 2 or p == -2:
        s = svdvals(x)
        top, bottom = _shape_ops.getitem(s, (Ellipsis, 0)), _shape_ops.getitem(s, (Ellipsis, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return top / bottom if p != -2 else bottom / top
    _check_square("cond", x)
    return norm(x, p, axis=(-2, -1)) * norm(_la.inv(x), p, axis=(-2, -1))


# ================================================================ norms that need the SVD
def _spectral(x, ord, axis):
    """``axis`` (two axes) of ``x`` moved last, when ``ord`` is a spectral order on a matrix."""
    if ord not in (2, -2, "nuc") or isinstance(ord, bool):
        return None
    nd = ndim(x)
    if axis is None:
        if nd != 2:
            return None
        axis = (-2, -1)
    if np.ndim(axis) != 1 or len(axis) != 2:
        return None
    r, c = (int(ax) % nd for ax in axis)
    return r, c


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """``linalg.norm`` (see ``rules.linalg.norm``) with the spectral matrix norms from the singular
    values: ``ord=2`` the largest, ``-2`` the smallest, ``'nuc'`` their sum. Their derivatives are
    ``U[:, i] V[:, i]^T`` (``i`` the singular value used; shared by none at ties: the largest and
    smallest are then not differentiable, and the derivative is that of one of them) and ``U V^T``
    for the nuclear norm."""
    x = _asarray(x)
    axes = _spectral(x, ord, axis)
    if axes is None:
        return _la.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    r, c = axes
    if r == c:
        raise ValueError(f"norm: duplicate axes {axis}")
    s = svdvals(_shape_ops.moveaxis(x, (r, c), (-2, -1)))
    if ord == "nuc":
        out = _red.sum(s, axis=-1)
    else:
        out = _shape_ops.getitem(s, (Ellipsis, 0 if ord == 2 else -1))
    if keepdims:
        out = _shape_ops.expand_dims(out, tuple(sorted((r, c))))
    return out


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """NumPy 2's ``matrix_norm`` over the last two axes (every ``ord``, the spectral ones included)."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


__all__: list[str] = []
