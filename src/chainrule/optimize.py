"""Exact derivatives for ``scipy.optimize.minimize``, from one line of user code.

    import chainrule.optimize as cro
    res = cro.minimize(f, x0, method="Newton-CG")    # exact jac and hessp

``minimize`` hands SciPy the gradient together with the value (``jac=True``:
one forward and one backward pass per evaluation) and, for the methods that use
curvature, the exact Hessian:

* ``Newton-CG``, ``trust-ncg``, ``trust-krylov``, ``trust-constr`` get ``hessp``,
  the Hessian-vector product ``H p`` (Pearlmutter's R-operator). The gradient
  computation is recorded once per point ``x`` and each of the conjugate-gradient
  products at that point replays only its forward-mode rules: ``H`` is never formed.
* ``dogleg`` and ``trust-exact`` need the matrix and get ``hess``: the full
  Hessian in one vectorised forward-over-reverse pass.
* every other method gets ``jac`` alone (SciPy would warn about a Hessian it ignores).

``x0`` may be any pytree of float arrays (a dict of network weights, say): it is
flattened into the one vector SciPy works on, and ``res.x`` comes back in the
same structure (``res.x_flat`` keeps SciPy's vector). For other combinations,
:func:`objective` gives the flat-vector ``fun``, ``jac``, ``hess`` and ``hessp``
to pass to SciPy yourself.
"""

from __future__ import annotations

import math

import numpy as np

from .core.aval import shape_of
from .core.linearize import check_differentiable
from .core.pytree import tree_flatten, tree_unflatten
from .curvature import hessian, linearize
from .transforms import grad, value_and_grad

__all__ = ["minimize", "objective", "Objective"]

HESSP_METHODS = frozenset({"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"})
HESS_METHODS = frozenset({"dogleg", "trust-exact"})


class Objective:
    """A scalar function of a pytree, seen by SciPy as a function of one flat vector.

    ``fun(v)``, ``jac(v)``, ``value_and_grad(v)`` (for ``jac=True``), ``hess(v)``
    (an ``(N, N)`` array) and ``hessp(v, p)`` all take the flat vector ``v`` and
    the extra ``args``. ``x0`` is the flattened starting point and ``unravel(v)``
    rebuilds the pytree.
    """

    def __init__(self, fun, x0, args=()):
        leaves, self._treedef = tree_flatten(x0)
        if not leaves:
            raise ValueError("x0 has no array leaves to optimise")
        for x in leaves:
            check_differentiable(x, "x0 leaf")
        self._shapes = [np.shape(x) for x in leaves]
        self._sizes = [math.prod(s) for s in self._shapes]
        self.x0 = np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in leaves])
        self.args = tuple(args)
        self._fun = fun
        self._hvp_at = None  # (x bytes, linear map of the gradient at x)

    def unravel(self, v):
        """The flat vector ``v`` as a pytree shaped like ``x0`` (traced slices if ``v`` is traced)."""
        out, o = [], 0
        for shape, n in zip(self._shapes, self._sizes, strict=True):
            piece = v[o:o + n]
            out.append(piece.reshape(shape) if shape != (n,) else piece)
            o += n
        return tree_unflatten(self._treedef, out)

    def _flat_fun(self, v, *args):
        value = self._fun(self.unravel(v), *args)
        if shape_of(value) != ():
            raise TypeError(f"minimize needs a scalar objective, got shape {shape_of(value)}")
        return value

    def fun(self, v, *args):
        return float(self._flat_fun(np.asarray(v, dtype=float), *(args or self.args)))

    def value_and_grad(self, v, *args):
        val, g = value_and_grad(self._flat_fun)(np.asarray(v, dtype=float), *(args or self.args))
        return float(val), np.asarray(g, dtype=float)

    def jac(self, v, *args):
        return np.asarray(grad(self._flat_fun)(np.asarray(v, dtype=float), *(args or self.args)),
                          dtype=float)

    def hess(self, v, *args):
        return np.asarray(hessian(self._flat_fun)(np.asarray(v, dtype=float), *(args or self.args)),
                          dtype=float)

    def hessp(self, v, p, *args):
        """``H(v) p``: forward mode along the recorded gradient computation at ``v``.

        Newton-CG asks for many products at one point; the gradient's tape is
        recorded once per point and replayed for each ``p``.
        """
        v = np.asarray(v, dtype=float)
        args = args or self.args
        key = (v.tobytes(), args)
        cached = self._hvp_at
        if cached is None or not _same_key(cached[0], key):
            _, lin = linearize(lambda w: grad(self._flat_fun)(w, *args), v)
            self._hvp_at = cached = (key, lin)
        return np.asarray(cached[1](np.asarray(p, dtype=float)), dtype=float)


def _same_key(a, b) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    return all(x is y for x, y in zip(a[1], b[1], strict=True))


def objective(fun, x0, args=()) -> Objective:
    """Flat-vector ``fun``, ``jac``, ``hess``, ``hessp`` for calling ``scipy.optimize`` directly.

        obj = chainrule.optimize.objective(f, params0)
        res = scipy.optimize.minimize(obj.value_and_grad, obj.x0, jac=True,
                                      hessp=obj.hessp, method="trust-krylov")
        params = obj.unravel(res.x)
    """
    return Objective(fun, x0, args)


def minimize(fun, x0, args=(), method=None, *, curvature="auto", **kwargs):
    """``scipy.optimize.minimize`` with exact derivatives supplied by chainrule.

    ``fun(x, *args)`` returns a scalar; ``x0`` is an array or a pytree of arrays.
    ``curvature``: ``"auto"`` (by method, see the module docstring), ``"hessp"``,
    ``"hess"`` or ``None`` (gradient only). Other keywords (``bounds``,
    ``constraints``, ``tol``, ``options``, ``callback``...) go to SciPy unchanged;
    a callback sees SciPy's flat vector. Returns SciPy's ``OptimizeResult`` with
    ``x`` (and ``jac``) in the structure of ``x0`` and ``x_flat`` the flat vector.
    """
    from scipy import optimize

    for k in ("jac", "hess", "hessp"):
        if k in kwargs:
            raise TypeError(f"chainrule.optimize.minimize supplies {k!r} itself; to pass your own, "
                            "call scipy.optimize.minimize with chainrule.optimize.objective(...)")
    if curvature not in ("auto", "hessp", "hess", None):
        raise ValueError(f"curvature must be 'auto', 'hessp', 'hess' or None, got {curvature!r}")
    obj = Objective(fun, x0, args)
    name = method.lower() if isinstance(method, str) else None
    if curvature == "auto":
        curvature = "hessp" if name in HESSP_METHODS else "hess" if name in HESS_METHODS else None
    extra = {}
    if curvature == "hessp":
        extra["hessp"] = obj.hessp
    elif curvature == "hess":
        extra["hess"] = obj.hess
    res = optimize.minimize(obj.value_and_grad, obj.x0, args=obj.args, method=method, jac=True,
                            **extra, **kwargs)
    res.x_flat = res.x
    res.x = obj.unravel(np.asarray(res.x))
    if getattr(res, "jac", None) is not None and np.size(res.jac) == obj.x0.size:
        res.jac = obj.unravel(np.asarray(res.jac))
    return res
