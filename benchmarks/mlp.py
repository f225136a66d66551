"""MLP: value_and_grad of a tanh network with softmax cross-entropy.

64-256-256-10, batch 256, float64, the loss averaged over the batch. Besides the
peers, the table has the plain NumPy forward pass: chainrule's time over it is the
"cheap gradient" ratio (reverse mode promises a small constant, about 3).
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, forward_case, gradient_cases


def make_data(sizes, batch, seed=31337):
    rng = np.random.default_rng(seed)
    params = []
    for m, n in zip(sizes[:-1], sizes[1:], strict=True):
        params += [rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n)]
    x = rng.standard_normal((batch, sizes[0]))
    labels = rng.integers(0, sizes[-1], batch)
    onehot = np.eye(sizes[-1])[labels]
    return params, x, onehot


def loss(xp, logsumexp, params, x, onehot):
    """Mean softmax cross-entropy: ``mean(logsumexp(z) - <z, y>)`` with ``z`` the logits."""
    h = x
    n = len(params) // 2
    for i in range(n):
        z = h @ params[2 * i] + params[2 * i + 1]
        h = xp.tanh(z) if i < n - 1 else z
    return xp.mean(logsumexp(h, axis=1) - xp.sum(h * onehot, axis=1))


def cases(sizes, batch) -> list[Case]:
    params, x, onehot = make_data(sizes, batch)
    out = gradient_cases(loss, params, (x, onehot))
    out.insert(2, forward_case("numpy", loss, params, (x, onehot), label="numpy forward",
                               note="forward pass only (value)"))
    return out


WORKLOAD = Workload(
    name="mlp",
    title="MLP {sizes} tanh + softmax cross-entropy, batch {batch}: value_and_grad",
    sizes={"tiny": {"sizes": (5, 7, 6, 3), "batch": 4},
           "full": {"sizes": (64, 256, 256, 10), "batch": 256}},
    cases=cases,
    rtol=1e-9,
    targets=(("value_and_grad vs PyTorch eager CPU", "chainrule", "torch", 1.0),
             ("value_and_grad vs the NumPy forward pass", "chainrule", "numpy forward", 3.0)),
    doc=__doc__,
)
