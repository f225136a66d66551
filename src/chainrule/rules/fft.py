"""``numpy.fft``, differentiable in both modes to any order: three linear primitives and
composites.

==========  =================================================  ==============================
primitive   map (unnormalised, along negative ``axes``)         VJP (its transpose)
==========  =================================================  ==============================
``dft``     ``y_k = sum_t x_t exp(-+2 pi i k t / n)``          ``dft`` itself: the DFT matrix
                                                               is symmetric, ``F^T = F``
``rdft``    real ``x`` (length n) -> first ``n//2 + 1`` of     ``Re dft(zero-pad(g) to n)``
            ``dft(x)``
``irdft``   half spectrum ``X`` (``n//2 + 1``) -> real ``y``:  ``w conj(rdft(g))``, ``w_k = 1``
            ``y_t = sum_k w_k Re(X_k exp(2 pi i k t / n))``    for ``k = 0`` and ``k = n/2``,
                                                               else 2 (the Hermitian weighting)
==========  =================================================  ==============================

The VJPs are transposes under the pairing ``<a, b> = Re(sum a*b)`` (JAX's convention, no
conjugate), so ``vjp`` agrees with JAX's and ``grad`` of a real loss is JAX's gradient. Each JVP
is the primitive itself applied to the tangent. ``irdft`` ignores the imaginary parts of
``X_0`` and ``X_{n/2}``, as NumPy's ``irfft`` does, and its transpose gives them none.

Everything else is a composite: ``n``/``s`` crop (a slice) or zero-pad (a scatter into zeros)
along each axis first, ``norm`` is a constant factor (``"backward"``: 1 forward, ``1/N``
inverse; ``"ortho"``: ``1/sqrt(N)`` both ways; ``"forward"``: ``1/N`` forward, 1 inverse, with
``N`` the product of the transformed lengths), ``rfftn`` is ``rdft`` along the last axis and
``dft`` along the others, ``irfftn`` the reverse, ``hfft(a) = irfft(conj(a))`` and
``ihfft(a) = conj(rfft(a))`` with the norms swapped (NumPy's definitions), ``fftshift`` is a
``roll``. ``fftfreq`` and ``rfftfreq`` are constants (NumPy's own). Batch axes (a Jacobian's
rows) lead every cotangent and tangent and pass through, since every axis is stored negative.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.primitive import Box, Primitive
from . import elementwise as _ew
from . import shape as _shape_ops
from .dispatch import implements
from .linear import axis_key, normalize_axis1, scatter_add, slice_axis

_NORMS = ("backward", "ortho", "forward")


# ---------------------------------------------------------------- primitives
def _dft_impl(x, axes, inverse):
    if inverse:  # sum_k X_k exp(+2 pi i k t / n), no 1/n
        return np.fft.ifftn(x, axes=axes, norm="forward")
    return np.fft.fftn(x, axes=axes)


dft = Primitive("dft", _dft_impl, saves=(),
                doc="unnormalised DFT along axes (inverse: the +i exponent); symmetric, so VJP = itself")
dft.defvjp(lambda g, ans, x, axes, inverse: dft(g, axes=axes, inverse=inverse))
dft.defjvp(lambda t, ans, x, axes, inverse: dft(t, axes=axes, inverse=inverse))

rdft = Primitive("rdft", lambda x, axis, n: np.fft.rfft(x, n, axis=axis), saves=(),
                 doc="the first n//2 + 1 entries of the DFT of a real x (length n) along axis")
rdft.defvjp(lambda g, ans, x, axis, n: _ew.real(dft(_resize(g, axis, n), axes=(axis,), inverse=False)))
rdft.defjvp(lambda t, ans, x, axis, n: rdft(_ew.real(t) if dtype_of(t).kind == "c" else t,
                                            axis=axis, n=n))


def _hermitian_weights(n, m, axis, dtype):
    """``w_k``: 1 for ``k = 0`` and (n even) ``k = n/2``, else 2, shaped to broadcast along axis."""
    w = np.full(m, 2.0, dtype=np.dtype(dtype).char.lower() if np.dtype(dtype).kind == "c" else dtype)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return w.reshape((m,) + (1,) * (-axis - 1))


def _irdft_vjp(g, ans, x, axis, n):
    if dtype_of(g).kind == "c":  # the cotangent of a real output is real
        g = _ew.real(g)
    spectrum = _ew.conj(rdft(g, axis=axis, n=n))
    return spectrum * _hermitian_weights(n, n // 2 + 1, axis, dtype_of(spectrum))


irdft = Primitive("irdft", lambda x, axis, n: np.fft.irfft(x, n, axis=axis, norm="forward"), saves=(),
                  doc="real y (length n) from a half spectrum (n//2 + 1 entries), no 1/n; "
                      "VJP w conj(rdft(g)), w the Hermitian weights")
irdft.defvjp(_irdft_vjp)
irdft.defjvp(lambda t, ans, x, axis, n: irdft(t, axis=axis, n=n))


# ---------------------------------------------------------------- helpers
def _resize(x, axis, n):
    """Crop or zero-pad ``x`` at the end of negative ``axis`` to length ``n`` (NumPy's ``n``/``s``)."""
    shape = _shape(x)
    m = shape[axis]
    if m == n:
        return x
    if m > n:
        return slice_axis(x, axis, 0, n)
    out = shape[:len(shape) + axis] + (n,) + shape[len(shape) + axis + 1:]
    return scatter_add(x, axis_key(axis, slice(0, m)), out)


def _norm_check(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    return norm


def _scale(y, n_total, norm, inverse):
    """NumPy's normalisation: 1, 1/sqrt(N) or 1/N."""
    if norm == "ortho":
        return y * (1.0 / math.sqrt(n_total))
    if (norm == "backward") == inverse:
        return y * (1.0 / n_total)
    return y


def _check_n(n):
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return n


def _axes_and_sizes(x, s, axes, name):
    """Negative axes and their lengths, with NumPy's defaults: every axis, or the last
    ``len(s)`` ones, the lengths ``s`` or the array's own."""
    nd = len(_shape(x))
    if axes is None:
        axes = tuple(range(nd)) if s is None else tuple(range(nd - len(s), nd))
    elif np.ndim(axes) == 0:
        axes = (axes,)
    axes = tuple(normalize_axis1(a, nd) for a in axes)
    if s is None:
        s = tuple(_shape(x)[a] for a in axes)
    elif np.ndim(s) == 0:
        s = (s,)
    if len(s) != len(axes):
        raise ValueError(f"{name}: shape and axes have different lengths")
    return axes, tuple(-1 if v is None else operator.index(v) for v in s)  # a float n: TypeError


def _traced(*xs) -> bool:
    return any(isinstance(x, Box) for x in xs)


def _as_inexact(x):
    """``x`` as an array NumPy's FFT accepts (integers and bools become float64)."""
    x = _shape_ops.asarray(x)
    return x if dtype_of(x).kind in "fc" else _shape_ops.astype(x, np.float64)


def _complex_nd(x, s, axes, norm, inverse, name):
    x = _as_inexact(x)
    axes, s = _axes_and_sizes(x, s, axes, name)
    norm = _norm_check(norm)
    for a, n in zip(axes, s, strict=True):
        x = _resize(x, a, _check_n(_shape(x)[a] if n == -1 else n))
    y = dft(x, axes=tuple(sorted(set(axes))), inverse=inverse) if axes else x
    return _scale(y, math.prod(_shape(x)[a] for a in axes), norm, inverse)


def _real_nd(x, s, axes, norm, name):
    """rfftn: real input, rdft along the last axis, dft along the others."""
    x = _as_inexact(x)
    if dtype_of(x).kind == "c":
        raise TypeError(f"{name} requires a real input, got dtype {dtype_of(x)}")
    axes, s = _axes_and_sizes(x, s, axes, name)
    norm = _norm_check(norm)
    for a, n in zip(axes, s, strict=True):
        x = _resize(x, a, _check_n(_shape(x)[a] if n == -1 else n))
    total = math.prod(_shape(x)[a] for a in axes)
    y = rdft(x, axis=axes[-1], n=_shape(x)[axes[-1]])
    rest = tuple(sorted(set(axes[:-1]) - {axes[-1]}))
    if rest:
        y = dft(y, axes=rest, inverse=False)
    return _scale(y, total, norm, False)


def _inverse_real_nd(x, s, axes, norm, name):
    """irfftn: inverse dft along all axes but the last, then irdft along it (output length
    ``s[-1]``, by default ``2 (m - 1)``)."""
    x = _as_inexact(x)
    given = s is not None
    axes, s = _axes_and_sizes(x, s, axes, name)
    norm = _norm_check(norm)
    last = axes[-1]
    n_last = s[-1] if given and s[-1] != -1 else 2 * (_shape(x)[last] - 1)
    _check_n(n_last)
    for a, n in zip(axes[:-1], s[:-1], strict=True):
        x = _resize(x, a, _check_n(_shape(x)[a] if n == -1 else n))
    total = math.prod(_shape(x)[a] for a in axes[:-1]) * n_last
    rest = tuple(sorted(set(axes[:-1]) - {last}))
    if rest:
        x = dft(x, axes=rest, inverse=True)
    x = _resize(x, last, n_last // 2 + 1)
    return _scale(irdft(x, axis=last, n=n_last), total, norm, True)


def _one(n, axis):
    return (None if n is None else (n,)), (axis,)


_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


# ---------------------------------------------------------------- numpy.fft
@implements(np.fft.fft)
def fft(a, n=None, axis=-1, norm=None, out=None):
    """Discrete Fourier transform along ``axis`` (``n``: crop or zero-pad first)."""
    if not _traced(a):
        return np.fft.fft(a, n, axis, norm, out)
    _no_out(out, "fft")
    return _complex_nd(a, *_one(n, axis), norm, False, "fft")


@implements(np.fft.ifft)
def ifft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse DFT along ``axis``."""
    if not _traced(a):
        return np.fft.ifft(a, n, axis, norm, out)
    _no_out(out, "ifft")
    return _complex_nd(a, *_one(n, axis), norm, True, "ifft")


@implements(np.fft.fftn)
def fftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional DFT over ``axes`` (lengths ``s``)."""
    if not _traced(a):
        return np.fft.fftn(a, s, axes, norm, out)
    _no_out(out, "fftn")
    return _complex_nd(a, s, axes, norm, False, "fftn")


@implements(np.fft.ifftn)
def ifftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional inverse DFT."""
    if not _traced(a):
        return np.fft.ifftn(a, s, axes, norm, out)
    _no_out(out, "ifftn")
    return _complex_nd(a, s, axes, norm, True, "ifftn")


@implements(np.fft.fft2)
def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D DFT (``fftn`` over the last two axes)."""
    if not _traced(a):
        return np.fft.fft2(a, s, axes, norm, out)
    return fftn(a, s, axes, norm, out)


@implements(np.fft.ifft2)
def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D inverse DFT."""
    if not _traced(a):
        return np.fft.ifft2(a, s, axes, norm, out)
    return ifftn(a, s, axes, norm, out)


@implements(np.fft.rfft)
def rfft(a, n=None, axis=-1, norm=None, out=None):
    """DFT of a real input: the ``n//2 + 1`` non-negative frequencies."""
    if not _traced(a):
        return np.fft.rfft(a, n, axis, norm, out)
    _no_out(out, "rfft")
    return _real_nd(a, *_one(n, axis), norm, "rfft")


@implements(np.fft.irfft)
def irfft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse of ``rfft``: a real output of length ``n`` (default ``2 (m - 1)``)."""
    if not _traced(a):
        return np.fft.irfft(a, n, axis, norm, out)
    _no_out(out, "irfft")
    return _inverse_real_nd(a, *_one(n, axis), norm, "irfft")


@implements(np.fft.rfftn)
def rfftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional DFT of a real input (half spectrum along the last axis)."""
    if not _traced(a):
        return np.fft.rfftn(a, s, axes, norm, out)
    _no_out(out, "rfftn")
    return _real_nd(a, s, axes, norm, "rfftn")


@implements(np.fft.irfftn)
def irfftn(a, s=None, axes=None, norm=None, out=None):
    """Inverse of ``rfftn``."""
    if not _traced(a):
        return np.fft.irfftn(a, s, axes, norm, out)
    _no_out(out, "irfftn")
    return _inverse_real_nd(a, s, axes, norm, "irfftn")


@implements(np.fft.rfft2)
def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D ``rfftn``."""
    if not _traced(a):
        return np.fft.rfft2(a, s, axes, norm, out)
    return rfftn(a, s, axes, norm, out)


@implements(np.fft.irfft2)
def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """2-D ``irfftn``."""
    if not _traced(a):
        return np.fft.irfft2(a, s, axes, norm, out)
    return irfftn(a, s, axes, norm, out)


@implements(np.fft.hfft)
def hfft(a, n=None, axis=-1, norm=None, out=None):
    """DFT of a Hermitian-symmetric signal given by its first half: ``irfft(conj(a))`` with
    the norm swapped (a real output of length ``n``)."""
    if not _traced(a):
        return np.fft.hfft(a, n, axis, norm, out)
    _no_out(out, "hfft")
    return _inverse_real_nd(_ew.conj(_as_inexact(a)), *_one(n, axis), _SWAP[_norm_check(norm)],
                            "hfft")


@implements(np.fft.ihfft)
def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse of ``hfft``: ``conj(rfft(a))`` with the norm swapped."""
    if not _traced(a):
        return np.fft.ihfft(a, n, axis, norm, out)
    _no_out(out, "ihfft")
    return _ew.conj(_real_nd(a, *_one(n, axis), _SWAP[_norm_check(norm)], "ihfft"))


def _shifts(x, axes, sign):
    nd = len(_shape(x))
    if axes is None:
        axes = tuple(range(nd))
    elif np.ndim(axes) == 0:
        axes = (axes,)
    return [sign * (_shape(x)[a] // 2) for a in axes], tuple(axes)


@implements(np.fft.fftshift)
def fftshift(x, axes=None):
    """Zero frequency to the centre: a ``roll`` by ``n // 2`` along each axis."""
    if not _traced(x):
        return np.fft.fftshift(x, axes)
    shift, axes = _shifts(x, axes, 1)
    return _shape_ops.roll(x, shift, axes)


@implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """The inverse of ``fftshift``: a ``roll`` by ``-(n // 2)``."""
    if not _traced(x):
        return np.fft.ifftshift(x, axes)
    shift, axes = _shifts(x, axes, -1)
    return _shape_ops.roll(x, shift, axes)


fftfreq = np.fft.fftfreq  # sample frequencies: constants
rfftfreq = np.fft.rfftfreq


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"{name}(..., out=...) writes in place; not supported on traced arrays")


__all__ = ["fft", "ifft", "fftn", "ifftn", "fft2", "ifft2", "rfft", "irfft", "rfftn", "irfftn",
           "rfft2", "irfft2", "hfft", "ihfft", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
           "dft", "rdft", "irdft"]
