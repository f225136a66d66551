"""Reductions and scans. ``axis`` is normalised to a tuple of *negative* axes (one negative
int for scans) before the primitive is recorded, so the same params address the same data
axes whatever batch axes a cotangent or tangent carries in front.

Primitives here: sum, max, min, prod, cumsum, cumprod. Everything else (mean, var, std, average,
ptp, median, cumprod, ...) is a composite of these and of the shape ops.

* ``max``/``min``: the derivative is the indicator of the extremal elements; ties share it
  evenly (as in JAX), so ``d max([1, 3, 3]) = [0, 1/2, 1/2]``.
* ``prod``: ``d prod(x) / dx_i = prod_{j != i} x_j``. Where no product vanishes this is
  ``prod(x) / x_i``; otherwise (a zero, or underflow) it is computed exactly as
  (exclusive prefix product) * (exclusive suffix product), which only multiplies, so it is
  right at zeros and to every order.
* ``cumprod``: where every partial product is a normal number it is a primitive with
  ``d y_i / d x_k = y_i / x_k`` (k <= i); otherwise (a zero, or underflow) it is recorded as a
  Hillis-Steele scan of multiplications (log2 n steps), exact at zeros and to every order.
"""

from __future__ import annotations

import math

import numpy as np

from ..core.aval import dtype_of
from ..core.aval import shape_of as _shape
from ..core.errors import InPlaceError
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from . import shape as _shape_ops
from .dispatch import implements
from .elementwise import imag, isnan, maximum, minimum, real, sqrt, where
from .linear import expand_to_input, keepdims_shape, normalize_axis, normalize_axis1, sum_p


def _asarray(x):
    """Lists holding traced values become one traced array; other non-arrays become arrays."""
    return _shape_ops.asarray(x)


def _cast(r, dtype):
    """Apply a reduction's ``dtype=`` to its result (an integer dtype makes it a constant)."""
    return r if dtype is None or dtype_of(r) == np.dtype(dtype) else _shape_ops.astype(r, dtype)


def _accumulate_in(x, dtype):
    """The elements in a reduction's ``dtype=``, before reducing: NumPy accumulates in that
    dtype (a float32 array summed with dtype=float64 is summed in float64; with dtype=int
    each element is truncated first), so casting only the result loses precision or differs."""
    return _cast(x, dtype)


def _reject(out, kwargs, name):
    if out is not None:
        raise InPlaceError(f"{name}(..., out=...) writes in place; not supported on traced arrays")
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    if kwargs:
        raise TypeError(f"{name}() got unsupported arguments {sorted(kwargs)}")


# ---------------------------------------------------------------- sum (sum_p is in .linear)
@implements(np.sum)
def sum(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, **kwargs):  # noqa: A001
    """Sum of elements over ``axis``."""
    _reject(out, kwargs, "sum")
    x = _accumulate_in(_asarray(x), dtype)
    axes = normalize_axis(axis, len(_shape(x)))
    r = sum_p(x, axis=axes, keepdims=bool(keepdims))
    return _cast(r if initial is None else r + initial, dtype)


@implements(np.mean)
def mean(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """mean = sum / n."""
    _reject(out, kwargs, "mean")
    x = _accumulate_in(_asarray(x), dtype)
    axes = normalize_axis(axis, len(_shape(x)))
    n = math.prod(_shape(x)[a] for a in axes)
    return _cast(sum_p(x, axis=axes, keepdims=bool(keepdims)) / n, dtype)


def _staged(x) -> bool:
    """Whether ``jit`` is staging ``x``: a shortcut chosen by its values is then not taken
    (the general form is exact for every input, the program must not depend on data)."""
    return isinstance(strip_derivatives(x), Box)


# ---------------------------------------------------------------- max / min
def _tie_weights(ans, x, axis, keepdims):
    """Constant weights: 1/k on each of the k elements equal to the extremum, 0 elsewhere.

    Computed on values: the indicator is piecewise constant, so it carries no derivative.
    (NumPy calls on the values: plain arrays eagerly, recorded ops under ``jit``.)
    """
    xv = strip_derivatives(x)
    a = strip_derivatives(ans)
    if not keepdims:
        a = np.reshape(a, keepdims_shape(_shape(xv), axis))
    mask = np.logical_or(xv == a, np.logical_and(np.isnan(xv), np.isnan(a)))
    dtype = np.result_type(dtype_of(xv), np.float32)
    return np.astype(mask / np.sum(mask, axis=axis, keepdims=True), dtype, copy=False)


def _extremum(name, fn):
    p = Primitive(name, lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims),
                  doc=f"{name} over axes (negative); ties share the derivative evenly")
    p.defvjp(lambda g, ans, x, axis, keepdims:
             expand_to_input(g, ans, x, axis, keepdims) * _tie_weights(ans, x, axis, keepdims))
    p.defjvp(lambda t, ans, x, axis, keepdims:
             sum_p(t * _tie_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims))
    return p


max_p = _extremum("max", np.max)
min_p = _extremum("min", np.min)


def _empty_along(x, axes) -> bool:
    xs = _shape(x)
    return any(xs[a] == 0 for a in axes)


def _initial_only(x, axes, keepdims, initial):
    """max/min over empty slices with ``initial``: ``initial`` everywhere, as NumPy gives (the
    reduction alone raises: it has no identity); a constant unless ``initial`` is traced."""
    xs = _shape(x)
    shape = keepdims_shape(xs, axes) if keepdims else tuple(
        d for i, d in enumerate(xs) if i - len(xs) not in axes)
    if isinstance(initial, Box):
        return _shape_ops.broadcast_to(initial, shape)
    return np.full(shape, initial, dtype=np.result_type(dtype_of(x), initial))


@implements(np.max, np.amax)
def max(x, axis=None, out=None, keepdims=False, initial=None, **kwargs):  # noqa: A001
    """Largest element over ``axis``; tied maxima share the gradient evenly."""
    _reject(out, kwargs, "max")
    x = _asarray(x)
    axes = normalize_axis(axis, len(_shape(x)))
    if initial is not None and _empty_along(x, axes):
        return _initial_only(x, axes, keepdims, initial)
    r = max_p(x, axis=axes, keepdims=bool(keepdims))
    if initial is not None:
        r = maximum(r, initial)
    return r


@implements(np.min, np.amin)
def min(x, axis=None, out=None, keepdims=False, initial=None, **kwargs):  # noqa: A001
    """Smallest element over ``axis``; tied minima share the gradient evenly."""
    _reject(out, kwargs, "min")
    x = _asarray(x)
    axes = normalize_axis(axis, len(_shape(x)))
    if initial is not None and _empty_along(x, axes):
        return _initial_only(x, axes, keepdims, initial)
    r = min_p(x, axis=axes, keepdims=bool(keepdims))
    if initial is not None:
        r = minimum(r, initial)
    return r


amax, amin = max, min


@implements(np.ptp)
def ptp(x, axis=None, out=None, keepdims=False):
    """Peak to peak: max - min."""
    _reject(out, {}, "ptp")
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------- prod
def _scan_multiply(x, axis: int, exclusive: bool = False):
    """Inclusive (or exclusive) cumulative product along negative ``axis`` by doubling.

    Step k multiplies each entry by the entry k places before it (ones shifted in), so
    after ceil(log2 n) steps entry i holds x_0 ... x_i. Only multiplications: exact at
    zeros and differentiable to any order.
    """
    n = _shape(x)[axis]
    dtype = np.result_type(dtype_of(x), np.float32)

    def shifted(y, k):  # y moved k places along axis, ones shifted in
        ys = _shape(y)
        ax = len(ys) + axis
        head = np.ones(ys[:ax] + (k,) + ys[ax + 1:], dtype=dtype)
        return _shape_ops.concatenate([head, _shape_ops.slice_axis(y, axis, 0, n - k)], axis=axis)

    y = x
    k = 1
    while k < n:
        y = y * shifted(y, k)
        k *= 2
    return shifted(y, 1) if exclusive and n > 0 else y


def _products_of_others(x, axis):
    """``prod_{j != i} x_j`` over the reduced axes, for every element ``i`` (exact)."""
    xs = _shape(x)
    n = len(xs)
    red = [a + n for a in axis]
    keep = [i for i in range(n) if i not in red]
    perm = keep + red
    y = _shape_ops.transpose(x, perm)
    y = _shape_ops.reshape(y, tuple(xs[i] for i in keep) + (-1,))
    before = _scan_multiply(y, -1, exclusive=True)
    after = _shape_ops.flip(_scan_multiply(_shape_ops.flip(y, -1), -1, exclusive=True), -1)
    o = _shape_ops.reshape(before * after, tuple(xs[i] for i in perm))
    return _shape_ops.transpose(o, tuple(np.argsort(perm)))


def _prod_partials(ans, x, axis, keepdims):
    if not _staged(ans) and _all_normal(unbox_all(ans)):
        # No factor is zero and nothing underflowed: prod_{j != i} x_j == prod(x) / x_i on a
        # neighbourhood, so this cheaper form is exact at every order too.
        full = ans if keepdims else _shape_ops.reshape(ans, keepdims_shape(_shape(x), axis))
        return full / x
    return _products_of_others(x, axis)


prod_p = Primitive("prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
                   doc="product over axes (negative); d/dx_i = product of the other factors")
prod_p.defvjp(lambda g, ans, x, axis, keepdims:
              expand_to_input(g, ans, x, axis, keepdims) * _prod_partials(ans, x, axis, keepdims))
prod_p.defjvp(lambda t, ans, x, axis, keepdims:
              sum_p(t * _prod_partials(ans, x, axis, keepdims), axis=axis, keepdims=keepdims))


@implements(np.prod)
def prod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, **kwargs):
    """Product of elements over ``axis`` (gradient exact with zeros in ``x``)."""
    _reject(out, kwargs, "prod")
    x = _accumulate_in(_asarray(x), dtype)
    r = prod_p(x, axis=normalize_axis(axis, len(_shape(x))), keepdims=bool(keepdims))
    return _cast(r if initial is None else r * initial, dtype)


# ---------------------------------------------------------------- cumulative sums and products
cumsum_p = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis),
                     doc="cumulative sum along one negative axis; linear, VJP is the reversed cumsum",
                     saves=())
cumsum_p.defvjp(lambda g, ans, x, axis: _shape_ops.flip(cumsum_p(_shape_ops.flip(g, axis), axis=axis), axis))
cumsum_p.defjvp(lambda t, ans, x, axis: cumsum_p(t, axis=axis))


@implements(np.cumsum)
def cumsum(x, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (``None``: of the flattened array)."""
    _reject(out, {}, "cumsum")
    x = _accumulate_in(_asarray(x), dtype)
    if axis is None:
        x, axis = _shape_ops.ravel(x), 0
    if len(_shape(x)) == 0:
        x = _shape_ops.reshape(x, (1,))
    return _cast(cumsum_p(x, axis=normalize_axis1(axis, len(_shape(x)))), dtype)


def _all_normal(a) -> bool:
    """No zero, no inf/nan, nothing subnormal: then ``prod_{j != k} x_j == prod / x_k`` holds
    (on a neighbourhood, so at every order) and costs one division."""
    a = np.asarray(a)
    return bool(np.all(np.isfinite(a)) and np.all(np.abs(a) >= np.finfo(a.dtype).tiny))


# Used only where every partial product is normal (see ``cumprod``); otherwise the exact scan.
cumprod_p = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis),
                      doc="cumulative product along one negative axis, recorded where no partial "
                          "product is zero; d y_i / d x_k = y_i / x_k for k <= i")
cumprod_p.defvjp(lambda g, ans, x, axis: _shape_ops.flip(
    cumsum_p(_shape_ops.flip(g * ans, axis), axis=axis), axis) / x)
cumprod_p.defjvp(lambda t, ans, x, axis: ans * cumsum_p(t / x, axis=axis))


@implements(np.cumprod)
def cumprod(x, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (``None``: flattened); exact gradient with zeros."""
    _reject(out, {}, "cumprod")
    x = _accumulate_in(_asarray(x), dtype)
    if axis is None:
        x, axis = _shape_ops.ravel(x), 0
    if len(_shape(x)) == 0:
        x = _shape_ops.reshape(x, (1,))
    axis = normalize_axis1(axis, len(_shape(x)))
    if not isinstance(x, Box):
        return np.cumprod(x, axis=axis, dtype=dtype)
    if _staged(x):
        return _cast(_scan_multiply(x, axis), dtype)
    value = np.cumprod(unbox_all(x), axis=axis)
    if _all_normal(value):
        return _cast(cumprod_p(x, axis=axis), dtype)
    r = _scan_multiply(x, axis)
    # The scan multiplies in another order than NumPy's running product: besides rounding,
    # past an overflow or underflow their values can part ([1e200, 1e200, 1e-200] -> inf or
    # 1e200). There NumPy's value is the value (a constant: its derivative is inf, nan or 0).
    rv = unbox_all(r)
    with np.errstate(invalid="ignore"):
        parted = ((np.isfinite(rv) != np.isfinite(value)) | (np.isnan(rv) != np.isnan(value))
                  | ((rv == 0) != (value == 0)) | (np.isinf(rv) & (rv != value)))
    if np.any(parted):
        r = where(parted, value, r)
    return _cast(r, dtype)


@implements(np.cumulative_sum)
def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """NumPy 2's ``cumulative_sum`` (``axis`` may be omitted only for 1-d input)."""
    return _cumulative(cumsum, 0.0, x, axis, dtype, out, include_initial)


@implements(np.cumulative_prod)
def cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    """NumPy 2's ``cumulative_prod``."""
    return _cumulative(cumprod, 1.0, x, axis, dtype, out, include_initial)


def _cumulative(fn, first, x, axis, dtype, out, include_initial):
    x = _asarray(x)
    if axis is None:
        if len(_shape(x)) > 1:
            raise ValueError("axis must be specified for arrays with more than one dimension")
        axis = 0
    r = fn(x, axis=axis, dtype=dtype, out=out)
    if include_initial:
        ax = normalize_axis1(axis, len(_shape(r)))
        rs = _shape(r)
        head = np.full(rs[:len(rs) + ax] + (1,) + rs[len(rs) + ax + 1:], first,
                       dtype=dtype_of(r))
        r = _shape_ops.concatenate([head, r], axis=ax)
    return r


# ---------------------------------------------------------------- statistics (composites)
def _ddof(ddof, correction):
    if correction is not None and correction is not np._NoValue:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously")
        return correction
    return ddof


@implements(np.var)
def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=None):
    """Variance: sum((x - mean)^2) / (n - ddof)."""
    _reject(out, {"where": where}, "var")
    if mean is not None:
        raise TypeError("var(..., mean=...) is not supported on traced arrays")
    x = _accumulate_in(_asarray(x), dtype)
    axes = normalize_axis(axis, len(_shape(x)))
    n = math.prod(_shape(x)[a] for a in axes)
    d = x - sum_p(x, axis=axes, keepdims=True) / n
    if dtype_of(d).kind == "c":  # |d|^2, real, as NumPy's complex variance
        d2 = real(d) * real(d) + imag(d) * imag(d)
    else:
        d2 = d * d
    return _cast(sum_p(d2, axis=axes, keepdims=bool(keepdims)) / (n - _ddof(ddof, correction)), dtype)


@implements(np.std)
def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
        correction=None):
    """Standard deviation: sqrt(var). Its derivative is infinite where the variance is 0, except
    over one element: std is then the constant 0 (var too), derivative 0, not 0.5/sqrt(0) * 0."""
    v = var(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where, mean=mean,
            correction=correction)
    shape = _shape(x)
    if math.prod(shape[a] for a in normalize_axis(axis, len(shape))) == 1:
        return v
    return sqrt(v)


@implements(np.average)
def average(x, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean sum(w x) / sum(w); 1-d ``weights`` run along a single ``axis``."""
    x = _asarray(x)
    if weights is None:
        r = mean(x, axis=axis, keepdims=keepdims)
        if not returned:
            return r
        axes = normalize_axis(axis, len(_shape(x)))
        n = float(math.prod(_shape(x)[a] for a in axes))
        return r, np.broadcast_to(n, _shape(unbox_all(r)))
    w = _asarray(weights)
    xs, ws = _shape(x), _shape(w)
    if xs != ws:
        if axis is None:
            raise TypeError("axis must be specified when shapes of a and weights differ")
        if len(ws) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ")
        ax = normalize_axis1(axis, len(xs))
        if ws[0] != xs[ax]:
            raise ValueError("length of weights differs from that of the array along axis")
        w = _shape_ops.reshape(w, (ws[0],) + (1,) * (-ax - 1))
    axes = normalize_axis(axis, len(xs))
    wsum = sum(_shape_ops.broadcast_to(w, xs), axis=axes, keepdims=keepdims)
    # NumPy's error, not an inf or nan mean and gradient (under jit, which must not read
    # data, the division's inf/nan instead)
    if not _staged(wsum) and np.any(unbox_all(wsum) == 0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    r = sum(x * w, axis=axes, keepdims=keepdims) / wsum
    return (r, wsum) if returned else r


@implements(np.median)
def median(x, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median: the middle of the sorted values (mean of the two middle ones for even n).

    A slice holding a NaN has median NaN, as in NumPy; its derivative goes to a NaN entry,
    as ``max``'s goes to its NaN extremum.
    """
    _reject(out, {}, "median")
    x = _asarray(x)
    xs = _shape(x)
    axes = normalize_axis(axis, len(xs))
    nd = len(xs)
    keep = [i for i in range(nd) if i - nd not in axes]
    y = _shape_ops.transpose(x, keep + [a + nd for a in axes])
    y = _shape_ops.reshape(y, tuple(xs[i] for i in keep) + (math.prod(xs[a] for a in axes),))
    y = _shape_ops.sort(y, axis=-1)
    n = _shape(y)[-1]
    r = mean(y[..., (n - 1) // 2:n // 2 + 1], axis=-1)
    if n:  # NaN sorts last: the middle of [1, 2, 3, nan] is 2.5, NumPy's median is nan
        last = y[..., n - 1]
        r = where(isnan(last), last, r)
    if keepdims:
        r = _shape_ops.reshape(r, keepdims_shape(xs, axes))
    return r


@implements(np.nansum)
def nansum(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Sum treating NaN as zero (NaN entries get zero gradient)."""
    x = _asarray(x)
    return sum(where(isnan(x), 0.0, x), axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)


@implements(np.nanmean)
def nanmean(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    """Mean over the non-NaN entries: ``nansum / count``, in the sum's dtype as NumPy computes it
    (a float32 mean stays float32; an integer count would make it float64)."""
    x = _asarray(x)
    total = nansum(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)
    count = np.sum(~isnan(x), axis=axis, keepdims=keepdims)
    return total / _cast(count, dtype_of(total))


# --- the rest of NumPy's NaN-ignoring family: each is its reduction of x with every NaN
# replaced by the reduction's identity (so a NaN entry gets no derivative), and NaN where a
# slice holds no number at all (NumPy's value; it also warns there)
def _all_nan(x, axis, keepdims):
    return np.all(isnan(x), axis=axis, keepdims=keepdims)


def _nan_extremum(fn, fill, x, axis, out, keepdims, initial, kwargs):
    x = _asarray(x)
    r = fn(where(isnan(x), fill, x), axis=axis, out=out, keepdims=keepdims, initial=initial, **kwargs)
    if initial is not None:  # NumPy: initial is one of the values, so no slice is empty of them
        return r
    return where(_all_nan(x, axis, keepdims), np.nan, r)


@implements(np.nanmax)
def nanmax(x, axis=None, out=None, keepdims=False, initial=None, **kwargs):
    """Largest non-NaN element (NaN for a slice of NaNs); ties share the derivative, NaNs get none."""
    return _nan_extremum(max, -np.inf, x, axis, out, keepdims, initial, kwargs)


@implements(np.nanmin)
def nanmin(x, axis=None, out=None, keepdims=False, initial=None, **kwargs):
    """Smallest non-NaN element (NaN for a slice of NaNs); ties share the derivative, NaNs get none."""
    return _nan_extremum(min, np.inf, x, axis, out, keepdims, initial, kwargs)


@implements(np.nanprod)
def nanprod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, **kwargs):
    """Product treating NaN as 1 (NaN entries get no derivative)."""
    x = _asarray(x)
    return prod(where(isnan(x), 1.0, x), axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                initial=initial, **kwargs)


@implements(np.nancumsum)
def nancumsum(x, axis=None, dtype=None, out=None):
    """Cumulative sum treating NaN as 0."""
    x = _asarray(x)
    return cumsum(where(isnan(x), 0.0, x), axis=axis, dtype=dtype, out=out)


@implements(np.nancumprod)
def nancumprod(x, axis=None, dtype=None, out=None):
    """Cumulative product treating NaN as 1."""
    x = _asarray(x)
    return cumprod(where(isnan(x), 1.0, x), axis=axis, dtype=dtype, out=out)


@implements(np.nanvar)
def nanvar(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
           correction=None):
    """Variance of the non-NaN entries: ``sum((x - nanmean)^2) / (count - ddof)``, NaN where
    ``count - ddof <= 0`` (as NumPy)."""
    _reject(out, {"where": where}, "nanvar")
    if mean is not None:
        raise TypeError("nanvar(..., mean=...) is not supported on traced arrays")
    x = _accumulate_in(_asarray(x), dtype)
    nan = isnan(x)
    axes = normalize_axis(axis, len(_shape(x)))
    count = np.sum(~nan, axis=axes, keepdims=True)
    x0 = _where(nan, 0.0, x)
    m = sum_p(x0, axis=axes, keepdims=True) / _cast(count, dtype_of(x0))
    d = _where(nan, 0.0, x - m)
    d2 = real(d) * real(d) + imag(d) * imag(d) if dtype_of(d).kind == "c" else d * d
    dof = count - _ddof(ddof, correction)
    if not keepdims:
        dof = np.reshape(dof, _shape(np.sum(nan, axis=axes)))
    r = sum_p(d2, axis=axes, keepdims=bool(keepdims)) / _cast(np.maximum(dof, 1), dtype_of(d2))
    return _cast(_where(dof <= 0, np.nan, r), dtype)


@implements(np.nanstd)
def nanstd(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True, mean=None,
           correction=None):
    """sqrt(nanvar)."""
    return sqrt(nanvar(x, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where,
                       mean=mean, correction=correction))


_where = where  # nanvar/nanstd take NumPy's ``where=`` parameter, which shadows the primitive

__all__ = ["sum", "mean", "max", "min", "amax", "amin", "ptp", "prod", "cumsum", "cumprod",
           "cumulative_sum", "cumulative_prod", "var", "std", "average", "median", "nansum",
           "nanmean", "nanmax", "nanmin", "nanprod", "nancumsum", "nancumprod", "nanvar", "nanstd",
           "normalize_axis"]
