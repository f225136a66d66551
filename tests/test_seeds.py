"""The worked examples of ../shared/seeds, with their published numbers and closed forms."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import check_grads

rng = np.random.default_rng(42)


def test_cs231n_circuit():
    """CS231n: f(x, y, z) = (x + y) z at (-2, 5, -4): q = 3, f = -12, gradients (-4, -4, 3)."""
    def f(x, y, z):
        q = x + y
        return q * z

    value, grads = cr.value_and_grad(f, argnums=(0, 1, 2))(-2.0, 5.0, -4.0)
    assert value == -12.0
    assert grads == (-4.0, -4.0, 3.0)
    # the add gate passes -4 to both inputs; the multiply gate's local gradients are z and q
    _, f_vjp = cr.vjp(lambda x, y: x + y, -2.0, 5.0)
    assert f_vjp(-4.0) == (-4.0, -4.0)


def test_bishop_single_layer_linear_model():
    """Bishop 8.1.1: y_k = sum_i w_ki x_i, E_n = 1/2 sum_k (y_k - t_k)^2  =>  dE/dw_ji = (y_j - t_j) x_i."""
    w = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    t = rng.standard_normal(3)
    error = lambda w: 0.5 * cnp.sum((w @ x - t) ** 2)
    y = w @ x
    np.testing.assert_allclose(cr.grad(error)(w), np.outer(y - t, x), rtol=1e-12)
    # and summed over a data set E = sum_n E_n
    X = rng.standard_normal((10, 4))
    T = rng.standard_normal((10, 3))
    total = lambda w: 0.5 * cnp.sum((X @ w.T - T) ** 2)
    np.testing.assert_allclose(cr.grad(total)(w), (X @ w.T - T).T @ X, rtol=1e-12)


def test_ufldl_sparse_coding_objective():
    """UFLDL example 1: F = ||As - x||^2 + gamma ||A||^2.

    Backprop through the three-layer view gives grad_s = A^T 2(As - x) (the seed's table),
    and grad_A = 2(As - x)s^T + 2 gamma A.
    """
    A = rng.standard_normal((5, 3))
    s = rng.standard_normal((3, 7))
    x = rng.standard_normal((5, 7))
    gamma = 0.3
    F = lambda A, s: cnp.sum((A @ s - x) ** 2) + gamma * cnp.sum(A ** 2)
    gA, gs = cr.grad(F, argnums=(0, 1))(A, s)
    np.testing.assert_allclose(gs, A.T @ (2 * (A @ s - x)), rtol=1e-12)
    np.testing.assert_allclose(gA, 2 * (A @ s - x) @ s.T + 2 * gamma * A, rtol=1e-12)
    check_grads(F, order=2)(A, s)


def test_ufldl_smoothed_topographic_l1_penalty():
    """UFLDL example 2: F = sum sqrt(V (s*s) + eps)  =>  grad_s = V^T (V (s*s) + eps)^(-1/2) * s."""
    V = (rng.uniform(size=(4, 6)) > 0.5).astype(float)
    s = rng.standard_normal((6, 5))
    eps = 1e-2
    F = lambda s: cnp.sum(cnp.sqrt(V @ (s * s) + eps))
    closed = (V.T @ (V @ (s * s) + eps) ** -0.5) * s
    np.testing.assert_allclose(cr.grad(F)(s), closed, rtol=1e-12)
    check_grads(F, order=2)(s)


def test_ufldl_ica_reconstruction_cost_tied_weights():
    """UFLDL example 3: F = ||W^T W x - x||^2 with W appearing twice.

    grad_W = 2 W (W^T W x - x) x^T  +  2 (W x)(W^T W x - x)^T : the two uses add up.
    """
    W = rng.standard_normal((3, 5))
    x = rng.standard_normal((5, 1))
    F = lambda W: cnp.sum((W.T @ W @ x - x) ** 2)
    r = W.T @ W @ x - x
    from_first_use = 2 * W @ r @ x.T  # W in "W x"
    from_second_use = 2 * (W @ x) @ r.T  # W^T in "W^T (W x)"
    np.testing.assert_allclose(cr.grad(F)(W), from_first_use + from_second_use, rtol=1e-12)
    check_grads(F, order=2)(W)


def test_prml_central_differences_error_is_second_order():
    """PRML eq. 5.77: the central difference's error is O(eps^2), the one-sided one O(eps)."""
    f = lambda w: cnp.sum(cnp.tanh(w) ** 3)
    w = rng.standard_normal(3)
    exact = cr.grad(f)(w)[0]
    e = np.eye(3)[0]
    errs = []
    for eps in (1e-2, 1e-3):
        central = (np.sum(np.tanh(w + eps * e) ** 3) - np.sum(np.tanh(w - eps * e) ** 3)) / (2 * eps)
        errs.append(abs(central - exact))
    assert errs[1] < errs[0] / 50  # ~100x smaller for a 10x smaller eps


@pytest.mark.parametrize("act", ["tanh", "logistic"])
def test_bishop_two_layer_network_backprop_matches_hand_derivation(act):
    """Bishop 8.1.3 style: a_j = sum w1_ji x_i, z_j = h(a_j), y_k = sum w2_kj z_j, E = 1/2 ||y - t||^2.

    delta_k = y_k - t_k, delta_j = h'(a_j) sum_k w2_kj delta_k, dE/dw1_ji = delta_j x_i.
    """
    h = {"tanh": cnp.tanh, "logistic": lambda a: 1.0 / (1.0 + cnp.exp(-a))}[act]
    w1 = rng.standard_normal((4, 3))
    w2 = rng.standard_normal((2, 4))
    x = rng.standard_normal(3)
    t = rng.standard_normal(2)
    E = lambda w1, w2: 0.5 * cnp.sum((w2 @ h(w1 @ x) - t) ** 2)
    a = w1 @ x
    z = np.tanh(a) if act == "tanh" else 1 / (1 + np.exp(-a))
    hprime = 1 - z ** 2 if act == "tanh" else z * (1 - z)
    delta_k = w2 @ z - t
    delta_j = hprime * (w2.T @ delta_k)
    g1, g2 = cr.grad(E, argnums=(0, 1))(w1, w2)
    np.testing.assert_allclose(g1, np.outer(delta_j, x), rtol=1e-12)
    np.testing.assert_allclose(g2, np.outer(delta_k, z), rtol=1e-12)
