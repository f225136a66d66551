"""The textbook examples the glass box is checked against (and the gallery draws).

* CS231n, "Backpropagation, intuitions": ``f(x, y, z) = (x + y) z`` at
  ``x = -2, y = 5, z = -4``: ``q = 3``, ``f = -12``, ``df/dx = df/dy = -4``, ``df/dz = 3``.
* UFLDL, "Deriving gradients using the backpropagation idea", example 3: the ICA
  reconstruction cost ``||W^T W x - x||^2``. ``W`` is used twice, and its gradient is
  the sum of one contribution per use::

      2 W (W^T W x - x) x^T   (through W x)   +   2 (W x)(W^T W x - x)^T   (through W^T)

* A small tanh network (a ``layer`` function called in a loop) for the collapsed view.
"""

from __future__ import annotations

import numpy as np

CS231N_ARGS = (-2.0, 5.0, -4.0)


def cs231n(x, y, z):
    """CS231n's circuit: q = x + y, f = q z."""
    q = x + y
    f = q * z
    return f


def ica_cost(W, x):
    """UFLDL's ICA reconstruction cost ||W^T W x - x||^2 (W appears twice)."""
    Wx = W @ x
    r = W.T @ Wx - x
    return np.sum(r * r)


def ica_args():
    W = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]])
    x = np.array([1.0, -2.0, 0.5])
    return W, x


def ica_closed_form(W, x) -> dict:
    """UFLDL's two contributions to dJ/dW, keyed by the use of W they come through."""
    r = W.T @ W @ x - x
    return {"W x": 2.0 * W @ np.outer(r, x), "W^T": 2.0 * np.outer(W @ x, r)}


def layer(W, b, h):
    z = h @ W + b
    return np.tanh(z)


def mlp_loss(params, x, t):
    """Mean squared error of a tanh network; each ``layer`` call becomes a labelled group."""
    h = x
    for W, b in params:
        h = layer(W, b, h)
    d = h - t
    return np.mean(d * d)


def mlp_args(depth: int = 4, width: int = 8, batch: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [(rng.normal(size=(width, width)) / np.sqrt(width), np.zeros(width))
              for _ in range(depth)]
    return params, rng.normal(size=(batch, width)), rng.normal(size=(batch, width))
