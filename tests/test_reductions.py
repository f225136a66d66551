"""Reductions and scans: derivatives to second order in both modes, batching, ties, zeros."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_batched
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule
import chainrule.numpy as cnp
from chainrule.gradcheck import check_grads


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def value(f, *args):
    """The output of ``f`` computed on traced inputs (what a transform sees)."""
    return chainrule.vjp(f, *args)[0]


AXES = [None, 0, -1, 1, (0, 2), (-1, 0), (0, 1, 2)]

REDUCTIONS = {
    "sum": cnp.sum, "mean": cnp.mean, "prod": cnp.prod, "max": cnp.max, "min": cnp.min,
    "amax": cnp.amax, "amin": cnp.amin, "ptp": cnp.ptp, "var": cnp.var, "std": cnp.std,
    "median": cnp.median, "nansum": cnp.nansum, "nanmean": cnp.nanmean,
}


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_grads(name, axis, keepdims):
    fn = REDUCTIONS[name]
    x = rand(2, 3, 4, seed=1)
    f = lambda x: fn(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(value(f, x), getattr(np, name)(x, axis=axis, keepdims=keepdims),
                               rtol=1e-12)
    check_grads(f, modes=("fwd", "rev"), order=2)(x)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_std_ddof(ddof):
    x = rand(4, 5, seed=2)
    for fn, ref in ((cnp.var, np.var), (cnp.std, np.std)):
        f = lambda x, fn=fn: fn(x, axis=1, ddof=ddof)
        np.testing.assert_allclose(value(f, x), ref(x, axis=1, ddof=ddof))
        check_grads(f, order=2)(x)
    np.testing.assert_allclose(value(lambda x: cnp.var(x, correction=1), x), np.var(x, ddof=1))


@pytest.mark.parametrize("axis", [None, 0, 1, -1, -3])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans(name, axis):
    x = rand(3, 2, 5, seed=3)
    f = lambda x: getattr(cnp, name)(x, axis=axis)
    np.testing.assert_allclose(value(f, x), getattr(np, name)(x, axis=axis), rtol=1e-12)
    check_grads(f, order=2)(x)


def test_cumulative_sum_prod_include_initial():
    x = rand(3, 4, seed=4)
    for name in ("cumulative_sum", "cumulative_prod"):
        f = lambda x, name=name: getattr(cnp, name)(x, axis=1, include_initial=True)
        np.testing.assert_allclose(value(f, x), getattr(np, name)(x, axis=1, include_initial=True))
        check_grads(f, order=2)(x)


@pytest.mark.parametrize("case", ["none", "same_shape", "1d_axis0", "1d_axis-1"])
def test_average(case):
    x = rand(3, 4, seed=5)
    w = {"none": None, "same_shape": np.abs(rand(3, 4, seed=6)) + 0.1,
         "1d_axis0": np.arange(1.0, 4.0), "1d_axis-1": np.arange(1.0, 5.0)}[case]
    axis = {"none": 1, "same_shape": 0, "1d_axis0": 0, "1d_axis-1": -1}[case]
    f = lambda x: cnp.average(x, axis=axis, weights=w)
    np.testing.assert_allclose(value(f, x), np.average(x, axis=axis, weights=w))
    check_grads(f, order=2)(x)
    # traced weights are differentiable too
    if w is not None:
        check_grads(lambda x, w: cnp.average(x, axis=axis, weights=w), order=2)(x, w)
        r, s = cnp.average(x, axis=axis, weights=w, returned=True)
        ref_r, ref_s = np.average(x, axis=axis, weights=w, returned=True)
        np.testing.assert_allclose(r, ref_r)
        np.testing.assert_allclose(s, ref_s)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_median_even_odd(n):
    x = rand(n, 3, seed=n)
    for axis in (0, 1, None):
        f = lambda x, axis=axis: cnp.median(x, axis=axis)
        np.testing.assert_allclose(value(f, x), np.median(x, axis=axis))
        check_grads(f, order=2)(x)


def test_sum_initial_and_max_initial():
    x = rand(3, 4)
    np.testing.assert_allclose(value(lambda x: cnp.sum(x, axis=0, initial=2.0), x),
                               np.sum(x, axis=0, initial=2.0))
    np.testing.assert_allclose(value(lambda x: cnp.max(x, axis=0, initial=0.5), x),
                               np.max(x, axis=0, initial=0.5))
    check_grads(lambda x: cnp.max(x, axis=0, initial=0.5), order=2)(x)


def test_broadcasting_inside_reductions():
    x, y = rand(3, 1, 4, seed=7), rand(5, 1, seed=8)
    check_grads(lambda x, y: cnp.prod(x * y, axis=(0, -1)), order=2)(x, y)
    check_grads(lambda x, y: cnp.max(x + y, axis=1, keepdims=True), order=2)(x, y)
    check_grads(lambda x, y: cnp.cumsum(x * y, axis=1), order=2)(x, y)
    check_grads(lambda x, y: cnp.var(x - y, axis=(0, 1)), order=2)(x, y)


def test_scalar_input_axis_zero():
    x = np.array(1.5)
    assert value(lambda x: cnp.sum(x, axis=0), x) == 1.5
    check_grads(lambda x: cnp.sum(x * x, axis=-1), order=2)(x)
    check_grads(lambda x: cnp.prod(x * x), order=2)(x)
    check_batched(lambda x: cnp.max(x * x, axis=0), x)


# ---------------------------------------------------------------- batched passes
@pytest.mark.parametrize("f", [
    lambda x: cnp.sum(x, axis=(0, 2)),
    lambda x: cnp.sum(x, axis=1, keepdims=True),
    lambda x: cnp.max(x, axis=1),
    lambda x: cnp.min(x, axis=(0, 2), keepdims=True),
    lambda x: cnp.prod(x, axis=-1),
    lambda x: cnp.prod(x * (x > 0), axis=(0, 1)),   # zeros: the exact path
    lambda x: cnp.cumsum(x, axis=1),
    lambda x: cnp.cumprod(x, axis=0),
    lambda x: cnp.cumprod(x * (x > 0), axis=-1),
    lambda x: cnp.var(x, axis=0, ddof=1),
    lambda x: cnp.median(x, axis=-1),
], ids=["sum", "sum_keep", "max", "min_keep", "prod", "prod_zeros", "cumsum", "cumprod", "cumprod_zeros",
        "var", "median"])
def test_batched(f):
    check_batched(f, rand(2, 3, 4, seed=9))


def test_batched_higher_order():
    # The rules recorded inside a backward pass must batch too (a Hessian is one pass).
    x = rand(2, 3, seed=10)
    x[0, 1] = 0.0
    for fn in (lambda x: cnp.prod(x, axis=1), lambda x: cnp.max(x, axis=0), cnp.cumprod):
        w = rand(*np.shape(fn(x)), seed=11)
        check_batched(lambda x, fn=fn, w=w: chainrule.grad(lambda x: cnp.sum(w * fn(x) ** 2))(x), x)


# ---------------------------------------------------------------- ties in max/min
def test_max_ties_split_evenly():
    g = chainrule.grad(lambda x: cnp.max(x))(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])
    g = chainrule.grad(lambda x: cnp.min(x))(np.array([1.0, 1.0, 1.0, 2.0]))
    np.testing.assert_array_equal(g, [1 / 3, 1 / 3, 1 / 3, 0.0])
    x = np.array([[1.0, 5.0, 5.0], [2.0, 2.0, 0.0]])
    g = chainrule.grad(lambda x: cnp.sum(cnp.max(x, axis=1) * np.array([1.0, 10.0])))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.5, 0.5], [5.0, 5.0, 0.0]])
    g = chainrule.grad(lambda x: cnp.sum(cnp.amin(x, axis=0, keepdims=True)))(x)
    np.testing.assert_array_equal(g, [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    # forward mode agrees: the tangent is the average over the tied elements
    _, t = chainrule.jvp(lambda x: cnp.max(x), (np.array([3.0, 1.0, 3.0]),), (np.array([1.0, 7.0, 0.0]),))
    assert t == 0.5


def test_max_ties_match_jax():
    jax = pytest.importorskip("jax")
    # small integers: exact in float32, so JAX's default precision is enough
    x = np.array([[1.0, 4.0, 4.0, 4.0], [0.0, 0.0, -1.0, 0.0]])
    for axis in (0, 1, None):
        ours = chainrule.grad(lambda x, axis=axis: cnp.sum(cnp.max(x, axis=axis) ** 2))(x)
        ref = jax.grad(lambda x, axis=axis: (jax.numpy.max(x, axis=axis) ** 2).sum())(x)
        np.testing.assert_allclose(ours, np.asarray(ref), rtol=1e-6)


# ---------------------------------------------------------------- zeros in prod / cumprod
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("zeros", [[], [(0, 1)], [(0, 1), (1, 2)], [(0, 1), (0, 3)]])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_with_zeros_matches_torch(zeros, axis):
    torch = _torch()
    x = rand(2, 4, seed=11)
    for z in zeros:
        x[z] = 0.0
    w = rand(*np.shape(np.prod(x, axis=axis)), seed=12)
    f = lambda x: cnp.sum(w * cnp.prod(x, axis=axis))

    def ft(xt):
        p = torch.prod(xt) if axis is None else torch.prod(xt, dim=axis)
        return (torch.tensor(w) * p).sum()

    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(ft(xt), xt, create_graph=True)
    np.testing.assert_allclose(chainrule.grad(f)(x), gt.detach().numpy(), rtol=1e-12, atol=1e-15)
    # second order: one Hessian row against torch's double backward
    (ht,) = torch.autograd.grad(gt[0, 0], xt)
    h = chainrule.grad(lambda x: chainrule.grad(f)(x)[0, 0])(x)
    np.testing.assert_allclose(h, ht.numpy(), rtol=1e-12, atol=1e-15)
    check_grads(f, order=2)(x)


@pytest.mark.parametrize("zeros", [[], [(0, 0)], [(0, 1), (0, 3)], [(1, 2), (0, 2)]])
@pytest.mark.parametrize("axis", [0, 1])
def test_cumprod_with_zeros_matches_torch(zeros, axis):
    torch = _torch()
    x = rand(2, 5, seed=13)
    for z in zeros:
        x[z] = 0.0
    w = rand(2, 5, seed=14)
    f = lambda x: cnp.sum(w * cnp.cumprod(x, axis=axis))
    ft = lambda xt: (torch.tensor(w) * torch.cumprod(xt, dim=axis)).sum()
    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(ft(xt), xt, create_graph=True)
    np.testing.assert_allclose(chainrule.grad(f)(x), gt.detach().numpy(), rtol=1e-12, atol=1e-14)
    (ht,) = torch.autograd.grad(gt[1, 1], xt)
    h = chainrule.grad(lambda x: chainrule.grad(f)(x)[1, 1])(x)
    np.testing.assert_allclose(h, ht.numpy(), rtol=1e-12, atol=1e-14)
    check_grads(f, order=2)(x)


def test_prod_zero_gradient_exact_values():
    g = chainrule.grad(cnp.prod)(np.array([2.0, 0.0, 3.0, 4.0]))
    np.testing.assert_array_equal(g, [0.0, 24.0, 0.0, 0.0])
    g = chainrule.grad(cnp.prod)(np.array([2.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.0])
    # d2 prod / dx1 dx3 = 2 * 3 at a point with two zeros
    h = chainrule.grad(lambda x: chainrule.grad(cnp.prod)(x)[1])(np.array([2.0, 0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(h, [0.0, 0.0, 0.0, 6.0])
    # a product that underflows to zero without a zero factor still gets the right gradient
    x = np.array([1e-200, 1e-200, 1e200])
    g = chainrule.grad(cnp.prod)(x)
    np.testing.assert_allclose(g[:2], [1.0, 1.0], rtol=1e-12)


def test_cumprod_third_order_with_zero():
    # d3/dx0 dx1 dx2 of sum(cumprod(x)) = 1 (from y_2 = x0 x1 x2), exact at x = 0
    f = lambda x: cnp.sum(cnp.cumprod(x))
    d1 = lambda x: chainrule.grad(f)(x)[0]
    d2 = lambda x: chainrule.grad(d1)(x)[1]
    d3 = chainrule.grad(d2)(np.zeros(4))
    np.testing.assert_array_equal(d3, [0.0, 0.0, 1.0, 0.0])


# ---------------------------------------------------------------- dispatch and methods
def test_plain_numpy_dispatch():
    x = rand(3, 4, seed=15)
    g = chainrule.grad(lambda x: np.sum(np.max(x, axis=0)))(x)
    ref = np.zeros_like(x)
    ref[np.argmax(x, axis=0), np.arange(4)] = 1.0
    np.testing.assert_array_equal(g, ref)
    for f in (lambda x: np.prod(x, axis=1), lambda x: np.amax(x, axis=1), lambda x: np.amin(x),
              lambda x: np.var(x, axis=0, ddof=1), lambda x: np.std(x, axis=(0, 1)),
              lambda x: np.cumsum(x, axis=1), lambda x: np.cumprod(x), lambda x: np.mean(x, 0),
              lambda x: np.ptp(x, axis=1), lambda x: np.average(x, axis=0, weights=np.ones(3)),
              lambda x: np.median(x, axis=0), lambda x: np.nansum(x),
              lambda x: np.cumulative_sum(x, axis=0)):
        check_grads(f, order=2)(x)


def test_methods():
    x = rand(3, 4, seed=16)
    for name, kw in [("sum", {"axis": 0}), ("mean", {"keepdims": True}), ("prod", {"axis": 1}),
                     ("max", {"axis": 1}), ("min", {}), ("var", {"ddof": 1}), ("std", {"axis": 0}),
                     ("cumsum", {"axis": 1}), ("cumprod", {})]:
        f = lambda x, name=name, kw=kw: getattr(x, name)(**kw)
        np.testing.assert_allclose(value(f, x), getattr(x, name)(**kw), rtol=1e-12)
        check_grads(f, order=2)(x)


def test_lists_of_traced_values():
    x = rand(3, seed=17)
    f = lambda x: cnp.sum([x[0], x[1] * x[2]]) + cnp.max([x[0], x[2]]) + cnp.prod((x[0], 2.0))
    check_grads(f, order=2)(x)


# ---------------------------------------------------------------- bad input
def test_bad_axis_errors():
    x = rand(2, 3)

    def traced(f):
        return lambda: chainrule.grad(lambda x: cnp.sum(f(x)))(x)

    with pytest.raises(np.exceptions.AxisError):
        traced(lambda x: cnp.sum(x, axis=2))()
    with pytest.raises(np.exceptions.AxisError):
        traced(lambda x: cnp.max(x, axis=(0, -3)))()
    with pytest.raises(np.exceptions.AxisError):
        traced(lambda x: cnp.cumsum(x, axis=5))()
    with pytest.raises(ValueError, match="duplicate"):
        traced(lambda x: cnp.prod(x, axis=(1, -1)))()
    with pytest.raises(TypeError, match="integer"):
        traced(lambda x: cnp.mean(x, axis=1.0))()
    with pytest.raises(TypeError, match="integer"):
        traced(lambda x: cnp.cumprod(x, axis=(0,)))()
    with pytest.raises(TypeError, match="unsupported"):
        traced(lambda x: cnp.sum(x, where=x > 0))()
    with pytest.raises(chainrule.core.errors.InPlaceError):
        traced(lambda x: np.sum(x, out=np.zeros(())))()
    with pytest.raises(TypeError, match="axis must be specified"):
        cnp.average(x, weights=np.ones(3))


# ---------------------------------------------------------------- property-based sweep
@st.composite
def reduction_cases(draw):
    nd = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axes = draw(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True))
        axis = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    name = draw(st.sampled_from(["sum", "mean", "prod", "max", "min", "var", "std", "ptp"]))
    keepdims = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return shape, axis, name, keepdims, seed


@settings(max_examples=60, deadline=None, derandomize=True)
@given(reduction_cases())
def test_reductions_random_shapes(case):
    shape, axis, name, keepdims, seed = case
    x = np.random.default_rng(seed).uniform(0.5, 1.5, shape) * np.where(
        np.random.default_rng(seed + 1).random(shape) < 0.5, -1.0, 1.0)
    n = int(np.prod([shape[a] for a in np.atleast_1d(axis)])) if axis is not None else x.size
    if name in ("std",) and n == 1:
        return  # the derivative of sqrt at a zero variance is infinite
    f = lambda x: getattr(cnp, name)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(value(f, x), getattr(np, name)(x, axis=axis, keepdims=keepdims),
                               rtol=1e-12, atol=1e-15)
    check_grads(f, modes=("fwd", "rev"), order=2)(x)
    check_batched(f, x)


@pytest.mark.parametrize("shape", [(25, 1000, 10), (1000, 10), (10, 1000), (3, 400, 5, 2), (2000, 3),
                                   (4, 300, 20)])
def test_sum_of_large_arrays_matches_numpy(shape):
    # large float arrays take BLAS paths for one short axis (rows @ ones, ones @ x): same sums
    x = np.random.default_rng(1).standard_normal(shape)
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        for ax in range(-len(shape), 0):
            for keepdims in (False, True):
                got = cnp.sum(xd, axis=ax, keepdims=keepdims)
                want = np.sum(xd, axis=ax, keepdims=keepdims)
                assert got.shape == want.shape and got.dtype == want.dtype
                np.testing.assert_allclose(got, want, rtol=1e-12 if dtype == np.float64 else 1e-5,
                                           atol=1e-10 if dtype == np.float64 else 1e-4)
    g = chainrule.grad(lambda x: cnp.sum(cnp.sum(x, axis=1) ** 2))(x)
    np.testing.assert_allclose(g, 2 * np.broadcast_to(np.sum(x, axis=1, keepdims=True), shape),
                               rtol=1e-12)


def test_std_over_one_element_is_a_constant():
    """std over an axis of length 1 is 0 whatever the values: gradient 0 in both modes and at
    second order (not sqrt'(0) * 0 = nan), as PyTorch and autograd; over several equal elements
    the variance is 0 at a kink and the gradient stays nan."""
    x = np.array([[1.0], [2.5]])
    assert np.array_equal(chainrule.grad(lambda x: cnp.std(x, axis=1).sum())(x), np.zeros_like(x))
    tangent = chainrule.jvp(lambda x: cnp.std(x, axis=-1, keepdims=True), (x,), (np.ones_like(x),))[1]
    assert np.array_equal(tangent, np.zeros_like(x))
    assert np.array_equal(chainrule.hessian(lambda v: cnp.std(v))(np.array([2.0])), [[0.0]])
    np.testing.assert_allclose(chainrule.grad(lambda x: cnp.std(x, axis=0).sum())(x), [[-0.5], [0.5]])
    with np.errstate(invalid="ignore"):
        assert np.isnan(chainrule.grad(lambda v: cnp.std(v))(np.array([2.0, 2.0]))).all()
