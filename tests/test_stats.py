"""chainrule.scipy.stats (issue 14 item 3): SciPy's values (also off the support and at invalid
parameters), every continuous argument in both modes to second order with broadcasting,
batched passes, JAX's derivatives where JAX has the function and central differences of SciPy
where it does not, zero (not nan) derivatives off the support, errors, autograd's module paths."""

import warnings

import numpy as np
import pytest
import scipy.stats as st
from helpers import check_batched

import chainrule as cr
import chainrule.scipy.stats as cs
from chainrule import check_grads
from chainrule.core.errors import DisconnectedWarning

rng = np.random.default_rng(2)


def u(lo, hi, shape):
    return rng.uniform(lo, hi, size=shape)


CONTINUOUS_METHODS = ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"]
DISCRETE_METHODS = ["pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"]
X = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5])
CONTINUOUS_SHAPES = {"norm": [()], "t": [(3.0,), (0.7,), (-1.0,)],
                     "gamma": [(0.5,), (1.0,), (2.5,), (-1.0,)],
                     "beta": [(0.5, 2.0), (2.0, 3.0), (1.0, 1.0), (-1.0, 2.0)],
                     "chi2": [(1.0,), (2.0,), (3.0,)], "expon": [()], "laplace": [()],
                     "logistic": [()], "cauchy": [()]}
K = np.array([-1.0, 0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 20.0])
DISCRETE_SHAPES = {"poisson": [(0.0,), (3.0,), (-1.0,)],
                   "bernoulli": [(0.3,), (0.0,), (1.0,), (1.2,)],
                   "binom": [(5.0, 0.3), (5.5, 0.3), (5.0, 0.0), (5.0, 1.0), (0.0, 0.4)]}


def _close(got, want, what, rtol=1e-10):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=what)


@pytest.mark.parametrize("name", list(CONTINUOUS_SHAPES))
def test_continuous_values_match_scipy_on_and_off_the_support(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in CONTINUOUS_SHAPES[name]:
            for loc, scale in [(0.0, 1.0), (0.2, 1.7), (0.0, -1.0)]:  # scale < 0: nan
                for m in CONTINUOUS_METHODS:
                    _close(getattr(getattr(cs, name), m)(X, *shape, loc, scale),
                           getattr(getattr(st, name), m)(X, *shape, loc, scale), f"{name}.{m}{shape}")
                _close(getattr(cs, name).entropy(*shape, loc=loc, scale=scale),
                       getattr(st, name).entropy(*shape, loc=loc, scale=scale), f"{name}.entropy")


@pytest.mark.parametrize("name", list(DISCRETE_SHAPES))
def test_discrete_values_match_scipy_on_and_off_the_support(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in DISCRETE_SHAPES[name]:
            ok = np.all(np.isfinite(getattr(st, name).pmf(0, *shape)))
            for loc in (0.0, 1.0):
                for m in DISCRETE_METHODS:
                    if m == "logcdf" and not ok:
                        continue  # SciPy gives nan for cdf but 0 for logcdf above the support there
                    _close(getattr(getattr(cs, name), m)(K, *shape, loc),
                           getattr(getattr(st, name), m)(K, *shape, loc), f"{name}.{m}{shape}")
            _close(getattr(cs, name).entropy(*shape), getattr(st, name).entropy(*shape),
                   f"{name}.entropy{shape}", rtol=1e-9)


def test_multivariate_values_match_scipy():
    a = rng.normal(size=(3, 3))
    cov, mean, x = a @ a.T + 3 * np.eye(3), rng.normal(size=3), rng.normal(size=(2, 4, 3))
    for m in ("pdf", "logpdf"):
        _close(getattr(cs.multivariate_normal, m)(x, mean, cov),
               getattr(st.multivariate_normal, m)(x, mean, cov), m)
        _close(getattr(cs.multivariate_normal, m)(x[0, 0], mean, cov),
               getattr(st.multivariate_normal, m)(x[0, 0], mean, cov), m)
    _close(cs.multivariate_normal.logpdf(x, mean, np.diag(cov)),
           st.multivariate_normal.logpdf(x, mean, np.diag(cov)), "diagonal cov")
    _close(cs.multivariate_normal.logpdf(x[0, :, 0], cov=2.0),
           st.multivariate_normal.logpdf(x[0, :, 0], cov=2.0), "scalar cov")
    _close(cs.multivariate_normal.entropy(mean, cov), st.multivariate_normal.entropy(mean, cov), "entropy")
    alpha = np.array([1.5, 2.0, 3.0])
    xs = rng.dirichlet(alpha, size=4).T
    for m in ("pdf", "logpdf"):
        _close(getattr(cs.dirichlet, m)(xs, alpha), getattr(st.dirichlet, m)(xs, alpha), m)
        _close(getattr(cs.dirichlet, m)(xs[:2], alpha), getattr(st.dirichlet, m)(xs[:2], alpha), m)
    _close(cs.dirichlet.entropy(alpha), st.dirichlet.entropy(alpha), "dirichlet entropy")


def test_broadcasting_scalars_and_dtypes_as_scipy():
    x, loc, scale = rng.normal(size=(4, 1)), rng.normal(size=(3,)), u(0.5, 2, (2, 1, 1))
    assert cs.norm.logpdf(x, loc, scale).shape == st.norm.logpdf(x, loc, scale).shape == (2, 4, 3)
    assert cs.gamma.cdf(np.abs(x), loc**2 + 0.5).shape == (4, 3)
    assert type(cs.norm.logpdf(1.0)) is type(st.norm.logpdf(1.0)) is np.float64
    assert cs.norm.logpdf(np.float32(1.0)).dtype == st.norm.logpdf(np.float32(1.0)).dtype
    g = cr.grad(lambda x: np.sum(cs.norm.logpdf(x)))(np.array([1.0, 2.0], np.float32))
    assert g.dtype == np.float32  # the derivative has its input's dtype; the value is SciPy's float64
    # SciPy's parameter conventions: by position or by name
    assert cs.gamma.logpdf(1.0, 2.0, 0.5, 2.0) == cs.gamma.logpdf(1.0, a=2.0, loc=0.5, scale=2.0)
    with pytest.raises(TypeError, match="unexpected parameter 'mu'"):
        cs.norm.logpdf(1.0, mu=1.0)
    with pytest.raises(TypeError, match="missing parameter"):
        cs.gamma.logpdf(1.0)


# (distribution, method, arguments, the positions that are differentiated)
x6, pos6, unit6 = rng.normal(size=(6,)), u(0.2, 3, (6,)), u(0.1, 0.9, (6,))
loc31, scale21 = rng.normal(size=(3, 1)), u(0.5, 2, (2, 1, 1))
GRAD_CASES = [
    *[("norm", m, (x6, loc31, scale21), (0, 1, 2)) for m in CONTINUOUS_METHODS],
    ("norm", "ppf", (unit6, loc31, scale21), (0, 1, 2)),
    ("norm", "isf", (unit6, 0.3, 2.0), (0,)),
    ("norm", "entropy", (0.0, u(0.5, 2, (3,))), (1,)),
    ("t", "logpdf", (x6, u(0.5, 5, (3, 1)), 0.2, 1.3), (0, 1, 2, 3)),
    ("t", "pdf", (x6, 3.0, loc31, 1.3), (0, 2, 3)),
    ("t", "cdf", (x6, 3.0, loc31, 1.3), (0, 2, 3)),
    ("t", "logsf", (x6, 2.5), (0,)),
    ("t", "entropy", (u(0.5, 5, (3,)), 0.0, 2.0), (0, 2)),
    ("gamma", "logpdf", (pos6, u(0.5, 3, (3, 1)), 0.0, 1.5), (0, 1, 3)),
    ("gamma", "pdf", (pos6, 2.5, -0.1, 1.5), (0, 2, 3)),
    ("gamma", "cdf", (pos6, 2.5, 0.0, u(0.5, 2, (3, 1))), (0, 3)),
    ("gamma", "logsf", (pos6, 1.5), (0,)),
    ("gamma", "entropy", (u(0.5, 3, (4,)),), (0,)),
    ("beta", "logpdf", (unit6, u(0.5, 3, (3, 1)), u(0.5, 3, (3, 1))), (0, 1, 2)),
    ("beta", "pdf", (unit6, 2.0, 3.0, -0.05, 1.1), (0, 3, 4)),
    ("beta", "cdf", (unit6, 2.0, 3.0), (0,)),
    ("beta", "sf", (unit6, 0.7, 3.0), (0,)),
    ("beta", "entropy", (u(0.5, 3, (3,)), u(0.5, 3, (3,))), (0, 1)),
    ("chi2", "logpdf", (pos6, u(1, 5, (3, 1))), (0, 1)),
    ("chi2", "cdf", (pos6, 3.0, 0.0, 1.5), (0, 3)),
    ("chi2", "entropy", (u(1, 5, (3,)),), (0,)),
    *[(name, m, (x6 if name != "expon" else pos6, loc31 if name != "expon" else -0.1, scale21), (0, 1, 2))
      for name in ("expon", "laplace", "logistic", "cauchy") for m in CONTINUOUS_METHODS],
    *[(name, "entropy", (0.0, u(0.5, 2, (3,))), (1,)) for name in ("expon", "laplace", "logistic", "cauchy")],
    ("expon", "ppf", (unit6, 0.0, 2.0), (0, 2)),
    ("poisson", "logpmf", (np.array([0.0, 1, 2, 5]), u(0.5, 4, (3, 1))), (1,)),
    ("poisson", "cdf", (np.array([0.0, 1, 2.5, 5]), u(0.5, 4, (3, 1))), (1,)),
    ("poisson", "logsf", (np.array([0.0, 1, 2.5, 5]), u(0.5, 4, (3, 1))), (1,)),
    ("poisson", "entropy", (u(0.5, 4, (3,)),), (0,)),
    ("bernoulli", "logpmf", (np.array([0.0, 1.0]), u(0.1, 0.9, (3, 1))), (1,)),
    ("bernoulli", "cdf", (np.array([-1.0, 0.0, 1.0]), u(0.1, 0.9, (3, 1))), (1,)),
    ("bernoulli", "entropy", (u(0.1, 0.9, (3,)),), (0,)),
    ("binom", "logpmf", (np.array([0.0, 2.0, 5.0]), 5.0, u(0.1, 0.9, (3, 1))), (2,)),
    ("binom", "cdf", (np.array([0.0, 2.0, 4.0]), np.array([[5.0], [7.0]]), u(0.1, 0.9, (2, 1))), (2,)),
    ("binom", "sf", (np.array([0.0, 2.0, 4.0]), 6.0, u(0.1, 0.9, (3,))), (2,)),
    ("binom", "entropy", (np.array([3.0, 5.0]), u(0.1, 0.9, (2,))), (1,)),
]


def _as_fn(dist, method, args, diff):
    fn = getattr(getattr(cs, dist), method)

    def f(*vals):
        full = list(args)
        for i, v in zip(diff, vals):
            full[i] = v
        return fn(*full)
    return f, [np.asarray(args[i], float) for i in diff]


@pytest.mark.parametrize("dist,method,args,diff", GRAD_CASES,
                         ids=[f"{c[0]}.{c[1]}-{i}" for i, c in enumerate(GRAD_CASES)])
def test_grads_both_modes_second_order_and_batched(dist, method, args, diff):
    f, vals = _as_fn(dist, method, args, diff)
    check_grads(f, modes=("fwd", "rev"), order=2)(*vals)
    check_batched(f, *vals, rows=3)


def _d1(f, x):
    return cr.grad(lambda x: np.sum(f(x)))(x)


@pytest.mark.parametrize("dist,method,args,diff", GRAD_CASES,
                         ids=[f"{c[0]}.{c[1]}-{i}" for i, c in enumerate(GRAD_CASES)])
def test_against_jax_or_central_differences_of_scipy(dist, method, args, diff):
    """Each differentiated argument: JAX's derivative where JAX has the method (first and second
    order), else central differences of SciPy's own function."""
    jax = None
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy.stats as jst
        jfn = getattr(getattr(jst, dist), method, None)
    except ImportError:
        jfn = None
    sfn = getattr(getattr(st, dist), method)
    ours = getattr(getattr(cs, dist), method)
    for k in diff:
        def part(fn, z, k=k, wrap=np.asarray):
            full = [wrap(a) for a in args]
            full[k] = z
            return fn(*full)
        z = np.asarray(args[k], float)
        got = _d1(lambda z: part(ours, z), z)
        if jfn is not None:
            def jf(z):
                return jnp.sum(part(jfn, z, wrap=jnp.asarray))
            # (second order: check_grads above, central differences of this first derivative)
            np.testing.assert_allclose(got, jax.grad(jf)(z), rtol=1e-7, atol=1e-10,
                                       err_msg=f"{dist}.{method} d/d argument {k}")
        else:
            h = 1e-6
            fd = np.zeros_like(z)
            for i in np.ndindex(z.shape):
                e = np.zeros_like(z)
                e[i] = h
                fd[i] = (np.sum(part(sfn, z + e)) - np.sum(part(sfn, z - e))) / (2 * h)
            np.testing.assert_allclose(got, fd, rtol=1e-5, atol=1e-7,
                                       err_msg=f"{dist}.{method} d/d argument {k} (central differences)")


def test_dirichlet_and_multivariate_normal_grads():
    alpha = np.array([1.5, 2.0, 3.0])
    xs = rng.dirichlet(alpha, size=4).T[:2]  # K - 1 rows: the last is 1 - their sum
    check_grads(lambda x, a: cs.dirichlet.logpdf(x, a), modes=("fwd", "rev"), order=2)(xs, alpha)
    check_grads(lambda a: cs.dirichlet.entropy(a), modes=("fwd", "rev"), order=2)(alpha)
    check_batched(lambda x, a: cs.dirichlet.logpdf(x, a), xs, alpha, rows=3)
    a = rng.normal(size=(3, 3))
    x, mean = rng.normal(size=(4, 3)), rng.normal(size=3)
    spd = lambda a: a @ a.T + 3 * np.eye(3)  # noqa: E731
    check_grads(lambda x, m, a: cs.multivariate_normal.logpdf(x, m, spd(a)),
                modes=("fwd", "rev"), order=2)(x, mean, a)
    check_grads(lambda x, m, a: cs.multivariate_normal.pdf(x[0], m, spd(a)),
                modes=("fwd", "rev"), order=2)(x, mean, a)
    check_grads(lambda a: cs.multivariate_normal.entropy(mean, spd(a)), modes=("fwd", "rev"), order=2)(a)
    check_batched(lambda x, m, a: cs.multivariate_normal.logpdf(x, m, spd(a)), x, mean, a, rows=3)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.stats as jst
    cov = spd(a)

    def both(fn_ours, fn_jax, z):
        np.testing.assert_allclose(_d1(fn_ours, z), jax.grad(lambda v: jnp.sum(fn_jax(v)))(z), rtol=1e-8)
    mvn, jmvn = cs.multivariate_normal, jst.multivariate_normal
    both(lambda v: mvn.logpdf(v, mean, cov), lambda v: jmvn.logpdf(v, mean, cov), x)
    both(lambda v: mvn.logpdf(x, v, cov), lambda v: jmvn.logpdf(x, v, cov), mean)
    both(lambda v: mvn.logpdf(x, mean, v), lambda v: jmvn.logpdf(x, mean, v), cov)  # symmetric
    xd = rng.dirichlet(alpha, size=4).T
    np.testing.assert_allclose(_d1(lambda v: cs.dirichlet.logpdf(xd, v), alpha),
                               jax.grad(lambda v: jnp.sum(jst.dirichlet.logpdf(xd, v)))(alpha), rtol=1e-8)


def test_off_the_support_and_invalid_parameters_have_zero_derivative():
    """The value there is a constant (-inf, 0, 1 or nan), so the derivative is 0, never nan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = np.array([-1.0, 2.0])
        for fn in (lambda x: cs.expon.logpdf(x), lambda x: cs.gamma.logpdf(x, 2.0),
                   lambda x: cs.beta.logpdf(x, 2.0, 3.0), lambda x: cs.chi2.cdf(x, 3.0, scale=0.5),
                   lambda x: cs.beta.cdf(x, 0.5, 0.5)):
            g = cr.grad(lambda x, fn=fn: np.sum(np.where(np.isfinite(fn(x)), fn(x), 0.0)))(x)
            assert np.all(np.isfinite(g))
        g = cr.grad(lambda x: np.sum(cs.expon.logpdf(x)))(np.array([-1.0, -3.0]))
        np.testing.assert_array_equal(g, 0.0)
        def finite(v):
            return np.where(np.isfinite(v), v, 0.0)
        g = cr.grad(lambda s: np.sum(finite(cs.norm.logpdf(1.0, 0.0, s))))(np.array([-1.0, 0.0, 2.0]))
        np.testing.assert_allclose(g, [0.0, 0.0, 1 / 8 - 1 / 2])  # 1/s^3 - 1/s
        assert cr.grad(lambda p: finite(cs.bernoulli.logpmf(1.0, p)))(1.5) == 0.0
        assert cr.grad(lambda mu: finite(cs.poisson.cdf(2.0, mu)))(-1.0) == 0.0


def test_t_cdf_is_differentiable_at_its_centre():
    """stdtr is a primitive: through betainc the derivative at t = 0 would be 0 * inf."""
    for df in (0.5, 1.0, 3.0, 30.0):
        assert cr.grad(lambda x, df=df: cs.t.cdf(x, df))(0.0) == pytest.approx(st.t.pdf(0.0, df), rel=1e-12)
    assert cr.jvp(lambda x: cs.t.cdf(x, 3.0), (0.0,), (1.0,))[1] == pytest.approx(st.t.pdf(0.0, 3.0))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("fn,ref", [
    (lambda v: cs.t.cdf(1.0, v), lambda v: st.t.cdf(1.0, v)),
    (lambda v: cs.gamma.cdf(1.0, v), lambda v: st.gamma.cdf(1.0, v)),
    (lambda v: cs.chi2.sf(1.0, v), lambda v: st.chi2.sf(1.0, v)),
    (lambda v: cs.beta.cdf(0.4, v, 2.0), lambda v: st.beta.cdf(0.4, v, 2.0)),
    (lambda v: cs.beta.cdf(0.4, 2.0, v), lambda v: st.beta.cdf(0.4, 2.0, v)),
], ids=["t-df", "gamma-a", "chi2-df", "beta-a", "beta-b"])
def test_cdfs_in_shape_parameters(fn, ref, mode):
    """The shape parameters of the CDFs differentiate (stdtr, gammainc, betainc evaluate their
    parameter derivatives; tests/test_shape_parameter_derivatives.py has the mpmath oracle)."""
    got = cr.grad(fn)(2.5) if mode == "rev" else cr.jvp(fn, (2.5,), (1.0,))[1]
    assert got == pytest.approx((ref(2.5 + 1e-6) - ref(2.5 - 1e-6)) / 2e-6, rel=1e-6)


def test_counts_carry_no_derivative():
    """A pmf is zero between the integers: k is data, as floor's input has derivative 0."""
    with pytest.warns(DisconnectedWarning):
        assert cr.grad(lambda k: cs.poisson.logpmf(k, 3.0))(2.0) == 0.0
    with pytest.warns(DisconnectedWarning):
        assert cr.grad(lambda k: cs.binom.cdf(k, 5.0, 0.3))(2.0) == 0.0


def test_bad_inputs_raise_one_line_errors():
    alpha = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sum to 1"):
        cs.dirichlet.logpdf(np.array([0.2, 0.2, 0.2]), alpha)
    with pytest.raises(ValueError, match="first axis"):
        cs.dirichlet.logpdf(np.ones((4, 2)) / 4, alpha)
    with pytest.raises(ValueError, match="greater than zero"):
        cs.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), -alpha)
    with pytest.raises(NotImplementedError, match="allow_singular=True with a cov mapped by vmap"):
        cr.vmap(lambda c: cs.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), c, allow_singular=True))(
            np.stack([np.eye(2), np.diag([1.0, 0.0])]))
    with pytest.raises(ValueError, match="'cov' must be"):
        cs.multivariate_normal.logpdf(np.zeros(2), np.zeros(2), np.eye(3))


def test_autograd_module_paths():
    import chainrule.autograd.scipy.stats as ast
    import chainrule.autograd.scipy.stats.multivariate_normal as mvn
    from chainrule.autograd.scipy.stats import norm

    assert norm.logpdf is cs.norm.logpdf and mvn.logpdf is cs.multivariate_normal.logpdf
    for name in cs.__all__:  # autograd's paths hold every name (dirichlet also SciPy's rvs, as autograd's)
        extra = {"rvs"} if name == "dirichlet" else set()
        assert set(getattr(ast, name).__all__) == set(getattr(cs, name).__all__) | extra


@pytest.mark.parametrize("f", [
    lambda v: cs.norm.logpdf(1.0, 0.0, v), lambda v: cs.gamma.logpdf(1.0, v), lambda v: cs.t.logcdf(v, 3.0),
    lambda v: cs.poisson.logpmf(2.0, v), lambda v: cs.binom.cdf(2.0, 5.0, v / 3),
    lambda v: cs.bernoulli.logpmf(1.0, v / 3), lambda v: cs.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), v),
    lambda v: cs.multivariate_normal.logpdf(v, np.zeros(3), np.eye(3)),
], ids=["norm", "gamma", "t", "poisson", "binom", "bernoulli", "dirichlet", "mvn"])
def test_under_jit_and_vmap_nothing_reads_a_traced_parameter(f):
    """Validity masks stay traced values: jit stages them (no fallback), vmap maps them."""
    v = np.array([0.5, 1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a jit fallback warns
        np.testing.assert_allclose(cr.jit(f)(v), f(v))
        g = cr.grad(lambda v: np.sum(f(v)))
        np.testing.assert_allclose(cr.jit(g)(v), g(v))
    vs = np.stack([v, v + 1.0])
    np.testing.assert_allclose(cr.vmap(f)(vs), np.stack([f(vs[0]), f(vs[1])]))


def test_multivariate_normal_through_a_cholesky_parameterisation_matches_scipy():
    """cov = L L^T: the gradient in L is convention-free; central differences of SciPy's logpdf."""
    lower = np.tril(rng.normal(size=(3, 3))) + 2 * np.eye(3)
    x, mean = rng.normal(size=(4, 3)), rng.normal(size=3)
    got = cr.grad(lambda c: np.sum(cs.multivariate_normal.logpdf(x, mean, c @ c.T)))(lower)
    h, fd = 1e-6, np.zeros((3, 3))
    for i in np.ndindex(3, 3):
        e = np.zeros((3, 3))
        e[i] = h
        fd[i] = (np.sum(st.multivariate_normal.logpdf(x, mean, (lower + e) @ (lower + e).T))
                 - np.sum(st.multivariate_normal.logpdf(x, mean, (lower - e) @ (lower - e).T))) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)
    sym = cr.grad(lambda c: np.sum(cs.multivariate_normal.logpdf(x, mean, c)))(lower @ lower.T)
    np.testing.assert_allclose(sym, sym.T)  # the symmetric gradient, as JAX's


def test_poisson_entropy_at_large_and_infinite_mu():
    """Past mu = 1e3 the entropy's float64 sum loses digits and needs ~mu terms (SciPy's own stops
    converging: 4.22 at mu = 2e4): the asymptotic series takes over, continuous with the sum; inf at
    mu = inf (was an OverflowError); batched as the plain call. Oracle: mpmath's sum at 30 digits."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30

    def exact(m):
        m = mp.mpf(m)
        logp = [k * mp.log(m) - m - mp.loggamma(k + 1) for k in range(int(m + 40 * mp.sqrt(m) + 40))]
        return float(-sum(mp.exp(lp) * lp for lp in logp))

    mu = np.array([3.0, 999.0, 1001.0, 2500.0, 1e12, np.inf])
    got = cs.poisson.entropy(mu)
    for m, g in zip(mu[:4], got[:4], strict=True):
        assert g == pytest.approx(exact(m), rel=5e-13, abs=0), m
    assert got[4] == pytest.approx(0.5 * np.log(2 * np.pi * np.e * 1e12), rel=1e-15) and got[5] == np.inf
    np.testing.assert_allclose(cr.vmap(cs.poisson.entropy)(mu), got, rtol=1e-15)
    g = cr.grad(lambda m: cs.poisson.entropy(m).sum())(mu)
    np.testing.assert_allclose(g[1:5], 1.0 / (2.0 * mu[1:5]), rtol=2e-3)  # dH/dmu -> 1 / (2 mu)
    check_grads(cs.poisson.entropy, modes=("fwd", "rev"), order=2)(np.array([3.0, 2e4]))


def test_multivariate_normal_allow_singular():
    """allow_singular=True as SciPy's: the density on a singular cov's range (pseudo-determinant,
    pseudo-inverse), -inf off it; differentiable in x and mean along the range, in cov along
    changes that keep the range; a positive definite cov is unchanged by the flag."""
    cov = np.zeros((4, 4))
    cov[:2, :2] = [[1.0, 0.3], [0.3, 2.0]]
    x = np.concatenate([rng.normal(size=(4, 2)), np.zeros((4, 2))], axis=1)
    x[3, 3] = 0.1  # off the range
    m = np.zeros(4)
    want = st.multivariate_normal.logpdf(x, m, cov, allow_singular=True)
    got = cs.multivariate_normal.logpdf(x, m, cov, allow_singular=True)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert cs.multivariate_normal.pdf(x[0], m, cov, allow_singular=True) == pytest.approx(
        st.multivariate_normal.pdf(x[0], m, cov, allow_singular=True), rel=1e-12)
    assert cs.multivariate_normal.entropy(m, cov, allow_singular=True) == pytest.approx(
        st.multivariate_normal.entropy(m, cov), rel=1e-12)
    pd = np.array([[2.0, 0.3], [0.3, 1.0]])
    assert cs.multivariate_normal.logpdf([0.1, 0.2], [0.0, 0.0], pd, allow_singular=True) == pytest.approx(
        st.multivariate_normal.logpdf([0.1, 0.2], [0.0, 0.0], pd), rel=1e-12)
    assert cs.multivariate_normal.cdf([0.1, 0.2], [0.0, 0.0], pd, allow_singular=True) == pytest.approx(
        st.multivariate_normal.cdf([0.1, 0.2], [0.0, 0.0], pd), abs=1e-6)

    def logpdf(x2, mean):  # x varies along the range only
        return cs.multivariate_normal.logpdf(np.concatenate([x2, mean[2:]]), mean, cov, allow_singular=True)
    check_grads(logpdf, modes=("fwd", "rev"), order=2)(x[0, :2], np.array([0.1, -0.2, 0.0, 0.0]))
    gc = cr.grad(lambda c: cs.multivariate_normal.logpdf(x[0], m, c, allow_singular=True))(cov)
    direction = np.zeros((4, 4))
    direction[:2, :2] = [[1.0, 0.5], [0.5, -0.3]]  # keeps the range
    h = 1e-6
    fd = (st.multivariate_normal.logpdf(x[0], m, cov + h * direction, allow_singular=True)
          - st.multivariate_normal.logpdf(x[0], m, cov - h * direction, allow_singular=True)) / (2 * h)
    assert np.sum(gc * direction) == pytest.approx(fd, rel=1e-6)
    with pytest.raises(NotImplementedError, match="singular 'cov' is not supported"):
        cs.multivariate_normal.cdf(x[0], m, cov, allow_singular=True)
    with pytest.raises(ValueError, match="positive semidefinite"):
        cs.multivariate_normal.logpdf(x[0], m, -np.eye(4), allow_singular=True)
    with pytest.warns(cr.JitFallbackWarning):  # the range is read from the values: run eagerly
        got = cr.jit(lambda c: cs.multivariate_normal.logpdf(x[0], m, c, allow_singular=True))(cov)
    assert got == pytest.approx(want[0], rel=1e-12)
