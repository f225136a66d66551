"""``scipy.stats`` distributions as composites of chainrule's differentiable ops.

Each distribution is the standardised one moved and scaled: for ``z = (x - loc) / scale``

    logpdf(x) = logpdf_0(z) - log(scale),  cdf(x) = cdf_0(z),  entropy = entropy_0 + log(scale)

so ``x``, ``loc``, ``scale`` and every continuous shape parameter are differentiable to any
order, and the arguments broadcast as SciPy's do. SciPy's conventions are kept: outside the
support a density is 0 (log-density ``-inf``) and a CDF 0 or 1; an invalid parameter
(``scale <= 0``, ``p > 1``, a non-integer ``n``, ...) gives ``nan``; results are float64 (SciPy
computes in float64 whatever the input's dtype). Outside the support and at invalid parameters
the derivative is 0: values there are computed at a safe point and then replaced (a double
``where``), so no ``0 * inf`` reaches the derivative.

Discrete distributions take ``k`` as data: their pmf is zero between the integers, so ``k``
carries no derivative (like ``floor``), while ``mu``, ``p`` are differentiable. The CDFs of
``t`` in ``df``, ``gamma`` in ``a``, ``beta`` in ``a``/``b`` and ``chi2`` in ``df`` have no
closed-form derivative; ``stdtr``, ``gammainc`` and ``betainc`` evaluate it (series and
continued fractions carried through in Taylor polynomials, :mod:`.gammabeta`), to any order.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sc

from ..core.aval import dtype_of, shape_of
from ..core.primitive import Box, strip_derivatives
from . import linalg as _la
from ._util import every_example
from .bessel import i0e, i1e
from .elementwise import absolute, arctan, exp, expm1, log, log1p, logaddexp, sin, tan, where
from .gammabeta import (
    betainc,
    betaincc,
    betainccinv,
    betaincinv,
    betaln,
    gammainc,
    gammaincc,
    gammainccinv,
    gammaincinv,
    stdtr,
    stdtrit,
)
from .linear import astype, reshape
from .mvn_cdf import mvn_box, mvn_cdf
from .reductions import sum as _sum
from .shape import asarray, concatenate, expand_dims, squeeze, swapaxes
from .special import digamma, entr, expit, gammaln, log_expit, log_ndtr, logit, ndtr, ndtri, xlog1py, xlogy

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG2 = math.log(2.0)
_NAN, _INF = float("nan"), float("inf")


def as_float(x):
    """``x`` in SciPy's stats dtype: float64 (or wider), whatever came in; traced values cast
    with the differentiable ``astype``; a list or tuple (of values or traced values) as an array."""
    if type(x) in (list, tuple):
        x = asarray(x)
    dt = np.dtype(np.promote_types(dtype_of(x), np.float64))
    if isinstance(x, Box):
        return x if dtype_of(x) == dt else astype(x, dt)
    return np.asarray(x, dtype=dt)


def _constant(x):
    """A value every transform treats as a constant (the count ``k`` of a pmf)."""
    x = strip_derivatives(x)
    return x if isinstance(x, Box) else np.asarray(x)


def _scalar_out(v):
    """SciPy returns a NumPy scalar, not a 0-d array, for scalar arguments."""
    return v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v


def _all_true(ok):
    """``True`` when the validity mask is a constant with no False in it (the common case: no
    ``where`` is recorded); otherwise the mask itself, which may be a staged or batched value
    (under ``jit``/``vmap`` nothing here reads it)."""
    if isinstance(ok, Box):
        return ok
    ok = np.asarray(ok)
    return True if ok.all() else ok


def _bind(dist: str, names: tuple, defaults: dict, args, kwds) -> list:
    """SciPy's calling convention: shape parameters then ``loc``/``scale``, by position or name."""
    if len(args) > len(names):
        raise TypeError(f"{dist}: takes at most {len(names)} parameters {names}, got {len(args)}")
    vals = dict(zip(names, args))
    for k, v in kwds.items():
        if k not in names:
            raise TypeError(f"{dist}: unexpected parameter {k!r} (its parameters are {names})")
        if k in vals:
            raise TypeError(f"{dist}: parameter {k!r} given twice")
        vals[k] = v
    missing = [n for n in names if n not in vals and n not in defaults]
    if missing:
        raise TypeError(f"{dist}: missing parameter(s) {missing}")
    return [as_float(vals.get(n, defaults.get(n))) for n in names]


class Continuous:
    """A location-scale family from its standard functions of ``z`` and the shape parameters.

    ``logpdf0``, ``cdf0``, ... are called only at points inside the support and at valid
    parameters (``safe`` values elsewhere); ``lower``/``upper`` (numbers, or functions of the
    shape parameters where the support moves with them, as ``truncnorm``'s ``[a, b]``) and
    ``valid(*shape)`` say where. A missing ``logcdf0``/``logsf0`` is the log of ``cdf0``/``sf0``;
    a missing ``sf0`` is ``1 - cdf0``.
    """

    def __init__(self, name, shapes=(), *, logpdf0, cdf0, sf0=None, logcdf0=None, logsf0=None,
                 entropy0=None, ppf0=None, isf0=None, lower=-_INF, upper=_INF, closed=True,
                 valid=lambda *shape: True, safe_shape=()):
        self.name = name
        self.shapes = tuple(shapes)
        self._names = self.shapes + ("loc", "scale")
        self._logpdf0, self._cdf0, self._sf0 = logpdf0, cdf0, sf0
        self._logcdf0, self._logsf0, self._entropy0 = logcdf0, logsf0, entropy0
        self._ppf0, self._isf0 = ppf0, isf0
        self.lower, self.upper, self.closed = lower, upper, closed
        self._valid, self._safe_shape = valid, safe_shape

    # -------------------------------------------------------------- the bookkeeping
    def _ends(self, shape, constant=True):
        """The support's ends in standard units; functions of the shape parameters are called
        on their constant values (a mask or a safe point) unless ``constant`` is False (the
        quantile at ``q = 0, 1`` is the end itself, differentiable in the parameters)."""
        if not callable(self.lower):
            return self.lower, self.upper
        s = [strip_derivatives(v) for v in shape] if constant else shape
        return self.lower(*s), self.upper(*s)

    def _params(self, args, kwds):
        *shape, loc, scale = _bind(self.name, self._names, {"loc": 0.0, "scale": 1.0}, args, kwds)
        ok = _all_true((scale > 0) & self._valid(*shape))
        if ok is True:
            return shape, loc, scale, True
        # compute at safe parameters; the result is nan there anyway
        scale = where(ok, scale, 1.0)
        shape = [where(ok, s, d) for s, d in zip(shape, self._safe_shape)]
        return shape, loc, scale, ok

    def _standard(self, x, args, kwds):
        shape, loc, scale, ok = self._params(args, kwds)
        z = (as_float(x) - loc) / scale
        zc = strip_derivatives(z)
        lo, hi = self._ends(shape)
        if self.closed:
            inside = (zc >= lo) & (zc <= hi)
        else:
            inside = (zc > lo) & (zc < hi)
        return z, shape, scale, ok, inside, zc

    @staticmethod
    def _finish(value, ok, inside, outside):
        """``value`` inside the support, ``outside`` beyond it, ``nan`` at invalid parameters."""
        out = where(inside, value, outside)
        return _scalar_out(out if ok is True else where(ok, out, _NAN))

    def _inner(self, z, inside, shape):
        """``z`` where inside the support, a point inside it elsewhere (no 0 * inf)."""
        if isinstance(inside, np.ndarray) and inside.all():
            return z
        return where(inside, z, _middle(*self._ends(shape)))

    # -------------------------------------------------------------- SciPy's methods
    def logpdf(self, x, *args, **kwds):
        """log f(x) = logpdf_0((x - loc) / scale) - log(scale); ``-inf`` off the support."""
        z, shape, scale, ok, inside, _ = self._standard(x, args, kwds)
        v = self._logpdf0(self._inner(z, inside, shape), *shape) - log(scale)
        return self._finish(v, ok, inside, -_INF)

    def pdf(self, x, *args, **kwds):
        """f(x) = exp(logpdf(x))."""
        return _scalar_out(exp(self.logpdf(x, *args, **kwds)))

    def _missing(self, what):
        raise NotImplementedError(f"{self.name}.{what}: not provided (no closed form or stable "
                                  "composition of differentiable functions)")

    def _tail(self, z, zc, inside, fn, below, above, shape):
        v = fn(self._inner(z, inside, shape), *shape)
        lo = self._ends(shape)[0]
        return where(inside, v, where(zc < lo if self.closed else zc <= lo, below, above))

    def cdf(self, x, *args, **kwds):
        """F(x) = cdf_0((x - loc) / scale): 0 below the support, 1 above."""
        if self._cdf0 is None:
            self._missing("cdf")
        z, shape, _, ok, inside, zc = self._standard(x, args, kwds)
        return self._finish(self._tail(z, zc, inside, self._cdf0, 0.0, 1.0, shape), ok, True, 0.0)

    def sf(self, x, *args, **kwds):
        """1 - F(x), computed directly where the family has a direct form (no cancellation)."""
        if self._cdf0 is None:
            self._missing("sf")
        z, shape, _, ok, inside, zc = self._standard(x, args, kwds)
        sf0 = self._sf0 or (lambda z, *s: 1.0 - self._cdf0(z, *s))
        return self._finish(self._tail(z, zc, inside, sf0, 1.0, 0.0, shape), ok, True, 0.0)

    def logcdf(self, x, *args, **kwds):
        """log F(x); in log space where the family has a stable form (``log_ndtr``, ...)."""
        if self._logcdf0 is None:
            return _scalar_out(log(self.cdf(x, *args, **kwds)))
        z, shape, _, ok, inside, zc = self._standard(x, args, kwds)
        return self._finish(self._tail(z, zc, inside, self._logcdf0, -_INF, 0.0, shape), ok, True, 0.0)

    def logsf(self, x, *args, **kwds):
        """log(1 - F(x))."""
        if self._logsf0 is None:
            return _scalar_out(log(self.sf(x, *args, **kwds)))
        z, shape, _, ok, inside, zc = self._standard(x, args, kwds)
        return self._finish(self._tail(z, zc, inside, self._logsf0, 0.0, -_INF, shape), ok, True, 0.0)

    def entropy(self, *args, **kwds):
        """The differential entropy: entropy_0(shape) + log(scale)."""
        shape, _, scale, ok = self._params(args, kwds)
        return self._finish(self._entropy0(*shape) + log(scale), ok, True, 0.0)

    def ppf(self, q, *args, **kwds):
        """The quantile function F^{-1}(q) = loc + scale ppf_0(q); the support's ends at
        ``q = 0`` and ``1`` (as SciPy's, whatever ``ppf_0`` gives there), ``nan`` outside [0, 1]."""
        return self._quantile(q, args, kwds, self._ppf0, upper_first=False)

    def isf(self, q, *args, **kwds):
        """The inverse survival function S^{-1}(q), from the upper tail's own inverse where the
        family has one (``ppf(1 - q)`` would round a small ``q`` away: ``isf(1e-20)`` is finite)."""
        if self._isf0 is None:
            if self._ppf0 is None:
                self._missing("isf")
            return self.ppf(1.0 - as_float(q), *args, **kwds)
        return self._quantile(q, args, kwds, self._isf0, upper_first=True)

    def _quantile(self, q, args, kwds, inverse0, upper_first):
        if inverse0 is None:
            self._missing("isf" if upper_first else "ppf")
        shape, loc, scale, ok = self._params(args, kwds)
        at_0, at_1 = self._ends(shape, constant=False)
        if upper_first:
            at_0, at_1 = at_1, at_0
        q = as_float(q)
        qc = strip_derivatives(q)
        inside = (qc > 0) & (qc < 1)
        v = loc + scale * inverse0(where(inside, q, 0.5), *shape)
        # the ends at q = 0, 1 with no branch on q's values (traced under vmap and jit)
        v = where(qc == 0, _moved(loc, scale, at_0), where(qc == 1, _moved(loc, scale, at_1), v))
        return self._finish(v, ok, (qc >= 0) & (qc <= 1), _NAN)


def _moved(loc, scale, end):
    """``loc + scale * end``; an infinite end is itself (scale > 0), with no ``0 * inf`` in the
    derivative in ``scale`` where it is not taken."""
    if isinstance(end, float):
        return loc + scale * end if math.isfinite(end) else end
    ec = strip_derivatives(end)
    finite = (ec > -_INF) & (ec < _INF)
    return where(finite, loc + scale * where(finite, end, 0.0), ec)


def _middle(lo, hi):
    """A point strictly inside ``[lo, hi]``, elementwise where the ends are arrays (either may be
    infinite): the safe point at which a family's functions are evaluated off its support."""
    if not isinstance(lo, Box) and not isinstance(hi, Box) and np.ndim(lo) == np.ndim(hi) == 0:
        lo, hi = float(lo), float(hi)
        if math.isfinite(lo + hi):
            return 0.5 * (lo + hi)
        return lo + 1.0 if math.isfinite(lo) else (hi - 1.0 if math.isfinite(hi) else 0.0)
    flo, fhi = lo > -_INF, hi < _INF
    lo0, hi0 = where(flo, lo, 0.0), where(fhi, hi, 0.0)
    return where(flo & fhi, 0.5 * (lo0 + hi0), where(flo, lo0 + 1.0, where(fhi, hi0 - 1.0, 0.0)))


# ---------------------------------------------------------------- continuous families
def _t_logpdf0(z, df):
    return (gammaln(0.5 * (df + 1.0)) - gammaln(0.5 * df) - 0.5 * (log(df) + _LOG_PI)
            - 0.5 * (df + 1.0) * log1p(z * z / df))


def _t_entropy0(df):
    h = 0.5 * (df + 1.0)
    return h * (digamma(h) - digamma(0.5 * df)) + 0.5 * log(df) + betaln(0.5 * df, 0.5)


def _gamma_logpdf0(z, a):
    return xlogy(a - 1.0, z) - z - gammaln(a)


def _gamma_entropy0(a):
    return a + gammaln(a) + (1.0 - a) * digamma(a)


def _beta_logpdf0(z, a, b):
    return xlogy(a - 1.0, z) + xlog1py(b - 1.0, -z) - betaln(a, b)


def _beta_entropy0(a, b):
    return (betaln(a, b) - (a - 1.0) * digamma(a) - (b - 1.0) * digamma(b)
            + (a + b - 2.0) * digamma(a + b))


def _chi2_logpdf0(z, df):
    h = 0.5 * df
    return xlogy(h - 1.0, z) - 0.5 * z - gammaln(h) - h * _LOG2


def _laplace_logcdf0(z):
    # log(e^z / 2) below 0, log(1 - e^-z / 2) above; each branch at a safe point of the other
    neg = strip_derivatives(z) < 0
    return where(neg, where(neg, z, 0.0) - _LOG2, log1p(-0.5 * exp(-where(neg, 0.0, z))))


def _laplace_cdf0(z):
    neg = strip_derivatives(z) < 0
    return where(neg, 0.5 * exp(where(neg, z, 0.0)), 1.0 - 0.5 * exp(-where(neg, 0.0, z)))


def _laplace_ppf0(q):
    """log(2 q) below 1/2, -log(2 - 2 q) above: each tail's own log (exact for a tiny q)."""
    low = q < 0.5
    return where(low, log(2.0 * where(low, q, 0.25)), -log(2.0 - 2.0 * where(low, 0.75, q)))


def _logistic_logpdf0(z):
    a = absolute(z)  # symmetric: -|z| - 2 log(1 + e^-|z|) never overflows
    return -a - 2.0 * log1p(exp(-a))


_POSITIVE = (lambda s: s > 0)

norm = Continuous(
    "norm", logpdf0=lambda z: -0.5 * z * z - 0.5 * _LOG_2PI, cdf0=ndtr, sf0=lambda z: ndtr(-z),
    logcdf0=log_ndtr, logsf0=lambda z: log_ndtr(-z), entropy0=lambda: 0.5 * (1.0 + _LOG_2PI),
    ppf0=ndtri, isf0=lambda q: -ndtri(q))
t = Continuous(
    "t", ("df",), logpdf0=_t_logpdf0, cdf0=lambda z, df: stdtr(df, z), sf0=lambda z, df: stdtr(df, -z),
    entropy0=_t_entropy0, ppf0=lambda q, df: stdtrit(df, q),
    isf0=lambda q, df: -stdtrit(df, q), valid=_POSITIVE, safe_shape=(1.0,))
gamma = Continuous(
    "gamma", ("a",), logpdf0=_gamma_logpdf0, cdf0=lambda z, a: gammainc(a, z),
    sf0=lambda z, a: gammaincc(a, z), entropy0=_gamma_entropy0, ppf0=lambda q, a: gammaincinv(a, q),
    isf0=lambda q, a: gammainccinv(a, q),
    lower=0.0, valid=_POSITIVE, safe_shape=(1.0,))
beta = Continuous(
    "beta", ("a", "b"), logpdf0=_beta_logpdf0, cdf0=lambda z, a, b: betainc(a, b, z),
    sf0=lambda z, a, b: betainc(b, a, 1.0 - z), entropy0=_beta_entropy0,
    ppf0=lambda q, a, b: betaincinv(a, b, q), isf0=lambda q, a, b: betainccinv(a, b, q), lower=0.0, upper=1.0,
    valid=lambda a, b: (a > 0) & (b > 0), safe_shape=(1.0, 1.0))
chi2 = Continuous(
    "chi2", ("df",), logpdf0=_chi2_logpdf0, cdf0=lambda z, df: gammainc(0.5 * df, 0.5 * z),
    sf0=lambda z, df: gammaincc(0.5 * df, 0.5 * z),
    entropy0=lambda df: _gamma_entropy0(0.5 * df) + _LOG2, ppf0=lambda q, df: 2.0 * gammaincinv(0.5 * df, q),
    isf0=lambda q, df: 2.0 * gammainccinv(0.5 * df, q),
    lower=0.0, valid=_POSITIVE,
    safe_shape=(1.0,))
expon = Continuous(
    "expon", logpdf0=lambda z: -z, cdf0=lambda z: -expm1(-z), sf0=lambda z: exp(-z),
    logcdf0=lambda z: log(-expm1(-z)), logsf0=lambda z: -z, entropy0=lambda: 1.0,
    ppf0=lambda q: -log1p(-q), isf0=lambda q: -log(q), lower=0.0)
laplace = Continuous(
    "laplace", logpdf0=lambda z: -absolute(z) - _LOG2, cdf0=_laplace_cdf0,
    sf0=lambda z: _laplace_cdf0(-z), logcdf0=_laplace_logcdf0, logsf0=lambda z: _laplace_logcdf0(-z),
    entropy0=lambda: 1.0 + _LOG2, ppf0=_laplace_ppf0,
    isf0=lambda q: -_laplace_ppf0(q))
logistic = Continuous(
    "logistic", logpdf0=_logistic_logpdf0, cdf0=expit, sf0=lambda z: expit(-z), logcdf0=log_expit,
    logsf0=lambda z: log_expit(-z), entropy0=lambda: 2.0, ppf0=logit,
    isf0=lambda q: -logit(q))
cauchy = Continuous(
    "cauchy", logpdf0=lambda z: -_LOG_PI - log1p(z * z), cdf0=lambda z: 0.5 + arctan(z) / math.pi,
    sf0=lambda z: 0.5 - arctan(z) / math.pi, entropy0=lambda: math.log(4.0 * math.pi),
    ppf0=lambda q: -1.0 / tan(math.pi * q), isf0=lambda q: 1.0 / tan(math.pi * q))  # tan(pi (q - 1/2))


# ---------------------------------------------------------------- more continuous families
def _log1mexp(u):
    """log(1 - e^u) for u <= 0, stably (Maechler 2012): log(-expm1(u)) near 0, log1p(-e^u)
    below -log 2; each branch at a safe point of the other (no 0 * inf in a derivative)."""
    near = strip_derivatives(u) > -_LOG2
    return where(near, log(-expm1(where(near, u, -1.0))), log1p(-exp(where(near, -1.0, u))))


def _ndtri_exp(y):
    """ndtri(e^y), the normal quantile of a log-probability: ndtri(exp(y)) below log 1/2,
    -ndtri(-expm1(y)) above (the upper tail's own, exact as e^y -> 1). As SciPy's ``ndtri_exp``
    down to y = -745 (e^y underflows below: -inf)."""
    low = strip_derivatives(y) < -_LOG2
    return where(low, ndtri(exp(where(low, y, -1.0))), -ndtri(-expm1(where(low, -0.5, y))))


def _pareto_logcdf0(z, b):
    return _log1mexp(-b * log(z))


def _gumbel_r_logsf0(z):
    return _log1mexp(-exp(-z))


_EULER = float(np.euler_gamma)


def _log_gauss_mass(a, b):
    """log(Phi(b) - Phi(a)) for a < b, as SciPy's ``_log_gauss_mass``: in the left tail
    (b <= 0) log Phi(b) + log(1 - Phi(a) / Phi(b)) from ``log_ndtr``, the right tail (a > 0)
    mirrored, else log1p(-Phi(a) - Phi(-b)); each case at safe arguments elsewhere."""
    ac, bc = strip_derivatives(a), strip_derivatives(b)
    left, right = bc <= 0, ac > 0
    central = (bc > 0) & (ac <= 0)
    lb = log_ndtr(where(left, b, -1.0))
    vl = lb + _log1mexp(log_ndtr(where(left, a, -2.0)) - lb)
    la = log_ndtr(-where(right, a, 1.0))
    vr = la + _log1mexp(log_ndtr(-where(right, b, 2.0)) - la)
    vc = log1p(-ndtr(where(central, a, -1.0)) - ndtr(-where(central, b, 1.0)))
    return where(left, vl, where(right, vr, vc))


def _truncnorm_logpdf0(z, a, b):
    return -0.5 * z * z - 0.5 * _LOG_2PI - _log_gauss_mass(a, b)


def _truncnorm_strictly_inside(fn, at_a, at_b):
    """``fn(z, a, b)`` strictly inside (a, b) and its limit at the ends: there log F = -inf
    and log S = -inf, whose derivatives would be 0 * inf (the derivative at an end is the
    outside's, 0, as at a kink)."""
    def inside(z, a, b):
        zc, ac, bc = strip_derivatives(z), strip_derivatives(a), strip_derivatives(b)
        strict = (zc > ac) & (zc < bc)
        v = fn(where(strict, z, _middle(ac, bc)), a, b)
        return where(strict, v, where(zc <= ac, at_a, at_b))
    return inside


def _truncnorm_logs(z, a, b):
    """(log F, log S) as SciPy's: log of the masses of [a, z] and [z, b] over that of [a, b],
    each one's complement taken from the other's log where it is above e^-0.1 (no cancellation)."""
    m = _log_gauss_mass(a, b)
    lc, ls = _log_gauss_mass(a, z) - m, _log_gauss_mass(z, b) - m
    near_1, near_0 = strip_derivatives(lc) > -0.1, strip_derivatives(ls) > -0.1
    return (where(near_1, _log1mexp(where(near_1, ls, -1.0)), lc),
            where(near_0, _log1mexp(where(near_0, lc, -1.0)), ls))


_truncnorm_logcdf0 = _truncnorm_strictly_inside(lambda z, a, b: _truncnorm_logs(z, a, b)[0], -_INF, 0.0)
_truncnorm_logsf0 = _truncnorm_strictly_inside(lambda z, a, b: _truncnorm_logs(z, a, b)[1], 0.0, -_INF)


def _truncnorm_ppf0(q, a, b):
    """SciPy's: Phi(x) = Phi(a) + q Z for a < 0, Phi(-x) = Phi(-b) + (1 - q) Z otherwise, each
    summed in log space (``logaddexp``) and inverted by ``ndtri_exp``."""
    left = strip_derivatives(a) < 0
    al, bl = where(left, a, -1.0), where(left, b, 1.0)
    xl = _ndtri_exp(logaddexp(log_ndtr(al), log(q) + _log_gauss_mass(al, bl)))
    ar, br = where(left, 1.0, a), where(left, 2.0, b)
    xr = -_ndtri_exp(logaddexp(log_ndtr(-br), log1p(-q) + _log_gauss_mass(ar, br)))
    return where(left, xl, xr)


def _truncnorm_entropy0(a, b):
    """log(sqrt(2 pi e) Z) + (a phi(a) - b phi(b)) / (2 Z), Z = Phi(b) - Phi(a); an infinite end
    adds 0 (SciPy's gives nan there: inf * 0)."""
    m = _log_gauss_mass(a, b)

    def end(e):
        ec = strip_derivatives(e)
        finite = (ec > -_INF) & (ec < _INF)
        es = where(finite, e, 0.0)
        return where(finite, es * exp(-0.5 * es * es - 0.5 * _LOG_2PI - m), 0.0)
    return 0.5 * (1.0 + _LOG_2PI) + m + 0.5 * (end(a) - end(b))


def _vonmises_logpdf0(z, kappa):
    # kappa (cos z - 1) - log(2 pi I0e(kappa)); cos z - 1 = -2 sin^2(z / 2) keeps its digits near 0
    s = sin(0.5 * z)
    return -2.0 * kappa * s * s - _LOG_2PI - log(i0e(kappa))


def _vonmises_entropy0(kappa):
    return kappa * (1.0 - i1e(kappa) / i0e(kappa)) + _LOG_2PI + log(i0e(kappa))


def _abs_pow(z, beta):
    """|z|^beta, 0 at z = 0 with derivatives 0 there (in beta it would be 0 * log 0)."""
    a = absolute(z)
    pos = strip_derivatives(a) > 0
    return where(pos, where(pos, a, 1.0) ** beta, 0.0)


def _gennorm_logpdf_at_0(beta):
    return log(0.5 * beta) - gammaln(1.0 / beta)


def _gennorm_cdf0(z, beta, take_log=False):
    """1/2 Q(1/beta, |z|^beta) below 0, 1 - that above (SciPy's); its log with ``log1p`` above 0
    (no rounding of 1 - tail). Where |z|^beta is 0 (z = 0 or an underflow) the line
    1/2 + z f(0): Q's derivative at 0 is inf * 0 there."""
    y = _abs_pow(z, beta)
    zero = strip_derivatives(y) == 0
    tail = 0.5 * gammaincc(1.0 / beta, where(zero, 1.0, y))
    neg = strip_derivatives(z) < 0
    line = 0.5 + z * exp(_gennorm_logpdf_at_0(beta))
    if take_log:
        return where(zero, log(where(zero, line, 0.5)),
                     where(neg, log(where(neg, tail, 0.5)), log1p(-where(neg, 0.0, tail))))
    return where(zero, line, where(neg, tail, 1.0 - tail))


def _gennorm_ppf0(q, beta):
    """-Q^-1(1/beta, 2 q)^(1/beta) below 1/2, +Q^-1(1/beta, 2 - 2 q)^(1/beta) above (SciPy's);
    where Q^-1 is 0 (q = 1/2) the line (q - 1/2) / f(0)."""
    a = 1.0 / beta
    low = strip_derivatives(q) < 0.5
    p = where(low, 2.0 * q, 2.0 - 2.0 * q)
    zero = gammainccinv(strip_derivatives(a), strip_derivatives(p)) == 0
    r = gammainccinv(a, where(zero, 0.5, p)) ** a
    return where(zero, (q - 0.5) * exp(-_gennorm_logpdf_at_0(beta)), where(low, -r, r))


uniform = Continuous(
    "uniform", logpdf0=lambda z: 0.0 * z, cdf0=lambda z: z, sf0=lambda z: 1.0 - z, logcdf0=log,
    logsf0=lambda z: log1p(-z), entropy0=lambda: 0.0, ppf0=lambda q: q, isf0=lambda q: 1.0 - q,
    lower=0.0, upper=1.0)
pareto = Continuous(
    "pareto", ("b",), logpdf0=lambda z, b: log(b) - (b + 1.0) * log(z),
    cdf0=lambda z, b: -expm1(-b * log(z)), sf0=lambda z, b: exp(-b * log(z)),
    logcdf0=_pareto_logcdf0, logsf0=lambda z, b: -b * log(z), entropy0=lambda b: 1.0 + 1.0 / b - log(b),
    ppf0=lambda q, b: exp(-log1p(-q) / b), isf0=lambda q, b: exp(-log(q) / b),
    lower=1.0, valid=_POSITIVE, safe_shape=(1.0,))
gumbel_r = Continuous(
    "gumbel_r", logpdf0=lambda z: -z - exp(-z), cdf0=lambda z: exp(-exp(-z)),
    sf0=lambda z: -expm1(-exp(-z)), logcdf0=lambda z: -exp(-z), logsf0=_gumbel_r_logsf0,
    entropy0=lambda: _EULER + 1.0, ppf0=lambda q: -log(-log(q)), isf0=lambda q: -log(-log1p(-q)))
gumbel_l = Continuous(  # gumbel_r mirrored: f_l(z) = f_r(-z)
    "gumbel_l", logpdf0=lambda z: z - exp(z), cdf0=lambda z: -expm1(-exp(z)),
    sf0=lambda z: exp(-exp(z)), logcdf0=lambda z: _gumbel_r_logsf0(-z), logsf0=lambda z: -exp(z),
    entropy0=lambda: _EULER + 1.0, ppf0=lambda q: log(-log1p(-q)), isf0=lambda q: log(-log(q)))
truncnorm = Continuous(
    "truncnorm", ("a", "b"), logpdf0=_truncnorm_logpdf0,
    cdf0=lambda z, a, b: exp(_truncnorm_logcdf0(z, a, b)),
    sf0=lambda z, a, b: exp(_truncnorm_logsf0(z, a, b)),
    logcdf0=_truncnorm_logcdf0, logsf0=_truncnorm_logsf0, entropy0=_truncnorm_entropy0,
    ppf0=_truncnorm_ppf0, isf0=lambda q, a, b: -_truncnorm_ppf0(q, -b, -a),  # -X is truncnorm(-b, -a)
    lower=lambda a, b: a, upper=lambda a, b: b, valid=lambda a, b: a < b, safe_shape=(-1.0, 1.0))
vonmises = Continuous(  # SciPy's: on the whole line (the density is 2 pi periodic); no closed-form CDF
    "vonmises", ("kappa",), logpdf0=_vonmises_logpdf0, cdf0=None, entropy0=_vonmises_entropy0,
    valid=lambda kappa: kappa >= 0, safe_shape=(1.0,))
gennorm = Continuous(
    "gennorm", ("beta",), logpdf0=lambda z, beta: _gennorm_logpdf_at_0(beta) - _abs_pow(z, beta),
    cdf0=_gennorm_cdf0, sf0=lambda z, beta: _gennorm_cdf0(-z, beta),
    logcdf0=lambda z, beta: _gennorm_cdf0(z, beta, True),
    logsf0=lambda z, beta: _gennorm_cdf0(-z, beta, True),
    entropy0=lambda beta: 1.0 / beta - log(0.5 * beta) + gammaln(1.0 / beta),
    ppf0=_gennorm_ppf0, isf0=lambda q, beta: -_gennorm_ppf0(q, beta),  # symmetric
    valid=_POSITIVE, safe_shape=(1.0,))


# ---------------------------------------------------------------- discrete families
class Discrete:
    """A discrete family on the integers ``lower..upper(shape)`` shifted by ``loc``; ``k`` is
    data (no derivative), the shape parameters are differentiable. A missing ``logcdf0`` /
    ``logsf0`` is the log of ``cdf0`` / ``sf0``."""

    def __init__(self, name, shapes, *, logpmf0, cdf0, sf0, valid, safe_shape, upper=None,
                 entropy0=None, lower=0, logcdf0=None, logsf0=None):
        self.name, self.shapes = name, tuple(shapes)
        self._names = self.shapes + ("loc",)
        self._logpmf0, self._cdf0, self._sf0 = logpmf0, cdf0, sf0
        self._logcdf0, self._logsf0, self._lower = logcdf0, logsf0, float(lower)
        self._valid, self._safe_shape, self._upper, self._entropy0 = valid, safe_shape, upper, entropy0

    def _params(self, args, kwds):
        *shape, loc = _bind(self.name, self._names, {"loc": 0.0}, args, kwds)
        loc = _constant(loc)  # an integer shift of the support: no derivative
        ok = _all_true(self._valid(*[strip_derivatives(s) for s in shape]))
        if ok is not True:
            shape = [where(ok, s, d) for s, d in zip(shape, self._safe_shape)]
        return shape, loc, ok

    def _count(self, k, args, kwds):
        shape, loc, ok = self._params(args, kwds)
        k = _constant(as_float(_constant(k))) - loc
        hi = np.inf if self._upper is None else self._upper(*[strip_derivatives(s) for s in shape])
        return k, shape, ok, hi

    @staticmethod
    def _finish(value, ok):
        return _scalar_out(value if ok is True else where(ok, value, _NAN))

    def logpmf(self, k, *args, **kwds):
        """log P(K = k); ``-inf`` off the support (also between the integers)."""
        k, shape, ok, hi = self._count(k, args, kwds)
        on = (k >= self._lower) & (k <= hi) & (np.floor(k) == k)
        v = self._logpmf0(np.where(on, k, self._lower), *shape)
        return self._finish(where(on, v, -_INF), ok)

    def pmf(self, k, *args, **kwds):
        """P(K = k) = exp(logpmf)."""
        return _scalar_out(exp(self.logpmf(k, *args, **kwds)))

    def _tail(self, k, args, kwds, fn, below, above):
        """``fn(floor(k))`` where the support is on both sides of ``k``, ``below`` / ``above``
        beyond it (evaluated at the support's first point there: no 0 * inf)."""
        k, shape, ok, hi = self._count(k, args, kwds)
        kf = np.floor(k)
        on = (kf >= self._lower) & (kf < hi)
        v = fn(np.where(on, kf, self._lower), *shape)
        return self._finish(where(on, v, np.where(kf < self._lower, below, above)), ok)

    def cdf(self, k, *args, **kwds):
        """P(K <= k): 0 below the support, 1 at and above its top."""
        return self._tail(k, args, kwds, self._cdf0, 0.0, 1.0)

    def sf(self, k, *args, **kwds):
        """P(K > k), computed directly (no cancellation in 1 - cdf)."""
        return self._tail(k, args, kwds, self._sf0, 1.0, 0.0)

    def logcdf(self, k, *args, **kwds):
        """log P(K <= k); in log space where the family has a direct form (no underflow)."""
        if self._logcdf0 is None:
            return _scalar_out(log(self.cdf(k, *args, **kwds)))
        return self._tail(k, args, kwds, self._logcdf0, -_INF, 0.0)

    def logsf(self, k, *args, **kwds):
        """log P(K > k)."""
        if self._logsf0 is None:
            return _scalar_out(log(self.sf(k, *args, **kwds)))
        return self._tail(k, args, kwds, self._logsf0, 0.0, -_INF)

    def entropy(self, *args, **kwds):
        """-sum_k p_k log p_k."""
        shape, _, ok = self._params(args, kwds)
        return self._finish(self._entropy0(*shape), ok)


def _poisson_entropy0(mu):
    # -sum_k p_k log p_k over k = 0..K, K far enough into the tail that what is left is below
    # double precision (Chernoff: mu + 20 sqrt(mu) + 40 leaves < 1e-30 of the mass). One K
    # serves every example of a vmap batch: K from the largest mu of them all. Past
    # _POISSON_ASYMPTOTIC the sum would be long (SciPy's own stops converging near 1e4) and its
    # rounding grows with mu: the asymptotic series (Evans & Boersma 1988) is closer there, inf at inf.
    mus = every_example(mu)
    top = min(float(np.max(mus)), _POISSON_ASYMPTOTIC) if np.size(mus) else 0.0
    ks = np.arange(int(top + 20.0 * math.sqrt(top) + 40.0) + 1, dtype=float)
    ks = np.reshape(ks, ks.shape + (1,) * len(shape_of(mu)))
    if not np.any(mus > _POISSON_ASYMPTOTIC):
        return _sum(_neg_plogp(_poisson_logpmf0(ks, mu)), axis=0)
    large = mu > _POISSON_ASYMPTOTIC  # each example's own (a batched comparison under vmap)
    small = _sum(_neg_plogp(_poisson_logpmf0(ks, where(large, 1.0, mu))), axis=0)
    m = where(large, mu, _POISSON_ASYMPTOTIC)
    inv = 1.0 / m
    # 1/2 log(2 pi e mu) - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3)
    series = 0.5 * log((2.0 * math.pi * math.e) * m) - inv * (_C1 + inv * (_C2 + inv * _C3))
    return where(large, series, small)


# the switch: past it the series' error (1e-13 at 1e3, 1e-15 at 3e3) is below the float64 sum's
_POISSON_ASYMPTOTIC = 1e3
_C1, _C2, _C3 = 1.0 / 12.0, 1.0 / 24.0, 19.0 / 360.0


def _neg_plogp(logp):
    """``-p log p`` from ``log p`` (0 where ``p = 0``). Its derivative ``-(log p + 1) p dlog p``
    is 0 where ``p`` underflows to 0 in a tail term; ``entr(exp(log p))``'s would be
    ``(-log 0 - 1) * 0``, nan. Tail terms past an example's own need (the terms another example
    of a batch, or another element of the array, needs) must add exactly 0, derivatives too."""
    seen = logp > -_INF
    safe = where(seen, logp, 0.0)
    return where(seen, -exp(safe) * safe, 0.0)


def _poisson_logpmf0(k, mu):
    return xlogy(k, mu) - mu - gammaln(k + 1.0)


def _binom_logpmf0(k, n, p):
    return (gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0) + xlogy(k, p)
            + xlog1py(n - k, -p))


def _counts_to(n, *others):
    """k = 0..max(n) on a leading axis, against the broadcast shape of ``n`` and ``others``: the
    largest n of every example of a vmap batch (the caller masks each to its own n)."""
    ns = every_example(strip_derivatives(n))
    top = int(np.max(ns)) if np.size(ns) else 0
    ks = np.arange(top + 1, dtype=float)
    return np.reshape(ks, ks.shape + (1,) * len(np.broadcast_shapes(*(shape_of(v) for v in (n, *others)))))


def _binom_entropy0(n, p):
    ks = _counts_to(n, p)
    on = ks <= strip_derivatives(n)
    return _sum(where(on, _neg_plogp(_binom_logpmf0(np.where(on, ks, 0.0), n, p)), 0.0), axis=0)


def _integral(v):
    return (np.floor(v) == v) & np.isfinite(v)


poisson = Discrete(
    "poisson", ("mu",), logpmf0=_poisson_logpmf0, cdf0=lambda k, mu: gammaincc(k + 1.0, mu),
    sf0=lambda k, mu: gammainc(k + 1.0, mu), valid=lambda mu: mu >= 0, safe_shape=(1.0,),
    entropy0=_poisson_entropy0)
bernoulli = Discrete(
    "bernoulli", ("p",), logpmf0=lambda k, p: xlogy(k, p) + xlog1py(1.0 - k, -p),
    cdf0=lambda k, p: 1.0 - p + 0.0 * k, sf0=lambda k, p: p + 0.0 * k,
    valid=lambda p: (p >= 0) & (p <= 1), safe_shape=(0.5,), upper=lambda p: 1.0,
    entropy0=lambda p: entr(p) + entr(1.0 - p))
binom = Discrete(
    "binom", ("n", "p"), logpmf0=_binom_logpmf0,
    cdf0=lambda k, n, p: betainc(n - k, k + 1.0, 1.0 - p),
    sf0=lambda k, n, p: betainc(k + 1.0, n - k, p),
    valid=lambda n, p: (n >= 0) & _integral(n) & (p >= 0) & (p <= 1), safe_shape=(1.0, 0.5),
    upper=lambda n, p: n, entropy0=_binom_entropy0)
geom = Discrete(  # the trial of the first success: k = 1, 2, ...
    "geom", ("p",), logpmf0=lambda k, p: xlog1py(k - 1.0, -p) + log(p),
    cdf0=lambda k, p: -expm1(k * log1p(-p)), sf0=lambda k, p: exp(k * log1p(-p)),
    logcdf0=lambda k, p: _log1mexp(k * log1p(-p)), logsf0=lambda k, p: k * log1p(-p),
    valid=lambda p: (p > 0) & (p <= 1), safe_shape=(0.5,), lower=1,
    entropy0=lambda p: -log(p) - xlog1py(1.0 - p, -p) / p)  # 0 at p = 1 (SciPy's: nan, 0 * inf)


def _nbinom_logpmf0(k, n, p):
    return gammaln(n + k) - gammaln(k + 1.0) - gammaln(n) + xlogy(n, p) + xlog1py(k, -p)


_NBINOM_MAX_TERMS = 10_000_000


def _nbinom_entropy0(n, p):
    """-sum_k p_k log p_k over k = 0..K, K (doubled until) past where the exact tail
    P(X > K) = I_{1-p}(K + 1, n) of every example of a vmap batch is below 1e-30."""
    nc, pc = np.broadcast_arrays(every_example(strip_derivatives(n)), every_example(strip_derivatives(p)))
    top = 1
    while np.any(_sc.betaincc(nc, top + 1.0, pc) >= 1e-30):
        top *= 2
        if top > _NBINOM_MAX_TERMS:
            raise ValueError(f"nbinom.entropy: p = {float(np.min(pc)):g} is too small: the sum over k "
                             f"would need more than {_NBINOM_MAX_TERMS} terms")
    ks = np.arange(top + 1, dtype=float)
    ks = np.reshape(ks, ks.shape + (1,) * len(np.broadcast_shapes(shape_of(n), shape_of(p))))
    return _sum(_neg_plogp(_nbinom_logpmf0(ks, n, p)), axis=0)


nbinom = Discrete(  # the failures before the n-th success; n > 0 real, differentiable
    "nbinom", ("n", "p"), logpmf0=_nbinom_logpmf0,
    cdf0=lambda k, n, p: betainc(n, k + 1.0, p), sf0=lambda k, n, p: betaincc(n, k + 1.0, p),
    valid=lambda n, p: (n > 0) & (p > 0) & (p <= 1), safe_shape=(1.0, 0.5), entropy0=_nbinom_entropy0)


def _betabinom_logpmf0(k, n, a, b):
    # SciPy's: log C(n, k) = -log(n + 1) - log B(n - k + 1, k + 1)
    return -log1p(n) - betaln(n - k + 1.0, k + 1.0) + betaln(k + a, n - k + b) - betaln(a, b)


def _betabinom_sum(k, n, a, b, above):
    """P(K <= k) (or P(K > k) with ``above``) as the sum of the pmf over k = 0..n (no closed
    form; SciPy sums too): terms masked to each example's own k and n, each a positive term."""
    ks = _counts_to(n, k, a, b)
    nc = strip_derivatives(n)
    on = ((ks > k) & (ks <= nc)) if above else (ks <= k)
    return _sum(where(on, exp(_betabinom_logpmf0(np.where(on, ks, 0.0), n, a, b)), 0.0), axis=0)


def _betabinom_entropy0(n, a, b):
    ks = _counts_to(n, a, b)
    on = ks <= strip_derivatives(n)
    return _sum(where(on, _neg_plogp(_betabinom_logpmf0(np.where(on, ks, 0.0), n, a, b)), 0.0), axis=0)


betabinom = Discrete(
    "betabinom", ("n", "a", "b"), logpmf0=_betabinom_logpmf0,
    cdf0=lambda k, n, a, b: _betabinom_sum(k, n, a, b, False),
    sf0=lambda k, n, a, b: _betabinom_sum(k, n, a, b, True),
    valid=lambda n, a, b: (n >= 0) & _integral(n) & (a > 0) & (b > 0), safe_shape=(1.0, 1.0, 1.0),
    upper=lambda n, a, b: n, entropy0=_betabinom_entropy0)


# ---------------------------------------------------------------- dirichlet
class Dirichlet:
    """SciPy's ``dirichlet``: ``alpha`` has shape ``(K,)``; ``x`` has the ``K`` categories on
    its FIRST axis (``(K,)`` or ``(K, N)``; ``K - 1`` rows complete the simplex), as SciPy's.

        logpdf(x) = gammaln(sum alpha) - sum gammaln(alpha) + sum (alpha - 1) log x
    """

    name = "dirichlet"

    @staticmethod
    def _alpha(alpha):
        alpha = as_float(alpha)
        if len(shape_of(alpha)) != 1:
            raise ValueError("dirichlet: parameter 'alpha' must be a one-dimensional vector")
        a = strip_derivatives(alpha)
        if not isinstance(a, Box) and np.any(a <= 0):
            raise ValueError("dirichlet: all parameters in 'alpha' must be greater than zero")
        return alpha

    def _x(self, x, alpha):
        x = as_float(x)
        k = shape_of(alpha)[0]
        sx = shape_of(x)
        if not sx or sx[0] not in (k, k - 1):
            raise ValueError(f"dirichlet: 'x' must have {k} or {k - 1} entries on its first axis "
                             f"(alpha has {k}), got shape {sx}")
        if sx[0] == k - 1:
            x = concatenate([x, expand_dims(1.0 - _sum(x, axis=0), 0)], axis=0)
        xc = strip_derivatives(x)
        if not isinstance(xc, Box):
            if np.any(xc < 0) or np.any(xc > 1):
                raise ValueError("dirichlet: each entry of 'x' must lie in [0, 1]")
            if np.any(np.abs(np.sum(xc, axis=0) - 1.0) > 1e-9):
                raise ValueError("dirichlet: the entries of 'x' must sum to 1 along its first axis")
        return x

    def logpdf(self, x, alpha):
        alpha = self._alpha(alpha)
        x = self._x(x, alpha)
        a = reshape(alpha, (shape_of(alpha)[0],) + (1,) * (len(shape_of(x)) - 1))
        out = (gammaln(_sum(alpha)) - _sum(gammaln(alpha))) + _sum(xlogy(a - 1.0, x), axis=0)
        return _scalar_out(out)

    def pdf(self, x, alpha):
        return _scalar_out(exp(self.logpdf(x, alpha)))

    def entropy(self, alpha):
        """log B(alpha) + (alpha_0 - K) psi(alpha_0) - sum (alpha_j - 1) psi(alpha_j)."""
        alpha = self._alpha(alpha)
        a0 = _sum(alpha)
        k = shape_of(alpha)[0]
        return _scalar_out(_sum(gammaln(alpha)) - gammaln(a0) + (a0 - k) * digamma(a0)
                           - _sum((alpha - 1.0) * digamma(alpha)))


dirichlet = Dirichlet()


# ---------------------------------------------------------------- multivariate normal
class MultivariateNormal:
    """SciPy's ``multivariate_normal``: ``x`` is ``(..., d)``, ``mean`` ``(d,)``, ``cov`` a
    ``(d, d)`` positive definite matrix, a vector (the diagonal) or a scalar (``cov * I``).

        logpdf(x) = -(d log 2 pi + log det C + (x - m)^T C^-1 (x - m)) / 2

    through the Cholesky factor ``C = L L^T`` (``log det C = 2 sum log diag L``). The output is
    squeezed as SciPy's (one point: a scalar). ``cov`` is used through its symmetric part
    ``(C + C^T) / 2``, so its gradient is a symmetric matrix.
    """

    name = "multivariate_normal"

    @staticmethod
    def _params(mean, cov, allow_singular):
        cov = as_float(cov)
        if mean is None:
            dim = 1 if len(shape_of(cov)) == 0 else shape_of(cov)[0]
            mean = np.zeros(dim)
        mean = as_float(mean)
        if len(shape_of(mean)) > 1:
            raise ValueError("multivariate_normal: 'mean' must be a vector")
        dim = shape_of(mean)[0] if shape_of(mean) else 1
        mean = reshape(mean, (dim,))
        eye = np.eye(dim)
        if len(shape_of(cov)) == 0:
            cov = cov * eye
        elif len(shape_of(cov)) == 1:
            cov = expand_dims(cov, 0) * eye  # the diagonal
        if shape_of(cov) != (dim, dim):
            raise ValueError(f"multivariate_normal: 'cov' must be ({dim}, {dim}), got {shape_of(cov)}")
        return mean, cov, dim

    @staticmethod
    def _logdet_and_factor(cov):
        # the symmetric part: a symmetric gradient (as autograd's and JAX's), where the Cholesky
        # factor alone reads one triangle and would send the whole gradient there
        chol = _la.cholesky(0.5 * (cov + swapaxes(cov, -1, -2)))
        diag = _sum(chol * np.eye(shape_of(cov)[0]), axis=-1)
        return 2.0 * _sum(log(diag)), chol

    @staticmethod
    def _points(x, dim):
        """``x`` as ``(..., dim)`` points, as SciPy reads it (a scalar is one point, a vector
        in one dimension is that many points)."""
        x = as_float(x)
        sx = shape_of(x)
        if len(sx) == 0:
            x = reshape(x, (1,))
        elif len(sx) == 1 and dim == 1:
            x = expand_dims(x, -1)  # n points in one dimension
        if shape_of(x)[-1] != dim:
            raise ValueError(f"multivariate_normal: 'x' must end with an axis of {dim}, got {sx}")
        return x

    @staticmethod
    def _range(cov):
        """SciPy's ``_PSD`` with ``allow_singular``: an orthonormal basis ``U`` of ``cov``'s range
        (eigenvalues above ``1e6 eps max|eigenvalue|``) and of its null space ``V``, from the
        concrete ``cov`` (a constant basis: ``cov``'s gradient is the derivative along changes
        that keep its range, the directions in which the density is differentiable)."""
        concrete = np.asarray(every_example(cov))  # under jit: this call runs eagerly
        if concrete.ndim != 2:
            raise NotImplementedError("multivariate_normal: allow_singular=True with a cov mapped "
                                      "by vmap (each example's range would differ)")
        s, u = np.linalg.eigh(0.5 * (concrete + concrete.T))
        eps = 1e6 * np.finfo(np.float64).eps * np.max(np.abs(s), initial=0.0)
        if np.min(s, initial=0.0) < -eps:
            raise ValueError("multivariate_normal: 'cov' must be positive semidefinite")
        return u[:, s > eps], u[:, s <= eps]

    def _reduced(self, cov, allow_singular):
        """``(cov, U, V)``: cov unchanged with ``U = V = None`` when it is positive definite (or
        singularity is not allowed), else cov in its range's coordinates ``U^T C U``."""
        if not allow_singular:
            return cov, None, None
        u, v = self._range(cov)
        if not shape_of(v)[1]:
            return cov, None, None
        return _la.matmul(_la.matmul(u.T, 0.5 * (cov + swapaxes(cov, -1, -2))), u), u, v

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """With ``allow_singular`` and a singular ``cov``, as SciPy's: the density on ``cov``'s
        range (pseudo-determinant and pseudo-inverse, rank ``r`` for ``d``), ``-inf`` off it (a
        residual of ``1e-5`` or more in the null space)."""
        mean, cov, dim = self._params(mean, cov, allow_singular)
        x = self._points(x, dim)
        cov, u, v = self._reduced(cov, allow_singular)
        diff = x - mean
        if u is not None:
            off = np.linalg.norm(strip_derivatives(diff) @ v, axis=-1) >= 1e-5
            diff, dim = _la.matmul(diff, u), shape_of(u)[1]
        logdet, chol = self._logdet_and_factor(cov)
        lead = shape_of(diff)[:-1]
        flat = reshape(diff, (-1, dim))
        w = _la.solve_triangular(chol, swapaxes(flat, 0, 1), lower=True)  # L^-1 (x - m), (d, n)
        maha = reshape(_sum(w * w, axis=0), lead)
        out = -0.5 * (dim * _LOG_2PI + logdet + maha)
        if u is not None and np.any(off):
            out = where(off, -_INF, out)
        return _scalar_out(squeeze(out) if len(shape_of(out)) else out)

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        return _scalar_out(exp(self.logpdf(x, mean, cov, allow_singular)))

    def cdf(self, x, mean=None, cov=1, allow_singular=False, maxpts=None, abseps=1e-5, releps=1e-5, *,
            lower_limit=None, rng=None):
        """``P(X <= x)``, the primitive ``mvn_cdf`` at ``x - mean`` (``rules/mvn_cdf.py`` has the
        algorithms, their accuracy and the derivatives). ``d = 1, 2, 3`` are computed to about
        ``1e-13`` whatever ``abseps``; ``d >= 4`` is SciPy's QMC with ``maxpts``, ``abseps``,
        ``releps`` and a fixed seed (``rng=0`` unless given): reproducible, within ``abseps``.
        ``cov``'s gradient is symmetric, as ``logpdf``'s: ``dPhi/dC = (1/2) d2Phi/dx dx^T``.
        ``lower_limit`` (broadcast with ``x``): ``P(lower < X <= x)`` by inclusion-exclusion over
        the box's corners (``mvn_box``), negative where SciPy's is."""
        mean, cov, dim = self._params(mean, cov, allow_singular)
        x = self._points(x, dim)
        if self._reduced(cov, allow_singular)[1] is not None:
            raise NotImplementedError("multivariate_normal.cdf: a singular 'cov' is not supported "
                                      "(allow_singular=True works for a positive definite one)")
        cov = 0.5 * (cov + swapaxes(cov, -1, -2))
        kw = {"maxpts": maxpts, "abseps": abseps, "releps": releps, "rng": rng}
        if lower_limit is None:
            out = mvn_cdf(x - mean, cov, **kw)
        else:
            lower = as_float(lower_limit)
            if shape_of(lower) and shape_of(lower)[-1] not in (1, dim):
                raise ValueError(f"multivariate_normal: 'lower_limit' must broadcast with points of "
                                 f"{dim} entries, got shape {shape_of(lower)}")
            out = mvn_box(x - mean, lower - mean, cov, **kw)
        return _scalar_out(squeeze(out) if len(shape_of(out)) else out)

    def logcdf(self, x, mean=None, cov=1, allow_singular=False, maxpts=None, abseps=1e-5, releps=1e-5, *,
               lower_limit=None, rng=None):
        """``log cdf``; in one dimension ``log_ndtr((x - mean) / sqrt(C))``. In two and three
        the log of ``mvn_cdf``, which keeps relative accuracy in the joint tail (finite where
        SciPy's underflows to ``-inf``) until the CDF itself underflows (below ~1e-308); in four
        and more its error is QMC's absolute ``abseps``."""
        mean, cov, dim = self._params(mean, cov, allow_singular)
        if dim == 1 and lower_limit is None:
            x = self._points(x, dim)
            cc = strip_derivatives(cov)
            if not isinstance(cc, Box) and np.any(cc <= 0):
                raise ValueError("multivariate_normal.logcdf: 'cov' must be positive definite")
            out = log_ndtr((x[..., 0] - mean[0]) / cov[0, 0] ** 0.5)
            return _scalar_out(squeeze(out) if len(shape_of(out)) else out)
        out = self.cdf(x, mean, cov, allow_singular, maxpts, abseps, releps, lower_limit=lower_limit, rng=rng)
        oc = strip_derivatives(out)
        if lower_limit is not None and not isinstance(oc, Box) and np.any(oc < 0):
            out = out + 0j  # SciPy's: a box with lower > upper has a negative mass, a complex log
        return _scalar_out(log(out))

    def entropy(self, mean=None, cov=1, allow_singular=False):
        """(d (1 + log 2 pi) + log det C) / 2; with ``allow_singular``, the rank and the
        pseudo-determinant of a singular ``cov`` (SciPy's)."""
        _, cov, dim = self._params(mean, cov, allow_singular)
        cov, u, _ = self._reduced(cov, allow_singular)
        if u is not None:
            dim = shape_of(u)[1]
        logdet, _ = self._logdet_and_factor(cov)
        return _scalar_out(0.5 * (dim * (1.0 + _LOG_2PI) + logdet))


multivariate_normal = MultivariateNormal()

__all__: list[str] = []
