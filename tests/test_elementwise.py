"""Every elementwise primitive: both modes, second order, broadcasting, batched passes, NumPy dispatch."""

import numpy as np
import pytest
from helpers import check_batched

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import check_grads

rng = np.random.default_rng(0)


def _in(lo, hi, shape=(3, 2)):
    return rng.uniform(lo, hi, size=shape)


# name -> (function, input sampler)
UNARY = {
    "negative": (cnp.negative, lambda: _in(-2, 2)),
    "positive": (cnp.positive, lambda: _in(-2, 2)),
    "exp": (cnp.exp, lambda: _in(-2, 2)),
    "exp2": (cnp.exp2, lambda: _in(-2, 2)),
    "expm1": (cnp.expm1, lambda: _in(-2, 2)),
    "log": (cnp.log, lambda: _in(0.5, 3)),
    "log2": (cnp.log2, lambda: _in(0.5, 3)),
    "log10": (cnp.log10, lambda: _in(0.5, 3)),
    "log1p": (cnp.log1p, lambda: _in(-0.5, 3)),
    "sqrt": (cnp.sqrt, lambda: _in(0.5, 3)),
    "cbrt": (cnp.cbrt, lambda: _in(0.5, 3)),
    "square": (cnp.square, lambda: _in(-2, 2)),
    "reciprocal": (cnp.reciprocal, lambda: _in(0.5, 3)),
    "sin": (cnp.sin, lambda: _in(-3, 3)),
    "cos": (cnp.cos, lambda: _in(-3, 3)),
    "tan": (cnp.tan, lambda: _in(-1, 1)),
    "arcsin": (cnp.arcsin, lambda: _in(-0.8, 0.8)),
    "arccos": (cnp.arccos, lambda: _in(-0.8, 0.8)),
    "arctan": (cnp.arctan, lambda: _in(-2, 2)),
    "sinh": (cnp.sinh, lambda: _in(-2, 2)),
    "cosh": (cnp.cosh, lambda: _in(-2, 2)),
    "tanh": (cnp.tanh, lambda: _in(-2, 2)),
    "arcsinh": (cnp.arcsinh, lambda: _in(-2, 2)),
    "arccosh": (cnp.arccosh, lambda: _in(1.5, 3)),
    "arctanh": (cnp.arctanh, lambda: _in(-0.8, 0.8)),
    "absolute": (cnp.absolute, lambda: _in(0.2, 2) * rng.choice([-1, 1], (3, 2))),
    "fabs": (cnp.fabs, lambda: _in(0.2, 2) * rng.choice([-1, 1], (3, 2))),
    "deg2rad": (cnp.deg2rad, lambda: _in(-90, 90)),
    "rad2deg": (cnp.rad2deg, lambda: _in(-2, 2)),
}

BINARY = {
    "add": (cnp.add, (-2, 2), (-2, 2)),
    "subtract": (cnp.subtract, (-2, 2), (-2, 2)),
    "multiply": (cnp.multiply, (-2, 2), (-2, 2)),
    "divide": (cnp.divide, (-2, 2), (0.5, 2)),
    "power": (cnp.power, (0.5, 2), (-2, 2)),
    "maximum": (cnp.maximum, (-2, 2), (-2, 2)),
    "minimum": (cnp.minimum, (-2, 2), (-2, 2)),
    "fmax": (cnp.fmax, (-2, 2), (-2, 2)),
    "fmin": (cnp.fmin, (-2, 2), (-2, 2)),
    "arctan2": (cnp.arctan2, (-2, 2), (0.5, 2)),
    "hypot": (cnp.hypot, (0.5, 2), (0.5, 2)),
    "logaddexp": (cnp.logaddexp, (-2, 2), (-2, 2)),
    "logaddexp2": (cnp.logaddexp2, (-2, 2), (-2, 2)),
    "mod": (cnp.mod, (0.1, 0.9), (1.1, 2)),
    "fmod": (cnp.fmod, (0.1, 0.9), (1.1, 2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    fn, sample = UNARY[name]
    x = sample()
    check_grads(fn, order=2)(x)
    check_batched(fn, x)


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", [((3, 2), (3, 2)), ((3, 2), (2,)), ((1, 2), (3, 1)), ((), (3,))])
def test_binary_broadcasting(name, shapes):
    fn, (xlo, xhi), (ylo, yhi) = BINARY[name]
    x = rng.uniform(xlo, xhi, shapes[0])
    y = rng.uniform(ylo, yhi, shapes[1])
    check_grads(fn, order=2)(x, y)
    check_batched(fn, x, y)


def test_scalars_and_python_floats():
    assert cr.grad(lambda x: x * x + 3.0 * x)(2.0) == pytest.approx(7.0)
    assert cr.grad(lambda x: 2.0 ** x)(3.0) == pytest.approx(8.0 * np.log(2.0))
    assert cr.grad(lambda x: 1.0 / x)(2.0) == pytest.approx(-0.25)
    assert cr.grad(lambda x: 1.0 - x)(2.0) == pytest.approx(-1.0)


def test_power_at_zero_base():
    # d/dy 0**y is taken as 0 (not nan) for positive y; d/dx x**2 at 0 is 0
    gx, gy = cr.grad(lambda x, y: x ** y, argnums=(0, 1))(0.0, 2.0)
    assert gx == 0.0 and gy == 0.0


def test_ties_split_evenly():
    gx, gy = cr.grad(lambda x, y: cnp.sum(cnp.maximum(x, y)), argnums=(0, 1))(np.ones(3), np.ones(3))
    np.testing.assert_allclose(gx, 0.5)
    np.testing.assert_allclose(gy, 0.5)


def test_where_and_clip():
    x = rng.uniform(-2, 2, (4, 3))
    y = rng.uniform(-2, 2, (3,))
    check_grads(lambda x, y: cnp.where(x > 0, x * y, y ** 2), order=2)(x, y)
    check_batched(lambda x, y: cnp.where(x > 0, x * y, y ** 2), x, y)
    g = cr.grad(lambda x: cnp.sum(cnp.clip(x, -1.0, 1.0)))(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])
    check_grads(lambda x: np.clip(x, -0.5, 0.5))(np.array([-2.0, 0.1, 0.3, 3.0]))


def test_piecewise_constant_ops_have_zero_derivative():
    x = np.array([0.3, 1.7, -2.2])
    for op in (cnp.floor, cnp.ceil, cnp.trunc, cnp.rint, cnp.sign, cnp.round):
        np.testing.assert_array_equal(cr.grad(lambda x, op=op: cnp.sum(op(x) * x))(x), op(x))


def test_plain_numpy_dispatch_matches_chainrule_numpy():
    x = rng.uniform(0.5, 2, (5,))
    f_np = lambda x: np.sum(np.log(x) * np.tanh(x) + np.sqrt(x) / np.exp(-x) + np.hypot(x, 1.0))
    f_cr = lambda x: cnp.sum(cnp.log(x) * cnp.tanh(x) + cnp.sqrt(x) / cnp.exp(-x) + cnp.hypot(x, 1.0))
    np.testing.assert_allclose(cr.grad(f_np)(x), cr.grad(f_cr)(x))


def test_against_torch():
    torch = pytest.importorskip("torch")
    x = rng.uniform(0.1, 0.9, (6,))
    names = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "arcsin", "arctan", "sinh", "cosh",
             "log1p", "expm1", "reciprocal"]
    tnames = {"arcsin": "asin", "arctan": "atan"}
    for n in names:
        ours = cr.grad(lambda x, n=n: cnp.sum(getattr(cnp, n)(x) ** 2))(x)
        xt = torch.tensor(x, requires_grad=True)
        (getattr(torch, tnames.get(n, n))(xt) ** 2).sum().backward()
        np.testing.assert_allclose(ours, xt.grad.numpy(), rtol=1e-10, err_msg=n)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, -1, -2, np.int64(3)])
def test_integer_pow(n):
    # ``x ** n`` with a constant integer n binds integer_pow (n a static parameter)
    x = _in(0.5, 2) * rng.choice([-1, 1], (3, 2))
    f = lambda x: x ** n  # noqa: E731
    check_grads(f, order=3)(x)
    check_batched(f, x)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(x ** n))(x),
                               n * x ** (n - 1) if n else np.zeros_like(x), rtol=1e-13)
    out, _ = cr.vjp(f, x)  # repeated squaring: within an ulp or two of NumPy's pow
    np.testing.assert_allclose(out, x ** n, rtol=1e-15)


def test_integer_pow_is_its_own_primitive():
    from chainrule.core.trace import ReverseTrace

    tr = ReverseTrace()
    y = tr.new_input(np.array([1.5, -2.0])) ** 2
    z = y ** 2.5
    assert [r.prim.name for r in tr.tape] == ["integer_pow", "power"]
    assert tr.tape[0].params == {"n": 2}
    assert z.dtype == np.float64


def test_integer_pow_at_zero_and_dtypes():
    # d/dx x**2 at 0 is 0; x**0 has zero derivative even at 0 (no 0 * inf)
    assert cr.grad(lambda x: x ** 2)(0.0) == 0.0
    assert cr.grad(lambda x: x ** 0)(0.0) == 0.0
    x32 = np.array([1.5, 2.0], dtype=np.float32)
    out, g = cr.value_and_grad(lambda x: cnp.sum(x ** 3))(x32)
    assert out.dtype == np.float32 and g.dtype == np.float32
    # the exponent as an array or a float keeps the general power rule (and its d/dy)
    gy = cr.grad(lambda y: cnp.sum(np.array([2.0, 3.0]) ** y))(2.0)
    assert gy == pytest.approx(4.0 * np.log(2.0) + 9.0 * np.log(3.0))
