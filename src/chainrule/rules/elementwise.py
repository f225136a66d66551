"""Elementwise primitives (NumPy ufuncs), one line each: the op and its partial derivatives.

Each derivative ``d(ans, x, ...)`` is written with chainrule's own ops, so it is
itself differentiable (higher orders for free) and serves both modes.
Broadcasting is undone in the VJP by summing (``unbroadcast``).
"""

from __future__ import annotations

import math
import operator

import numpy as np

from ..core.aval import dtype_of, shape_of
from ..core.primitive import Box, Primitive
from ._util import constant_op, elementwise
from .constants import nonzero
from .dispatch import implements
from .linear import fill, lift, unbroadcast

LN2 = math.log(2.0)
LN10 = math.log(10.0)
# ``saves=``: the values the rules read (Primitive.saves); a lean tape keeps only these
ANS = "ans"
A, X, XY = (ANS,), (0,), (0, 1)


def _scalar_fast(ufunc, op):
    """``ufunc(x, y)``, computed with NumPy's scalar arithmetic when both are float scalars.

    A ufunc call on two Python floats costs about 1.5 us; ``np.float64(x) op y`` gives the
    same float64 result, type and floating-point error handling (inf, not ZeroDivisionError)
    in a tenth of that. This is what keeps per-operation overhead low on scalar programs.
    """
    def impl(x, y):
        tx = type(x)
        ty = type(y)
        if tx is _f64 and ty in _SCALARS:  # a float64 scalar already: NumPy's own arithmetic
            return op(x, y)
        if tx in _SCALARS and ty in _SCALARS and (tx is not int or ty is not int):
            return op(_f64(x), y)
        return ufunc(x, y)
    impl.__name__ = ufunc.__name__
    return impl


_f64 = np.float64
_SCALARS = frozenset({float, int, np.float64})  # int + int stays on the ufunc (an int64 result)

# --- linear arithmetic: written out, so the common case multiplies by nothing ---
add = Primitive("add", _scalar_fast(np.add, operator.add), doc="x + y", saves=())
add.defvjp(lambda g, ans, x, y: unbroadcast(g, x, ans),
           lambda g, ans, x, y: unbroadcast(g, y, ans))
add.defjvp(lambda t, ans, x, y: fill(lift(t, x, ans), t, x, ans),
           lambda t, ans, x, y: fill(lift(t, y, ans), t, y, ans))
implements(np.add)(add)

subtract = Primitive("subtract", _scalar_fast(np.subtract, operator.sub), doc="x - y", saves=())
subtract.defvjp(lambda g, ans, x, y: unbroadcast(g, x, ans),
                lambda g, ans, x, y: -unbroadcast(g, y, ans))  # negate after summing: smaller
subtract.defjvp(lambda t, ans, x, y: fill(lift(t, x, ans), t, x, ans),
                lambda t, ans, x, y: fill(-lift(t, y, ans), t, y, ans))
implements(np.subtract)(subtract)

negative = Primitive("negative", np.negative, doc="-x", saves=())
negative.defvjp(lambda g, ans, x: -g)
negative.defjvp(lambda t, ans, x: -t)
implements(np.negative)(negative)

positive = Primitive("positive", np.positive, doc="+x", saves=())
positive.defvjp(lambda g, ans, x: g)
positive.defjvp(lambda t, ans, x: t)
implements(np.positive)(positive)

# x * y is the most common operation of scalar programs: written out like add (its partials are
# its arguments, no arithmetic on them, so there is nothing for _numpy_scalars to cast)
multiply = Primitive("multiply", _scalar_fast(np.multiply, operator.mul), doc="x * y", saves=XY)
multiply.defvjp(lambda g, ans, x, y: g * y if shape_of(x) == shape_of(ans) else unbroadcast(g * y, x, ans),
                lambda g, ans, x, y: g * x if shape_of(y) == shape_of(ans) else unbroadcast(g * x, y, ans))
multiply.defjvp(
    lambda t, ans, x, y: t * y if shape_of(x) == shape_of(ans) else fill(lift(t, x, ans) * y, t, x, ans),
    lambda t, ans, x, y: t * x if shape_of(y) == shape_of(ans) else fill(lift(t, y, ans) * x, t, y, ans))
implements(np.multiply)(multiply)

#                    name           numpy          d/dx (ans, x, [y])                d/dy
divide = elementwise("divide", np.divide, lambda a, x, y: 1.0 / y, lambda a, x, y: -a / y,
                     doc="x / y", impl=_scalar_fast(np.divide, operator.truediv), saves=(1, ANS))
true_divide = divide


def _power_dx(a, x, y):
    """d/dx x**y = y x**(y-1), and exactly 0 where y == 0: x**0 is 1 for every x, x = 0
    included, where the product form is 0 * inf = nan. The inner ``where`` keeps that nan
    out of higher derivatives too (their cotangent through the unused branch is 0 * inf)."""
    if not isinstance(y, Box) and np.all(y != 0):
        return y * x ** (y - 1)
    zero = y == 0
    return where(zero, 0.0, y * where(zero, 1.0, x) ** (y - 1))


power_p = elementwise("power", np.power, _power_dx,
                      lambda a, x, y: a * log(where(x == 0, 1.0, x)),
                      doc="x ** y; d/dx = y x**(y-1) (0 where y == 0); d/dy = x**y log x (0 where x == 0)",
                      saves=(0, 1, ANS))


def _share(a, wins, ties):
    """The indicator ``wins + ties / 2`` in ``a``'s dtype: bool + 0.5 * bool would be float64,
    and a float32 max would get a float64 derivative."""
    dt = dtype_of(a)
    return wins + (dt.type(0.5) if dt.kind in "fc" else 0.5) * ties


def _nan_aware(wins, ties):
    """fmax/fmin's selection: NaN loses to a number, two NaNs tie (``wins(x, y)`` for a number)."""
    def d(a, x, y):
        nx, ny = isnan(x), isnan(y)
        return _share(a, logical_or(wins(x, y), logical_and(ny, logical_not(nx))),
                      logical_or(ties(x, y), logical_and(nx, ny)))
    return d


_fmax_d = _nan_aware(operator.gt, operator.eq)  # d fmax(x, y)/dx; d/dy swaps x and y
_fmin_d = _nan_aware(operator.lt, operator.eq)


maximum = elementwise("maximum", np.maximum,
                      lambda a, x, y: _share(a, x > y, x == y),
                      lambda a, x, y: _share(a, y > x, x == y),
                      doc="elementwise max; a tie sends half the gradient to each side, a NaN none",
                      saves=XY)
minimum = elementwise("minimum", np.minimum,
                      lambda a, x, y: _share(a, x < y, x == y),
                      lambda a, x, y: _share(a, y < x, x == y),
                      doc="elementwise min; a tie sends half the gradient to each side, a NaN none",
                      saves=XY)
# fmax/fmin ignore a NaN: fmax(x, nan) = x, so the whole gradient goes to x (as in JAX and
# PyTorch); two NaNs give NaN and share it like a tie
fmax = elementwise("fmax", np.fmax, lambda a, x, y: _fmax_d(a, x, y), lambda a, x, y: _fmax_d(a, y, x),
                   doc="elementwise max ignoring NaN; the gradient goes to the number", saves=XY)
fmin = elementwise("fmin", np.fmin, lambda a, x, y: _fmin_d(a, x, y), lambda a, x, y: _fmin_d(a, y, x),
                   doc="elementwise min ignoring NaN; the gradient goes to the number", saves=XY)
# x / r / r with r = hypot(y, x), not x / (x^2 + y^2): the squares underflow (d/dx atan2(0, 1e-300) was
# 0/0 = nan, not 0) and overflow (atan2(1e300, 1e300)'s partials were 0, not 5e-301)
arctan2 = elementwise("arctan2", np.arctan2, lambda a, y, x: (x / hypot(y, x)) / hypot(y, x),
                      lambda a, y, x: -(y / hypot(y, x)) / hypot(y, x), doc="atan2(y, x)", saves=XY)
# at hypot(0, 0) = 0 both partials are 0 (norm's convention: the smallest subgradient); x and y
# are 0 there, so dividing by 1 instead of a gives exactly that
hypot = elementwise("hypot", np.hypot, lambda a, x, y: x / where(a == 0, 1.0, a),
                    lambda a, x, y: y / where(a == 0, 1.0, a), saves=(0, 1, ANS))
def _expit(z):
    """1 / (1 + exp(-z)) without overflow or a 1 - 1 cancellation in either tail: exp of a
    non-positive number on each side, each side reading z clamped to it (the branch not taken
    stays finite, so higher derivatives get an exact 0 from it, and expit'(0) = 1/4 from the
    z >= 0 side). ``special.expit`` is the SciPy primitive; this module cannot import it."""
    pos = z >= 0
    ep = exp(-where(pos, z, 0.0))
    en = exp(where(pos, 0.0, z))
    return where(pos, 1.0 / (1.0 + ep), en / (1.0 + en))


# d/dx = e^x / (e^x + e^y) = expit(x - y), not exp(x - logaddexp(x, y)): beyond |x| ~ 1e16 the log 2 in
# logaddexp(x, x) = x + log 2 is rounded away, and exp(x - a) gave 1 for each partial (sum 2, not 1);
# the second derivative expit'(x - y) also has no 1 - a cancellation (3e-7 relative error at (10, -10))
logaddexp = elementwise("logaddexp", np.logaddexp, lambda a, x, y: _expit(x - y),
                        lambda a, x, y: _expit(y - x), doc="log(exp(x) + exp(y)), stably", saves=XY)
logaddexp2 = elementwise("logaddexp2", np.logaddexp2, lambda a, x, y: _expit((x - y) * LN2),
                         lambda a, x, y: _expit((y - x) * LN2), saves=XY)
mod = elementwise("mod", np.mod, lambda a, x, y: 1.0, lambda a, x, y: -floor(x / y),
                  doc="x mod y (Python's sign convention)", saves=XY)
remainder = mod
fmod = elementwise("fmod", np.fmod, lambda a, x, y: 1.0, lambda a, x, y: -trunc(x / y), saves=XY)
# copysign(x, y) = |x| sign(y): piecewise constant in y, so d/dy is 0 (as for sign), not an error
copysign = elementwise("copysign", np.copysign, lambda a, x, y: sign(x) * sign(a),
                       lambda a, x, y: 0.0, saves=(0, ANS))


# --- x ** n for a constant integer n (JAX's integer_pow): n is a static parameter, not an
# input, so the rules never build x ** (n - 1) for n = 2 and never take log x.
def _integer_pow_impl(x, n):
    """``x ** n``; a float array with 2 < n <= 16 by repeated squaring, as XLA does: a few
    products instead of a pow() call per element (n = 3 on 10^5 floats: 42 us against 260 us)."""
    if n == 2:
        return np.square(x)
    if type(x) is not np.ndarray or x.dtype.kind != "f" or not 2 < n <= 16:
        return np.power(x, n)
    result = None
    while True:
        if n & 1:
            result = x if result is None else result * x
        n >>= 1
        if not n:
            return result
        x = x * x


def _power_below(x, n):
    """``x ** (n - 1)``, written out for n = 2 and 3 (no power call)."""
    return x if n == 2 else square(x) if n == 3 else integer_pow(x, n=n - 1)


def _integer_pow_d(x, n):
    """d/dx x**n = n x**(n-1)."""
    return 0.0 if n == 0 else float(n) * _power_below(x, n)


def _integer_pow_vjp(g, ans, x, n):
    if n == 1:
        return g
    if n == 0 or isinstance(g, Box):  # a traced cotangent: the factor n goes on x, the smaller
        return g * _integer_pow_d(x, n)
    # a plain cotangent (the seed of a gradient that is itself being differentiated): scaling it
    # by n costs no recorded operation, and n = 2 needs only g * x
    return (g * float(n)) * _power_below(x, n)


integer_pow = Primitive("integer_pow", _integer_pow_impl, doc="x ** n, n a constant integer",
                        saves=(0,))
integer_pow.defvjp(_integer_pow_vjp)
integer_pow.defjvp(lambda t, ans, x, n: t if n == 1 else t * _integer_pow_d(x, n))


@implements(np.power)
def power(x, y):
    """``x ** y``. A constant integer ``y`` (``x ** 2``) binds :data:`integer_pow`, whose
    derivative ``n x**(n-1)`` is plain arithmetic; any other exponent binds the general
    ``power`` primitive (``d/dy = x**y log x``)."""
    if (type(y) is int or isinstance(y, np.integer)) and isinstance(x, Box):
        # a negative exponent keeps NumPy's rule (an error for an integer base)
        if y >= 0 or dtype_of(x).kind == "f":
            return integer_pow(x, n=int(y))
    return power_p(x, y)


# --- unary ---
def _one_minus_square(a):
    """``1 - a**2`` (tanh's derivative from its output), in one buffer for a plain array.

    The VJP ``g * (1 - a**2)`` then allocates nothing more: NumPy multiplies into that
    unnamed temporary. On a deep tanh network this is one activation-sized array less at the
    peak of the backward pass, and fewer fresh pages for the kernel to hand out.
    """
    if type(a) is np.ndarray:
        out = np.multiply(a, a)
        return np.subtract(1.0, out, out=out)
    return 1.0 - a * a


exp = elementwise("exp", np.exp, lambda a, x: a, saves=A)
exp2 = elementwise("exp2", np.exp2, lambda a, x: a * LN2, saves=A)
# exp(x), not expm1(x) + 1: that sum is 1 - 1 = 0 below x = -37 (and loses 2^x ulps before)
expm1 = elementwise("expm1", np.expm1, lambda a, x: exp(x), saves=X)
log = elementwise("log", np.log, lambda a, x: 1.0 / x, saves=X)
log2 = elementwise("log2", np.log2, lambda a, x: 1.0 / (x * LN2), saves=X)
log10 = elementwise("log10", np.log10, lambda a, x: 1.0 / (x * LN10), saves=X)
log1p = elementwise("log1p", np.log1p, lambda a, x: 1.0 / (1.0 + x), saves=X)
sqrt = elementwise("sqrt", np.sqrt, lambda a, x: 0.5 / a, saves=A)
cbrt = elementwise("cbrt", np.cbrt, lambda a, x: 1.0 / (3.0 * a * a), saves=A)
square = elementwise("square", np.square, lambda a, x: 2.0 * x, saves=X)
reciprocal = elementwise("reciprocal", np.reciprocal, lambda a, x: -a * a, saves=A)
sin = elementwise("sin", np.sin, lambda a, x: cos(x), saves=X)
cos = elementwise("cos", np.cos, lambda a, x: -sin(x), saves=X)
tan = elementwise("tan", np.tan, lambda a, x: 1.0 + a * a, saves=A)
arcsin = elementwise("arcsin", np.arcsin, lambda a, x: 1.0 / sqrt(1.0 - x * x), saves=X)
arccos = elementwise("arccos", np.arccos, lambda a, x: -1.0 / sqrt(1.0 - x * x), saves=X)
arctan = elementwise("arctan", np.arctan, lambda a, x: 1.0 / (1.0 + x * x), saves=X)
sinh = elementwise("sinh", np.sinh, lambda a, x: cosh(x), saves=X)
cosh = elementwise("cosh", np.cosh, lambda a, x: sinh(x), saves=X)
tanh = elementwise("tanh", np.tanh, lambda a, x: _one_minus_square(a), saves=A)
# hypot(x, 1), not sqrt(x*x + 1): x*x overflows beyond 1e154 (arcsinh'(1e300) was 0, not 1e-300)
arcsinh = elementwise("arcsinh", np.arcsinh, lambda a, x: 1.0 / hypot(x, 1.0)
                      if dtype_of(x).kind != "c" else 1.0 / sqrt(x * x + 1.0), saves=X)
# (1/sqrt(x - 1)) / sqrt(x + 1), not 1/sqrt(x^2 - 1): x^2 overflows beyond 1e154 (arccosh'(1e300)
# was 0), and for x < -1, where arccosh is nan, the square root of x^2 - 1 gave a finite
# derivative; on complex z it is the branch that follows numpy's arccosh everywhere (1/sqrt(z^2 - 1)
# is the other branch on part of the plane, Re z < 0). A quotient, not 1/(sqrt sqrt): the
# product's reverse derivative at x = 1 is -inf * 0 = nan (arccosh''(1) is -inf, as jvp gives)
arccosh = elementwise("arccosh", np.arccosh, lambda a, x: (1.0 / sqrt(x - 1.0)) / sqrt(x + 1.0), saves=X)
arctanh = elementwise("arctanh", np.arctanh, lambda a, x: 1.0 / (1.0 - x * x), saves=X)
def _abs_scale(x):
    """``conj(z) / |z|`` (``1/|z|`` replaced by 1 at ``z == 0``, where the derivative is taken as
    0, as JAX does); ``sign(x)`` for a real ``x``."""
    if dtype_of(x).kind != "c":
        return sign(x)
    r = absolute(x)
    return conj(x) / where(r == 0, 1.0, r)


# |z| is not holomorphic: d|z| = Re(conj(z) dz) / |z|, whose transpose under the pairing
# Re(sum a*b) is g -> g conj(z) / |z| (JAX's grad(abs)(3+4j) == 0.6-0.8j)
absolute = Primitive("absolute", np.absolute, saves=X,
                     doc="|x|; d|z| = Re(conj(z) dz)/|z|; the derivative at 0 is taken as 0 (sign(0))")
absolute.defvjp(lambda g, ans, x: g * _abs_scale(x))
absolute.defjvp(lambda t, ans, x: t * _abs_scale(x) if dtype_of(x).kind != "c"
                else real(t * _abs_scale(x)))
implements(np.absolute)(absolute)
abs = absolute  # noqa: A001 - mirrors numpy.abs
fabs = elementwise("fabs", np.fabs, lambda a, x: sign(x), saves=X)
deg2rad = elementwise("deg2rad", np.deg2rad, lambda a, x: math.pi / 180.0, saves=())
rad2deg = elementwise("rad2deg", np.rad2deg, lambda a, x: 180.0 / math.pi, saves=())
radians, degrees = deg2rad, rad2deg

# --- piecewise constant or boolean: no derivative flows through them ---
sign = constant_op("sign", np.sign)
floor = constant_op("floor", np.floor)
ceil = constant_op("ceil", np.ceil)
trunc = constant_op("trunc", np.trunc)
rint = constant_op("rint", np.rint)
floor_divide = constant_op("floor_divide", np.floor_divide)
less = constant_op("less", np.less)
less_equal = constant_op("less_equal", np.less_equal)
greater = constant_op("greater", np.greater)
greater_equal = constant_op("greater_equal", np.greater_equal)
equal = constant_op("equal", np.equal)
not_equal = constant_op("not_equal", np.not_equal)
logical_and = constant_op("logical_and", np.logical_and)
logical_or = constant_op("logical_or", np.logical_or)
logical_not = constant_op("logical_not", np.logical_not)
logical_xor = constant_op("logical_xor", np.logical_xor)
bitwise_and = constant_op("bitwise_and", np.bitwise_and)  # `&`, `|`, `^`, `~` on masks and ints
bitwise_or = constant_op("bitwise_or", np.bitwise_or)
bitwise_xor = constant_op("bitwise_xor", np.bitwise_xor)
invert = constant_op("invert", np.invert)
isnan = constant_op("isnan", np.isnan)
isinf = constant_op("isinf", np.isinf)
isfinite = constant_op("isfinite", np.isfinite)
signbit = constant_op("signbit", np.signbit)
round = constant_op("round", np.round)  # noqa: A001 - mirrors numpy.round
around = round
implements(np.around)(round)

# --- complex parts: R-linear, so each JVP is the op itself and each VJP its transpose under
# the pairing <a, b> = Re(sum a*b) (JAX's convention: the VJP of z -> c z is g -> g c, no
# conjugate). On a real value real and conj are the identity and imag a zero constant.
def _is_c(x) -> bool:
    return dtype_of(x).kind == "c"


real_p = Primitive("real", np.real, doc="Re z; VJP g -> g", saves=())
real_p.defvjp(lambda g, ans, x: g)
real_p.defjvp(lambda t, ans, x: real(t))
imag_p = Primitive("imag", np.imag, doc="Im z; VJP g -> -i g (Im(t) = Re(-i t))", saves=())
imag_p.defvjp(lambda g, ans, x: g * -1j)
imag_p.defjvp(lambda t, ans, x: imag(t))
conj_p = Primitive("conjugate", np.conjugate, doc="conj z; VJP g -> conj g", saves=())
conj_p.defvjp(lambda g, ans, x: conj(g))
conj_p.defjvp(lambda t, ans, x: conj(t))


@implements(np.real)
def real(val):
    """Real part; the identity on real values."""
    if not isinstance(val, Box):
        return np.real(val)
    return real_p(val) if _is_c(val) else val


@implements(np.imag)
def imag(val):
    """Imaginary part; zeros (a constant) for real values."""
    if not isinstance(val, Box):
        return np.imag(val)
    return imag_p(val) if _is_c(val) else np.zeros(shape_of(val), dtype_of(val))


@implements(np.conjugate)
def conj(x):
    """Complex conjugate; the identity on real values."""
    if not isinstance(x, Box):
        return np.conjugate(x)
    return conj_p(x) if _is_c(x) else x


conjugate = conj
_angle_real = Primitive("angle", np.angle, differentiable=False, doc="angle of a real value: 0 or pi")


@implements(np.angle)
def angle(z, deg=False):
    """``arctan2(Im z, Re z)`` (in degrees with ``deg``); piecewise constant on real values."""
    if not isinstance(z, Box):
        return np.angle(z, deg=deg)
    if not _is_c(z):
        return _angle_real(z, deg=deg)
    a = arctan2(imag_p(z), real_p(z))
    return a * (180.0 / math.pi) if deg else a


# --- selection ---
where = Primitive("where", np.where, doc="where(cond, x, y); cond is a constant", saves=(0,))
where.defvjp(None,
             lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), x, ans),
             lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), y, ans))
where.defjvp(None,
             lambda t, ans, c, x, y: fill(where(c, lift(t, x, ans), 0.0), t, x, ans),
             lambda t, ans, c, x, y: fill(where(c, 0.0, lift(t, y, ans)), t, y, ans))


@implements(np.where)
def _where_dispatch(condition, *xy):
    """``np.where(c, x, y)`` is the primitive; ``np.where(c)`` alone is ``np.nonzero(c)``
    (indices: a constant)."""
    return where(condition, *xy) if xy else nonzero(condition)


@implements(np.clip)
def clip(x, a_min=None, a_max=None, **kwargs):
    """clip(x, lo, hi): the gradient passes where lo <= x <= hi (and to a traced bound beyond it)."""
    lo = kwargs.pop("min", a_min)
    hi = kwargs.pop("max", a_max)
    if kwargs:
        raise TypeError(f"clip() got unsupported arguments {sorted(kwargs)}")
    if lo is not None:
        x = where(x < lo, lo, x)
    if hi is not None:
        x = where(x > hi, hi, x)
    return x


__all__ = [n for n, v in list(globals().items())
           if isinstance(v, Primitive) or n in ("clip", "power", "true_divide", "remainder", "abs",
                                                 "around", "radians", "degrees", "real", "imag",
                                                 "conj", "conjugate", "angle")]
