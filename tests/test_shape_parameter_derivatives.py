"""Derivatives of the regularized incomplete gamma and beta functions and of the Student t CDF in
their shape parameters (gammainc/gammaincc in a, betainc in a and b, stdtr in df), and through
them the CDFs of scipy.stats' gamma, chi2, beta and t in every parameter.

Oracles: mpmath's arbitrary-precision functions differentiated numerically at 30 digits
(independent of SciPy and of chainrule), JAX for gammainc's first derivative in a (JAX has no
higher one, nor betainc's in a or b), and central differences of SciPy for the compositions.
"""

import numpy as np
import pytest
import scipy.special as ss

import chainrule as cr
import chainrule.scipy.stats as cst
from chainrule.rules import gammabeta as gb

mp = pytest.importorskip("mpmath")
mp.mp.dps = 30

# (a, x) over both numerical regimes (series below a + 1, continued fraction above), small and
# large a, and x near the transition
GAMMA_POINTS = [(0.5, 0.3), (2.0, 1.5), (3.0, 10.0), (0.7, 5.0), (50.0, 45.0), (50.0, 60.0),
                (1e-3, 0.5), (4.0, 5.0), (4.0, 4.9), (1.0, 1e-8)]
BETA_POINTS = [(0.5, 2.0, 0.3), (2.0, 3.0, 0.9), (5.0, 0.5, 0.2), (30.0, 40.0, 0.45), (1.0, 1.0, 0.5),
               (0.3, 0.4, 0.999), (3.0, 3.0, 0.5)]
T_POINTS = [(3.0, 0.5), (3.0, -2.0), (0.7, 5.0), (30.0, 1.0), (3.0, 1e-4), (1.0, -40.0), (200.0, 2.5)]


def _mp_gammainc(a, x):
    return mp.gammainc(a, 0, x, regularized=True)


def _mp_betainc(a, b, x):
    return mp.betainc(a, b, 0, x, regularized=True)


def _mp_stdtr(df, t):
    z = df / (df + t * t)
    half = mp.betainc(df / 2, mp.mpf(1) / 2, 0, z, regularized=True) / 2
    return 1 - half if t > 0 else half


@pytest.mark.parametrize("a, x", GAMMA_POINTS)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_gammainc_in_a_against_mpmath(a, x, n):
    want = float(mp.diff(lambda s: _mp_gammainc(s, mp.mpf(x)), mp.mpf(a), n))
    np.testing.assert_allclose(gb.gammainc_da(n, a, x), want, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("a, b, x", BETA_POINTS)
@pytest.mark.parametrize("p, q", [(1, 0), (0, 1), (1, 1), (2, 0), (0, 2), (2, 1)])
def test_betainc_in_a_and_b_against_mpmath(a, b, x, p, q):
    want = float(mp.diff(lambda s, r: _mp_betainc(s, r, mp.mpf(x)), (mp.mpf(a), mp.mpf(b)), (p, q)))
    np.testing.assert_allclose(gb.betainc_dab(p, q, a, b, x), want, rtol=1e-8, atol=1e-14)


@pytest.mark.parametrize("df, t", T_POINTS)
@pytest.mark.parametrize("n", [1, 2])
def test_stdtr_in_df_against_mpmath(df, t, n):
    want = float(mp.diff(lambda d: _mp_stdtr(d, mp.mpf(t)), mp.mpf(df), n))
    np.testing.assert_allclose(gb.stdtr_ddf(n, df, t), want, rtol=1e-8, atol=1e-14)


def test_gammainc_in_a_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    a, x = np.array([p[0] for p in GAMMA_POINTS]), np.array([p[1] for p in GAMMA_POINTS])
    jsp = jax.scipy.special
    for ours, theirs in ((ss.gammainc, jsp.gammainc), (ss.gammaincc, jsp.gammaincc)):
        got = cr.grad(lambda a, ours=ours: ours(a, x).sum())(a)
        want = jax.grad(lambda a, theirs=theirs: theirs(a, x).sum())(a)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("fn, args", [
    (ss.gammainc, (np.array([0.5, 2.0, 3.0, 0.7]), np.array([0.3, 1.5, 10.0, 5.0]))),
    (ss.gammaincc, (np.array([0.5, 2.0, 3.0, 0.7]), np.array([0.3, 1.5, 10.0, 5.0]))),
    (ss.betainc, (np.array([0.5, 2.0, 5.0]), np.array([2.0, 3.0, 0.5]), np.array([0.3, 0.9, 0.2]))),
    (ss.stdtr, (np.array([3.0, 3.0, 0.7, 30.0]), np.array([0.5, -2.0, 5.0, 1.0]))),
], ids=["gammainc", "gammaincc", "betainc", "stdtr"])
def test_every_argument_both_modes_to_order_two(fn, args):
    cr.check_grads(fn, modes=("fwd", "rev"), order=2)(*args)


def test_third_order_in_the_shape_parameter_composes():
    """Each parameter derivative is a primitive whose own derivative is the next order's."""
    d3 = cr.grad(cr.grad(cr.grad(lambda a: ss.gammainc(a, 1.5))))(2.0)
    assert d3 == pytest.approx(float(mp.diff(lambda s: _mp_gammainc(s, mp.mpf(1.5)), 2, 3)), rel=1e-8)
    d_aab = cr.grad(cr.grad(cr.grad(lambda a, b: ss.betainc(a, b, 0.3)), argnums=1))(1.5, 2.0)
    want = float(mp.diff(lambda s, r: _mp_betainc(s, r, mp.mpf(0.3)), (1.5, 2), (2, 1)))
    assert d_aab == pytest.approx(want, rel=1e-7)


def test_stdtr_mixed_derivative_at_t_zero_is_symmetric():
    """stdtr(df, 0) = 1/2 for every df, so d/ddf is 0 there, but d^2/dt ddf is the df-derivative of
    the density at 0, not 0: both orders of differentiation agree with mpmath."""
    df = 3.0
    dens = lambda d: mp.gamma((d + 1) / 2) / (mp.gamma(d / 2) * mp.sqrt(d * mp.pi))  # noqa: E731
    want = float(mp.diff(dens, df))
    h = cr.hessian(lambda v: ss.stdtr(v[0], v[1]))(np.array([df, 0.0]))
    np.testing.assert_allclose([h[0, 1], h[1, 0]], [want, want], rtol=1e-9)
    assert cr.grad(lambda d: ss.stdtr(d, 0.0))(df) == 0.0


def test_boundaries_and_invalid_parameters():
    assert gb.gammainc_da(1, 2.0, 0.0) == 0.0 and gb.gammainc_da(1, 2.0, np.inf) == 0.0
    assert np.isnan(gb.gammainc_da(1, -1.0, 2.0)) and np.isnan(gb.gammainc_da(1, 2.0, -1.0))
    assert gb.betainc_dab(1, 0, 2.0, 3.0, 0.0) == 0.0 and gb.betainc_dab(0, 1, 2.0, 3.0, 1.0) == 0.0
    assert np.isnan(gb.betainc_dab(1, 0, 2.0, 3.0, 1.5)) and np.isnan(gb.betainc_dab(1, 0, 0.0, 3.0, 0.5))
    assert gb.stdtr_ddf(1, 3.0, np.inf) == 0.0 and np.isnan(gb.stdtr_ddf(1, -3.0, 1.0))
    assert np.isnan(gb.stdtr_ddf(1, 3.0, np.nan))


def test_broadcasting_vmap_and_dtype():
    a = np.array([[0.5], [2.0], [7.0]])
    x = np.array([0.3, 1.5, 10.0, 45.0])
    g = cr.grad(lambda a: ss.gammainc(a, x).sum())(a)
    want = [[sum(float(mp.diff(lambda s, xv=xv: _mp_gammainc(s, mp.mpf(xv)), mp.mpf(av))) for xv in x)]
            for av in a[:, 0]]
    np.testing.assert_allclose(g, want, rtol=1e-9)
    per_row = cr.vmap(cr.grad(lambda a: ss.gammainc(a, x).sum()))(a[:, 0])
    np.testing.assert_allclose(per_row, g[:, 0], rtol=1e-12)
    hb = cr.vmap(cr.hessian(lambda v: ss.betainc(v[0], v[1], 0.4)))(np.array([[1.5, 2.0], [3.0, 0.5]]))
    for row, (av, bv) in zip(hb, [(1.5, 2.0), (3.0, 0.5)], strict=True):
        np.testing.assert_allclose(row, cr.hessian(lambda v: ss.betainc(v[0], v[1], 0.4))(np.array([av, bv])))
    a32 = np.array([0.5, 2.0], np.float32)
    g32 = cr.grad(lambda a: ss.gammainc(a, np.float32(1.5)).sum())(a32)
    assert g32.dtype == np.float32
    g64 = cr.grad(lambda a: ss.gammainc(a, 1.5).sum())(a32.astype(float))
    np.testing.assert_allclose(g32, g64, rtol=1e-6)


def test_orders_as_arrays_and_invalid_orders():
    """The derivative primitives take their orders as arrays too (a batch of orders under vmap),
    one evaluation per distinct order; a negative or fractional order is refused by name."""
    n = np.array([0, 1, 2, 1])
    got = gb.gammainc_da(n, 2.0, 1.5)
    want = [ss.gammainc(2.0, 1.5)] + [gb.gammainc_da(int(k), 2.0, 1.5) for k in n[1:]]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    got = gb.betainc_dab(np.array([[0], [1]]), np.array([0, 1]), 1.5, 2.0, 0.3)
    want = [[gb.betainc_dab(p, q, 1.5, 2.0, 0.3) for q in (0, 1)] for p in (0, 1)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    with pytest.raises(ValueError, match="orders must be non-negative integers"):
        gb.stdtr_ddf(1.5, 3.0, 0.5)
    with pytest.raises(ValueError, match="orders must be non-negative integers"):
        gb.gammainc_da(-1, 3.0, 0.5)


@pytest.mark.parametrize("method", ["cdf", "logcdf", "sf", "logsf"])
@pytest.mark.parametrize("dist, x, shapes", [
    ("gamma", 1.3, (2.0,)), ("chi2", 0.9, (3.0,)), ("beta", 0.35, (0.8, 2.5)), ("t", -0.7, (4.0,)),
])
def test_distribution_cdfs_in_every_parameter(dist, x, shapes, method):
    """scipy.stats' CDFs in the shape parameters (and x, loc, scale), both modes, order 2, and the
    gradient against central differences of SciPy's own function."""
    import scipy.stats as sst
    fn = lambda x, loc, scale, *s: getattr(getattr(cst, dist), method)(x, *s, loc, scale)  # noqa: E731
    args = (x, 0.1, 1.2) + shapes
    cr.check_grads(fn, modes=("fwd", "rev"), order=2)(*args)
    ref = lambda *v: getattr(getattr(sst, dist), method)(v[0], *v[3:], v[1], v[2])  # noqa: E731
    got = cr.grad(fn, argnums=tuple(range(len(args))))(*args)
    for k, g in enumerate(got):
        h = 1e-6
        up, down = list(args), list(args)
        up[k] += h
        down[k] -= h
        assert g == pytest.approx((ref(*up) - ref(*down)) / (2 * h), rel=1e-6, abs=1e-9), f"argument {k}"


def _gammainc_a_reference(n, a, x):
    """d^n/da^n P(a, x) at 40 digits, from Q where x > a (P is near 1 there)."""
    if x < a:
        return mp.diff(lambda s: mp.gammainc(s, 0, x, regularized=True), a, n)
    return -mp.diff(lambda s: mp.gammainc(s, x, mp.inf, regularized=True), a, n)


def _betainc_ab_reference(p, q, a, b, x):
    """d^(p+q)/da^p db^q I_x(a, b) at 40 digits, from I_{1-x}(b, a) past the mean."""
    if x < a / (a + b):
        return mp.diff(lambda s, r: mp.betainc(s, r, 0, x, regularized=True), (a, b), (p, q))
    xc = 1 - mp.mpf(x)
    return -mp.diff(lambda s, r: mp.betainc(r, s, 0, xc, regularized=True), (a, b), (p, q))


def test_accuracy_sweep_against_mpmath():
    """Random parameters over both regimes: gammainc_da to 1e-12 relative (n = 1, 2), betainc_dab
    to 1e-12 (p, q <= 1), stdtr_ddf to 1e-9."""
    rng = np.random.default_rng(0)
    mp.mp.dps = 40
    worst = {"gammainc": 0.0, "betainc": 0.0, "stdtr": 0.0}

    def record(key, got, want):
        worst[key] = max(worst[key], abs(got / float(want) - 1))

    for _ in range(40):
        a = float(np.exp(rng.uniform(np.log(0.05), np.log(100.0))))
        x = float(a * np.exp(rng.uniform(-2.5, 1.5)))
        for n in (1, 2):
            record("gammainc", gb.gammainc_da(n, a, x), _gammainc_a_reference(n, a, x))
        a, b = (float(np.exp(rng.uniform(np.log(0.1), np.log(50.0)))) for _ in range(2))
        x = float(rng.uniform(0.01, 0.99))
        for p, q in ((1, 0), (0, 1), (1, 1)):
            record("betainc", gb.betainc_dab(p, q, a, b, x), _betainc_ab_reference(p, q, a, b, x))
        df, t = float(np.exp(rng.uniform(np.log(0.3), np.log(200.0)))), mp.mpf(float(rng.normal() * 3))
        record("stdtr", gb.stdtr_ddf(1, df, float(t)), mp.diff(lambda d, t=t: _mp_stdtr(d, t), df, 1))
    assert worst["gammainc"] < 1e-12 and worst["betainc"] < 1e-12 and worst["stdtr"] < 1e-9, worst


def test_an_unconverged_element_is_nan_not_a_partial_sum(monkeypatch):
    """Past the iteration cap (parameters beyond ~1e9 near the transition need more terms) the
    element is nan; the others keep their values."""
    monkeypatch.setattr(gb, "_MAX_TERMS", 50)
    got = gb.gammainc_da(1, np.array([1e4, 2.0]), np.array([1.0001e4, 1.5]))
    assert np.isnan(got[0]) and got[1] == pytest.approx(-0.31348863782507924, rel=1e-14)
