"""jit's fused loops follow NumPy's type rules: every fused operator, every dtype pair.

A fused loop computes in registers, so nothing forces it through NumPy's loops: each
operation must reproduce the dtype NumPy resolves (bool + bool is logical or, int32 with
a Python int stays int32, int / int is float64) and its value. Every operation the fusion
pass knows is run here on every pair among bool, int32, int64, float32, float64 arrays and
weakly typed Python numbers (as arguments and as closed-over constants), fused (loops of
any size), and compared with eager NumPy: same dtype, same value (bit for bit where the
operation is arithmetic, within a few ulps where a compiled transcendental may round
differently from NumPy's own).
"""

import itertools
import warnings

import numpy as np
import pytest
from helpers import fuse_everything, own_loop_table  # noqa: F401

import chainrule as cr

numba = pytest.importorskip("numba")

ARRAYS = ("bool", "int32", "int64", "float32", "float64")
PY = {"py-int": 3, "py-negint": -2, "py-float": 2.5, "py-bool": True}


pytestmark = pytest.mark.usefixtures("own_loop_table")



def sample(dtype, seed=0):
    """Values that probe the edges: zeros of both signs, negatives, NaN, inf, 1 and 2."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, 24).astype(bool)
    if dtype.startswith("int"):
        return np.array([0, 1, -1, 2, -3, 7, 5, -8] * 3, dtype=dtype)
    v = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, np.nan, np.inf, -np.inf, 0.25, 7.0]
                 * 2, dtype=dtype)
    return v


def power_of(n):
    return lambda x: x ** n


def swap(fn):
    return lambda x, y: fn(y, x)


# binary operators, as NumPy spells them; `exact`: bit-identical expected
BINARY = {
    "add": (np.add, True), "subtract": (np.subtract, True), "multiply": (np.multiply, True),
    "divide": (np.divide, True), "less": (np.less, True), "less_equal": (np.less_equal, True),
    "greater": (np.greater, True), "greater_equal": (np.greater_equal, True),
    "equal": (np.equal, True), "not_equal": (np.not_equal, True),
    "logical_and": (np.logical_and, True), "logical_or": (np.logical_or, True),
    "logical_xor": (np.logical_xor, True), "bitwise_and": (np.bitwise_and, True),
    "bitwise_or": (np.bitwise_or, True), "bitwise_xor": (np.bitwise_xor, True),
    "&": (lambda x, y: x & y, True), "|": (lambda x, y: x | y, True),
    "^": (lambda x, y: x ^ y, True), "maximum": (np.maximum, True),
    "minimum": (np.minimum, True), "arctan2": (np.arctan2, False), "hypot": (np.hypot, False),
    "where": (lambda x, y: np.where(np.arange(24) % 3 == 0, x, y), True),
}
UNARY = {
    "negative": (np.negative, True), "~": (lambda x: ~x, True), "invert": (np.invert, True),
    "logical_not": (np.logical_not, True), "absolute": (np.absolute, True),
    "square": (np.square, True), "sign": (np.sign, True), "fabs": (np.fabs, True),
    "floor": (np.floor, True), "ceil": (np.ceil, True), "trunc": (np.trunc, True),
    "sqrt": (np.sqrt, True), "reciprocal": (np.reciprocal, True),
    **{f"pow{n}": (power_of(n), n in (0, 1, 2, 3, 4)) for n in
       (-3, -2, -1, 0, 1, 2, 3, 4, 5, 7, 16, 17)},
    **{name: (getattr(np, name), False) for name in (
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin",
        "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh")},
}


def assert_same(got, want, exact, what):
    assert isinstance(got, np.ndarray), what
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy gives {want.dtype}"
    if exact or want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want, err_msg=what)
        if want.dtype.kind == "f":
            assert (np.signbit(got) == np.signbit(want)).all(), f"{what}: signed zeros differ"
    else:
        eps = np.finfo(want.dtype).eps
        np.testing.assert_allclose(got, want, rtol=8 * eps, atol=0, equal_nan=True, err_msg=what)


def run_all(ops, args, closed=()):
    """Every op of ``ops`` that NumPy accepts on ``args``: eager results, and the fused jit
    results of one function computing them all (one loop, one compilation)."""
    ok, failing = {}, {}
    with np.errstate(all="ignore"):
        for name, (fn, exact) in ops.items():
            try:
                ok[name] = (fn(*args, *closed), exact)
            except (TypeError, ValueError) as err:
                failing[name] = type(err)
    names = list(ok)

    def f(*a):
        return tuple(ops[n][0](*a, *closed) for n in names)

    with fuse_everything(), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error", cr.JitFallbackWarning)
        jf = cr.jit(f)
        staged, replayed = jf(*args), jf(*args)
        kernels = jf.lower(*args).kernels
    return ok, failing, staged, replayed, kernels, f


def check(ops, args, closed=()):
    ok, failing, staged, replayed, kernels, f = run_all(ops, args, closed)
    for i, (name, (want, exact)) in enumerate(ok.items()):
        for label, got in (("staging call", staged[i]), ("fused program", replayed[i])):
            assert_same(np.asarray(got), np.asarray(want), exact, f"{name} {label}")
    for name, err in failing.items():  # what NumPy refuses, jit refuses too
        with pytest.raises(err):
            cr.jit(lambda *a, fn=ops[name][0]: fn(*a, *closed))(*args)
    return ok, kernels


ZERO_D = {f"0d-{d}": d for d in ARRAYS}  # 0-d arrays: strongly typed, unlike Python numbers


@pytest.mark.parametrize("dx,dy", list(itertools.product(ARRAYS, ARRAYS + tuple(PY) + tuple(ZERO_D))))
def test_binary_operators_match_numpy(dx, dy):
    x = sample(dx)
    y = (PY[dy] if dy in PY else np.asarray(sample(ZERO_D[dy], seed=2)[3]) if dy in ZERO_D
         else sample(dy, seed=1))
    ok, kernels = check(BINARY, (x, y))
    assert kernels, "nothing was fused"
    if dy in PY:  # the same number closed over is a constant of the program, as weak
        check(BINARY, (x,), closed=(y,))
    if dx == dy and dx in ("float32", "float64"):  # each op is in the loop, not beside it
        fused_text = "\n".join(kernels)
        for token in ("<=", "!=", "np.arctan2", "np.hypot", "/", " or "):
            assert token in fused_text


@pytest.mark.parametrize("dy", list(PY))
def test_python_number_first(dy):
    # the weak number on the left: 2.5 - int32 array, True & bool mask, 3 ** ... order matters
    ops = {k: v for k, v in BINARY.items() if k != "where"}
    swapped = {k: (swap(fn), exact) for k, (fn, exact) in ops.items()}
    for dx in ARRAYS:
        check(swapped, (sample(dx), PY[dy]))


@pytest.mark.parametrize("dx", ARRAYS)
def test_unary_operators_match_numpy(dx):
    ok, kernels = check(UNARY, (sample(dx),))
    assert kernels, "nothing was fused"


def test_bool_sum_is_logical_or_in_a_loop_large_enough_to_fuse():
    x = np.linspace(-2.0, 2.0, 10_001)
    f = lambda x: ((x > 0) + (x > -1)) * x  # noqa: E731
    jf = cr.jit(f)
    for got in (jf(x), jf(x)):
        np.testing.assert_array_equal(got, f(x))
    assert jf.lower(x).kernels


def test_masks_combine_with_bitwise_operators_under_jit_and_grad():
    x = np.linspace(-4.0, 4.0, 10_001)

    def f(x):
        m = ((x > 0) & ~(x > 2)) | ((x < -1) ^ (x < -3))
        return np.sum(np.where(m, x ** 2, -x))

    jf = cr.jit(f)
    for got in (jf(x), jf(x)):
        np.testing.assert_allclose(got, f(x), rtol=1e-14)
    m = ((x > 0) & ~(x > 2)) | ((x < -1) ^ (x < -3))
    want = np.where(m, 2 * x, -1.0)
    jg = cr.jit(cr.grad(f))
    for got in (jg(x), jg(x)):
        np.testing.assert_array_equal(got, want)


def test_negative_integer_powers_at_zero_give_inf_as_numpy_does():
    x = np.linspace(-1.0, 1.0, 10_001)  # holds 0.0
    assert (x == 0).any()
    f = lambda x: x ** -2 + x ** -1 * 2.0  # noqa: E731
    jf = cr.jit(f)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = f(x)
        for got in (jf(x), jf(x)):
            np.testing.assert_allclose(got, want, rtol=1e-15)
    assert jf.lower(x).kernels


def test_int_division_and_python_int_overflow_follow_numpy():
    i = np.arange(-5000, 5001, dtype=np.int32)
    f = lambda i, k: (i / k + i * k, i // 3, i % 3)  # noqa: E731
    jf = cr.jit(f)
    with np.errstate(all="ignore"):
        for k in (7, 7, 0, -3):  # the first call stages, the others run the program
            for a, b in zip(jf(i, k), f(i, k), strict=True):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
    # a Python int the loop's integer type cannot hold: NumPy raises, and so must the program
    for dtype, big in ((np.int32, 2 ** 40), (np.int64, 2 ** 63)):
        j = i.astype(dtype)
        g = lambda j, k: j * k + j  # noqa: E731
        jg = cr.jit(g)
        np.testing.assert_array_equal(jg(j, 3), g(j, 3))
        with pytest.raises(OverflowError):
            g(j, big)
        with pytest.raises(OverflowError):
            jg(j, big)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_python_ints_beyond_int64_in_a_float_loop_follow_numpy(dtype):
    # NumPy takes a huge Python int into a float loop as a float; Numba cannot pass it as int64
    x = np.linspace(-1.0, 1.0, 8).astype(dtype)
    f = lambda x, k: x * k + x  # noqa: E731
    with fuse_everything():
        jf = cr.jit(f)
        jf(x, 3)
        assert jf.lower(x, 3).kernels
        for k in (3, 2 ** 70, 2 ** 64 - 1, -(2 ** 63) - 1, 2 ** 24 + 1):
            got, want = jf(x, k), f(x, k)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
