"""Comparing chainrule's complex derivatives with JAX's (x64), in every mode and to order 2.

``check_like_jax(f, *args)`` takes ``f(xp, *args)`` written once for both NumPy (chainrule
dispatches on it) and ``jax.numpy``, and compares: the gradient of a real loss of ``f``'s
output, ``jvp`` with complex tangents, ``vjp`` with complex cotangents, reverse over reverse
and forward over reverse; then ``check_grads`` (central differences perturbing real and
imaginary parts, both modes, order 2, batched passes against single ones).
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_grads


def jax_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def crandn(rng, *shape, margin=0.0):
    """Complex normal entries whose imaginary parts are at least ``margin`` in size (off the
    real-axis branch cuts of log, sqrt, arcsin, ...)."""
    re = rng.standard_normal(shape)
    im = rng.standard_normal(shape)
    im = np.sign(im) * (np.abs(im) + margin)
    return re + 1j * im


def _like(rng, x):
    x = np.asarray(x)
    if x.dtype.kind == "c":
        return crandn(rng, *x.shape).astype(x.dtype)
    return rng.standard_normal(x.shape).astype(x.dtype if x.dtype.kind == "f" else float)


def _close(a, b, rtol, what):
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs JAX's {b.shape}"
    assert a.dtype.kind == b.dtype.kind, f"{what}: dtype {a.dtype} vs JAX's {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, np.max(np.abs(b), initial=0)),
                               err_msg=what)


def check_like_jax(f, *args, rtol=1e-9, seed=0, gradcheck=True, order=2, argnums=None):
    """``f(xp, *args)``: its derivatives with respect to ``argnums`` (default: every inexact
    argument) agree with JAX's, and pass ``check_grads``."""
    jax = jax_or_skip()
    jnp = jax.numpy
    rng = np.random.default_rng(seed)
    args = [np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args]
    if argnums is None:
        argnums = tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc")
    fixed = list(args)

    def part(xp):
        def g(*diff):
            full = list(fixed)
            for i, d in zip(argnums, diff):
                full[i] = d
            return f(xp, *full)
        return g

    fc, fj = part(np), part(jnp)
    xs = [args[i] for i in argnums]
    xjs = [jnp.asarray(x) for x in xs]
    out = fc(*xs)
    outj = fj(*xjs)
    _close(out, outj, rtol, "value")
    _close(cr.vjp(fc, *xs)[0], outj, rtol, "traced value")
    w = _like(rng, out)

    def loss(xp, g):
        return lambda *a: xp.sum(xp.real(g(*a) * w))

    nums = tuple(range(len(xs)))
    got = cr.grad(loss(np, fc), argnums=nums)(*xs)
    want = jax.grad(loss(jnp, fj), argnums=nums)(*xjs)
    for k, (a, b) in enumerate(zip(got, want)):
        _close(a, b, rtol, f"grad of a real loss, argument {k}")
        assert np.asarray(a).dtype == np.asarray(xs[k]).dtype or np.ndim(xs[k]) == 0

    ts = [_like(rng, x) for x in xs]
    _, t_out = cr.jvp(fc, tuple(xs), tuple(ts))
    _, tj = jax.jvp(fj, tuple(xjs), tuple(jnp.asarray(t) for t in ts))
    _close(t_out, tj, rtol, "jvp")

    ct = _like(rng, out)
    got = cr.vjp(fc, *xs)[1](ct)
    want = jax.vjp(fj, *xjs)[1](jnp.asarray(ct))
    for k, (a, b) in enumerate(zip(got, want)):
        _close(a, b, rtol, f"vjp, argument {k}")

    if order >= 2:
        vs = [_like(rng, x) for x in xs]

        def second(xp, grad_fn, g):
            gl = grad_fn(loss(xp, g), argnums=nums)
            return lambda *a: sum(xp.sum(xp.real(d * v)) for d, v in zip(gl(*a), vs))

        got = cr.grad(second(np, cr.grad, fc), argnums=nums)(*xs)
        want = jax.grad(second(jnp, jax.grad, fj), argnums=nums)(*xjs)
        for k, (a, b) in enumerate(zip(got, want)):
            _close(a, b, rtol * 10, f"reverse over reverse, argument {k}")
        got = cr.jvp(cr.grad(loss(np, fc), argnums=nums), tuple(xs), tuple(ts))[1]
        want = jax.jvp(jax.grad(loss(jnp, fj), argnums=nums), tuple(xjs),
                       tuple(jnp.asarray(t) for t in ts))[1]
        for k, (a, b) in enumerate(zip(got, want)):
            _close(a, b, rtol * 10, f"forward over reverse, argument {k}")

    if gradcheck:
        check_grads(fc, order=order, rtol=1e-5)(*xs)
