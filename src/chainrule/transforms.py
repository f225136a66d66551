"""The transforms users call: ``vjp``, ``jvp``, ``grad``, ``value_and_grad``.

They sit on the core's two entry points, :func:`~chainrule.core.linearize.linearize_reverse`
and :func:`~chainrule.core.linearize.push_forward` (as ``jacobian``, ``hessian`` and ``hvp`` in
:mod:`chainrule.curvature` do). Semantics follow JAX (``argnums``, ``has_aux``,
``holomorphic``, pytrees in and out).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from .core.aval import dtype_of, shape_of
from .core.errors import DisconnectedWarning
from .core.linearize import _zeros, linearize_reverse, push_forward
from .core.pytree import tree_flatten, tree_unflatten

__all__ = ["vjp", "jvp", "grad", "value_and_grad"]


def vjp(f: Callable, *primals, has_aux: bool = False):
    """``out, f_vjp = vjp(f, *primals)``; ``f_vjp(ct)`` returns one cotangent per primal.

    ``ct`` has the structure and shapes of ``out``. With ``has_aux`` the result is
    ``(out, f_vjp, aux)``.
    """
    lin, out_def, in_def, aux = linearize_reverse(f, primals, has_aux)
    out = tree_unflatten(out_def, lin.freeze().out_values)

    def f_vjp(ct):
        ct_leaves, ct_def = tree_flatten(ct)
        if ct_def != out_def:
            raise ValueError(f"cotangent structure {ct_def!r} does not match output {out_def!r}")
        for c, o in zip(ct_leaves, lin.out_values):
            if shape_of(c) != shape_of(o):
                raise ValueError(f"cotangent shape {shape_of(c)} does not match output shape {shape_of(o)}")
        return tree_unflatten(in_def, lin.pull(ct_leaves))

    return (out, f_vjp, aux) if has_aux else (out, f_vjp)


def jvp(f: Callable, primals, tangents, has_aux: bool = False):
    """``(out, J @ tangents)`` for ``f(*primals)``; JAX's signature (tuples of primals and tangents)."""
    out, t_out, aux = push_forward(f, primals, tangents, has_aux)
    return (out, t_out, aux) if has_aux else (out, t_out)


def _writable(g):
    """A gradient the caller owns: rules may return read-only broadcast views."""
    return g.copy() if type(g) is np.ndarray and not g.flags.writeable else g


def _argnums_tuple(argnums, nargs):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not -nargs <= a < nargs:
            raise ValueError(f"argnums={argnums!r} out of range for a function called with "
                             f"{nargs} positional arguments")
    if len({a % nargs for a in nums}) != len(nums):
        raise ValueError(f"argnums={argnums!r} names an argument more than once")
    return nums


def _partial_args(f, args, nums, kwargs):
    """A function of ``args[nums]`` alone, the other arguments fixed."""
    def g(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return f(*full, **kwargs)
    return g


def _check_holomorphic(in_leaves, out):
    """JAX's holomorphic=True contract: complex inputs and a complex output."""
    for x in in_leaves:
        if dtype_of(x).kind != "c":
            raise TypeError(f"holomorphic=True requires complex inputs, got dtype {dtype_of(x)}: "
                            "pass x + 0j, or drop holomorphic=True for a real input")
    if dtype_of(out).kind != "c":
        raise TypeError(f"holomorphic=True requires a complex output, got dtype {dtype_of(out)}")


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
                   allow_disconnected: bool = False):
    """Return ``f``'s value and its gradient with respect to the ``argnums`` arguments.

    ``f`` must return a real scalar, or, with ``holomorphic=True``, a complex scalar of complex
    inputs (the gradient is then the complex derivative ``f'(z)``). For a real ``f`` of complex
    ``z = x + iy`` the gradient is JAX's ``df/dx - i df/dy`` (``grad(abs)(3+4j) == 0.6-0.8j``):
    the cotangent under the pairing ``<a, b> = Re(sum a*b)``; its conjugate is the ascent
    direction. The gradient has the structure of the chosen argument (a tuple of them when
    ``argnums`` is a tuple) and each leaf its argument's dtype.

    An argument the output never depends on gets a zero gradient and a
    :class:`~chainrule.core.errors.DisconnectedWarning` ("never reached the output" is not
    "the gradient is zero here"); ``allow_disconnected=True`` silences it.
    """
    return _value_and_grad(f, argnums, has_aux, holomorphic, allow_disconnected, grad_only=False)


def _value_and_grad(f, argnums, has_aux, holomorphic, allow_disconnected, grad_only):
    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        g = _partial_args(f, args, nums, kwargs)
        lin, out_def, in_def, aux = linearize_reverse(g, [args[i] for i in nums], has_aux)
        if out_def.num_leaves != 1 or shape_of(lin.out_values[0]) != ():
            shape = shape_of(lin.out_values[0]) if lin.out_values else None
            raise TypeError(f"grad requires a function with a scalar output, got shape {shape} "
                            f"(structure {out_def!r}); use vjp or jacobian for other outputs")
        out_dtype = dtype_of(lin.out_values[0])
        if holomorphic:
            _check_holomorphic(lin.in_leaves, lin.out_values[0])
        elif out_dtype.kind == "c":
            raise TypeError(f"grad requires a real-valued output, got dtype {out_dtype}: pass "
                            "holomorphic=True for the complex derivative of a holomorphic function, "
                            "or differentiate a real value (np.real(f), np.abs(f) ** 2)")
        lin.require_float_outputs("grad")
        value = tree_unflatten(out_def, lin.out_values)
        seed = _zeros(lin.out_values[0]) + 1.0
        leaves = lin.pull([seed], release=True)
        if not allow_disconnected and lin.disconnected:
            warnings.warn(DisconnectedWarning(
                f"{getattr(f, '__name__', 'the function')}'s output does not depend on "
                f"{_leaf_args(in_def, lin.disconnected, nums)}: "
                "its gradient is zero because it never reached the output, not because the slope "
                "is zero there (allow_disconnected=True silences this)"), stacklevel=2)
        grads = tree_unflatten(in_def, [_writable(g) for g in leaves])
        grads = grads[0] if isinstance(argnums, int) else grads
        if grad_only:
            return (grads, aux) if has_aux else grads
        return ((value, aux), grads) if has_aux else (value, grads)

    return wrapped


def _leaf_args(in_def, leaf_indices, nums) -> str:
    """``argument 1``, ``part of argument 0``: where the given leaves of the inputs are."""
    said, start, gone = [], 0, set(leaf_indices)
    for k, child in enumerate(in_def.children):
        mine = set(range(start, start + child.num_leaves))
        start += child.num_leaves
        if mine & gone:
            said.append(("" if mine <= gone else "part of ") + f"argument {nums[k]}")
    return ", ".join(said)


def grad(f: Callable, argnums=0, has_aux: bool = False, holomorphic: bool = False,
         allow_disconnected: bool = False):
    """The gradient of a scalar function; ``grad(grad(f))`` and mixed orders compose.

    ``holomorphic=True``: the complex derivative of a complex function of complex inputs.
    ``allow_disconnected``: see :func:`value_and_grad`.
    """
    return _value_and_grad(f, argnums, has_aux, holomorphic, allow_disconnected, grad_only=True)
