"""Property: jit(f) equals f, and jit(grad(f)) equals grad(f), on random programs that mix
bool, int32, int64, float32 and float64 arrays, masks (comparisons, & | ^ ~, where) and
broadcasting: same dtypes, same values, fused (loops of any size) and not."""

import warnings

import numpy as np
import pytest
from helpers import fuse_everything, own_loop_table, random_steps, run_steps  # noqa: F401
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_random_programs import shapes

import chainrule as cr
import chainrule.numpy as cnp

DTYPES = ("float64", "float32", "int64", "int32", "bool")

UNARY = {
    "tanh": lambda x: cnp.tanh(x * 1.0),  # bool/int -> float64 first (tanh(bool) is float16)
    "square": lambda x: x ** 2,
    "neg": lambda x: -x,
    "abs": cnp.abs,
    "mask": lambda x: x > 0.1,
    "not": lambda x: ~(x > 0),
    "recip_safe": lambda x: 1.0 / (1.5 + x * x),
    "sum_last": lambda x: cnp.sum(x, axis=-1, keepdims=True),
    "mean_all": cnp.mean,
    "to_f32": lambda x: x.astype(np.float32),
    "flip": lambda x: x[..., ::-1] if x.ndim else x,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div_safe": lambda a, b: a / (2.0 + cnp.tanh(b * 1.0)),
    "max": cnp.maximum,
    "where": lambda a, b: cnp.where(a > 0.1, a, b),
    "masked": lambda a, b: a * (b > 0),
    "and": lambda a, b: (a > 0) & (b < 0.5),
    "or": lambda a, b: (a > 0) | (b > 0),
    "xor": lambda a, b: (a > 0) ^ (b > 0),
    "less": lambda a, b: a < b,
    "bool_sum": lambda a, b: (a > 0) + (b > 0),
}


@st.composite
def mixed_programs(draw):
    n_in = draw(st.integers(1, 3))
    dtypes = ["float64"] + [draw(st.sampled_from(DTYPES)) for _ in range(n_in - 1)]
    in_shapes = [draw(shapes) for _ in range(n_in)]
    steps = random_steps(draw, n_in, UNARY, BINARY)
    return dtypes, in_shapes, steps, draw(st.integers(0, 2 ** 16))


def build(steps, n_in):
    def f(*xs):
        # a float scalar that depends on every float input, whatever the last value's dtype
        return cnp.sum(run_steps(steps, xs, UNARY, BINARY) * 1.0) + 0.5 * sum(cnp.sum(x) for x in xs[:n_in]
                                                   if x.dtype.kind == "f")
    return f


def inputs(dtypes, in_shapes, seed):
    rng = np.random.default_rng(seed)
    xs = []
    for dt, s in zip(dtypes, in_shapes, strict=True):
        v = rng.uniform(-1.5, 1.5, s) + 0.05
        xs.append(np.asarray(v > 0 if dt == "bool" else (v * 3 if dt.startswith("int") else v),
                             dtype=dt))
    return xs


pytestmark = pytest.mark.usefixtures("own_loop_table")



def assert_same(got, want, what, single):
    """Same dtypes; values to float64's rounding, or float32's where a float32 value took part
    (a compiled float32 tanh may round differently from NumPy's by an ulp)."""
    for g, w in zip(cr.tree_leaves(got), cr.tree_leaves(want), strict=True):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, eager {w.dtype}"
        rtol = 1e-5 if single or w.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-2, err_msg=what)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_programs())
def test_jit_and_jit_grad_equal_eager_on_mixed_dtype_programs(program):
    dtypes, in_shapes, steps, seed = program
    xs = inputs(dtypes, in_shapes, seed)
    f = build(steps, len(xs))
    argnums = tuple(i for i, x in enumerate(xs) if x.dtype.kind == "f")
    g = cr.grad(f, argnums=argnums)
    try:
        with np.errstate(all="ignore"):
            want, want_g = f(*xs), g(*xs)
    except (TypeError, ValueError):  # shapes that do not broadcast, `-` on masks: no program
        assume(False)
    single = "float32" in dtypes or any(s[1] == "to_f32" for s in steps)
    for fuse in (False, True):
        with fuse_everything(), np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error", cr.JitFallbackWarning)
            for fn, expected, what in ((f, want, "jit(f)"), (g, want_g, "jit(grad(f))")):
                jf = cr.jit(fn, fuse=fuse)
                assert_same(jf(*xs), expected, f"{what} staging call, fuse={fuse}", single)
                assert_same(jf(*xs), expected, f"{what} program, fuse={fuse}", single)
