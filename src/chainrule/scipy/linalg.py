"""``chainrule.scipy.linalg``: the parts of ``scipy.linalg`` chainrule differentiates.

SciPy's linalg functions convert their inputs to ndarrays (they do not dispatch to
traced arrays), so call these instead of ``scipy.linalg.*`` inside a transform.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of, shape_of
from ..core.primitive import Box, strip_derivatives
from ..rules import decompositions as _dec
from ..rules import linalg as _la
from ..rules.linalg import det, inv, solve_triangular  # noqa: F401
from ..rules.scipy_linalg import (  # noqa: F401
    block_diag,
    expm,
    expm_frechet,
    logm,
    lu_factor,
    lu_solve,
    solve_banded,
    solve_sylvester,
    sqrtm,
)

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "det", "eig", "eigh", "eigvals",
           "eigvalsh", "expm", "expm_frechet", "inv", "logm", "lstsq", "lu_factor", "lu_solve", "norm",
           "pinv", "qr", "solve", "solve_banded", "solve_sylvester", "solve_triangular", "sqrtm", "svd",
           "svdvals"]


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """SciPy's ``cholesky``: the *upper* factor ``U`` (``A = U^T U``) unless ``lower``."""
    return _la.cholesky(a, upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)`` for :func:`cho_solve`; the unused triangle of ``c`` is zero."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """Solve ``A x = b`` from ``cho_factor``'s output: two triangular solves."""
    c, lower = c_and_lower
    if lower:  # A = L L^T
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)  # A = U^T U


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
          transposed=False):
    """``A^{-1} b`` (a general solve whatever ``assume_a`` says; ``transposed`` solves ``A^T x = b``)."""
    return _la.solve(_la.mT(a) if transposed else a, b)


def eigh(a, b=None, *, lower=True, eigvals_only=False, **kwargs):
    """Standard symmetric eigenproblem (``b`` must be ``None``); returns ``(w, v)`` or ``w``."""
    if b is not None:
        raise NotImplementedError("eigh: the generalized problem (b given) is not differentiated")
    if kwargs:
        raise TypeError(f"eigh: unsupported arguments {sorted(kwargs)}")
    w, v = _la.eigh(a, "L" if lower else "U")
    return w if eigvals_only else (w, v)


def eigvalsh(a, b=None, *, lower=True, **kwargs):
    """Eigenvalues of a symmetric matrix."""
    return eigh(a, b, lower=lower, eigvals_only=True, **kwargs)


def _no_generalized(name, b):
    if b is not None:
        raise NotImplementedError(f"{name}: the generalized problem (b given) is not differentiated")


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
        lapack_driver="gesdd"):
    """``(U, s, Vh)`` or ``s``, as NumPy's (see ``chainrule.numpy.linalg.svd`` for the derivative)."""
    return _dec.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)


def svdvals(a, overwrite_a=False, check_finite=True):
    """The singular values, descending."""
    return _dec.svdvals(a)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """SciPy's modes: ``'full'`` (complete Q), ``'economic'`` (reduced), ``'r'`` (returns ``(R,)``).
    Column pivoting is not differentiated."""
    if pivoting:
        raise NotImplementedError("qr: pivoting=True is not differentiated")
    modes = {"full": "complete", "economic": "reduced", "r": "r", "raw": "raw"}
    if mode not in modes:
        raise ValueError(f"qr: mode must be one of {sorted(modes)}, got {mode!r}")
    if mode == "r":  # SciPy returns a 1-tuple here, and an R of the complete shape
        return (_dec.qr(a, mode="complete")[1],)
    return tuple(_dec.qr(a, mode=modes[mode]))


def eig(a, b=None, left=False, right=True, overwrite_a=False, overwrite_b=False, check_finite=True,
        homogeneous_eigvals=False):
    """``(w, vr)`` or ``w`` (``right=False``); left eigenvectors and the generalized problem are not
    differentiated."""
    _no_generalized("eig", b)
    if left or homogeneous_eigvals:
        raise NotImplementedError("eig: left eigenvectors and homogeneous eigenvalues are not differentiated")
    w, v = _dec.eig(a)
    return (w, v) if right else w


def eigvals(a, b=None, overwrite_a=False, check_finite=True, homogeneous_eigvals=False):
    """Eigenvalues of a general square matrix (complex)."""
    _no_generalized("eigvals", b)
    return _dec.eigvals(a)


def pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """The pseudo-inverse; singular values at or below ``rtol * s_max`` (default ``max(m, n) * eps``)
    count as zero. ``atol`` is not supported."""
    if atol is not None:
        raise NotImplementedError("pinv: atol is not supported; give rtol (relative to the largest "
                                  "singular value)")
    m, n = shape_of(a)[-2:]
    if rtol is None:
        rtol = max(m, n) * np.finfo(np.result_type(dtype_of(a), np.float32)).eps
    out = _dec.pinv(a, rtol=rtol)
    if return_rank:
        rank = _dec.rank_from_singular_values(_dec.svdvals(strip_derivatives(a)), rtol)
        return out, _python_int(rank)
    return out


def lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None):
    """``(x, residues, rank, s)``; ``residues`` is a scalar for a 1-D ``b`` (SciPy's convention)."""
    x, res, rank, s = _dec.lstsq(a, b, rcond=cond)
    if np.ndim(b) == 1 and np.shape(res) == (1,):
        res = res[0]
    return x, res, _python_int(rank), s


def _python_int(rank):
    """A rank as SciPy's Python int, unless each example of a vmap (or jit's staged call) has
    its own."""
    return rank if isinstance(rank, Box) else int(rank)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """``numpy.linalg.norm``'s orders (the spectral matrix norms included)."""
    return _dec.norm(a, ord=ord, axis=axis, keepdims=keepdims)
