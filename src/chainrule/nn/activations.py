"""Activation functions h(a), written with chainrule's own ops so they differentiate to any order.

Each takes pre-activations ``a`` (any shape; ``softmax`` normalises over the last axis) and works
on plain arrays and traced arrays alike. ``relu``, ``sigmoid`` and ``gelu`` are defined once, in
``chainrule.rules.activations`` (the Tensor API and ``chainrule explain`` call the same
functions); their derivatives at kinks follow :mod:`chainrule.conventions`.
"""

from __future__ import annotations

from .. import numpy as cnp
from ..extend import stop_gradient  # noqa: F401 - part of chainrule.nn
from ..rules.activations import gelu, relu, sigmoid
from ..scipy import special as _special


def identity(a):
    """h(a) = a (output units of regression networks and logits of classifiers)."""
    return a


def tanh(a):
    """h(a) = tanh(a); h' = 1 - h^2."""
    return cnp.tanh(a)


def logsumexp(a, axis=-1, keepdims=False):
    """ln sum_k exp(a_k) over ``axis`` (default: the last, the class axis), shifted by max_k a_k so
    nothing overflows; its gradient is the softmax. (``chainrule.scipy.special.logsumexp``.)"""
    return _special.logsumexp(a, axis=axis, keepdims=keepdims)


def softmax(a, axis=-1):
    """y_k = exp(a_k) / sum_j exp(a_j) over ``axis`` (default: the last), computed as
    exp(a_k - m) / sum_j exp(a_j - m), m = max_j a_j. (``chainrule.scipy.special.softmax``.)"""
    return _special.softmax(a, axis=axis)


ACTIVATIONS = {
    "identity": identity, "linear": identity, "tanh": tanh, "sigmoid": sigmoid, "logistic": sigmoid,
    "relu": relu, "gelu": gelu, "softmax": softmax,
}
"""The activations by the names ``Dense(activation=...)`` and ``chainrule train --activation`` accept."""


def get_activation(name):
    """The activation called ``name`` (``None`` means identity); a clear error for unknown names."""
    if name is None:
        return identity
    if callable(name):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of "
                         f"{', '.join(sorted(ACTIVATIONS))}") from None
