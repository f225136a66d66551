"""Special functions: every one in both modes to second order, batched passes, plain
``scipy.special`` dispatch, stable logsumexp/softmax, gradients against PyTorch, errors."""

import numpy as np
import pytest
import scipy.special as ss
from helpers import check_batched

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.special as cs
from chainrule import check_grads

rng = np.random.default_rng(0)


def u(lo, hi, shape=(3, 2)):
    return rng.uniform(lo, hi, size=shape)


def check(f, *args, order=2):
    check_grads(f, modes=("fwd", "rev"), order=order)(*args)


# name -> (domain sampler); the functions are called through plain scipy.special (dispatch)
UNARY = {
    "expit": lambda: u(-4, 4),
    "log_expit": lambda: u(-4, 4),
    "logit": lambda: u(0.1, 0.9),
    "erf": lambda: u(-2, 2),
    "erfc": lambda: u(-2, 2),
    "erfcx": lambda: u(-1, 3),
    "erfinv": lambda: u(-0.9, 0.9),
    "erfcinv": lambda: u(0.1, 1.9),
    "ndtr": lambda: u(-3, 3),
    "log_ndtr": lambda: u(-6, 4),
    "ndtri": lambda: u(0.05, 0.95),
    "gamma": lambda: u(0.5, 4),
    "gammaln": lambda: u(0.5, 6),
    "digamma": lambda: u(0.5, 6),
    "psi": lambda: u(0.5, 6),
    "entr": lambda: u(0.2, 3),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_dispatch_and_grads(name):
    fn = getattr(ss, name)
    x = UNARY[name]()
    check(lambda x: fn(x), x)
    # the traced call records chainrule's primitive and computes SciPy's value
    out, _ = cr.vjp(lambda x: fn(x), x)
    np.testing.assert_allclose(out, fn(x), rtol=1e-13)
    assert getattr(cs, name) is not None


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_batched(name):
    check_batched(getattr(cs, name), UNARY[name]())


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma(n):
    x = u(0.5, 4)
    check(lambda x: cs.polygamma(n, x), x)
    np.testing.assert_allclose(cs.polygamma(n, x), ss.polygamma(n, x))


def test_polygamma_array_order_and_batched():
    n, x = np.array([0, 1, 2]), u(0.5, 3, (2, 3))
    check(lambda x: cs.polygamma(n, x), x)
    check_batched(lambda x: cs.polygamma(n, x), x)


def test_digamma_chain_to_high_order():
    """gammaln'' = polygamma(1), gammaln''' = polygamma(2): each rule differentiates again."""
    x = np.array(2.5)
    d3 = cr.grad(cr.grad(cr.grad(lambda x: ss.gammaln(x))))(x)
    np.testing.assert_allclose(d3, ss.polygamma(2, 2.5), rtol=1e-12)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_binary(name):
    fn = getattr(ss, name)
    x, y = u(0.2, 2, (3, 2)), u(0.5, 2, (2,))
    check(lambda x, y: fn(x, y), x, y)
    check_batched(lambda x, y: fn(x, y), x, y)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_binary_zero_x_gives_zero_y_gradient(name):
    fn = getattr(ss, name)
    x, y = np.array([0.0, 1.0]), np.array([0.0, 2.0]) if name == "xlogy" else np.array([-1.0, 2.0])
    gy = cr.grad(lambda y: np.sum(fn(x, y)))(y)
    assert gy[0] == 0.0 and np.isfinite(gy[1])


# ---------------------------------------------------------------- logsumexp / softmax / log_softmax
COMPOSITES = {
    "logsumexp all": (lambda x: cs.logsumexp(x), (u(-2, 2, (3, 4)),)),
    "logsumexp axis": (lambda x: cs.logsumexp(x, axis=1), (u(-2, 2, (3, 4)),)),
    "logsumexp axes keepdims": (lambda x: cs.logsumexp(x, axis=(0, 2), keepdims=True),
                                (u(-2, 2, (2, 3, 2)),)),
    "logsumexp b": (lambda x, b: cs.logsumexp(x, axis=0, b=b), (u(-2, 2, (3, 4)), u(0.5, 2, (3, 1)))),
    "logsumexp return_sign": (lambda x, b: cs.logsumexp(x, axis=-1, b=b, return_sign=True)[0],
                              (u(-2, 2, (3, 4)), np.array([1.0, -0.5, 2.0, -0.2]))),
    "softmax all": (lambda x: cs.softmax(x), (u(-2, 2, (3, 4)),)),
    "softmax axis": (lambda x: cs.softmax(x, axis=-1), (u(-2, 2, (3, 4)),)),
    "log_softmax axis": (lambda x: cs.log_softmax(x, axis=0), (u(-2, 2, (3, 4)),)),
    "log_softmax all": (lambda x: cs.log_softmax(x), (u(-2, 2, (5,)),)),
}


@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composites(name):
    f, args = COMPOSITES[name]
    check(f, *args)
    check_batched(f, *args)


def test_composite_values_match_scipy():
    x, b, bs = u(-3, 3, (3, 4)), u(0.1, 2, (4,)), u(-1, 2, (4,))
    for kw in ({}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": 1, "b": b},
               {"axis": 1, "b": bs, "return_sign": True}, {"axis": None, "b": bs, "return_sign": True}):
        got, want = cs.logsumexp(x, **kw), ss.logsumexp(x, **kw)
        for g_, w_ in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                          np.atleast_1d(want) if not isinstance(want, tuple) else want, strict=True):
            np.testing.assert_allclose(g_, w_, rtol=1e-13)
    for axis in (None, 0, 1):
        np.testing.assert_allclose(cs.softmax(x, axis=axis), ss.softmax(x, axis=axis), rtol=1e-13)
        np.testing.assert_allclose(cs.log_softmax(x, axis=axis), ss.log_softmax(x, axis=axis), rtol=1e-13)


def test_logsumexp_stable_at_large_magnitudes():
    x = np.array([1000.0, -1000.0, 999.0, 1000.0])
    v, g = cr.value_and_grad(lambda x: cs.logsumexp(x))(x)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    np.testing.assert_allclose(v, ss.logsumexp(x))
    np.testing.assert_allclose(g, ss.softmax(x))  # exact gradient: the softmax
    xn = -x
    v, g = cr.value_and_grad(lambda x: cs.logsumexp(x))(xn)
    assert np.isfinite(v) and np.all(np.isfinite(g))
    np.testing.assert_allclose(g, ss.softmax(xn))
    h = cr.hessian(lambda x: cs.logsumexp(x))(x)
    s = ss.softmax(x)
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), atol=1e-15)
    # weights of zero do not take part in the shift (nor overflow)
    big, mask = np.array([1000.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])
    np.testing.assert_allclose(cs.logsumexp(big, b=mask), ss.logsumexp(big, b=mask))
    g = cr.grad(lambda x: cs.logsumexp(x, b=mask))(big)
    np.testing.assert_allclose(g, [0.0, *ss.softmax(big[1:])])
    gb = cr.grad(lambda b: cs.logsumexp(np.array([1.0, 2.0]), b=b))(np.array([0.0, 1.0]))
    np.testing.assert_allclose(gb, np.exp(np.array([1.0, 2.0]) - 2.0))  # d/db at a zero weight too
    # softmax / log_softmax stay finite too
    g = cr.grad(lambda x: np.sum(cs.log_softmax(x) * np.arange(4.0)))(x)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(cs.softmax(x)))


def test_softmax_jacobian_rows_and_columns_sum_to_zero():
    x = u(-2, 2, (5,))
    jac = cr.jacobian(lambda x: cs.softmax(x))(x)
    np.testing.assert_allclose(jac.sum(axis=1), 0.0, atol=1e-15)  # shift invariance
    np.testing.assert_allclose(jac.sum(axis=0), 0.0, atol=1e-15)  # outputs sum to one
    s = ss.softmax(x)
    np.testing.assert_allclose(jac, np.diag(s) - np.outer(s, s), atol=1e-15)
    jac2 = cr.jacobian(lambda x: cs.softmax(x, axis=-1), mode="fwd")(u(-2, 2, (2, 3)))
    np.testing.assert_allclose(jac2.sum(axis=(-2, -1)), 0.0, atol=1e-15)


# ---------------------------------------------------------------- torch as an independent oracle
def test_against_torch():
    torch = pytest.importorskip("torch")
    x, w = u(-2, 2, (3, 4)), rng.standard_normal((3, 4))
    xp = u(0.5, 4, (3, 4))
    tw = torch.tensor(w)

    def cmp(ours, theirs, arr):
        got = cr.grad(ours)(arr)
        t = torch.tensor(arr, dtype=torch.float64, requires_grad=True)
        theirs(t).backward()
        # torch.polygamma and friends use series approximations good to ~1e-9
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-8, atol=1e-12)

    cmp(lambda x: np.sum(cs.logsumexp(x, axis=1) * w[:, 0]),
        lambda x: torch.sum(torch.logsumexp(x, dim=1) * tw[:, 0]), x)
    cmp(lambda x: np.sum(cs.softmax(x, axis=1) * w), lambda x: torch.sum(torch.softmax(x, 1) * tw), x)
    cmp(lambda x: np.sum(cs.log_softmax(x, axis=0) * w), lambda x: torch.sum(torch.log_softmax(x, 0) * tw), x)
    cmp(lambda x: np.sum(ss.digamma(x) * w), lambda x: torch.sum(torch.digamma(x) * tw), xp)
    cmp(lambda x: np.sum(ss.gammaln(x) * w), lambda x: torch.sum(torch.lgamma(x) * tw), xp)
    cmp(lambda x: np.sum(ss.erf(x) * w), lambda x: torch.sum(torch.erf(x) * tw), x)
    cmp(lambda x: np.sum(ss.erfinv(x / 3) * w), lambda x: torch.sum(torch.erfinv(x / 3) * tw), x)
    cmp(lambda x: np.sum(ss.expit(x) * w), lambda x: torch.sum(torch.sigmoid(x) * tw), x)
    cmp(lambda x: np.sum(ss.xlogy(x, xp) * w), lambda x: torch.sum(torch.xlogy(x, torch.tensor(xp)) * tw), x)
    cmp(lambda x: np.sum(cs.polygamma(2, x) * w), lambda x: torch.sum(torch.polygamma(2, x) * tw), xp)
    cmp(lambda x: np.sum(ss.log_ndtr(x) * w), lambda x: torch.sum(torch.special.log_ndtr(x) * tw), x)


# ---------------------------------------------------------------- errors and namespaces
def test_errors():
    with pytest.raises(TypeError, match="constant"):
        cr.grad(lambda n: np.sum(cs.polygamma(n, np.array([1.5]))))(np.array(1.0))
    with pytest.raises(ValueError, match="integer"):
        cs.polygamma(1.5, np.array([2.0]))
    with pytest.raises(NotImplementedError, match="complex"):
        cs.logsumexp(np.array([1.0 + 1j]))
    with pytest.raises(NotImplementedError, match="complex"):
        cs.softmax(np.array([1.0 + 1j]))


def test_namespaces():
    for name in cs.__all__:
        assert callable(getattr(cs, name)), name
    # scipy names do not leak into chainrule.numpy
    assert not hasattr(cnp, "gammaln") and not hasattr(cnp, "logsumexp")
