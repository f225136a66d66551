"""``scipy.signal``'s n-dimensional convolution and correlation, as composites.

``convolve(a, v)[k] = sum_j a[j] v[k - j]`` over every axis is the correlation
``sum_j a_pad[k + j] v_rev[j]`` of a zero-padded ``a`` with the kernel reversed along each
axis: one constant gather of windows (:func:`.numeric.correlate_nd`) contracted with the
kernel, so every mode and order of derivative, in both arguments, comes from the gather's
and ``tensordot``'s rules. ``correlate(a, v) = convolve(a, conj(v) reversed)``.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import shape_of as _shape
from .elementwise import conj
from .numeric import correlate_nd
from .shape import asarray, flip


def _reverse_all(v):
    return flip(v, axis=tuple(range(len(_shape(v))))) if _shape(v) else v


def _full_range(mode, s1, s2):
    """Per axis (start, length) of ``mode``'s output inside the full convolution."""
    if mode == "full":
        return [(0, n + m - 1) for n, m in zip(s1, s2, strict=True)]
    if mode == "same":
        return [((m - 1) // 2, n) for n, m in zip(s1, s2, strict=True)]
    if mode == "valid":
        if not (all(n >= m for n, m in zip(s1, s2, strict=True))
                or all(m >= n for n, m in zip(s1, s2, strict=True))):
            raise ValueError("For 'valid' mode, one must be at least as large as the other in every "
                             "dimension")
        return [(min(n, m) - 1, abs(n - m) + 1) for n, m in zip(s1, s2, strict=True)]
    raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")


def _check(in1, in2, method):
    if method not in ("auto", "direct", "fft"):
        raise ValueError("Acceptable method flags are 'auto', 'direct', or 'fft'.")
    a, v = asarray(in1), asarray(in2)
    if len(_shape(a)) != len(_shape(v)):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if 0 in _shape(a) or 0 in _shape(v):
        return a, v, True
    return a, v, False


def convolve(in1, in2, mode="full", method="auto"):
    """n-d convolution ``z[k] = sum_j in1[j] in2[k - j]`` (SciPy's modes; ``method`` only
    chooses SciPy's algorithm, the result is the same)."""
    a, v, empty = _check(in1, in2, method)
    if empty:
        return asarray(np.zeros(0))
    if len(_shape(a)) == 0:
        return a * v
    ranges = _full_range(mode, _shape(a), _shape(v))
    starts = [s for s, _ in ranges]
    out_shape = tuple(n for _, n in ranges)
    # The window at output k reads a_pad[k + start + j]; a_pad has m - 1 zeros in front.
    return correlate_nd(a, _reverse_all(v), tuple(m - 1 - s for m, s in zip(_shape(v), starts, strict=True)),
                        out_shape)


def correlate(in1, in2, mode="full", method="auto"):
    """n-d cross-correlation ``z[k] = sum_l in1[l] conj(in2[l - k + N - 1])``: ``convolve`` with
    ``conj(in2)`` reversed along every axis (SciPy's lags and modes)."""
    a, v, empty = _check(in1, in2, method)
    if empty:
        return asarray(np.zeros(0))
    if mode == "valid" and any(m > n for n, m in zip(_shape(a), _shape(v), strict=True)):
        # SciPy swaps the inputs and so returns the lags in reverse order, conjugated.
        z = convolve(v, _reverse_all(conj(a)), mode)
        return conj(_reverse_all(z))
    return convolve(a, _reverse_all(conj(v)), mode)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """2-d convolution with zero fill (the only boundary with a derivative rule here)."""
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError("convolve2d on traced arrays supports boundary='fill', fillvalue=0 only")
    if len(_shape(in1)) != 2 or len(_shape(in2)) != 2:
        raise ValueError("convolve2d inputs must both be 2-D arrays")
    return convolve(in1, in2, mode)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """2-d correlation with zero fill."""
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError("correlate2d on traced arrays supports boundary='fill', fillvalue=0 only")
    if len(_shape(in1)) != 2 or len(_shape(in2)) != 2:
        raise ValueError("correlate2d inputs must both be 2-D arrays")
    return correlate(in1, in2, mode)


def fftconvolve(in1, in2, mode="full", axes=None):
    """SciPy's FFT convolution: the same values as ``convolve`` (over all axes)."""
    if axes is not None:
        raise NotImplementedError("fftconvolve(axes=...) is not supported on traced arrays")
    return convolve(in1, in2, mode)


oaconvolve = fftconvolve

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve"]
