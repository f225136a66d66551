"""More scipy.stats families (issue 14, breadth): uniform, pareto, gumbel_r, gumbel_l, truncnorm,
vonmises, gennorm (continuous) and geom, nbinom, betabinom (discrete). SciPy's values inside, at
the ends of and outside the support and at invalid parameters; broadcasting; the far tails;
every continuous argument in both modes to second order; JAX's derivatives where JAX has the
method, else central differences of SciPy; vmap."""

import warnings

import numpy as np
import pytest
import scipy.integrate as si
import scipy.special as sps
import scipy.stats as st

import chainrule as cr
import chainrule.scipy.stats as cs
from chainrule import check_grads

LOC, SCALE = 0.25, 2.0  # x = LOC + z SCALE is exact for the z below: the support's ends are hit exactly
CONTINUOUS = {  # name: (shape parameter sets, the last ones invalid; points z in standard units)
    "uniform": ([()], [-0.5, 0.0, 0.3, 1.0, 1.5]),
    "pareto": ([(2.5,), (0.5,), (0.0,), (-1.0,)], [0.5, 1.0, 1.5, 3.0, 40.0]),
    "gumbel_r": ([()], [-3.0, -0.5, 0.0, 1.0, 4.0, 30.0]),
    "gumbel_l": ([()], [-30.0, -4.0, -0.5, 0.0, 1.0, 3.0]),
    "truncnorm": ([(-1.0, 2.0), (1.0, 3.0), (-3.0, -0.5), (-np.inf, 0.5), (0.5, np.inf), (-np.inf, np.inf),
                   (8.0, 9.0), (2.0, 1.0), (1.0, 1.0)],
                  [-4.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.25, 2.0, 3.0, 8.5, 9.0]),
    "vonmises": ([(0.0,), (1.5,), (30.0,), (-1.0,)], [-7.0, -3.25, 0.0, 1.0, 3.25, 7.0]),
    "gennorm": ([(0.7,), (1.0,), (2.5,), (8.0,), (0.0,), (-1.0,)], [-3.0, -0.5, 0.0, 0.375, 2.0]),
}
METHODS = {name: ["pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"] for name in CONTINUOUS}
METHODS["vonmises"] = ["pdf", "logpdf"]  # SciPy's vonmises.cdf is a series: not provided
QUANTILES = [name for name in CONTINUOUS if name != "vonmises"]
DISCRETE = {
    "geom": [(0.3,), (1.0,), (0.0,), (1.2,)],
    "nbinom": [(2.5, 0.4), (1.0, 1.0), (0.3, 0.05), (0.0, 0.3), (2.0, 1.5)],
    "betabinom": [(5.0, 2.0, 3.0), (6.0, 0.5, 0.7), (0.0, 2.0, 3.0), (5.5, 2.0, 3.0), (5.0, -1.0, 3.0)],
}
K = np.array([-1.0, 0.0, 1.0, 2.0, 2.5, 3.0, 5.0, 6.0, 20.0])


def _close(got, want, what, rtol=1e-10):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=what)


def _scipy(name, method, *args, **kwds):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return getattr(getattr(st, name), method)(*args, **kwds)
        except ZeroDivisionError:  # pareto.entropy(b=0): SciPy divides a Python float by 0
            return np.nan


def _ours(name, method, *args, **kwds):
    with np.errstate(all="ignore"):  # log(0) of an underflowed tail, as SciPy's
        return getattr(getattr(cs, name), method)(*args, **kwds)


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_values_as_scipy_on_at_and_off_the_support(name):
    shapes, z = CONTINUOUS[name]
    x = LOC + SCALE * np.array(z)
    for shape in shapes:
        for loc, scale in [(0.0, 1.0), (LOC, SCALE), (0.0, -1.0)]:  # scale < 0: nan
            xs = x if (loc, scale) == (LOC, SCALE) else np.array(z)
            for m in METHODS[name]:
                _close(_ours(name, m, xs, *shape, loc, scale), _scipy(name, m, xs, *shape, loc, scale),
                       f"{name}.{m}{shape} loc={loc} scale={scale}")
            want = _scipy(name, "entropy", *shape, loc=loc, scale=scale)
            # truncnorm's with an infinite end (SciPy's: nan, inf * 0) or in a far tail (SciPy's
            # Phi(b) - Phi(a) cancels): by quadrature, below
            if not np.isnan(want) and not (name == "truncnorm" and shape[0] > 5):
                _close(_ours(name, "entropy", *shape, loc=loc, scale=scale), want, f"{name}.entropy{shape}")


def _quantiles_as_scipy(name, q, *args, rtol=1e-9):
    """ppf/isf as SciPy's, except where SciPy's own misses its target (truncnorm's isf in the right
    tail takes Phi(-a) - (1 - q) Z, which cancels): where the two differ, ours must hit q by
    SciPy's log-mass CDF/SF (to 1e-9) and closer than SciPy's answer does."""
    for m, back in (("ppf", "cdf"), ("isf", "sf")):
        got, want = _ours(name, m, q, *args), _scipy(name, m, q, *args)
        differ = ~np.isclose(got, want, rtol=rtol, atol=0, equal_nan=True)
        assert np.all((q[differ] > 0) & (q[differ] < 1)), f"{name}.{m}{args}: {got} != {want}"
        ours = np.abs(_scipy(name, back, got[differ], *args) / q[differ] - 1)
        theirs = np.abs(_scipy(name, back, want[differ], *args) / q[differ] - 1)
        assert np.all((ours < 1e-9) & (ours < theirs)), f"{name}.{m}{args} at {q[differ]}: {ours}, {theirs}"


@pytest.mark.parametrize("name", QUANTILES)
def test_ppf_and_isf_as_scipy_with_far_tails(name):
    """q = 0, 1 give the support's ends, outside [0, 1] nan; isf(1e-20) from the upper tail's
    own inverse (finite where ppf(1 - 1e-20) = ppf(1) would be the end)."""
    q = np.array([0.0, 1e-20, 1e-10, 0.01, 0.3, 0.5, 0.9, 1.0, 1.2, -0.1])
    for shape in CONTINUOUS[name][0]:
        _quantiles_as_scipy(name, q, *shape, LOC, SCALE)
    if name == "truncnorm":  # SciPy's isf misses here; mpmath's root of Phi(-x) / Phi(-a) = 1e-20
        assert cs.truncnorm.isf(1e-20, 0.5, np.inf) == pytest.approx(9.38704439997653, rel=1e-14)
        assert cs.truncnorm.isf(1e-20, 30.0, np.inf) == pytest.approx(31.49613109690841, rel=1e-14)


@pytest.mark.parametrize("name", list(DISCRETE))
def test_discrete_values_as_scipy(name):
    for shape in DISCRETE[name]:
        valid = np.isfinite(_scipy(name, "pmf", 1, *shape))
        for loc in (0.0, 1.0):
            for m in ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf"):
                if m == "logcdf" and not valid:
                    continue  # SciPy: nan for cdf, but 0 for logcdf above the support there
                _close(_ours(name, m, K, *shape, loc), _scipy(name, m, K, *shape, loc), f"{name}.{m}{shape}")
        want = _scipy(name, "entropy", *shape)
        if name == "geom" and shape == (1.0,):
            assert _ours(name, "entropy", *shape) == 0.0  # one outcome; SciPy's: nan (log1p(-1) * 0)
        else:
            _close(_ours(name, "entropy", *shape), want, f"{name}.entropy{shape}", rtol=1e-9)


def test_entropies_where_scipy_has_none():
    """truncnorm with an infinite end (SciPy: nan): -int f log f by quadrature."""
    for a, b in [(-np.inf, 0.5), (0.5, np.inf), (-np.inf, np.inf), (-np.inf, -3.0)]:
        def integrand(x, a=a, b=b):
            return -st.truncnorm.pdf(x, a, b) * st.truncnorm.logpdf(x, a, b)
        want = si.quad(integrand, max(a, -40.0), min(b, 40.0), epsabs=1e-13, epsrel=1e-12)[0]
        assert cs.truncnorm.entropy(a, b) == pytest.approx(want, rel=1e-9), (a, b)
    want = st.norm.entropy(0.0, 2.0)
    assert cs.truncnorm.entropy(-np.inf, np.inf, 0.0, 2.0) == pytest.approx(want, rel=1e-14)
    # far in the tail (SciPy's: -3.195, Phi(9) - Phi(8) cancels): mpmath's quadrature at 40 digits
    assert cs.truncnorm.entropy(8.0, 9.0) == pytest.approx(-1.1107504589929957, rel=1e-12)


def test_far_tails():
    """Log tails in log space, where a log of the tail itself underflows (SciPy's too)."""
    z = np.array([40.0, 300.0])
    _close(cs.gumbel_r.logsf(z), -z - np.exp(-z) / 2, "gumbel_r.logsf", rtol=1e-14)
    _close(cs.gumbel_r.logcdf(-z[:1]), -np.exp(z[:1]), "gumbel_r.logcdf", rtol=1e-14)
    _close(cs.gumbel_l.logcdf(-z), z * 0 - z - np.exp(-z) / 2, "gumbel_l.logcdf", rtol=1e-14)
    _close(cs.gumbel_l.logsf(z[:1]), -np.exp(z[:1]), "gumbel_l.logsf", rtol=1e-14)
    assert cs.pareto.logsf(1e300, 3.0) == pytest.approx(-3.0 * np.log(1e300), rel=1e-15)  # SciPy: -inf
    assert cs.pareto.logcdf(1e10, 3.0) == pytest.approx(-1e-30, rel=1e-14)  # SciPy: log(1 - 1e-30) = 0
    assert cs.pareto.sf(1e300, 3.0) == 0.0 and cs.pareto.isf(1e-20, 2.0) == pytest.approx(1e10, rel=1e-14)
    assert cs.geom.logsf(1e4, 0.5) == pytest.approx(1e4 * np.log(0.5), rel=1e-15)  # sf underflows
    assert cs.geom.logcdf(1.0, 1e-20) == pytest.approx(np.log(1e-20), rel=1e-15)
    # truncnorm far out in the normal's tail: SciPy's log-mass forms
    for a, b, x in [(8.0, 9.0, np.array([8.0 + 1e-9, 8.3, 9.0 - 1e-9])),
                    (30.0, np.inf, np.array([30.01, 35.0])), (-np.inf, -30.0, np.array([-35.0, -30.01]))]:
        for m in ("logpdf", "logcdf", "logsf", "cdf", "sf"):
            _close(cs.truncnorm.__dict__[m](x, a, b), _scipy("truncnorm", m, x, a, b),
                   f"truncnorm.{m}({a}, {b})", rtol=1e-8)
        _quantiles_as_scipy("truncnorm", np.array([1e-20, 1e-5, 0.5]), a, b)
    x = np.array([-6.0, 6.0])
    for m in ("logcdf", "logsf"):
        _close(cs.gennorm.__dict__[m](x, 2.0), _scipy("gennorm", m, x, 2.0), f"gennorm.{m}")
    # the log of a CDF near 1 from log1p: exact where log(1 - tail) rounds (mpmath: 40 digits)
    assert cs.gennorm.logcdf(4.0, 2.5, 0.2, 1.3) == pytest.approx(-1.9652824838736432e-08, rel=1e-14)


def test_broadcasting_shapes_and_scalars_as_scipy():
    x, scale = np.array([[0.5], [1.5], [2.5], [4.0]]), np.array([0.5, 1.0, 2.0]).reshape(3, 1, 1)
    shapes = {"pareto": (np.array([1.5, 2.5]),), "truncnorm": (np.array([-1.0, 0.5]), 3.0),
              "vonmises": (np.array([0.5, 2.0]),), "gennorm": (np.array([0.8, 2.0]),)}
    for name in CONTINUOUS:
        shape = shapes.get(name, ())
        for m in METHODS[name]:
            got, want = _ours(name, m, x, *shape, 0.1, scale), _scipy(name, m, x, *shape, 0.1, scale)
            assert np.shape(got) == np.shape(want), (name, m)
            _close(got, want, f"{name}.{m} broadcast")
        assert type(_ours(name, "logpdf", 1.5, *(np.ravel(s)[0] for s in shape))) is np.float64
        ent = _ours(name, "entropy", *shape, scale=scale)
        assert np.shape(ent) == np.shape(_scipy(name, "entropy", *shape, scale=scale))
    k = np.array([[0.0], [1.0], [3.0]])
    for name, shape in [("geom", (np.array([0.2, 0.7]),)), ("nbinom", (np.array([0.5, 3.0]), 0.4)),
                        ("betabinom", (np.array([4.0, 7.0]), 2.0, np.array([[0.5], [1.5], [3.0]])))]:
        for m in ("pmf", "logpmf", "cdf", "sf", "logsf"):
            got, want = _ours(name, m, k, *shape), _scipy(name, m, k, *shape)
            assert np.shape(got) == np.shape(want), (name, m)
            _close(got, want, f"{name}.{m} broadcast")
        _close(_ours(name, "entropy", *shape), _scipy(name, "entropy", *shape), f"{name}.entropy", rtol=1e-9)
    assert cs.truncnorm.logpdf(np.float32(0.5), -1.0, 1.0).dtype == np.float64
    with pytest.raises(TypeError, match=r"missing parameter\(s\) \['b'\]"):
        cs.truncnorm.logpdf(0.5, -1.0)
    with pytest.raises(TypeError, match="unexpected parameter 'beta'"):
        cs.vonmises.logpdf(0.5, beta=1.0)


# (family, method, arguments, the positions differentiated)
Q3 = np.array([0.1, 0.5, 0.8])
GRAD_CASES = []
for _name, (_shape, _x) in {
        "uniform": ((), [0.2, 0.7, 0.9]), "pareto": ((2.5,), [1.5, 2.2, 4.0]),
        "gumbel_r": ((), [-0.7, 0.3, 2.2]), "gumbel_l": ((), [-2.2, 0.3, 0.7]),
        "truncnorm": ((-1.0, 2.0), [-0.3, 0.4, 1.5]),
        "vonmises": ((1.5,), [-2.0, 0.4, 4.0]), "gennorm": ((1.7,), [-1.2, 0.4, 1.5])}.items():
    _n = len(_shape)
    _every = tuple(range(_n + 3))  # x (or q), the shape parameters, loc, scale
    for _m in METHODS[_name]:
        GRAD_CASES.append((_name, _m, (LOC + 1.1 * np.array(_x), *_shape, LOC, 1.1), _every))
    if _name in QUANTILES:
        GRAD_CASES += [(_name, _m, (Q3, *_shape, LOC, 1.1), _every) for _m in ("ppf", "isf")]
    GRAD_CASES.append((_name, "entropy", (*_shape, LOC, 1.1), tuple(range(_n)) + (_n + 1,)))
_K, _P2 = np.array([1.0, 2.0, 3.0, 6.0]), np.array([[0.2], [0.7]])
GRAD_CASES += [
    *[("geom", m, (_K, _P2), (1,)) for m in ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")],
    ("geom", "entropy", (np.array([0.2, 0.7]),), (0,)),
    *[("nbinom", m, (_K, 2.5, _P2 - 0.1), (1, 2)) for m in ("pmf", "logpmf", "cdf", "sf")],
    ("nbinom", "entropy", (np.array([0.7, 2.5]), 0.6), (0, 1)),
    *[("betabinom", m, (_K, 6.0, 2.0, 4 * _P2), (2, 3)) for m in ("pmf", "logpmf", "cdf", "sf")],
    ("betabinom", "entropy", (6.0, np.array([0.5, 2.0]), 3.0), (1, 2)),
]


def _as_fn(name, method, args, diff):
    fn = getattr(getattr(cs, name), method)

    def f(*vals):
        full = list(args)
        for i, v in zip(diff, vals):
            full[i] = v
        return fn(*full)
    return f, [np.asarray(args[i], float) for i in diff]


@pytest.mark.parametrize("name,method,args,diff", GRAD_CASES,
                         ids=[f"{c[0]}.{c[1]}" for c in GRAD_CASES])
def test_grads_both_modes_second_order(name, method, args, diff):
    f, vals = _as_fn(name, method, args, diff)
    check_grads(f, modes=("fwd", "rev"), order=2, eps=1e-5)(*vals)


JAX_CALLS = {"vonmises": 2, "gennorm": 2}  # JAX's take no loc, scale: (x, shape) only
# JAX's betabinom derivative in a, b is off by ~1e-5 (ours agrees with mpmath to 1e-15): SciPy's differences
NOT_JAX = {"betabinom"}
# JAX compiles truncnorm's CDFs for seconds each: its log CDF and log SF are compared, the CDF and SF
# (their exponentials) against SciPy's differences
SLOW_IN_JAX = {("truncnorm", "cdf"), ("truncnorm", "sf")}


@pytest.mark.parametrize("name,method,args,diff", GRAD_CASES,
                         ids=[f"{c[0]}.{c[1]}" for c in GRAD_CASES])
def test_against_jax_or_central_differences_of_scipy(name, method, args, diff):
    """Each differentiated argument: JAX's (float64) derivative where JAX has the method (one
    jitted gradient in all of them), else central differences of SciPy's own function."""
    jfn = None
    if name in JAX_CALLS:
        args, diff = args[:JAX_CALLS[name]], tuple(d for d in diff if d < JAX_CALLS[name])
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy.stats as jst
        if name not in NOT_JAX and (name, method) not in SLOW_IN_JAX:
            jfn = getattr(getattr(jst, name), method, None)
    except ImportError:
        pass
    ours, sfn = getattr(getattr(cs, name), method), getattr(getattr(st, name), method)

    def with_(fn, vals, wrap=np.asarray):
        full = [wrap(a) for a in args]
        for k, v in zip(diff, vals):
            full[k] = v
        return fn(*full)
    vals = [np.asarray(args[k], float) for k in diff]
    got = cr.grad(lambda *v: np.sum(with_(ours, v)), argnums=tuple(range(len(diff))))(*vals)
    want = None
    if jfn is not None:
        try:
            jgrad = jax.grad(lambda *v: jnp.sum(with_(jfn, v, jnp.asarray)), argnums=tuple(range(len(diff))))
            want = jax.jit(jgrad)(*[jnp.asarray(v) for v in vals])
        except TypeError:  # JAX 0.10: gumbel_r/gumbel_l in scale, ppf in q: "multiply with a float0 array"
            assert name.startswith("gumbel")
    for i, k in enumerate(diff):
        if want is not None:
            np.testing.assert_allclose(got[i], want[i], rtol=1e-7, atol=1e-10,
                                       err_msg=f"{name}.{method} d/d arg {k} (JAX)")
            continue
        z, h = vals[i], 1e-6
        fd = np.zeros_like(z)
        for j in np.ndindex(z.shape):
            e = np.zeros_like(z)
            e[j] = h
            up, down = list(vals), list(vals)
            up[i], down[i] = z + e, z - e
            fd[j] = (np.sum(with_(sfn, up)) - np.sum(with_(sfn, down))) / (2 * h)
        np.testing.assert_allclose(got[i], fd, rtol=2e-6, atol=1e-8,
                                   err_msg=f"{name}.{method} d/d arg {k} (SciPy)")


@pytest.mark.parametrize("name,method,args,diff", GRAD_CASES[::3],
                         ids=[f"{c[0]}.{c[1]}" for c in GRAD_CASES[::3]])
def test_vmap_over_every_differentiated_argument(name, method, args, diff):
    f, vals = _as_fn(name, method, args, diff)
    stacked = [np.stack([v, v * 1.01]) for v in vals]
    rows = [f(*[s[i] for s in stacked]) for i in range(2)]
    np.testing.assert_allclose(cr.vmap(f)(*stacked), np.stack(rows), rtol=1e-13)
    g = cr.grad(lambda *v: np.sum(f(*v)))
    rows = [g(*[s[i] for s in stacked]) for i in range(2)]
    np.testing.assert_allclose(cr.vmap(g)(*stacked), np.stack(rows), rtol=1e-12)


def test_derivatives_off_the_support_at_its_ends_and_at_the_centre():
    """Off the support and at invalid parameters the value is a constant: derivative 0, never
    nan. At truncnorm's ends log F / log S are -inf: the CDF's derivative there is the outside's
    (0), finite. gennorm's CDF at 0 and quantile at 1/2 (Q(1/beta, .) at 0: inf * 0 in the
    composite) have their true derivatives f(0) and 1 / f(0)."""
    def finite(v):
        return np.where(np.isfinite(v), v, 0.0)
    tn, pa = cs.truncnorm, cs.pareto
    for fn, x in [(lambda x: cs.uniform.logpdf(x), [-0.5, 1.5]), (lambda x: pa.logpdf(x, 2.0), [0.5, -1.0]),
                  (lambda x: pa.logcdf(x, 2.0), [0.5, 0.9]), (lambda x: tn.logpdf(x, -1.0, 1.0), [-2, 3]),
                  (lambda x: tn.cdf(x, -1.0, 1.0), [-1.0, 1.0]), (lambda x: tn.sf(x, -1.0, 1.0), [-1, 1]),
                  (lambda x: tn.logsf(x, -1.0, 1.0), [-1.0, 3.0]),
                  (lambda s: cs.gennorm.logpdf(1.0, 2.0, 0, s), [-1, 0])]:
        g = cr.grad(lambda x, fn=fn: np.sum(finite(fn(x))))(np.array(x, float))
        np.testing.assert_array_equal(g, 0.0)
        t = cr.jvp(lambda x, fn=fn: finite(fn(x)), (np.array(x, float),), (np.ones(2),))[1]
        np.testing.assert_array_equal(t, 0.0)
    assert cr.grad(lambda p: finite(cs.geom.logpmf(2.0, p)))(1.5) == 0.0
    assert cr.grad(lambda a: finite(cs.betabinom.cdf(2.0, 5.0, a, 2.0)))(-1.0) == 0.0
    for beta in (0.6, 1.0, 2.0, 5.0):
        f0 = st.gennorm.pdf(0.0, beta, scale=1.5)
        gn = {m: (lambda v, m=m, beta=beta: getattr(cs.gennorm, m)(v, beta, scale=1.5))
              for m in ("cdf", "logsf", "ppf")}
        assert cr.grad(gn["cdf"])(0.0) == pytest.approx(f0, rel=1e-13)
        assert cr.grad(gn["logsf"])(0.0) == pytest.approx(-2 * f0, rel=1e-13)
        assert cr.grad(gn["ppf"])(0.5) == pytest.approx(1 / f0, rel=1e-13)
        assert cr.jvp(lambda q, beta=beta: cs.gennorm.isf(q, beta), (0.5,), (1.0,))[1] == pytest.approx(
            -1 / st.gennorm.pdf(0.0, beta), rel=1e-13)
    # in beta at x = 0 (|x|^beta log|x| would be 0 * -inf): d/dbeta of log(beta / 2) - gammaln(1 / beta)
    for b in (0.5, 2.0):
        want = 1 / b + sps.digamma(1 / b) / b**2
        assert cr.grad(lambda b: cs.gennorm.logpdf(0.0, b))(b) == pytest.approx(want, rel=1e-14)
    # the quantile's derivative is 1 / pdf at the quantile, every family
    for name in QUANTILES:
        shape = {"pareto": (2.5,), "truncnorm": (-1.0, 2.0), "gennorm": (1.7,)}.get(name, ())
        q = np.array([0.05, 0.3, 0.9])
        for m, sign in (("ppf", 1.0), ("isf", -1.0)):
            x = _ours(name, m, q, *shape, LOC, SCALE)
            def total(q, m=m, name=name, shape=shape):
                return np.sum(_ours(name, m, q, *shape, LOC, SCALE))
            dq = cr.grad(total)(q)
            np.testing.assert_allclose(dq, sign / st.__dict__[name].pdf(x, *shape, LOC, SCALE), rtol=1e-9)


def test_counts_and_errors():
    from chainrule.rules.distributions import vonmises  # the family object has every method's name
    for m in ("cdf", "sf", "logcdf", "logsf", "ppf", "isf"):
        with pytest.raises(NotImplementedError, match=rf"vonmises\.{m.removeprefix('log')}: not provided"):
            getattr(vonmises, m)(0.5, 1.0)
    assert not hasattr(cs.vonmises, "cdf") and "cdf" not in cs.vonmises.__all__
    with pytest.raises(ValueError, match="nbinom.entropy: p = 1e-07 is too small"):
        cs.nbinom.entropy(1.0, 1e-7)
    from chainrule.core.errors import DisconnectedWarning
    with pytest.warns(DisconnectedWarning):
        assert cr.grad(lambda k: cs.betabinom.logpmf(k, 5.0, 2.0, 3.0))(2.0) == 0.0
    with pytest.warns(DisconnectedWarning):
        assert cr.grad(lambda k: cs.geom.cdf(k, 0.3))(2.0) == 0.0


@pytest.mark.parametrize("name,shape", [("norm", ()), ("t", (3.0,)), ("beta", (2.0, 3.0)), ("uniform", ()),
                                        ("truncnorm", (-1.0, 2.0)), ("gennorm", (1.5,))])
def test_quantiles_under_vmap_and_jit_read_no_traced_q(name, shape):
    """ppf/isf put the support's ends at q = 0, 1 with a where, not a branch on q's values (which
    vmap refused: 'reads the value of a batched array', and jit fell back to Python)."""
    qs = np.array([[0.0, 0.3, 0.9], [0.2, 1.0, 0.5]])
    for m in ("ppf", "isf"):
        def f(q, m=m):
            return getattr(getattr(cs, name), m)(q, *shape, 0.1, 2.0)
        want = np.stack([f(q) for q in qs])
        np.testing.assert_allclose(cr.vmap(f)(qs), want, rtol=1e-14)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a jit fallback warns
            np.testing.assert_allclose(cr.jit(f)(qs), f(qs), rtol=1e-14)
        g = cr.grad(lambda s, m=m: np.sum(getattr(getattr(cs, name), m)(qs[0, 1:], *shape, 0.1, s)))(2.0)
        assert np.isfinite(g)
