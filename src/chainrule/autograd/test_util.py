"""``autograd.test_util``: ``check_grads(fun, argnum=0, modes=["fwd", "rev"], order=2)(*args)``
with autograd's signature and recursion, over chainrule's checker (central differences and
batched passes); ``combo_check``, ``check_vjp``, ``check_jvp``, ``check_equivalent`` and
``scalar_close`` as autograd's tests use them."""

from itertools import product

import numpy as _np

from .. import transforms as _t
from ..core.pytree import tree_flatten as _tree_flatten
from ..gradcheck import GradCheckError, _like
from ..gradcheck import check_grads as _check_grads
from . import _name_of

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


_LABEL = {"fwd": "JVP", "rev": "VJP"}


def _check_modes(f, xs, modes, order, kwargs, name):
    """autograd's recursion: each mode at first order, then, for ``order > 1``, the map
    ``(x, v) -> J v`` (``fwd``, named ``jvp_<name>``) or ``(x, u) -> u^T J`` (``rev``,
    ``vjp_<name>``) in the same modes, so ``modes=["rev"]`` never asks for a forward rule
    (chainrule's own ``check_grads`` checks both modes at every order above the first). The
    directions ``v`` and ``u`` have the structure (dicts, lists, tuples), shapes and dtypes of
    the inputs and of the output. A failure starts as autograd's does, ``(VJP) check of
    vjp_f failed``, followed by chainrule's diagnosis (the primitive whose rule is wrong)."""
    for mode in modes:  # one mode at a time, so the message says which failed
        try:
            _check_grads(f, modes=(mode,), order=1, **kwargs)(*xs)
        except GradCheckError as e:
            raise GradCheckError(f"({_LABEL[mode]}) check of {name} failed\n  {e}") from e
    if order <= 1:
        return
    rng = _np.random.default_rng(len(modes) + order)
    if "fwd" in modes:
        v = _like(rng, xs)
        _check_modes(lambda *a: _t.jvp(f, a[:len(xs)], a[len(xs):])[1], (*xs, *v), modes, order - 1, kwargs,
                     "jvp_" + name)
    if "rev" in modes:
        u = _like(rng, f(*xs))
        _check_modes(lambda *a: _t.vjp(f, *a[:-1])[1](a[-1]), (*xs, u), modes, order - 1, kwargs,
                     "vjp_" + name)


def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2, **kwargs):
    """Check ``fun``'s derivatives in argument ``argnum`` (an int, or a tuple of them) against
    central differences, in ``modes``, to ``order``; ``kwargs`` go to
    :func:`chainrule.check_grads` (``eps``, ``rtol``, ``atol``)."""
    modes = tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"unknown mode {m!r}; use 'fwd' and/or 'rev'")

    def checker(*args, **fun_kwargs):
        nums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

        def of_some(*xs):
            full = list(args)
            for i, x in zip(nums, xs, strict=True):
                full[i] = x
            return fun(*full, **fun_kwargs)
        _check_modes(of_some, tuple(args[i] for i in nums), modes, order, kwargs,
                     _name_of(fun))
    return checker


def check_vjp(f, x):
    """Reverse mode of the unary ``f`` at ``x`` against central differences (first order)."""
    _check_grads(f, modes=("rev",), order=1)(x)


def check_jvp(f, x):
    """Forward mode of the unary ``f`` at ``x`` against central differences (first order)."""
    _check_grads(f, modes=("fwd",), order=1)(x)


def scalar_close(a, b):
    """``|a - b| < TOL`` or ``|a - b| / |a + b| < RTOL`` (autograd's test)."""
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


def check_equivalent(x, y):
    """Two values (or containers of them) of the same structure and shapes, equal within
    autograd's tolerances along a random direction."""
    xs, tx = _tree_flatten(x)
    ys, ty = _tree_flatten(y)
    assert tx == ty, f"structure mismatch:\nx: {tx}\ny: {ty}"
    rng = _np.random.default_rng(0)
    for a, b in zip(xs, ys, strict=True):
        a, b = _np.asarray(a), _np.asarray(b)
        assert a.shape == b.shape, f"shape mismatch:\nx: {a.shape}\ny: {b.shape}"
        v = rng.standard_normal(a.shape)
        assert scalar_close(_np.sum(a * v), _np.sum(b * v)), f"Value mismatch:\nx: {a}\ny: {b}"


def combo_check(fun, *args, **kwargs):
    """``combo_check(fun, argnum, modes=..., order=...)(*arg_choices, **kwarg_choices)``:
    ``check_grads`` at every combination of the given argument and keyword values."""
    def _combo_check(*arg_choices, **kwarg_choices):
        kwarg_key_vals = [[(k, x) for x in xs] for k, xs in kwarg_choices.items()]
        for _args in product(*arg_choices):
            for _kwargs in product(*kwarg_key_vals):
                check_grads(fun, *args, **kwargs)(*_args, **dict(_kwargs))
    return _combo_check


__all__ = ["check_grads", "check_vjp", "check_jvp", "check_equivalent", "combo_check", "scalar_close"]
