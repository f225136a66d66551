"""``multivariate_normal.cdf`` / ``logcdf`` (issue 14, item 3): the values against SciPy and
against independent integrals, the derivatives (the primitive ``mvn_cdf`` whose rules call
itself in dimensions ``d - 1`` and ``d - 2``) against central differences and ``check_grads``
to order 2 in both modes, ``cov``'s symmetric-gradient convention (``logpdf``'s), broadcasting,
``vmap``, ``jit``, and the errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.integrate as si
import scipy.stats as st

import chainrule as cr
import chainrule.autograd.scipy.stats.multivariate_normal as ag_mvn
import chainrule.scipy.stats as cs
from chainrule.gradcheck import check_batched
from chainrule.rules.mvn_cdf import _phi2, mvn_cdf, mvn_cdf_p

mvn = cs.multivariate_normal
rng = np.random.default_rng(2026)


def spd(d, seed, shift=0.5):
    a = np.random.default_rng(seed).standard_normal((d, d))
    return a @ a.T + shift * np.eye(d)


def corr_cov(r, sd):
    """A covariance with correlation matrix ``r`` and standard deviations ``sd``."""
    return np.asarray(r) * np.outer(sd, sd)


def sym(c):
    return 0.5 * (c + c.T)


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize("d", [1, 2])
def test_values_match_scipy_to_rounding_in_one_and_two_dimensions(d):
    """SciPy computes d = 1 with ndtr and d = 2 with Genz's bvnu (no QMC): the same numbers,
    shapes and scalar types, for one point, a batch and a stack of batches."""
    cov, mean = spd(d, d), rng.standard_normal(d)
    for x in (rng.standard_normal(d), rng.standard_normal((5, d)), rng.standard_normal((2, 3, d))):
        for m in ("cdf", "logcdf"):
            got, want = getattr(mvn, m)(x, mean, cov), getattr(st.multivariate_normal, m)(x, mean, cov)
            assert np.shape(got) == np.shape(want) and type(got) is type(want), (m, x.shape)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=f"{m} {x.shape}")
    # SciPy's argument forms: no mean, a scalar or diagonal cov, n points in one dimension
    for args, kw in [((0.3,), {}), ((np.array([0.3, -1.2]),), {"cov": 2.0}),
                     ((np.array([0.3, -1.2]), np.array([0.1, 0.2])), {"cov": np.array([2.0, 0.5])})]:
        np.testing.assert_allclose(mvn.cdf(*args, **kw), st.multivariate_normal.cdf(*args, **kw), rtol=1e-13)


def _bvn_dblquad(h, k, r):
    """``Phi_2(h, k; r)`` by integrating the standard bivariate density (SciPy's dblquad)."""
    det = 1.0 - r * r
    norm = 2 * math.pi * math.sqrt(det)
    dens = lambda y, x: math.exp(-(x * x - 2 * r * x * y + y * y) / (2 * det)) / norm
    return si.dblquad(dens, -np.inf, h, -np.inf, k, epsabs=1e-13, epsrel=1e-12)[0]


def _bvn_quad(h, k, r, epsabs=1e-15):
    """``Phi_2(h, k; r) = int_{-inf}^h phi(t) Phi((k - r t) / sqrt(1 - r^2)) dt`` (SciPy's quad;
    ``epsabs=0`` for relative accuracy in a tail)."""
    f = lambda t: st.norm.pdf(t) * st.norm.cdf((k - r * t) / math.sqrt(1.0 - r * r))
    return si.quad(f, -np.inf, h, epsabs=epsabs, epsrel=1e-13 if epsabs == 0 else 1e-14, limit=500)[0]


@pytest.mark.parametrize("r", [0.0, 0.2, -0.25, 0.5, -0.7, 0.8, -0.9, 0.93, -0.95, 0.99, -0.999])
def test_two_dimensions_match_the_integral_of_the_density(r):
    """Independent computations, in each of bvnu's regimes (|r| < 0.3, < 0.75, < 0.925, and
    the expansion about |r| = 1) and both signs of r: the density's double integral (where
    dblquad itself is accurate, |r| <= 0.9: the ridge of a near-singular density defeats it)
    and the one-dimensional conditional integral."""
    for h, k in [(0.3, -0.4), (-1.1, 0.8), (1.5, 1.2), (-0.5, -0.6), (2.5, -3.0)]:
        got = mvn.cdf(np.array([2.0 * h, 0.5 * k]), cov=corr_cov([[1, r], [r, 1]], [2.0, 0.5]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", si.IntegrationWarning)
            assert got == pytest.approx(_bvn_quad(h, k, r), abs=1e-13), (h, k, r)
            if abs(r) <= 0.9:
                assert got == pytest.approx(_bvn_dblquad(h, k, r), abs=1e-10), (h, k, r)


def test_two_dimensions_are_accurate_to_about_1e_13_across_correlations():
    """The documented accuracy, against SciPy's own bvnu on 4000 random points."""
    import scipy.stats._qmvnt as q  # SciPy's private reference: skip if it moves
    r = rng.uniform(-0.9999, 0.9999, 4000)
    b = 3.0 * rng.standard_normal((4000, 2))
    want = [q._bvn(np.full(2, -np.inf), bb, np.array([[1, rr], [rr, 1.0]]))
            for bb, rr in zip(b, r, strict=True)]
    np.testing.assert_allclose(_phi2(b[:, 0], b[:, 1], r), want, rtol=0, atol=2e-13)


def test_two_dimensional_tails_are_accurate_in_relative_terms():
    """Below 1e-9, where bvnu (a difference of small terms) has no correct digit left, the tail
    integral takes over: relative error under 1e-10 against adaptive quadrature, down to
    1e-250, for random limits and correlations (r > 0.9 with h close to k excluded: there it is
    only ~1e-5, see rules/mvn_cdf.py)."""
    gen = np.random.default_rng(9)
    pts, want = [], []
    while len(pts) < 150:
        r, (h, k) = gen.uniform(-0.999, 0.9), gen.uniform(-25.0, 3.0, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", si.IntegrationWarning)
            w = _bvn_quad(min(h, k), max(h, k), r, epsabs=0)
        if 1e-250 < w < 1e-9:
            pts.append((h, k, r))
            want.append(w)
    pts = np.array(pts)
    np.testing.assert_allclose(_phi2(pts[:, 0], pts[:, 1], pts[:, 2]), want, rtol=1e-10, atol=0)


@pytest.mark.parametrize("r", [-0.8, 0.0, 0.5])
def test_logcdf_and_its_gradient_in_a_deep_two_dimensional_tail(r):
    """SciPy's log(cdf) is -inf here; chainrule's is the log of the tail integral, and its
    gradient (the closed-form dPhi/dx over Phi) matches central differences of the reference."""
    cov = corr_cov([[1, r], [r, 1]], [1.0, 2.0])
    x = np.array([-10.0, -16.0])
    ref = lambda v: math.log(_bvn_quad(min(v[0], v[1] / 2.0), max(v[0], v[1] / 2.0), r, epsabs=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", si.IntegrationWarning)
        assert mvn.logcdf(x, None, cov) == pytest.approx(ref(x), rel=1e-12)
        g = cr.grad(lambda v: mvn.logcdf(v, None, cov))(x)
        np.testing.assert_allclose(g, _central(ref, x, h=1e-6), rtol=1e-6)


def test_three_dimensional_logcdf_in_a_joint_tail():
    """d = 3 integrates relative-accurate d = 2 values with positive weights: its log in a joint
    tail (about 5e-31 here, where SciPy's QMC has 3 or 4 digits) matches nested adaptive
    quadrature to 1e-11."""
    r = np.array([[1.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.0]])
    x = np.array([-7.0, -6.5, -5.0])
    c = r[1:, 0]
    cond = r[1:, 1:] - np.outer(c, c)
    sd = np.sqrt(np.diag(cond))
    rho = cond[0, 1] / (sd[0] * sd[1])

    def inner(t):
        a, b = (x[1:] - c * t) / sd
        return st.norm.pdf(t) * _bvn_quad(min(a, b), max(a, b), rho, epsabs=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", si.IntegrationWarning)
        want = si.quad(inner, -np.inf, x[0], epsabs=0, epsrel=1e-11, limit=200)[0]
    assert mvn.logcdf(x, None, r) == pytest.approx(math.log(want), rel=1e-11)


def test_infinite_limits_drop_a_variable_or_give_zero():
    cov = corr_cov([[1, 0.6], [0.6, 1]], [1.0, 2.0])
    assert mvn.cdf(np.array([np.inf, 0.7]), cov=cov) == pytest.approx(st.norm.cdf(0.7 / 2.0), abs=1e-15)
    assert mvn.cdf(np.array([0.2, np.inf]), cov=cov) == pytest.approx(st.norm.cdf(0.2), abs=1e-15)
    assert mvn.cdf(np.array([-np.inf, 0.7]), cov=cov) == 0.0
    assert mvn.cdf(np.array([np.inf, np.inf]), cov=cov) == 1.0
    c3 = spd(3, 5)
    assert mvn.cdf(np.array([0.3, np.inf, -0.2]), cov=c3) == pytest.approx(
        mvn.cdf(np.array([0.3, -0.2]), cov=c3[np.ix_([0, 2], [0, 2])]), abs=1e-13)
    assert mvn.cdf(np.array([0.3, -np.inf, -0.2]), cov=c3) == 0.0
    assert np.isnan(mvn.cdf(np.array([0.3, np.nan, -0.2]), cov=c3))


def _phi3_by_quad(b, cov):
    """``Phi_3`` as ``int phi(t) Phi_2(conditional) dt`` by adaptive quadrature, with SciPy's own
    bivariate CDF inside: nothing of chainrule's."""
    s0 = math.sqrt(cov[0, 0])
    c = cov[1:, 0] / cov[0, 0]
    cond = cov[1:, 1:] - np.outer(c, cov[0, 1:])
    f = lambda t: st.norm.pdf(t, scale=s0) * st.multivariate_normal.cdf(b[1:] - c * t, cov=cond)
    return si.quad(f, -np.inf, b[0], epsabs=1e-14, epsrel=1e-13, limit=200)[0]


@pytest.mark.parametrize("rmax", [0.5, 0.9, 0.98])
def test_three_dimensions_match_an_independent_quadrature_and_scipys_qmc(rmax):
    """d = 3 is quadrature over one variable of the exact d = 2: within 1e-12 of an adaptive
    integral, and within SciPy's stated abseps of SciPy's QMC."""
    gen = np.random.default_rng(int(rmax * 100))
    for _ in range(4):
        while True:
            r = np.eye(3)
            r[np.triu_indices(3, 1)] = gen.uniform(-rmax, rmax, 3)
            r = np.triu(r) + np.triu(r, 1).T
            if np.linalg.eigvalsh(r).min() > 1e-3:
                break
        sd = gen.uniform(0.5, 2.0, 3)
        cov, x = corr_cov(r, sd), 1.5 * sd * gen.standard_normal(3)
        assert mvn.cdf(x, cov=cov) == pytest.approx(_phi3_by_quad(x, cov), abs=1e-12)
        assert mvn.cdf(x, cov=cov) == pytest.approx(st.multivariate_normal.cdf(x, cov=cov, rng=0), abs=3e-5)


def test_four_dimensions_are_scipys_qmc_with_a_fixed_seed():
    """d >= 4: reproducible (a fixed seed), within abseps of SciPy's; on a block-diagonal cov
    the product of two exact d = 2 CDFs; the derivatives (which call d = 3 and d = 2) agree
    with those of that product to 1e-10, though the value is QMC."""
    a, b = spd(2, 11), spd(2, 12)
    cov = np.block([[a, np.zeros((2, 2))], [np.zeros((2, 2)), b]])
    x = rng.standard_normal((3, 4))
    v = mvn.cdf(x, cov=cov)
    np.testing.assert_array_equal(v, mvn.cdf(x, cov=cov))
    np.testing.assert_array_equal(v, [mvn.cdf(xi, cov=cov) for xi in x])  # not batch-dependent
    np.testing.assert_array_equal(cr.vmap(lambda xi: mvn.cdf(xi, cov=cov))(x), v)
    prod = lambda x: mvn.cdf(x[..., :2], cov=a) * mvn.cdf(x[..., 2:], cov=b)
    np.testing.assert_allclose(v, prod(x), atol=1e-5)
    np.testing.assert_allclose(v, st.multivariate_normal.cdf(x, cov=cov), atol=3e-5)
    tight = mvn.cdf(x, cov=cov, abseps=1e-8, releps=0.0)
    np.testing.assert_allclose(tight, prod(x), atol=1e-7)
    np.testing.assert_allclose(cr.grad(lambda x: np.sum(mvn.cdf(x, cov=cov)))(x),
                               cr.grad(lambda x: np.sum(prod(x)))(x), rtol=1e-10, atol=1e-13)
    for xi in x:  # dPhi/dcov = H / 2, H the Hessian in x
        h = cr.hessian(prod)(xi)
        g = cr.grad(lambda c, xi=xi: mvn.cdf(xi, cov=c))(cov)
        np.testing.assert_allclose(g, 0.5 * h, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------------------ derivatives
@pytest.mark.parametrize("d", [1, 2, 3])
def test_check_grads_both_modes_order_2(d):
    """x, mean and a cov parameterised as A A^T + I (every entry of A reaches every entry of
    cov); also cov itself as the argument (symmetric at the point, any tangent)."""
    x, mean, a = rng.standard_normal((2, d)), rng.standard_normal(d), rng.standard_normal((d, d))
    f = lambda x, m, a: mvn.cdf(x, m, a @ a.T + np.eye(d))
    cr.check_grads(f, modes=("fwd", "rev"), order=2)(x, mean, a)
    g = lambda x, m, a: mvn.logcdf(x, m, a @ a.T + np.eye(d))
    cr.check_grads(g, modes=("fwd", "rev"), order=2)(x, mean, a)
    cr.check_grads(lambda c: mvn.cdf(x, mean, c), modes=("fwd", "rev"), order=2)(spd(d, d))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_primitive_rules_let_a_batch_of_cotangents_and_tangents_through(d):
    b = rng.standard_normal((3, d))
    check_batched(lambda b, c: mvn_cdf(b, c), b, spd(d, 7), rows=3)


def _central(f, v, h=1e-5):
    out = np.zeros(np.shape(v))
    for i in np.ndindex(np.shape(v)):
        e = np.zeros(np.shape(v))
        e[i] = h
        out[i] = (f(v + e) - f(v - e)) / (2 * h)
    return out


def _reference_cdf(d):
    """SciPy's own CDF for d = 1, 2 (exact there); the independent quadrature for d = 3."""
    if d < 3:
        return lambda x, m, c: np.sum(st.multivariate_normal.cdf(x, m, c))
    return lambda x, m, c: sum(_phi3_by_quad(xi - m, c) for xi in x)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_gradients_match_central_differences_of_an_independent_cdf(d):
    """x, mean and cov (each entry perturbed alone, cov read through its symmetric part, as
    SciPy's Cholesky-free d <= 2 and the quadrature read it)."""
    x, mean, cov = rng.standard_normal((2, d)), rng.standard_normal(d), spd(d, 3 * d)
    ref = _reference_cdf(d)
    gx, gm, gc = cr.grad(lambda x, m, c: np.sum(mvn.cdf(x, m, c)), argnums=(0, 1, 2))(x, mean, cov)
    tol = dict(rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, _central(lambda v: ref(v, mean, cov), x), **tol)
    np.testing.assert_allclose(gm, _central(lambda v: ref(x, v, cov), mean), **tol)
    np.testing.assert_allclose(gc, _central(lambda v: ref(x, mean, sym(v)), cov), **tol)
    np.testing.assert_allclose(gm, -np.sum(gx, axis=0), rtol=1e-12)  # dPhi/dmean = -dPhi/dx
    _, jc = cr.jvp(lambda c: np.sum(mvn.cdf(x, mean, c)), (cov,), (np.triu(np.ones((d, d))),))
    assert jc == pytest.approx(np.sum(gc * np.triu(np.ones((d, d)))), rel=1e-12)


def test_cov_gradient_is_symmetric_as_logpdfs_and_the_same_for_any_symmetric_parameterisation():
    """The convention of logpdf's cov gradient: read through (C + C^T) / 2, so the gradient is
    symmetric and a non-symmetric direction E gives the derivative along sym(E); through a
    Cholesky factor the gradient is the same as SciPy's central differences."""
    d = 3
    x, mean, cov = rng.standard_normal((2, d)), rng.standard_normal(d), spd(d, 21)
    e = rng.standard_normal((d, d))
    for m in ("logpdf", "cdf"):
        f = lambda c, m=m: np.sum(getattr(mvn, m)(x, mean, c))
        g = cr.grad(f)(cov)
        np.testing.assert_allclose(g, g.T, rtol=0, atol=1e-15)
        fd = (f(cov + 1e-5 * e) - f(cov - 1e-5 * e)) / 2e-5
        assert np.sum(g * e) == pytest.approx(fd, rel=1e-6), m
        assert cr.jvp(f, (cov,), (e,))[1] == pytest.approx(np.sum(g * e), rel=1e-12), m
    low = np.linalg.cholesky(cov)
    g = cr.grad(lambda l: np.sum(mvn.cdf(x, mean, l @ l.T)))(low)
    fd = _central(lambda l: sum(_phi3_by_quad(xi - mean, l @ l.T) for xi in x), low)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_second_derivatives_follow_the_identities():
    """d2Phi/dx_i dx_j = phi_2 Phi_{d-2}, the diagonal from the conditional, and Plackett:
    dPhi/dS = H / 2; checked on d = 2 against the closed form phi_2(x) (Phi_0 = 1)."""
    cov = corr_cov([[1, 0.4], [0.4, 1]], [1.5, 0.7])
    x = np.array([0.3, -0.2])
    h = cr.hessian(lambda x: mvn.cdf(x, cov=cov))(x)
    assert h[0, 1] == pytest.approx(mvn.pdf(x, cov=cov), rel=1e-13)
    np.testing.assert_allclose(cr.grad(lambda c: mvn.cdf(x, cov=c))(cov), 0.5 * h, rtol=1e-13)
    f, step = (lambda v: st.multivariate_normal.cdf(v, cov=cov)), 1e-4
    for i in range(2):  # SciPy's own values, second differences: the diagonal too
        e = step * np.eye(2)[i]
        assert h[i, i] == pytest.approx((f(x + e) - 2 * f(x) + f(x - e)) / step**2, abs=1e-6)


def test_logcdf_is_accurate_far_into_the_tail_in_one_dimension():
    """log_ndtr where SciPy's log(cdf) underflows to -inf; the derivative stays finite."""
    x = np.array([-40.0, -5.0, 2.0])
    np.testing.assert_allclose(mvn.logcdf(x, 1.0, 4.0), st.norm.logcdf(x, 1.0, 2.0), rtol=1e-13)
    g = cr.grad(lambda x: np.sum(mvn.logcdf(x, 1.0, 4.0)))(x)
    want = np.exp(st.norm.logpdf(x, 1.0, 2.0) - st.norm.logcdf(x, 1.0, 2.0))  # the inverse Mills ratio
    np.testing.assert_allclose(g, want, rtol=1e-10)
    cr.check_grads(lambda c: mvn.logcdf(x, 1.0, c), order=2)(np.array(4.0))


def test_derivatives_at_infinite_limits_are_those_of_the_marginal():
    """x_i = +inf drops variable i: every derivative (x, cov, second order) is the marginal's,
    embedded with zeros, never 0 * inf = nan; x_i = -inf gives 0 everywhere."""
    cov = spd(3, 71)
    x = np.array([0.3, np.inf, -0.2])
    keep = np.ix_([0, 2], [0, 2])
    gc = cr.grad(lambda c: mvn.cdf(x, None, c))(cov)
    want = np.zeros((3, 3))
    want[keep] = cr.grad(lambda c: mvn.cdf(x[[0, 2]], None, c))(cov[keep])
    np.testing.assert_allclose(gc, want, rtol=1e-13, atol=0)
    h = cr.hessian(lambda v: mvn.cdf(v, None, cov))(x)
    want = np.zeros((3, 3))
    want[keep] = cr.hessian(lambda v: mvn.cdf(v, None, cov[keep]))(x[[0, 2]])
    np.testing.assert_allclose(h, want, rtol=1e-13, atol=0)
    x[1] = -np.inf
    for g in (cr.grad(lambda c: mvn.cdf(x, None, c))(cov), cr.hessian(lambda v: mvn.cdf(v, None, cov))(x)):
        np.testing.assert_array_equal(g, 0.0)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_lower_limit_is_a_box_with_scipys_signs(d):
    """P(lower < X <= x) by inclusion-exclusion: SciPy's values (exact for d <= 2, its QMC's
    error for d = 3), a negative mass where lower > x in an odd number of coordinates (SciPy's
    convention; logcdf is then complex, as SciPy's), -inf lower entries, a scalar lower_limit."""
    cov, mean = spd(d, 80 + d), rng.standard_normal(d)
    x = rng.standard_normal((4, d))
    lo = x - np.abs(rng.standard_normal((4, d)))
    lo[1, 0] = x[1, 0] + 0.7
    lo[2, -1] = -np.inf
    tol = dict(rtol=1e-12, atol=1e-14) if d < 3 else dict(rtol=0, atol=3e-5)
    for lower in (lo, -1.0):
        for m in ("cdf", "logcdf"):
            got = getattr(mvn, m)(x, mean, cov, lower_limit=lower)
            want = getattr(st.multivariate_normal, m)(x, mean, cov, lower_limit=lower, rng=0)
            assert np.iscomplexobj(got) == np.iscomplexobj(want), m
            np.testing.assert_allclose(got, want, **tol, err_msg=f"{m} d={d}")
    assert mvn.cdf(x[1], mean, cov, lower_limit=lo[1]) < 0
    np.testing.assert_allclose(mvn.cdf(x, mean, cov, lower_limit=np.full(d, -np.inf)), mvn.cdf(x, mean, cov),
                               rtol=1e-15)
    f = lambda x, lo, a: mvn.cdf(x, mean, a @ a.T + np.eye(d), lower_limit=lo)
    a = rng.standard_normal((d, d))
    cr.check_grads(f, modes=("fwd", "rev"), order=2 if d < 3 else 1)(x[:2], lo[:2], a)
    gx, gl = cr.grad(lambda x, lo: np.sum(mvn.cdf(x, mean, cov, lower_limit=lo)), argnums=(0, 1))(x, lo)
    assert np.all(gl[2, -1] == 0.0) and np.all(np.isfinite(gx))


# ------------------------------------------------------------------------------ shapes and transforms
def test_broadcasting_over_a_batch_of_points_is_one_call_per_point():
    cov, mean = spd(3, 31), rng.standard_normal(3)
    x = rng.standard_normal((2, 4, 3))
    got = mvn.cdf(x, mean, cov)
    assert got.shape == (2, 4)
    for i in np.ndindex(2, 4):
        assert got[i] == mvn.cdf(x[i], mean, cov)
    g = cr.grad(lambda x: np.sum(mvn.cdf(x, mean, cov)))(x)
    for i in np.ndindex(2, 4):
        np.testing.assert_allclose(g[i], cr.grad(lambda v: mvn.cdf(v, mean, cov))(x[i]), rtol=1e-14)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_vmap_over_points_means_and_covariances(d):
    xs, ms = rng.standard_normal((3, d)), rng.standard_normal((3, d))
    covs = np.stack([spd(d, 40 + i) for i in range(3)])
    one = [mvn.cdf(xs[i], ms[i], covs[i]) for i in range(3)]
    np.testing.assert_allclose(cr.vmap(mvn.cdf)(xs, ms, covs), one, rtol=1e-14)
    np.testing.assert_allclose(cr.vmap(lambda x: mvn.cdf(x, ms[0], covs[0]))(xs), mvn.cdf(xs, ms[0], covs[0]),
                               rtol=1e-14)
    per = cr.vmap(cr.grad(lambda c, x: mvn.cdf(x, ms[0], c)))(covs, xs)
    for p, x, c in zip(per, xs, covs, strict=True):
        np.testing.assert_allclose(p, cr.grad(lambda c, x=x: mvn.cdf(x, ms[0], c))(c), rtol=1e-12)


def test_jit_matches_eager_values_and_gradients():
    cov, x = spd(3, 51), rng.standard_normal((2, 3))
    f = lambda x, c: np.sum(mvn.cdf(x, None, c))
    assert cr.jit(f)(x, cov) == pytest.approx(f(x, cov), rel=1e-14)
    df = cr.grad(f, argnums=(0, 1))
    for a, b in zip(cr.jit(df)(x, cov), df(x, cov), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_the_autograd_mirror_has_them():
    assert ag_mvn.cdf is mvn.cdf and ag_mvn.logcdf is mvn.logcdf


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, err, match", [
    (lambda: mvn.cdf(np.zeros((2, 3)), np.zeros(2), np.eye(2)), ValueError, "must end with an axis of 2"),
    (lambda: mvn.cdf(np.zeros(2), np.zeros(2), np.eye(3)), ValueError, r"'cov' must be \(2, 2\)"),
    (lambda: mvn.cdf(np.zeros(2), np.zeros((2, 2)), np.eye(2)), ValueError, "'mean' must be a vector"),
    (lambda: mvn.cdf(np.zeros(2), np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]])), ValueError,
     "positive definite"),
    (lambda: mvn.logcdf(0.3, 0.0, -1.0), ValueError, "positive definite"),
    (lambda: mvn.cdf(np.zeros(2), None, np.array([[1.0, np.nan], [np.nan, 1.0]])), ValueError,
     "smallest eigenvalue is nan"),
    (lambda: mvn.cdf(np.zeros(2), lower_limit=np.zeros(3), cov=np.eye(2)), ValueError, "'lower_limit' must"),
    (lambda: mvn.logcdf(np.zeros(2), lower_limit=np.zeros((2, 3)), cov=np.eye(2)), ValueError,
     "'lower_limit' must"),
    (lambda: mvn.cdf(np.zeros(2), np.zeros(2), np.diag([1.0, 0.0]), allow_singular=True),
     NotImplementedError, "singular 'cov' is not supported"),
])
def test_bad_input_raises_one_line_naming_it(call, err, match):
    with pytest.raises(err, match=match) as info:
        call()
    assert "\n" not in str(info.value)


def test_a_non_positive_definite_cov_reached_through_a_transform_raises_too():
    with pytest.raises(ValueError, match="positive definite"):
        cr.grad(lambda c: mvn.cdf(np.zeros(2), None, c))(np.array([[1.0, 2.0], [2.0, 1.0]]))


def test_the_primitive_is_one_record_whose_derivative_calls_itself_in_lower_dimensions():
    from chainrule.core.trace import ReverseTrace
    trace = ReverseTrace()
    b = trace.new_input(rng.standard_normal(3))
    mvn_cdf(b, spd(3, 61))
    assert [rec.prim for rec in trace.tape] == [mvn_cdf_p]
    inner = ReverseTrace()
    bb = inner.new_input(rng.standard_normal(3))
    mvn_cdf_p.vjp(0, 1.0, None, [bb, spd(3, 61)], {})
    dims = sorted({rec.args[0].shape[-1] for rec in inner.tape if rec.prim is mvn_cdf_p})
    assert dims == [2]
