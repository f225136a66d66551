"""Reverse-mode indexing: k picks of an n-element array cost O(n + k), not O(n k), and the
sparse cotangents that make it so give exactly the dense scatter_add's values everywhere:
every index form, forward and reverse mode, batched (Jacobians), second order.

No timing is asserted: the complexity test counts the elements the backward pass allocates
with ``np.zeros``.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.rules import linear as sc
from chainrule.rules.linear import normalize_index

# index forms on a (5, 4) array, each a key NumPy and chainrule read alike
KEYS = [
    2, -1, (1, 3), (-2, 0), slice(1, 4), slice(None, None, 2), slice(4, 0, -2),
    (slice(None), 1), (Ellipsis, 2), (None, 3), (1, None, slice(0, 3)),
    np.array([0, 2, 2, 4]), (np.array([1, 1, 3]), np.array([0, 0, 2])),
    (slice(1, 3), np.array([3, 0, 3])), np.array([True, False, True, True, False]),
    (np.array([[0, 1], [4, 4]]),), (Ellipsis,), (), (np.array(4), slice(2, None)),
]
SHAPE = (5, 4)


def _picks(x, keys, weights):
    """sum_j w_j * sum(x[key_j] ** 2): each pick's cotangent is 2 w_j x[key_j]."""
    total = 0.0
    for key, w in zip(keys, weights, strict=True):
        total = total + w * cnp.sum(x[key] ** 2)
    return total


def _reference(x, keys, weights):
    g = np.zeros_like(x)
    for key, w in zip(keys, weights, strict=True):
        np.add.at(g, normalize_index(key, x.shape), 2 * w * x[key])
    return g


key_lists = st.lists(st.integers(0, len(KEYS) - 1), min_size=1, max_size=10)


@contextlib.contextmanager
def _policy(always: bool):
    """Picks kept sparse by the default size rule (never, at these sizes) or always."""
    saved = sc.SPARSE_MIN_SIZE, sc.SPARSE_PICK_FRACTION
    if always:
        sc.SPARSE_MIN_SIZE, sc.SPARSE_PICK_FRACTION = 0, 0
    try:
        yield
    finally:
        sc.SPARSE_MIN_SIZE, sc.SPARSE_PICK_FRACTION = saved


POLICIES = [False, True]


@settings(max_examples=60, deadline=None)
@given(key_lists, st.integers(0, 2**32 - 1))
def test_gradient_of_many_picks_matches_numpy(which, seed):
    rng = np.random.default_rng(seed)
    keys = [KEYS[i] for i in which]
    weights = rng.uniform(-2, 2, len(keys))
    x = rng.standard_normal(SHAPE)
    for always in POLICIES:
        with _policy(always):
            g = cr.grad(lambda x: _picks(x, keys, weights))(x)
        assert type(g) is np.ndarray and g.shape == SHAPE and g.dtype == x.dtype
        np.testing.assert_allclose(g, _reference(x, keys, weights), rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(key_lists, st.integers(0, 2**32 - 1))
def test_forward_and_reverse_are_transposes_and_batched_passes_agree(which, seed):
    """<J v, u> = <v, J^T u> for f(x) = concat of picks; jacrev (one batched backward pass)
    = jacfwd (one batched forward pass)."""
    rng = np.random.default_rng(seed)
    keys = [KEYS[i] for i in which]

    def f(x):
        return cnp.concatenate([cnp.ravel(x[k] * (j + 1.0)) for j, k in enumerate(keys)])

    x = rng.standard_normal(SHAPE)
    y = f(x)
    v = rng.standard_normal(SHAPE)
    u = rng.standard_normal(np.shape(y))
    _, jv = cr.jvp(f, (x,), (v,))
    for always in POLICIES:
        with _policy(always):
            _, pull = cr.vjp(f, x)
            (jtu,) = pull(u)
            jac = cr.jacrev(f)(x)
        np.testing.assert_allclose(np.vdot(jv, u), np.vdot(v, jtu), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(jac, cr.jacfwd(f)(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("always", POLICIES)
def test_second_order_through_many_picks(always):
    n = 30
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)

    def f(x):
        return cnp.sum(cnp.stack([x[i] ** 3 * (i + 1.0) for i in range(n)])) + cnp.sum(x[::2] * x[1::2])

    stack = contextlib.ExitStack()
    stack.enter_context(_policy(always))
    h = cr.hessian(f)(x)
    want = np.diag(6 * x * np.arange(1.0, n + 1))
    for i in range(0, n, 2):
        want[i, i + 1] += 1
        want[i + 1, i] += 1
    np.testing.assert_allclose(h, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(cr.grad(f)(x)))(x), want.sum(0), rtol=1e-12)
    v = rng.standard_normal(n)
    np.testing.assert_allclose(cr.hvp(f, x, v), want @ v, rtol=1e-12)
    # the Tensor API's backward(create_graph=True) goes through the same backward pass
    t = cr.Tensor(x, requires_grad=True)
    f(t).backward(create_graph=True)
    np.testing.assert_allclose(np.asarray(t.grad.detach()), cr.grad(f)(x), rtol=1e-12)
    stack.close()


@pytest.mark.parametrize("always", POLICIES)
def test_float32_picks_keep_float32(always):
    x = np.linspace(0, 1, 8, dtype=np.float32)
    with _policy(always):
        g = cr.grad(lambda x: cnp.sum(cnp.stack([x[i] * 2 for i in range(8)])))(x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, np.full(8, 2, np.float32))


def test_only_small_picks_of_large_arrays_are_kept_sparse():
    assert sc.sparse_worth_it(1, 10_000) and sc.sparse_worth_it(32, 256)
    assert not sc.sparse_worth_it(7, 28)  # an LSTM's gate slice: dense is cheaper
    assert not sc.sparse_worth_it(5_000, 10_000)  # a large pick costs O(its size) either way


# ---------------------------------------------------------------- the sparse cotangent itself
def _scatter(g, idx, shape, nb):
    """The dense rule: g's batch axes moved last, scattered, moved back."""
    v = np.moveaxis(g, tuple(range(nb)), tuple(range(g.ndim - nb, g.ndim))) if nb else g
    z = np.zeros(tuple(shape) + v.shape[v.ndim - nb:] if nb else shape,
                 dtype=np.result_type(g.dtype, np.float32))
    np.add.at(z, idx, v)
    return np.moveaxis(z, tuple(range(z.ndim - nb, z.ndim)), tuple(range(nb))) if nb else z


@pytest.mark.parametrize("nb", [0, 1, 2])
def test_sparse_sum_equals_the_dense_scatters(nb):
    rng = np.random.default_rng(nb)
    batch = (3, 2)[:nb]
    parts, want = [], 0
    for key in KEYS:
        idx = normalize_index(key, SHAPE)
        shape = np.zeros(SHAPE)[key].shape
        g = rng.standard_normal(batch + shape)
        parts.append(sc.SparseCotangent.pick(g, idx, SHAPE, nb))
        want = want + _scatter(g, idx, SHAPE, nb)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    assert isinstance(total, sc.SparseCotangent) and total.shape == batch + SHAPE
    np.testing.assert_allclose(total.dense(), want, rtol=1e-13, atol=1e-13)
    # an array added to it (either side) densifies it; the values are the sum's
    ones = np.ones(batch + SHAPE)
    np.testing.assert_allclose(ones + total, want + 1, rtol=1e-13)
    np.testing.assert_allclose(total + ones, want + 1, rtol=1e-13)
    assert type(ones + total) is np.ndarray and type(total + ones) is np.ndarray
    np.testing.assert_allclose(np.asarray(total), want, rtol=1e-13)


def test_adding_to_an_older_sum_does_not_change_the_newer_one():
    x = np.zeros(6)
    p = [sc.SparseCotangent.pick(np.array(float(i + 1)), (i,), x.shape, 0) for i in range(6)]
    ab = p[0] + p[1]
    abc = ab + p[2]  # appends to the shared list
    abd = ab + p[3]  # ab is no longer the latest: it must not see p[2]
    np.testing.assert_array_equal(ab.dense(), [1, 2, 0, 0, 0, 0])
    np.testing.assert_array_equal(abc.dense(), [1, 2, 3, 0, 0, 0])
    np.testing.assert_array_equal(abd.dense(), [1, 2, 0, 4, 0, 0])
    np.testing.assert_array_equal((abc + abd).dense(), [2, 4, 3, 4, 0, 0])


def test_sparse_dtype_is_the_dense_rules():
    a = sc.SparseCotangent.pick(np.ones(2, np.float32), (slice(0, 2),), (4,), 0)
    b = sc.SparseCotangent.pick(np.ones(2, np.float64), (slice(2, 4),), (4,), 0)
    assert a.dense().dtype == np.float32 and (a + b).dense().dtype == np.float64
    c = sc.SparseCotangent.pick(np.ones(2, np.int64), (slice(0, 2),), (4,), 0)
    assert c.dense().dtype == np.float64


# ---------------------------------------------------------------- complexity
@pytest.mark.xfail(not sc.SPARSE_ENABLED, strict=True,
                   reason="core/tape.py does not densify lazy cotangents yet, so getitem's VJP "
                          "stays dense (O(n k))")
def test_k_picks_allocate_O_n_plus_k_elements(monkeypatch):
    """np.stack([x[i] for i in range(n)]): the backward pass allocates O(n) elements with
    np.zeros (one dense cotangent), not n per pick (n^2)."""
    allocated = []
    real = np.zeros

    def counting(shape, *args, **kwargs):
        z = real(shape, *args, **kwargs)
        allocated.append(z.size)
        return z

    n = 3000
    x = np.arange(n, dtype=float)
    f = cr.grad(lambda x: cnp.sum(cnp.stack([x[i] * (i % 7) for i in range(n)])))
    monkeypatch.setattr(np, "zeros", counting)
    g = f(x)
    monkeypatch.undo()
    np.testing.assert_array_equal(g, np.arange(n) % 7)
    assert sum(allocated) <= 4 * n, (len(allocated), sum(allocated))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_concatenate_rules_sum_the_argument_offsets_once_per_record(monkeypatch, mode):
    """concatenate's rules are called once per argument; each needs where its argument
    starts. Summing the sizes before it on every call made n arguments cost O(n^2) reads of
    shapes; the prefix sums are now computed once per record."""
    from chainrule.rules import linear

    calls = [0]
    real = linear._shape

    def counting(x):
        calls[0] += 1
        return real(x)

    n = 400
    x = np.arange(n, dtype=float)

    def f(x):
        return cnp.concatenate([x[i:i + 1] * 2.0 for i in range(n)])

    monkeypatch.setattr(linear, "_shape", counting)
    if mode == "reverse":
        (g,) = cr.vjp(f, x)[1](np.arange(n, dtype=float))
        np.testing.assert_array_equal(g, 2 * np.arange(n))
    else:
        _, t = cr.jvp(f, (x,), (np.ones(n),))
        np.testing.assert_array_equal(t, np.full(n, 2.0))
    assert calls[0] < 30 * n, calls[0]  # O(n^2) = 80,000 reads before
