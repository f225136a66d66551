"""NaN-aware functions and weighted logsumexp (issue 12, item 12).

* ``fmax``/``fmin`` ignore a NaN: ``fmax(x, nan) = x``, so the whole derivative goes to ``x``
  (JAX and PyTorch agree); two NaNs give NaN and share it like a tie. ``maximum``/``minimum``
  propagate a NaN, which then carries no derivative to either side.
* ``nansum``/``nanmean`` give NumPy's value and dtype (``dtype=`` honoured, float32 kept) and
  no derivative to a NaN entry.
* ``logsumexp(a, b=b)`` with a traced ``b`` is finite wherever SciPy's value is, with the
  derivatives ``b exp(a - lse)`` and ``exp(a - lse)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as ss
from helpers import check_batched

import chainrule.scipy.special as csp
from chainrule import grad, hessian, jacfwd, jacrev, jvp, vjp

NAN = np.nan
#              x      y      fmax: d/dx, d/dy   fmin: d/dx, d/dy
FMAX_CASES = [(1.0, NAN, (1.0, 0.0), (1.0, 0.0)),
              (NAN, 1.0, (0.0, 1.0), (0.0, 1.0)),
              (NAN, NAN, (0.5, 0.5), (0.5, 0.5)),
              (2.0, 1.0, (1.0, 0.0), (0.0, 1.0)),
              (1.0, 2.0, (0.0, 1.0), (1.0, 0.0)),
              (1.0, 1.0, (0.5, 0.5), (0.5, 0.5)),
              (-np.inf, NAN, (1.0, 0.0), (1.0, 0.0))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_send_the_derivative_to_the_number(name, dtype):
    fn = getattr(np, name)
    col = 2 if name == "fmax" else 3
    x = np.array([c[0] for c in FMAX_CASES], dtype=dtype)
    y = np.array([c[1] for c in FMAX_CASES], dtype=dtype)
    want_x = np.array([c[col][0] for c in FMAX_CASES], dtype=dtype)
    want_y = np.array([c[col][1] for c in FMAX_CASES], dtype=dtype)
    gx, gy = grad(lambda x, y: np.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, want_x)
    np.testing.assert_array_equal(gy, want_y)
    assert gx.dtype == dtype and gy.dtype == dtype
    # forward mode, each argument alone and both, and a Python-float NaN as the other argument
    _, tx = jvp(lambda x: fn(x, y), (x,), (np.ones_like(x),))
    _, ty = jvp(lambda y: fn(x, y), (y,), (np.ones_like(y),))
    np.testing.assert_array_equal(tx, want_x)
    np.testing.assert_array_equal(ty, want_y)
    assert grad(lambda x: fn(x, NAN))(2.0) == 1.0 and grad(lambda y: fn(NAN, y))(2.0) == 1.0
    assert grad(lambda x: fn(x, 3.0))(NAN) == 0.0
    # second order: piecewise linear, so the Hessian is zero (and not NaN) at every case
    h = hessian(lambda v: np.sum(fn(v[:7], v[7:])))(np.concatenate([x, y]).astype(np.float64))
    np.testing.assert_array_equal(h, 0.0)
    check_batched(lambda x, y: fn(x, y), x.astype(np.float64), y.astype(np.float64))


def test_fmax_fmin_agree_with_torch_off_ties():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = rng.normal(size=40)
    x[::3] = NAN
    y[1::4] = NAN
    keep = ~(np.isnan(x) & np.isnan(y))  # PyTorch sends a NaN-NaN pair to x, chainrule shares it
    for name in ("fmax", "fmin"):
        gx, gy = grad(lambda x, y, f=getattr(np, name): np.sum(f(x, y)), argnums=(0, 1))(x, y)
        tx = torch.tensor(x, requires_grad=True)
        ty = torch.tensor(y, requires_grad=True)
        getattr(torch, name)(tx, ty).sum().backward()
        np.testing.assert_array_equal(gx[keep], tx.grad.numpy()[keep])
        np.testing.assert_array_equal(gy[keep], ty.grad.numpy()[keep])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_a_nan_propagates_and_carries_no_derivative(name):
    fn = getattr(np, name)
    x = np.array([1.0, NAN, NAN, 2.0], dtype=np.float32)
    y = np.array([NAN, 1.0, NAN, 2.0], dtype=np.float32)
    gx, gy = grad(lambda x, y: np.sum(fn(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0, 0.5])
    np.testing.assert_array_equal(gy, [0.0, 0.0, 0.0, 0.5])
    assert gx.dtype == np.float32  # was float64: bool + 0.5 * bool


def _nan_data(dtype):
    return np.array([[1.0, NAN, 3.0, -2.0], [NAN, NAN, NAN, NAN], [0.5, 2.0, NAN, 4.0]], dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": 0, "keepdims": True},
                                {"dtype": np.float64}, {"axis": 1, "dtype": np.float32}])
def test_nansum_nanmean_value_dtype_and_gradient(name, kw, dtype):
    fn = getattr(np, name)
    x = _nan_data(dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "mean of empty slice"
        want = fn(x, **kw)
        out, f_vjp = vjp(lambda x: fn(x, **kw), x)
        (g,) = f_vjp(np.ones_like(want))
    np.testing.assert_array_equal(out, want)
    assert np.asarray(out).dtype == np.asarray(want).dtype
    assert g.dtype == dtype
    # d/dx: 0 at every NaN entry; 1 (nansum) or 1/count of the entry's slice (nanmean) elsewhere
    ok = ~np.isnan(x)
    if name == "nansum":
        expect = ok.astype(dtype)
    else:
        axis = kw.get("axis")
        count = np.sum(ok, axis=axis, keepdims=True)
        expect = np.where(ok, 1.0 / np.maximum(count, 1), 0.0).astype(dtype)
    np.testing.assert_allclose(g, expect, rtol=1e-6)


# --------------------------------------------------------------- logsumexp with traced weights
LSE_CASES = [
    ([1000.0, 0.0, 1.0], [0.0, 1.0, 2.0]),     # the largest a has weight 0 (was nan)
    ([0.0, -1000.0], [0.0, 1.0]),              # everything else would underflow under max(a)
    ([1000.0, 999.0], [1.0, 2.0]),             # large a, all weights nonzero
    ([1.0, 3.0, -2.0, 0.5], [0.0, 1.0, 2.0, 0.5]),
    ([2.0, 800.0, -800.0], [0.5, 0.0, 3.0]),
]


@pytest.mark.parametrize("a, b", LSE_CASES)
def test_logsumexp_traced_weights_finite_with_exact_gradients(a, b):
    a, b = np.array(a), np.array(b)
    lse = ss.logsumexp(a, b=b)
    assert np.isfinite(lse)
    f = lambda a, b: csp.logsumexp(a, b=b)  # noqa: E731
    with np.errstate(over="ignore"):
        want_a, want_b = b * np.exp(np.where(b != 0, a - lse, 0.0)), np.exp(a - lse)
        value, _ = vjp(f, a, b)
        ga, gb = grad(f, argnums=(0, 1))(a, b)
        gb_alone = grad(lambda b: f(a, b))(b)
        _, t = jvp(f, (a, b), (np.ones_like(a), np.ones_like(b)))
    np.testing.assert_allclose(value, lse, rtol=1e-14)
    np.testing.assert_allclose(ga, want_a, rtol=1e-12)
    np.testing.assert_allclose(gb, want_b, rtol=1e-12)  # inf where exp(a_k - lse) overflows
    np.testing.assert_allclose(gb_alone, want_b, rtol=1e-12)
    assert np.isfinite(ga).all() and not np.isnan(gb).any()
    if np.isfinite(want_b).all():
        np.testing.assert_allclose(t, np.sum(want_a) + np.sum(want_b), rtol=1e-12)


def test_logsumexp_traced_weights_second_order_and_batched():
    a = np.array([1.0, 3.0, -2.0, 0.5])
    b = np.array([0.0, 1.0, 2.0, 0.5])
    f = lambda v: csp.logsumexp(v[:4], b=v[4:])  # noqa: E731
    v = np.concatenate([a, b])
    eps = 1e-5
    h_fd = np.array([(grad(f)(v + eps * e) - grad(f)(v - eps * e)) / (2 * eps) for e in np.eye(8)])
    np.testing.assert_allclose(hessian(f)(v), h_fd, atol=1e-8)
    np.testing.assert_allclose(jacfwd(grad(f))(v), h_fd, atol=1e-8)
    np.testing.assert_allclose(jacrev(grad(f))(v), h_fd, atol=1e-8)
    check_batched(lambda a, b: csp.logsumexp(a, b=b), a, b)
    # zero weights on the largest entries (finite derivatives: the comparison needs them)
    a2 = np.array([[30.0, 0.0, 1.0], [2.0, 40.0, -8.0]])
    b2 = np.array([[0.0, 1.0, 2.0], [0.5, 0.0, 3.0]])
    check_batched(lambda a, b: csp.logsumexp(a, b=b, axis=1), a2, b2)


def test_logsumexp_traced_weights_broadcast_against_a():
    a = np.array([[1000.0, 0.0], [1.0, 2.0]])
    b = np.array([1.0, 0.0])  # broadcast along rows
    lse = ss.logsumexp(a, b=b, axis=1)
    np.testing.assert_allclose(csp.logsumexp(a, b=b, axis=1), lse)
    with np.errstate(over="ignore"):
        ga, gb = grad(lambda a, b: np.sum(csp.logsumexp(a, b=b, axis=1)), argnums=(0, 1))(a, b)
        want_b = np.sum(np.exp(a - lse[:, None]), axis=0)
    np.testing.assert_allclose(ga, b * np.exp(a - lse[:, None]))
    np.testing.assert_allclose(gb, want_b)


@pytest.mark.parametrize("shape, axis",
                         [((0,), None), ((0,), -1), ((2, 0), -1), ((0, 3), -1), ((2, 0), None)])
def test_logsumexp_of_an_empty_sum_is_minus_inf(shape, axis):
    """As SciPy: log of an empty sum is -inf (chainrule raised a reshape error)."""
    x = np.zeros(shape, dtype=np.float32)
    want = np.full(np.sum(x, axis=axis).shape, -np.inf, dtype=np.float32)
    with np.errstate(divide="ignore"):  # log(0), as SciPy computes it
        got = csp.logsumexp(x, axis=axis)
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype == np.float32
        if shape[-1] == 0 and axis is not None:
            np.testing.assert_array_equal(got, ss.logsumexp(x, axis=axis))


MEDIAN_CASES = [np.array([1.0, NAN, 3.0, 2.0]), np.array([[1.0, 2.0, np.inf], [NAN, NAN, 1.0]]),
                np.array([[1.0, NAN], [3.0, 2.0]]), np.array([[1.0, 5.0, 2.0], [0.5, NAN, 4.0]], np.float32),
                np.array([3.0, 1.0, 2.0])]


@pytest.mark.parametrize("k", range(len(MEDIAN_CASES)))
@pytest.mark.parametrize("kw", [{}, {"axis": -1}, {"axis": 0}, {"axis": 0, "keepdims": True}])
def test_median_of_a_slice_with_a_nan_is_nan(k, kw):
    """As NumPy (NaN sorts last, so the middle of [1, 2, 3, nan] was 2.5); the derivative of a
    NaN median goes to one NaN entry of its slice, of the others to the middle entries."""
    x = MEDIAN_CASES[k]
    want = np.median(x, **kw)
    value, f_vjp = vjp(lambda x: np.median(x, **kw), x)
    np.testing.assert_array_equal(value, want)
    assert np.asarray(value).dtype == np.asarray(want).dtype
    (g,) = f_vjp(np.ones_like(want))
    axis = kw.get("axis")
    # each slice passes a total derivative of 1: to NaN entries where its median is NaN
    per_slice = np.sum(g, axis=axis) if axis is not None else np.sum(g)
    np.testing.assert_allclose(per_slice, 1.0)
    nan_slices = np.isnan(np.median(x, axis=axis, keepdims=True))
    np.testing.assert_array_equal(g[np.broadcast_to(nan_slices, x.shape) & ~np.isnan(x)], 0.0)


CUMPROD_CASES = [np.array([1e200, 1e200, 1e-200, 1e-200]), np.array([np.inf, 0.0, 2.0, 3.0]),
                 np.array([[1e308, 1e308, -1e308], [1e-308, 5e-324, 0.0]]), np.array([2.0, 0.0, 3.0, 4.0])]


@pytest.mark.parametrize("k", range(len(CUMPROD_CASES)))
def test_cumprod_value_is_numpys_past_overflow_and_zeros(k):
    """The exact scan multiplies in another order than NumPy's running product, so past an
    overflow its values differed ([1e200, 1e200, 1e-200] gave 1e200 where NumPy has inf)."""
    x = CUMPROD_CASES[k]
    with np.errstate(all="ignore"):
        value, f_vjp = vjp(np.cumprod, x)
        np.testing.assert_array_equal(value, np.cumprod(x))
        f_vjp(np.ones_like(value))  # and its derivative still runs
    x = np.array([2.0, 0.0, 3.0, 4.0])
    np.testing.assert_allclose(grad(lambda x: np.sum(np.cumprod(x)))(x), [1.0, 32.0, 0.0, 0.0])


@pytest.mark.parametrize("x", [[1.0, np.inf, 0.0], [-np.inf, -np.inf], [1.0, -np.inf, 2.0], [1000.0, 1.0],
                               [[np.inf, -1.0], [0.5, 2.0]]])
def test_softmax_with_infinities_as_scipy(x):
    """SciPy's softmax is NaN throughout a slice holding +inf (it shifts by the max as it is);
    chainrule shifted by 0 there and gave [0, nan, 0]."""
    x = np.array(x)
    with np.errstate(invalid="ignore", divide="ignore"):  # log(0) and inf - inf, as SciPy computes
        for axis in (None, -1):
            np.testing.assert_array_equal(vjp(lambda x, a=axis: csp.softmax(x, axis=a), x)[0],
                                          ss.softmax(x, axis=axis))
            np.testing.assert_array_equal(vjp(lambda x, a=axis: csp.log_softmax(x, axis=a), x)[0],
                                          ss.log_softmax(x, axis=axis))


@pytest.mark.parametrize("shape, axis", [((2, 0), 0), ((2, 0), 1), ((0, 3), 0), ((0, 3), 1)])
def test_median_of_empty_slices(shape, axis):
    x = np.zeros(shape)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(vjp(lambda x: np.median(x, axis=axis), x)[0], np.median(x, axis=axis))


NAN_FAMILY = {
    "nanmax": np.nanmax, "nanmin": np.nanmin, "nanprod": np.nanprod, "nancumsum": np.nancumsum,
    "nancumprod": np.nancumprod, "nanvar": np.nanvar, "nanstd": np.nanstd,
}
NAN_KWARGS = [{}, {"axis": 1}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": 1, "ddof": 1},
              {"axis": 1, "ddof": 3}, {"axis": 0, "dtype": np.float64}]


def _applies(name, kw):
    if "cum" in name and ("keepdims" in kw or "ddof" in kw):
        return False
    if "ddof" in kw and name not in ("nanvar", "nanstd"):
        return False
    return not ("dtype" in kw and name in ("nanmax", "nanmin"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(NAN_FAMILY))
def test_the_nan_family_matches_numpy_and_gives_nans_no_derivative(name, dtype):
    """nanmax, nanmin, nanprod, nancumsum, nancumprod, nanvar, nanstd (NoRuleError before):
    NumPy's values and dtypes, an all-NaN slice (or too few numbers for ddof) NaN, and no
    derivative to a NaN entry."""
    fn = NAN_FAMILY[name]
    x = _nan_data(dtype)
    for kw in NAN_KWARGS:
        if not _applies(name, kw):
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            want = fn(x, **kw)
            value, f_vjp = vjp(lambda x, kw=kw: fn(x, **kw), x)
            (g,) = f_vjp(np.ones_like(want))
        np.testing.assert_allclose(value, want, rtol=1e-6, err_msg=f"{name} {kw}")
        assert np.asarray(value).dtype == np.asarray(want).dtype, (name, kw)
        assert g.dtype == dtype
        np.testing.assert_array_equal(g[np.isnan(x)], 0.0)


@pytest.mark.parametrize("name", sorted(NAN_FAMILY))
def test_the_nan_family_derivatives(name):
    """Central differences, both modes, second order and batched, on slices that hold at least
    two numbers (a standard deviation of one number has an infinite derivative)."""
    from chainrule import check_grads
    fn = NAN_FAMILY[name]
    x = np.array([[1.0, NAN, 3.0, -2.0], [0.3, 2.5, 1.5, NAN], [0.5, 2.0, NAN, 4.0]])
    for kw in ({}, {"axis": 1}, {"axis": 0}):
        check_grads(lambda x, kw=kw: fn(x, **kw), order=2)(x)
