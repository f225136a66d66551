"""``chainrule.numpy.linalg``: ``numpy.linalg``, differentiable.

These are also what plain ``np.linalg.inv(x)`` etc. dispatch to on a traced ``x``.
Not differentiated (yet): ``matrix_rank`` (an integer), ``tensorinv``, ``tensorsolve``;
calling them on a traced array raises a clear ``NoRuleError``.
"""

from numpy.linalg import LinAlgError  # noqa: F401

from ..rules.decompositions import (  # noqa: F401
    EigResult,
    QRResult,
    SVDResult,
    cond,
    eig,
    eigvals,
    lstsq,
    matrix_norm,
    norm,
    pinv,
    qr,
    svd,
    svdvals,
)
from ..rules.linalg import (  # noqa: F401
    EighResult,
    SlogdetResult,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    matmul,
    matrix_power,
    matrix_transpose,
    multi_dot,
    outer,
    slogdet,
    solve,
    tensordot,
    vecdot,
    vector_norm,
)
from ..rules.linalg import linalg_diagonal as diagonal  # noqa: F401
from ..rules.linalg import linalg_trace as trace  # noqa: F401

__all__ = ["LinAlgError", "cholesky", "cond", "det", "diagonal", "eig", "eigh", "eigvals", "eigvalsh",
           "inv", "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_transpose", "multi_dot",
           "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensordot", "trace",
           "vecdot", "vector_norm"]
