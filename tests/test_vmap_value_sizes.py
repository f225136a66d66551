"""vmap of functions that read values to choose a size or a shape (issue 14, "breadth").

``poisson.entropy`` and ``binom.entropy`` sum a number of terms read from ``mu`` / ``n``;
``lstsq``'s residuals exist only at full rank (NumPy's convention). Under ``vmap`` one
program serves every example: the entropies take the number of terms from every example at
once (each example's extra terms add nothing), and ``lstsq`` takes the residuals' shape when
every example agrees on it, else raises ``BatchedValueError`` saying why. Each case is checked
row by row against the unbatched function (and SciPy / NumPy), with batches whose rows need
different term counts and ranks, under ``in_axes`` variants, nesting, ``grad`` and ``jit``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
import chainrule.scipy.stats as cst
from chainrule.batching import BatchedValueError, vmap

rng = np.random.default_rng(14)
TOL = dict(rtol=1e-13, atol=1e-15)


def rows_of(f, *batches, in_axes=0):
    """``f`` applied to each example separately, stacked: what ``vmap(f)`` must give."""
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(batches)
    size = next(np.shape(b)[a] for b, a in zip(batches, axes) if a is not None)
    outs = [f(*[b if a is None else np.take(b, i, axis=a) for b, a in zip(batches, axes)])
            for i in range(size)]
    return outs


def assert_rows(got, rows, **tol):
    for i, row in enumerate(rows):
        if isinstance(row, tuple):
            for k, (g, r) in enumerate(zip(got, row, strict=True)):
                assert np.shape(g[i]) == np.shape(r), f"row {i} output {k}"
                np.testing.assert_allclose(g[i], r, err_msg=f"row {i} output {k}", **(tol or TOL))
        else:
            np.testing.assert_allclose(got[i], row, err_msg=f"row {i}", **(tol or TOL))


# ---------------------------------------------------------------- entropies: one term count for all
MUS = np.array([0.0, 0.7, 31.0, 260.0, -1.0])  # term counts 41..~580, and an invalid mu (nan)


def test_poisson_entropy_rows_with_different_term_counts():
    got = vmap(cst.poisson.entropy)(MUS)
    rows = rows_of(cst.poisson.entropy, MUS)
    assert_rows(got, rows)
    np.testing.assert_allclose(got, scipy.stats.poisson.entropy(MUS), rtol=1e-7)
    assert np.isnan(got[-1])


def test_poisson_entropy_examples_that_are_arrays_in_axes_and_nesting():
    mu = np.abs(rng.standard_normal((3, 4))) * np.array([[1.0], [10.0], [100.0]])
    want = np.stack([cst.poisson.entropy(mu[:, j]) for j in range(4)])
    np.testing.assert_allclose(vmap(cst.poisson.entropy, in_axes=1)(mu), want, **TOL)
    np.testing.assert_allclose(vmap(cst.poisson.entropy, out_axes=1)(mu.T), want.T, **TOL)
    nested = vmap(vmap(cst.poisson.entropy))(mu)  # every (row, column) its own example
    np.testing.assert_allclose(nested, [[cst.poisson.entropy(m) for m in r] for r in mu], **TOL)
    # with loc, mapped or not
    got = vmap(lambda m, loc: cst.poisson.entropy(m, loc), in_axes=(0, None))(MUS[:4], 2.0)
    assert_rows(got, rows_of(lambda m: cst.poisson.entropy(m, 2.0), MUS[:4]))


def test_grad_of_poisson_entropy_under_vmap_and_vmap_under_grad():
    mus = np.array([0.3, 4.0, 55.0])
    g = cr.grad(cst.poisson.entropy)
    assert_rows(vmap(g)(mus), rows_of(g, mus), rtol=1e-12, atol=1e-14)
    total = cr.grad(lambda m: cnp.sum(vmap(cst.poisson.entropy)(m)))(mus)
    np.testing.assert_allclose(total, [g(m) for m in mus], rtol=1e-12, atol=1e-14)
    h = cr.grad(cr.grad(cst.poisson.entropy))
    assert_rows(vmap(h)(mus), rows_of(h, mus), rtol=1e-11, atol=1e-13)
    # the derivative agrees with central differences of SciPy's entropy (itself good to ~1e-6
    # relative at mu = 55: its d/dmu there is 0.0091189944, the exact sum's 0.00911897644182266)
    eps = 1e-6
    fd = (scipy.stats.poisson.entropy(mus + eps) - scipy.stats.poisson.entropy(mus - eps)) / (2 * eps)
    np.testing.assert_allclose(vmap(g)(mus), fd, rtol=5e-6)
    np.testing.assert_allclose(vmap(g)(mus)[2], 0.00911897644182266, rtol=1e-13)


@pytest.mark.parametrize("which", ["poisson", "binom"])
def test_entropy_tail_terms_add_nothing_to_the_derivative(which):
    # terms that one example (or element) needs and another's pmf underflows to 0 in: their
    # derivative must be 0 too, not (-log 0 - 1) * 0 = nan; unbatched arrays had this as well
    if which == "poisson":
        x, n = np.array([0.3, 55.0, 700.0]), None
        f, ref = (lambda mu, n: cst.poisson.entropy(mu)), (lambda mu: scipy.stats.poisson.entropy(mu))
    else:
        x, n = np.array([0.01, 0.45, 0.97]), np.array([2.0, 300.0, 2000.0])
        f, ref = (lambda p, n: cst.binom.entropy(n, p)), (lambda p: scipy.stats.binom.entropy(n, p))
    g = cr.grad(lambda x: cnp.sum(f(x, n)))(x)  # one array: every element gets the most terms
    eps = 1e-6 * x
    fd = (ref(x + eps) - ref(x - eps)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=5e-6)
    in_axes = (0, None if n is None else 0)
    np.testing.assert_allclose(vmap(cr.grad(f), in_axes=in_axes)(x, n), g, rtol=1e-10)
    assert np.all(np.isfinite(vmap(cr.grad(cr.grad(f)), in_axes=in_axes)(x, n)))


NS = np.array([0.0, 1.0, 4.0, 17.0, 2.5, 40.0])  # term counts 1..41; 2.5 is invalid (nan)
PS = np.array([0.3, 0.65, 0.5, 0.1, 0.4, 1.2])   # 1.2 is invalid (nan)


@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0)])
def test_binom_entropy_rows_with_different_term_counts(in_axes):
    n = NS if in_axes[0] is not None else 9.0
    p = PS if in_axes[1] is not None else 0.35
    got = vmap(cst.binom.entropy, in_axes=in_axes)(n, p)
    rows = rows_of(cst.binom.entropy, n, p, in_axes=in_axes)
    assert_rows(got, rows)
    np.testing.assert_allclose(got, scipy.stats.binom.entropy(n, p), rtol=1e-10, atol=1e-14)


def test_binom_entropy_examples_that_are_arrays_and_nesting():
    n = np.array([[3.0, 12.0], [0.0, 25.0], [7.0, 1.0]])
    p = rng.uniform(0.05, 0.95, (3, 2))
    want = np.stack([cst.binom.entropy(n[:, j], p[:, j]) for j in range(2)])
    np.testing.assert_allclose(vmap(cst.binom.entropy, in_axes=1)(n, p), want, **TOL)
    nested = vmap(vmap(cst.binom.entropy), in_axes=(0, 0))(n, p)
    np.testing.assert_allclose(nested, cst.binom.entropy(n, p), **TOL)
    # n unbatched and an array, p batched: the examples share n's term count
    got = vmap(cst.binom.entropy, in_axes=(None, 1))(n[:, 0], p)
    np.testing.assert_allclose(got, [cst.binom.entropy(n[:, 0], p[:, j]) for j in range(2)], **TOL)


def test_grad_of_binom_entropy_under_vmap():
    n, p = np.array([2.0, 9.0, 30.0]), np.array([0.2, 0.5, 0.85])
    g = cr.grad(cst.binom.entropy, argnums=1)
    assert_rows(vmap(g)(n, p), rows_of(g, n, p), rtol=1e-12, atol=1e-14)
    gp = cr.grad(lambda p: cst.binom.entropy(4, p))  # the audit's case: n where()d with p
    assert_rows(vmap(gp)(p), rows_of(gp, p), rtol=1e-12, atol=1e-14)
    eps = 1e-6
    fd = (scipy.stats.binom.entropy(n, p + eps) - scipy.stats.binom.entropy(n, p - eps)) / (2 * eps)
    np.testing.assert_allclose(vmap(g)(n, p), fd, rtol=1e-6, atol=1e-8)
    _, tangent = cr.jvp(vmap(lambda p: cst.binom.entropy(n[1], p)), (p,), (np.ones(3),))
    np.testing.assert_allclose(tangent, [g(n[1], q) for q in p], rtol=1e-12, atol=1e-14)


def test_entropies_under_jit_still_run_eagerly():
    # reading the values under jit is still reported to the staging trace (the call runs eagerly)
    with pytest.warns(cr.JitFallbackWarning):
        got = cr.jit(cst.poisson.entropy)(MUS[:3])
    np.testing.assert_allclose(got, cst.poisson.entropy(MUS[:3]), **TOL)
    with pytest.warns(cr.JitFallbackWarning):
        got = cr.jit(vmap(cst.binom.entropy))(NS[:4], PS[:4])
    np.testing.assert_allclose(got, cst.binom.entropy(NS[:4], PS[:4]), **TOL)


# ---------------------------------------------------------------- lstsq: a shape every example shares
def _full_rank(k, m=4, n=2):
    return rng.standard_normal((k, m, n))


def _rank_one(k, m=4, n=2):
    return rng.standard_normal((k, m, 1)) * rng.standard_normal((k, 1, n))


def _lstsq(a, b):
    return tuple(cnp.linalg.lstsq(a, b, rcond=None))


def _assert_numpy_rows(got, a, b, in_axes=(0, 0)):
    rows = rows_of(_lstsq, a, b, in_axes=in_axes)
    assert_rows(got, rows, rtol=1e-12, atol=1e-13)
    for i, row in enumerate(rows_of(lambda a, b: np.linalg.lstsq(a, b, rcond=None), a, b,
                                    in_axes=in_axes)):
        for g, r in zip(got, row, strict=True):
            np.testing.assert_allclose(g[i], r, rtol=1e-10, atol=1e-12)
            assert np.asarray(g).dtype == np.asarray(r).dtype


@pytest.mark.parametrize("bshape", [(), (3,)], ids=["b vector", "b matrix"])
@pytest.mark.parametrize("make", [_full_rank, _rank_one], ids=["all full rank", "all rank one"])
def test_lstsq_tall_batches_that_agree_on_full_rank(make, bshape):
    a = make(5)
    b = rng.standard_normal((5, 4) + bshape)
    got = vmap(_lstsq)(a, b)
    _assert_numpy_rows(got, a, b)
    full = make is _full_rank
    assert got[1].shape == ((5,) + ((bshape or (1,)) if full else (0,)))
    assert list(got[2]) == [2 if full else 1] * 5


def test_lstsq_wide_batches_whose_rows_differ_in_rank():
    # m <= n: NumPy's residuals are empty whatever the rank, so the ranks may differ
    a = np.concatenate([_full_rank(2, 2, 3), _rank_one(2, 2, 3), np.zeros((1, 2, 3))])
    b = rng.standard_normal((5, 2))
    got = vmap(_lstsq)(a, b)
    _assert_numpy_rows(got, a, b)
    assert list(got[2]) == [2, 2, 1, 1, 0]
    sq = np.concatenate([_full_rank(2, 3, 3), _rank_one(1, 3, 3)])  # square: m == n
    got = vmap(_lstsq)(sq, b[:3, :1] * np.ones((3, 3)))
    assert list(got[2]) == [3, 3, 1] and got[1].shape == (3, 0)


def test_lstsq_tall_rows_that_differ_in_rank_raise_naming_why():
    a = np.concatenate([_full_rank(2), _rank_one(1)])
    b = rng.standard_normal((3, 4))

    def fit(a, b):
        return cnp.linalg.lstsq(a, b, rcond=None)[0]
    with pytest.raises(BatchedValueError, match=r"vmap\(fit\): lstsq's residuals .* differ in rank"):
        vmap(fit)(a, b)
    # the error's suggestion: x alone is pinv(a) @ b, whatever the ranks
    x = vmap(lambda a, b: cnp.linalg.pinv(a) @ b)(a, b)
    assert_rows(x, [np.linalg.lstsq(ai, bi, rcond=None)[0] for ai, bi in zip(a, b)],
                rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("in_axes", [(None, 0), (0, None), (2, 1)])
def test_lstsq_in_axes(in_axes):
    a = rng.standard_normal((4, 2)) if in_axes[0] is None else _full_rank(3)
    b = rng.standard_normal((3, 4)) if in_axes[1] is not None else rng.standard_normal(4)
    if in_axes == (2, 1):
        a, b = np.moveaxis(a, 0, 2), np.moveaxis(b, 0, 1)
    got = vmap(_lstsq, in_axes=in_axes)(a, b)
    _assert_numpy_rows(got, a, b, in_axes=in_axes)


def test_lstsq_nested_vmap_and_rcond_per_example():
    a = rng.standard_normal((2, 3, 5, 3))
    a[1, :, :, 2] = 1e-9 * a[1, :, :, 0]  # rank 2 at rcond 1e-6, rank 3 at the default
    b = rng.standard_normal((2, 3, 5))
    got = vmap(vmap(_lstsq))(a[:1], b[:1])  # one full-rank row of 3 examples
    want = [[np.linalg.lstsq(a[0, j], b[0, j], rcond=None) for j in range(3)]]
    for k in (0, 1, 2, 3):
        np.testing.assert_allclose(got[k], [[w[k] for w in r] for r in want], rtol=1e-10, atol=1e-12)
    coarse = vmap(vmap(lambda a, b: tuple(cnp.linalg.lstsq(a, b, rcond=1e-6))))(a[1:], b[1:])
    assert coarse[1].shape == (1, 3, 0) and (coarse[2] == 2).all()
    np.testing.assert_allclose(coarse[0][0], [np.linalg.lstsq(a[1, j], b[1, j], rcond=1e-6)[0]
                                              for j in range(3)], rtol=1e-8, atol=1e-10)
    with pytest.raises(BatchedValueError, match="differ in rank"):  # one outer row each way
        vmap(vmap(lambda a, b: cnp.linalg.lstsq(a, b, rcond=1e-6)[0]))(a, b)


def test_grad_of_lstsq_under_vmap():
    a, b = _full_rank(4), rng.standard_normal((4, 4))

    def loss(a, b):
        x, res, _, s = cnp.linalg.lstsq(a, b, rcond=None)
        return cnp.sum(x ** 2) + cnp.sum(res) + cnp.sum(s)
    g = cr.grad(loss, argnums=(0, 1))
    got = vmap(g)(a, b)
    for k in (0, 1):
        np.testing.assert_allclose(got[k], [g(ai, bi)[k] for ai, bi in zip(a, b)], rtol=1e-11, atol=1e-12)
    outer = cr.grad(lambda a: cnp.sum(vmap(loss)(a, b)))(a)
    np.testing.assert_allclose(outer, got[0], rtol=1e-11, atol=1e-12)
    # wide, rows of different ranks: x's derivative per example (no residuals)
    w = np.concatenate([_full_rank(2, 2, 3), _rank_one(1, 2, 3)])
    bw = rng.standard_normal((3, 2))
    gx = cr.grad(lambda a, b: cnp.sum(cnp.linalg.lstsq(a, b, rcond=None)[0] ** 2))
    np.testing.assert_allclose(vmap(gx)(w, bw), [gx(ai, bi) for ai, bi in zip(w, bw)], rtol=1e-10,
                               atol=1e-12)


def test_scipy_lstsq_under_vmap():
    a = np.concatenate([_full_rank(2, 2, 3), _rank_one(1, 2, 3)])
    b = rng.standard_normal((3, 2))
    x, res, rank, s = vmap(csl.lstsq)(a, b)
    for i in range(3):
        xs, ress, ranks, ss = scipy.linalg.lstsq(a[i], b[i])
        np.testing.assert_allclose(x[i], xs, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(s[i], ss, rtol=1e-12, atol=1e-14)
        assert rank[i] == ranks and np.shape(res[i]) == np.shape(ress)
    tall, bt = _full_rank(3), rng.standard_normal((3, 4))
    x, res, rank, _ = vmap(csl.lstsq)(tall, bt)
    assert res.shape == (3,) and list(rank) == [2, 2, 2]  # a scalar residue per example, as SciPy's
    np.testing.assert_allclose(res, [scipy.linalg.lstsq(t, c)[1] for t, c in zip(tall, bt)], rtol=1e-10)
    assert type(csl.lstsq(tall[0], bt[0])[2]) is int  # unbatched: SciPy's Python int


def test_scipy_pinv_rank_under_vmap():
    a = np.concatenate([_full_rank(2), _rank_one(2), np.zeros((1, 4, 2))])
    p, rank = vmap(lambda a: csl.pinv(a, return_rank=True))(a)
    assert list(rank) == [2, 2, 1, 1, 0]
    for i in range(5):
        pi, ri = scipy.linalg.pinv(a[i], return_rank=True)
        np.testing.assert_allclose(p[i], pi, rtol=1e-10, atol=1e-12)
        assert rank[i] == ri
    assert type(csl.pinv(np.array([[1.0, 2.0], [2.0, 4.0]]), return_rank=True)[1]) is int
    g = cr.grad(lambda a: cnp.sum(csl.pinv(a, return_rank=True)[0] ** 2))
    np.testing.assert_allclose(vmap(g)(a[:4]), [g(ai) for ai in a[:4]], rtol=1e-10, atol=1e-12)


def test_lstsq_under_jit():
    wide, bw = rng.standard_normal((2, 3)), rng.standard_normal(2)
    with warnings.catch_warnings():  # m <= n: nothing is read from the values, it is staged
        warnings.simplefilter("error", cr.JitFallbackWarning)
        got = cr.jit(_lstsq)(wide, bw)
    for g, w in zip(got, np.linalg.lstsq(wide, bw, rcond=None), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    tall, bt = rng.standard_normal((4, 2)), rng.standard_normal(4)
    with pytest.warns(cr.JitFallbackWarning):  # m > n: the residuals' shape is read
        got = cr.jit(_lstsq)(tall, bt)
    for g, w in zip(got, np.linalg.lstsq(tall, bt, rcond=None), strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
