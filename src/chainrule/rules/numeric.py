"""NumPy's numerical helpers as composites of chainrule's differentiable operations.

Nothing here has a rule of its own: each function is written with the primitives of the
other rule families (gathers, concatenations, ``where``, arithmetic), so every mode and
order of derivative comes from theirs. Index bookkeeping (which element goes where) is
computed with NumPy on integer labels and is a constant of the trace:

* ``linspace``/``logspace``/``geomspace``: ``start + t (stop - start)`` with a constant
  ``t``, so the endpoints may be traced;
* ``interp``: the segment of each ``x`` is a constant (``searchsorted``); the value
  ``fp[i] + (fp[i+1] - fp[i]) (x - xp[i]) / (xp[i+1] - xp[i])`` is differentiable in
  ``x``, ``xp`` and ``fp``;
* ``convolve``/``correlate``: a gather of sliding windows contracted with the kernel,
  ``c[k] = sum_j a_pad[k + j] v[j]`` (also what ``chainrule.scipy.signal`` uses, n-d);
* ``quantile``/``percentile``: a sort, then ``lo + (hi - lo) gamma`` at NumPy's virtual
  index ``n q + alpha + q (1 - alpha - beta) - 1``, differentiable in ``a`` and ``q``;
* ``insert``: NumPy's own ``insert`` on integer labels says where each element goes;
* ``pad``: one axis at a time, a gather (edge, wrap, reflect, symmetric), blocks of
  constants, ramps or statistics concatenated around the array (see ``pad``).
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.errors import InPlaceError, NoRuleError
from ..core.primitive import Box, unbox_all
from .constants import zeros_like
from .dispatch import MIRRORS, UFUNCS, implements
from .elementwise import (
    absolute,
    around,
    clip,
    conj,
    floor,
    imag,
    isinf,
    isnan,
    log10,
    mod,
    real,
    sin,
    where,
)
from .elementwise import power as _power
from .linalg import dot, tensordot
from .linear import (
    getitem,
    normalize_axis,
    normalize_axis1,
    normalize_index,
    reshape,
    scatter_add_p,
    slice_axis,
    transpose,
)
from .reductions import average, cumprod, cumsum, max, mean, median, min, prod, sum  # noqa: A004
from .shape import (
    _contains_box,
    asarray,
    astype,
    at_set,
    broadcast_arrays,
    broadcast_to,
    concatenate,
    diagonal,
    diff,
    flip,
    moveaxis,
    ravel,
    sort,
    squeeze,
    stack,
    take,
    take_along_axis,
)

_pi = np.pi


def _nd(x) -> int:
    return len(_shape(x))


def _sl(x, axis, start=None, stop=None):
    """``x[..., start:stop, ...]`` along ``axis`` (either sign; slice_axis wants it negative)."""
    n = _nd(x)
    return slice_axis(x, axis - n if axis >= 0 else axis, start, stop)


def _float(x):
    """Integer and boolean inputs compute in float64, as NumPy's numerical helpers do."""
    return x if np.issubdtype(dtype_of(x), np.inexact) else astype(x, np.float64)


# ---------------------------------------------------------------- ranges
def _weak(v):
    """What ``np.result_type`` should see for ``v``: Python numbers stay weakly typed."""
    return v if type(v) in (int, float, complex) else dtype_of(v)


@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """``start + t step``, ``step = (stop - start) / div``, ``t = 0, 1, ..., num - 1`` and
    ``div = num - 1`` (``num`` without the endpoint), in NumPy's arithmetic and dtype: the
    endpoints may be traced; where a step is 0 (denormals) ``(t / div) (stop - start)``;
    the last sample is ``stop`` itself."""
    num = operator.index(num)  # NumPy's: a float count is a TypeError, not truncated
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    dt = np.result_type(_weak(start), _weak(stop), 0.0)  # NumPy's ensure_inexact
    start, stop = astype(asarray(start), dt), astype(asarray(stop), dt)
    delta = stop - start
    shape = _shape(delta)
    t = np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(shape))
    if div > 0:
        step = delta / div
        zero = max(step == 0)  # any(): a recorded reduction under jit, which keeps both branches
        if isinstance(zero, Box):
            y = where(zero, t / div * delta, t * step)
        else:
            y = t / div * delta if zero else t * step
    else:
        step = np.nan  # no step: NumPy's nan
        y = t * delta
    y = y + start
    if endpoint and num > 1:
        y = concatenate([_sl(y, 0, None, -1), broadcast_to(stop, (1,) + shape)], axis=0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = astype(floor(y) if np.issubdtype(dtype, np.integer) else y, dtype)
    return (y, step) if retstep else y


@implements(np.logspace)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop)``; ``base`` may be traced too."""
    y = linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    base = asarray(base)
    if _nd(base):
        base = reshape(base, _shape(base)[:axis] + (1,) + _shape(base)[axis:]) if axis >= 0 else \
            moveaxis(reshape(base, _shape(base) + (1,)), -1, axis)
    y = _power(base, y)
    return y if dtype is None else astype(y, dtype)


@implements(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """NumPy's steps: both endpoints turned positive by ``start``'s sign, ``10 ** linspace(
    log10 start, log10 stop)``, the exact endpoints put back, the sign restored (real only)."""
    s0, s1 = np.asarray(unbox_all(start)), np.asarray(unbox_all(stop))
    if np.iscomplexobj(s0) or np.iscomplexobj(s1):
        raise NotImplementedError("geomspace of complex endpoints is not supported on traced arrays")
    if np.any(s0 == 0) or np.any(s1 == 0):
        raise ValueError("Geometric sequence cannot include zero")
    dt = np.result_type(dtype_of(start), dtype_of(stop), float(num), np.zeros((), dtype))
    sign = np.sign(s0.astype(dt))
    start, stop = astype(asarray(start), dt) / sign, astype(asarray(stop), dt) / sign
    y = logspace(log10(start), log10(stop), num=num, endpoint=endpoint, base=10.0, dtype=dt)
    if num > 0:
        shape = (1,) + _shape(y)[1:]
        ends = [broadcast_to(start, shape), _sl(y, 0, 1, -1 if endpoint and num > 1 else None)]
        y = concatenate(ends + ([broadcast_to(stop, shape)] if endpoint and num > 1 else []), axis=0)
    y = y * sign
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return y if dtype is None else astype(y, dtype)


_MESHGRID_TYPE = type(np.meshgrid(np.zeros(1)))


@implements(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Reshapes of each coordinate vector, broadcast against the others unless ``sparse``."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    s0 = (1,) * ndim
    out = [reshape(asarray(x), s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        out[0] = reshape(out[0], (1, -1) + s0[2:])
        out[1] = reshape(out[1], (-1, 1) + s0[2:])
    if not sparse:
        out = list(broadcast_arrays(*out))
    return _MESHGRID_TYPE(out)


# ---------------------------------------------------------------- interpolation, polynomials
@implements(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation; the segment index is a constant, the value is
    ``fp[i] + (fp[i+1] - fp[i]) (x - xp[i]) / (xp[i+1] - xp[i])``."""
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    if _nd(xp) != 1 or _nd(fp) != 1:
        raise ValueError("object too deep for desired array" if _nd(xp) > 1 or _nd(fp) > 1
                         else "object of too small depth for desired array")
    if _shape(xp) != _shape(fp):
        raise ValueError("fp and xp are not of the same length.")
    if _shape(xp)[0] == 0:
        raise ValueError("array of sample points is empty")
    if period is not None:
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = builtins.abs(period)
        left = right = None
        x, xp = mod(x, period), mod(xp, period)
        order = np.argsort(np.asarray(unbox_all(xp)), kind="stable")
        xp, fp = getitem(xp, order), getitem(fp, order)
        xp = concatenate([xp[-1:] - period, xp, xp[0:1] + period])
        fp = concatenate([fp[-1:], fp, fp[0:1]])
    n = _shape(xp)[0]
    first, last = fp[0], fp[n - 1]
    if n == 1:
        y = first + zeros_like(_float(x))
    else:
        i = np.clip(np.searchsorted(np.asarray(unbox_all(xp)), np.asarray(unbox_all(x)), side="right") - 1,
                    0, n - 2)
        x0, f0 = getitem(xp, i), getitem(fp, i)
        x1, f1 = getitem(xp, i + 1), getitem(fp, i + 1)
        y = f0 + (f1 - f0) / (x1 - x0) * (x - x0)
        y = where(x == xp[n - 1], last, y)  # NumPy returns fp[-1] exactly at the last knot
    y = where(x < xp[0], first if left is None else left, y)
    return where(x > xp[n - 1], last if right is None else right, y)


@implements(np.polyval)
def polyval(p, x):
    """Horner's scheme ``y = y x + p[i]`` over the coefficients, highest power first."""
    p, x = asarray(p), asarray(x)
    y = zeros_like(x)
    for k in range(_shape(p)[0]):
        y = y * x + p[k]
    return y


# ---------------------------------------------------------------- convolution
def correlate_nd(a, v, pad_before, out_shape):
    """``c[k] = sum_j a_pad[k + j] v[j]`` over every axis (no conjugation): ``a`` padded with
    ``pad_before`` zeros in front of each axis (and behind as far as ``out_shape`` needs),
    a constant gather of windows ``out_shape + v.shape``, contracted with ``v``."""
    a, v = asarray(a), asarray(v)
    ash, vsh = _shape(a), _shape(v)
    need = [o + m - 1 for o, m in zip(out_shape, vsh, strict=True)]
    parts = a
    for ax, (n, b, tot) in enumerate(zip(ash, pad_before, need, strict=True)):
        after = tot - b - n
        if b > 0 or after > 0:
            zshape = list(_shape(parts))
            pieces = []
            if b > 0:
                zshape[ax] = b
                pieces.append(np.zeros(zshape, dtype=dtype_of(a)))
            pieces.append(_sl(parts, ax, builtins.max(0, -b), n + builtins.min(0, after)))
            if after > 0:
                zshape[ax] = after
                pieces.append(np.zeros(zshape, dtype=dtype_of(a)))
            parts = concatenate(pieces, axis=ax)
        elif b < 0 or after < 0:
            parts = _sl(parts, ax, -b, n + after)
    padded_shape = _shape(parts)
    flat_index = np.zeros(tuple(out_shape) + tuple(vsh), dtype=np.intp)
    nd = len(vsh)
    strides = np.cumprod((padded_shape[1:] + (1,))[::-1])[::-1] if nd else ()
    for ax in range(nd):
        pos = (np.arange(out_shape[ax]).reshape((1,) * ax + (-1,) + (1,) * (2 * nd - ax - 1))
               + np.arange(vsh[ax]).reshape((1,) * (nd + ax) + (-1,) + (1,) * (nd - ax - 1)))
        flat_index = flat_index + pos * int(strides[ax])
    windows = getitem(ravel(parts), flat_index)
    return tensordot(windows, v, axes=nd)


def _mode_range(mode, n, m, full_len):
    """(start, length) of NumPy's ``full``/``same``/``valid`` output within ``full``."""
    if mode == "full":
        return 0, full_len
    if mode == "same":
        big, small = builtins.max(n, m), builtins.min(n, m)
        return (small - 1) // 2, big
    if mode == "valid":
        big, small = builtins.max(n, m), builtins.min(n, m)
        return small - 1, big - small + 1
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


def _correlate_1d(a, v, mode):
    a, v = asarray(a), asarray(v)
    if _nd(a) != 1 or _nd(v) != 1:
        raise ValueError("object too deep for desired array")
    n, m = _shape(a)[0], _shape(v)[0]
    if n == 0:
        raise ValueError("a cannot be empty")
    if m == 0:
        raise ValueError("v cannot be empty")
    start, length = _mode_range(mode, n, m, n + m - 1)
    if mode == "same" and n < m:
        start = n // 2  # NumPy's correlate swaps and reverses, which centres the other way
    return correlate_nd(a, v, (m - 1 - start,), (length,))


@implements(np.correlate)
def correlate(a, v, mode="valid"):
    """``c[k] = sum_n a[n + k] conj(v[n])`` (NumPy's ``correlate``, lags in NumPy's order)."""
    return _correlate_1d(a, conj(asarray(v)), mode)


@implements(np.convolve)
def convolve(a, v, mode="full"):
    """``c[k] = sum_j a[j] v[k - j]``: a correlation with the reversed kernel."""
    a, v = asarray(a), asarray(v)
    if _nd(a) == 1 and _nd(v) == 1 and _shape(v)[0] > _shape(a)[0]:
        a, v = v, a  # NumPy swaps so the kernel is the shorter one; convolution commutes
    if _nd(v) == 0 or _nd(a) == 0:
        a, v = reshape(a, (-1,)), reshape(v, (-1,))
    return _correlate_1d(a, flip(v), mode)


# ---------------------------------------------------------------- statistics
@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """``(X - avg) diag(w) (X - avg)^H / fact`` with NumPy's weights and degrees of freedom."""
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = asarray(m)
    if _nd(m) > 2:
        raise ValueError("m has more than 2 dimensions")
    X = reshape(m, (1, -1)) if _nd(m) < 2 else m
    X = _float(X)
    if not rowvar and _shape(X)[0] != 1:
        X = transpose(X)
    if _shape(X)[0] == 0:
        return reshape(X, (0, 0))
    if y is not None:
        y = asarray(y)
        if _nd(y) > 2:
            raise ValueError("y has more than 2 dimensions")
        y = reshape(y, (1, -1)) if _nd(y) < 2 else y
        if not rowvar and _shape(y)[0] != 1:
            y = transpose(y)
        X = concatenate([X, _float(y)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        fw = np.asarray(unbox_all(fweights))
        if not np.all(fw == np.around(fw)):
            raise TypeError("fweights must be integer")
        if fw.ndim > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if fw.shape[0] != _shape(X)[1]:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if np.any(fw < 0):
            raise ValueError("fweights cannot be negative")
        w = asarray(fweights)
    if aweights is not None:
        aw = np.asarray(unbox_all(aweights))
        if aw.ndim > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if aw.shape[0] != _shape(X)[1]:
            raise RuntimeError("incompatible numbers of samples and aweights")
        if np.any(aw < 0):
            raise ValueError("aweights cannot be negative")
        w = asarray(aweights) if w is None else w * asarray(aweights)
    if w is None:  # unweighted: no value-dependent step, so jit stages it whole
        avg = mean(X, axis=1)
        fact = _shape(X)[1] - ddof
    else:
        avg, w_sum = average(X, axis=1, weights=w, returned=True)
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * sum(w * asarray(aweights)) / w_sum
    if (fact if isinstance(fact, int) else np.asarray(unbox_all(fact))) <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    X = X - avg[:, None]
    X_T = transpose(X) if w is None else transpose(X * w)
    c = dot(X, conj(X_T)) * np.true_divide(1, fact)  # NumPy scales by the reciprocal
    c = squeeze(c)
    return c if dtype is None else astype(c, dtype)


@implements(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """``cov / sqrt(d_i d_j)``, ``d = diag(cov)``; the real part clipped to [-1, 1] as NumPy does."""
    c = cov(x, y, rowvar, dtype=dtype)
    if _nd(c) == 0:
        return c / c
    d = real(diagonal(c))
    stddev = d ** 0.5
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    if not np.iscomplexobj(unbox_all(c)):
        c = clip(c, -1, 1)
    return c


# NumPy's quantile methods. The piecewise-linear ones interpolate between two neighbours of
# the virtual index ``n q + alpha + q (1 - alpha - beta) - 1`` (``(n - 1) q`` for linear) with
# the fraction ``gamma``: differentiable in ``a`` and in ``q``. The discrete ones pick one
# order statistic (or the mean of two) with a step in ``q``: differentiable in ``a``, with
# derivative 0 in ``q`` (and in ``weights``), the jumps included (see chainrule.conventions).
_CONTINUOUS = {"linear": (1.0, 1.0), "weibull": (0.0, 0.0), "hazen": (0.5, 0.5),
               "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8),
               "interpolated_inverted_cdf": (0.0, 1.0)}
_PICK_ONE = ("lower", "higher", "nearest", "inverted_cdf", "closest_observation")
_PICK_TWO = ("midpoint", "averaged_inverted_cdf")
_METHODS = tuple(_CONTINUOUS) + _PICK_ONE + _PICK_TWO


def _boundary(index, condition):
    """NumPy's ``_discrete_interpolation_to_boundaries``: ``floor(index)`` where
    ``condition(gamma, index)``, else the next index, never below 0."""
    prev = np.floor(index)
    return np.maximum(np.where(condition(index - prev, index), prev, prev + 1), 0).astype(np.intp)


def _pick_one(method, n, q):
    """The order statistic each discrete method picks (NumPy's virtual index)."""
    if method == "lower":
        return np.floor((n - 1) * q).astype(np.intp)
    if method == "higher":
        return np.ceil((n - 1) * q).astype(np.intp)
    if method == "nearest":
        return np.around((n - 1) * q).astype(np.intp)
    if method == "inverted_cdf":
        return _boundary(n * q - 1, lambda g, _: g == 0)
    return _boundary(n * q - 1 - 0.5, lambda g, i: (g == 0) & (np.floor(i) % 2 == 1))


def _weighted_pick(xv, w, q, n, skip_nan):
    """``inverted_cdf`` with weights, as NumPy computes it: the first sorted position ``i``
    with ``cdf[i] >= q``, ``cdf`` the normalised cumulative weights in sorted order (NaN
    entries, sorted last, weigh 0 for the nan-functions)."""
    order = np.argsort(xv, axis=-1)
    w = np.take_along_axis(w, order, axis=-1)
    if skip_nan:
        w = np.where(np.isnan(np.take_along_axis(xv, order, axis=-1)), 0, w)
    cdf = np.cumsum(w, axis=-1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf = cdf / cdf[..., -1:]
    live = n.reshape(cdf.shape[:-1]) > 0 if skip_nan else np.ones(cdf.shape[:-1], dtype=bool)
    if np.isnan(cdf[..., -1][live]).any():
        raise ValueError("Weights included NaN, inf or were all zero.")
    if q.dtype.kind == "f":
        cdf = cdf.astype(q.dtype)
    cdf[cdf == 0] = -1  # leading zero weights: q = 0 picks the first value that has weight
    below = cdf.reshape(cdf.shape[:-1] + (1,) * q.ndim + cdf.shape[-1:]) < q[..., None]
    return np.minimum(below.sum(axis=-1), xv.shape[-1] - 1)


def _weights_for(a, weights, axis, name):
    """NumPy's checks of ``weights``, and the weights broadcast to ``a``'s shape."""
    w = np.asarray(unbox_all(weights))
    shape = _shape(a)
    if w.shape != shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        axes = tuple(v % len(shape) for v in normalize_axis(axis, len(shape)))
        if w.shape != tuple(shape[ax] for ax in axes):
            raise ValueError("Shape of weights must be consistent with shape of a along specified axis.")
        w = w.transpose(np.argsort(axes)).reshape(tuple(s if d in axes else 1 for d, s in enumerate(shape)))
    if np.any(w < 0):
        raise ValueError("Weights must be non-negative.")
    return np.broadcast_to(w, shape)


def _quantile(a, q, axis, method, keepdims, name, skip_nan=False, weights=None, weak_q=False):
    """NumPy's quantile of every ``method`` (``weights`` with ``inverted_cdf``), in NumPy's
    arithmetic: the sort is a constant permutation, the value a gather of the sorted ``a``
    and, for the interpolating methods, ``lo + (hi - lo) gamma`` (``hi - (hi - lo) (1 - gamma)``
    for ``gamma >= 0.5``, NumPy's ``_lerp``)."""
    a = asarray(a)
    if np.issubdtype(dtype_of(a), np.complexfloating):
        raise TypeError("a must be an array of real numbers")
    if method not in _METHODS:
        raise ValueError(f"{method!r} is not a valid method. Use one of: {list(_METHODS)}")
    if weights is not None and method != "inverted_cdf":
        raise ValueError(f"Only method 'inverted_cdf' supports weights. Got: {method}.")
    q = asarray(q)
    qv = np.asarray(unbox_all(q))
    if qv.ndim > 2:
        raise ValueError("q must be a scalar or 1d")
    if weights is not None:
        weights = _weights_for(a, weights, axis, name)
    nd = _nd(a)
    axes = tuple(range(nd)) if axis is None else tuple(a % nd for a in normalize_axis(axis, nd))
    rest = [i for i in range(nd) if i not in axes]
    x = transpose(a, rest + list(axes))
    x = reshape(x, _shape(x)[:len(rest)] + (-1,))
    xv = np.asarray(unbox_all(x))
    nan = np.isnan(xv) if np.issubdtype(xv.dtype, np.inexact) else np.zeros(xv.shape, dtype=bool)
    batch = _shape(x)[:-1]
    # nan sorts last, so with skip_nan each row's quantile reads its first `n` (non-nan) entries
    n = ((~nan).sum(axis=-1) if skip_nan else np.full(batch, _shape(x)[-1])).reshape(batch + (1,) * qv.ndim)
    out_shape = batch + qv.shape
    xs = sort(x, axis=-1)

    def gather(idx):
        idx = np.broadcast_to(np.clip(idx, 0, np.maximum(n - 1, 0)), out_shape)
        return reshape(take_along_axis(xs, np.reshape(idx, batch + (-1,)), axis=-1), out_shape)
    if weights is not None:
        w = np.transpose(weights, rest + list(axes)).reshape(xv.shape)
        r = gather(_weighted_pick(xv, w, qv, n, skip_nan))
    elif method in _PICK_ONE:
        r = gather(_pick_one(method, n, qv))
    else:
        if method == "linear":
            vv, vt = (n - 1) * qv, (n - 1) * q
        elif method in _CONTINUOUS:
            alpha, beta = _CONTINUOUS[method]
            vv = n * qv + (alpha + qv * (1 - alpha - beta)) - 1
            vt = n * q + (alpha + q * (1 - alpha - beta)) - 1
        elif method == "midpoint":
            vv = 0.5 * (np.floor((n - 1) * qv) + np.ceil((n - 1) * qv))
        else:  # averaged_inverted_cdf
            vv = n * qv - 1
        lo = np.floor(vv)
        hi = lo + 1
        top = (vv >= n - 1) | np.isnan(vv)
        lo, hi = np.where(top, n - 1, lo), np.where(top, n - 1, hi)
        lo, hi = np.where(vv < 0, 0, lo), np.where(vv < 0, 0, hi)
        if method in _CONTINUOUS:
            gamma = vt - lo  # traced when q is: the slope in q is (hi - lo) dvirtual/dq
        elif method == "midpoint":
            gamma = np.where(vv % 1 == 0, 0.0, 0.5)
        else:
            gamma = np.where(vv - lo == 0, 0.5, 1.0)
        gv = np.broadcast_to(np.asarray(unbox_all(gamma)), out_shape)
        up, down = gamma, 1 - gamma
        if weak_q and np.issubdtype(dtype_of(x), np.inexact) and not isinstance(gamma, Box):
            # a Python q is weakly typed, as in NumPy: gamma and 1 - gamma (computed in float64)
            # meet a float32 ``a`` as float32
            up, down = np.asarray(up, dtype=dtype_of(x)), np.asarray(down, dtype=dtype_of(x))
        xlo, xhi = gather(lo.astype(np.intp)), gather(hi.astype(np.intp))
        d = xhi - xlo
        r = where(gv >= 0.5, xhi - d * down, xlo + d * up)
    undefined = (n == 0) if skip_nan else nan.any(axis=-1).reshape(n.shape)
    if undefined.any():
        if skip_nan:
            warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=3)
        r = where(undefined, np.nan, r)
    r = moveaxis(r, tuple(range(len(rest), len(rest) + qv.ndim)), tuple(range(qv.ndim))) if qv.ndim else r
    if keepdims:
        shape = list(_shape(a))
        for ax in axes:
            shape[ax] = 1
        r = reshape(r, qv.shape + tuple(shape))
    return r


def _check_q(q, hi, name):
    qv = np.asarray(unbox_all(q))
    if not (np.all(qv >= 0) and np.all(qv <= hi)):
        raise ValueError(f"{name} must be in the range [0, {hi}]")


def _weak_q(q) -> bool:
    return type(q) in (int, float)


@implements(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None, interpolation=None):
    """The ``q``-th quantile(s) along ``axis``, every NumPy ``method``; differentiable in ``a``
    and (piecewise-linear methods) ``q``. ``weights`` (with ``inverted_cdf``) choose which
    value is picked: derivative 0 in them."""
    if out is not None:
        raise InPlaceError("quantile(..., out=...) with a traced array; use the return value")
    _check_q(q, 1, "Quantiles")
    return _quantile(a, q, axis, interpolation or method, keepdims, "quantile", weights=weights,
                     weak_q=_weak_q(q))


@implements(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None, interpolation=None):
    """``quantile(a, q / 100)``."""
    if out is not None:
        raise InPlaceError("percentile(..., out=...) with a traced array; use the return value")
    _check_q(q, 100, "Percentiles")
    return _quantile(a, asarray(q) / 100, axis, interpolation or method, keepdims, "percentile",
                     weights=weights, weak_q=_weak_q(q))


@implements(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None, interpolation=None):
    """``quantile`` of the non-nan entries of each slice (nan where a slice is all nan)."""
    if out is not None:
        raise InPlaceError("nanquantile(..., out=...) with a traced array; use the return value")
    _check_q(q, 1, "Quantiles")
    return _quantile(a, q, axis, interpolation or method, keepdims, "nanquantile", skip_nan=True,
                     weights=weights, weak_q=_weak_q(q))


@implements(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  weights=None, interpolation=None):
    """``nanquantile(a, q / 100)``."""
    if out is not None:
        raise InPlaceError("nanpercentile(..., out=...) with a traced array; use the return value")
    _check_q(q, 100, "Percentiles")
    return _quantile(a, asarray(q) / 100, axis, interpolation or method, keepdims, "nanpercentile",
                     skip_nan=True, weights=weights, weak_q=_weak_q(q))


@implements(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median of the non-NaN entries of each slice: after a sort (NaN last), the middle
    one of the ``n`` non-NaN values, or the mean of the two middle ones; NaN (with NumPy's
    warning) where a slice is all NaN. The gradient goes to the middle value(s)."""
    if out is not None:
        raise InPlaceError("nanmedian(..., out=...) with a traced array; use the return value")
    a = _float(asarray(a))
    nd = _nd(a)
    axes = tuple(range(nd)) if axis is None else tuple(v % nd for v in normalize_axis(axis, nd))
    rest = [i for i in range(nd) if i not in axes]
    x = transpose(a, rest + list(axes))
    x = reshape(x, _shape(x)[:len(rest)] + (-1,))
    n = (~np.isnan(np.asarray(unbox_all(x)))).sum(axis=-1)
    xs = sort(x, axis=-1)

    def middle(i):
        return take_along_axis(xs, np.maximum(i, 0)[..., None], axis=-1)[..., 0]
    lo, hi = middle((n - 1) // 2), middle(n // 2)
    r = where(n % 2 == 1, lo, (lo + hi) / 2)  # NumPy's mean of the middle one or two
    if np.any(n == 0):
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
        r = where(n == 0, np.nan, r)
    if keepdims:
        r = reshape(r, tuple(1 if d in axes else s for d, s in enumerate(_shape(a))))
    return r


# ---------------------------------------------------------------- padding
_PAD_KWARGS = {"empty": (), "edge": (), "wrap": (), "constant": ("constant_values",),
               "linear_ramp": ("end_values",), "maximum": ("stat_length",),
               "mean": ("stat_length",), "median": ("stat_length",), "minimum": ("stat_length",),
               "reflect": ("reflect_type",), "symmetric": ("reflect_type",)}
_PAD_STATS = {"maximum": max, "minimum": min, "mean": mean, "median": median}


def _as_pairs(v, nd, as_index=False):
    """NumPy's reading of a pad argument as one ``(before, after)`` pair per axis: one value
    for all, one pair for all axes (any shape of two elements but ``(2, 1)``), or anything
    that broadcasts to ``(nd, 2)``. Traced values stay traced (0-d pieces of ``v``)."""
    if v is None:
        return [(None, None)] * nd
    v = asarray(v)
    if as_index:
        v = np.round(np.asarray(unbox_all(v))).astype(np.intp)
        if v.size and v.min() < 0:
            raise ValueError("index can't contain negative values")
    shape, size = _shape(v), math.prod(_shape(v))
    if len(shape) < 3 and size == 1:
        s = reshape(v, ())
        return [(s, s)] * nd
    if len(shape) < 3 and size == 2 and shape != (2, 1):
        f = ravel(v)
        return [(f[0], f[1])] * nd
    if not isinstance(v, Box):  # NumPy's .tolist(): Python numbers, weakly typed
        return [tuple(p) for p in np.broadcast_to(v, (nd, 2)).tolist()]
    b = broadcast_to(v, (nd, 2))
    return [(b[d, 0], b[d, 1]) for d in range(nd)]


def _pad_blocks(x, d, before, after, wb, wa):
    """``x`` with ``wb`` copies of ``before`` in front along axis ``d`` and ``wa`` of ``after``
    behind (each broadcast over the block: a constant, a ramp, or a keepdims statistic)."""
    shape = list(_shape(x))
    parts = []
    for v, w in ((before, wb), (x, None), (after, wa)):
        if w is None:
            parts.append(x)
        elif w:
            shape[d] = w
            parts.append(astype(broadcast_to(v, tuple(shape)), dtype_of(x)))
    return concatenate(parts, axis=d) if len(parts) > 1 else x


def _pad_gather(x, d, b, a, mode, reflect_type):
    """One axis of ``edge``, ``wrap``, ``reflect`` or ``symmetric`` padding.

    Without arithmetic it is a gather, ``y[i] = x[m[i]]`` with the index map NumPy itself
    computes, ``m = np.pad(arange(n))``. An odd reflection is ``2 e - x`` about the edge
    value ``e``, and NumPy repeats it about each new edge until the width is filled, in
    chunks of whole periods: that loop is followed here with slices and concatenations, so
    the values are NumPy's to the last bit.
    """
    n = _shape(x)[d]
    if reflect_type != "odd" or mode not in ("reflect", "symmetric") or n == 1:
        kw = {} if mode in ("edge", "wrap") else {"reflect_type": "even"}
        # (NumPy extends a single element by its edge, whatever the reflection)
        return take(x, np.pad(np.arange(n), (b, a), mode=mode, **kw), axis=d)
    skip = 0 if mode == "symmetric" else 1  # reflect mirrors about the edge, not including it
    period = n if mode == "symmetric" else n - 1
    while b or a:
        chunk = (_shape(x)[d] - skip) // period * period  # whole periods, as NumPy chunks
        if b:
            k = builtins.min(chunk, b)
            piece = flip(_sl(x, d, skip, skip + k), axis=d)
            x = concatenate([2 * _sl(x, d, 0, 1) - piece, x], axis=d)
            b -= k
        if a:
            k = builtins.min(chunk, a)
            m = _shape(x)[d]
            piece = flip(_sl(x, d, m - skip - k, m - skip), axis=d)
            x = concatenate([x, 2 * _sl(x, d, m - 1, m) - piece], axis=d)
            a -= k
    return x


@implements(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """NumPy's ``pad`` in every mode, axis by axis in order (each axis pads the array already
    padded along the earlier ones, which is how NumPy fills the corners):

    * ``constant``: ``constant_values`` (traced ones too) per axis and side; ``empty`` pads
      with zeros (NumPy leaves the values undefined);
    * ``edge``, ``wrap``, ``reflect``, ``symmetric``: gathers (odd reflections add multiples
      of the end values: ``2 e - x``), see ``_pad_gather``;
    * ``linear_ramp``: ``linspace(end, edge, width, endpoint=False)`` on each side, so the
      gradient reaches the edge values and (traced) ``end_values``;
    * ``maximum``, ``minimum``, ``mean``, ``median``: the statistic of the first / last
      ``stat_length`` values of the axis (all by default), broadcast over the pad; ties of
      ``maximum``/``minimum`` share the gradient as the reductions do.
    """
    if not isinstance(array, Box) and not _contains_box(list(kwargs.values())):
        return np.pad(array, pad_width, mode=mode, **kwargs)  # nothing traced: NumPy's own
    x = asarray(array)
    xs = _shape(x)
    nd = len(xs)
    if callable(mode):
        raise NotImplementedError("pad with a callable mode writes in place; not supported on "
                                  "traced arrays")
    if not np.issubdtype(np.asarray(unbox_all(pad_width)).dtype, np.integer):
        raise TypeError("`pad_width` must be of integral type.")
    pw = [(int(b), int(a)) for b, a in _as_pairs(pad_width, nd, as_index=True)]
    if mode not in _PAD_KWARGS:
        raise ValueError(f"mode '{mode}' is not supported")
    extra = set(kwargs) - set(_PAD_KWARGS[mode])
    if extra:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {extra}")
    if mode not in ("constant", "empty") and math.prod(xs) == 0:
        for d, (n, (b, a)) in enumerate(zip(xs, pw, strict=True)):
            if n == 0 and (b or a):
                raise ValueError(f"can't extend empty axis {d} using modes other than "
                                 "'constant' or 'empty'")
        mode = "empty"  # nothing to pad along the non-empty axes: the result is empty
    if mode in ("constant", "empty"):
        cv = kwargs.get("constant_values", 0)
        if mode == "constant" and (isinstance(cv, Box) or _contains_box(cv)):
            for d, ((b, a), (vb, va)) in enumerate(zip(pw, _as_pairs(cv, nd), strict=True)):
                x = _pad_blocks(x, d, vb, va, b, a)
            return x
        out_shape = tuple(n + b + a for n, (b, a) in zip(xs, pw, strict=True))
        if out_shape == xs:
            return x
        inner = tuple(slice(b, b + n) for n, (b, _) in zip(xs, pw, strict=True))
        y = scatter_add_p(x, idx=inner, shape=out_shape)
        if mode == "constant" and np.any(np.asarray(cv) != 0):
            y = y + np.pad(np.zeros(xs, dtype=dtype_of(x)), pw, mode="constant", constant_values=cv)
        return y if dtype_of(y) == dtype_of(x) else astype(y, dtype_of(x))
    if mode in _PAD_STATS:
        stat = _PAD_STATS[mode]
        for d, ((b, a), (lb, la)) in enumerate(zip(pw, _as_pairs(kwargs.get("stat_length"), nd,
                                                                 as_index=True), strict=True)):
            n = _shape(x)[d]
            lb, la = (n if v is None else builtins.min(int(v), n) for v in (lb, la))
            if (lb == 0 or la == 0) and mode in ("maximum", "minimum"):
                raise ValueError("stat_length of 0 yields no value for padding")
            if not (b or a):
                continue
            left = stat(_sl(x, d, 0, lb), axis=d, keepdims=True)
            right = left if lb == la == n else stat(_sl(x, d, n - la, n), axis=d, keepdims=True)
            if np.issubdtype(dtype_of(x), np.integer):  # NumPy rounds an integer array's mean
                left, right = around(left), around(right)
            x = _pad_blocks(x, d, left, right, b, a)
        return x
    if mode == "linear_ramp":
        for d, ((b, a), (eb, ea)) in enumerate(zip(pw, _as_pairs(kwargs.get("end_values", 0), nd),
                                                   strict=True)):
            if not (b or a):
                continue
            n = _shape(x)[d]
            ramps = [linspace(e, squeeze(_sl(x, d, i, i + 1), axis=d), num=w, endpoint=False,
                              dtype=dtype_of(x), axis=d)
                     for e, i, w in ((eb, 0, b), (ea, n - 1, a))]
            x = concatenate([ramps[0], x, flip(ramps[1], axis=d)], axis=d)
        return x
    reflect_type = kwargs.get("reflect_type", "even")
    for d, (b, a) in enumerate(pw):
        if b or a:
            x = _pad_gather(x, d, b, a, mode, reflect_type)
    return x


# ---------------------------------------------------------------- building arrays
@implements(np.insert)
def insert(arr, obj, values, axis=None):
    """NumPy's ``insert`` on integer labels (``>= 0`` for ``arr``, ``< 0`` for ``values``)
    says where each element goes; the result is one gather of ``[arr, values]``."""
    a = asarray(arr)
    if axis is None:
        a = ravel(a)
        axis = 0
    vals = asarray(values)
    size = math.prod(_shape(a))
    labels = np.arange(size).reshape(_shape(a))
    vlabels = -1 - np.arange(math.prod(_shape(vals))).reshape(_shape(vals))
    where_to = np.insert(labels, np.asarray(unbox_all(obj)) if not isinstance(obj, slice) else obj,
                         vlabels, axis=axis)
    src = concatenate([ravel(a), ravel(astype(vals, dtype_of(a)))])
    return getitem(src, np.where(where_to >= 0, where_to, size - 1 - where_to))


@implements(np.select)
def select(condlist, choicelist, default=0):
    """The choice of the first true condition, else ``default``: nested ``where``."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select with an empty condition list is not possible")
    conds = [np.asarray(unbox_all(c)) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype.type is not np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    out = asarray(default)
    for c, choice in zip(reversed(conds), reversed(list(choicelist)), strict=True):
        out = where(c, choice, out)
    shape = np.broadcast_shapes(*[c.shape for c in conds], *[_shape(ch) for ch in choicelist],
                                _shape(asarray(default)))
    return out if _shape(out) == shape else out + np.zeros(shape, dtype=dtype_of(out))


@implements(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    """``y[cond_i] = f_i(x[cond_i])`` in order (a later condition wins), NumPy's semantics:
    each function sees only the elements its condition selects."""
    x = asarray(x)
    n2 = len(funclist)
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray)) and _nd(x) != 0
                                 and not hasattr(condlist[0], "shape")):
        condlist = [condlist]
    conds = [np.asarray(unbox_all(c), dtype=bool) for c in condlist]
    n = len(conds)
    if n == n2 - 1:
        conds.append(~np.any(conds, axis=0))
        n += 1
    if n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")
    y = zeros_like(x)
    for cond, func in zip(conds, funclist, strict=True):
        if _nd(x) == 0:
            if cond:
                y = asarray(func(x, *args, **kw)) + zeros_like(x) if callable(func) else func + zeros_like(x)
                y = astype(y, dtype_of(x))
            continue
        if not cond.any():
            continue
        vals = func(getitem(x, cond), *args, **kw) if callable(func) else func
        y = at_set(y, cond, vals)
    return y


# ---------------------------------------------------------------- calculus
@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """Second-order central differences inside, one-sided of order ``edge_order`` at the
    ends, with scalar spacings or coordinate arrays (which may be traced)."""
    f = _float(asarray(f))
    N = _nd(f)
    axes = tuple(range(N)) if axis is None else normalize_axis(axis, N)
    len_axes = len(axes)
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len_axes
    elif n == 1 and _nd(varargs[0]) == 0:
        dx = list(varargs) * len_axes
    elif n == len_axes:
        dx = []
        for d, ax in zip(varargs, axes, strict=True):
            d = asarray(d)
            if _nd(d) == 0:
                dx.append(d)
                continue
            if _nd(d) != 1:
                raise ValueError("distances must be either scalars or 1d")
            if _shape(d)[0] != _shape(f)[ax]:
                raise ValueError("when 1d, distances must match the length of the corresponding dimension")
            dx.append(diff(_float(d)))
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    outs = []
    for ax, h in zip(axes, dx, strict=True):
        if _shape(f)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def s(a, b, ax=ax):
            return _sl(f, ax, a, b)

        bshape = [1] * N
        bshape[ax] = -1
        uniform = _nd(h) == 0
        if uniform:
            inner = (s(2, None) - s(None, -2)) / (2.0 * h)
        else:
            dx1, dx2 = h[:-1], h[1:]
            ca = reshape(-dx2 / (dx1 * (dx1 + dx2)), bshape)
            cb = reshape((dx2 - dx1) / (dx1 * dx2), bshape)
            cc = reshape(dx1 / (dx2 * (dx1 + dx2)), bshape)
            inner = ca * s(None, -2) + cb * s(1, -1) + cc * s(2, None)
        if edge_order == 1:
            h0, hn = (h, h) if uniform else (h[0], h[-1])
            first = (s(1, 2) - s(0, 1)) / h0
            last = (s(-1, None) - s(-2, -1)) / hn
        elif uniform:
            first = (-1.5 * s(0, 1) + 2.0 * s(1, 2) - 0.5 * s(2, 3)) / h
            last = (0.5 * s(-3, -2) - 2.0 * s(-2, -1) + 1.5 * s(-1, None)) / h
        else:
            d1, d2 = h[0], h[1]
            first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * s(0, 1) + (d1 + d2) / (d1 * d2) * s(1, 2)
                     - d1 / (d2 * (d1 + d2)) * s(2, 3))
            d1, d2 = h[-2], h[-1]
            last = (d2 / (d1 * (d1 + d2)) * s(-3, -2) - (d2 + d1) / (d1 * d2) * s(-2, -1)
                    + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * s(-1, None))
        outs.append(concatenate([first, inner, last], axis=ax))
    return outs[0] if len_axes == 1 else tuple(outs)


@implements(np.trapezoid)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """``sum(d * (y[1:] + y[:-1]) / 2)`` along ``axis``, ``d = diff(x)`` or ``dx``."""
    y = asarray(y)
    nd = _nd(y)
    ax = normalize_axis1(axis, nd)
    if x is None:
        d = dx
    else:
        x = asarray(x)
        if _nd(x) == 1:
            d = diff(x)
            shape = [1] * nd
            shape[ax] = _shape(d)[0]
            d = reshape(d, shape)
        else:
            d = diff(x, axis=axis)
    return sum(d * (_sl(y, ax, 1, None) + _sl(y, ax, None, -1)) / 2.0, axis=ax)


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (a 2-vector has a zero third component; two 2-vectors
    give the scalar ``a0 b1 - a1 b0``)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(asarray(a), axisa, -1), moveaxis(asarray(b), axisb, -1)
    da, db = _shape(a)[-1], _shape(b)[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    if da == 2 and db == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if da == 3 else 0.0
    b2 = b[..., 2] if db == 3 else 0.0
    c0, c1, c2 = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0
    c0, c1, c2 = broadcast_arrays(c0, c1, c2)
    return moveaxis(stack([c0, c1, c2], axis=-1), -1, axisc)


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """NumPy's ``rollaxis``: ``axis`` moved to sit before ``start``."""
    n = _nd(a)
    axis = normalize_axis1(axis, n) % n
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(
            f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes)


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced by constants (derivative 0 there, 1 elsewhere)."""
    x = asarray(x)
    dt = dtype_of(x)
    if not np.issubdtype(dt, np.inexact):
        return x
    if np.issubdtype(dt, np.complexfloating):
        return (nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf)
                + 1j * nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf))
    big = np.finfo(dt).max
    y = where(isnan(x), nan, x)
    y = where(isinf(x) & (x > 0), big if posinf is None else posinf, y)
    return where(isinf(x) & (x < 0), -big if neginf is None else neginf, y)


@implements(np.sinc)
def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0. At 0 the value comes from its Taylor series
    ``1 - (pi x)^2/6 + (pi x)^4/120 - ...``, so every derivative there is right
    (``sinc''(0) = -pi^2/3``), not only the value."""
    x = _float(asarray(x))
    zero = x == 0
    safe = where(zero, 1.0, x)
    t2 = (_pi * x) ** 2
    series = 1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0 * (1.0 - t2 / 110.0))))
    return where(zero, series, sin(_pi * safe) / (_pi * safe))


@implements(np.real_if_close)
def real_if_close(a, tol=100):
    """``real(a)`` when every imaginary part is within ``tol`` machine epsilons of 0."""
    a = asarray(a)
    dt = dtype_of(a)
    if not np.issubdtype(dt, np.complexfloating):
        return a
    if tol > 1:
        tol = np.finfo(dt).eps * tol
    return real(a) if np.all(np.absolute(np.imag(np.asarray(unbox_all(a)))) < tol) else a


@implements(np.unwrap)
def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """``p`` plus a piecewise-constant correction (multiples of ``period``): the derivative
    is the identity."""
    p = asarray(p)
    if not np.issubdtype(dtype_of(p), np.inexact):
        return np.unwrap(np.asarray(unbox_all(p)), discont, axis, period=period)
    ax = normalize_axis1(axis, _nd(p))
    dd = diff(p, axis=ax)
    if discont is None:
        discont = period / 2
    high = period / 2
    low = -high
    ddmod = mod(dd - low, period) + low
    ddmod = where((ddmod == low) & (dd > 0), high, ddmod)
    correction = where(absolute(dd) < discont, 0.0, ddmod - dd)
    return concatenate([_sl(p, ax, 0, 1),
                        _sl(p, ax, 1, None) + cumsum(correction, axis=ax)], axis=ax)


# ---------------------------------------------------------------- r_ and c_
class AxisConcatenator:
    """``r_[...]`` / ``c_[...]``: slices become ranges, arrays are concatenated (traced ones
    stay traced). A leading string ``"axis,ndmin,trans1d"`` directs as in NumPy."""

    def __init__(self, axis=0, ndmin=1, trans1d=-1):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        if not isinstance(key, tuple):
            key = (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        objs = []
        for k, item in enumerate(key):
            if isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    raise NotImplementedError("r_['r'] / r_['c'] (np.matrix results) are not supported")
                vec = [int(v) for v in item.split(",")]
                axis = vec[0]
                if len(vec) > 1:
                    ndmin = vec[1]
                if len(vec) > 2:
                    trans1d = vec[2]
                continue
            if isinstance(item, slice):
                start = 0 if item.start is None else item.start
                step = 1 if item.step is None else item.step
                if isinstance(step, complex | np.complexfloating):
                    obj = linspace(start, item.stop, num=int(builtins.abs(step)))
                else:
                    obj = np.arange(start, item.stop, step)
                item_nd = 1
            else:
                obj = asarray(item)
                item_nd = _nd(obj)
            if ndmin > item_nd:
                obj = reshape(obj, (1,) * (ndmin - item_nd) + _shape(obj))
                if trans1d != -1:
                    k2 = ndmin - item_nd
                    k1 = trans1d if trans1d >= 0 else trans1d + k2 + 1
                    defaxes = list(range(ndmin))
                    obj = transpose(obj, defaxes[:k1] + defaxes[k2:] + defaxes[k1:k2])
            objs.append(obj)
        return concatenate(objs, axis=axis)

    def __len__(self):
        return 0


r_ = AxisConcatenator(0)
c_ = AxisConcatenator(-1, ndmin=2, trans1d=0)


# ---------------------------------------------------------------- ufunc methods
_REDUCE = {np.add: sum, np.multiply: prod, np.maximum: max, np.minimum: min}
_ACCUMULATE = {np.add: cumsum, np.multiply: cumprod}


def ufunc_at(ufunc, a, indices, b=None):
    """``ufunc.at(a, indices, b)`` as a function: the array NumPy's unbuffered in-place
    ``ufunc.at`` would leave in ``a``, returned as a new array (``a`` is not changed).

    An index that repeats applies the operation once per occurrence, in order:
    ``np.multiply.at`` multiplies by every factor, ``np.maximum.at`` keeps the largest,
    ``np.negative.at`` negates once per occurrence. ``b`` broadcasts to ``a[indices]``.

    * ``np.add`` / ``np.subtract``: ``a +- scatter_add(b)``, one scatter (``at_add``): the
      values at a repeated index are summed first, then added, so with repeats the result
      equals NumPy's one-by-one sum up to rounding;
    * every other ufunc: one round per occurrence, ``a[p_k] = ufunc(a[p_k], b_k)`` over the
      ``k``-th occurrences ``p_k`` of the written positions (distinct within a round), exact.

    The gradient reaches ``b`` and the entries of ``a`` that flow through ``ufunc``.
    """
    fn = UFUNCS.get(ufunc)
    name = f"numpy.{getattr(ufunc, '__name__', ufunc)}.at"
    if fn is None or not isinstance(ufunc, np.ufunc):
        raise NoRuleError(f"chainrule has no derivative rule for {name}")
    if ufunc.nout != 1 or ufunc.nin not in (1, 2):
        raise ValueError(f"{name} needs a ufunc of one or two inputs and one output")
    if ufunc.nin == 2 and b is None:
        raise ValueError("second operand needed for ufunc")
    if ufunc.nin == 1 and b is not None:
        raise ValueError("second operand provided when ufunc is unary")
    if not isinstance(a, Box) and not _contains_box(b):
        out = np.array(a)  # nothing traced: NumPy's own ufunc.at, on a copy
        ufunc.at(out, normalize_index(indices, out.shape), *(() if b is None else (b,)))
        return out
    x = asarray(a)
    xs, dt = _shape(x), dtype_of(x)
    idx = normalize_index(indices, xs)
    pos = np.arange(math.prod(xs)).reshape(xs)[idx]  # the flat position each element updates
    if b is not None:
        loop = np.result_type(dt, _weak(b))  # NumPy's loop: a Python number is weakly typed
        v = astype(asarray(b), loop)
        try:
            v = broadcast_to(v, pos.shape)
        except ValueError:
            raise ValueError("array is not broadcastable to correct shape") from None
    if pos.size == 0:
        return x
    if ufunc in (np.add, np.subtract):
        y = fn(x, scatter_add_p(v, idx=idx, shape=xs))
        return y if dtype_of(y) == dt else astype(y, dt)
    flat = pos.ravel()
    order = np.argsort(flat, kind="stable")
    first = np.r_[True, flat[order][1:] != flat[order][:-1]]  # first occurrence in sorted order
    rank = np.empty(flat.size, dtype=np.intp)
    rank[order] = np.arange(flat.size) - np.maximum.accumulate(np.where(first, np.arange(flat.size), 0))
    xf, vf = ravel(x), (None if b is None else ravel(v))
    for k in range(int(rank.max()) + 1):
        sel = np.flatnonzero(rank == k)
        p = flat[sel]
        cur = getitem(xf, p)
        new = fn(cur) if b is None else fn(cur, getitem(vf, sel))
        written = np.zeros(_shape(xf), dtype=bool)
        written[p] = True
        xf = where(written, scatter_add_p(astype(new, dt), idx=(p,), shape=_shape(xf)), xf)
    return reshape(xf, xs)


def ufunc_method(ufunc, method, *inputs, **kwargs):
    """``np.add.reduce``, ``np.multiply.accumulate``, ``np.<binary>.outer`` on traced arrays.

    ``np.<ufunc>.at(a, ...)`` writes into ``a`` in place and raises: a traced ``a`` is a
    value that views and earlier references share, so rebinding it cannot keep NumPy's
    aliasing, and a plain ``a`` cannot hold a derivative. ``ufunc_at`` (``at_add``) returns
    the new array; the Tensor front-end, whose tensors are never shared for writing,
    records it and rebinds the tensor.
    """
    name = f"numpy.{ufunc.__name__}.{method}"
    if method == "reduce" and ufunc in _REDUCE:
        x, *rest = inputs
        axis = kwargs.pop("axis", rest[0] if rest else 0)
        if kwargs.pop("where", True) is not True:
            raise NotImplementedError(f"{name}(where=...) is not supported on traced arrays")
        return _REDUCE[ufunc](x, axis=axis, **kwargs)
    if method == "accumulate" and ufunc in _ACCUMULATE:
        x, *rest = inputs
        axis = kwargs.pop("axis", rest[0] if rest else 0)
        return _ACCUMULATE[ufunc](x, axis=axis, **kwargs)
    if method == "outer" and ufunc in UFUNCS and ufunc.nin == 2 and not kwargs:
        a, b = asarray(inputs[0]), asarray(inputs[1])
        return UFUNCS[ufunc](reshape(a, _shape(a) + (1,) * _nd(b)), b)
    if method == "at":
        fix = ("chainrule.numpy.at_add(a, indices, b)" if ufunc is np.add else
               f"chainrule.numpy.ufunc_at(np.{ufunc.__name__}, a, indices{'' if ufunc.nin == 1 else ', b'})")
        if isinstance(inputs[0], Box):
            why = "on a traced array a would write in place, which its views would not see"
        else:
            why = "with a traced b would write into the plain array a, which cannot hold a derivative"
        raise InPlaceError(f"{name}(a, ...) {why}; use a = {fix}, which returns the new array")
    return None


__all__ = ["linspace", "logspace", "geomspace", "meshgrid", "interp", "polyval", "convolve",
           "correlate", "cov", "corrcoef", "pad", "nanmedian", "quantile", "percentile", "nanquantile",
           "nanpercentile", "insert", "select",
           "piecewise", "gradient", "trapezoid", "cross", "rollaxis", "nan_to_num", "sinc",
           "real_if_close", "unwrap", "r_", "c_", "ufunc_at"]

# np.r_ / np.c_ build a plain ndarray from their items; a traced item escapes from inside.
MIRRORS[type(np.r_).__getitem__] = ("numpy.r_ / numpy.c_", "chainrule.numpy.r_ / chainrule.numpy.c_")
