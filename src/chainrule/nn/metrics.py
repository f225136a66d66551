"""Metrics (plain NumPy: they are reported, not differentiated)."""

from __future__ import annotations

import numpy as np

from ..core.primitive import unbox_all


def predict_classes(outputs) -> np.ndarray:
    """Index of the largest output (logits or probabilities) per example."""
    return np.argmax(np.asarray(unbox_all(outputs)), axis=-1)


def accuracy(outputs, t) -> float:
    """Fraction of examples whose largest output is the target class.

    ``t`` is integer labels (N,) or 1-of-K targets (N, K).
    """
    outputs = np.asarray(unbox_all(outputs))
    t = np.asarray(unbox_all(t))
    labels = np.argmax(t, axis=-1) if t.shape == outputs.shape else t
    if labels.shape != outputs.shape[:-1]:
        raise ValueError(f"accuracy: targets of shape {t.shape} do not fit outputs of shape {outputs.shape}")
    if labels.size == 0:
        return float("nan")
    return float(np.mean(predict_classes(outputs) == labels))


def rmse(y, t) -> float:
    """Root-mean-square error sqrt(mean (y - t)^2) over all examples and outputs."""
    y = np.asarray(unbox_all(y), dtype=float)
    t = np.asarray(unbox_all(t), dtype=float).reshape(y.shape)
    return float(np.sqrt(np.mean((y - t) ** 2)))
