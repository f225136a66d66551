"""The Jacobian of a trained network (PRML 5.3.4): eq. 5.72 and eq. 5.71, one call each.

1. Train a small tanh network on a toy regression with ``chainrule.grad`` and plain
   NumPy gradient descent.
2. Eq. 5.72, ``dy_k ~= sum_i (dy_k/dx_i) dx_i``: ``linearize`` records the network once
   at an input ``x`` and returns ``dx -> J dx``; a batch of input errors goes through
   in one pass, and the error of the linear estimate shrinks like ``|dx|^2``.
3. Eq. 5.71, ``dE/dw = sum_kj (dE/dy_k)(dy_k/dz_j)(dz_j/dw)``: a modular system
   (Fig. 5.8) with an adjustable input module ``z = w * x``, the trained network as the
   fixed middle module ``y(z)`` and an error ``E(y)``. Chaining the three linear maps
   and transposing gives ``dE/dw`` in one call.

Run: ``python examples/jacobian_linearize.py``
"""

import numpy as np

import chainrule as cr

rng = np.random.default_rng(0)

# ---------------------------------------------------------------- 1. train a tiny network
N, D, H, K = 200, 2, 16, 2
X = rng.uniform(-1.0, 1.0, size=(N, D))
T = np.stack([np.sin(np.pi * X[:, 0]) * X[:, 1], np.cos(np.pi * X[:, 1])], axis=1)

params = {"W1": rng.standard_normal((D, H)) * 0.7, "b1": np.zeros(H),
          "W2": rng.standard_normal((H, K)) * 0.3, "b2": np.zeros(K)}


def network(p, x):
    """y = W2^T tanh(W1^T x + b1) + b2, for one input (D,) or a batch (N, D)."""
    return np.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]


def sum_of_squares(p):
    return 0.5 * np.mean(np.sum((network(p, X) - T) ** 2, axis=1))


loss_and_grad = cr.value_and_grad(sum_of_squares)
lr = 0.5
for step in range(600):
    loss, g = loss_and_grad(params)
    params = {k: params[k] - lr * g[k] for k in params}  # plain NumPy gradient descent
    if step % 150 == 0:
        print(f"step {step:3d}  E = {loss:.4f}")
print(f"trained     E = {sum_of_squares(params):.4f}\n")

net = lambda x: network(params, x)  # noqa: E731

# ---------------------------------------------------------------- 2. eq. 5.72: dy ~= J dx
x = np.array([0.3, -0.5])
y, J_dx = cr.linearize(net, x)
J = cr.jacobian(net)(x)  # J_ki = dy_k/dx_i (5.70), one vectorised pass
print("J at x =", x)
print(J)

dx = rng.standard_normal((5, D))  # five input errors, pushed through in one replay
for scale in (1e-1, 1e-2, 1e-3):
    estimate = J_dx(scale * dx)  # (5, K): eq. 5.72 for each perturbation
    actual = net(x + scale * dx) - y
    err = np.max(np.abs(actual - estimate))
    print(f"|dx| ~ {scale:.0e}: max |dy - J dx| = {err:.2e}")
print("(the error falls 100x per 10x smaller dx: dy = J dx + O(|dx|^2))\n")

# ---------------------------------------------------------------- 3. eq. 5.71: modules
w = np.array([1.2, 0.8])  # adjustable input scaling: the first module
t = np.array([0.1, 0.4])  # target for the error at the end


def z_module(w):
    return w * x


def error(y):
    return 0.5 * np.sum((y - t) ** 2)


z, lin_z = cr.linearize(z_module, w)  # dz_j/dw
y, lin_y = cr.linearize(net, z)  # dy_k/dz_j: the red module's Jacobian
E, lin_E = cr.linearize(error, y)  # dE/dy_k

dE_dw = (lin_E @ lin_y @ lin_z).T(1.0)  # eq. 5.71 in one call
print("dE/dw by chaining module Jacobians (5.71):", dE_dw)
print("dE/dw by grad of the whole system:       ", cr.grad(lambda w: error(net(z_module(w))))(w))
J_red = cr.jacobian(net)(z)
print("the same sum written out, sum_kj dE/dy_k J_kj dz_j/dw:",
      np.einsum("k,kj,ji->i", cr.grad(error)(y), J_red, cr.jacobian(z_module)(w)))
