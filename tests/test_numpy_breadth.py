"""NumPy's breadth on traced arrays (issue 14 item 5): every ``np.pad`` mode, the ufuncs'
``.at`` (scatter) methods, quantiles with ``weights=`` and every ``method=``, and an audit of
the whole item's list: each function runs through ``chainrule.numpy`` and through plain
``numpy`` on traced arrays, equals NumPy's value, passes ``check_grads`` in both modes to
order 2 and gives the same Jacobian batched as row by row."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import check_batched

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import check_grads
from chainrule.core.errors import InPlaceError, TracerEscapeError


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def value(f, *args):
    """``f``'s value computed on traced arguments (the forward pass of a vjp)."""
    return cr.vjp(f, *args)[0]


def check(f, *args, eps=1e-6):
    check_grads(f, modes=("fwd", "rev"), order=2, eps=eps)(*args)
    check_batched(f, *args)


# ---------------------------------------------------------------- np.pad, every mode
WIDTHS = [0, 2, ((1, 0), (0, 3)), ((7, 1), (0, 9)), ((2, 2),), (1,)]
PAD_KWARGS = {
    "constant": [{}, {"constant_values": ((1.5, 2.0), (-3.0, 4.0))}, {"constant_values": 0.25}],
    "edge": [{}],
    "wrap": [{}],
    "reflect": [{}, {"reflect_type": "odd"}],
    "symmetric": [{}, {"reflect_type": "odd"}],
    "linear_ramp": [{}, {"end_values": (0.5, -1.0)}, {"end_values": ((1.0, 2.0), (3.0, 4.0))}],
    "maximum": [{}, {"stat_length": 2}, {"stat_length": ((1, 3), (2, 1))}, {"stat_length": 7}],
    "minimum": [{}, {"stat_length": 2}],
    "mean": [{}, {"stat_length": ((1, 3), (2, 1))}],
    "median": [{}, {"stat_length": 3}, {"stat_length": ((2, 1), (3, 2))}],
}
PAD_CASES = [(mode, i, w) for mode, kws in PAD_KWARGS.items() for i in range(len(kws))
             for w in range(len(WIDTHS))]


@pytest.mark.parametrize("mode, k, w", PAD_CASES)
def test_pad_values_equal_numpy_bit_for_bit(mode, k, w):
    """Every mode, width and keyword: NumPy's values exactly (the odd reflections repeat
    NumPy's ``2 e - x`` chunk by chunk, the ramps are NumPy's ``linspace`` arithmetic), on
    every shape of axis (one element, two, more), through both import styles."""
    kw, pw = PAD_KWARGS[mode][k], WIDTHS[w]
    for x in (rand(3, 4), rand(1, 2, seed=1), rand(2, 1, seed=2), rand(4, 5, seed=3)):
        want = np.pad(x, pw, mode=mode, **kw)
        for M in (cnp, np):
            got = value(lambda x, M=M: M.pad(x, pw, mode=mode, **kw), x)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode, k", [(m, i) for m, kws in PAD_KWARGS.items() for i in range(len(kws))])
def test_pad_derivatives_every_mode(mode, k):
    """Both modes to order 2 against central differences, and batched (a Jacobian in one
    pass), with widths larger than the axis (the repeated reflections) and per-axis widths."""
    kw = PAD_KWARGS[mode][k]
    x = rand(3, 4, seed=4) if mode not in ("maximum", "minimum", "median") else \
        np.arange(12.0).reshape(3, 4) ** 1.5 / 7  # distinct values: no ties at a kink
    check(lambda x: np.pad(x, ((5, 1), (0, 6)), mode=mode, **kw), x)
    check(lambda x: cnp.pad(x, 2, mode=mode, **kw), x)


def test_pad_gradients_are_exact_sums():
    """The VJP of a pad sums where each input element went (closed forms)."""
    x = np.array([1.0, 2.0, 4.0, 8.0])
    g = cr.grad(lambda x: np.sum(np.pad(x, 3, mode="mean")))(x)
    np.testing.assert_allclose(g, 1.0 + 6 / 4)  # 6 padded means of all 4 values
    g = cr.grad(lambda x: np.sum(np.pad(x, (2, 1), mode="maximum", stat_length=2)))(x)
    np.testing.assert_allclose(g, [1.0, 3.0, 1.0, 2.0])  # x; max(1, 2) twice; max(4, 8) once
    g = cr.grad(lambda x: np.sum(np.pad(x, (2, 0), mode="linear_ramp", end_values=5.0)))(x)
    np.testing.assert_allclose(g, [1.5, 1.0, 1.0, 1.0])  # the ramp 5, 5 + (1 - 5) / 2
    g = cr.grad(lambda x: np.sum(np.pad(x, (2, 0), mode="reflect", reflect_type="odd")))(x)
    np.testing.assert_allclose(g, [5.0, 0.0, 0.0, 1.0])  # 2 x0 - x1, 2 x0 - x2
    g = cr.grad(lambda x: np.sum(np.pad(x, 1, mode="median")))(x)
    np.testing.assert_allclose(g, [1.0, 2.0, 2.0, 1.0])  # median = (x1 + x2) / 2, twice


@pytest.mark.parametrize("mode, key", [("constant", "constant_values"), ("linear_ramp", "end_values")])
@pytest.mark.parametrize("shape", [(), (2,), (1, 2), (2, 1), (2, 2)])
def test_pad_traced_constant_and_end_values(mode, key, shape):
    """``constant_values`` / ``end_values`` of every accepted shape may be traced: NumPy's
    values, and the gradient reaches them (and the edges, for a ramp)."""
    x, v = rand(3, 4, seed=5), rand(*shape, seed=6)
    f = lambda x, v: np.pad(x, ((2, 1), (1, 3)), mode=mode, **{key: v})  # noqa: E731
    np.testing.assert_array_equal(value(f, x, v), np.pad(x, ((2, 1), (1, 3)), mode=mode, **{key: v}))
    check(f, x, v)
    # a list holding a traced value is accepted as NumPy accepts the list
    g = lambda x, c: cnp.pad(x, 1, mode=mode, **{key: [c, 2.0]})  # noqa: E731
    np.testing.assert_array_equal(value(g, x, 0.5), np.pad(x, 1, mode=mode, **{key: [0.5, 2.0]}))
    check(g, x, 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("mode", sorted(PAD_KWARGS))
def test_pad_dtypes_match_numpy_under_jit(mode, dtype):
    """Staged (jit) pads keep NumPy's dtype and values: integer means round, ramps floor,
    float32 ramps compute as NumPy does (``end_values`` pairs are weakly typed)."""
    x = (rand(3, 4, seed=7) * 10).astype(dtype)
    for kw in PAD_KWARGS[mode]:
        want = np.pad(x, ((2, 1), (5, 3)), mode=mode, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cr.JitFallbackWarning)  # median sorts: runs eagerly
            got = cr.jit(lambda x, kw=kw: np.pad(x, ((2, 1), (5, 3)), mode=mode, **kw))(x)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_pad_float32_derivative_dtype():
    x = rand(3, seed=8).astype(np.float32)
    for mode in PAD_KWARGS:
        assert cr.grad(lambda x, mode=mode: np.sum(np.pad(x, 2, mode=mode)))(x).dtype == np.float32


def test_pad_errors_are_numpys():
    x = rand(2, 3)
    run = lambda f: cr.grad(lambda x: np.sum(f(x)))(x)  # noqa: E731
    with pytest.raises(ValueError, match="mode 'ramp' is not supported"):
        run(lambda x: np.pad(x, 1, mode="ramp"))
    with pytest.raises(ValueError, match="unsupported keyword arguments for mode 'edge'"):
        run(lambda x: np.pad(x, 1, mode="edge", stat_length=2))
    with pytest.raises(ValueError, match="negative"):
        run(lambda x: np.pad(x, ((1, -1), (0, 0))))
    with pytest.raises(TypeError, match="integral"):
        run(lambda x: np.pad(x, 1.5))
    with pytest.raises(ValueError, match="stat_length of 0"):
        run(lambda x: np.pad(x, 1, mode="maximum", stat_length=0))
    with pytest.raises(ValueError, match="can't extend empty axis 1"):
        cr.grad(lambda x: np.sum(np.pad(x, ((0, 0), (1, 0)), mode="edge")))(np.ones((2, 0)))
    with pytest.raises(NotImplementedError, match="callable"):
        run(lambda x: np.pad(x, 1, mode=lambda *a: None))
    # an empty array pads along its non-empty axes (to an empty result) in every mode
    assert value(lambda x: np.pad(x, ((1, 1), (0, 0)), mode="mean"), np.ones((2, 0))).shape == (4, 0)


# ---------------------------------------------------------------- ufunc.at: a differentiable scatter
# every index form: repeats (accumulate), slices with repeats inside, boolean masks, ints
AT_INDICES = {
    "repeats": (np.array([0, 2, 0, 0, 1]), np.array([1, 3, 1, 1, 0])),
    "slice_and_repeats": (slice(None), [3, 0, 3]),
    "mask": np.array([True, False, True]),
    "int": 1,
    "row_list": [2, 2, 0],
}
BINARY_AT = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "fmax", "fmin", "power",
             "hypot", "arctan2", "logaddexp", "true_divide"]
UNARY_AT = ["negative", "sin", "exp", "tanh", "square", "sqrt"]


def _at_args(name, key):
    x = np.abs(rand(3, 4, seed=9)) + 0.5  # positive: every ufunc's domain
    shape = np.empty((3, 4))[key].shape
    return x, np.abs(rand(*shape, seed=10)) + 0.5


@pytest.mark.parametrize("key", sorted(AT_INDICES))
@pytest.mark.parametrize("name", BINARY_AT + UNARY_AT)
def test_ufunc_at_is_numpys_unbuffered_update(name, key):
    """``ufunc_at`` leaves what NumPy's ``ufunc.at`` leaves in ``a`` (a repeated index applies
    the operation once per occurrence; exact, but for add/subtract with repeats, which sum
    the values first), and its derivatives pass both modes to order 2, batched."""
    ufunc, idx = getattr(np, name), AT_INDICES[key]
    x, v = _at_args(name, idx)
    want = x.copy()
    if ufunc.nin == 2:
        ufunc.at(want, idx, v)
        f = lambda x, v: cnp.ufunc_at(ufunc, x, idx, v)  # noqa: E731
        args = (x, v)
    else:
        ufunc.at(want, idx)
        f = lambda x: cnp.ufunc_at(ufunc, x, idx)  # noqa: E731
        args = (x,)
    got = value(f, *args)
    if name in ("add", "subtract"):
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
    else:
        np.testing.assert_array_equal(got, want)
    check(f, *args)


def test_ufunc_at_repeats_accumulate_in_the_gradient():
    x, v = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 5.0])
    idx = [0, 0, 2]
    # multiply.at: x0 * 2 * 3, x2 * 5
    np.testing.assert_array_equal(cnp.ufunc_at(np.multiply, x, idx, v), [6.0, 2.0, 15.0])
    gx, gv = cr.grad(lambda x, v: np.sum(cnp.ufunc_at(np.multiply, x, idx, v)), (0, 1))(x, v)
    np.testing.assert_array_equal(gx, [6.0, 1.0, 5.0])
    np.testing.assert_array_equal(gv, [3.0, 2.0, 3.0])
    # add.at is at_add: every occurrence's value reaches the output
    gv = cr.grad(lambda v: np.sum(cnp.at_add(x, idx, v) ** 2))(v)
    np.testing.assert_array_equal(gv, 2 * np.array([6.0, 6.0, 8.0]))
    # maximum.at keeps the largest occurrence (and the gradient goes there)
    gv = cr.grad(lambda v: np.sum(cnp.ufunc_at(np.maximum, x, idx, v)))(v)
    np.testing.assert_array_equal(gv, [0.0, 1.0, 1.0])


def test_ufunc_at_broadcasting_and_dtypes():
    x32 = np.ones(4, dtype=np.float32)
    want = x32.copy()
    np.add.at(want, [0, 0], 0.1)  # a Python number is weakly typed: float32 arithmetic
    got = value(lambda x: cnp.ufunc_at(np.add, x, [0, 0], 0.1), x32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    x = rand(2, 3)
    want = x.copy()
    np.add.at(want, (slice(None), [0, 0]), np.arange(2.0))  # b broadcast to a[indices]
    np.testing.assert_array_equal(value(lambda x: cnp.ufunc_at(np.add, x, (slice(None), [0, 0]),
                                                               np.arange(2.0)), x), want)
    with pytest.raises(ValueError, match="not broadcastable"):
        value(lambda x: cnp.ufunc_at(np.add, x, [0, 1], np.ones((1, 2))), x)
    with pytest.raises(ValueError, match="second operand needed"):
        cnp.ufunc_at(np.add, x, [0])
    with pytest.raises(ValueError, match="second operand provided"):
        cnp.ufunc_at(np.negative, x, [0], 1.0)
    # nothing traced: NumPy's own .at on a copy, the argument left alone
    y = cnp.ufunc_at(np.add, x, [0, 0], 1.0)
    np.testing.assert_array_equal(y[0], x[0] + 2.0)
    assert not np.array_equal(x[0], y[0])


def test_numpy_at_on_traced_arrays_names_the_function_that_returns_the_new_array():
    """np.<ufunc>.at writes in place: on a traced ``a`` (its views would not see the write)
    and into a plain ``a`` with a traced ``b`` (no derivative) it raises, naming the
    functional form, in one line."""
    x = rand(3)
    for ufunc, fix in [(np.add, "chainrule.numpy.at_add(a, indices, b)"),
                       (np.multiply, "chainrule.numpy.ufunc_at(np.multiply, a, indices, b)")]:
        with pytest.raises(InPlaceError, match="traced array a") as err:
            cr.grad(lambda x, ufunc=ufunc: np.sum(ufunc.at(x, [0], 1.0)))(x)
        assert fix in str(err.value) and "\n" not in str(err.value)

    def histogram(w):
        out = np.zeros(2)
        np.add.at(out, [0, 1, 0], w)
        return out.sum()
    with pytest.raises(InPlaceError, match=r"plain array a.*at_add\(a, indices, b\)"):
        cr.grad(histogram)(x)
    with pytest.raises(InPlaceError, match=r"ufunc_at\(np.negative, a, indices\)"):
        cr.grad(lambda x: np.sum(np.negative.at(x, [0])))(x)
    # the functional forms are what the message says
    g = cr.grad(lambda w: np.sum(cnp.at_add(np.zeros(2), [0, 1, 0], w) ** 2))(x)
    np.testing.assert_array_equal(g, 2 * np.array([x[0] + x[2], x[1], x[0] + x[2]]))


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "maximum", "minimum", "negative"])
def test_tensor_ufunc_at_records_and_rebinds(name):
    """On a Tensor, ``np.<ufunc>.at(t, i, v)`` updates ``t`` as NumPy updates an array, and
    ``backward`` gives the gradient ``grad`` gives for the functional form."""
    ufunc = getattr(np, name)
    x0, v0 = np.abs(rand(4, seed=11)) + 0.5, np.abs(rand(3, seed=12)) + 0.5
    idx = [1, 3, 1]
    x, v = cr.tensor(x0, requires_grad=True), cr.tensor(v0, requires_grad=True)
    t = x * 1.0
    before = t
    extra = () if ufunc.nin == 1 else (v,)
    assert ufunc.at(t, idx, *extra) is None
    assert t is before  # the same tensor object, with the new value
    want = x0.copy()
    ufunc.at(want, idx, *(() if ufunc.nin == 1 else (v0,)))
    np.testing.assert_array_equal(t.numpy(), want)
    (t * t).sum().backward()
    f = lambda x, v: np.sum(cnp.ufunc_at(ufunc, x, idx, *(() if ufunc.nin == 1 else (v,))) ** 2)  # noqa: E731
    gx, gv = cr.grad(f, (0, 1), allow_disconnected=True)(x0, v0)
    np.testing.assert_allclose(x.grad, gx, rtol=1e-15)
    if ufunc.nin == 2:
        np.testing.assert_allclose(v.grad, gv, rtol=1e-15)


def test_tensor_ufunc_at_rules():
    x = cr.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(InPlaceError, match="leaf tensor"):
        np.add.at(x, [0], 1.0)
    a = np.zeros(3)
    np.add.at(a, [0, 0], cr.tensor([1.0, 2.0]))  # a Tensor without a gradient: NumPy's own
    np.testing.assert_array_equal(a, [3.0, 0.0, 0.0])
    with pytest.raises(InPlaceError, match="plain array a"):
        np.add.at(a, [0, 0], x[:2])
    t = cr.tensor([1.0, 2.0, 3.0])
    np.add.at(t, cr.tensor(np.array([2, 2])), 1.0)  # an index Tensor is a constant
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 5.0])


# ---------------------------------------------------------------- quantiles: every method, weights
METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased", "lower", "higher",
           "midpoint", "nearest"]
QS = [0.0, 0.5, 1.0, 0.3, np.array([0.0, 0.1, 0.25, 0.5, 0.93, 1.0]), np.array([[0.2, 0.7], [1.0, 0.0]])]


@pytest.mark.parametrize("method", METHODS)
def test_quantile_every_method_equals_numpy_bit_for_bit(method):
    """Values and dtypes of NumPy's four quantile functions, every method, scalar / 1-d / 2-d
    ``q`` (a Python ``q`` is weakly typed: float32 stays float32), every axis form, keepdims,
    float32, and slices holding NaN."""
    a = rand(4, 7, seed=13)
    for fn in ("quantile", "nanquantile", "percentile", "nanpercentile"):
        for q in QS:
            qq = q * 100 if "percentile" in fn else q
            for axis, keepdims in [(None, False), (0, False), (1, True), ((0, 1), False), (-1, False)]:
                for x in (a, a.astype(np.float32), np.where(a > 1.2, np.nan, a)):
                    call = lambda x, fn=fn, qq=qq, axis=axis, keepdims=keepdims: getattr(np, fn)(  # noqa: E731
                        x, qq, axis=axis, method=method, keepdims=keepdims)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
                        want, got = np.asarray(call(x)), value(call, x)
                    assert got.shape == want.shape and got.dtype == want.dtype, (fn, q, axis)
                    np.testing.assert_array_equal(got, want, err_msg=f"{fn} {q} {axis}")


@pytest.mark.parametrize("method", METHODS)
def test_quantile_derivatives_every_method(method):
    """In ``a`` every method is differentiable (the picked values, or the interpolation of two);
    in ``q`` the piecewise-linear ones have their slope and the discrete ones 0 (away from
    the jumps central differences agree)."""
    a = rand(4, 7, seed=14)
    q = np.array([0.13, 0.55, 0.61, 0.93])  # no q (n - 1) or n q + ... on an integer
    check(lambda a, q: np.quantile(a, q, axis=1, method=method), a, q)
    check(lambda a: cnp.nanpercentile(a, 37.0, axis=0, method=method), np.where(a > 1.2, np.nan, a)[:, :3])
    dq = cr.grad(lambda q: np.sum(np.quantile(a, q, axis=1, method=method)))(q)
    if method in ("inverted_cdf", "averaged_inverted_cdf", "closest_observation", "lower", "higher",
                  "midpoint", "nearest"):
        np.testing.assert_array_equal(dq, 0.0)
    else:  # (flat where the virtual index is clamped to the first or last value)
        assert np.any(dq != 0)


WEIGHT_CASES = {
    "full_none": (None, lambda w: w),
    "full_axis1": (1, lambda w: w),
    "full_axis0": (0, lambda w: w),
    "vector_axis1": (1, lambda w: w[1]),
    "vector_axis0": (0, lambda w: w[:, 3]),
    "full_tuple": ((0, 1), lambda w: w),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_weighted_quantile_equals_numpy(case):
    """``weights=`` (method ``inverted_cdf``): NumPy's value in every function and weight shape,
    leading zero weights included (q = 0 picks the first value that has weight); the gradient
    reaches the picked value of ``a``, and the weights get 0 (piecewise constant)."""
    axis, pick = WEIGHT_CASES[case]
    a = rand(4, 7, seed=15)
    w = np.random.default_rng(16).integers(0, 4, size=(4, 7)).astype(float)
    w[:, 3] += 1
    w[1] += 1
    w[0, :2] = 0
    w = pick(w)
    for fn in ("quantile", "nanquantile", "percentile", "nanpercentile"):
        if fn.startswith("nan") and np.shape(w) != a.shape:
            continue  # NumPy's nan-functions index 1-d weights as if they were full (an IndexError)
        for q in (0.0, 0.5, 1.0, np.array([0.0, 0.1, 0.37, 0.5, 1.0])):
            qq = q * 100 if "percentile" in fn else q
            for x in (a, np.where(a > 1.2, np.nan, a)):
                call = lambda x, w, fn=fn, qq=qq: getattr(np, fn)(  # noqa: E731
                    x, qq, axis=axis, method="inverted_cdf", weights=w)
                want = np.asarray(call(x, w))
                np.testing.assert_array_equal(value(call, x, w), want, err_msg=f"{fn} {q}")
    f = lambda a, w: np.quantile(a, np.array([0.2, 0.7]), axis=axis, method="inverted_cdf", weights=w)  # noqa: E731
    check(f, a, w + 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cr.DisconnectedWarning)
        gw = cr.grad(lambda w: np.sum(f(a, w)))(w + 0.5)
    np.testing.assert_array_equal(gw, 0.0)
    ga = cr.grad(lambda a: np.sum(f(a, w + 0.5)))(a)
    assert set(np.unique(ga)) <= {0.0, 1.0, 2.0} and ga.sum() == np.size(f(a, w + 0.5))


def test_quantile_argument_errors_are_numpys():
    a, w = rand(3, 4), np.ones((3, 4))
    run = lambda f: cr.grad(lambda a: np.sum(f(a)))(a)  # noqa: E731
    with pytest.raises(ValueError, match="Only method 'inverted_cdf' supports weights"):
        run(lambda a: np.quantile(a, 0.5, axis=1, weights=w))
    with pytest.raises(ValueError, match="non-negative"):
        run(lambda a: np.quantile(a, 0.5, axis=1, method="inverted_cdf", weights=-w))
    with pytest.raises(TypeError, match="Axis must be specified"):
        run(lambda a: np.quantile(a, 0.5, method="inverted_cdf", weights=w[0]))
    with pytest.raises(ValueError, match="consistent with shape of a"):
        run(lambda a: np.quantile(a, 0.5, axis=0, method="inverted_cdf", weights=w[0]))
    with pytest.raises(ValueError, match="all zero"):
        run(lambda a: np.quantile(a, 0.5, axis=1, method="inverted_cdf", weights=0 * w))
    with pytest.raises(ValueError, match="not a valid method"):
        run(lambda a: np.percentile(a, 50, method="cdf"))
    with pytest.raises(ValueError, match="scalar or 1d"):
        run(lambda a: np.quantile(a, np.full((2, 2, 2), 0.5)))
    with pytest.raises(TypeError, match="real numbers"):
        cr.grad(lambda a: np.abs(np.quantile(a * 1j, 0.5)))(a)


# ---------------------------------------------------------------- the audit of issue 14 item 5
NAN3 = np.array([[0.3, np.nan, -1.2, 0.7], [np.nan, 2.0, 0.5, -0.4], [1.1, -0.6, np.nan, 0.9]])
AUDIT = {
    # name: (f(M, *args) with M = chainrule.numpy or numpy, argument shapes or SPECIAL names)
    "r_": (lambda M, x, y: M.r_[x, 0.5, y, -1:2], [(3,), (2,)]),
    "c_": (lambda M, x, y: M.c_[x, y], [(3,), (3, 2)]),
    "linspace": (lambda M, a, b: M.linspace(a, b, 7), [(2,), ()]),
    "linspace_axis_noend": (lambda M, a, b: M.linspace(a, b, 4, endpoint=False, axis=-1), [(2, 1), (3,)]),
    "logspace": (lambda M, a, b: M.logspace(a, b, 5, base=3.0), [(2,), ()]),
    "geomspace": (lambda M, a, b: M.geomspace(a, b, 5), ["pos2", "pos"]),
    "meshgrid": (lambda M, x, y: M.meshgrid(x, y), [(3,), (2,)]),
    "meshgrid_ij_sparse": (lambda M, x, y, z: M.meshgrid(x, y, z, indexing="ij", sparse=True),
                           [(3,), (2,), (2,)]),
    "interp": (lambda M, x, fp: M.interp(x, np.array([-1.0, 0.0, 0.5, 2.0]), fp), ["interp_x", (4,)]),
    "polyval": (lambda M, p, x: M.polyval(p, x), [(4,), (3,)]),
    "convolve": (lambda M, a, v: M.convolve(a, v), [(5,), (3,)]),
    "convolve_same": (lambda M, a, v: M.convolve(a, v, "same"), [(5,), (3,)]),
    "correlate": (lambda M, a, v: M.correlate(a, v, "full"), [(5,), (3,)]),
    "correlate_valid": (lambda M, a, v: M.correlate(a, v), [(5,), (3,)]),
    "cov": (lambda M, x: M.cov(x), [(3, 5)]),
    "cov_weights": (lambda M, x: M.cov(x, rowvar=False, aweights=np.arange(1.0, 6.0)), [(5, 3)]),
    "cov_traced_weights": (lambda M, x, w: M.cov(x, aweights=w, ddof=1), [(3, 5), "weights"]),
    "corrcoef": (lambda M, x: M.corrcoef(x), [(3, 5)]),
    "median": (lambda M, x: M.median(x, axis=1), [(3, 4)]),
    "median_all": (lambda M, x: M.median(x), [(3, 5)]),
    "percentile": (lambda M, x: M.percentile(x, [10.0, 55.0], axis=0), [(5, 3)]),
    "quantile": (lambda M, x, q: M.quantile(x, q, axis=1), [(3, 5), "q"]),
    "nansum": (lambda M, x: M.nansum(x, axis=1), ["nan"]),
    "nanmean": (lambda M, x: M.nanmean(x, axis=0), ["nan"]),
    "nanvar": (lambda M, x: M.nanvar(x, axis=1), ["nan"]),
    "nanstd": (lambda M, x: M.nanstd(x), ["nan"]),
    "nanmax": (lambda M, x: M.nanmax(x, axis=1), ["nan"]),
    "nanmin": (lambda M, x: M.nanmin(x, axis=0), ["nan"]),
    "nanprod": (lambda M, x: M.nanprod(x, axis=1), ["nan"]),
    "nanmedian": (lambda M, x: M.nanmedian(x, axis=1), ["nan"]),
    "nanpercentile": (lambda M, x: M.nanpercentile(x, 40.0, axis=1), ["nan"]),
    "partition": (lambda M, x: M.partition(x, 2, axis=1), [(3, 5)]),
    "insert": (lambda M, x, v: M.insert(x, [1, 3, 3], v), [(5,), (3,)]),
    "insert_axis": (lambda M, x, v: M.insert(x, 1, v, axis=1), [(2, 3), (2,)]),
    "delete": (lambda M, x: M.delete(x, [0, 2], axis=1), [(2, 4)]),
    "delete_flat": (lambda M, x: M.delete(x, slice(1, None, 2)), [(2, 3)]),
    "append": (lambda M, x, y: M.append(x, y), [(2, 3), (2,)]),
    "append_axis": (lambda M, x, y: M.append(x, y, axis=0), [(2, 3), (1, 3)]),
    "select": (lambda M, x, y: M.select([np.array([True, False, False]), np.array([False, True, False])],
                                        [x, y], default=0.5), [(3,), (3,)]),
    "piecewise": (lambda M, x: M.piecewise(x, [np.array([True, False, True, False])],
                                           [lambda v: v ** 2, lambda v: 3 * v]), [(4,)]),
    "gradient": (lambda M, f: M.gradient(f, 0.5), [(5,)]),
    "gradient_coords": (lambda M, f, x: M.gradient(f, x, edge_order=2), [(5,), "coords"]),
    "gradient_2d": (lambda M, f: M.gradient(f, axis=0), [(4, 3)]),
    "trapezoid": (lambda M, y, x: M.trapezoid(y, x), [(5,), "coords"]),
    "trapezoid_dx": (lambda M, y: M.trapezoid(y, dx=0.3, axis=0), [(4, 2)]),
    "cross": (lambda M, a, b: M.cross(a, b), [(2, 3), (2, 3)]),
    "cross_2d": (lambda M, a, b: M.cross(a, b, axisa=0), [(3, 2), (2, 3)]),
    "rollaxis": (lambda M, x: M.rollaxis(x, 2, 0), [(2, 3, 4)]),
    "nan_to_num": (lambda M, x: M.nan_to_num(x, posinf=9.0), ["infs"]),
    "sinc": (lambda M, x: M.sinc(x * np.array([1.0, 0.0, 2.0, -0.5])), [(4,)]),
    "real_if_close": (lambda M, x: M.real_if_close(x + 0j), [(3,)]),
    "unwrap": (lambda M, p: M.unwrap(3 * p), [(6,)]),
    "pad_linear_ramp": (lambda M, x: M.pad(x, ((1, 2), (3, 0)), mode="linear_ramp", end_values=0.5),
                        [(2, 3)]),
    "pad_mean": (lambda M, x: M.pad(x, 2, mode="mean", stat_length=2), [(2, 3)]),
    "pad_reflect_odd": (lambda M, x: M.pad(x, 3, mode="reflect", reflect_type="odd"), [(2, 3)]),
    "add_reduce": (lambda M, x: np.add.reduce(x, axis=1), [(3, 4)]),
    "multiply_accumulate": (lambda M, x: np.multiply.accumulate(x, axis=0), [(3, 4)]),
    "add_outer": (lambda M, x, y: np.add.outer(x, y), [(3,), (2,)]),
    "maximum_reduce": (lambda M, x: np.maximum.reduce(x, axis=0), [(3, 4)]),
}
SPECIAL = {  # arguments that need particular values
    "pos2": lambda rng: np.abs(rng.standard_normal(2)) + 0.5,
    "pos": lambda rng: np.float64(np.abs(rng.standard_normal()) + 2.0),
    "interp_x": lambda rng: np.array([-1.5, -0.3, 0.2, 0.9, 1.7, 2.5]),
    "q": lambda rng: np.array([0.13, 0.61]),
    "coords": lambda rng: np.array([0.0, 0.3, 1.0, 1.2, 2.0]),
    "nan": lambda rng: NAN3.copy(),
    "infs": lambda rng: np.array([0.7, np.inf, -np.inf, np.nan, -1.3]),
    "weights": lambda rng: rng.random(5) + 0.5,
}

# np.r_ / np.c_ build a plain ndarray from their items (NumPy's own Python code calls np.array on
# each), so a traced item escapes there: chainrule.numpy.r_ / c_ are the differentiable ones.
ESCAPES = {"r_", "c_"}
# NumPy's correlate sums each lag in its own C loop, chainrule contracts windows with BLAS: the
# sums agree to rounding, not to the bit. Everything else is NumPy's value exactly.
ROUNDING = {"correlate", "correlate_valid"}


def _audit_args(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [SPECIAL[s](rng) if isinstance(s, str) else rng.standard_normal(s) for s in shapes]


def _assert_value(got, want, name):
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            _assert_value(g, w, name)
        return
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, name
    if name in ROUNDING:
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(AUDIT))
def test_issue_14_item_5_audit(name):
    """(a) runs through chainrule.numpy and through plain numpy on traced arrays, (b) NumPy's
    value, (c) check_grads in both modes to order 2, (d) batched (a Jacobian in one pass)."""
    f, shapes = AUDIT[name]
    args = _audit_args(shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's own nan/inf warnings
        want = f(np, *args)
        _assert_value(value(lambda *a: f(cnp, *a), *args), want, name)
        if name in ESCAPES:
            with pytest.raises(TracerEscapeError, match=r"chainrule\.numpy\.r_"):
                value(lambda *a: f(np, *a), *args)
        else:
            _assert_value(value(lambda *a: f(np, *a), *args), want, name)
        check(lambda *a: f(cnp, *a), *args)


def test_ufunc_methods_are_numpys_own_on_traced_arrays():
    """chainrule.numpy's add, multiply, ... are primitives, like autograd's wrappers: NumPy's own
    ufunc methods (np.add.reduce, np.multiply.accumulate, np.subtract.outer, np.add.at through
    ufunc_at) are the way to them, under both import styles."""
    assert not hasattr(cnp.add, "reduce")
    x = rand(3, 4, seed=17)
    g = cr.grad(lambda x: np.sum(np.multiply.accumulate(np.add.reduce(x, axis=0) ** 2)))(x)
    want = cr.grad(lambda x: cnp.sum(cnp.cumprod(cnp.sum(x, axis=0) ** 2)))(x)
    np.testing.assert_array_equal(g, want)
