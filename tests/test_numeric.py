"""NumPy's numerical helpers (issue 14 item 5): linspace/logspace/geomspace with traced
endpoints, meshgrid, interp, polyval, convolve/correlate, cov/corrcoef, quantile/percentile,
insert, select, piecewise, gradient, trapezoid, cross, rollaxis, nan_to_num, sinc,
real_if_close, unwrap, r_/c_ and the ufunc methods. Each is called through plain ``numpy``
on traced arrays (NumPy's dispatch) and through ``chainrule.numpy``; values agree with NumPy,
derivatives with JAX (float64) where it has the function, and check_grads checks both modes
to order 2 against central differences, with batched passes."""

import numpy as np
import pytest
from helpers import check_batched

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import check_grads
from chainrule.core.errors import InPlaceError, NoRuleError

rng = np.random.default_rng(7)


def check(f, *args, eps=1e-6):
    check_grads(f, modes=("fwd", "rev"), order=2, eps=eps)(*args)
    check_batched(f, *args)


def jnp_or_skip():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax, jax.numpy


def agree_with_jax(f_np, f_jnp, *args, argnums=0):
    """Value, gradient and Hessian-vector agreement with JAX for a scalar-valued program."""
    jax, _ = jnp_or_skip()
    np.testing.assert_allclose(f_np(*args), f_jnp(*args), rtol=1e-10, atol=1e-12)
    g = cr.grad(f_np, argnums)(*args)
    gj = jax.grad(f_jnp, argnums)(*args)
    for a, b in zip(
        g if isinstance(argnums, tuple) else [g], gj if isinstance(argnums, tuple) else [gj], strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- ranges
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("axis", [0, -1])
def test_linspace_traced_endpoints(endpoint, axis):
    a, b = rng.normal(size=3), rng.normal(size=(2, 3))
    f = lambda a, b: np.linspace(a, b, 5, endpoint=endpoint, axis=axis)  # noqa: E731
    np.testing.assert_allclose(f(a, b), np.linspace(a, b, 5, endpoint=endpoint, axis=axis), rtol=1e-14)
    assert np.asarray(cr.grad(lambda a: f(a, b).sum())(a)).shape == (3,)
    check(f, a, b)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda a, b: (f(a, b) ** 2).sum(),
        lambda a, b: (jnp.linspace(a, b, 5, endpoint=endpoint, axis=axis) ** 2).sum(),
        a,
        b,
        argnums=(0, 1),
    )


def test_linspace_retstep_dtype_and_endpoint_exact():
    y, step = cnp.linspace(0.1, 0.7, 7, retstep=True)
    ny, nstep = np.linspace(0.1, 0.7, 7, retstep=True)
    assert y[-1] == 0.7 and np.allclose(y, ny) and np.isclose(step, nstep)
    assert cr.grad(lambda b: cnp.linspace(0.0, b, 4, retstep=True)[1])(3.0) == pytest.approx(1 / 3)
    assert np.asarray(cnp.linspace(0.0, 1.0, 0)).shape == (0,)
    with pytest.raises(ValueError, match="must be non-negative"):
        cnp.linspace(0.0, 1.0, -1)


def test_logspace_geomspace():
    a, b = 0.3, 1.7
    np.testing.assert_allclose(cnp.logspace(a, b, 6, base=2.0), np.logspace(a, b, 6, base=2.0), rtol=1e-13)
    np.testing.assert_allclose(cnp.geomspace(-2.0, -8.0, 5), np.geomspace(-2.0, -8.0, 5), rtol=1e-13)
    np.testing.assert_allclose(
        cnp.geomspace(2.0, 8.0, 4, endpoint=False), np.geomspace(2.0, 8.0, 4, endpoint=False), rtol=1e-13
    )
    check(lambda a, b, base: np.logspace(a, b, 4, base=base), a, b, 3.0)
    check(lambda a, b: np.geomspace(a, b, 5), 0.5, 4.0)
    with pytest.raises(ValueError, match="cannot include zero"):
        cnp.geomspace(0.0, 1.0, 3)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda a, b: (np.geomspace(a, b, 5) ** 2).sum(),
        lambda a, b: (jnp.geomspace(a, b, 5) ** 2).sum(),
        0.5,
        4.0,
        argnums=(0, 1),
    )


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    x, y, z = rng.normal(size=3), rng.normal(size=2), rng.normal(size=4)
    got = cnp.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
    want = np.meshgrid(x, y, z, indexing=indexing, sparse=sparse)
    assert type(got) is type(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    check(
        lambda x, y: (
            np.meshgrid(x, y, indexing=indexing, sparse=sparse)[0]
            * np.meshgrid(x, y, indexing=indexing, sparse=sparse)[1] ** 2
        ),
        x,
        y,
    )


# ---------------------------------------------------------------- interp, polyval
def test_interp_values_and_all_arguments():
    xp = np.sort(rng.uniform(0, 5, size=6))
    fp = rng.normal(size=6)
    x = np.concatenate([rng.uniform(-1, 6, size=8), xp[[0, 3, 5]]])
    np.testing.assert_array_equal(cnp.interp(x, xp, fp), np.interp(x, xp, fp))
    np.testing.assert_array_equal(
        cnp.interp(x, xp, fp, left=-7.0, right=9.0), np.interp(x, xp, fp, -7.0, 9.0)
    )
    np.testing.assert_allclose(
        cnp.interp(x, xp, fp, period=5.0), np.interp(x, xp, fp, period=5.0), rtol=1e-12
    )
    inside = rng.uniform(xp[0] + 1e-3, xp[-1] - 1e-3, size=5)
    inside = inside[np.min(np.abs(inside[:, None] - xp[None]), axis=1) > 1e-3]
    check(lambda x, xp, fp: np.interp(x, xp, fp), inside, xp, fp)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda x, xp, fp: (np.interp(x, xp, fp) ** 2).sum(),
        lambda x, xp, fp: (jnp.interp(x, xp, fp) ** 2).sum(),
        inside,
        xp,
        fp,
        argnums=(0, 1, 2),
    )


def test_interp_errors():
    with pytest.raises(ValueError, match="same length"):
        cnp.interp(0.5, [0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="non-zero"):
        cnp.interp(0.5, [0.0, 1.0], [1.0, 2.0], period=0)


def test_polyval():
    p, x = rng.normal(size=4), rng.normal(size=(2, 3))
    np.testing.assert_allclose(cnp.polyval(p, x), np.polyval(p, x), rtol=1e-13)
    check(lambda p, x: np.polyval(p, x), p, x)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda p, x: np.polyval(p, x).sum(), lambda p, x: jnp.polyval(p, x).sum(), p, x, argnums=(0, 1)
    )


# ---------------------------------------------------------------- convolution
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("fn", ["convolve", "correlate"])
def test_convolve_correlate_every_size(fn, mode):
    for n in range(1, 6):
        for m in range(1, 6):
            a = rng.normal(size=n) + 1j * rng.normal(size=n)
            v = rng.normal(size=m) + 1j * rng.normal(size=m)
            np.testing.assert_allclose(
                getattr(cnp, fn)(a, v, mode), getattr(np, fn)(a, v, mode), rtol=1e-12, atol=1e-14
            )
    a, v = rng.normal(size=6), rng.normal(size=3)
    check(lambda a, v: getattr(np, fn)(a, v, mode), a, v)
    check(lambda a, v: getattr(np, fn)(a, v, mode), v, a)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda a, v: (getattr(np, fn)(a, v, mode) ** 2).sum(),
        lambda a, v: (getattr(jnp, fn)(a, v, mode) ** 2).sum(),
        a,
        v,
        argnums=(0, 1),
    )


# ---------------------------------------------------------------- statistics
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"rowvar": False},
        {"bias": True},
        {"ddof": 2},
        {"fweights": np.array([1, 2, 1, 3, 1])},
        {"aweights": np.array([0.5, 1.0, 2.0, 1.5, 0.7])},
        {"fweights": np.array([1, 2, 1, 3, 1]), "aweights": np.array([0.5, 1, 2, 1.5, 0.7])},
    ],
)
def test_cov(kw):
    m = rng.normal(size=(3, 5)) if kw.get("rowvar", True) else rng.normal(size=(5, 3))
    np.testing.assert_allclose(cnp.cov(m, **kw), np.cov(m, **kw), rtol=1e-12)
    check(lambda m: np.cov(m, **kw), m)


def test_cov_y_and_corrcoef():
    x, y = rng.normal(size=(2, 6)), rng.normal(size=6)
    np.testing.assert_allclose(cnp.cov(x, y), np.cov(x, y), rtol=1e-12)
    np.testing.assert_allclose(cnp.corrcoef(x, y), np.corrcoef(x, y), rtol=1e-12)
    check(lambda x, y: np.cov(x, y), x, y)
    check(lambda x: np.corrcoef(x)[0, 1:], x)
    assert np.asarray(cnp.cov(rng.normal(size=4))).shape == ()
    jax, jnp = jnp_or_skip()
    agree_with_jax(lambda x: (np.corrcoef(x) ** 3).sum(), lambda x: (jnp.corrcoef(x) ** 3).sum(), x)
    agree_with_jax(
        lambda x: (np.cov(x, aweights=np.arange(1.0, 7.0)) ** 2).sum(),
        lambda x: (jnp.cov(x, aweights=np.arange(1.0, 7.0)) ** 2).sum(),
        x,
    )


@pytest.mark.parametrize(
    "method",
    [
        "linear",
        "weibull",
        "hazen",
        "median_unbiased",
        "normal_unbiased",
        "interpolated_inverted_cdf",
        "lower",
        "higher",
        "nearest",
        "midpoint",
    ],
)
def test_quantile_methods(method):
    a = rng.normal(size=(4, 7))
    q = np.array([0.0, 0.1, 0.5, 0.93, 1.0])
    for axis, keepdims in [(None, False), (0, False), (1, True), ((0, 1), False)]:
        np.testing.assert_allclose(
            cnp.quantile(a, q, axis=axis, method=method, keepdims=keepdims),
            np.quantile(a, q, axis=axis, method=method, keepdims=keepdims),
            rtol=1e-13,
        )
    np.testing.assert_allclose(
        cnp.percentile(a, 37.0, axis=1, method=method),
        np.percentile(a, 37.0, axis=1, method=method),
        rtol=1e-13,
    )
    check(lambda a: np.quantile(a, q[1:4], axis=1, method=method), a)


def test_quantile_in_q_and_against_jax():
    a = rng.normal(size=(3, 8))
    check(lambda q: np.quantile(a, q, axis=1), np.array([0.13, 0.61]))
    check(lambda a, q: np.percentile(a, q), a, 42.0)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda a, q: (np.quantile(a, q, axis=1) ** 2).sum(),
        lambda a, q: (jnp.quantile(a, q, axis=1) ** 2).sum(),
        a,
        np.array([0.13, 0.61]),
        argnums=(0, 1),
    )
    with pytest.raises(ValueError, match=r"range \[0, 1\]"):
        cnp.quantile(a, 1.5)
    with pytest.raises(ValueError, match=r"range \[0, 100\]"):
        cnp.percentile(a, -1)
    with pytest.raises(ValueError, match="not a valid method"):
        cr.grad(lambda a: np.quantile(a, 0.5, method="cdf"))(a)
    assert np.isnan(cnp.quantile(np.array([1.0, np.nan, 2.0]), 0.5))


# ---------------------------------------------------------------- building arrays
@pytest.mark.parametrize(
    "obj, values, axis",
    [
        (1, 5.0, None),
        ([0, 2, 2], [7.0, 8.0, 9.0], None),
        (1, [1.0, 2.0, 3.0], 0),
        (slice(0, 2), 4.0, 1),
        (np.array([1]), [[1.0], [2.0]], 1),
        (-1, 3.0, 1),
    ],
)
def test_insert(obj, values, axis):
    a = rng.normal(size=(2, 3))
    values = np.asarray(values)
    np.testing.assert_array_equal(cnp.insert(a, obj, values, axis=axis), np.insert(a, obj, values, axis=axis))
    check(lambda a, v: np.insert(a, obj, v, axis=axis), a, values)


def test_select_and_piecewise():
    x = np.linspace(-2, 2, 9) + 0.05
    conds = [x < -1, x < 1]
    f = lambda x: np.select([x < -1, x < 1], [x**2, np.sin(x)], default=x**3)  # noqa: E731
    np.testing.assert_allclose(
        cnp.select(conds, [x**2, np.sin(x)], x**3), np.select(conds, [x**2, np.sin(x)], x**3)
    )
    check(f, x)
    with pytest.raises(TypeError, match="should be boolean"):
        cnp.select([x], [x])
    pw = lambda x: np.piecewise(x, [x < 0, x > 1], [lambda t: np.sqrt(-t), lambda t: t**2, 0.5])  # noqa: E731
    np.testing.assert_allclose(
        cnp.piecewise(x, [x < 0, x > 1], [lambda t: np.sqrt(-t), lambda t: t**2, 0.5]), pw(x)
    )
    g = cr.grad(lambda x: pw(x).sum())(x)
    assert np.all(np.isfinite(g))  # sqrt(-t) only sees the negative elements, as in NumPy
    check(pw, x)
    with pytest.raises(ValueError, match="functions are expected"):
        cnp.piecewise(x, [x < 0], [np.sin, np.cos, np.tan])


# ---------------------------------------------------------------- calculus
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient(edge_order):
    f = rng.normal(size=(5, 6))
    xs = np.cumsum(rng.uniform(0.5, 1.5, size=6))
    for args, kw in [((), {}), ((0.3,), {}), ((0.5, xs), {}), ((xs,), {"axis": 1})]:
        got = cnp.gradient(f, *args, edge_order=edge_order, **kw)
        want = np.gradient(f, *args, edge_order=edge_order, **kw)
        for g, w in zip(
            got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want], strict=True
        ):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    check(lambda f, xs: np.gradient(f, xs, axis=1, edge_order=edge_order), f, xs)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda f, xs: (np.gradient(f, 0.7, xs)[1] ** 2).sum(),
        lambda f, xs: (jnp.gradient(f, 0.7, xs)[1] ** 2).sum(),
        f,
        xs,
        argnums=(0, 1),
    )


@pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")
def test_trapezoid_cross_rollaxis():
    y, x = rng.normal(size=(3, 5)), np.cumsum(rng.uniform(0.1, 1, 5))
    np.testing.assert_allclose(cnp.trapezoid(y, x), np.trapezoid(y, x), rtol=1e-13)
    np.testing.assert_allclose(cnp.trapezoid(y, dx=0.3, axis=0), np.trapezoid(y, dx=0.3, axis=0), rtol=1e-13)
    check(lambda y, x: np.trapezoid(y, x), y, x)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    np.testing.assert_allclose(cnp.cross(a, b), np.cross(a, b), rtol=1e-13)
    np.testing.assert_allclose(cnp.cross(a.T, b, axisa=0), np.cross(a.T, b, axisa=0), rtol=1e-13)
    np.testing.assert_allclose(cnp.cross(a, b[:2]), np.cross(a, b[:2]), rtol=1e-13)
    check(lambda a, b: np.cross(a, b, axisc=0), a, b)
    jax, jnp = jnp_or_skip()
    agree_with_jax(
        lambda a, b: (np.cross(a, b) ** 2).sum(),
        lambda a, b: (jnp.cross(a, b) ** 2).sum(),
        a,
        b,
        argnums=(0, 1),
    )
    t = rng.normal(size=(2, 3, 4, 5))
    for axis, start in [(3, 1), (1, 3), (2, 0), (-1, 4), (0, 0)]:
        np.testing.assert_array_equal(cnp.rollaxis(t, axis, start), np.rollaxis(t, axis, start))
    check(lambda t: np.rollaxis(t, 3, 1), t)


def test_nan_to_num_sinc_real_if_close_unwrap():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    np.testing.assert_array_equal(cnp.nan_to_num(x), np.nan_to_num(x))
    np.testing.assert_array_equal(
        cnp.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0),
        np.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-3.0),
    )
    np.testing.assert_array_equal(cr.grad(lambda x: np.nan_to_num(x).sum())(x), [1, 0, 0, 0, 1])
    s = np.array([-1.3, -0.2, 0.0, 0.4, 2.5])
    np.testing.assert_allclose(cnp.sinc(s), np.sinc(s), rtol=1e-14)
    check(lambda s: np.sinc(s), s, eps=1e-5)
    # sinc''(0) = -pi^2/3: the second derivative at 0 is exact, not zero
    d2 = cr.grad(cr.grad(lambda t: np.sinc(t)))(0.0)
    assert d2 == pytest.approx(-(np.pi**2) / 3, rel=1e-12)
    z = np.array([1.0 + 1e-16j, 2.0])
    assert not np.iscomplexobj(cnp.real_if_close(z))
    assert np.iscomplexobj(cnp.real_if_close(z + 1e-3j))
    check(lambda z: np.real_if_close(z * (1 + 0j)), np.array([1.0, 2.0]))
    p = np.cumsum(rng.uniform(-3, 3, size=(3, 12)), axis=1)
    np.testing.assert_allclose(cnp.unwrap(p), np.unwrap(p), rtol=1e-13)
    np.testing.assert_allclose(
        cnp.unwrap(p, axis=0, period=4.0), np.unwrap(p, axis=0, period=4.0), rtol=1e-13
    )
    check(lambda p: np.unwrap(p) ** 2, p)
    jax, jnp = jnp_or_skip()
    agree_with_jax(lambda s: (np.sinc(s) ** 2).sum(), lambda s: (jnp.sinc(s) ** 2).sum(), s)


def test_r_c():
    a, b = rng.normal(size=3), rng.normal(size=(2, 3))
    np.testing.assert_array_equal(cnp.r_[a, 0:3, 7.0], np.r_[a, 0:3, 7.0])
    np.testing.assert_array_equal(cnp.r_[0:1:5j], np.r_[0:1:5j])
    np.testing.assert_array_equal(cnp.r_["0,2", a, a], np.r_["0,2", a, a])
    np.testing.assert_array_equal(cnp.r_["-1", b, b], np.r_["-1", b, b])
    np.testing.assert_array_equal(cnp.r_["0,2,0", a, a], np.r_["0,2,0", a, a])
    np.testing.assert_array_equal(cnp.c_[a, a], np.c_[a, a])
    np.testing.assert_array_equal(cnp.c_[b.T, a], np.c_[b.T, a])
    check(lambda a, b: cnp.r_[a, 2.0, b[0]] * cnp.c_[a, b[1]].sum(), a, b)


# ---------------------------------------------------------------- ufunc methods
def test_ufunc_methods():
    x = rng.normal(size=(3, 4))
    for f in [
        lambda x: np.add.reduce(x),
        lambda x: np.add.reduce(x, axis=1, keepdims=True),
        lambda x: np.multiply.reduce(x, 1),
        lambda x: np.maximum.reduce(x, axis=None),
        lambda x: np.minimum.reduce(x),
        lambda x: np.add.accumulate(x, axis=1),
        lambda x: np.multiply.accumulate(x),
        lambda x: np.multiply.outer(x[0], x[1]),
        lambda x: np.subtract.outer(x[0], x[:, 1]),
    ]:
        np.testing.assert_allclose(cr.jvp(f, (x,), (np.zeros_like(x),))[0], f(x), rtol=1e-13)
        check(f, x)
    with pytest.raises(InPlaceError, match="at_add"):
        cr.grad(lambda x: np.add.at(x, [0, 0], 1.0))(x)
    with pytest.raises(NoRuleError, match="reduceat"):
        cr.grad(lambda x: np.add.reduceat(x, [0, 2]).sum())(x)


STAGED = {
    "linspace": (lambda a: cnp.linspace(a, 2 * a, 5), (1.5,)),
    "convolve": (lambda a: np.convolve(a, a[:2], "same"), (np.arange(1.0, 5.0),)),
    "cov": (lambda a: np.cov(a), (np.arange(6.0).reshape(2, 3) ** 2,)),
    "sinc": (lambda a: np.sinc(a), (np.array([0.0, 0.5]),)),
    "unwrap": (lambda a: np.unwrap(a), (np.array([0.0, 4.0, 8.0]),)),
    "gradient": (lambda a: np.gradient(a, 0.5), (np.arange(5.0) ** 2,)),
    "trapezoid": (lambda a: np.trapezoid(a, dx=0.1), (np.arange(5.0) ** 2,)),
    "cross": (lambda a: np.cross(a, a[::-1]), (np.arange(1.0, 4.0),)),
}


@pytest.mark.parametrize("name", sorted(STAGED))
def test_jit_stages_value_independent_composites(name):
    """No value-dependent step: jit stages these whole (a fallback would warn), values and
    gradients equal the eager ones."""
    import warnings

    f, args = STAGED[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            np.testing.assert_allclose(cr.jit(f)(*args), f(*args), rtol=1e-13)
        g = cr.jit(cr.grad(lambda *a: np.sum(f(*a) ** 2)))(*args)
    np.testing.assert_allclose(g, cr.grad(lambda *a: np.sum(f(*a) ** 2))(*args), rtol=1e-12)


def test_jit_value_dependent_composites_still_right():
    """interp's segments and quantile's order depend on the values: jit runs them eagerly."""
    xp, fp = np.linspace(0.0, 1.0, 5), np.linspace(0.0, 1.0, 5) ** 2
    x = np.array([0.1, 0.6])
    with pytest.warns(cr.JitFallbackWarning):
        np.testing.assert_allclose(cr.jit(lambda x: np.interp(x, xp, fp))(x), np.interp(x, xp, fp))


@pytest.mark.parametrize("method", ["linear", "hazen", "weibull", "lower", "higher", "nearest", "midpoint"])
def test_nanquantile_nanpercentile(method):
    a = rng.normal(size=(4, 7))
    a[0, [1, 3]] = np.nan
    a[3, 5] = np.nan
    q = np.array([0.0, 0.2, 0.5, 1.0])
    for axis, keepdims in [(1, False), (None, False), (0, True)]:
        np.testing.assert_allclose(
            cnp.nanquantile(a, q, axis=axis, method=method, keepdims=keepdims),
            np.nanquantile(a, q, axis=axis, method=method, keepdims=keepdims),
            rtol=1e-13,
        )
    np.testing.assert_allclose(
        cnp.nanpercentile(a, 63.0, axis=1, method=method), np.nanpercentile(a, 63.0, axis=1, method=method)
    )
    g = cr.grad(lambda a: np.sum(np.nanquantile(a, q[1:3], axis=1, method=method)))(a)
    assert np.all(g[np.isnan(a)] == 0) and np.all(np.isfinite(g))
    clean = np.where(np.isnan(a), 0.0, a)  # derivatives in the non-nan entries, nan positions fixed
    mask = np.isnan(a)
    check(lambda c: np.nanquantile(np.where(mask, np.nan, c), q[1:3], axis=1, method=method), clean)


def test_nanquantile_all_nan_slice():
    a = np.array([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        r = cnp.nanquantile(a, 0.5, axis=1)
    np.testing.assert_array_equal(np.isnan(r), [True, False])
    assert r[1] == 1.5
