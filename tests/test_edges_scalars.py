"""Python scalars behave as NumPy scalars in every rule (issue 12, item 14).

A Python float reaches a rule unboxed when it is a transform's input (``grad(np.log)(0.0)``)
or a constant operand (``x / 0.0``). Python's own arithmetic raises where NumPy's gives inf
or nan (``1.0 / 0.0``, ``0.0 ** -0.5``, ``2.0 ** 1e308``), so at a singular point a rule must
give with a Python float exactly what it gives with ``np.float64``: same value (inf and nan
included), same dtype, no exception. Every differentiable elementwise primitive is found by
walking the rule modules, so a new primitive is covered without editing this file.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import chainrule.scipy.special as csp
from chainrule import grad, jvp
from chainrule.core.primitive import Primitive
from chainrule.rules import elementwise as ew
from chainrule.rules import special as sp

# singular points of the functions below (0, +-1, overflow, inf, nan), and ordinary ones
POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 1e308, np.inf, -np.inf, np.nan]
# the order n of polygamma, the condition of where and the exponent of integer_pow are constants;
# real, imag and conjugate are bound only on complex values (np.imag of a real value is a constant)
SKIP = {"where", "integer_pow", "polygamma", "real", "imag", "conjugate"}


def _primitives(arity):
    found = {}
    for mod in (ew, sp):
        for v in vars(mod).values():
            if (isinstance(v, Primitive) and v.differentiable and v.name not in SKIP
                    and len(v._vjps) == arity):
                found[v.name] = v
    return sorted(found.values(), key=lambda p: p.name)


UNARY = _primitives(1)
BINARY = _primitives(2)


def test_the_walk_finds_the_primitives():
    names = {p.name for p in UNARY + BINARY}
    assert {"log", "arctanh", "sqrt", "logit", "entr", "divide", "power", "arctan2", "mod",
            "xlogy"} <= names
    assert len(UNARY) >= 40 and len(BINARY) >= 15


def _outcome(fn, *args):
    """``fn(*args)`` as ``("ok", value)`` or ``("error", type name)``; NumPy warnings allowed."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return "ok", fn(*args)
        except Exception as e:  # noqa: BLE001 - the outcome itself is compared
            return "error", f"{type(e).__name__}: {e}"


def _assert_same(py, npy, what):
    assert py[0] == npy[0], f"{what}: Python float gives {py}, np.float64 gives {npy}"
    if py[0] == "ok":
        for a, b in zip(np.atleast_1d(np.asarray(py[1], dtype=object)),
                        np.atleast_1d(np.asarray(npy[1], dtype=object))):
            a, b = np.asarray(a), np.asarray(b)
            assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} (Python) vs {b.dtype} (NumPy)"
            np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("prim", UNARY, ids=lambda p: p.name)
def test_unary_python_float_is_numpy_float(prim):
    for x in POINTS:
        for mode, f in (("grad", grad(prim)), ("grad of grad", grad(grad(prim))),
                        ("jvp", lambda x: jvp(prim, (x,), (1.0,))[1])):
            py, npy = _outcome(f, float(x)), _outcome(f, np.float64(x))
            _assert_same(py, npy, f"{mode} of {prim.name} at {x!r}")
            assert py[0] == "ok", f"{mode} of {prim.name} at {x!r} raised {py[1]}"


@pytest.mark.parametrize("prim", BINARY, ids=lambda p: p.name)
def test_binary_python_float_is_numpy_float(prim):
    """Each argument traced alone, the other a Python constant (``x / 0.0``), and both traced."""
    pts = [0.0, -0.0, 1.0, -1.0, 2.0, 1e308, np.inf, np.nan]
    cases = {
        "d/dx": lambda x, y: grad(lambda a: prim(a, y))(x),
        "d/dy": lambda x, y: grad(lambda b: prim(x, b))(y),
        "both": lambda x, y: grad(prim, argnums=(0, 1))(x, y),
        "jvp": lambda x, y: jvp(prim, (x, y), (1.0, 1.0))[1],
    }
    for x, y in itertools.product(pts, pts):
        for what, f in cases.items():
            if prim.name in ("polygamma",) and what != "d/dy":
                continue
            py = _outcome(f, float(x), float(y))
            # the constant stays a Python float: x / 0.0 must work with a NumPy x as well
            npy = _outcome(f, np.float64(x), np.float64(y)) if what in ("both", "jvp") else (
                _outcome(f, np.float64(x), float(y)) if what == "d/dx" else
                _outcome(f, float(x), np.float64(y)))
            _assert_same(py, npy, f"{what} of {prim.name} at ({x!r}, {y!r})")
            assert py[0] == "ok", f"{what} of {prim.name} at ({x!r}, {y!r}) raised {py[1]}"


# composites and non-elementwise primitives that meet a Python scalar
COMPOSITES = {
    "x ** 0.5": lambda x: x ** 0.5,
    "x ** 0.0": lambda x: x ** 0.0,
    "x ** -1": lambda x: x ** -1,
    "x ** -2": lambda x: x ** -2,
    "x ** 0": lambda x: x ** 0,
    "0.0 ** x": lambda x: 0.0 ** x,
    "1 / x": lambda x: 1.0 / x,
    "1 % x": lambda x: 1.0 % x,
    "x / x": lambda x: x / x,
    "x / 0": lambda x: x / 0.0,
    "arctan2(x, 0)": lambda x: np.arctan2(x, 0.0),
    "hypot(x, 0)": lambda x: np.hypot(x, 0.0),
    "norm": lambda x: np.linalg.norm(np.stack([x, 0.0])),
    "std": lambda x: np.std(np.stack([x, 1.0])),
    "var of a scalar": lambda x: np.var(x),
    "prod": lambda x: np.prod(np.stack([x, 0.0])),
    "cumprod": lambda x: np.cumprod(np.stack([x, 0.0, x]))[-1],
    "max": lambda x: np.max(np.stack([x, 0.0])),
    "clip": lambda x: np.clip(x, 0.0, 1.0),
    "nanmean": lambda x: np.nanmean(np.stack([x, np.nan])),
    "logsumexp": lambda x: csp.logsumexp(np.stack([x, 0.0])),
    "logsumexp b": lambda x: csp.logsumexp(np.stack([x, 0.0]), b=np.stack([x, 1.0])),
    "softmax": lambda x: csp.softmax(np.stack([x, 0.0]))[0],
    "log_softmax": lambda x: csp.log_softmax(np.stack([x, 0.0]))[0],
    "entr": csp.entr,
    "xlogy(x, x)": lambda x: csp.xlogy(x, x),
    "polygamma(1, x)": lambda x: csp.polygamma(1, x),
    "det": lambda x: np.linalg.det(np.stack([np.stack([x, 1.0]), np.stack([1.0, x])])),
    "inv": lambda x: np.sum(np.linalg.inv(np.stack([np.stack([x, 1.0]), np.stack([1.0, x])]))),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_python_float_is_numpy_float(name):
    f = COMPOSITES[name]
    for x in POINTS:
        for mode, h in (("grad", grad(f)), ("grad of grad", grad(grad(f))),
                        ("jvp", lambda x: jvp(f, (x,), (1.0,))[1])):
            _assert_same(_outcome(h, float(x)), _outcome(h, np.float64(x)), f"{mode} of {name} at {x!r}")


@pytest.mark.parametrize("f, x, want", [
    (np.log, 0.0, np.inf),
    (lambda x: x ** 0.5, 0.0, np.inf),
    (np.arctanh, 1.0, np.inf),
    (np.arctanh, -1.0, np.inf),
    (lambda x: 1.0 / x, 0.0, -np.inf),
    (lambda x: x / 0.0, 1.0, np.inf),
    (lambda x: x ** -0.5, 0.0, -np.inf),
])
def test_the_reported_cases(f, x, want):
    with np.errstate(all="ignore"):
        assert grad(f)(x) == want


def test_a_constant_exponent_of_zero_has_derivative_zero_everywhere():
    """x ** 0.0 is 1 for every x, x = 0 included: d/dx is 0 there, at every order (the product
    form y x**(y-1) is 0 * inf = nan at 0, as JAX's select avoids), in both modes."""
    for x in (0.0, np.float64(0.0), -0.0, 2.0):
        for f in (grad(lambda x: x ** 0.0), grad(grad(lambda x: x ** 0.0)),
                  lambda x: jvp(lambda x: x ** 0.0, (x,), (1.0,))[1]):
            with np.errstate(all="ignore"):
                assert f(x) == 0.0
    # a traced exponent with some zeros: 0 where y == 0, y x**(y-1) elsewhere, both arguments
    x = np.array([0.0, 0.0, 2.0, 3.0])
    y = np.array([0.0, 2.0, 0.0, 0.5])
    with np.errstate(all="ignore"):
        gx, gy = grad(lambda x, y: np.sum(x ** y), argnums=(0, 1))(x, y)
        hx = grad(lambda x: np.sum(grad(lambda x: np.sum(x ** y))(x)))(x)
    np.testing.assert_allclose(gx, [0.0, 0.0, 0.0, 0.5 / np.sqrt(3.0)])
    np.testing.assert_allclose(gy, [0.0, 0.0, np.log(2.0), np.sqrt(3.0) * np.log(3.0)])
    np.testing.assert_allclose(hx, [0.0, 2.0, 0.0, -0.25 * 3.0 ** -1.5])


def test_copysign_is_constant_in_its_sign_argument():
    """copysign(x, y) = |x| sign(y): d/dy is 0 (as for sign), not a NoRuleError."""
    y = np.array([-2.0, 3.0])
    assert grad(lambda y: np.sum(np.copysign(2.0, y)))(y).tolist() == [0.0, 0.0]
    gx, gy = grad(lambda x, y: np.sum(np.copysign(x, y)), argnums=(0, 1))(np.array([1.0, -1.0]), y)
    assert gx.tolist() == [-1.0, -1.0] and gy.tolist() == [0.0, 0.0]
    assert jvp(lambda y: np.copysign(2.0, y), (y,), (np.ones(2),))[1].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_constants_stay_weak(dtype):
    """A Python scalar is cast to the array's dtype, as NumPy casts it: float32 stays float32."""
    x = np.array([0.0, 1.0, 4.0], dtype=dtype)
    fs = [lambda x: x / 0.0, lambda x: x / 2.0, lambda x: x ** 0.5, lambda x: 1.0 / x,
          lambda x: np.arctan2(x, 0.0), lambda x: x % 0.0, lambda x: np.fmod(2.0, x),
          lambda x: np.power(0.0, x), lambda x: csp.xlogy(2.0, x), lambda x: np.hypot(0.0, x)]
    for f in fs:
        with np.errstate(all="ignore"):
            g = grad(lambda x, f=f: np.sum(f(x)))(x)
            y, t = jvp(f, (x,), (np.ones_like(x),))
        # SciPy's xlogy has no float32 loop: its value and tangent are float64; a gradient
        # has its input's dtype
        want = np.float64 if f is fs[-2] else dtype
        assert y.dtype == want and g.dtype == dtype and t.dtype == want


def test_a_python_float_input_next_to_a_float32_array():
    """d/dy of x * y and x / y for a traced Python float x: float32, as NumPy computes x * y."""
    y = np.array([0.0, 2.0], dtype=np.float32)
    with np.errstate(all="ignore"):
        for f in (lambda x, y: x * y, lambda x, y: x / y, lambda x, y: np.arctan2(x, y)):
            gy = grad(lambda y, f=f: np.sum(f(0.0, y)))(y)
            assert gy.dtype == np.float32
            np.testing.assert_array_equal(gy, grad(lambda y, f=f: np.sum(f(np.float32(0.0), y)))(y))


@pytest.mark.parametrize("prim", UNARY + BINARY, ids=lambda p: p.name)
def test_float32_in_float32_derivatives(prim):
    """A derivative has its output's dtype: float32 in, float32 out, in both modes. (maximum,
    minimum, fmax and fmin built theirs as bool + 0.5 * bool, float64; digamma's derivative is
    SciPy's polygamma, which computes in float64.)"""
    x = np.array([0.3, 0.7, 1.5, 1.5], np.float32)
    y = np.array([0.6, 0.7, 1.2, 2.0], np.float32)
    args = (x,) if len(prim._vjps) == 1 else (x, y)
    with np.errstate(all="ignore"):
        out = prim(*args)
        for i, rule in enumerate(prim._vjps):
            if rule is None:
                continue

            def f(a, i=i):
                return prim(*[a if j == i else v for j, v in enumerate(args)])
            g = grad(lambda a, f=f: np.sum(f(a)))(args[i])
            _, t = jvp(f, (args[i],), (np.ones(4, np.float32),))
            assert g.dtype == out.dtype and t.dtype == out.dtype, (prim.name, i, g.dtype, t.dtype)
