"""``chainrule.scipy.optimize``: SciPy's Rosenbrock test functions, differentiable.

``rosen(x) = sum_i 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2`` along the first axis (so a
``(n, k)`` array is ``k`` points), with its gradient, Hessian and Hessian-vector product in
closed form as SciPy writes them; each is itself differentiable.
"""

from __future__ import annotations

from ..rules.linalg import diag
from ..rules.reductions import sum  # noqa: A004
from ..rules.shape import asarray, concatenate, stack


def rosen(x):
    """``sum(100 (x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2, axis=0)``."""
    x = asarray(x)
    return sum(100.0 * (x[1:] - x[:-1] ** 2.0) ** 2.0 + (1 - x[:-1]) ** 2.0, axis=0)


def rosen_der(x):
    """The gradient: ``200 (x_i - x_{i-1}^2) - 400 x_i (x_{i+1} - x_i^2) - 2 (1 - x_i)``
    inside, with the one-sided terms at both ends."""
    x = asarray(x)
    xm, xm_m1, xm_p1 = x[1:-1], x[:-2], x[2:]
    middle = 200 * (xm - xm_m1 ** 2) - 400 * (xm_p1 - xm ** 2) * xm - 2 * (1 - xm)
    first = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0])
    last = 200 * (x[-1] - x[-2] ** 2)
    return concatenate([stack([first]), middle, stack([last])])


def rosen_hess(x):
    """The tridiagonal Hessian: ``-400 x_i`` off the diagonal, ``202 + 1200 x_i^2 - 400 x_{i+1}``
    on it (``1200 x_0^2 - 400 x_1 + 2`` and ``200`` at the ends)."""
    x = asarray(x)
    off = -400 * x[:-1]
    d = concatenate([stack([1200 * x[0] ** 2 - 400 * x[1] + 2]),
                     202 + 1200 * x[1:-1] ** 2 - 400 * x[2:], stack([200.0 + 0 * x[-1]])])
    return diag(off, 1) + diag(off, -1) + diag(d)


def rosen_hess_prod(x, p):
    """``rosen_hess(x) @ p`` without forming the matrix."""
    x, p = asarray(x), asarray(p)
    first = (1200 * x[0] ** 2 - 400 * x[1] + 2) * p[0] - 400 * x[0] * p[1]
    middle = (-400 * x[:-2] * p[:-2] + (202 + 1200 * x[1:-1] ** 2 - 400 * x[2:]) * p[1:-1]
              - 400 * x[1:-1] * p[2:])
    last = -400 * x[-2] * p[-2] + 200 * p[-1]
    return concatenate([stack([first]), middle, stack([last])])


__all__ = ["rosen", "rosen_der", "rosen_hess", "rosen_hess_prod"]
