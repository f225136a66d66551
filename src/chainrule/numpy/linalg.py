"""``chainrule.numpy.linalg``: ``numpy.linalg``, differentiable.

These are also what plain ``np.linalg.inv(x)`` etc. dispatch to on a traced ``x``.
Not differentiated (yet): ``svd``, ``svdvals``, ``eig``, ``eigvals``, ``qr``, ``pinv``,
``lstsq``, ``matrix_rank``, ``cond``, ``tensorinv``, ``tensorsolve``; calling them on a
traced array raises a clear ``NoRuleError``.
"""

from numpy.linalg import LinAlgError  # noqa: F401

from ..rules.linalg import (  # noqa: F401
    EighResult,
    SlogdetResult,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_norm,
    matrix_power,
    matrix_transpose,
    multi_dot,
    norm,
    outer,
    slogdet,
    solve,
    tensordot,
    vecdot,
    vector_norm,
)
from ..rules.linalg import linalg_diagonal as diagonal  # noqa: F401
from ..rules.linalg import linalg_trace as trace  # noqa: F401

__all__ = ["LinAlgError", "cholesky", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul",
           "matrix_norm", "matrix_power", "matrix_transpose", "multi_dot", "norm", "outer", "slogdet",
           "solve", "tensordot", "trace", "vecdot", "vector_norm"]
