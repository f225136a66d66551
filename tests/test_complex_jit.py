"""jit on complex programs: complex elementwise loops fuse (Numba has complex arithmetic), and
jit(f), jit(grad(f)) equal eager on random programs mixing complex64/complex128 with real
arrays, complex constants, real/imag/conj/abs/angle and broadcasting, fused and not."""

import warnings

import numpy as np
import pytest
from helpers import fuse_everything, own_loop_table, random_steps, run_steps  # noqa: F401
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_random_programs import shapes

import chainrule as cr
import chainrule.numpy as cnp

DTYPES = ("complex128", "complex64", "float64", "float32")

UNARY = {
    "exp": lambda x: cnp.exp(x * 0.5), "sqrt": lambda x: cnp.sqrt(x + 2.0 + 1j),
    "log": lambda x: cnp.log(x * x + 1.5), "sin": cnp.sin, "tanh": cnp.tanh,
    "square": lambda x: x ** 2, "neg": lambda x: -x, "conj": cnp.conj,
    "abs": cnp.abs, "real": cnp.real, "imag": cnp.imag, "angle": cnp.angle,
    "recip": lambda x: 1.0 / (x * x + (2 - 1j)), "rot": lambda x: x * (0.6 + 0.8j),
    "sum_last": lambda x: cnp.sum(x, axis=-1, keepdims=True), "mean_all": cnp.mean,
    "to_c64": lambda x: x.astype(np.complex64), "flip": lambda x: x[..., ::-1] if x.ndim else x,
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * cnp.conj(b) + 1.5),
    "where": lambda a, b: cnp.where(cnp.real(a) > 0.1, a, b),
    "mul_conj": lambda a, b: a * cnp.conj(b), "eq": lambda a, b: (a == b) + a,
}


@st.composite
def complex_programs(draw):
    n_in = draw(st.integers(1, 3))
    dtypes = ["complex128"] + [draw(st.sampled_from(DTYPES)) for _ in range(n_in - 1)]
    in_shapes = [draw(shapes) for _ in range(n_in)]
    steps = random_steps(draw, n_in, UNARY, BINARY)
    return dtypes, in_shapes, steps, draw(st.integers(0, 2 ** 16))


def build(steps, n_in):
    def f(*xs):
        # a real scalar that depends on every input
        last = run_steps(steps, xs, UNARY, BINARY)
        return cnp.sum(cnp.abs(last) ** 2) + 0.5 * sum(cnp.sum(cnp.real(x * (1 + 2j))) for x in xs[:n_in])
    return f


def inputs(dtypes, in_shapes, seed):
    rng = np.random.default_rng(seed)
    xs = []
    for dt, s in zip(dtypes, in_shapes, strict=True):
        v = rng.uniform(-1.5, 1.5, s) + (1j * rng.uniform(-1.5, 1.5, s) if dt.startswith("c") else 0)
        xs.append(np.asarray(v, dtype=dt))
    return xs


pytestmark = pytest.mark.usefixtures("own_loop_table")



def assert_same(got, want, what, single):
    for g, w in zip(cr.tree_leaves(got), cr.tree_leaves(want), strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, eager {w.dtype}"
        rtol = 1e-4 if single or w.dtype in (np.float32, np.complex64) else 1e-11
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-2, err_msg=what)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complex_programs())
def test_jit_and_jit_grad_equal_eager_on_complex_programs(program):
    dtypes, in_shapes, steps, seed = program
    xs = inputs(dtypes, in_shapes, seed)
    f = build(steps, len(xs))
    g = cr.grad(f, argnums=tuple(range(len(xs))))
    try:
        with np.errstate(all="ignore"):
            want, want_g = f(*xs), g(*xs)
    except (TypeError, ValueError):  # shapes that do not broadcast: no program
        assume(False)
    assume(all(np.all(np.isfinite(v)) for v in cr.tree_leaves((want, want_g))))
    single = any(d in ("complex64", "float32") for d in dtypes) or any(s[1] == "to_c64" for s in steps)
    for fuse in (False, True):
        with fuse_everything(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error", cr.JitFallbackWarning)
            for fn, expected, what in ((f, want, "jit(f)"), (g, want_g, "jit(grad(f))")):
                jf = cr.jit(fn, fuse=fuse)
                assert_same(jf(*xs), expected, f"{what} staging call, fuse={fuse}", single)
                assert_same(jf(*xs), expected, f"{what} program, fuse={fuse}", single)


def test_complex_elementwise_loops_fuse():
    def f(z, w):
        return np.sum(np.abs(np.exp(z) * w + np.conj(z) * 2.0 - np.sqrt(z)) ** 2)

    rng = np.random.default_rng(0)
    z = rng.standard_normal(5000) + 1j * rng.standard_normal(5000)
    w = rng.standard_normal(5000) + 1j * rng.standard_normal(5000)
    jf, jg = cr.jit(f), cr.jit(cr.grad(f))
    np.testing.assert_allclose(jf(z, w), f(z, w), rtol=1e-12)
    np.testing.assert_allclose(jg(z, w), cr.grad(f)(z, w), rtol=1e-12)
    # one loop for the whole forward pass, one for the whole gradient
    assert jf.lower(z, w).source.count("fused_") == 1
    assert jg.lower(z, w).source.count("fused_") == 1
    for dt in (np.complex64, np.complex128):
        zz = z.astype(dt)
        got = cr.jit(lambda z: np.real(z * (1 + 2j)) + np.imag(np.conj(z) * z) + np.abs(z))(zz)
        want = np.real(zz * (1 + 2j)) + np.imag(np.conj(zz) * zz) + np.abs(zz)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6 if dt == np.complex64 else 1e-14)
