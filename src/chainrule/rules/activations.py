"""Activation functions h(a): one definition each, composites of the rules' own primitives.

``chainrule.nn`` (its layers and ``nn.relu``), the ``Tensor`` API and the formula language of
``chainrule explain`` all call these, so an activation means the same function, with the same
derivative at its kinks, everywhere. Those derivatives follow :mod:`chainrule.conventions`
(``relu'(0) = 0``). Being composites, they differentiate to any order, are batch-polymorphic
and fuse under ``jit`` like the primitives they are made of.
"""

from __future__ import annotations

from .elementwise import greater, multiply, tanh, where
from .special import ndtr


def relu(a):
    """h(a) = max(a, 0); h'(a) = 1 for a > 0 and 0 for a <= 0, so h'(0) = 0 (PyTorch's and
    JAX's choice, :mod:`chainrule.conventions`). Written as ``where(a > 0, a, 0)``: the
    derivative is the ``where`` mask, not the tie rule of ``maximum`` (which would give 1/2)."""
    return where(greater(a, 0), a, 0.0)


def sigmoid(a):
    """Logistic sigmoid sigma(a) = 1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2; h' = sigma (1 - sigma).

    The tanh form never overflows, at any a.
    """
    return 0.5 * (1.0 + tanh(0.5 * a))


def gelu(a):
    """GELU (Hendrycks & Gimpel 2016), the exact form: h(a) = a Phi(a), Phi the standard normal CDF.

    h'(a) = Phi(a) + a phi(a).
    """
    return multiply(a, ndtr(a))


__all__ = ["relu", "sigmoid", "gelu"]
