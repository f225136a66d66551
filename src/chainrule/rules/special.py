"""Special functions (``scipy.special``): elementwise primitives, one line each, and the
stable composites ``logsumexp``, ``softmax`` and ``log_softmax``.

SciPy's special functions are NumPy ufuncs, so registering them here makes plain
``scipy.special.erf(x)`` on a traced ``x`` record chainrule's ``erf``. ``polygamma``,
``logsumexp``, ``softmax`` and ``log_softmax`` are plain Python functions in SciPy
(they convert their input to an ndarray), so on traced values call them from
``chainrule.scipy.special``.

Each derivative is written with chainrule's own ops, so every function here
differentiates to any order (``gammaln -> digamma -> polygamma(1) -> polygamma(2) ...``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sc

from ..core.aval import dtype_of
from ..core.aval import shape_of as shape
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from . import reductions as _red
from . import shape as _shape_ops
from .elementwise import absolute, elementwise, exp, log, log1p, where

_2_SQRTPI = 2.0 / math.sqrt(math.pi)
_SQRTPI_2 = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)

def _like(d, a):
    """``d`` in ``a``'s dtype."""
    dt = dtype_of(a)
    return d if dtype_of(d) == dt else _shape_ops.astype(d, dt)


#              name        scipy ufunc      d/dx (ans, x)
# expit(x) expit(-x), not a (1 - a): 1 - a is 1 - 1 = 0 from x = 37 on (true 8.5e-17) and
# loses e^x ulps before (1e-3 relative at x = 30)
expit = elementwise("expit", _sc.expit, lambda a, x: a * expit(-x), doc="1 / (1 + exp(-x))")
log_expit = elementwise("log_expit", _sc.log_expit, lambda a, x: expit(-x), doc="log expit(x), stably")
# 1/x + 1/(1 - x), not 1/(x (1 - x)): the product's reverse derivative at x = 0 or 1 is inf * 0 = nan
# (logit''(0) is -inf; grad(grad) gave nan where jvp(grad) gave -inf); both terms are positive on (0, 1)
logit = elementwise("logit", _sc.logit, lambda a, x: 1.0 / x + 1.0 / (1.0 - x), doc="log(x / (1 - x))")
erf = elementwise("erf", _sc.erf, lambda a, x: _2_SQRTPI * exp(-x * x))
erfc = elementwise("erfc", _sc.erfc, lambda a, x: -_2_SQRTPI * exp(-x * x))
# sqrt(pi) x erfcx(x) ~ sum_k (-1)^k (2k-1)!! / (2x^2)^k (DLMF 7.12.1): the coefficients from k = 1
_ERFCX_SERIES = tuple((-1.0) ** k * math.prod(range(1, 2 * k, 2)) for k in range(1, 13))


def _erfcx_d(a, x):
    """erfcx'(x) = 2x erfcx(x) - 2/sqrt(pi).

    For large x the two terms cancel (erfcx(x) ~ 1/(sqrt(pi) x)): the difference loses
    2x^2 ulps, so erfcx'(1e10) came out 0 (true -5.6e-21) and float32's erfcx''(100) had the
    wrong sign. Beyond x = 12 (float32: 5) the derivative is the asymptotic series
    (2/sqrt(pi)) sum_{k=1}^{12} (-1)^k (2k-1)!! u^k, u = 1/(2x^2) (truncation < 1e-16 relative
    there, 3e-8 at 5), which also has the limit 0 at x = +inf, where 2x erfcx(x) is inf * 0.
    The series reads x clamped to >= 12, so the branch not taken stays finite and its zero
    cotangent adds 0 to higher derivatives, not 0 * inf.
    """
    if dtype_of(x).kind == "c":
        return 2.0 * x * a - _2_SQRTPI
    # float32 loses 2x^2 of its 6e-8 ulps sooner: the series (truncation 3e-8 at x = 5) takes over there
    lo = 12.0 if dtype_of(x).itemsize > 4 else 5.0
    big = x > lo
    direct = 2.0 * where(big, lo, x) * where(big, 0.0, a) - _2_SQRTPI  # 2 inf * 0 at x = inf: clamped
    xs = where(big, x, lo)
    u = (0.5 / xs) / xs  # not 0.5 / xs^2: its derivative at x = inf would be 0 * inf
    s = _ERFCX_SERIES[-1]
    for c in _ERFCX_SERIES[-2::-1]:
        s = c + u * s
    return where(big, _2_SQRTPI * u * s, direct)


erfcx = elementwise("erfcx", _sc.erfcx, _erfcx_d, doc="exp(x^2) erfc(x)")
erfinv = elementwise("erfinv", _sc.erfinv, lambda a, x: _SQRTPI_2 * exp(a * a))
erfcinv = elementwise("erfcinv", _sc.erfcinv, lambda a, x: -_SQRTPI_2 * exp(a * a))
ndtr = elementwise("ndtr", _sc.ndtr, lambda a, x: _INV_SQRT_2PI * exp(-0.5 * x * x),
                   doc="standard normal CDF")


def _log_ndtr_d(a, x):
    """pdf(x) / ndtr(x).

    For x <= 0 it is sqrt(2/pi) / erfcx(-x/sqrt 2), as ndtr(x) = erfcx(-x/sqrt 2) exp(-x^2/2) / 2;
    for x > 0 exp(-x^2/2 - log_ndtr(x)) / sqrt(2 pi) (there log_ndtr(x) ~ 0: no cancellation,
    and no erfcx(-x/sqrt 2) = inf, whose second derivative is inf / inf). Each branch reads x
    clamped to its side, so the branch not taken is finite and adds an exact 0 to higher
    derivatives.
    """
    pos = x > 0.0
    xp = where(pos, x, 0.0)
    xn = where(pos, 0.0, x)
    right = _INV_SQRT_2PI * exp(-0.5 * xp * xp - where(pos, a, 0.0))
    return where(pos, right, _SQRT_2_PI / erfcx(xn * -_INV_SQRT2))


# For x <= 0 exp(-x^2/2 - log_ndtr(x)) subtracts two numbers near x^2/2: 3e-5 relative error in
# the second derivative at x = -745, inf (not 1e10) at x = -1e10. erfcx has no such cancellation.
log_ndtr = elementwise("log_ndtr", _sc.log_ndtr, _log_ndtr_d,
                       doc="log of the normal CDF; derivative pdf/cdf = sqrt(2/pi) / erfcx(-x/sqrt(2))")
ndtri = elementwise("ndtri", _sc.ndtri, lambda a, x: _SQRT_2PI * exp(0.5 * a * a),
                    doc="inverse of the normal CDF")
gamma = elementwise("gamma", _sc.gamma, lambda a, x: a * digamma(x))
gammaln = elementwise("gammaln", _sc.gammaln, lambda a, x: digamma(x), doc="log |Gamma(x)|")
# SciPy's polygamma computes in float64 whatever x is; digamma keeps float32, and so does its derivative
digamma = elementwise("digamma", _sc.digamma, lambda a, x: _like(polygamma(1, x), a),
                      doc="psi(x) = Gamma'/Gamma")
psi = digamma
entr = elementwise("entr", _sc.entr, lambda a, x: -(log(x) + 1.0), doc="-x log x")
# xlogy(0, y) = 0 for every y: d/dy = x / y must be an exact 0 at x = 0, also at y = 0 (not 0/0),
# so y is replaced where both are 0 -- only there: at x = 0 and y != 0 the derivative of x / y
# in x is still 1/y (replacing y wherever x == 0 made the mixed partial 1 instead of 1/y).
xlogy = elementwise("xlogy", _sc.xlogy, lambda a, x, y: log(y),
                    lambda a, x, y: x / where((x == 0) & (y == 0), 1.0, y), doc="x log y, 0 where x == 0")
xlog1py = elementwise("xlog1py", _sc.xlog1py, lambda a, x, y: log1p(y),
                      lambda a, x, y: x / where((x == 0) & (y == -1), 1.0, 1.0 + y),
                      doc="x log(1 + y), 0 where x == 0")
_polygamma = elementwise("polygamma", _sc.polygamma, None, lambda a, n, x: polygamma(n + 1, x),
                         doc="polygamma(n, x), n a constant integer")


def polygamma(n, x):
    """The ``n``-th derivative of digamma; ``n`` is a constant non-negative integer (array)."""
    if isinstance(n, Box):
        raise TypeError("polygamma: the order n must be a constant integer, not a traced value")
    n_arr = np.asarray(n)
    if not (np.issubdtype(n_arr.dtype, np.integer) or np.all(n_arr == np.round(n_arr))):
        raise ValueError(f"polygamma: the order n must be integer-valued, got {n!r}")
    return _polygamma(n, x)


# ---------------------------------------------------------------- stable composites
def _axes(axis, nd):
    return _red.normalize_axis(axis, nd)


def _shift(a, axes, b=None, finite=True):
    """The max over ``axes`` as a constant (0 where not finite): exp(a - shift) never overflows.

    logsumexp and softmax do not depend on the shift, so treating it as a constant leaves
    every derivative exact. With weights ``b`` only entries where ``b != 0`` count.
    """
    av = strip_derivatives(a)  # NumPy calls below: recorded ops if jit stages ``a``
    if not isinstance(av, Box):
        av = np.asarray(av)
        if av.dtype.kind not in "fc":
            av = av.astype(float)
        # else its own dtype: a float64 shift would make a float32 logsumexp float64 (SciPy's is float32)
    if b is not None:
        av = np.where(strip_derivatives(b) != 0, av, -np.inf)
    if av.size:
        m = np.max(av, axis=axes, keepdims=True)
    else:  # nothing to shift (an empty sum is 0, logsumexp -inf, as SciPy's)
        nd = len(av.shape)
        m = np.zeros(tuple(1 if i - nd in axes else d for i, d in enumerate(av.shape)), dtype=av.dtype)
    # SciPy's logsumexp and log_softmax take 0 for a non-finite max; its softmax does not
    # (a slice holding +inf is nan throughout): ``finite=False`` keeps the max as it is
    return np.where(np.isfinite(m), m, 0.0) if finite else m


def _weighted_exp_impl(w, z):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(w == 0, 0.0, w * np.exp(z)).astype(np.result_type(w, z), copy=False)


# ``w exp(z)`` with 0 where w == 0, also where exp(z) overflows (plain w * exp(z) is 0 * inf = nan
# there). The weighted logsumexp needs it: an entry with b_k = 0 adds nothing to the value, but
# its derivative exp(a_k - lse) with respect to b_k is still there, however large. Both rules are
# the primitive again (a zero cotangent or tangent contributes 0, not 0 * inf), so every order
# keeps the convention. ``w`` and ``z`` have the same shape (logsumexp broadcasts them first).
weighted_exp = Primitive("weighted_exp", _weighted_exp_impl,
                         doc="w exp(z), exactly 0 where w == 0 (even if exp(z) overflows)")
weighted_exp.defvjp(lambda g, ans, w, z: weighted_exp(g, z), lambda g, ans, w, z: g * ans)
weighted_exp.defjvp(lambda t, ans, w, z: weighted_exp(t, z), lambda t, ans, w, z: t * ans)


def _drop(x, axes):
    s = shape(x)
    return _shape_ops.reshape(x, tuple(d for i, d in enumerate(s) if i - len(s) not in axes))


def _check_real(name, *xs):
    for x in xs:
        dt = getattr(x, "dtype", None)
        if dt is not None and dt.kind == "c":
            raise NotImplementedError(f"{name}: complex input (dtype {dt}) is not supported by chainrule")


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log sum_k b_k exp(a_k)`` as ``m + log sum_k b_k exp(a_k - m)``, ``m = max a`` a constant.

    The gradient is exactly ``b exp(a - logsumexp)`` (the softmax); finite for inputs
    of any magnitude. SciPy's signature; with ``return_sign`` the result is
    ``(log|s|, sign(s))`` and the sign is a constant.
    """
    a = a if isinstance(a, (Box, np.ndarray)) else np.asarray(a, dtype=float)
    _check_real("logsumexp", a, b)
    if b is not None:
        b = b if isinstance(b, (Box, np.ndarray)) else np.asarray(b, dtype=float)
        a_bc = np.broadcast_shapes(shape(a), shape(b))
        if a_bc != shape(a):
            a = _shape_ops.broadcast_to(a, a_bc)
        if isinstance(b, Box) and a_bc != shape(b):
            b = _shape_ops.broadcast_to(b, a_bc)
    axes = _axes(axis, len(shape(a)))
    m = _shift(a, axes, b)
    if b is None:
        e = exp(a - m)
    elif isinstance(b, Box):
        # b_k exp(a_k - m), m the max where b_k != 0 (SciPy's shift: a large a_k with b_k = 0
        # must not underflow the rest). An entry with b_k = 0 adds exactly 0, even where
        # exp(a_k - m) overflows, and keeps d/db_k = exp(a_k - lse) (inf once that overflows).
        e = weighted_exp(b, a - m)
    else:  # constant weights: entries with b_k = 0 drop out exactly (no overflow, no 0 * inf)
        keep = unbox_all(b) != 0
        e = where(keep, b * exp(where(keep, a - m, 0.0)), 0.0)
    s = _red.sum(e, axis=axes, keepdims=True)
    if return_sign:
        sign = np.sign(strip_derivatives(s))
        out = log(absolute(s)) + m
    else:
        out = log(s) + m
    if not keepdims:
        out = _drop(out, axes)
        if return_sign:
            sign = np.reshape(sign, shape(out))
    return (out, sign) if return_sign else out


def softmax(x, axis=None):
    """``exp(x - m) / sum exp(x - m)`` over ``axis`` (SciPy's default ``None``: all entries);
    as SciPy's, NaN throughout a slice that holds +inf or only -inf."""
    x = x if isinstance(x, (Box, np.ndarray)) else np.asarray(x, dtype=float)
    _check_real("softmax", x)
    axes = _axes(axis, len(shape(x)))
    e = exp(x - _shift(x, axes, finite=False))
    return e / _red.sum(e, axis=axes, keepdims=True)


def log_softmax(x, axis=None):
    """``x - logsumexp(x, axis, keepdims=True)``, written as ``(x - m) - log sum exp(x - m)``."""
    x = x if isinstance(x, (Box, np.ndarray)) else np.asarray(x, dtype=float)
    _check_real("log_softmax", x)
    axes = _axes(axis, len(shape(x)))
    z = x - _shift(x, axes)
    return z - log(_red.sum(exp(z), axis=axes, keepdims=True))


# Names for ``chainrule.scipy.special``. NumPy itself has none of these, so nothing is
# star-exported into ``chainrule.numpy``.
SCIPY_SPECIAL = ["expit", "log_expit", "logit", "erf", "erfc", "erfcx", "erfinv", "erfcinv", "ndtr",
                 "log_ndtr", "ndtri", "gamma", "gammaln", "digamma", "psi", "polygamma", "entr", "xlogy",
                 "xlog1py", "logsumexp", "softmax", "log_softmax"]

__all__: list[str] = []
