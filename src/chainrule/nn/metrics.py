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


def r2_score(y, t) -> float:
    """Coefficient of determination R^2 = 1 - sum (t - y)^2 / sum (t - mean t)^2 over all examples
    and outputs (1: perfect, 0: no better than predicting the mean; negative: worse). Unchanged by
    an affine rescaling applied to both ``y`` and ``t`` (standardised targets give the same R^2);
    ``nan`` when ``t`` is constant."""
    y = np.asarray(unbox_all(y), dtype=float)
    t = np.asarray(unbox_all(t), dtype=float).reshape(y.shape)
    total = float(np.sum((t - t.mean(axis=0)) ** 2))
    if total == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((t - y) ** 2)) / total
