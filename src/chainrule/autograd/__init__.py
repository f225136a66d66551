"""An autograd-compatible namespace: switch by changing imports.

    import chainrule.autograd.numpy as np        # was: import autograd.numpy as np
    from chainrule.autograd import grad           # was: from autograd import grad

Everything here is a thin adapter over chainrule's own transforms (one core,
nothing implemented twice); only the calling conventions are autograd's
(``argnum`` is a single int, ``make_vjp`` returns ``(vjp, ans)``).
"""

from __future__ import annotations

import warnings as _warnings

import numpy as _np

from .. import curvature as _curvature
from .. import transforms as _t
from ..checkpoint import checkpoint as _checkpoint


def grad(fun, argnum: int = 0):
    """Gradient of a scalar-valued ``fun`` with respect to positional argument ``argnum``."""
    return _t.grad(fun, argnums=argnum)


def value_and_grad(fun, argnum: int = 0):
    """``(fun(*args), gradient)`` with respect to argument ``argnum`` (autograd's signature)."""
    return _t.value_and_grad(fun, argnums=argnum)


def grad_and_aux(fun, argnum: int = 0):
    """``fun`` returns ``(value, aux)``; returns ``(gradient, aux)``."""
    return _t.grad(fun, argnums=argnum, has_aux=True)


def make_vjp(fun, argnum: int = 0):
    """``make_vjp(fun, argnum)(*args)`` -> ``(vjp, ans)`` (autograd's order)."""
    def maker(*args, **kwargs):
        def g(x):
            full = list(args)
            full[argnum] = x
            return fun(*full, **kwargs)
        ans, f_vjp = _t.vjp(g, args[argnum])
        return (lambda ct: f_vjp(ct)[0]), ans
    return maker


def make_jvp(fun, argnum: int = 0):
    """``make_jvp(fun, argnum)(*args)(v)`` -> ``(ans, J v)``."""
    def maker(*args, **kwargs):
        def g(x):
            full = list(args)
            full[argnum] = x
            return fun(*full, **kwargs)
        return lambda v: _t.jvp(g, (args[argnum],), (v,))
    return maker


def holomorphic_grad(fun, argnum: int = 0):
    """The complex derivative ``f'(z)`` of a holomorphic ``fun`` (autograd's name for
    ``grad(fun, holomorphic=True)``): the VJP of a cotangent of ones. As in autograd, a real
    input is accepted with a warning (``grad`` would be the same)."""
    def gradfun(*args, **kwargs):
        if not _np.iscomplexobj(args[argnum]):
            _warnings.warn("Input to holomorphic_grad is not complex", stacklevel=2)
        vjp, ans = make_vjp(fun, argnum)(*args, **kwargs)
        return vjp(_np.ones_like(ans))
    return gradfun


def elementwise_grad(fun, argnum: int = 0):
    """Sum of the Jacobian's rows: the gradient of ``sum(fun(x))``, for elementwise ``fun``."""
    def gradfun(*args, **kwargs):
        vjp, ans = make_vjp(fun, argnum)(*args, **kwargs)
        return vjp(_np.ones_like(ans))
    return gradfun


def jacobian(fun, argnum: int = 0):
    """The Jacobian of ``fun`` in argument ``argnum``, shape ``out.shape + x.shape`` (autograd's
    layout), computed in one vectorised pass by :func:`chainrule.jacobian`."""
    return _curvature.jacobian(fun, argnums=argnum)


def hessian(fun, argnum: int = 0):
    """The Hessian of scalar ``fun`` in argument ``argnum``, shape ``x.shape + x.shape``, by
    forward over reverse in one vectorised pass (:func:`chainrule.hessian`)."""
    return _curvature.hessian(fun, argnums=argnum)


def hessian_tensor_product(fun, argnum: int = 0):
    """``H(x) v`` by forward-over-reverse (autograd's ``hessian_tensor_product``)."""
    def hvp(*args):
        *xs, v = args
        return _t.jvp(lambda x: grad(fun, argnum)(*[x if i == argnum else a for i, a in enumerate(xs)]),
                      (xs[argnum],), (v,))[1]
    return hvp


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum: int = 0):
    """``v^T J(x)``: one reverse pass."""
    def vjp(*args):
        *xs, v = args
        return make_vjp(fun, argnum)(*xs)[0](v)
    return vjp


vector_jacobian_product = tensor_jacobian_product


def checkpoint(fun):
    """``fun`` whose intermediates are recomputed in the backward pass instead of kept
    (autograd's ``checkpoint``; :func:`chainrule.checkpoint.checkpoint`)."""
    return _checkpoint(fun)


__all__ = ["checkpoint", "grad", "value_and_grad", "grad_and_aux", "make_vjp", "make_jvp", "elementwise_grad",
           "holomorphic_grad",
           "jacobian", "hessian", "hessian_tensor_product", "hessian_vector_product",
           "tensor_jacobian_product", "vector_jacobian_product"]
