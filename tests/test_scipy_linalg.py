"""chainrule.scipy.linalg: expm, logm, sqrtm, solve_sylvester, solve_banded, lu_factor/lu_solve,
cho_factor/cho_solve, block_diag and SciPy's spellings of the decompositions. Both modes to second
order with batched passes at several points; values against SciPy; derivatives against JAX (x64)
where JAX differentiates the function, else against independent SciPy identities (expm_frechet,
the Sylvester equation of sqrtm's derivative, logm as expm's inverse)."""

import numpy as np
import pytest
import scipy.linalg as sl

import chainrule as cr
import chainrule.scipy.linalg as csl
from chainrule.gradcheck import check_batched, check_grads

rng = np.random.default_rng(11)


def randn(*shape):
    return rng.standard_normal(shape)


def mT(x):
    return np.swapaxes(x, -1, -2)


def spd(*shape):
    x = randn(*shape)
    return x @ mT(x) + shape[-1] * np.eye(shape[-1])


def check(f, *args):
    check_grads(f, modes=("fwd", "rev"), order=2)(*args)
    check_batched(f, *args)


POINTS = [lambda: 0.5 * randn(3, 3), lambda: 0.5 * randn(2, 3, 3), lambda: randn(2, 2)]


# ---------------------------------------------------------------- matrix functions
@pytest.mark.parametrize("point", range(len(POINTS)))
def test_expm_both_modes_second_order_batched_and_scipy(point):
    a = POINTS[point]()
    check(csl.expm, a)
    np.testing.assert_allclose(csl.expm(a), sl.expm(a))
    e = randn(*a.shape)
    _, t = cr.jvp(csl.expm, (a,), (e,))
    want = np.stack([sl.expm_frechet(x, y, compute_expm=False)
                     for x, y in zip(a.reshape(-1, *a.shape[-2:]), e.reshape(-1, *a.shape[-2:]))])
    np.testing.assert_allclose(t, want.reshape(a.shape), rtol=1e-10, atol=1e-12)


def test_expm_frechet_values_and_derivatives():
    a, e = 0.5 * randn(3, 3), randn(3, 3)
    got, want = csl.expm_frechet(a, e), sl.expm_frechet(a, e)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-10)
    np.testing.assert_allclose(csl.expm_frechet(a, e, compute_expm=False), want[1], rtol=1e-10)
    check(lambda a, e: csl.expm_frechet(a, e), a, e)
    with pytest.raises(ValueError, match="same shape"):
        csl.expm_frechet(a, e[:2])


@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (4, 4)])
def test_sqrtm_and_logm_both_modes_second_order_batched(shape):
    a = spd(*shape) / shape[-1]
    check(csl.sqrtm, a)
    check(csl.logm, a)
    np.testing.assert_allclose(csl.sqrtm(a), sl.sqrtm(a), rtol=1e-10)
    np.testing.assert_allclose(csl.logm(a), sl.logm(a), rtol=1e-10, atol=1e-12)


def test_sqrtm_and_logm_nonsymmetric_derivatives_satisfy_their_equations():
    """X = sqrtm(A): X dX + dX X = dA (solved by SciPy independently); L = logm'(A) E:
    expm_frechet(logm(A), L) = E."""
    a = randn(3, 3) + 4 * np.eye(3)
    e = randn(3, 3)
    x, dx = cr.jvp(csl.sqrtm, (a,), (e,))
    np.testing.assert_allclose(dx, sl.solve_sylvester(x, x, e), rtol=1e-9)
    lg, dl = cr.jvp(csl.logm, (a,), (e,))
    np.testing.assert_allclose(sl.expm_frechet(lg, dl, compute_expm=False), e, rtol=1e-9, atol=1e-12)
    check(csl.sqrtm, a)
    check(csl.logm, a)
    # the VJP is the JVP's transpose: <g, L(A, E)> = <L(A^T, g), E>
    g = randn(3, 3)
    for f in (csl.expm, csl.sqrtm, csl.logm):
        _, t = cr.jvp(f, (a,), (e,))
        (ga,) = cr.vjp(f, a)[1](g)
        np.testing.assert_allclose(np.sum(g * t), np.sum(ga * e), rtol=1e-9)


def test_matrix_functions_refuse_a_complex_result_for_real_input():
    with pytest.raises(ValueError, match="complex"):
        cr.grad(lambda a: np.sum(csl.sqrtm(a)))(np.diag([-1.0, 2.0]))
    with pytest.raises(ValueError, match="complex"):
        csl.logm(np.diag([-1.0, 2.0]))
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        csl.expm(randn(2, 3))


# ---------------------------------------------------------------- Sylvester
@pytest.mark.parametrize("stack", [(), (2,)])
def test_solve_sylvester_both_modes_second_order_batched(stack):
    a = randn(*stack, 3, 3) + 3 * np.eye(3)
    b = randn(2, 2) + 3 * np.eye(2)
    q = randn(*stack, 3, 2)
    check(csl.solve_sylvester, a, b, q)
    x = csl.solve_sylvester(a, b, q)
    np.testing.assert_allclose(a @ x + x @ b, q, atol=1e-12)
    with pytest.raises(ValueError, match="q must be"):
        csl.solve_sylvester(a, b, randn(2, 3))


# ---------------------------------------------------------------- banded
@pytest.mark.parametrize("l_and_u,bshape", [((1, 1), (5,)), ((2, 1), (5, 2)), ((0, 2), (5, 3)),
                                            ((1, 0), (2, 5, 1))])
def test_solve_banded_both_modes_second_order_batched(l_and_u, bshape):
    lo, up = l_and_u
    ab = randn(lo + up + 1, 5)
    ab[up] += 4.0  # a dominant diagonal
    b = randn(*bshape)
    check(lambda ab, b: csl.solve_banded(l_and_u, ab, b), ab, b)
    np.testing.assert_allclose(csl.solve_banded(l_and_u, ab, b),
                               np.stack([sl.solve_banded(l_and_u, ab, bb) for bb in b])
                               if b.ndim == 3 else sl.solve_banded(l_and_u, ab, b))
    # the corners of ab lie outside the matrix: never read, zero gradient
    g = cr.grad(lambda ab: np.sum(csl.solve_banded(l_and_u, ab, b) ** 2))(ab)
    for r in range(up):
        assert np.all(g[r, :up - r] == 0)
    for r in range(up + 1, lo + up + 1):
        assert np.all(g[r, 5 - (r - up):] == 0)


def test_solve_banded_matches_the_dense_solve_gradient():
    ab = randn(3, 4)
    ab[1] += 4.0
    b = randn(4)

    def dense(ab):
        a = np.zeros((4, 4))
        for r in range(3):
            for j in range(4):
                i = r - 1 + j
                if 0 <= i < 4:
                    a[i, j] = ab[r, j]
        return a

    a = dense(ab)
    x = np.linalg.solve(a, b)
    gb = np.linalg.solve(a.T, 2 * x)
    want_ab = np.zeros_like(ab)  # the band of -gb x^T
    ga = -np.outer(gb, x)
    for r in range(3):
        for j in range(4):
            i = r - 1 + j
            if 0 <= i < 4:
                want_ab[r, j] = ga[i, j]
    got_ab, got_b = cr.grad(lambda ab, b: np.sum(csl.solve_banded((1, 1), ab, b) ** 2), argnums=(0, 1))(ab, b)
    np.testing.assert_allclose(got_ab, want_ab, rtol=1e-10)
    np.testing.assert_allclose(got_b, gb, rtol=1e-10)


# ---------------------------------------------------------------- LU, Cholesky
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 3)])
def test_lu_factor_and_lu_solve_both_modes_second_order_batched(shape):
    a = randn(*shape)
    lu, piv = csl.lu_factor(a)
    wlu, wpiv = sl.lu_factor(a)
    np.testing.assert_allclose(lu, wlu)
    np.testing.assert_array_equal(piv, wpiv)
    check(lambda a: csl.lu_factor(a)[0], a)
    b = randn(*shape[:-1], 2)
    for trans in (0, 1):
        check(lambda a, b, t=trans: csl.lu_solve(csl.lu_factor(a), b, trans=t), a, b)
        want = np.linalg.solve(mT(a) if trans else a, b)
        np.testing.assert_allclose(csl.lu_solve(csl.lu_factor(a), b, trans=trans), want, rtol=1e-10)


def test_cho_factor_cho_solve_both_modes_second_order_batched():
    a, b = spd(3, 3), randn(3, 2)
    for lower in (False, True):
        check(lambda a, b, lo=lower: csl.cho_solve(csl.cho_factor(a, lower=lo), b), a, b)
        np.testing.assert_allclose(csl.cho_solve(csl.cho_factor(a, lower=lower), b),
                                   sl.cho_solve(sl.cho_factor(a, lower=lower), b))


# ---------------------------------------------------------------- block_diag
def test_block_diag_values_and_derivatives():
    a, v, q = randn(2, 2), randn(3), randn(3, 1)
    np.testing.assert_array_equal(csl.block_diag(a, v, 2.0, q), sl.block_diag(a, v, 2.0, q))
    check(lambda a, v, q: csl.block_diag(a, v, q) ** 2, a, v, q)
    assert csl.block_diag().shape == sl.block_diag().shape
    with pytest.raises(ValueError, match="2 dimensions"):
        csl.block_diag(randn(2, 2, 2))


# ---------------------------------------------------------------- complex matrices
def crandn(*shape):
    return randn(*shape) + 1j * randn(*shape)


def test_complex_matrices_both_modes_second_order_batched():
    """The matrix functions, the Sylvester and banded solves and LU are holomorphic: their VJPs are
    plain transposes (JAX's convention), and SciPy's values are matched."""
    a = crandn(3, 3) + 3 * np.eye(3)
    for f in (csl.expm, csl.sqrtm, csl.logm):
        check(f, a if f is not csl.expm else 0.3 * a)
        np.testing.assert_allclose(f(a), getattr(sl, f.__name__)(a), rtol=1e-10)
    b = crandn(3, 2)
    check(csl.solve_sylvester, a, crandn(2, 2) + 3 * np.eye(2), b)
    ab = crandn(3, 3)
    ab[1] += 4.0
    check(lambda ab, b: csl.solve_banded((1, 1), ab, b), ab, b)
    check(lambda a: csl.lu_factor(a)[0], a)
    for trans in (0, 1, 2):
        check(lambda a, b, t=trans: csl.lu_solve(csl.lu_factor(a), b, trans=t), a, b)
        np.testing.assert_allclose(csl.lu_solve(csl.lu_factor(a), b, trans=trans),
                                   sl.lu_solve(sl.lu_factor(a), b, trans=trans))


# ---------------------------------------------------------------- any order
THIRD = {
    "expm": (csl.expm, lambda: (randn(2, 2),)),
    "sqrtm": (csl.sqrtm, lambda: (randn(2, 2) + 3 * np.eye(2),)),
    "solve_banded": (lambda ab, b: csl.solve_banded((1, 0), ab, b),
                     lambda: (randn(2, 3) + np.array([[4.0], [0.0]]), randn(3))),
    "lu_factor": (lambda a: csl.lu_factor(a)[0], lambda: (randn(3, 3),)),
    "solve_sylvester": (csl.solve_sylvester,
                        lambda: (randn(2, 2) + 3 * np.eye(2), randn(2, 2) + 3 * np.eye(2), randn(2, 2))),
}


@pytest.mark.parametrize("name", list(THIRD))
def test_third_order(name):
    f, args = THIRD[name]
    check_grads(f, modes=("fwd", "rev"), order=3)(*args())


# ---------------------------------------------------------------- float32 stays float32
F32_EYE = np.eye(3, dtype=np.float32)
FLOAT32 = {
    "expm": lambda a: np.sum(csl.expm(a)),
    "sqrtm": lambda a: np.sum(csl.sqrtm(a @ a.T + F32_EYE)),
    "solve_sylvester": lambda a: np.sum(csl.solve_sylvester(a + 3 * F32_EYE, a, a)),
    "solve_banded": lambda a: np.sum(csl.solve_banded((1, 1), a + 4 * F32_EYE[1:2].T, a[0])),
    "lu": lambda a: np.sum(csl.lu_solve(csl.lu_factor(a), a[0])),
    "block_diag": lambda a: np.sum(csl.block_diag(a, a[0]) ** 2),
}


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_values_and_derivatives_stay_float32(name):
    f, a = FLOAT32[name], (0.3 * randn(3, 3)).astype(np.float32)
    assert np.asarray(f(a)).dtype == np.float32
    assert cr.grad(f)(a).dtype == np.float32
    assert np.asarray(cr.jvp(f, (a,), (np.ones_like(a),))[1]).dtype == np.float32


# ---------------------------------------------------------------- SciPy spellings
def test_scipy_spellings_of_the_decompositions():
    a = randn(4, 3)
    q, r = csl.qr(a)
    wq, wr = sl.qr(a)
    np.testing.assert_allclose(q, wq)
    np.testing.assert_allclose(r, wr)
    (r_only,) = csl.qr(a, mode="r")
    np.testing.assert_allclose(r_only, sl.qr(a, mode="r")[0])
    np.testing.assert_allclose(csl.qr(a, mode="economic")[1], sl.qr(a, mode="economic")[1])
    np.testing.assert_allclose(csl.svdvals(a), sl.svdvals(a))
    np.testing.assert_allclose(csl.pinv(a), sl.pinv(a))
    np.testing.assert_allclose(csl.norm(a, 2), sl.norm(a, 2))
    x, res, rank, s = csl.lstsq(a, randn(4))
    wx, wres, wrank, ws = sl.lstsq(a, np.asarray(randn(4)))
    assert np.ndim(res) == np.ndim(wres) and rank == wrank
    sq = randn(3, 3)
    np.testing.assert_allclose(csl.eigvals(sq), sl.eigvals(sq))
    check(lambda a: csl.qr(a, mode="economic"), a)
    with pytest.raises(NotImplementedError, match="pivoting"):
        csl.qr(a, pivoting=True)
    with pytest.raises(NotImplementedError, match="generalized"):
        csl.eig(sq, sq)


# ---------------------------------------------------------------- an independent oracle: JAX
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
jsl = jax.scipy.linalg

ORACLE = {
    "expm": (lambda m, a: m.expm(a), lambda: 0.5 * randn(3, 3)),
    "expm stack": (lambda m, a: m.expm(a), lambda: 0.5 * randn(2, 3, 3)),
    "lu_factor": (lambda m, a: m.lu_factor(a)[0], lambda: randn(4, 4)),
    "lu_solve": (lambda m, a: m.lu_solve(m.lu_factor(a), a[:, :2] ** 2), lambda: randn(4, 4)),
    "cho_solve": (lambda m, a: m.cho_solve(m.cho_factor(a @ a.T + 4 * np.eye(3)), a), lambda: randn(3, 3)),
    "block_diag": (lambda m, a: m.block_diag(a, a[0], a[:2, :1] ** 2), lambda: randn(3, 3)),
}


@pytest.mark.parametrize("name", list(ORACLE))
def test_values_and_gradients_agree_with_jax(name):
    fn, point = ORACLE[name]
    a = point()
    ours = lambda a: np.sum(np.sin(fn(csl, a)))  # noqa: E731
    theirs = lambda a: jnp.sum(jnp.sin(fn(jsl, a)))  # noqa: E731
    np.testing.assert_allclose(fn(csl, a), fn(jsl, a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.grad(ours)(a), jax.grad(theirs)(a), rtol=1e-8, atol=1e-10)
    if name in ("expm", "lu_factor"):
        np.testing.assert_allclose(cr.hessian(ours)(a), jax.hessian(theirs)(a), rtol=1e-6, atol=1e-8)
