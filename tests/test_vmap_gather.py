"""vmap with a batched integer index (issue 16): ``x[i]``, ``take``, ``take_along_axis`` where
``i`` differs per example, checked against ``jax.vmap`` over a sweep of index forms (integers,
negative ones, slices, None, constant index arrays, broadcasting, a leading Ellipsis) and
in_axes, with gradients in both orders; and the per-example cross-entropy that motivated it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.batching import vmap
from chainrule.core.errors import TracerEscapeError
from chainrule.rules import linear as lin
from chainrule.scipy.special import logsumexp

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


# ------------------------------------------------------------------ the sweep
class Slot:
    """Where the ``n``-th batched index array goes in a per-example key."""

    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return f"batched[{self.n}]"


@st.composite
def gather_problems(draw):
    """An array ``x``, an index key for one example with at least one batched integer array,
    the batch of those arrays and the in_axes of everything."""
    size = draw(st.integers(1, 3), label="batch")
    shape = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=3), label="shape"))
    n_idx = draw(st.integers(1, len(shape)), label="indexed axes")
    ellipsis = draw(st.booleans(), label="leading Ellipsis")
    axes = shape[len(shape) - n_idx:] if ellipsis else shape[:n_idx]
    common = tuple(draw(st.lists(st.integers(1, 3), max_size=2), label="index shape"))
    rng = np.random.default_rng(draw(st.integers(0, 2**16), label="seed"))
    kinds = [draw(st.sampled_from(["slice", "int", "const", "batched"]), label="entry")
             for _ in axes]
    if "batched" not in kinds:
        kinds[draw(st.integers(0, len(kinds) - 1), label="batched entry")] = "batched"
    key, batched = [Ellipsis] if ellipsis else [], []
    for kind, n in zip(kinds, axes):
        ishape = common[draw(st.integers(0, len(common)), label="broadcast"):]  # a suffix
        if draw(st.integers(0, 5), label="None before") == 0:
            key.append(None)
        if kind == "slice":
            key.append(slice(draw(st.sampled_from([None, 1, -2]), label="start"), None,
                             draw(st.sampled_from([None, 1, -1, 2]), label="step")))
        elif kind == "int":
            key.append(int(rng.integers(-n, n)))
        elif kind == "const":
            key.append(rng.integers(-n, n, size=ishape))
        else:
            key.append(Slot(len(batched)))
            batched.append(rng.integers(-n, n, size=(size,) + ishape))
    x_axis = draw(st.sampled_from([None, 0, -1]), label="x in_axes")
    x = rng.normal(size=shape if x_axis is None else (size,) + shape)
    if x_axis == -1:
        x = np.moveaxis(x, 0, -1)
    idx_axis = draw(st.sampled_from([0, -1]), label="index in_axes")
    if idx_axis == -1:
        batched = [np.moveaxis(b, 0, -1) for b in batched]
    return x, tuple(key), batched, (x_axis,) + (idx_axis,) * len(batched)


def _fill(key, arrays):
    return tuple(arrays[k.n] if isinstance(k, Slot) else k for k in key)


def _per_example(key):
    """``x[key]`` of one example, for chainrule and for JAX."""
    def f(x, *arrays):
        return cnp.getitem(x, _fill(key, arrays))

    def fj(x, *arrays):
        return jnp.asarray(x)[_fill(key, arrays)]
    return f, fj


def _loss(key):
    def f(x, *arrays):
        return np.sum(np.sin(cnp.getitem(x, _fill(key, arrays))) ** 2)

    def fj(x, *arrays):
        return jnp.sum(jnp.sin(x[_fill(key, arrays)]) ** 2)
    return f, fj


def _sweep(n):
    return settings(max_examples=n, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_values(problem):
    x, key, batched, in_axes = problem
    f, fj = _per_example(key)
    got = vmap(f, in_axes=in_axes)(x, *batched)
    want = jax.vmap(fj, in_axes=in_axes)(x, *batched)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=0)
    # the same, one example at a time, in NumPy
    for row, (xe, ie) in zip(got, _examples(x, batched, in_axes)):
        np.testing.assert_array_equal(row, xe[_fill(key, ie)])


def _examples(x, batched, in_axes):
    """The per-example arguments, as a Python loop sees them."""
    cols = [list(np.moveaxis(b, in_axes[1], 0)) for b in batched]
    n = len(cols[0])
    xs = [x] * n if in_axes[0] is None else list(np.moveaxis(x, in_axes[0], 0))
    return [(xs[b], [c[b] for c in cols]) for b in range(n)]


def check_gradients(problem):
    x, key, batched, in_axes = problem
    f, fj = _loss(key)
    examples = _examples(x, batched, in_axes)
    # per-example gradients: vmap of grad, against JAX and against a loop of grads
    got = vmap(cr.grad(f), in_axes=in_axes)(x, *batched)
    want = jax.vmap(jax.grad(fj), in_axes=in_axes)(x, *batched)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, [cr.grad(f)(xe, *ie) for xe, ie in examples],
                               rtol=1e-12, atol=1e-14)
    # the gradient of the summed batch: grad of vmap (repeated picks accumulate)
    got = cr.grad(lambda x: np.sum(vmap(f, in_axes=in_axes)(x, *batched)))(x)
    if in_axes[0] is None:
        want = sum(cr.grad(f)(xe, *ie) for xe, ie in examples)
    else:
        want = np.moveaxis(np.stack([cr.grad(f)(xe, *ie) for xe, ie in examples]), 0, in_axes[0])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    # forward mode through the same picks: jvp of vmap
    t = np.cos(np.arange(x.size).reshape(x.shape))
    ts = [t] * len(examples) if in_axes[0] is None else list(np.moveaxis(t, in_axes[0], 0))
    got = cr.jvp(lambda x: vmap(f, in_axes=in_axes)(x, *batched), (x,), (t,))[1]
    want = [cr.jvp(lambda xe, ie=ie: f(xe, *ie), (xe,), (te,))[1]
            for (xe, ie), te in zip(examples, ts)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# JAX compiles every new shape, so CI runs a short sweep and `-m slow` a long one
@_sweep(15)
@given(problem=gather_problems())
def test_batched_indices_agree_with_jax(problem):
    check_values(problem)


@_sweep(10)
@given(problem=gather_problems())
def test_gradients_through_batched_indices_agree_with_jax(problem):
    check_gradients(problem)


@pytest.mark.slow
@_sweep(150)
@given(problem=gather_problems())
def test_batched_indices_agree_with_jax_long(problem):
    check_values(problem)
    check_gradients(problem)


# ------------------------------------------------------------------ named forms
def test_per_example_cross_entropy_picks_each_examples_label():
    """``-log_softmax(W @ x)[y]`` with a label per example: vmap(grad), grad(vmap), jit."""
    rng = np.random.default_rng(0)
    W, X, y = rng.normal(size=(4, 5)), rng.normal(size=(9, 5)), rng.integers(0, 4, size=9)

    def loss(W, x, y):
        z = W @ x
        return -(z - logsumexp(z))[y]

    def loss_j(W, x, y):
        z = W @ x
        return -(z - jax.scipy.special.logsumexp(z))[y]
    want = jax.vmap(jax.grad(loss_j), in_axes=(None, 0, 0))(W, X, y)
    per_example = vmap(cr.grad(loss), in_axes=(None, 0, 0))
    np.testing.assert_allclose(per_example(W, X, y), want, rtol=1e-12)
    np.testing.assert_allclose(per_example(W, X, y),
                               [cr.grad(loss)(W, x, t) for x, t in zip(X, y)], rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # staged as it is: the index is an operand, not data
        np.testing.assert_allclose(cr.jit(per_example)(W, X, y), want, rtol=1e-12)
    np.testing.assert_allclose(vmap(cr.grad(loss), in_axes=(None, 0, 0), chunk_size=4)(W, X, y),
                               want, rtol=1e-12)
    total = cr.grad(lambda W: np.sum(vmap(loss, in_axes=(None, 0, 0))(W, X, y)))(W)
    np.testing.assert_allclose(total, want.sum(0), rtol=1e-12)
    # second order: the per-example Hessians in the weights
    H = vmap(cr.hessian(loss), in_axes=(None, 0, 0))(W, X, y)
    np.testing.assert_allclose(H, [cr.hessian(loss)(W, x, t) for x, t in zip(X, y)],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take_of_a_numpy_array_with_a_batched_index(mode):
    """An embedding lookup: one table, an index per example (also np.take's modes)."""
    rng = np.random.default_rng(1)
    E, idx = rng.normal(size=(6, 3)), rng.integers(-6, 6, size=(5, 4))
    if mode != "raise":
        idx = idx * 3
    got = vmap(lambda e, i: cnp.take(e, i, axis=0, mode=mode), in_axes=(None, 0))(E, idx)
    np.testing.assert_array_equal(got, np.take(E, idx, axis=0, mode=mode))
    g = vmap(cr.grad(lambda e, i: np.sum(cnp.take(e, i, axis=0, mode=mode) ** 2)),
             in_axes=(None, 0))(E, idx)
    picked = np.take(np.arange(6), idx, mode=mode)  # the rows each mode reads
    want = jax.vmap(jax.grad(lambda e, i: jnp.sum(e[i] ** 2)), in_axes=(None, 0))(E, picked)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    # the flattened form and a batched table
    np.testing.assert_array_equal(vmap(lambda e, i: cnp.take(e, i % 18))(np.stack([E] * 5), idx),
                                  np.stack([np.take(E, i % 18) for i in idx]))


def test_take_along_axis_with_batched_indices():
    rng = np.random.default_rng(2)
    T, J = rng.normal(size=(5, 4, 3)), rng.integers(-3, 3, size=(5, 4, 2))
    got = vmap(lambda t, j: cnp.take_along_axis(t, j, axis=1))(T, J)
    np.testing.assert_array_equal(got, np.take_along_axis(T, J, axis=2))
    got = vmap(lambda t, j: cnp.take_along_axis(t, j, axis=1), in_axes=(None, 0))(T[0], J)
    np.testing.assert_array_equal(got, np.stack([np.take_along_axis(T[0], j, 1) for j in J]))
    g = vmap(cr.grad(lambda t, j: np.sum(np.sin(cnp.take_along_axis(t, j, axis=1)))))(T, J)
    want = jax.vmap(jax.grad(lambda t, j: jnp.sum(jnp.sin(jnp.take_along_axis(t, j, axis=1)))))(T, J)
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_nested_vmaps_batch_the_index_and_the_array_separately():
    rng = np.random.default_rng(3)
    X, idx = rng.normal(size=(3, 6, 2)), rng.integers(-6, 6, size=(4, 5))
    inner = vmap(lambda x, i: cnp.take(x, i, axis=0), in_axes=(0, None))   # over tables
    got = vmap(inner, in_axes=(None, 0))(X, idx)                           # over indices
    np.testing.assert_array_equal(got, X[:, idx].transpose(1, 0, 2, 3))
    got = vmap(vmap(lambda x, i: x[i], in_axes=(None, 0)), in_axes=(0, None))(X, idx)
    np.testing.assert_array_equal(got, X[:, idx])


def test_what_cannot_be_batched_still_says_so():
    x, idx = np.arange(5.0), np.array([1, 3])
    # NumPy's own indexing of a plain array cannot see a traced index: the error says what to write
    with pytest.raises(TracerEscapeError, match=r"chainrule\.numpy\.take\(x, i, axis=0\)"):
        vmap(lambda x, i: x[i], in_axes=(None, 0))(x, idx)
    # a mask's result has a per-example shape
    with pytest.raises(cr.batching.BatchedValueError, match="reads the value of a batched"):
        vmap(lambda x, m: x[m])(np.ones((2, 3)), np.ones((2, 3), bool))
    with pytest.raises(IndexError, match="integer or boolean"):
        vmap(lambda x, i: x[i])(np.ones((2, 3)), np.ones((2, 2)))
    # out of bounds, as NumPy
    with pytest.raises(IndexError):
        vmap(lambda x, i: x[i])(np.ones((2, 3)), np.array([[0], [3]]))


def test_a_traced_index_is_a_gather_only_when_its_value_is_not_one_constant():
    """Under grad an integer index is a constant (a getitem parameter, the sparse transpose
    and all); a staged or batched one is an operand of gather."""
    from chainrule.core.trace import ReverseTrace

    trace = ReverseTrace()
    x = trace.new_input(np.arange(4.0))
    _ = x[trace.new_input(np.array([1, 2]))]
    assert [r.prim for r in trace.tape] == [lin.getitem_p]
    # jit stages an index computed from its inputs instead of running eagerly
    f = cr.jit(lambda x, i: x[i % 4] * 2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.JitFallbackWarning)
        for i in ([1, 2], [3, -1]):
            np.testing.assert_array_equal(f(np.arange(4.0), np.array(i)), np.arange(4.0)[i] * 2)
    assert f.cache_info()["eager"] == 0


def test_masks_that_keep_shapes_static_are_elementwise():
    """``np.where(mask, a, b)`` and ``x * mask`` with a mask per example need no gather: the
    result has the per-example shape whatever the mask (checked with gradients)."""
    rng = np.random.default_rng(4)
    X, M = rng.normal(size=(5, 3, 2)), rng.uniform(size=(5, 3, 2)) < 0.5

    def f(x, m):
        return np.sum(np.where(m, np.sin(x), x ** 2) + x * m)
    for in_axes, x in (((0, 0), X), ((None, 0), X[0])):
        xs = [x] * 5 if in_axes[0] is None else list(X)
        np.testing.assert_allclose(vmap(f, in_axes=in_axes)(x, M),
                                   [f(xe, m) for xe, m in zip(xs, M)], rtol=1e-13)
        np.testing.assert_allclose(vmap(cr.grad(f), in_axes=in_axes)(x, M),
                                   [cr.grad(f)(xe, m) for xe, m in zip(xs, M)], rtol=1e-13)


@pytest.mark.parametrize("key,idx", [
    ((Ellipsis,), np.array([[0, 2], [2, -1]])),                  # repeats accumulate
    ((slice(None), Ellipsis), np.array([1, 0, 1])),
    ((None, 1, Ellipsis), np.array([0, 0])),                     # split by None: axes first
])
def test_gather_and_its_transpose_pass_check_grads(key, idx):
    """The pair's own rules (both modes, second order, batched cotangents and tangents),
    with the index as a plain operand."""
    x = np.random.default_rng(5).normal(size=(3, 2))
    cr.check_grads(lambda x: np.sin(lin.gather_p(x, idx, key=key)) ** 2, order=2)(x)
    g = np.random.default_rng(6).normal(size=lin.gather_p(x, idx, key=key).shape)
    cr.check_grads(lambda g: np.sin(lin.gather_scatter_add_p(g, idx, key=key, shape=(3, 2))),
                   order=2)(g)
