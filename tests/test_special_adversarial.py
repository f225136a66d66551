"""Elementwise special functions at adversarial points: huge, tiny, subnormal, near poles and
domain ends, float32 and float64, both modes, first and second derivatives.

Each case is a bug the adversarial sweep of issue #14 found: a derivative formula that cancels
(``2x erfcx(x) - 2/sqrt(pi)``, ``a (1 - a)``, ``expm1 + 1``, ``exp(x - logaddexp)``), overflows
or underflows in an intermediate (``x*x`` in arcsinh/arccosh/arctan2), makes ``inf * 0`` in
reverse mode only (logit, arccosh at the domain's end), reads a SciPy function where SciPy
gives nan (``iv`` at a subnormal x, ``ive(2, x)`` at 1e10) or drops a mixed partial (xlogy).
References are mpmath derivatives at 60+ digits (a relative central difference).
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc

import chainrule as cr

F = mp.mpf


def _mp_diff(fm, x, n):
    """The n-th derivative of the mpmath function ``fm`` at the float ``x``, as a float."""
    # enough digits for f(x +- h) - f(x) ~ h f'(x) to show when f(x) ~ 1 and f'(x) ~ 1e-305
    dps = 340 + (int(-math.log10(abs(x))) + 5 if 0 < abs(x) < 1 else 0)
    with mp.workdps(dps):
        X = F(x)
        h = abs(X) * F(10) ** -22 if x != 0 else F(10) ** -22
        return float(mp.diff(fm, X, n, h=h))


def _derivatives(f, x):
    """grad, jvp, grad(grad) and jvp(grad) of the scalar function f at x."""
    one = x.dtype.type(1)
    return (cr.grad(f)(x), cr.jvp(f, (x,), (one,))[1],
            cr.grad(cr.grad(f))(x), cr.jvp(cr.grad(f), (x,), (one,))[1])


def _close(ours, ref, dtype):
    rtol = 1e-11 if dtype == np.float64 else 2e-5
    tiny = np.finfo(dtype).tiny
    if math.isinf(ref):
        return float(ours) == ref
    if abs(ref) < tiny:  # the true value underflows
        return abs(float(ours)) < 64 * tiny
    return abs(float(ours) - ref) <= rtol * abs(ref)


# (chainrule/NumPy/SciPy function, mpmath function, points, dtype)
UNARY = [
    # erfcx' = 2x erfcx - 2/sqrt(pi) cancelled: erfcx'(1e10) was 0, float32 erfcx''(100) had the wrong sign
    (sc.erfcx, lambda x: mp.exp(x * x) * mp.erfc(x), [13.0, 30.0, 1e3, 1e10, -3.0, 0.5], np.float64),
    (sc.erfcx, lambda x: mp.exp(x * x) * mp.erfc(x), [6.0, 10.0, 100.0, 700.0, 1e10, 1.0], np.float32),
    # expm1' = expm1 + 1 was 0 below x = -37 and 2e-4 off at -30
    (np.expm1, mp.expm1, [-30.0, -40.0, -100.0, -700.0, 1e-20, 3.0], np.float64),
    (np.expm1, mp.expm1, [-20.0, -30.0, -80.0], np.float32),
    # expit' = a (1 - a) was 0 from x = 37 and 1e-3 off at 30; log_expit'' is -expit'(-x)
    (sc.expit, lambda x: 1 / (1 + mp.exp(-x)), [26.0, 30.0, 37.0, 100.0, 700.0, -40.0, 1.0], np.float64),
    (sc.expit, lambda x: 1 / (1 + mp.exp(-x)), [15.0, 20.0, 80.0], np.float32),
    (sc.log_expit, lambda x: -mp.log1p(mp.exp(-x)), [-30.0, -40.0, -100.0, 40.0], np.float64),
    # log_ndtr' = exp(-x^2/2 - log_ndtr) cancelled: 3e-5 off in the second derivative at -745
    (sc.log_ndtr, lambda x: mp.log(mp.ncdf(x)), [-745.0, -88.0, -1e4, -5.0, 0.0, 3.0, 8.0], np.float64),
    (sc.log_ndtr, lambda x: mp.log(mp.ncdf(x)), [-50.0, -5.0, 2.0], np.float32),
    # x*x overflowed: arcsinh'(1e300) and arccosh'(1e300) were 0
    (np.arcsinh, mp.asinh, [1e300, -1e300, 1e200, 1e-300, 2.0], np.float64),
    (np.arccosh, mp.acosh, [1e300, 1e200, 1.5, 1 + 2.0**-40], np.float64),
    (np.arcsinh, mp.asinh, [1e30, -1e30], np.float32),
    (np.arccosh, mp.acosh, [1e30, 2.0], np.float32),
    # SciPy's iv(2, x) is nan at a subnormal x: i1'(5e-324) and i0''(5e-324) were nan
    (sc.i1, lambda x: mp.besseli(1, x), [5e-324, 1e-310, -1e-310, 3.0], np.float64),
    (sc.i0, lambda x: mp.besseli(0, x), [5e-324, 1e-310], np.float64),
    # SciPy's ive(2, x) is nan from ~1e10: i1e'(1e10) was nan (the scaled recurrence loses ~x ulps)
    (sc.i1e, lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), [2.5, -4.0, 50.0], np.float64),
    (sc.logit, lambda x: mp.log(x / (1 - x)), [0.25, 1e-300, 1 - 2.0**-40], np.float64),
]


@pytest.mark.parametrize("fn, fm, points, dtype", UNARY,
                         ids=[f"{c[0].__name__}-{c[3].__name__}-{i}" for i, c in enumerate(UNARY)])
def test_unary_derivatives_match_mpmath(fn, fm, points, dtype):
    for x0 in points:
        x = dtype(x0)
        d1, j1, d2, j2 = _derivatives(fn, x)
        r1, r2 = _mp_diff(fm, float(x), 1), _mp_diff(fm, float(x), 2)
        assert d1.dtype == dtype and d2.dtype == dtype
        assert _close(d1, r1, dtype) and _close(j1, r1, dtype), (fn.__name__, x0, d1, j1, r1)
        assert _close(d2, r2, dtype) and _close(j2, r2, dtype), (fn.__name__, x0, d2, j2, r2)


def test_limits_at_infinity_and_domain_ends():
    """The derivative's limit where the rule's formula was inf * 0 or inf - inf (nan), in both
    modes: erfcx'(+inf) = 0, logit'' = -inf / +inf at 0 / 1, arccosh'' = -inf at 1, and
    log_ndtr' = -x (1e10) and the second derivative -1 far in the left tail."""
    cases = [(sc.erfcx, np.inf, 0.0, 0.0), (sc.logit, 0.0, np.inf, -np.inf), (sc.logit, 1.0, np.inf, np.inf),
             (np.arccosh, 1.0, np.inf, -np.inf), (sc.log_ndtr, -1e10, 1e10, -1.0)]
    for fn, x0, r1, r2 in cases:
        for dtype in (np.float64, np.float32):
            d1, j1, d2, j2 = _derivatives(fn, dtype(x0))
            for ours, ref in ((d1, r1), (j1, r1), (d2, r2), (j2, r2)):
                assert ours == pytest.approx(ref, rel=1e-6), (fn.__name__, dtype, x0, d1, j1, d2, j2)


def test_scaled_bessel_derivatives_finite_where_scipy_ive_is_nan():
    """SciPy's ive(2, x) is nan from about x = 1e10 on, where i1e is finite: i1e' and i0e''
    (which is i1e' - ...) were nan there. The recurrence's cancellation leaves ~x ulps, so the
    comparison is loose; what matters is a finite, right-signed, right-sized value."""
    for x0 in (1e10, -1e10, 3e11):
        ref = _mp_diff(lambda t: mp.besseli(1, t) * mp.exp(-abs(t)), x0, 1)
        for ours in (cr.grad(sc.i1e)(x0), cr.jvp(sc.i1e, (x0,), (1.0,))[1]):
            assert ours == pytest.approx(ref, rel=1e-4), (x0, ours, ref)
        assert np.isfinite(cr.grad(cr.grad(sc.i0e))(x0)) and np.isfinite(cr.grad(cr.grad(sc.i1e))(x0))


def test_no_finite_derivative_where_the_value_is_nan():
    """arccosh is nan for x < 1: so is its derivative (1/sqrt(x^2 - 1) was finite at x = -2)."""
    for x0 in (-2.0, -1e10, 0.5):
        assert np.isnan(np.arccosh(x0))
        assert np.isnan(cr.grad(np.arccosh)(x0)) and np.isnan(cr.jvp(np.arccosh, (x0,), (1.0,))[1])


def test_elementwise_batches_and_broadcasting():
    """The same points as one array, through broadcasting: the fixed rules are batch-polymorphic."""
    x = np.array([13.0, 1e10, -3.0, np.inf])
    g = cr.grad(lambda v: sc.erfcx(v).sum())(x)
    ref = [_mp_diff(lambda t: mp.exp(t * t) * mp.erfc(t), v, 1) for v in x[:3]]
    assert np.allclose(g[:3], ref, rtol=1e-11, atol=0) and g[3] == 0
    hv = cr.vmap(cr.grad(sc.log_ndtr))(np.array([-745.0, -88.0, 3.0]))
    assert np.allclose(hv, [_mp_diff(lambda t: mp.log(mp.ncdf(t)), v, 1) for v in (-745.0, -88.0, 3.0)],
                       rtol=1e-12, atol=0)
    xs = np.array([[1e300], [1e17], [10.0]])
    ys = np.array([1e300, 1e17, -10.0])
    gx, gy = cr.grad(lambda a, b: np.logaddexp(a, b).sum(), argnums=(0, 1))(xs, ys)
    assert gx.shape == xs.shape and gy.shape == ys.shape
    # d/dx + d/dy of logaddexp is 1 at every point: summed over the 3 x 3 grid, 9
    assert gx.sum() + gy.sum() == pytest.approx(9.0, rel=1e-14)


def _mixed(fm, x, y):
    with mp.workdps(60):
        return float(mp.diff(fm, (F(x), F(y)), (1, 1)))


@pytest.mark.parametrize("fn, fm, points", [
    (sc.xlogy, lambda x, y: x * mp.log(y), [(0.0, 2.0), (0.0, 0.5), (1e-300, 3.0), (2.0, 3.0)]),
    (sc.xlog1py, lambda x, y: x * mp.log1p(y), [(0.0, 1.0), (0.0, -0.5), (3.0, 0.25)]),
])
def test_mixed_partials_are_symmetric(fn, fm, points):
    """d2/dxdy xlogy(x, y) = 1/y, also at x = 0: the rule's guard replaced y by 1 wherever
    x == 0, so d/dx of d/dy was 1 there (an asymmetric Hessian)."""
    for x, y in points:
        H = cr.hessian(lambda v: fn(v[0], v[1]))(np.array([x, y]))
        ref = _mixed(fm, x, y)
        assert H[0, 1] == pytest.approx(ref, rel=1e-12), (x, y, H)
        assert H[1, 0] == pytest.approx(ref, rel=1e-12), (x, y, H)
    assert cr.grad(lambda y: fn(0.0, y))(0.0 if fn is sc.xlogy else -1.0) == 0.0  # still exact 0


def _expit_mp(z):
    return 1 / (1 + mp.exp(-z))


def _logistic2(x, y):
    return mp.ln2 * _expit_mp((x - y) * mp.ln2) * _expit_mp((y - x) * mp.ln2)


# d/d(first argument) and its second derivative, d/d(second) and its second derivative, in mpmath
BINARY_REFS = {
    np.logaddexp: lambda x, y: (_expit_mp(x - y), _expit_mp(x - y) * _expit_mp(y - x),
                                _expit_mp(y - x), _expit_mp(x - y) * _expit_mp(y - x)),
    np.logaddexp2: lambda x, y: (_expit_mp((x - y) * mp.ln2), _logistic2(x, y),
                                 _expit_mp((y - x) * mp.ln2), _logistic2(x, y)),
    # atan2(y, x): d/dy = x / r^2, d2/dy2 = -2xy / r^4; d/dx = -y / r^2, d2/dx2 = 2xy / r^4
    np.arctan2: lambda y, x: (x / (x * x + y * y), -2 * x * y / (x * x + y * y) ** 2,
                              -y / (x * x + y * y), 2 * x * y / (x * x + y * y) ** 2),
}


@pytest.mark.parametrize("fn", list(BINARY_REFS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("x, y", [(1e300, 1e300), (1e17, 1e17), (10.0, -10.0), (-3.0, 40.0), (2.0, 0.5),
                                  (1e-300, 0.0), (0.0, 1e-300), (-1e200, 1e200), (3e-200, -2e-200)])
def test_binary_partials_match_mpmath(fn, x, y):
    """logaddexp(x, x)'s partials were 1 each beyond |x| ~ 1e16 (exp(x - a), a = x + log 2 rounded
    to x), its second derivative 3e-7 off at (10, -10); arctan2's x^2 + y^2 under/overflowed
    (d/dx atan2(0, 1e-300) was nan, the partials at (1e300, 1e300) were 0)."""
    with mp.workdps(80):
        refs = [float(r) for r in BINARY_REFS[fn](F(x), F(y))]
    # at (0, 1e-300) atan2's second derivative is 0 but its chain passes 1e300 / 1e-300 = inf: first only
    order = 1 if fn is np.arctan2 and 0.0 in (x, y) else 2
    for i, f in enumerate((lambda t: fn(t, y), lambda t: fn(x, t))):
        d1, j1, d2, j2 = _derivatives(f, np.float64(x if i == 0 else y))
        r1, r2 = refs[2 * i], refs[2 * i + 1]
        for ours, ref in ((d1, r1), (j1, r1), (d2, r2), (j2, r2))[:2 * order]:
            assert _close(ours, ref, np.float64), (fn.__name__, x, y, i, d1, j1, d2, j2, r1, r2)
