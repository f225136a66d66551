"""det's derivative is the adjugate everywhere, singular matrices included (issue 12, item 15).

d det(A)/dA is the cofactor matrix adj(A)^T, a polynomial in A that exists at every A; JAX
returns it at singular matrices, chainrule raised LinAlgError (it formed det(A) A^{-1}). The
oracle here is independent of chainrule's formula: cofactors from NumPy determinants of the
minors, and central differences of those for the second order (a cofactor of a 3x3 matrix is
quadratic, so its central difference is exact up to rounding).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import check_batched

import chainrule as cr
from chainrule import check_grads, grad, hessian, jacfwd, jacrev, jvp
from chainrule.rules.linalg import adjugate, adjugate_p


def cofactors(a):
    """C_ij = (-1)^(i+j) det(A without row i and column j), for one matrix or a stack."""
    a = np.asarray(a, dtype=float)
    if a.ndim > 2:
        return np.stack([cofactors(m) for m in a])
    n = a.shape[0]
    if n == 1:
        return np.ones((1, 1))
    out = np.empty_like(a)
    for i, j in itertools.product(range(n), range(n)):
        out[i, j] = (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
    return out


def cofactor_jacobian(a, eps=1e-3):
    """d C / dA by central differences of the cofactors (shape a.shape + a.shape)."""
    cols = []
    for e in np.eye(a.size):
        e = e.reshape(a.shape)
        cols.append((cofactors(a + eps * e) - cofactors(a - eps * e)) / (2 * eps))
    return np.moveaxis(np.array(cols).reshape(a.shape + a.shape), list(range(a.ndim)),
                       list(range(a.ndim, 2 * a.ndim)))


_rng = np.random.default_rng(0)
SINGULAR = {
    "rank 1 (2x2)": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "1..9": np.arange(1.0, 10.0).reshape(3, 3),
    "zero 1x1": np.zeros((1, 1)),
    "zero 2x2": np.zeros((2, 2)),
    "zero 3x3": np.zeros((3, 3)),
    "diag with one 0": np.diag([2.0, 3.0, 0.0]),
    "diag with two 0s": np.diag([2.0, 0.0, 0.0]),
    "rank 2 (4x4)": _rng.normal(size=(4, 2)) @ _rng.normal(size=(2, 4)),
    "rank 3 (4x4)": _rng.normal(size=(4, 3)) @ _rng.normal(size=(3, 4)),
    "rank 4 (6x6)": _rng.normal(size=(6, 4)) @ _rng.normal(size=(4, 6)),
    "repeated row": np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.5, -1.0, 4.0]]),
    "zero column": np.array([[1.0, 0.0, 3.0], [2.0, 0.0, 1.0], [0.5, 0.0, 4.0]]),
    "nilpotent": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]),
}
NONSINGULAR = {"random 3x3": _rng.normal(size=(3, 3)), "identity": np.eye(4),
               "ill-conditioned": np.array([[1.0, 1.0], [1.0, 1.0 + 1e-9]])}
ALL = {**SINGULAR, **NONSINGULAR}


def _close(x, want, what):
    scale = max(1.0, np.abs(want).max())
    np.testing.assert_allclose(x, want, rtol=1e-7, atol=1e-9 * scale, err_msg=what)


@pytest.mark.parametrize("name", sorted(ALL))
def test_gradient_is_the_cofactor_matrix(name):
    a = ALL[name]
    _close(grad(np.linalg.det)(a), cofactors(a), name)
    _close(jacrev(np.linalg.det)(a), cofactors(a), name)
    t = _rng.normal(size=a.shape)
    _, dt = jvp(np.linalg.det, (a,), (t,))
    _close(dt, np.sum(cofactors(a) * t), name)  # Jacobi's formula, forward mode
    _close(jacfwd(np.linalg.det)(a), cofactors(a), name)


@pytest.mark.parametrize("name", sorted(ALL))
def test_second_order(name):
    a = ALL[name]
    want = cofactor_jacobian(a)
    for how, h in (("hessian", hessian(np.linalg.det)), ("jacfwd(grad)", jacfwd(grad(np.linalg.det))),
                   ("jacrev(grad)", jacrev(grad(np.linalg.det)))):
        np.testing.assert_allclose(h(a), want, atol=1e-6 * max(1.0, np.abs(want).max()),
                                   err_msg=f"{how} at {name}")


def test_third_order_at_zero_is_the_levi_civita_symbol():
    """det of a 3x3 matrix is sum_s sign(s) a_0s0 a_1s1 a_2s2: its third derivative at 0 along
    rows 0, 1, 2 is the permutation sign; the fourth is 0."""
    t3 = jacfwd(jacrev(grad(np.linalg.det)))(np.zeros((3, 3)))
    for p in itertools.product(range(3), repeat=3):
        want = np.linalg.det(np.eye(3)[list(p)]) if len(set(p)) == 3 else 0.0
        assert t3[0, p[0], 1, p[1], 2, p[2]] == pytest.approx(want)
    t4 = jacfwd(jacfwd(jacrev(grad(np.linalg.det))))(np.zeros((3, 3)))
    np.testing.assert_allclose(t4, 0.0, atol=1e-12)


def test_check_grads_at_singular_matrices():
    low_rank = _rng.normal(size=(5, 3)) @ _rng.normal(size=(3, 5))
    stack = np.stack([low_rank, np.zeros((5, 5)), _rng.normal(size=(5, 5))])
    check_grads(np.linalg.det, order=2, eps=1e-4)(stack)
    check_grads(np.linalg.det, order=2, eps=1e-4)(np.stack([SINGULAR["1..9"], SINGULAR["nilpotent"],
                                                           NONSINGULAR["random 3x3"]]))


def test_a_stack_mixing_singular_and_invertible_matrices_batched():
    stack = np.stack([SINGULAR["1..9"], SINGULAR["zero 3x3"], NONSINGULAR["random 3x3"],
                      SINGULAR["diag with two 0s"]])
    _close(grad(lambda a: np.sum(np.linalg.det(a)))(stack), cofactors(stack), "stack")
    check_batched(np.linalg.det, stack)
    check_batched(lambda a: grad(lambda a: np.sum(np.linalg.det(a)))(a), stack)


def test_float32_stays_float32():
    a = SINGULAR["1..9"].astype(np.float32)
    g = grad(np.linalg.det)(a)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, cofactors(a), atol=1e-4)


def test_non_finite_entries_give_nan_not_an_error():
    with np.errstate(invalid="ignore"):
        g = grad(np.linalg.det)(np.array([[1.0, np.nan], [0.0, 1.0]]))
    assert np.isnan(g).all()


def test_under_jit():
    """jit stages the adjugate as one primitive whose value is exact at every matrix."""
    stack = np.stack([SINGULAR["1..9"], SINGULAR["zero 3x3"], NONSINGULAR["random 3x3"]])
    f = cr.jit(grad(lambda a: np.sum(np.linalg.det(a))))
    _close(f(stack), cofactors(stack), "jit")
    _close(f(stack + 1.0), cofactors(stack + 1.0), "jit, second call")
    a = NONSINGULAR["random 3x3"]
    np.testing.assert_allclose(cr.jit(hessian(np.linalg.det))(a), hessian(np.linalg.det)(a), atol=1e-12)


@pytest.mark.parametrize("name", sorted(ALL))
def test_the_adjugate_itself(name):
    a = ALL[name]
    _close(adjugate(a), cofactors(a).T, name)
    _close(adjugate_p(a), cofactors(a).T, name)


def test_the_adjugate_primitive_rules():
    check_grads(adjugate_p, order=2, eps=1e-4)(_rng.normal(size=(2, 3, 3)))


@pytest.mark.parametrize("name", ["rank 1 (2x2)", "1..9", "zero 3x3"])
def test_slogdet_at_a_singular_matrix_says_why(name):
    """log|det| = -inf at a singular matrix has no derivative: a LinAlgError that says so (and
    points to det); the sign alone differentiates to 0."""
    a = SINGULAR[name]
    with pytest.raises(np.linalg.LinAlgError, match="singular.*no derivative"):
        grad(lambda a: np.linalg.slogdet(a)[1])(a)
    with pytest.raises(np.linalg.LinAlgError, match="singular.*no derivative"):
        jvp(lambda a: np.linalg.slogdet(a)[1], (a,), (np.ones_like(a),))
    assert np.all(grad(lambda a: np.linalg.slogdet(a)[0])(a) == 0.0)


def test_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for name, a in ALL.items():
        want = np.asarray(jax.grad(jax.numpy.linalg.det)(a))
        _close(grad(np.linalg.det)(a), want, name)



def test_an_invertible_matrix_takes_the_inverse_not_the_svd(monkeypatch):
    """The exact form costs an SVD; a well-conditioned matrix of any size (a random 60x60 one
    has a tiny |det| / prod |columns|) must not pay it."""
    a = _rng.normal(size=(60, 60))
    want = grad(np.linalg.det)(a)

    def no_svd(*args, **kwargs):
        raise AssertionError("the SVD path was taken for an invertible matrix")
    monkeypatch.setattr(np.linalg, "svd", no_svd)
    np.testing.assert_allclose(grad(np.linalg.det)(a), want)
    np.testing.assert_allclose(want, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-8)


def test_complex_singular_matrices():
    """For a complex A the SVD's right vectors are V = (V^H)^H: the exact form and the jit value
    conjugate them (a plain transpose would be wrong). det is holomorphic: grad(..., holomorphic=True)
    is the cofactor matrix, JAX's convention."""
    rng = np.random.default_rng(1)
    left = rng.normal(size=(4, 3)) + 1j * rng.normal(size=(4, 3))
    right = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    cases = [left @ right, left[:, :2] @ right[:2], np.array([[1.0, 2.0j], [1.0j, -2.0]]),
             rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))]
    for a in cases:
        n = a.shape[0]
        want = np.empty_like(a)
        for i, j in itertools.product(range(n), range(n)):
            want[i, j] = (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
        np.testing.assert_allclose(adjugate_p(a), want.T, atol=1e-12)  # jit's value: NumPy only
        try:
            g = grad(np.linalg.det, holomorphic=True)(a)
        except (NotImplementedError, TypeError) as e:  # complex det not enabled in this tree yet
            pytest.skip(f"complex det: {e}")
        np.testing.assert_allclose(g, want, atol=1e-12)
        np.testing.assert_allclose(adjugate(a), want.T, atol=1e-12)
