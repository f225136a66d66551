"""Optimisers on parameter pytrees: functional, ``state = opt.init(params)`` then
``params, state = opt.update(params, grads, state)``.

Nothing is modified in place, so an old ``params`` stays valid (a checkpoint, a rollback after a
diverging step). ``lr`` is a number or a schedule ``lr(step) -> rate`` (steps count from 0), e.g.
:func:`cosine_decay`. ``weight_decay=lam`` adds lam * w to the gradient of every weight (every leaf
except those under a ``"b"`` key, the biases): the gradient of Bishop's regulariser lam/2 w^T w.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..core.pytree import tree_flatten, tree_unflatten


def tree_items(tree, path=()):
    """(key path, leaf) pairs of a pytree of nested dicts / lists / tuples, in tree_flatten order."""
    if isinstance(tree, Mapping):
        for k in sorted(tree):
            yield from tree_items(tree[k], path + (k,))
    elif isinstance(tree, list | tuple):
        for i, c in enumerate(tree):
            yield from tree_items(c, path + (i,))
    elif tree is not None:
        yield path, tree


def _decay_mask(params) -> list[bool]:
    return [not path or path[-1] != "b" for path, _ in tree_items(params)]


def _leaves(params, grads):
    p, pdef = tree_flatten(params)
    g, gdef = tree_flatten(grads)
    if pdef != gdef:
        raise ValueError(f"gradient structure {gdef!r} does not match the parameters {pdef!r}")
    return p, g, pdef


class Optimizer:
    """Shared parts: learning rate, weight decay, and the ``init`` / ``update`` protocol."""

    def __init__(self, lr, weight_decay: float = 0.0):
        if not callable(lr):
            if not lr > 0:
                raise ValueError(f"learning rate must be positive, got {lr!r}")
            lr = float(lr)
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.lr = lr
        self.weight_decay = float(weight_decay)

    def rate(self, step: int) -> float:
        """The learning rate used for update number ``step`` (0-based)."""
        return float(self.lr(step)) if callable(self.lr) else self.lr

    def _decayed(self, params, p, g):
        if not self.weight_decay:
            return [np.asarray(x, dtype=float) for x in g]
        return [gi + self.weight_decay * pi if m else np.asarray(gi, dtype=float)
                for pi, gi, m in zip(p, g, _decay_mask(params), strict=True)]

    def init(self, params) -> dict:
        raise NotImplementedError

    def update(self, params, grads, state):
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class SGD(Optimizer):
    """Gradient descent with (heavy-ball or Nesterov) momentum:

        v <- mu v - lr g,    w <- w + v                (momentum=0: w <- w - lr g)
    Nesterov: w <- w + mu v - lr g.
    """

    def __init__(self, lr: float = 0.1, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        if nesterov and not momentum:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def init(self, params) -> dict:
        leaves, td = tree_flatten(params)
        return {"step": 0, "velocity": tree_unflatten(td, [np.zeros(np.shape(x)) for x in leaves])}

    def update(self, params, grads, state):
        p, g, td = _leaves(params, grads)
        g = self._decayed(params, p, g)
        mu, lr, step = self.momentum, self.rate(state["step"]), state["step"] + 1
        if not mu:
            new = [pi - lr * gi for pi, gi in zip(p, g, strict=True)]
            return tree_unflatten(td, new), {"step": step, "velocity": state["velocity"]}
        v = [mu * vi - lr * gi for vi, gi in zip(tree_flatten(state["velocity"])[0], g, strict=True)]
        if self.nesterov:
            new = [pi + mu * vi - lr * gi for pi, vi, gi in zip(p, v, g, strict=True)]
        else:
            new = [pi + vi for pi, vi in zip(p, v, strict=True)]
        return tree_unflatten(td, new), {"step": step, "velocity": tree_unflatten(td, v)}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), bias-corrected moments:

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        w <- w - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^s), v_hat = v / (1 - b2^s)
    """

    def __init__(self, lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam needs 0 <= b1, b2 < 1, got b1={b1!r}, b2={b2!r}")
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)

    def init(self, params) -> dict:
        leaves, td = tree_flatten(params)
        zeros = lambda: tree_unflatten(td, [np.zeros(np.shape(x)) for x in leaves])
        return {"step": 0, "m": zeros(), "v": zeros()}

    def update(self, params, grads, state):
        p, g, td = _leaves(params, grads)
        g = self._decayed(params, p, g)
        b1, b2 = self.b1, self.b2
        step = state["step"] + 1
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(tree_flatten(state["m"])[0], g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(tree_flatten(state["v"])[0], g, strict=True)]
        c1, c2, lr = 1 - b1 ** step, 1 - b2 ** step, self.rate(step - 1)
        new = [pi - lr * (mi / c1) / (np.sqrt(vi / c2) + self.eps)
               for pi, mi, vi in zip(p, m, v, strict=True)]
        return tree_unflatten(td, new), {"step": step, "m": tree_unflatten(td, m),
                                         "v": tree_unflatten(td, v)}


def cosine_decay(lr: float, total_steps: int, final: float = 0.0):
    """A schedule falling from ``lr`` to ``final`` along half a cosine over ``total_steps`` updates:

        rate(s) = final + (lr - final) (1 + cos(pi s / total_steps)) / 2     (then ``final``)
    """
    if not lr > 0 or total_steps < 1:
        raise ValueError(f"cosine_decay needs lr > 0 and total_steps >= 1, got {lr!r}, {total_steps!r}")

    def rate(step: int) -> float:
        frac = min(step, total_steps) / total_steps
        return final + (lr - final) * 0.5 * (1.0 + math.cos(math.pi * frac))

    return rate


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
