"""``autograd.differential_operators``: the same operators as ``chainrule.autograd``, and
``make_jvp_reversemode``."""

from . import (  # noqa: F401
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)


def make_jvp_reversemode(fun, argnum=0):
    """``make_jvp_reversemode(fun, argnum)(*args)(v)`` -> ``J v`` alone (autograd builds it as the
    VJP of a VJP; chainrule's forward mode gives the same numbers in one pass)."""
    def maker(*args, **kwargs):
        jvp = make_jvp(fun, argnum)(*args, **kwargs)
        return lambda v: jvp(v)[1]
    return maker
