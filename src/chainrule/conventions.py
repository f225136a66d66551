"""What chainrule takes as the derivative where calculus gives none: kinks, ties and bounds.

At these points a function is not differentiable (``|x|`` at 0), or its derivative depends on
which side one comes from (``max`` of tied values), so a library has to choose. These are
chainrule's choices, one table for every front-end: ``grad``, ``jvp``, the ``Tensor`` API,
``chainrule.nn`` and ``chainrule explain`` compute them with the same rules, and
``tests/test_conventions.py`` checks each entry against what ``grad`` computes.

Each :class:`Convention` names the library function, the point (``args``), and the gradient
there: the vector-Jacobian product of ``seed`` (default: ones, i.e. ``d sum(f)``) with
respect to each argument listed in ``argnums``.

The choices, in short:

* ``relu'(0) = 0`` (PyTorch, JAX): ``relu`` is ``where(a > 0, a, 0)``.
* ``|x|'(0) = sign(0) = 0``.
* ``maximum``/``minimum`` (and ``fmax``/``fmin``) of two equal values send half the
  gradient to each side; so do ties of the ``max``/``min`` reductions, shared evenly
  (``1/k`` each for ``k`` tied extremes).
* ``sort`` passes each position's gradient to the one element ``argsort`` put there; among
  tied elements that is the first in the input (NumPy's order for ties).
* ``clip(x, lo, hi)`` at a bound: the gradient goes to ``x`` (``lo <= x <= hi`` counts as
  inside), none to the bound.
* ``where(c, x, y)``: ``c`` is a constant; the gradient goes to ``x`` where ``c`` and to ``y``
  elsewhere.
* ``sign``, ``floor``, ``ceil``, ``round``, comparisons: derivative 0 everywhere, at the jumps
  too (no Dirac delta).
* ``sqrt'(0) = +inf`` (``0.5 / sqrt(x)``; no special case), but ``linalg.norm`` of a zero
  vector has gradient 0 (the subgradient of smallest size).
* ``x ** y`` with respect to ``y`` at ``x = 0``: ``x**y log x`` is taken as 0; ``x ** 0`` is
  the constant 1, derivative 0 at ``x = 0`` too.
* ``fmax``/``fmin`` with one NaN send the gradient to the argument they return (the
  non-NaN one); ``maximum``/``minimum`` with a NaN return NaN and send 0 to both.
* ``hypot(0, 0)`` follows ``norm``: 0. ``std`` over one element is the constant 0: derivative 0.
* ``det`` at a singular matrix: the adjugate, as everywhere (``slogdet`` raises there).
* ``quantile``/``percentile`` (and the nan-versions): at an order statistic the derivative in
  ``q`` is the slope of the segment above; the discrete methods (``lower``, ``higher``,
  ``nearest``, ``midpoint``, ``inverted_cdf``, ``averaged_inverted_cdf``,
  ``closest_observation``) and ``weights`` are piecewise constant: derivative 0 in ``q`` and
  in the weights, at the jumps too; the gradient in ``a`` goes to the values picked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import numpy as cnp
from .numpy import linalg as _linalg
from .rules.activations import relu


@dataclass(frozen=True)
class Convention:
    """The derivative chainrule uses for ``fn`` at ``args``: ``grads[k]`` is the gradient with
    respect to ``args[argnums[k]]`` (the VJP of ``seed``; ``None`` means ones)."""

    fn: Callable
    args: tuple
    grads: tuple
    rule: str
    argnums: tuple = (0,)
    seed: Any = field(default=None, compare=False)


def _a(*v) -> np.ndarray:
    return np.array(v, dtype=float)


def _quantile_lower(a, q):
    """``quantile(a, q, method="lower")``: a discrete method, a step function of ``q``."""
    return cnp.quantile(a, q, method="lower")


def _weighted_median(a, weights):
    """``quantile(a, 0.5, method="inverted_cdf", weights=weights)``."""
    return cnp.quantile(a, 0.5, method="inverted_cdf", weights=weights)


CONVENTIONS: dict[str, Convention] = {
    "relu at 0": Convention(relu, (0.0,), (0.0,), "relu'(0) = 0"),
    "abs at 0": Convention(cnp.abs, (0.0,), (0.0,), "|x|'(0) = sign(0) = 0"),
    "maximum tie": Convention(cnp.maximum, (1.0, 1.0), (0.5, 0.5),
                              "half the gradient to each side", argnums=(0, 1)),
    "minimum tie": Convention(cnp.minimum, (1.0, 1.0), (0.5, 0.5),
                              "half the gradient to each side", argnums=(0, 1)),
    "fmax tie": Convention(cnp.fmax, (1.0, 1.0), (0.5, 0.5),
                           "half the gradient to each side", argnums=(0, 1)),
    "fmin tie": Convention(cnp.fmin, (1.0, 1.0), (0.5, 0.5),
                           "half the gradient to each side", argnums=(0, 1)),
    "max ties": Convention(cnp.max, (_a(1, 3, 3),), (_a(0, 0.5, 0.5),),
                           "tied maxima share the gradient evenly"),
    "min ties": Convention(cnp.min, (_a(1, 1, 3),), (_a(0.5, 0.5, 0),),
                           "tied minima share the gradient evenly"),
    "sort ties": Convention(cnp.sort, (_a(2, 1, 1),), (_a(0, 1, 0),),
                            "each position's gradient goes to the element argsort put there: "
                            "among ties, the first in the input", seed=_a(1, 0, 0)),
    "clip at the lower bound": Convention(cnp.clip, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0),
                                          "lo <= x <= hi passes the gradient to x, none to the bound",
                                          argnums=(0, 1, 2)),
    "clip at the upper bound": Convention(cnp.clip, (1.0, 0.0, 1.0), (1.0, 0.0, 0.0),
                                          "lo <= x <= hi passes the gradient to x, none to the bound",
                                          argnums=(0, 1, 2)),
    "where": Convention(cnp.where, (np.array([True, False]), _a(1, 2), _a(3, 4)),
                        (_a(1, 0), _a(0, 1)), "x where c, y elsewhere; c is a constant",
                        argnums=(1, 2)),
    "sign at 0": Convention(cnp.sign, (0.0,), (0.0,), "piecewise constant: 0, at the jump too"),
    "floor at an integer": Convention(cnp.floor, (1.0,), (0.0,),
                                      "piecewise constant: 0, at the jump too"),
    "round at a half": Convention(cnp.round, (0.5,), (0.0,), "piecewise constant: 0, at the jump too"),
    "sqrt at 0": Convention(cnp.sqrt, (0.0,), (np.inf,), "0.5 / sqrt(0) = +inf, no special case"),
    "norm at 0": Convention(_linalg.norm, (_a(0, 0),), (_a(0, 0),),
                            "the gradient of ||x|| at x = 0 is 0"),
    "power in the exponent at base 0": Convention(cnp.power, (0.0, 2.0), (0.0,),
                                                  "d(x**y)/dy = x**y log x, taken as 0 at x = 0",
                                                  argnums=(1,)),
    "x ** 0 at 0": Convention(cnp.power, (0.0, 0.0), (0.0,),
                              "x**0 is the constant 1: its derivative is 0, at x = 0 too"),
    "fmax with a NaN": Convention(cnp.fmax, (np.nan, 1.0), (0.0, 1.0),
                                  "the gradient goes to the argument fmax returns, the non-NaN one",
                                  argnums=(0, 1)),
    "fmin with a NaN": Convention(cnp.fmin, (np.nan, 1.0), (0.0, 1.0),
                                  "the gradient goes to the argument fmin returns, the non-NaN one",
                                  argnums=(0, 1)),
    "maximum with a NaN": Convention(cnp.maximum, (np.nan, 1.0), (0.0, 0.0),
                                     "the result is NaN, taken from neither side: 0 to both",
                                     argnums=(0, 1)),
    "copysign at 0": Convention(cnp.copysign, (0.0, 1.0), (0.0, 0.0),
                                "|x| sign(y): d/dx is sign(x) sign(y), 0 at x = 0 (abs's "
                                "convention); the sign argument never gets a derivative",
                                argnums=(0, 1)),
    "hypot at (0, 0)": Convention(cnp.hypot, (0.0, 0.0), (0.0, 0.0),
                                  "as norm at 0: the smallest subgradient, 0", argnums=(0, 1)),
    "std of one element": Convention(cnp.std, (_a(2.0),), (_a(0.0),),
                                     "std over one element is 0 whatever the element: a constant, "
                                     "gradient 0 (not sqrt'(0) * 0 = nan)"),
    "var of one element": Convention(cnp.var, (_a(2.0),), (_a(0.0),),
                                     "the mean is the element itself: var is 0 nearby, gradient 0"),
    "det at a singular matrix": Convention(_linalg.det, (np.array([[2.0, 0.0], [0.0, 0.0]]),),
                                           (np.array([[0.0, 0.0], [0.0, 2.0]]),),
                                           "the adjugate's transpose, as at any matrix (JAX's value)"),
    "quantile at an order statistic": Convention(cnp.quantile, (_a(1, 2, 4), 0.5), (_a(0, 1, 0), 4.0),
                                                 "the slope in q of the segment above (here "
                                                 "(4 - 2) (n - 1)); the value's gradient goes to "
                                                 "that order statistic", argnums=(0, 1)),
    "quantile in q, discrete method": Convention(_quantile_lower, (_a(1, 2, 4), 0.5), (_a(0, 1, 0), 0.0),
                                                 "lower/higher/nearest/midpoint/inverted_cdf/...: "
                                                 "piecewise constant in q, 0 at the jumps too",
                                                 argnums=(0, 1)),
    "quantile weights": Convention(_weighted_median, (_a(1, 3, 2), _a(1, 1, 1)), (_a(0, 0, 1), _a(0, 0, 0)),
                                   "weights choose which value is picked: piecewise constant, "
                                   "0 at the jumps too", argnums=(0, 1)),
}


__all__ = ["Convention", "CONVENTIONS"]
