"""Linear algebra: every function in both modes to second order, batched passes, NumPy
dispatch, values against NumPy, gradients against PyTorch, and clear errors."""

import numpy as np
import pytest
import scipy.linalg
from helpers import check_batched

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.linalg as csl
from chainrule import check_grads
from chainrule.core.errors import NoRuleError

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def wellcond(*shape):
    """Random square matrices (or a stack) with a dominant diagonal: far from singular."""
    n = shape[-1]
    return randn(*shape) + 3.0 * np.eye(n)


def spd(*shape):
    """Symmetric positive definite with well separated eigenvalues 1, 2, ..., n."""
    n = shape[-1]
    q, _ = np.linalg.qr(randn(*shape))
    return (q * np.arange(1.0, n + 1)) @ np.swapaxes(q, -1, -2)


def sym(x):
    return x + np.swapaxes(x, -1, -2)


def lower(n, *batch):
    return np.tril(randn(*batch, n, n)) + 3.0 * np.eye(n)


def upper(n, *batch):
    return np.swapaxes(lower(n, *batch), -1, -2)


def _rebuild(w, v):
    """V diag(w^2) V^T: independent of the eigenvectors' signs."""
    return (v * w[..., None, :] ** 2) @ np.swapaxes(v, -1, -2)


def check(f, *args, order=2):
    check_grads(f, modes=("fwd", "rev"), order=order)(*args)


# ---------------------------------------------------------------- check_grads, one case per row
# name -> (function of the inputs, inputs). Functions are written with plain NumPy: dispatch.
CASES = {
    # matmul: 2-D, 1-D on either side, both 1-D, broadcast stacks
    "matmul 2x2": (lambda a, b: a @ b, lambda: (randn(3, 4), randn(4, 2))),
    "matmul vec-mat": (lambda a, b: a @ b, lambda: (randn(4), randn(4, 2))),
    "matmul mat-vec": (lambda a, b: a @ b, lambda: (randn(3, 4), randn(4))),
    "matmul vec-vec": (lambda a, b: a @ b, lambda: (randn(4), randn(4))),
    "matmul stacks": (lambda a, b: np.matmul(a, b), lambda: (randn(2, 1, 3, 4), randn(5, 4, 2))),
    "matmul stack-mat": (lambda a, b: a @ b, lambda: (randn(2, 3, 4), randn(4, 2))),
    "matmul mat-stack": (lambda a, b: a @ b, lambda: (randn(3, 4), randn(2, 4, 2))),
    "matmul vec-stack": (lambda a, b: a @ b, lambda: (randn(4), randn(2, 4, 3))),
    "matmul stack-vec": (lambda a, b: a @ b, lambda: (randn(2, 3, 4), randn(4))),
    "matmul same": (lambda a: a @ a.T, lambda: (randn(3, 4),)),
    # products built on matmul
    "dot mat": (lambda a, b: np.dot(a, b), lambda: (randn(3, 4), randn(4, 2))),
    "dot scalar": (lambda a, b: np.dot(a, b), lambda: (randn(), randn(3))),
    "dot nd": (lambda a, b: np.dot(a, b), lambda: (randn(2, 3), randn(4, 3, 2))),
    "dot method": (lambda a, b: a.dot(b), lambda: (randn(3, 4), randn(4))),
    "vdot": (lambda a, b: np.vdot(a, b), lambda: (randn(2, 3), randn(3, 2))),
    "inner 1d": (lambda a, b: np.inner(a, b), lambda: (randn(4), randn(4))),
    "inner nd": (lambda a, b: np.inner(a, b), lambda: (randn(2, 4), randn(3, 4))),
    "outer": (lambda a, b: np.outer(a, b), lambda: (randn(3), randn(2, 2))),
    "tensordot int": (lambda a, b: np.tensordot(a, b, 2), lambda: (randn(2, 3, 4), randn(3, 4, 2))),
    "tensordot pairs": (lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
                        lambda: (randn(2, 3, 4), randn(4, 5, 2))),
    "tensordot 0": (lambda a, b: np.tensordot(a, b, 0), lambda: (randn(2), randn(3))),
    "kron": (lambda a, b: np.kron(a, b), lambda: (randn(2, 3), randn(3, 2))),
    "kron mixed": (lambda a, b: np.kron(a, b), lambda: (randn(3), randn(2, 2))),
    "multi_dot": (lambda a, b, c: np.linalg.multi_dot([a, b, c]),
                  lambda: (randn(3), randn(3, 4), randn(4, 2))),
    "vecdot": (lambda a, b: np.linalg.vecdot(a, b), lambda: (randn(2, 3), randn(3))),
    # einsum
    "einsum matmul": (lambda a, b: np.einsum("ij,jk->ik", a, b), lambda: (randn(3, 4), randn(4, 2))),
    "einsum implicit": (lambda a, b: np.einsum("ij,jk", a, b), lambda: (randn(3, 4), randn(4, 2))),
    "einsum trace": (lambda a: np.einsum("ii", a), lambda: (randn(3, 3),)),
    "einsum diag": (lambda a: np.einsum("ii->i", a), lambda: (randn(3, 3),)),
    "einsum diag3": (lambda a: np.einsum("iji->j", a), lambda: (randn(3, 2, 3),)),
    "einsum sum": (lambda a: np.einsum("ijk->j", a), lambda: (randn(2, 3, 4),)),
    "einsum outer": (lambda a, b: np.einsum("i,j->ji", a, b), lambda: (randn(3), randn(2))),
    "einsum three": (lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c),
                     lambda: (randn(2, 3), randn(3, 4), randn(4, 2))),
    "einsum same operand": (lambda a: np.einsum("ij,ij->", a, a), lambda: (randn(2, 3),)),
    "einsum ellipsis": (lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
                        lambda: (randn(2, 3, 4), randn(4, 2))),
    "einsum ellipsis bcast": (lambda a, b: np.einsum("...i,...i", a, b),
                              lambda: (randn(2, 1, 3), randn(4, 3))),
    "einsum label bcast": (lambda a, b: np.einsum("ij,ij->ij", a, b), lambda: (randn(1, 3), randn(2, 3))),
    "einsum sublists": (lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [2, 0]),
                        lambda: (randn(3, 4), randn(4, 2))),
    # trace / diag
    "trace": (lambda a: np.trace(a), lambda: (randn(3, 4),)),
    "trace offset axes": (lambda a: np.trace(a, 1, axis1=2, axis2=0), lambda: (randn(3, 2, 4),)),
    "trace method": (lambda a: a.trace(), lambda: (randn(3, 3),)),
    "diag vec": (lambda v: np.diag(v), lambda: (randn(3),)),
    "diag vec k": (lambda v: np.diag(v, -2), lambda: (randn(3),)),
    "diag mat": (lambda a: np.diag(a), lambda: (randn(3, 4),)),
    "diag mat k": (lambda a: np.diag(a, 1), lambda: (randn(3, 4),)),
    "linalg.trace": (lambda a: np.linalg.trace(a), lambda: (randn(2, 3, 3),)),
    "linalg.diagonal": (lambda a: np.linalg.diagonal(a, offset=-1), lambda: (randn(2, 3, 3),)),
    # matrix functions
    "inv": (lambda a: np.linalg.inv(a), lambda: (wellcond(3, 3),)),
    "inv stack": (lambda a: np.linalg.inv(a), lambda: (wellcond(2, 3, 3),)),
    "solve mat": (lambda a, b: np.linalg.solve(a, b), lambda: (wellcond(3, 3), randn(3, 2))),
    "solve vec": (lambda a, b: np.linalg.solve(a, b), lambda: (wellcond(3, 3), randn(3))),
    "solve stack a": (lambda a, b: np.linalg.solve(a, b), lambda: (wellcond(2, 3, 3), randn(3, 2))),
    "solve stack b": (lambda a, b: np.linalg.solve(a, b), lambda: (wellcond(3, 3), randn(2, 3, 2))),
    "solve stack vec": (lambda a, b: np.linalg.solve(a, b), lambda: (wellcond(2, 3, 3), randn(3))),
    "det": (lambda a: np.linalg.det(a), lambda: (wellcond(3, 3),)),
    "det stack": (lambda a: np.linalg.det(a), lambda: (wellcond(2, 3, 3),)),
    "slogdet logabsdet": (lambda a: np.linalg.slogdet(a).logabsdet, lambda: (randn(3, 3),)),
    "slogdet both": (lambda a: np.linalg.slogdet(a), lambda: (wellcond(2, 3, 3),)),
    "slogdet sign only": (lambda a: np.linalg.slogdet(a)[0] * a, lambda: (wellcond(3, 3),)),
    "cholesky": (lambda a: np.linalg.cholesky(a), lambda: (spd(4, 4),)),
    "cholesky stack": (lambda a: np.linalg.cholesky(a), lambda: (spd(2, 3, 3),)),
    "cholesky upper": (lambda a: np.linalg.cholesky(a, upper=True), lambda: (spd(3, 3),)),
    "cholesky logdet": (lambda a: 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(a @ a.T)))),
                        lambda: (wellcond(3, 3),)),
    "eigh values": (lambda a: np.linalg.eigh(a).eigenvalues, lambda: (spd(4, 4),)),
    "eigh vectors": (lambda a: np.linalg.eigh(a)[1] ** 2, lambda: (spd(4, 4),)),
    "eigh rebuild": (lambda a: _rebuild(*np.linalg.eigh(a)), lambda: (spd(2, 3, 3),)),
    "eigh upper": (lambda a: np.linalg.eigh(a, UPLO="U")[1] ** 2, lambda: (spd(3, 3),)),
    "eigvalsh": (lambda a: np.linalg.eigvalsh(a), lambda: (spd(2, 3, 3),)),
    "matrix_power 3": (lambda a: np.linalg.matrix_power(a, 3), lambda: (randn(3, 3),)),
    "matrix_power -2": (lambda a: np.linalg.matrix_power(a, -2), lambda: (wellcond(3, 3),)),
    "matrix_transpose": (lambda a: np.linalg.matrix_transpose(a), lambda: (randn(2, 3, 4),)),
    # norms
    "norm": (lambda x: np.linalg.norm(x), lambda: (randn(2, 3, 2),)),
    "norm keepdims": (lambda x: np.linalg.norm(x, keepdims=True), lambda: (randn(2, 3),)),
    "norm axis": (lambda x: np.linalg.norm(x, axis=1), lambda: (randn(2, 3, 2),)),
    "norm 1": (lambda x: np.linalg.norm(x, 1), lambda: (randn(4),)),
    "norm inf": (lambda x: np.linalg.norm(x, np.inf, axis=0, keepdims=True), lambda: (randn(3, 2),)),
    "norm -inf": (lambda x: np.linalg.norm(x, -np.inf), lambda: (randn(4),)),
    "norm p=3": (lambda x: np.linalg.norm(x, 3, axis=-1), lambda: (randn(2, 4),)),
    "norm fro": (lambda x: np.linalg.norm(x, "fro", axis=(0, 2)), lambda: (randn(2, 3, 4),)),
    "norm mat 1": (lambda x: np.linalg.norm(x, 1), lambda: (randn(3, 4),)),
    "norm mat inf": (lambda x: np.linalg.norm(x, np.inf, axis=(2, 1), keepdims=True),
                     lambda: (randn(2, 3, 4),)),
    "norm mat -1": (lambda x: np.linalg.norm(x, -1), lambda: (randn(3, 4),)),
    "norm mat 2": (lambda x: np.linalg.norm(x, 2), lambda: (randn(3, 4),)),
    "vector_norm": (lambda x: np.linalg.vector_norm(x, ord=1), lambda: (randn(2, 3),)),
    "matrix_norm": (lambda x: np.linalg.matrix_norm(x), lambda: (randn(2, 3, 4),)),
    # scipy.linalg
    "solve_triangular lower": (lambda a, b: csl.solve_triangular(a, b, lower=True),
                               lambda: (lower(3), randn(3, 2))),
    "solve_triangular upper vec": (lambda a, b: csl.solve_triangular(a, b), lambda: (upper(3), randn(3))),
    "solve_triangular trans": (lambda a, b: csl.solve_triangular(a, b, trans="T", lower=True),
                               lambda: (lower(3), randn(3, 2))),
    "solve_triangular unit": (lambda a, b: csl.solve_triangular(a, b, trans=1, unit_diagonal=True),
                              lambda: (upper(3), randn(3, 2))),
    "solve_triangular full a": (lambda a, b: csl.solve_triangular(a, b, lower=True),
                                lambda: (randn(3, 3) + 3 * np.eye(3), randn(3, 2))),
    "solve_triangular stacks": (lambda a, b: csl.solve_triangular(a, b, lower=True),
                                lambda: (lower(3, 2), randn(4, 1, 3, 2))),
    "solve_triangular large": (lambda a, b: csl.solve_triangular(a, b, trans=1),  # LAPACK trtrs path
                               lambda: (upper(70), randn(70, 2))),
    "scipy cholesky": (lambda a: csl.cholesky(a), lambda: (spd(3, 3),)),
    "cho_solve": (lambda a, b: csl.cho_solve(csl.cho_factor(a), b), lambda: (spd(3, 3), randn(3, 2))),
    "cho_solve lower": (lambda a, b: csl.cho_solve(csl.cho_factor(a, lower=True), b),
                        lambda: (spd(3, 3), randn(3))),
    "scipy eigh": (lambda a: csl.eigh(a)[0], lambda: (spd(3, 3),)),
    "scipy solve": (lambda a, b: csl.solve(a, b, transposed=True), lambda: (wellcond(3, 3), randn(3))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_grads(name):
    f, make = CASES[name]
    check(f, *make())


@pytest.mark.parametrize("name", ["matmul stacks", "einsum three", "inv", "cholesky", "eigh rebuild",
                                  "solve_triangular trans", "slogdet logabsdet"])
def test_third_order(name):
    f, make = CASES[name]
    check(f, *make(), order=3)


# ---------------------------------------------------------------- values agree with NumPy / SciPy
@pytest.mark.parametrize("name", list(CASES))
def test_values_match_plain_call(name):
    """The traced call computes what the plain NumPy/SciPy call computes."""
    f, make = CASES[name]
    args = make()
    out, _ = cr.vjp(f, *args)
    flat = cr.tree_leaves(out)
    plain = cr.tree_leaves(f(*args))
    for a, b in zip(flat, plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_values_against_numpy_directly():
    a, b = randn(2, 3, 4), randn(4, 5)
    np.testing.assert_allclose(cnp.matmul(a, b), np.matmul(a, b))
    np.testing.assert_allclose(cnp.einsum("bij,jk->bki", a, b), np.einsum("bij,jk->bki", a, b))
    c = randn(4, 3)
    np.testing.assert_allclose(cnp.tensordot(a, c, 1), np.tensordot(a, c, 1))
    np.testing.assert_allclose(cnp.tensordot(a, a, ([0, 1], [0, 1])), np.tensordot(a, a, ([0, 1], [0, 1])))
    x, y = randn(2, 3), randn(3, 2)
    np.testing.assert_allclose(cnp.kron(x, y), np.kron(x, y))
    d = randn(2, 4, 3)
    np.testing.assert_allclose(cnp.dot(a, d), np.dot(a, d))
    np.testing.assert_allclose(cnp.inner(x, y.T), np.inner(x, y.T))
    s = spd(4, 4)
    for ord_ in (None, 1, -1, 2, np.inf, -np.inf, "fro"):
        np.testing.assert_allclose(cnp.linalg.norm(s, ord_), np.linalg.norm(s, ord_))
    for ord_ in (None, 0, 1, 2, 3, np.inf, -np.inf):
        np.testing.assert_allclose(cnp.linalg.norm(s, ord_, axis=0), np.linalg.norm(s, ord_, axis=0))
    b = randn(4)
    np.testing.assert_allclose(csl.solve_triangular(s, b, lower=True),
                               scipy.linalg.solve_triangular(s, b, lower=True))
    big = randn(80, 80) + 10 * np.eye(80)  # the LAPACK trtrs path
    np.testing.assert_allclose(csl.solve_triangular(big, big[:, :3], trans=1),
                               scipy.linalg.solve_triangular(big, big[:, :3], trans=1))
    np.testing.assert_allclose(csl.cho_solve(csl.cho_factor(s), b),
                               scipy.linalg.cho_solve(scipy.linalg.cho_factor(s), b))
    np.testing.assert_allclose(cnp.linalg.matrix_power(s, 0), np.eye(4))


# ---------------------------------------------------------------- batched passes (Jacobians)
BATCHED = {
    "matmul 2x2": (cnp.matmul, (randn(3, 4), randn(4, 2))),
    "matmul vec-mat": (cnp.matmul, (randn(4), randn(4, 2))),
    "matmul mat-vec": (cnp.matmul, (randn(3, 4), randn(4))),
    "matmul vec-vec": (cnp.matmul, (randn(4), randn(4))),
    "matmul stacks": (cnp.matmul, (randn(2, 1, 3, 4), randn(3, 4, 2))),
    "matmul vec-stack": (cnp.matmul, (randn(4), randn(2, 4, 3))),
    "matmul stack-vec": (cnp.matmul, (randn(2, 3, 4), randn(4))),
    "einsum": (lambda a, b: cnp.einsum("ij,jk->ki", a, b), (randn(3, 4), randn(4, 2))),
    "einsum diag": (lambda a, b: cnp.einsum("ii,i->i", a, b), (randn(3, 3), randn(3))),
    "einsum bcast": (lambda a, b: cnp.einsum("...i,...i->...", a, b), (randn(2, 1, 3), randn(4, 3))),
    "inv": (cnp.linalg.inv, (wellcond(2, 3, 3),)),
    "solve": (cnp.linalg.solve, (wellcond(2, 3, 3), randn(3, 2))),
    "solve vec": (cnp.linalg.solve, (wellcond(3, 3), randn(3))),
    "det": (cnp.linalg.det, (wellcond(2, 3, 3),)),
    "slogdet": (cnp.linalg.slogdet, (wellcond(2, 3, 3),)),
    "cholesky": (cnp.linalg.cholesky, (spd(2, 3, 3),)),
    "eigh": (cnp.linalg.eigh, (spd(2, 3, 3),)),
    "solve_triangular": (lambda a, b: csl.solve_triangular(a, b, lower=True, trans=1),
                         (lower(3, 2), randn(3, 2))),
    "diag": (cnp.diag, (randn(3),)),
    "trace": (cnp.trace, (randn(3, 3),)),
    "norm": (cnp.linalg.norm, (randn(3, 2),)),
    "tensordot": (lambda a, b: cnp.tensordot(a, b, ([0], [1])), (randn(3, 2), randn(2, 3))),
}


@pytest.mark.parametrize("name", list(BATCHED))
def test_batched(name):
    f, args = BATCHED[name]
    check_batched(f, *args, atol=1e-9)


def test_jacobian_of_inverse_in_one_pass():
    a = wellcond(3, 3)
    jac = cr.jacobian(cnp.linalg.inv, mode="rev")(a)
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(jac, -np.einsum("ik,lj->ijkl", ai, ai), atol=1e-12)


# ---------------------------------------------------------------- plain NumPy code dispatches
def test_plain_numpy_dispatch():
    def f(a, b):
        x = np.linalg.solve(a, b)
        ld = np.linalg.slogdet(a)[1] + np.log(np.abs(np.linalg.det(a)))
        w = np.linalg.eigvalsh(a @ a.T + np.eye(3))
        c = np.linalg.cholesky(a @ a.T + np.eye(3))
        return (np.sum(np.dot(np.linalg.inv(a), x)) + ld + np.sum(w) + np.trace(c)
                + np.einsum("ij,ij", a, a) + np.linalg.norm(b) + np.vdot(a, a) + np.sum(np.outer(b, b))
                + np.sum(np.kron(a, b)) + np.sum(np.tensordot(a, a)) + np.sum(np.diag(a)))

    a, b = wellcond(3, 3), randn(3)
    g = cr.grad(f, argnums=(0, 1))(a, b)
    assert all(np.all(np.isfinite(x)) for x in g)
    check(f, a, b, order=1)


def test_matmul_operators_and_reflected():
    a, b = randn(3, 3), randn(3)
    ga = cr.grad(lambda x: np.sum(b @ x @ b))(a)
    np.testing.assert_allclose(ga, np.outer(b, b))
    gb = cr.grad(lambda y: y @ a @ y)(b)
    np.testing.assert_allclose(gb, (a + a.T) @ b)


def test_norm_of_zero_has_zero_gradient():
    for f in (lambda x: np.linalg.norm(x), lambda x: np.linalg.norm(x, axis=0),
              lambda x: np.linalg.norm(x, "fro")):
        g = cr.grad(lambda x, f=f: np.sum(f(x)))(np.zeros((3, 2)))
        np.testing.assert_array_equal(g, 0.0)


def test_eigh_eigenvalue_gradient_with_repeated_eigenvalues():
    """Eigenvalue-only use does not touch the 1/(w_j - w_i) factors, so repeated eigenvalues are fine."""
    g = cr.grad(lambda a: np.sum(np.linalg.eigvalsh(a)))(np.eye(3))
    np.testing.assert_allclose(g, np.eye(3))  # d tr(A) / dA on the lower triangle read


def test_cholesky_gradient_is_lower_triangular_and_symmetrises_to_torch_convention():
    s = spd(3, 3)
    g = cr.grad(lambda a: np.sum(np.linalg.cholesky(a) ** 2 * np.arange(1.0, 10).reshape(3, 3)))(s)
    np.testing.assert_array_equal(np.triu(g, 1), 0.0)


# ---------------------------------------------------------------- torch as an independent oracle
def _torch_grad(torch, fn, *arrays):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    fn(*ts).backward()
    return [t.grad.numpy() for t in ts]


def test_against_torch():
    torch = pytest.importorskip("torch")
    a, b, s = wellcond(2, 3, 3), randn(2, 3, 2), spd(2, 3, 3)
    w = randn(2, 3, 3)

    def cmp(ours, theirs, *arrays):
        got = cr.grad(ours, argnums=tuple(range(len(arrays))))(*arrays)
        want = _torch_grad(torch, theirs, *arrays)
        for x, y in zip(got, want, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10)

    cmp(lambda a: np.sum(np.linalg.slogdet(a)[1] * [1.0, 2.0]),
        lambda a: torch.sum(torch.linalg.slogdet(a)[1] * torch.tensor([1.0, 2.0], dtype=torch.float64)), a)
    cmp(lambda a: np.sum(np.linalg.inv(a) * w), lambda a: torch.sum(torch.linalg.inv(a) * torch.tensor(w)), a)
    cmp(lambda a: np.sum(np.linalg.det(a) ** 2), lambda a: torch.sum(torch.linalg.det(a) ** 2), a)
    cmp(lambda a, b: np.sum(np.sin(np.linalg.solve(a, b))),
        lambda a, b: torch.sum(torch.sin(torch.linalg.solve(a, b))), a, b)
    cmp(lambda a, b: np.sum(np.tanh(np.einsum("bij,bjk->bik", a, b))),
        lambda a, b: torch.sum(torch.tanh(torch.einsum("bij,bjk->bik", a, b))), a, b)
    cmp(lambda a: np.sum(np.einsum("bii->b", a) ** 2), lambda a: torch.sum(torch.einsum("bii->b", a) ** 2), a)
    # cholesky/eigh read one triangle; compare on a symmetric parametrisation where the conventions agree
    cmp(lambda x: np.sum(np.linalg.cholesky(sym(x)) * w),
        lambda x: torch.sum(torch.linalg.cholesky(x + x.transpose(-1, -2)) * torch.tensor(w)), s)
    cmp(lambda x: np.sum(np.linalg.eigh(sym(x))[0] ** 3),
        lambda x: torch.sum(torch.linalg.eigh(x + x.transpose(-1, -2))[0] ** 3), s)
    cmp(lambda x: np.sum(np.linalg.eigh(sym(x))[1] ** 2 * w),
        lambda x: torch.sum(torch.linalg.eigh(x + x.transpose(-1, -2))[1] ** 2 * torch.tensor(w)), s)
    cmp(lambda x: np.sum(np.linalg.norm(x, axis=(1, 2))),
        lambda x: torch.sum(torch.linalg.norm(x, dim=(1, 2))), a)
    lo = lower(3, 2)
    cmp(lambda a, b: np.sum(np.cos(csl.solve_triangular(a, b, lower=True))),
        lambda a, b: torch.sum(torch.cos(torch.linalg.solve_triangular(a, b, upper=False))), lo, b)


def test_cholesky_gradient_symmetrised_matches_torch_on_a_leaf():
    torch = pytest.importorskip("torch")
    s, w = spd(3, 3), randn(3, 3)
    g = cr.grad(lambda a: np.sum(np.linalg.cholesky(a) * w))(s)
    (t,) = _torch_grad(torch, lambda a: torch.sum(torch.linalg.cholesky(a) * torch.tensor(w)), s)
    np.testing.assert_allclose((g + g.T) / 2, (t + t.T) / 2, rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- hypothesis: matmul shapes
def test_matmul_broadcast_shapes_hypothesis():
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hyp.settings(max_examples=25, deadline=None)
    @hyp.given(st.lists(st.integers(1, 2), max_size=2), st.lists(st.integers(1, 2), max_size=2),
               st.integers(0, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3))
    def prop(sa, sb, vec, m, k, n):
        shape_a = (k,) if vec == 1 else tuple(sa) + (m, k)
        shape_b = (k,) if vec == 2 else tuple(sb) + (k, n)
        try:
            np.broadcast_shapes(shape_a[:-2], shape_b[:-2])
        except ValueError:
            return
        a, b = randn(*shape_a), randn(*shape_b)
        np.testing.assert_allclose(cnp.matmul(a, b), a @ b)
        check_grads(lambda a, b: a @ b, order=1)(a, b)

    prop()


# ---------------------------------------------------------------- clear errors
def test_errors():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        cr.grad(lambda a: np.sum(np.linalg.inv(a)))(randn(2, 3))
    with pytest.raises(ValueError, match="square"):
        cnp.linalg.det(randn(3))
    with pytest.raises(ValueError, match="do not align"):
        cr.grad(lambda a: np.sum(a @ randn(4, 2)))(randn(2, 3))
    with pytest.raises(ValueError, match="scalar"):
        cnp.matmul(2.0, randn(3))
    # complex matrices are supported (tests/test_complex.py checks them against JAX)
    a = randn(2, 2) + 1j
    np.testing.assert_allclose(cnp.linalg.inv(a), np.linalg.inv(a))
    np.testing.assert_array_equal(cr.grad(lambda a: np.sum(np.real(a @ (np.eye(2) * 1j))))(randn(2, 2)),
                                  np.zeros((2, 2)))
    with pytest.raises(ValueError, match="b has shape"):
        cnp.linalg.solve(wellcond(3, 3), randn(2))
    with pytest.raises(ValueError, match="einsum"):
        cnp.einsum("ij,jk->ik", randn(2, 3))
    with pytest.raises(ValueError, match="einsum"):
        cnp.einsum("ijk->i", randn(2, 3))
    with pytest.raises(ValueError, match="invalid norm order"):
        cnp.linalg.norm(randn(3), "fro")
    with pytest.raises(NoRuleError, match="tensorinv"):  # svd, 'nuc': tests/test_decompositions.py
        cr.grad(lambda a: np.sum(np.linalg.tensorinv(a, ind=1)))(randn(3, 3))
    with pytest.raises(ValueError, match="trans"):
        csl.solve_triangular(lower(2), randn(2), trans=5)
    with pytest.raises(TypeError, match="integer"):
        cnp.linalg.matrix_power(randn(2, 2), 1.5)
    with pytest.raises(np.linalg.LinAlgError):
        cnp.linalg.cholesky(-np.eye(2))
