"""Indexing and indexed assignment against NumPy's own results.

Every index form NumPy accepts (integers and NumPy integer scalars, negative ones, slices
with any step, ``None``, ``Ellipsis``, ``True``/``False``, boolean arrays and lists,
integer arrays and lists that broadcast, 0-d arrays, advanced indices separated by a slice)
is drawn at random by hypothesis and checked for:

* the value and shape of ``x[idx]``;
* its VJP against the dense transpose NumPy defines: ``ids = arange(x.size).reshape(x.shape)``,
  ``ids[idx]`` says which input feeds each output, so ``d sum(w * x[idx]) / dx`` is
  ``bincount(ids[idx], weights=w)`` (repeats accumulate);
* its JVP, ``t[idx]``;
* both with a batch of cotangents / tangents in one pass (leading batch axes);
* ``at_set(x, idx, v)`` against ``a = x.copy(); a[idx] = v`` (NumPy's last write wins among
  repeated indices), with the gradient going to the winning values only;
* the same error class as NumPy for a bad index.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_batched
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.linearize import linearize_reverse, push_forward

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# ---------------------------------------------------------------- random index expressions
def _walk(draw, shape, n):
    """``n`` index entries addressing ``shape`` from its first axis; returns the entries and
    the number of axes they consume. Past the last axis an entry is drawn for a length-1
    axis (an invalid index: then NumPy and chainrule must raise the same error class)."""
    parts = []
    dim = 0
    for _ in range(n):
        size = shape[dim] if dim < len(shape) else 1
        kind = draw(st.sampled_from(
            ["int", "npint", "neg", "slice", "none", "true", "false", "boolarr", "boollist",
             "intarr", "intlist", "int0d", "bool0d", "tuple", "empty"]))
        if kind == "none":
            parts.append(None)
        elif kind == "true":
            parts.append(draw(st.sampled_from([True, np.True_])))
        elif kind == "false":
            parts.append(draw(st.sampled_from([False, np.False_])))
        elif kind == "bool0d":
            parts.append(np.array(draw(st.booleans())))
        elif kind in ("int", "npint", "neg", "int0d"):
            if size == 0:
                continue
            i = draw(st.integers(-size, size - 1))
            parts.append({"int": i, "npint": np.int32(i), "neg": -size + (i % size),
                          "int0d": np.array(i)}[kind])
            dim += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-size - 1, size + 1))
            stop = draw(st.none() | st.integers(-size - 1, size + 1))
            step = draw(st.none() | st.sampled_from([1, 2, 3, -1, -2, -3]))
            parts.append(slice(start, stop, step))
            dim += 1
        elif kind in ("boolarr", "boollist"):
            k = draw(st.integers(1, 2))
            sub = shape[dim:dim + k] if dim + k <= len(shape) else (size,)
            mask = np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(sub)),
                                          max_size=int(np.prod(sub)))), dtype=bool).reshape(sub)
            parts.append(mask.tolist() if kind == "boollist" and mask.ndim == 1 else mask)
            dim += mask.ndim
        elif kind == "empty":
            parts.append([])
            dim += 1
        else:
            if size == 0:
                continue
            ishape = draw(st.sampled_from([(3,), (1,), (2, 1), (1, 3), (2, 3)]))
            vals = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(ishape)),
                                 max_size=int(np.prod(ishape))))
            arr = np.array(vals, dtype=np.intp).reshape(ishape)
            parts.append(arr.tolist() if kind == "intlist" and arr.ndim == 1 else
                         tuple(arr.tolist()) if kind == "tuple" and arr.ndim == 1 else arr)
            dim += 1
    return parts, dim


@st.composite
def index_parts(draw, shape):
    """One index expression for an array of ``shape``: entries for its leading axes, then
    perhaps an ``Ellipsis`` and entries for its trailing axes."""
    parts, used = _walk(draw, shape, draw(st.integers(0, len(shape) + 1)))
    if draw(st.booleans()):
        start = draw(st.integers(min(used, len(shape)), len(shape)))
        tail, consumed = _walk(draw, shape[start:], draw(st.integers(0, len(shape) - start + 1)))
        # pad so the tail addresses exactly the last len(shape) - start axes
        tail += [slice(None)] * max(0, len(shape) - start - consumed)
        parts = parts + [Ellipsis] + tail
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0]  # a bare key, not a tuple
    return tuple(parts)


@st.composite
def cases(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4) if draw(st.booleans()) else st.integers(1, 4),
                                min_size=0, max_size=4)))
    key = draw(index_parts(shape))
    seed = draw(st.integers(0, 2 ** 16))
    return shape, key, seed


def _numpy_index(x, key):
    """NumPy's result, or the class of the error it raises."""
    try:
        return x[key], None
    except (IndexError, ValueError, TypeError) as e:
        return None, type(e)


# ---------------------------------------------------------------- getitem
def _check_getitem(shape, key, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    want, err = _numpy_index(x, key)
    if err is not None:
        with pytest.raises(err):
            cr.vjp(lambda v: v[key], x)
        return
    ids = np.arange(x.size).reshape(shape)[key]
    w = rng.standard_normal(np.shape(want))

    out, f_vjp = cr.vjp(lambda v: v[key], x)
    assert np.shape(out) == np.shape(want)
    np.testing.assert_array_equal(out, want)
    dense = np.bincount(np.ravel(ids), weights=np.ravel(w), minlength=x.size).reshape(shape)
    np.testing.assert_allclose(f_vjp(w)[0], dense, atol=1e-12)
    t = rng.standard_normal(shape)
    _, jt = cr.jvp(lambda v: v[key], (x,), (t,))
    assert np.shape(jt) == np.shape(want)
    np.testing.assert_allclose(jt, t[key], atol=0)
    # the same through np.* dispatch and through cnp.take-free functional getitem
    np.testing.assert_array_equal(cr.grad(lambda v: cnp.sum(w * v[key]))(x), dense)

    # a batch of 3 cotangents in one backward pass, and 3 tangents in one forward pass
    lin, _, _, _ = linearize_reverse(lambda v: v[key], (x,))
    ws = rng.standard_normal((3,) + np.shape(want))
    batched = np.asarray(lin.pull([ws], batch=(3,))[0])
    for r in range(3):
        np.testing.assert_allclose(
            batched[r], np.bincount(np.ravel(ids), weights=np.ravel(ws[r]),
                                    minlength=x.size).reshape(shape), atol=1e-12)
    ts = rng.standard_normal((3,) + shape)
    _, tb, _ = push_forward(lambda v: v[key], (x,), (ts,), batch=(3,))
    for r in range(3):
        np.testing.assert_array_equal(np.asarray(tb)[r], ts[r][key])


@SETTINGS
@given(cases())
def test_getitem_matches_numpy_value_vjp_jvp_batched(case):
    _check_getitem(*case)


@pytest.mark.parametrize("shape, key", [
    ((2, 3), (Ellipsis, True)),                      # issue 12 item 8
    ((2, 3), (Ellipsis, False)),
    ((2, 3), (True, Ellipsis, 0)),
    ((2, 3), (0, True, Ellipsis)),
    ((2, 3), True),
    ((2, 3), np.True_),
    ((2, 3), (None, Ellipsis, None, 1)),
    ((2, 3), ((0, 0),)),                             # a tuple inside the key is an index array
    ((3, 4, 5), ([0, 2], slice(None), [1, 1])),      # advanced axes split by a slice go first
    ((3, 4, 5), (slice(None), [0, 2], [1, 1])),      # adjacent ones stay in place
    ((3, 4, 5), (0, slice(None), [1, -4])),          # an int counts as advanced there
    ((3, 4, 5), (np.array(0), slice(None), np.array([[1], [2]]))),
    ((3, 4), ([0, -3], slice(None, None, -1))),      # -3 aliases 0: the gradient doubles
    ((3, 4), (np.array([[True, False, True, True]] * 3),)),
    ((3, 4), ([True, False, True], [0, 1])),
    ((3, 4), ([True, False, True], True, [0, 1])),
    ((4,), []),
    ((4,), (slice(None, None, -2),)),
    ((0, 3), (slice(None), [0, 2])),
    ((), ()),
    ((), (Ellipsis,)),
    ((), (None,)),
    ((), True),
    ((2, 3), (0, 0, 0)),                             # too many indices: IndexError as in NumPy
    ((2, 3), (Ellipsis, Ellipsis)),                  # two ellipses: IndexError as in NumPy
    ((2, 3), (np.array([0.5]),)),                    # float array: IndexError as in NumPy
    ((2, 3), (np.array([True, False]), True)),
])
def test_getitem_index_forms(shape, key):
    _check_getitem(shape, key, 0)


# ---------------------------------------------------------------- at_set
def _check_at_set(shape, key, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape))
    try:
        target = x[key]
    except (IndexError, ValueError, TypeError):
        assume(False)
    v = rng.standard_normal(np.shape(target))
    want = x.copy()
    want[key] = v
    # which entry of v lands where, by NumPy's own assignment (last write wins)
    ids = np.full(shape, -1)
    ids[key] = np.arange(v.size).reshape(v.shape)
    written = ids >= 0

    out, f_vjp = cr.vjp(lambda a, b: cnp.at_set(a, key, b), x, v)
    np.testing.assert_array_equal(out, want)
    g = rng.standard_normal(shape)
    gx, gv = f_vjp(g)
    np.testing.assert_array_equal(gx, np.where(written, 0.0, g))
    np.testing.assert_array_equal(
        gv, np.bincount(ids[written], weights=g[written], minlength=v.size).reshape(v.shape))
    tx, tv = rng.standard_normal(shape), rng.standard_normal(v.shape)
    _, jt = cr.jvp(lambda a, b: cnp.at_set(a, key, b), (x, v), (tx, tv))
    want_t = np.array(tx)
    want_t[key] = tv
    np.testing.assert_array_equal(jt, want_t)

    lin, _, _, _ = linearize_reverse(lambda a, b: cnp.at_set(a, key, b), (x, v))
    gs = rng.standard_normal((2,) + shape)
    bx, bv = (np.asarray(c) for c in lin.pull([gs], batch=(2,)))
    for r in range(2):
        np.testing.assert_array_equal(bx[r], np.where(written, 0.0, gs[r]))
        np.testing.assert_array_equal(bv[r], np.bincount(
            ids[written], weights=gs[r][written], minlength=v.size).reshape(v.shape))
    txs, tvs = rng.standard_normal((2,) + shape), rng.standard_normal((2,) + v.shape)
    _, tb, _ = push_forward(lambda a, b: cnp.at_set(a, key, b), (x, v), (txs, tvs), batch=(2,))
    for r in range(2):
        want_t = np.array(txs[r])
        want_t[key] = tvs[r]
        np.testing.assert_array_equal(np.asarray(tb)[r], want_t)


@SETTINGS
@given(cases())
def test_at_set_matches_numpy_assignment(case):
    _check_at_set(*case)


@pytest.mark.parametrize("shape, key", [
    ((3,), [0, 0]),                                   # issue 12 item 7
    ((3,), [0, -3]),                                  # -3 aliases 0
    ((3,), [2, 0, 2, 2]),
    ((3, 4), ([0, 0], [1, 1])),
    ((3, 4), ([0, 0], slice(None))),
    ((3, 4), (np.array([[0], [0]]), [1, -3])),
    ((3, 4), ([1, 1], Ellipsis)),
    ((3, 4), (np.array([True, False, True]), [1, 1])),
    ((3, 4), (slice(None), [True, False, True, False])),
    ((3, 4), (Ellipsis, True)),
    ((3, 4), (slice(None, None, -1), 2)),
])
def test_at_set_repeated_and_other_index_forms(shape, key):
    for seed in range(3):
        _check_at_set(shape, key, seed)


def test_at_set_last_write_wins_example():
    x = np.zeros(3)
    out = cnp.at_set(x, [0, 0], [10.0, 20.0])
    np.testing.assert_array_equal(out, [20.0, 0.0, 0.0])
    gv = cr.grad(lambda v: cnp.sum(cnp.at_set(x, [0, 0], v) * np.array([1.0, 2.0, 3.0])))(
        np.array([10.0, 20.0]))
    np.testing.assert_array_equal(gv, [0.0, 1.0])  # the overwritten 10 gets nothing


def test_at_set_broadcast_scalar_and_dtype_follow_numpy():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out = cnp.at_set(x, (slice(None), [0, 0]), 5.0)
    want = x.copy()
    want[:, [0, 0]] = 5.0
    np.testing.assert_array_equal(out, want)
    assert out.dtype == want.dtype  # the array keeps its dtype, as x[idx] = v does
    # a scalar value broadcast to every written position receives each position's gradient
    g = cr.grad(lambda s: cnp.sum(cnp.at_set(x, (slice(None), [0, 2, 0]), s)))(1.0)
    assert g == 4.0
    # values with extra leading length-1 axes are accepted, as NumPy's assignment does
    want = x.copy()
    want[0] = np.ones((1, 3))
    np.testing.assert_array_equal(cnp.at_set(x, 0, np.ones((1, 3))), want)


def test_at_set_without_traced_values_is_numpy_assignment():
    x = np.array([2 ** 62 + 1, 5, 7], dtype=np.int64)
    want = x.copy()
    want[[1, 1, -3]] = [2 ** 62 + 3, 9, 4]
    out = cnp.at_set(x, [1, 1, -3], [2 ** 62 + 3, 9, 4])
    np.testing.assert_array_equal(out, want)
    assert out.dtype == np.int64 and x[1] == 5  # a new array; x is unchanged


def test_at_set_on_traced_inf_and_nan_are_overwritten_cleanly():
    x = np.array([np.inf, np.nan, 1.0])
    g = cr.grad(lambda a: cnp.sum(cnp.at_set(a, [0, 1], [2.0, 3.0])))(x)
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_tensor_setitem_last_write_wins():
    t = cr.Tensor(np.zeros(3), requires_grad=True)
    v = cr.Tensor(np.array([10.0, 20.0]), requires_grad=True)
    y = t * 1.0
    y[[0, 0]] = v
    np.testing.assert_array_equal(y.numpy(), [20.0, 0.0, 0.0])
    (y * cr.Tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 2.0, 3.0])


# ---------------------------------------------------------------- selections NumPy computes
SELECTIONS = {
    "compress": lambda M, x: M.compress([True, False, True], x, axis=0),
    "compress_flat": lambda M, x: M.compress([0, 1, 1, 0, 1], x),
    "compress_short": lambda M, x: M.compress([False, True], x, axis=-1),
    "extract": lambda M, x: M.extract(np.arange(12).reshape(3, 4) % 3 == 0, x),
    "delete": lambda M, x: M.delete(x, [0, -1], axis=1),
    "delete_flat": lambda M, x: M.delete(x, slice(2, 9, 3)),
    "delete_mask": lambda M, x: M.delete(x, np.array([True, False, True]), axis=0),
    "resize_grow": lambda M, x: M.resize(x, (5, 5)),  # copies: their contributions add
    "resize_shrink": lambda M, x: M.resize(x, 7),
    "resize_empty": lambda M, x: M.resize(x, (0, 3)),
}


@pytest.mark.parametrize("name", sorted(SELECTIONS))
@pytest.mark.parametrize("M", [cnp, np], ids=["chainrule.numpy", "numpy-dispatch"])
def test_selections_are_gathers(name, M):
    """Value as NumPy's, gradient the dense transpose from NumPy's own selection of positions."""
    fn = SELECTIONS[name]
    x = np.random.default_rng(3).standard_normal((3, 4))
    want = fn(np, x)
    ids = fn(np, np.arange(x.size).reshape(x.shape))  # which input each output takes
    out, f_vjp = cr.vjp(lambda v: fn(M, v), x)
    np.testing.assert_array_equal(out, want)
    assert np.shape(out) == np.shape(want)
    w = np.random.default_rng(4).standard_normal(np.shape(want))
    np.testing.assert_allclose(
        f_vjp(w)[0], np.bincount(np.ravel(ids), weights=np.ravel(w), minlength=x.size)
        .reshape(x.shape), atol=1e-12)
    t = np.random.default_rng(5).standard_normal(x.shape)
    np.testing.assert_array_equal(cr.jvp(lambda v: fn(M, v), (x,), (t,))[1], fn(np, t))
    if np.size(want):
        check_batched(lambda v: fn(M, v), x)


def test_selection_errors_match_numpy():
    x = np.ones(5)
    for fn in (lambda M, v: M.compress([1, 0, 1, 1, 0, 1], v),   # condition past the end
               lambda M, v: M.compress([[1, 0]], v),             # condition not 1-d
               lambda M, v: M.delete(v, 7)):                      # index out of range
        with pytest.raises(Exception) as want:
            fn(np, x)
        with pytest.raises(want.type):
            cr.grad(lambda v, fn=fn: cnp.sum(fn(cnp, v)))(x)
