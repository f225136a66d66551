"""Reductions. ``axis`` is normalised to a tuple of *negative* axes before the primitive
is recorded, so the same params address the same data axes whatever batch axes a
cotangent or tangent carries in front.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..core.primitive import Primitive, implements
from . import shape as _shape_ops


def _shape(x) -> tuple:
    try:
        return x.shape
    except AttributeError:
        return ()


def normalize_axis(axis, ndim: int) -> tuple:
    """``None``/int/tuple -> sorted tuple of negative axes."""
    if axis is None:
        return tuple(range(-ndim, 0))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a - ndim if a >= 0 else a)
    return tuple(sorted(out))


def keepdims_shape(x_shape: tuple, axes: tuple) -> tuple:
    n = len(x_shape)
    return tuple(1 if i - n in axes else d for i, d in enumerate(x_shape))


def expand_to_input(g, ans, x, axes, keepdims):
    """Broadcast a reduced cotangent (``batch + ans.shape``) back to ``batch + x.shape``."""
    gs = _shape(g)
    lead = gs[: len(gs) - len(_shape(ans))]
    xs = _shape(x)
    if not keepdims:
        g = _shape_ops.reshape(g, lead + keepdims_shape(xs, axes))
    return _shape_ops.broadcast_to(g, lead + xs)


# ---------------------------------------------------------------- sum
sum_p = Primitive("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
                  doc="sum over axes (negative); linear")
sum_p.defvjp(lambda g, ans, x, axis, keepdims: expand_to_input(g, ans, x, axis, keepdims))
sum_p.defjvp(lambda t, ans, x, axis, keepdims: sum_p(t, axis=axis, keepdims=keepdims))


@implements(np.sum)
def sum(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):  # noqa: A001
    """Sum of elements over ``axis``."""
    _reject(out, kwargs, "sum")
    axes = normalize_axis(axis, len(_shape(x)))
    return sum_p(x, axis=axes, keepdims=bool(keepdims))


@implements(np.mean)
def mean(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """mean = sum / n."""
    _reject(out, kwargs, "mean")
    axes = normalize_axis(axis, len(_shape(x)))
    n = math.prod(_shape(x)[a] for a in axes)
    return sum_p(x, axis=axes, keepdims=bool(keepdims)) / n


def _reject(out, kwargs, name):
    if out is not None:
        from ..core.errors import InPlaceError
        raise InPlaceError(f"{name}(..., out=...) writes in place; not supported on traced arrays")
    kwargs.pop("where", None) if kwargs.get("where", True) is True else None
    if kwargs:
        raise TypeError(f"{name}() got unsupported arguments {sorted(kwargs)}")


__all__ = ["sum", "mean", "normalize_axis"]
