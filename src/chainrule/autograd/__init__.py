"""An autograd-compatible namespace: switch by changing imports.

    import chainrule.autograd.numpy as np        # was: import autograd.numpy as np
    from chainrule.autograd import grad           # was: from autograd import grad

Everything here is a thin adapter over chainrule's own transforms (one core,
nothing implemented twice); only the calling conventions are autograd's
(``argnum`` is a single int, ``make_vjp`` returns ``(vjp, ans)``).
"""

from __future__ import annotations

import collections as _collections
import functools as _functools
import inspect as _inspect
import math as _math
import warnings as _warnings

import numpy as _np

from .. import curvature as _curvature
from .. import numpy as _cnp
from .. import transforms as _t
from ..checkpoint import checkpoint as _checkpoint
from ..core.aval import shape_of as _shape_of
from ..core.primitive import Primitive as _Primitive
from ..extend import primitive
from . import builtins
from .builtins import dict, isinstance, list, tuple, type  # noqa: A004, F401 (autograd exports them)


def _name_of(fun) -> str:
    """A function's name as autograd shows it: ``__name__``, a primitive's ``name``, else
    ``[unknown name]`` (a ``functools.partial``, say)."""
    name = getattr(fun, "__name__", None)
    if name is None and isinstance(fun, _Primitive):
        name = fun.name
    return name if isinstance(name, str) else "[unknown name]"


def _named_after(op: str):
    """Name what an operator returns as autograd does: ``grad(foo, 1)`` is a function called
    ``grad_of_foo_wrt_argnum_1`` whose docstring says what it computes (programs and tracebacks
    show these names; the operator itself keeps its own name and docstring)."""
    def decorate(operator):
        @_functools.wraps(operator)
        def named(fun, argnum=0, *rest, **kwargs):
            out = operator(fun, argnum, *rest, **kwargs)
            fname = _name_of(fun)
            out.__name__ = out.__qualname__ = f"{op}_of_{fname}_wrt_argnum_{argnum}"
            out.__doc__ = (f"    {op} of function {fname} with respect to argument number {argnum}; "
                           f"called with {fname}'s arguments.\n")
            return out
        return named
    return decorate


def _size_one_as_scalar(fun, shapes: list):
    """``fun`` with an output of size 1 (shape ``(1,)``, ``(1, 1)``...) reshaped to a scalar:
    autograd's ``grad`` accepts any output with one element, JAX's only shape ``()``. The
    output's shape is appended to ``shapes``."""
    def scalar_fun(*args, **kwargs):
        out = fun(*args, **kwargs)
        shape = _shape_of(out)
        shapes.append(shape)
        return _cnp.reshape(out, ()) if shape and _math.prod(shape) == 1 else out
    return scalar_fun


@_named_after("grad")
def grad(fun, argnum: int = 0):
    """
    Returns a function which computes the gradient of a scalar-valued ``fun`` with respect to
    positional argument ``argnum`` (an int, or a tuple/list of them for a tuple of gradients;
    an output of any shape with one element counts as scalar, as in autograd)."""
    return _t.grad(_size_one_as_scalar(fun, []), argnums=argnum)


@_named_after("value_and_grad")
def value_and_grad(fun, argnum: int = 0):
    """``(fun(*args), gradient)`` with respect to argument ``argnum`` (autograd's signature);
    the value keeps its shape when it has one element."""
    def both(*args, **kwargs):
        shapes: list = []
        value, g = _t.value_and_grad(_size_one_as_scalar(fun, shapes), argnums=argnum)(*args, **kwargs)
        return (_np.reshape(value, shapes[-1]) if shapes and shapes[-1] else value), g
    return both


@_named_after("grad_and_aux")
def grad_and_aux(fun, argnum: int = 0):
    """``fun`` returns ``(value, aux)``; returns ``(gradient, aux)``."""
    return _t.grad(fun, argnums=argnum, has_aux=True)


@_named_after("make_vjp")
def make_vjp(fun, argnum: int = 0):
    """``make_vjp(fun, argnum)(*args)`` -> ``(vjp, ans)`` (autograd's order); with a tuple
    ``argnum`` the cotangent ``vjp`` returns is a tuple, one entry per argument."""
    def maker(*args, **kwargs):
        g, x = _unary(fun, argnum, args, kwargs)
        ans, f_vjp = _t.vjp(g, x)
        return (lambda ct: f_vjp(ct)[0]), ans
    return maker


@_named_after("make_jvp")
def make_jvp(fun, argnum: int = 0):
    """``make_jvp(fun, argnum)(*args)(v)`` -> ``(ans, J v)``; with a tuple ``argnum``, ``v``
    is a tuple of tangents, one per argument."""
    def maker(*args, **kwargs):
        g, x = _unary(fun, argnum, args, kwargs)
        return lambda v: _t.jvp(g, (x,), (v,))
    return maker


@_named_after("holomorphic_grad")
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


@_named_after("elementwise_grad")
def elementwise_grad(fun, argnum: int = 0):
    """Sum of the Jacobian's rows: the gradient of ``sum(fun(x))``, for elementwise ``fun``."""
    def gradfun(*args, **kwargs):
        vjp, ans = make_vjp(fun, argnum)(*args, **kwargs)
        return vjp(_np.ones_like(ans))
    return gradfun


@_named_after("jacobian")
def jacobian(fun, argnum: int = 0):
    """The Jacobian of ``fun`` in argument ``argnum``, shape ``out.shape + x.shape`` (autograd's
    layout), computed in one vectorised pass by :func:`chainrule.jacobian`."""
    return _curvature.jacobian(fun, argnums=argnum)


@_named_after("hessian")
def hessian(fun, argnum: int = 0):
    """The Hessian of scalar ``fun`` in argument ``argnum``, shape ``x.shape + x.shape``, by
    forward over reverse in one vectorised pass (:func:`chainrule.hessian`)."""
    return _curvature.hessian(fun, argnums=argnum)


@_named_after("hessian_tensor_product")
def hessian_tensor_product(fun, argnum: int = 0):
    """``H(x) v`` by forward-over-reverse (autograd's ``hessian_tensor_product``)."""
    def hvp(*args):
        *xs, v = args
        return _t.jvp(lambda x: grad(fun, argnum)(*[x if i == argnum else a for i, a in enumerate(xs)]),
                      (xs[argnum],), (v,))[1]
    return hvp


hessian_vector_product = hessian_tensor_product


@_named_after("tensor_jacobian_product")
def tensor_jacobian_product(fun, argnum: int = 0):
    """``tensordot(v, J(x), v.ndim)``: autograd's contraction of ``v`` with the leading
    ``v.ndim`` output axes (``v`` may cover only the first axes of the output); one reverse
    pass per remaining output entry, none when ``v`` covers the whole output."""
    def product(*args, **kwargs):
        *xs, v = args
        ans = fun(*xs, **kwargs)
        if _np.ndim(v) == _np.ndim(ans):
            return make_vjp(fun, argnum)(*xs, **kwargs)[0](v)

        def contracted(*ys):
            return _cnp.tensordot(v, fun(*ys, **kwargs), axes=_np.ndim(v))
        return jacobian(contracted, argnum)(*xs)
    return product


vector_jacobian_product = tensor_jacobian_product


def _unary(fun, argnum, args, kwargs):
    """autograd's ``unary_to_nary``: ``fun`` as a function of argument ``argnum`` alone (of
    a tuple of arguments when ``argnum`` is a tuple or list), and that argument's value."""
    if isinstance(argnum, int):
        def unary(x):
            return fun(*[x if i == argnum else a for i, a in enumerate(args)], **kwargs)
        return unary, args[argnum]
    argnum = tuple(argnum)

    def unary_many(xs):
        full = list(args)
        for i, x in zip(argnum, xs, strict=True):
            full[i] = x
        return fun(*full, **kwargs)
    return unary_many, tuple(args[i] for i in argnum)


@_named_after("deriv")
def deriv(fun, argnum: int = 0):
    """``J(x) 1``: the forward-mode derivative along a tangent of ones (autograd's ``deriv``;
    for a scalar input, the derivative of every output)."""
    def derivfun(*args, **kwargs):
        f, x = _unary(fun, argnum, args, kwargs)
        return _t.jvp(f, (x,), (_np.ones_like(x),))[1]
    return derivfun


@_named_after("make_hvp")
def make_hvp(fun, argnum: int = 0):
    """``make_hvp(fun)(*args)`` -> ``(hvp, gradient)``: the VJP of the gradient at ``x``,
    ``hvp(v) = H(x) v`` (``H`` symmetric), reusing one forward pass for many ``v``."""
    def maker(*args, **kwargs):
        f, x = _unary(fun, argnum, args, kwargs)
        g, vjp = _t.vjp(_t.grad(f), x)
        return (lambda v: vjp(v)[0]), g
    return maker


def make_ggnvp(f, g=None, f_argnum: int = 0):
    """Generalised Gauss-Newton-vector products ``J_f^T H_g J_f v`` at ``x`` (autograd's
    ``make_ggnvp``; ``g`` defaults to ``sum(y**2, axis=-1) / 2``, whose Hessian is ``I``)."""
    if g is None:
        def g(y):
            return 0.5 * _cnp.sum(y ** 2, axis=-1)

    def maker(*args, **kwargs):
        fu, x = _unary(f, f_argnum, args, kwargs)
        f_x, f_vjp = _t.vjp(fu, x)
        _, g_hvp = _t.vjp(_t.grad(g), f_x)

        def ggnvp(v):
            jv = _t.jvp(fu, (x,), (v,))[1]
            return f_vjp(g_hvp(jv)[0])[0]
        return ggnvp
    return maker


def multigrad_dict(fun):
    """The gradient with respect to every argument at once, as a dict from argument name to
    gradient (``*args`` as a tuple, ``**kwargs`` as a dict, defaults filled in)."""
    sig = _inspect.signature(fun)

    def gradfun(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        names = list(bound.arguments)

        def of_dict(d):
            call = sig.bind_partial()
            call.arguments.update(d)
            return fun(*call.args, **call.kwargs)
        grads = _t.grad(of_dict)(dict(bound.arguments))
        return _collections.OrderedDict((n, grads[n]) for n in names)
    return gradfun


def grad_named(fun, argname: str):
    """The gradient with respect to the argument called ``argname`` (not ``*args``/``**kwargs``)."""
    return grad(fun, list(_inspect.signature(fun).parameters).index(argname))


def checkpoint(fun):
    """``fun`` whose intermediates are recomputed in the backward pass instead of kept
    (autograd's ``checkpoint``; :func:`chainrule.checkpoint.checkpoint`)."""
    return _checkpoint(fun)


# ``dict``, ``isinstance``, ``list``, ``tuple`` and ``type`` are importable (``from autograd import
# tuple``) but not exported by ``*``, which would shadow Python's builtins (see ``builtins``).
__all__ = ["builtins", "deriv", "make_hvp", "make_ggnvp", "multigrad_dict", "grad_named", "primitive",
           "checkpoint", "grad", "value_and_grad",
           "grad_and_aux", "make_vjp", "make_jvp", "elementwise_grad", "holomorphic_grad", "jacobian",
           "hessian", "hessian_tensor_product", "hessian_vector_product", "tensor_jacobian_product",
           "vector_jacobian_product"]
