"""Error functions E = sum_n E_n (Bishop, *Deep Learning*, 8.1), fused with their output activation.

Each takes the network's *pre-activations* of the output layer (``logits``, shape ``(N, K)``)
rather than the outputs y = h(a): the fused forms never form log(y) of a y that rounded to 0 or 1,
so values and gradients stay finite at any logits, and their gradient with respect to a is
Bishop's error signal

    dE_n / da_k = y_k - t_k

for all three canonical pairs (identity + sum-of-squares, logistic sigmoid + binary
cross-entropy, softmax + multiclass cross-entropy).

Arrays are ``(N, K)``: the last axis indexes outputs k, leading axes examples n (a 1-D array is
one example). ``reduction="mean"`` (default) returns E / N, the average over the N examples (so a learning
rate does not depend on the batch size); ``"sum"`` returns E itself; ``"none"`` the vector E_n.

Targets are inputs like any other: a traced ``t`` stays traced, so every loss is differentiable
with respect to its targets too, at any order (``dE_n/dt_k`` is given in each docstring). Plain
float arrays pass through untouched (no copy, no extra cost on the training path).
"""

from __future__ import annotations

import numpy as np

from .. import numpy as cnp
from ..core.aval import dtype_of, shape_of
from ..core.primitive import Box, unbox_all
from .activations import logsumexp
from .optim import tree_items

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(per_example, reduction):
    if reduction == "mean":
        return cnp.mean(per_example)
    if reduction == "sum":
        return cnp.sum(per_example)
    if reduction == "none":
        return per_example
    raise ValueError(f"unknown reduction {reduction!r}; use one of {_REDUCTIONS}")


def _per_example(terms):
    """Sum over the last (output) axis: arrays are (..., K), one example per leading index."""
    return cnp.sum(terms, axis=-1) if len(shape_of(terms)) else terms


def _targets(t, shape, name):
    """``t`` checked against the outputs' shape; traced targets stay traced (their derivative
    flows), plain ones become a float array (a float array itself, not a copy)."""
    if not isinstance(t, Box):
        t = np.asarray(t)
        if t.dtype.kind != "f":
            t = t.astype(float)
    if shape_of(t) != tuple(shape):
        raise ValueError(f"{name}: targets have shape {shape_of(t)} but the outputs have shape "
                         f"{tuple(shape)}")
    return t


def one_hot(labels, num_classes: int) -> np.ndarray:
    """Integer labels (N,) in 0..K-1 -> 1-of-K coding (N, K)."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.equal(np.mod(labels, 1), 0)):
            raise ValueError("class labels must be integers 0..K-1")
        labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"class labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    return np.eye(num_classes)[labels]


def sum_of_squares(y, t, reduction: str = "mean"):
    """E_n = 1/2 sum_k (y_nk - t_nk)^2 (Bishop 8.2); dE_n/dy_k = y_k - t_k = -dE_n/dt_k.

    ``y`` are the outputs of identity output units (regression).
    """
    t = _targets(t, shape_of(y), "sum_of_squares")
    r = y - t
    return _reduce(_per_example(0.5 * r * r), reduction)


def sigmoid_cross_entropy(logits, t, reduction: str = "mean"):
    """Binary cross-entropy of y = sigma(a), computed from the logits a:

        E_n = -sum_k [t_k ln y_k + (1 - t_k) ln(1 - y_k)] = sum_k [ln(1 + e^{a_k}) - t_k a_k]

    with ln(1 + e^a) = logaddexp(0, a), finite for every a. Targets t_k in [0, 1].
    dE_n/da_k = sigma(a_k) - t_k; dE_n/dt_k = -a_k.
    """
    t = _targets(t, shape_of(logits), "sigmoid_cross_entropy")
    return _reduce(_per_example(cnp.logaddexp(0.0, logits) - t * logits), reduction)


def softmax_cross_entropy(logits, t, reduction: str = "mean"):
    """Multiclass cross-entropy of y = softmax(a), computed from the logits a:

        E_n = -sum_k t_k ln y_k = logsumexp(a) * sum_k t_k - sum_k t_k a_k

    (logsumexp shifted by max_k a_k, so nothing overflows). ``t`` is either integer class
    labels of shape (N,) or a 1-of-K / probability array shaped like the logits.
    dE_n/da_k = y_k - t_k when sum_k t_k = 1; dE_n/dt_k = logsumexp(a) - a_k = -ln y_k.
    """
    shape = shape_of(logits)
    if not shape:
        raise ValueError("softmax_cross_entropy needs logits with a class axis, shape (N, K) or (K,)")
    if not isinstance(t, Box):
        t = np.asarray(t)
    if dtype_of(t).kind in "iub" and shape_of(t) == tuple(shape[:-1]):
        # class labels: constants (an integer carries no derivative), read even if staged by jit
        t = one_hot(unbox_all(t), shape[-1])
    t = _targets(t, shape, "softmax_cross_entropy")
    per = logsumexp(logits, axis=-1) * cnp.sum(t, axis=-1) - cnp.sum(t * logits, axis=-1)
    return _reduce(per, reduction)


def _is_weight(path) -> bool:
    return not path or path[-1] != "b"


def l2_penalty(params, lam: float):
    """Weight decay as a term of the error: lam/2 * sum of squared weights (biases excluded).

    Bishop's regularised error E~ = E + lam/2 w^T w. Add it to the loss you differentiate, or pass
    ``weight_decay=lam`` to an optimiser, which adds its gradient lam * w directly. (Added to a
    *mean* error E/N, ``lam`` here is Bishop's lambda divided by N.)
    """
    total = 0.0
    for path, w in tree_items(params):
        if _is_weight(path):
            total = total + cnp.sum(w * w)
    return 0.5 * lam * total
