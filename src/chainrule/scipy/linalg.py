"""``chainrule.scipy.linalg``: the parts of ``scipy.linalg`` chainrule differentiates.

SciPy's linalg functions convert their inputs to ndarrays (they do not dispatch to
traced arrays), so call these instead of ``scipy.linalg.*`` inside a transform.
"""

from __future__ import annotations

from ..rules import linalg as _la
from ..rules.linalg import det, inv, solve_triangular  # noqa: F401

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "eigh", "eigvalsh", "inv", "solve",
           "solve_triangular"]


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
