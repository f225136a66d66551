"""scipy.special breadth (issue 14): the exponential, sine/cosine and Fresnel integrals, Dawson,
Spence, Owen's T (rules/expint.py); hypergeometric 1F1/2F1, Hurwitz zeta, poch, loggamma, binom,
the Box-Cox transforms, comb and factorial (rules/hypergeometric.py).

Values against SciPy in float64 and float32; both modes to second order with broadcasting
(check_grads, which also runs the batched passes); first and second derivatives against JAX in
float64 where JAX differentiates the function, and against mpmath's numerical derivatives at
30 digits where it does not; the removable singularities (Si, Shi at 0, spence at 1, Box-Cox at
lambda = 0) to third order; vmap; NoRuleError naming each parameter SciPy has no derivative
for; plain ``scipy.special.X(traced)`` recording chainrule's primitive."""

import mpmath as mp
import numpy as np
import pytest
import scipy.special as ss

import chainrule as cr
import chainrule.scipy.special as cs
from chainrule import check_grads
from chainrule.core.errors import NoRuleError
from chainrule.core.trace import ReverseTrace
from chainrule.rules import expint, hypergeometric

rng = np.random.default_rng(3)


def u(lo, hi, shape=(3, 2)):
    return rng.uniform(lo, hi, size=shape)


def d1(f, x):
    """The elementwise derivative of an elementwise ``f`` (reverse mode, summed output)."""
    return cr.grad(lambda x: np.sum(f(x)))(x)


def d2(f, x):
    return cr.grad(lambda x: np.sum(d1(f, x)))(x)


def d3(f, x):
    return cr.grad(lambda x: np.sum(d2(f, x)))(x)


def fwd(f, x):
    """The elementwise derivative in forward mode."""
    return cr.jvp(f, (x,), (np.ones_like(x),))[1]


# name -> (f of the differentiated arguments, their sampling domains). Parameters that are
# constants are (3, 1) columns broadcasting against (4,) rows, or the other way round.
A3 = np.array([[0.5], [1.5], [-0.3]])
SPECS = {
    "exp1": (lambda x: ss.exp1(x), [(0.2, 3.0)]),
    "expi": (lambda x: ss.expi(x), [(-3.0, -0.2)]),
    "expn": (lambda x: ss.expn(np.array([[0], [1], [4]]), x), [(0.3, 3.0)]),
    "sici": (lambda x: ss.sici(x)[0] * 1.5 + ss.sici(x)[1], [(-3.0, 3.0)]),
    "shichi": (lambda x: ss.shichi(x)[0] - ss.shichi(x)[1] * 0.5, [(0.2, 2.0)]),
    "fresnel": (lambda x: ss.fresnel(x)[0] + 2.0 * ss.fresnel(x)[1], [(-2.0, 2.0)]),
    "fresnel_one": (lambda x: ss.fresnel(x)[1], [(-2.0, 2.0)]),  # one cotangent absent
    "dawsn": (lambda x: ss.dawsn(x), [(-3.0, 3.0)]),
    "spence": (lambda x: ss.spence(x), [(0.1, 3.0)]),
    "owens_t": (lambda h, a: ss.owens_t(h, a), [(-2.0, 2.0), (-3.0, 3.0)]),
    "hyp1f1": (lambda x: ss.hyp1f1(A3, 2.5, x), [(-2.0, 2.0)]),
    "hyp2f1": (lambda x: ss.hyp2f1(A3, 1.2, 2.5, x), [(-0.8, 0.8)]),
    "zeta": (lambda q: ss.zeta(np.array([[2.0], [3.5], [1.5]]), q), [(0.3, 3.0)]),
    "poch": (lambda z, m: ss.poch(z, m), [(0.3, 3.0), (-0.5, 2.5)]),
    "loggamma": (lambda x: ss.loggamma(x), [(0.2, 5.0)]),
    "binom": (lambda n, k: ss.binom(n, k), [(2.5, 6.0), (0.2, 2.2)]),
    "boxcox": (lambda x, lm: ss.boxcox(x, lm), [(0.3, 3.0), (-1.0, 1.5)]),
    "boxcox1p": (lambda x, lm: ss.boxcox1p(x, lm), [(-0.7, 2.0), (-1.0, 1.5)]),
    "inv_boxcox": (lambda y, lm: ss.inv_boxcox(y, lm), [(-0.5, 1.0), (-0.4, 1.5)]),
    "inv_boxcox1p": (lambda y, lm: ss.inv_boxcox1p(y, lm), [(-0.5, 1.0), (-0.4, 1.5)]),
    "comb": (lambda n, k: cs.comb(n, k), [(2.5, 6.0), (0.2, 2.2)]),
    "factorial": (lambda n: cs.factorial(n), [(0.1, 4.0)]),
}


def _args(name, shapes=((3, 1), (4,))):
    return [u(lo, hi, s) for (lo, hi), s in zip(SPECS[name][1], shapes)]


@pytest.mark.parametrize("name", list(SPECS))
def test_both_modes_to_second_order_with_broadcasting(name):
    f, doms = SPECS[name]
    args = _args(name, ((4,),) if len(doms) == 1 else ((3, 1), (4,)))
    check_grads(f, modes=("fwd", "rev"), order=2)(*args)


@pytest.mark.parametrize("name", list(SPECS))
def test_traced_values_are_scipys(name):
    f, doms = SPECS[name]
    args = _args(name, ((4,),) if len(doms) == 1 else ((3, 1), (4,)))
    out, _ = cr.vjp(f, *args)
    np.testing.assert_array_equal(out, f(*args))


# (plain SciPy function, number of arguments): on float32 the result has SciPy's dtype (float32,
# but float64 for expn with an integer order: its loop is 'ld->d'), and the derivatives keep it
FLOAT32 = {
    "exp1": (ss.exp1, 1), "expi": (ss.expi, 1), "dawsn": (ss.dawsn, 1), "spence": (ss.spence, 1),
    "loggamma": (ss.loggamma, 1), "owens_t": (ss.owens_t, 2), "poch": (ss.poch, 2), "binom": (ss.binom, 2),
    "boxcox": (ss.boxcox, 2), "boxcox1p": (ss.boxcox1p, 2), "inv_boxcox": (ss.inv_boxcox, 2),
    "inv_boxcox1p": (ss.inv_boxcox1p, 2), "expn": (lambda x: ss.expn(2, x), 1),
    "hyp1f1": (lambda x: ss.hyp1f1(np.float32(0.5), np.float32(1.5), x), 1),
    "hyp2f1": (lambda x: ss.hyp2f1(*np.float32([0.5, 1.5, 2.5]), x), 1),
    "zeta": (lambda q: ss.zeta(np.float32(2.5), q), 1),
    "sici": (lambda x: ss.sici(x)[0], 1), "sici_ci": (lambda x: ss.sici(x)[1], 1),
    "shichi": (lambda x: ss.shichi(x)[0], 1), "shichi_chi": (lambda x: ss.shichi(x)[1], 1),
    "fresnel": (lambda x: ss.fresnel(x)[0], 1), "fresnel_c": (lambda x: ss.fresnel(x)[1], 1),
}


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_in_float32_out(name):
    fn, nin = FLOAT32[name]
    args = [np.array([0.4, 0.7], dtype=np.float32)] + [np.array([0.6, 0.3], dtype=np.float32)] * (nin - 1)
    want = fn(*args)
    assert want.dtype == (np.float64 if name == "expn" else np.float32)
    out, _ = cr.vjp(fn, *args)
    assert out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)
    for i in range(nin):
        first = cr.grad(lambda *a: np.sum(fn(*a)), argnums=i)
        g = first(*args)
        gg = cr.grad(lambda *a, first=first: np.sum(first(*a)), argnums=i)(*args)
        assert g.dtype == gg.dtype == np.float32, (name, i, g.dtype, gg.dtype)
        g64 = cr.grad(lambda *a: np.sum(fn(*a)), argnums=i)(*[a.astype(np.float64) for a in args])
        np.testing.assert_allclose(g, g64, rtol=2e-5, err_msg=f"{name} argument {i}")


# ---------------------------------------------------------------- against JAX (float64)
# name -> (chainrule function of one array, JAX function of one scalar, domain). Only where JAX's
# implementation is cheap to trace (its hyp2f1, zeta, spence take seconds each; its spence'
# is NaN at some z): the others are checked against mpmath below.
def _jax_table(j):
    return {
        "si": (lambda x: ss.sici(x)[0], lambda x: j.sici(x)[0], (0.2, 3)),
        "ci": (lambda x: ss.sici(x)[1], lambda x: j.sici(x)[1], (0.2, 3)),
        "poch_z": (lambda z: ss.poch(z, 1.7), lambda z: j.poch(z, 1.7), (0.3, 3)),
        "poch_m": (lambda m: ss.poch(1.3, m), lambda m: j.poch(1.3, m), (-0.5, 2.5)),
        "loggamma": (ss.loggamma, j.loggamma, (0.2, 5)),
        "boxcox_x": (lambda x: ss.boxcox(x, 0.3), lambda x: j.boxcox(x, 0.3), (0.3, 3)),
        "boxcox_l": (lambda lm: ss.boxcox(1.7, lm), lambda lm: j.boxcox(1.7, lm), (-1, 1.5)),
        "boxcox1p_l": (lambda lm: ss.boxcox1p(0.7, lm), lambda lm: j.boxcox1p(0.7, lm), (-1, 1.5)),
        "comb_n": (lambda n: cs.comb(n, 2.3), lambda n: j.comb(n, 2.3), (2.5, 6)),
        "comb_k": (lambda k: cs.comb(5.1, k), lambda k: j.comb(5.1, k), (0.2, 4.8)),
        "factorial": (cs.factorial, j.factorial, (0.1, 4)),
    }


def test_first_and_second_derivatives_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for name, (ours, theirs, dom) in _jax_table(jax.scipy.special).items():
        x = u(*dom, (5,))
        want1 = np.asarray(jax.vmap(jax.grad(theirs))(x))
        want2 = np.asarray(jax.vmap(jax.grad(jax.grad(theirs)))(x))
        for got, want, what in ((d1(ours, x), want1, "d1"), (fwd(ours, x), want1, "fwd"),
                                (d2(ours, x), want2, "d2")):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=f"{name} {what}")


# ---------------------------------------------------------------- against mpmath (JAX lacks them)
mp.mp.dps = 30


def _owens_t(h, a):
    return mp.quad(lambda x: mp.exp(-h * h * (1 + x * x) / 2) / (1 + x * x), [0, a]) / (2 * mp.pi)


def _inv_boxcox(y, lm):
    return mp.exp(y) if lm == 0 else (1 + lm * y) ** (1 / lm)


def _mp_table():
    return {  # name -> (ours, mpmath function, points)
        "exp1": (ss.exp1, mp.e1, [0.05, 0.7, 3.0, 20.0]),
        "expi": (ss.expi, mp.ei, [-3.0, -0.2, 0.2, 3.0]),
        "dawsn": (ss.dawsn, lambda x: mp.sqrt(mp.pi) / 2 * mp.exp(-x * x) * mp.erfi(x),
                  [-3.0, 0.0, 0.7, 2.5]),
        "fresnel_s": (lambda x: ss.fresnel(x)[0], mp.fresnels, [-1.7, 0.0, 0.6, 1.9]),
        "fresnel_c": (lambda x: ss.fresnel(x)[1], mp.fresnelc, [-1.7, 0.0, 0.6, 1.9]),
        "spence": (ss.spence, lambda z: mp.polylog(2, 1 - z), [0.1, 0.5, 2.0, 3.0]),
        "hyp1f1": (lambda x: ss.hyp1f1(0.5, 1.5, x), lambda x: mp.hyp1f1(0.5, 1.5, x), [-2.0, 0.0, 0.7, 2.0]),
        "hyp1f1_neg_a": (lambda x: ss.hyp1f1(-1.3, 2.5, x), lambda x: mp.hyp1f1(-1.3, 2.5, x),
                         [-2.0, 0.7, 2.0]),
        "hyp2f1": (lambda x: ss.hyp2f1(0.5, 1.5, 2.2, x), lambda x: mp.hyp2f1(0.5, 1.5, 2.2, x),
                   [-0.8, 0.0, 0.3, 0.8]),
        "zeta_q": (lambda q: ss.zeta(2.5, q), lambda q: mp.zeta(2.5, q), [0.3, 1.0, 2.7]),
        "expn0": (lambda x: ss.expn(0, x), lambda x: mp.expint(0, x), [0.3, 1.7]),
        "expn1": (lambda x: ss.expn(1, x), lambda x: mp.expint(1, x), [0.3, 1.7]),
        "expn5": (lambda x: ss.expn(5, x), lambda x: mp.expint(5, x), [0.3, 1.7]),
        "expn_trunc": (lambda x: ss.expn(0.5, x), lambda x: mp.expint(0, x), [0.3, 1.7]),  # SciPy truncates n
        "shi": (lambda x: ss.shichi(x)[0], mp.shi, [-1.3, 0.05, 0.7, 2.5]),
        "chi": (lambda x: ss.shichi(x)[1], lambda x: mp.re(mp.chi(x)), [-1.3, 0.05, 0.7, 2.5]),
        "si_near0": (lambda x: ss.sici(x)[0], mp.si, [-0.4, 1e-3, 0.3, 0.6]),
        "ci_neg": (lambda x: ss.sici(x)[1], lambda x: mp.re(mp.ci(x)), [-2.0, -0.3]),
        "spence_near1": (ss.spence, lambda z: mp.polylog(2, 1 - z), [0.93, 0.999, 1.05, 1.2]),
        "owens_t_h": (lambda h: ss.owens_t(h, 0.8), lambda h: _owens_t(h, 0.8), [-1.1, 0.0, 0.6]),
        "owens_t_a": (lambda a: ss.owens_t(0.6, a), lambda a: _owens_t(0.6, a), [-1.1, 0.0, 0.8]),
        "binom_n": (lambda n: ss.binom(n, 2.3), lambda n: mp.binomial(n, 2.3), [2.5, 5.1]),
        "binom_k": (lambda k: ss.binom(5.1, k), lambda k: mp.binomial(5.1, k), [0.3, 2.3]),
        "inv_boxcox_y": (lambda y: ss.inv_boxcox(y, 0.3), lambda y: _inv_boxcox(y, mp.mpf(0.3)),
                         [-0.5, 1e-9, 0.6]),
        "inv_boxcox_l": (lambda lm: ss.inv_boxcox(0.6, lm), lambda lm: _inv_boxcox(mp.mpf(0.6), lm),
                         [-0.4, 0.01, 0.3, 1.4]),
        "inv_boxcox1p_y": (lambda y: ss.inv_boxcox1p(y, -0.4), lambda y: _inv_boxcox(y, mp.mpf(-0.4)) - 1,
                           [-0.5, 1e-9, 0.6]),
        "inv_boxcox1p_l": (lambda lm: ss.inv_boxcox1p(0.6, lm), lambda lm: _inv_boxcox(mp.mpf(0.6), lm) - 1,
                           [-0.4, 0.01, 0.3, 1.4]),
        "boxcox_small_l": (lambda lm: ss.boxcox(3.0, lm), lambda lm: (mp.mpf(3) ** lm - 1) / lm,
                           [-1e-3, 1e-6, 0.2, 0.6]),
    }


@pytest.mark.filterwarnings("ignore:floating point number truncated")  # SciPy's expn(0.5, x)
@pytest.mark.parametrize("name", list(_mp_table()))
def test_first_and_second_derivatives_against_mpmath(name):
    ours, theirs, pts = _mp_table()[name]
    x = np.array(pts)
    want1 = np.array([float(mp.diff(theirs, mp.mpf(p), 1)) for p in pts])
    want2 = np.array([float(mp.diff(theirs, mp.mpf(p), 2)) for p in pts])
    np.testing.assert_allclose(d1(ours, x), want1, rtol=1e-12, atol=1e-15, err_msg=f"{name} d1")
    np.testing.assert_allclose(fwd(ours, x), want1, rtol=1e-12, atol=1e-15, err_msg=f"{name} fwd")
    np.testing.assert_allclose(d2(ours, x), want2, rtol=1e-11, atol=1e-14, err_msg=f"{name} d2")


def test_removable_singularities_to_third_order():
    """At the points where the derivative's closed form is 0/0, the Taylor branch gives the
    limits: Si' = sin x / x -> 1, Si''' -> -1/3; Shi''' -> +1/3; spence'(1) = -1, spence''(1) =
    1/2, spence'''(1) = -2/3; d^k/dl^k boxcox(x, 0) = log(x)^(k+1) / (k+1)."""
    zero = np.array([0.0])
    si, shi = (lambda x: ss.sici(x)[0]), (lambda x: ss.shichi(x)[0])
    assert (d1(si, zero), d2(si, zero), d3(si, zero)) == (1.0, 0.0, pytest.approx(-1 / 3, rel=1e-15))
    assert (d1(shi, zero), d2(shi, zero), d3(shi, zero)) == (1.0, 0.0, pytest.approx(1 / 3, rel=1e-15))
    one = np.array([1.0])
    np.testing.assert_allclose([d1(ss.spence, one), d2(ss.spence, one), d3(ss.spence, one)],
                               [[-1.0], [0.5], [-2 / 3]], rtol=1e-15)
    L = np.log(np.array([0.3, 1.7, 40.0]))
    bc = lambda lm: ss.boxcox(np.array([0.3, 1.7, 40.0]), lm)  # noqa: E731
    bc1p = lambda lm: ss.boxcox1p(np.array([-0.7, 0.7, 39.0]), lm)  # noqa: E731
    lam = np.zeros(3)
    for f in (bc, bc1p):
        np.testing.assert_allclose(d1(f, lam), L**2 / 2, rtol=1e-14)
        np.testing.assert_allclose(d2(f, lam), L**3 / 3, rtol=1e-14)
        np.testing.assert_allclose(d3(f, lam), L**4 / 4, rtol=1e-14)
    # the inverse at l = 0 is exp(y): d/dl = -exp(y) y^2 / 2 (from exp(log1p(l y) / l))
    y = np.array([-0.5, 0.4, 2.0])
    np.testing.assert_allclose(d1(lambda lm: ss.inv_boxcox(y, lm), lam), -np.exp(y) * y**2 / 2, rtol=1e-14)
    np.testing.assert_allclose(d1(lambda lm: ss.inv_boxcox1p(y, lm), lam), -np.exp(y) * y**2 / 2, rtol=1e-14)


def test_vmap_agrees_with_a_loop():
    x = u(0.3, 2.0, (5, 3))
    lm = u(-0.5, 1.0, (3,))
    for f in (lambda x: ss.sici(x), lambda x: ss.fresnel(x)[1], lambda x: ss.expn(2, x),
              lambda x: ss.boxcox(x, lm), lambda x: ss.hyp1f1(0.5, 2.5, x),
              lambda x: cs.comb(x + 3.0, lm + 1.0),
              lambda x: cs.factorial(x), lambda x: ss.zeta(2.0, x)):
        got = cr.vmap(f)(x)
        want = [f(r) for r in x]
        if isinstance(got, tuple):
            for g, w in zip(got, zip(*want)):
                np.testing.assert_allclose(g, np.stack(w), rtol=1e-14)
        else:
            np.testing.assert_allclose(got, np.stack(want), rtol=1e-14)
    # vmap of grad
    g = cr.vmap(cr.grad(lambda x: np.sum(ss.shichi(x)[1])))(x)
    np.testing.assert_allclose(g, np.cosh(x) / x, rtol=1e-14)


@pytest.mark.parametrize("name,f", [
    ("exp1", ss.exp1), ("expi", ss.expi), ("dawsn", ss.dawsn), ("spence", ss.spence),
    ("sici", lambda z: ss.sici(z)[0] + 0.5 * ss.sici(z)[1]), ("shichi", lambda z: ss.shichi(z)[1]),
    ("fresnel", lambda z: ss.fresnel(z)[0] - ss.fresnel(z)[1]), ("hyp1f1", lambda z: ss.hyp1f1(0.5, 1.5, z)),
    ("hyp2f1", lambda z: ss.hyp2f1(0.5, 1.5, 2.5, 0.5 * z))])
def test_holomorphic_on_complex_input(name, f):
    """SciPy's complex branches are holomorphic and the derivatives hold there too (1F1's and
    2F1's parameters stay real: SciPy has no loop for complex ones)."""
    z = np.array([0.7 + 0.4j, 1.3 - 0.6j])
    check_grads(lambda z: np.real(f(z)) + 0.3 * np.imag(f(z)), modes=("fwd", "rev"), order=2)(z)


def test_under_jit():
    """Staged and fused with the rest: the multiple-result primitives and the single ones."""
    def f(x):
        s, c = ss.sici(x)
        return np.sum(s * c + ss.boxcox(x, 0.3) + ss.expn(2, x) + ss.hyp1f1(0.5, 1.5, x) + ss.fresnel(x)[0])
    x = np.linspace(0.3, 2.0, 300)
    np.testing.assert_allclose(cr.jit(cr.grad(f))(x), cr.grad(f)(x), rtol=1e-14)
    h = cr.grad(lambda x: np.sum(cr.grad(f)(x)))
    np.testing.assert_allclose(cr.jit(h)(x), h(x), rtol=1e-14)


@pytest.mark.filterwarnings("ignore:floating point number truncated")  # SciPy's expn(2.5, x)
@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("fn,argnum,what", [
    (lambda a, b, c, x: ss.hyp1f1(a, b, x), 0, "hyp1f1: no derivative with respect to the parameter a"),
    (lambda a, b, c, x: ss.hyp1f1(a, b, x), 1, "hyp1f1: no derivative with respect to the parameter b"),
    (lambda a, b, c, x: ss.hyp2f1(a, b, c, x), 0, "hyp2f1: no derivative with respect to the parameter a"),
    (lambda a, b, c, x: ss.hyp2f1(a, b, c, x), 1, "hyp2f1: no derivative with respect to the parameter b"),
    (lambda a, b, c, x: ss.hyp2f1(a, b, c, x), 2, "hyp2f1: no derivative with respect to the parameter c"),
    (lambda a, b, c, x: ss.zeta(a, x), 0, "zeta: no derivative with respect to the exponent x"),
    (lambda a, b, c, x: cs.zeta(a), 0, "zeta: no derivative with respect to the exponent x"),
    (lambda a, b, c, x: ss.expn(a, x), 0, "expn: no derivative with respect to the order n"),
])
def test_parameters_without_a_derivative_are_refused_naming_them(fn, argnum, what, mode):
    args = (2.5, 1.5, 3.5, 0.4)

    def only(i):  # fn of argument i alone, the others constants
        return lambda v: fn(*[v if j == i else a for j, a in enumerate(args)])
    with pytest.raises(NoRuleError, match=what):
        if mode == "rev":
            cr.grad(only(argnum))(args[argnum])
        else:
            cr.jvp(only(argnum), (args[argnum],), (1.0,))
    if argnum:  # the argument x still differentiates (zeta(a) has none)
        assert np.isfinite(cr.grad(only(3))(args[3]))


def test_plain_scipy_dispatches_to_chainrule():
    cases = [(ss.exp1, (), expint.exp1), (ss.expi, (), expint.expi), (ss.dawsn, (), expint.dawsn),
             (ss.spence, (), expint.spence), (ss.sici, (), expint.sici), (ss.shichi, (), expint.shichi),
             (ss.fresnel, (), expint.fresnel), (lambda x: ss.expn(2, x), (), expint.expn),
             (lambda x: ss.owens_t(x, 0.5), (), expint.owens_t),
             (lambda x: ss.hyp1f1(0.5, 1.5, x), (), hypergeometric.hyp1f1),
             (lambda x: ss.hyp2f1(0.5, 1.5, 2.5, x), (), hypergeometric.hyp2f1),
             (lambda x: ss.zeta(2.0, x), (), hypergeometric._hurwitz), (ss.zeta, (), hypergeometric._riemann),
             (lambda x: ss.poch(x, 1.5), (), hypergeometric.poch), (ss.loggamma, (), hypergeometric.loggamma),
             (lambda x: ss.binom(x, 1.5), (), hypergeometric.binom),
             (lambda x: ss.boxcox(x, 0.5), (), hypergeometric.boxcox),
             (lambda x: ss.boxcox1p(x, 0.5), (), hypergeometric.boxcox1p),
             (lambda x: ss.inv_boxcox(x, 0.5), (), hypergeometric.inv_boxcox),
             (lambda x: ss.inv_boxcox1p(x, 0.5), (), hypergeometric.inv_boxcox1p)]
    for fn, _, prim in cases:
        trace = ReverseTrace()
        fn(trace.new_input(np.array([0.3, 0.6])))
        assert trace.tape[-1].prim is prim, (prim.name, [r.prim.name for r in trace.tape])


def test_comb_and_factorial_as_scipys():
    n = np.array([-1.0, 0.0, 2.5, 5.0, 3.0, np.nan, 7.0])
    k = np.array([1.0, 0.0, 1.5, 2.0, 4.0, 1.0, -1.0])
    for rep in (False, True):
        out, pull = cr.vjp(lambda n, k, rep=rep: cs.comb(n, k, repetition=rep), n, k)
        np.testing.assert_array_equal(out, ss.comb(n, k, repetition=rep))
        with np.errstate(invalid="ignore"):
            gn, gk = pull(np.ones_like(n))
        if rep:  # binom(N + k - 1, k): at (-1, 1) a pole of its gamma formula, NaN, not a number
            assert np.isnan(gn[0]) and np.isnan(gn[5])
            assert gn[1] == gk[1] == 0  # the constant 1 (k = 0): binom's NaN there does not leak
            m, j = n[2:5] + k[2:5] - 1, k[2:5]
            np.testing.assert_allclose(gn[2:5], ss.binom(m, j) * (ss.digamma(m + 1) - ss.digamma(m - j + 1)),
                                       rtol=1e-13)
        if not rep:  # outside 0 <= k <= N the value is the constant 0: no derivative
            outside = ~((k <= n) & (n >= 0) & (k >= 0))
            assert np.all(gn[outside] == 0) and np.all(gk[outside] == 0)
            inside = ~outside
            np.testing.assert_allclose(gn[inside], ss.binom(n, k)[inside]
                                       * (ss.digamma(n + 1) - ss.digamma(n - k + 1))[inside], rtol=1e-13)
    x = np.array([-2.5, -1.0, 0.0, 0.5, 3.0, 10.0, np.nan], dtype=np.float32)
    out, pull = cr.vjp(cs.factorial, x)
    want = ss.factorial(x)
    assert out.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(out, want)
    (g,) = pull(np.ones(7))
    assert g.dtype == np.float32  # the input's dtype
    assert np.all(g[:2] == 0)
    np.testing.assert_allclose(g[2:6], ss.gamma(x[2:6] + 1.0) * ss.digamma(x[2:6] + 1.0), rtol=1e-6)
    # plain values (and the integer options) are SciPy's own; exact=True on a traced value is refused
    assert cs.comb(10, 3, exact=True) == 120 and cs.factorial(5, exact=True) == 120
    with pytest.raises(TypeError, match="comb: exact=True"):
        cr.grad(lambda n: cs.comb(n, 2.0, exact=True))(5.0)
    with pytest.raises(TypeError, match="factorial: only exact=False"):
        cr.grad(lambda n: cs.factorial(n, exact=True))(5.0)


def test_loggamma_is_real_only_and_expn_at_order_zero():
    with pytest.raises(NotImplementedError, match="loggamma: complex input"):
        cr.grad(lambda z: np.real(ss.loggamma(z)))(np.complex128(1.5 + 0.5j))
    assert np.isnan(ss.loggamma(-1.5))  # SciPy's real loggamma: nan below 0, the derivative too
    assert np.isnan(cr.grad(ss.loggamma)(-1.5))
    # d/dx E_0 = -(1 + x) e^-x / x^2 and d/dx E_1 = -E_0, as one broadcast call
    x = np.array([0.5, 2.0])
    g = cr.jacobian(lambda x: ss.expn(np.array([[0], [1]]), x))(x)
    np.testing.assert_allclose(np.einsum("ijj->ij", g), [-(1 + x) * np.exp(-x) / x**2, -np.exp(-x) / x],
                               rtol=1e-14)
