"""scipy.special beyond the basics (issue 14 item 2): the Bessel functions, the gamma and beta
families, kl_div/rel_entr. Both modes to second order with broadcasting, batched passes, plain
``scipy.special`` dispatch, dtypes, errors for the parameters without a derivative, and three
independent oracles: JAX (where it has the function), Bessel's differential equation (which
ties the second derivative to the first and the value), and central differences of SciPy."""

import numpy as np
import pytest
import scipy.special as ss
from helpers import check_batched

import chainrule as cr
import chainrule.scipy.special as cs
from chainrule import check_grads
from chainrule.core.errors import NoRuleError

rng = np.random.default_rng(1)


def u(lo, hi, shape=(3, 2)):
    return rng.uniform(lo, hi, size=shape)


def check(f, *args):
    check_grads(f, modes=("fwd", "rev"), order=2)(*args)


def d1(f, x):
    """The elementwise derivative of an elementwise ``f`` (reverse mode, summed output)."""
    return cr.grad(lambda x: np.sum(f(x)))(x)


def d2(f, x):
    return cr.grad(lambda x: np.sum(d1(f, x)))(x)


def central(f, x, h=1e-5):
    """Central differences of plain SciPy (no chainrule involved)."""
    return (f(x + h) - f(x - h)) / (2 * h)


BESSEL_UNARY = {  # name -> domain
    "j0": (-4, 4), "j1": (-4, 4), "y0": (0.3, 4), "y1": (0.3, 4),
    "i0": (-3, 3), "i1": (-3, 3), "i0e": (0.2, 3), "i1e": (-3, -0.2),
}
BESSEL_ORDER = {  # name -> (orders, domain of x); the orders broadcast against x
    "jv": (np.array([[0.0], [1.5], [-0.7]]), (0.3, 4)),
    "iv": (np.array([[0.0], [1.5], [2.0]]), (0.3, 3)),
    "ive": (np.array([[0.0], [1.5], [2.0]]), (0.3, 3)),
    "kv": (np.array([[0.0], [1.5], [-2.0]]), (0.3, 3)),
    "yn": (np.array([[0], [1], [3]]), (0.5, 4)),
}


@pytest.mark.parametrize("name", list(BESSEL_UNARY))
def test_bessel_unary_grads_dispatch_batched(name):
    fn = getattr(ss, name)
    x = u(*BESSEL_UNARY[name])
    check(lambda x: fn(x), x)
    check_batched(getattr(cs, name), x)
    out, _ = cr.vjp(lambda x: fn(x), x)
    np.testing.assert_array_equal(out, fn(x))
    np.testing.assert_allclose(d1(fn, x), central(fn, x), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(BESSEL_ORDER))
def test_bessel_with_order_grads_broadcasting_batched(name):
    fn = getattr(ss, name)
    v, dom = BESSEL_ORDER[name]
    x = u(*dom, (4,))
    check(lambda x: fn(v, x), x)  # orders (3, 1) against x (4,)
    check_batched(lambda x: getattr(cs, name)(v, x), x)
    # d/dx of the sum over the orders
    np.testing.assert_allclose(d1(lambda x: fn(v, x), x), central(lambda x: fn(v, x), x).sum(0),
                               rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["jv", "yn", "iv", "kv", "j0", "j1", "y0", "y1", "i0", "i1"])
def test_bessel_second_derivative_solves_bessel_equation(name):
    """x^2 f'' + x f' + (x^2 - v^2) f = 0 for J, Y; x^2 f'' + x f' - (x^2 + v^2) f = 0 for I, K."""
    v = {"j0": 0, "j1": 1, "y0": 0, "y1": 1, "i0": 0, "i1": 1}.get(name, np.array([[0], [1], [3]]))
    fn = (lambda x: getattr(ss, name)(x)) if name[1:] in ("0", "1") else (lambda x: getattr(ss, name)(v, x))
    x = np.linspace(0.5, 4.0, 7) + np.zeros((3, 1))  # one x per order: no sum over orders
    f, f1, f2 = fn(x), d1(fn, x), d2(fn, x)
    s = 1.0 if name[0] in "jy" else -1.0
    resid = x**2 * f2 + x * f1 + (s * x**2 - np.asarray(v, float) ** 2) * f
    np.testing.assert_allclose(resid, 0.0, atol=1e-10 * max(1.0, np.abs(f).max()))


def test_bessel_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jsp = jax.scipy.special
    x = u(-3, 3, (6,))
    for name in ["i0", "i1", "i0e", "i1e"]:
        jf = getattr(jsp, name)
        for order, ours in ((1, d1), (2, d2)):
            g = jax.vmap(jax.grad(jf) if order == 1 else jax.grad(jax.grad(jf)))(x)
            np.testing.assert_allclose(ours(getattr(ss, name), x), g, rtol=1e-10, atol=1e-12,
                                       err_msg=f"{name} order {order}")
    # J_0, J_1 and J_3 from jax's bessel_jn (all orders 0..3 at once)
    xp = u(0.3, 4, (6,))

    def jn(k):
        return jax.vmap(lambda z: jsp.bessel_jn(z, v=3)[k])
    for k, ours in ((0, ss.j0), (1, ss.j1), (3, lambda x: ss.jv(3, x))):
        np.testing.assert_allclose(d1(ours, xp), jax.vmap(jax.grad(lambda z, k=k: jn(k)(z[None])[0]))(xp),
                                   rtol=1e-8, atol=1e-10)


def test_bessel_at_zero_and_python_scalars():
    """The recurrence forms are finite at 0: j1'(0) = i1'(0) = 1/2; Python floats act as NumPy's."""
    assert cr.grad(ss.j1)(0.0) == 0.5
    assert cr.grad(ss.i1)(0.0) == 0.5
    assert cr.grad(ss.j0)(0.0) == 0.0
    assert cr.grad(lambda x: ss.jv(2, x))(0.0) == 0.0
    assert np.isinf(cr.grad(ss.y0)(0.0))  # Y_0'(0) = -Y_1(0) = +inf, as NumPy's arithmetic gives
    assert cr.grad(lambda x: ss.jv(2.5, x))(1.0) == pytest.approx(central(lambda x: ss.jv(2.5, x), 1.0))


@pytest.mark.parametrize("name", ["j0", "j1", "y0", "y1", "i0", "i1", "i0e", "i1e"])
def test_bessel_float32_stays_float32(name):
    x = np.array([0.5, 1.5], dtype=np.float32)
    fn = getattr(ss, name)
    assert fn(x).dtype == np.float32
    assert d1(fn, x).dtype == np.float32
    assert d2(fn, x).dtype == np.float32
    g = d1(lambda x: ss.jv(2, x), x)
    assert g.dtype == np.float32 and ss.jv(2, x).dtype == np.float32


@pytest.mark.parametrize("name", ["jv", "yn", "iv", "ive", "kv"])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_derivative_in_the_order_is_refused_naming_it(name, mode):
    fn = getattr(ss, name)
    f = lambda v: fn(v, 1.3)  # noqa: E731
    with pytest.raises(NoRuleError, match=rf"{name}: no derivative with respect to the order"):
        if mode == "rev":
            cr.grad(f)(1.0)
        else:
            cr.jvp(f, (1.0,), (1.0,))


# ---------------------------------------------------------------- gamma and beta families
def test_beta_and_betaln_in_both_arguments_with_broadcasting():
    a, b = u(0.5, 3, (2, 1)), u(0.5, 3, (3,))
    for fn in (ss.beta, ss.betaln):
        check(lambda a, b, fn=fn: fn(a, b), a, b)
        check_batched(lambda a, b, fn=fn: fn(a, b), a, b)
    check(lambda a: ss.betaln(a, 2.0), a)  # a Python scalar operand


def test_incomplete_functions_in_x():
    a, b, x = u(0.5, 3, (2, 1)), u(0.5, 3, (1, 3)), u(0.1, 0.9, (3,))
    check(lambda x: ss.betainc(a, b, x), x)
    check(lambda x: ss.betainc(2.0, 0.7, x), x)
    check_batched(lambda x: cs.betainc(a, b, x), x)
    for fn in (ss.gammainc, ss.gammaincc):
        check(lambda x, fn=fn: fn(a, x), 3 * x)
        check_batched(lambda x, fn=fn: fn(a, x), 3 * x)
        np.testing.assert_allclose(d1(lambda x, fn=fn: fn(a, x), 3 * x),
                                   central(lambda x, fn=fn: fn(a, x), 3 * x).sum(0), rtol=1e-7)
    np.testing.assert_allclose(d1(lambda x: ss.betainc(a, b, x), x),
                               central(lambda x: ss.betainc(a, b, x), x).sum(0), rtol=1e-7)


def test_incomplete_functions_at_the_ends():
    """a = 1 at x = 0: 0 log 0 is taken as 0, so the density is finite (d/dx I_x(1, b) = b)."""
    assert cr.grad(lambda x: ss.betainc(1.0, 3.0, x))(0.0) == pytest.approx(3.0)
    assert cr.grad(lambda x: ss.betainc(2.0, 1.0, x))(1.0) == pytest.approx(2.0)
    assert cr.grad(lambda x: ss.gammainc(1.0, x))(0.0) == pytest.approx(1.0)
    assert cr.grad(lambda x: ss.gammaincc(1.0, x))(0.0) == pytest.approx(-1.0)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("fn,args,argnum", [
    (ss.betainc, (1.5, 2.0, 0.3), 0), (ss.betainc, (1.5, 2.0, 0.3), 1), (ss.gammainc, (1.5, 0.3), 0),
    (ss.gammaincc, (1.5, 0.3), 0), (ss.stdtr, (3.0, 0.5), 0),
])
def test_shape_parameters_differentiate_in_both_modes(fn, args, argnum, mode):
    """The shape parameters have no closed-form derivative; chainrule evaluates it (see
    tests/test_shape_parameter_derivatives.py for the oracles): here, the two modes and central
    differences of SciPy agree."""
    def f(p):
        full = list(args)
        full[argnum] = p
        return fn(*full)
    got = cr.grad(f)(args[argnum]) if mode == "rev" else cr.jvp(f, (args[argnum],), (1.0,))[1]
    h = 1e-6
    assert got == pytest.approx((f(args[argnum] + h) - f(args[argnum] - h)) / (2 * h), rel=1e-6)


def test_rgamma_gammasgn_multigammaln():
    x = np.array([-1.5, -0.3, 0.4, 2.5, 4.0])
    check(lambda x: ss.rgamma(x), x)
    check_batched(cs.rgamma, x)
    np.testing.assert_allclose(d1(ss.rgamma, x), central(ss.rgamma, x), rtol=1e-7)
    # gammasgn is piecewise constant: no derivative, but it multiplies as a constant
    np.testing.assert_array_equal(d1(lambda x: ss.gammasgn(x) * x, x), ss.gammasgn(x))
    a = u(2, 5, (2, 3))
    for d in (1, 2, 4):
        check(lambda a, d=d: cs.multigammaln(a, d), a)
        np.testing.assert_allclose(cs.multigammaln(a, d), ss.multigammaln(a, d), rtol=1e-14)
        np.testing.assert_allclose(d1(lambda a, d=d: cs.multigammaln(a, d), a),
                                   central(lambda a, d=d: ss.multigammaln(a, d), a), rtol=1e-7)
    assert cs.multigammaln(np.float32(3.0), 2).dtype == ss.multigammaln(np.float32(3.0), 2).dtype
    with pytest.raises(ValueError, match="positive integer"):
        cs.multigammaln(a, 2.5)
    with pytest.raises(ValueError, match="a > 0.5"):
        cr.grad(lambda a: np.sum(cs.multigammaln(a, 4)))(np.array([1.0, 3.0]))


def test_kl_div_and_rel_entr():
    x, y = u(0.2, 2, (3, 1)), u(0.2, 2, (4,))
    for fn in (ss.kl_div, ss.rel_entr):
        check(lambda x, y, fn=fn: fn(x, y), x, y)
        check_batched(lambda x, y, fn=fn: fn(x, y), x, y)
    # x = 0: kl_div(0, y) = y, rel_entr(0, y) = 0, whatever y (also y = 0): no 0/0
    assert cr.grad(lambda y: ss.kl_div(0.0, y))(0.0) == 1.0
    assert cr.grad(lambda y: ss.rel_entr(0.0, y))(0.0) == 0.0


def test_gamma_beta_family_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jsp = jax.scipy.special
    a, b, x = u(0.6, 3, (5,)), u(0.6, 3, (5,)), u(0.1, 0.9, (5,))
    cases = [  # (ours, jax's, the argument differentiated, the others)
        (lambda a, b: ss.beta(a, b), jsp.beta, 0, (a, b)),
        (lambda a, b: ss.beta(a, b), jsp.beta, 1, (a, b)),
        (lambda a, b: ss.betaln(a, b), jsp.betaln, 0, (a, b)),
        (lambda a, b: ss.betaln(a, b), jsp.betaln, 1, (a, b)),
        (lambda a, b, x: ss.betainc(a, b, x), jsp.betainc, 2, (a, b, x)),
        (lambda a, x: ss.gammainc(a, x), jsp.gammainc, 1, (a, 3 * x)),
        (lambda a, x: ss.gammaincc(a, x), jsp.gammaincc, 1, (a, 3 * x)),
        (lambda x, y: ss.kl_div(x, y), jsp.kl_div, 0, (a, b)),
        (lambda x, y: ss.kl_div(x, y), jsp.kl_div, 1, (a, b)),
        (lambda x, y: ss.rel_entr(x, y), jsp.rel_entr, 0, (a, b)),
        (lambda x, y: ss.rel_entr(x, y), jsp.rel_entr, 1, (a, b)),
        (lambda a: cs.multigammaln(a, 3), lambda a: jsp.multigammaln(a, 3), 0, (a + 1,)),
    ]
    for ours, theirs, k, args in cases:
        for order in (1, 2):
            def ours_k(z, ours=ours, k=k, args=args):
                return ours(*args[:k], z, *args[k + 1:])
            got = (d1 if order == 1 else d2)(ours_k, args[k])
            jg = lambda *v, theirs=theirs: theirs(*v)  # noqa: E731
            for _ in range(order):
                jg = jax.grad(jg, argnums=k)
            want = jax.vmap(jg)(*args)
            np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10,
                                       err_msg=f"{theirs} argument {k} order {order}")


def test_listed_basics_against_jax():
    """The item's functions that predate it (rules/special.py) against JAX, to second order."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jsp = jax.scipy.special
    cases = [(ss.erfinv, jsp.erfinv, (-0.9, 0.9)), (ss.ndtr, jsp.ndtr, (-3, 3)),
             (ss.ndtri, jsp.ndtri, (0.05, 0.95)), (ss.log_ndtr, jsp.log_ndtr, (-8, 4)),
             (ss.entr, jsp.entr, (0.2, 3)), (lambda x: ss.xlog1py(0.7, x), lambda x: jsp.xlog1py(0.7, x),
                                              (-0.5, 2))]
    for ours, theirs, dom in cases:
        x = u(*dom, (6,))
        np.testing.assert_allclose(d1(ours, x), jax.vmap(jax.grad(theirs))(x), rtol=1e-9)
        np.testing.assert_allclose(d2(ours, x), jax.vmap(jax.grad(jax.grad(theirs)))(x), rtol=1e-7,
                                   atol=1e-10)


def test_exported_names():
    for name in ["beta", "betaln", "betainc", "gammainc", "gammaincc", "rgamma", "gammasgn",
                 "multigammaln", "erfinv", "erfcinv", "ndtr", "ndtri", "log_ndtr", "xlog1py", "entr",
                 "kl_div", "j0", "j1", "y0", "y1", "i0", "i1", "i0e", "i1e", "iv", "ive", "jv", "yn", "kv"]:
        assert name in cs.__all__ and callable(getattr(cs, name))


def test_stdtr_in_t_and_df():
    df, t = np.array([[0.7], [3.0], [30.0]]), np.array([-2.0, 0.0, 0.4, 3.0])
    check(lambda t: ss.stdtr(df, t), t)
    check_batched(lambda t: cs.stdtr(df, t), t)
    np.testing.assert_allclose(d1(lambda t: ss.stdtr(df, t), t), central(lambda t: ss.stdtr(df, t), t).sum(0),
                               rtol=1e-7)
    check(lambda d: ss.stdtr(d, t), df)
    np.testing.assert_allclose(d1(lambda d: ss.stdtr(d, t), df),
                               central(lambda d: ss.stdtr(d, t), df).sum(1, keepdims=True),
                               rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("fn", [
    lambda x: ss.gammainc(2.0, x), lambda x: ss.gammaincc(np.float32(2.0), x), lambda x: ss.beta(x, 2.0),
    lambda x: ss.betaln(x, x), lambda x: ss.betainc(2.0, 3.0, x), ss.rgamma, lambda x: ss.kl_div(x, 0.5),
    lambda x: ss.rel_entr(0.5, x), lambda x: ss.stdtr(3.0, x), lambda x: ss.iv(1.5, x),
    lambda x: ss.kv(1.5, x), lambda x: ss.yn(2, x), lambda x: ss.ive(0.5, x),
    lambda x: cs.multigammaln(x + 1, 2),
], ids=["gammainc", "gammaincc", "beta", "betaln", "betainc", "rgamma", "kl_div", "rel_entr", "stdtr",
        "iv", "kv", "yn", "ive", "multigammaln"])
def test_float32_values_as_scipy_derivatives_in_the_input_dtype(fn):
    """The value has SciPy's dtype (its ufunc loops decide: gammainc(2.0, float32) is float64);
    a derivative has its input's dtype, at every order."""
    x = np.array([0.3, 0.6], np.float32)
    want = fn(x).dtype  # plain SciPy
    out, _ = cr.vjp(fn, x)
    assert out.dtype == want
    assert d1(fn, x).dtype == np.float32
    assert d2(fn, x).dtype == np.float32


def test_rgamma_derivatives_at_and_near_its_zeros():
    """1/Gamma is entire: at its zeros x = 0, -1, -2, ... the derivative is (-1)^n n!, and near
    them ans * psi(x) is 0 * inf or loses every digit; below 1/2 the reflection formula's
    derivative is used. Three orders against mpmath at 50 digits."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    for x in (0.0, -1.0, -3.0, 1e-30, -2.999999999, 0.3, 0.5, 0.7, 2.5, -0.5):
        for n, d in enumerate((cr.grad(ss.rgamma), cr.grad(cr.grad(ss.rgamma)),
                               cr.grad(cr.grad(cr.grad(ss.rgamma)))), start=1):
            want = float(mp.diff(mp.rgamma, mp.mpf(x), n))
            assert d(x) == pytest.approx(want, rel=1e-12, abs=1e-14), (x, n)
    assert cr.jvp(ss.rgamma, (0.0,), (1.0,))[1] == 1.0
