"""Per-example gradients with ``vmap(grad(loss))``: differentially private SGD (Abadi et al. 2016).

1. A softmax classifier with one tanh hidden layer on the bundled 8x8 digits; each example's
   loss picks its own label's logit (``z[label]``: under ``vmap`` a batched index, a gather).
2. ``vmap(grad(loss), in_axes=(None, 0, 0))``: the gradient of each example's loss, all 256 of
   a batch in one pass per primitive (no Python loop), checked against a loop of ``grad`` and
   timed against it.
3. DP-SGD's step: clip each example's gradient to norm at most ``C``, sum, add Gaussian noise
   ``N(0, (sigma C)^2)``, average; the clipping is what needs per-example gradients (the
   gradient of the batch loss is their mean, and clipping does not commute with it).
4. ``chunk_size``: the same per-example gradients in chunks of 64 examples, so the batched
   intermediates take a quarter of the memory.

Run: ``python examples/per_example_gradients.py``
"""

import time

import numpy as np

import chainrule as cr
from chainrule.nn import load_digits
from chainrule.scipy.special import logsumexp

rng = np.random.default_rng(0)

# ---------------------------------------------------------------- 1. data and model
X, y = load_digits()
X = X / 16.0
K = 10
params = {"W1": rng.standard_normal((64, 32)) * 0.2, "b1": np.zeros(32),
          "W2": rng.standard_normal((32, K)) * 0.2, "b2": np.zeros(K)}


def loss(p, x, label):
    """Cross-entropy of one example: ``x`` (64,), ``label`` an integer in [0, 10)."""
    z = np.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return logsumexp(z) - z[label]


# ---------------------------------------------------------------- 2. per-example gradients
per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))
xb, tb = X[:256], y[:256]
g = per_example(params, xb, tb)
print({k: v.shape for k, v in g.items()})  # each parameter's shape with a leading 256


def loop_of_grads(p, xs, ts):
    gs = [cr.grad(loss)(p, x, t) for x, t in zip(xs, ts)]
    return {k: np.stack([d[k] for d in gs]) for k in p}


loop = loop_of_grads(params, xb, tb)
for k in params:
    assert np.allclose(g[k], loop[k], rtol=1e-12, atol=1e-14)


def best_time(fn, repeats=5):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn(params, xb, tb)
        best = min(best, time.perf_counter() - start)
    return best


t_vmap, t_loop = best_time(per_example), best_time(loop_of_grads)
print(f"vmap(grad): {t_vmap * 1e3:.1f} ms; a loop of 256 grads: {t_loop * 1e3:.1f} ms "
      f"({t_loop / t_vmap:.0f}x faster batched)")

# their mean is the gradient of the mean loss
mean_grad = cr.grad(lambda p: np.mean(cr.vmap(loss, in_axes=(None, 0, 0))(p, xb, tb)))(params)
for k in params:
    assert np.allclose(g[k].mean(axis=0), mean_grad[k])


# ---------------------------------------------------------------- 3. DP-SGD
def dp_sgd_step(p, x, t, clip=1.0, sigma=1.0, lr=0.5):
    g = per_example(p, x, t)
    norms = np.sqrt(sum(np.sum(v.reshape(len(x), -1) ** 2, axis=1) for v in g.values()))
    scale = np.minimum(1.0, clip / np.maximum(norms, 1e-12))  # per-example clipping factor
    new = {}
    for k, v in g.items():
        clipped = np.tensordot(scale, v, axes=1)  # sum_b scale_b g_b
        noisy = clipped + rng.normal(0.0, sigma * clip, size=v.shape[1:])
        new[k] = p[k] - lr * noisy / len(x)
    return new


def accuracy(p):
    z = np.tanh(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    return np.mean(np.argmax(z, axis=1) == y)


print(f"accuracy before DP-SGD: {accuracy(params):.3f}")
for _epoch in range(10):
    order = rng.permutation(len(X))
    for s in range(0, len(X) - 255, 256):
        idx = order[s:s + 256]
        params = dp_sgd_step(params, X[idx], y[idx])
acc = accuracy(params)
print(f"accuracy after 10 epochs of DP-SGD (C = 1, sigma = 1): {acc:.3f}")
assert acc > 0.7

# ---------------------------------------------------------------- 4. chunk_size
chunked = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0), chunk_size=64)(params, xb, tb)
full = per_example(params, xb, tb)
for k in params:
    assert np.allclose(chunked[k], full[k], rtol=1e-12, atol=1e-14)
print("chunk_size=64 gives the same per-example gradients")
