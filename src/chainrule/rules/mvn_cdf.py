"""The multivariate normal CDF ``Phi_d(b; S) = P(X <= b)``, ``X ~ N(0, S)``, as one primitive
whose derivatives call the same primitive in dimensions ``d - 1`` and ``d - 2``.

``mvn_cdf_p(b, cov)``: ``b`` is ``(..., d)``, ``cov`` ``(..., d, d)`` (stacks broadcast, as
NumPy's stacked linear algebra); the result has the broadcast leading shape. ``cov`` is read
through its symmetric part ``(S + S^T) / 2``. Values:

* ``d = 1``: ``ndtr(b / sqrt(S))``, to machine precision;
* ``d = 2``: Genz's ``bvnu`` (Drezner & Wesolowsky 1990 as revised by Genz 2004: Gauss-Legendre
  in ``asin(r)``, and an expansion about ``|r| = 1`` for ``|r| >= 0.925``), absolute error
  below ``2e-13`` (tested against SciPy's port of the same algorithm and two quadratures);
* ``d = 3``: one conditioning step, ``Phi_3(z; R) = int_{-inf}^{z_i} phi(t) Phi_2(conditional) dt``
  on the variable whose correlations are smallest, by composite Gauss-Legendre (18 panels of 20
  nodes over ``[min(z_i, 9) - 18, min(z_i, 9)]``); absolute error below ``1e-12`` for
  correlations up to 0.98 in magnitude (tested against adaptive quadrature of SciPy's own
  bivariate CDF); deterministic and smooth in ``b`` and ``S``;
* ``d >= 4``: SciPy's randomized quasi-Monte Carlo (Genz's lattice rule) with a FIXED seed
  (``rng=0`` unless one is given; a seed restarts at every point, so a point's value does not
  depend on its batch), so a value is reproducible, but it carries SciPy's error
  (``abseps``, default ``1e-5``) and is only piecewise smooth in the arguments.

Tails: ``bvnu``'s small values come from a difference of small terms (absolute error ~1e-16,
so ``Phi_2(-6, -6; -0.8)``, about 1e-82, has no correct digit in SciPy's, which is the same
algorithm). Below ``1e-9`` ``d = 2`` switches to a tail integral with relative accuracy
(``_log_phi2_tail``: ~1e-13, ~1e-5 at worst where ``r > 0.9`` and the limits are close deep in
the tail), and ``d = 3``, a positive-integrand quadrature of those values, keeps ~1e-12
relative for limits down to about -10 standard deviations (both tested against adaptive
quadrature). So ``logcdf`` is accurate far into the joint tail for ``d <= 3``, where SciPy's
is ``-inf``; ``d >= 4`` carries QMC's absolute ``abseps``.

Derivatives (``phi`` the normal density; ``-i`` all indices but ``i``; ``A = {i, j}``):

    dPhi/db_i = phi(b_i; S_ii) Phi_{d-1}(b_-i - S_-i,i b_i / S_ii;  S_-i,-i - S_-i,i S_i,-i / S_ii)
    d2Phi/db_i db_j = phi_2(b_A; S_AA) Phi_{d-2}(b_-A - K b_A;  S_-A,-A - K S_A,-A),  K = S_-A,A S_AA^-1
    d2Phi/db_i^2 = -(b_i dPhi/db_i + sum_{k != i} S_ik d2Phi/db_i db_k) / S_ii

(the last from differentiating ``phi(b_i; S_ii)`` and the conditional mean in ``b_i``), and,
by Plackett's identity (the heat equation of the Gaussian density, integrated over the orthant),

    dPhi/dS = (1/2) d2Phi/db db^T       (every entry, S read through its symmetric part)

so a perturbation ``E`` of ``cov`` changes ``Phi`` by ``sum(E * H) / 2``: the gradient is the
symmetric matrix ``H / 2``, the convention of ``multivariate_normal.logpdf``'s. ``Phi_0 = 1``.
Where ``b_i`` is infinite the terms with ``phi(b_i)`` are 0 (computed at a finite stand-in and
replaced, so no ``0 * inf`` reaches any order). The rules are written with chainrule's ops, so
every order composes; a ``d = 3`` value's derivatives are then closed forms times ``Phi_2`` and
``Phi_1``, and a ``d = 4`` value's derivatives are accurate although the value itself is QMC.
``mvn_box`` (a composite) is the probability of a box, ``lower_limit``'s.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import scipy.special as _sc

from ..core.aval import shape_of as shape
from ..core.primitive import Primitive
from . import reductions as _red
from .elementwise import exp, isfinite, sqrt, where
from .linalg import _reshape, _sum_to, matmul
from .linear import broadcast_to, getitem
from .shape import expand_dims, stack, swapaxes

__all__ = ["mvn_cdf_p", "mvn_cdf", "mvn_box"]

_TWO_PI = 2.0 * math.pi
_LOG_2PI = math.log(_TWO_PI)


# ------------------------------------------------------------------ values (NumPy only)
_GL = {n: np.polynomial.legendre.leggauss(n) for n in (6, 12, 20)}  # nodes in (-1, 1), weights


def _bvnu(h, k, r):
    """``P(X > h, Y > k)`` for standard normals with correlation ``r`` (arrays that
    broadcast): Genz's ``bvnu``. Infinite limits are handled by the callers' cases."""
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    out = np.empty(h.shape)
    ar = np.abs(r)
    hk = h * k
    low = ar < 0.925
    for lo, hi, n in ((0.0, 0.3, 6), (0.3, 0.75, 12), (0.75, 0.925, 20)):
        m = low & (ar >= lo) & (ar < hi)
        if not m.any():
            continue
        x, w = _GL[n]
        hm, km, hkm = h[m][:, None], k[m][:, None], hk[m][:, None]
        asr = np.arcsin(r[m])[:, None] / 2.0
        sn = np.sin(asr * (1.0 + x))  # nodes of int_0^asin(r) over (0, 2) in asr units
        hs = (hm * hm + km * km) / 2.0
        val = np.sum(w * np.exp((sn * hkm - hs) / (1.0 - sn * sn)), axis=-1) * asr[:, 0] / _TWO_PI
        out[m] = val + _sc.ndtr(-h[m]) * _sc.ndtr(-k[m])
    m = ~low
    if m.any():
        out[m] = _bvnu_high(h[m], k[m], r[m])
    return np.clip(out, 0.0, 1.0)


def _bvnu_high(h, k, r):
    """``bvnu`` for ``|r| >= 0.925``: Drezner & Wesolowsky's expansion about ``|r| = 1``."""
    x, w = _GL[20]
    k = np.where(r < 0, -k, k)
    hk = h * k
    bvn = np.zeros(h.shape)
    near = np.abs(r) < 1
    if near.any():
        hh, kk, hkk = h[near], k[near], hk[near]
        as_ = 1.0 - r[near] ** 2
        a = np.sqrt(as_)
        bs = (hh - kk) ** 2
        c = (4.0 - hkk) / 8.0
        d = (12.0 - hkk) / 80.0
        asr = -(bs / as_ + hkk) / 2.0
        series = 1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5
        v = np.where(asr > -100, a * np.exp(asr) * series, 0.0)
        b = np.sqrt(bs)
        sp = math.sqrt(_TWO_PI) * _sc.ndtr(-b / a)
        v = np.where(hkk > -100, v - np.exp(-hkk / 2) * sp * b * (1 - c * bs * (1 - d * bs / 5) / 3), v)
        a2 = a / 2.0
        xs = (a2[:, None] * (1.0 + x)) ** 2  # (m, 20)
        asr2 = -(bs[:, None] / xs + hkk[:, None]) / 2.0
        ok = asr2 > -100
        sp2 = 1.0 + c[:, None] * xs * (1.0 + d[:, None] * xs)
        rs = np.sqrt(1.0 - xs)
        ep = np.exp(-(hkk[:, None] / 2.0) * xs / (1.0 + rs) ** 2) / rs
        terms = np.where(ok, np.exp(np.where(ok, asr2, 0.0)) * (sp2 - ep), 0.0)
        bvn[near] = (a2 * np.sum(terms * w, axis=-1) - v) / _TWO_PI
    pos = r > 0
    out = np.where(pos, bvn + _sc.ndtr(-np.maximum(h, k)), 0.0)
    neg_l = np.where(h < 0, _sc.ndtr(k) - _sc.ndtr(h), _sc.ndtr(-h) - _sc.ndtr(-k))
    return np.where(pos, out, np.where(h >= k, -bvn, neg_l - bvn))


_LAGUERRE = np.polynomial.laguerre.laggauss(64)
_TAIL = 1e-9


def _log_phi2_tail(h, k, r):
    """``log Phi_2(h, k; r)`` with RELATIVE accuracy where it is tiny, for ``bvnu``'s tails (a
    difference of small terms there, no correct digit below about 1e-16). With ``h <= k`` and
    ``t = h - tau``,

        Phi_2 = int_0^inf phi(h - tau) ndtr((k - r h + r tau) / s) dtau,   s = sqrt(1 - r^2),

    a positive integrand decaying like ``exp(-lam tau)`` (``lam`` its log-slope at 0): Gauss-
    Laguerre in ``lam tau``, summed in log space. About 1e-13 relative, down to ~1e-5 where
    ``r > 0.9`` and ``h`` is close to ``k`` deep in the tail (tested against adaptive quadrature)."""
    h, k = np.minimum(h, k), np.maximum(h, k)
    s = np.sqrt(1.0 - r * r)
    c0 = (k - r * h) / s
    mills = np.exp(-0.5 * c0 * c0 - 0.5 * _LOG_2PI - _sc.log_ndtr(c0))  # phi(c0) / ndtr(c0)
    lam = np.maximum(-h - (r / s) * mills, 1.0)[..., None]
    u, w = _LAGUERRE
    tau = u / lam
    arg = c0[..., None] + (r / s)[..., None] * tau
    logf = -0.5 * _LOG_2PI - 0.5 * (h[..., None] - tau) ** 2 + _sc.log_ndtr(arg)
    return _sc.logsumexp(np.log(w) + u + logf, axis=-1) - np.log(lam[..., 0])


def _phi2(z1, z2, r):
    """``Phi_2(z1, z2; r)``, standardized, with infinite limits: ``bvnu``, and where that is
    below ``1e-9`` the tail integral (relative accuracy; the two agree to ~1e-16 there)."""
    z1, z2, r = np.broadcast_arrays(z1, z2, r)
    out = np.empty(z1.shape)
    finite = np.isfinite(z1) & np.isfinite(z2)
    val = _bvnu(-z1[finite], -z2[finite], r[finite])
    tail = val < _TAIL
    if tail.any():
        val[tail] = np.exp(_log_phi2_tail(z1[finite][tail], z2[finite][tail], r[finite][tail]))
    out[finite] = val
    m = ~finite
    if m.any():  # a limit at +inf drops its variable, one at -inf makes the probability 0
        a, b = z1[m], z2[m]
        out[m] = np.where((a == -np.inf) | (b == -np.inf), 0.0,
                          np.where(a == np.inf, _sc.ndtr(b), _sc.ndtr(a)))
    return out


_PANELS, _NODES, _SPAN, _TOP = 18, 20, 18.0, 9.0


def _phi3(z, r):
    """``Phi_3(z; R)`` for correlations ``R`` (``z``: ``(n, 3)``, ``r``: ``(n, 3, 3)``):
    condition on the variable whose largest correlation is smallest (the smoothest integrand),
    and integrate ``phi(t) Phi_2(conditional)`` over ``t`` by composite Gauss-Legendre; below
    ``min(z_i, 9) - 18`` the integrand is under ``phi(9)``, about ``1e-18``."""
    off = np.abs(r) - 3.0 * np.eye(3)
    i = np.argmin(np.max(off, axis=-1), axis=-1)  # (n,)
    rest = np.array([[1, 2], [0, 2], [0, 1]])[i]  # (n, 2)
    n = np.arange(z.shape[0])
    zi = z[n, i]
    zr = z[n[:, None], rest]  # (n, 2)
    ri = r[n[:, None], i[:, None], rest]  # (n, 2): correlations of the rest with i
    r23 = r[n, rest[:, 0], rest[:, 1]]
    s = np.sqrt(1.0 - ri * ri)  # conditional standard deviations
    rho = (r23 - ri[:, 0] * ri[:, 1]) / (s[:, 0] * s[:, 1])
    top = np.minimum(np.where(zi == -np.inf, 0.0, zi), _TOP)  # -inf: 0 below, no inf - inf
    x, w = _GL[_NODES]
    width = _SPAN / _PANELS
    starts = top[:, None] - _SPAN + width * np.arange(_PANELS)  # (n, P)
    t = (starts[:, :, None] + width * (1.0 + x) / 2.0).reshape(z.shape[0], -1)  # (n, P * N)
    wt = np.tile(w * width / 2.0, _PANELS)
    a = (zr[:, 0, None] - ri[:, 0, None] * t) / s[:, 0, None]
    b = (zr[:, 1, None] - ri[:, 1, None] * t) / s[:, 1, None]
    dens = np.exp(-0.5 * t * t) / math.sqrt(_TWO_PI)
    out = np.sum(wt * dens * _phi2(a, b, rho[:, None]), axis=-1)
    # a limit at -inf (the conditioning variable's included) makes the probability 0
    return np.where(np.any(z == -np.inf, axis=-1), 0.0, np.clip(out, 0.0, 1.0))


def _qmc(b, cov, maxpts, abseps, releps, rng):
    import scipy.stats  # imported when first used: importing scipy.stats costs ~0.5 s

    d = b.shape[-1]
    flat_b, flat_c = b.reshape(-1, d), cov.reshape(-1, d, d)
    cdf = scipy.stats.multivariate_normal.cdf
    # a seed (the default 0) starts afresh at every point, so that a point's value does not
    # depend on where it sits in a batch (vmap, broadcasting); a Generator is the caller's
    seeded = rng is None or isinstance(rng, int | np.integer)
    out = [cdf(bb, cov=cc, maxpts=maxpts, abseps=abseps, releps=releps,
               rng=np.random.default_rng(0 if rng is None else rng) if seeded else rng)
           for bb, cc in zip(flat_b, flat_c, strict=True)]
    return np.asarray(out, dtype=float).reshape(b.shape[:-1])


def _impl(b, cov, maxpts=None, abseps=1e-5, releps=1e-5, rng=None):
    b, cov = np.asarray(b, dtype=float), np.asarray(cov, dtype=float)
    d = b.shape[-1]
    lead = np.broadcast_shapes(b.shape[:-1], cov.shape[:-2])
    if d == 0:
        return np.ones(lead)
    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
    low = np.linalg.eigvalsh(cov).min(initial=np.inf)
    if not low > 0:  # also what keeps |r| < 1 below
        raise ValueError(f"mvn_cdf: the covariance must be positive definite; its smallest "
                         f"eigenvalue is {low:.3g}")
    b = np.broadcast_to(b, lead + (d,))
    cov = np.broadcast_to(cov, lead + (d, d))
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    z = b / sd
    bad = np.isnan(z).any(axis=-1)
    if d == 1:
        out = _sc.ndtr(z[..., 0])
    else:
        r = cov / (sd[..., :, None] * sd[..., None, :])
        zf, rf = z.reshape(-1, d), r.reshape(-1, d, d)
        if d == 2:
            out = _phi2(zf[:, 0], zf[:, 1], rf[:, 0, 1]).reshape(lead)
        elif d == 3:
            out = _phi3(zf, rf).reshape(lead)
        else:
            out = _qmc(b, cov, 1000000 * d if not maxpts else maxpts, abseps, releps, rng)
    return np.where(bad, np.nan, out)


mvn_cdf_p = Primitive("mvn_cdf", _impl, saves=(0, 1),
                      doc="Phi_d(b; S) = P(X <= b), X ~ N(0, S) (b: (..., d), S: (..., d, d))")


# ------------------------------------------------------------------ derivatives (chainrule ops)
def _pick(x, *idx):
    """``x[..., idx0, idx1, ...]`` with constant integer indices (lists index, as NumPy's)."""
    return getitem(x, (Ellipsis,) + tuple(np.asarray(i) if isinstance(i, list) else i for i in idx))


def _sub(cov, rows, cols):
    return _pick(_pick(cov, rows, slice(None)), slice(None), cols)


def _cdf_or_one(b, cov, params):
    """``Phi_k`` of the conditional, with ``Phi_0 = 1`` (no call)."""
    return mvn_cdf_p(b, cov, **params) if shape(b)[-1] else 1.0


def _first(b, cov, params):
    """``dPhi/db`` as ``(..., d)``: ``phi(b_i; S_ii) Phi_{d-1}(conditional on b_i)``; 0 where
    ``b_i`` is infinite (computed at ``b_i = 0`` and replaced: no ``0 * inf`` in any order)."""
    d = shape(b)[-1]
    cols = []
    for i in range(d):
        rest = [k for k in range(d) if k != i]
        sii = _pick(cov, i, i)
        fin = isfinite(_pick(b, i))
        bi = where(fin, _pick(b, i), 0.0)
        dens = exp(-0.5 * bi * bi / sii) / sqrt(_TWO_PI * sii)
        if rest:
            c = _pick(cov, rest, i) / _reshape(sii, shape(sii) + (1,))  # (..., d-1)
            mb = _pick(b, rest) - c * _reshape(bi, shape(bi) + (1,))
            row = _reshape(_pick(cov, i, rest), shape(c)[:-1] + (1, d - 1))
            mc = _sub(cov, rest, rest) - _reshape(c, shape(c) + (1,)) * row
            dens = dens * _cdf_or_one(mb, mc, params)
        cols.append(where(fin, dens, 0.0))
    lead = np.broadcast_shapes(*(shape(v) for v in cols))
    return stack([v if shape(v) == lead else broadcast_to(v, lead) for v in cols], axis=-1)


def _second(b, cov, grad, params):
    """``d2Phi/db db^T`` as ``(..., d, d)`` from the pairs' ``phi_2 Phi_{d-2}`` and, on the
    diagonal, ``-(b_i g_i + sum_{k != i} S_ik H_ik) / S_ii``."""
    d = shape(b)[-1]
    off = {}
    for i in range(d):
        for j in range(i + 1, d):
            pair = [i, j]
            rest = [k for k in range(d) if k not in pair]
            a11, a22, a12 = _pick(cov, i, i), _pick(cov, j, j), _pick(cov, i, j)
            det = a11 * a22 - a12 * a12
            fin = isfinite(_pick(b, i)) & isfinite(_pick(b, j))
            bi, bj = where(fin, _pick(b, i), 0.0), where(fin, _pick(b, j), 0.0)
            q = (a22 * bi * bi - 2.0 * a12 * bi * bj + a11 * bj * bj) / det
            dens = exp(-0.5 * q) / (_TWO_PI * sqrt(det))
            if rest:
                sra = _sub(cov, rest, pair)  # (..., d-2, 2)
                inv = stack([stack([a22, -a12], axis=-1), stack([-a12, a11], axis=-1)], axis=-2)
                k = matmul(sra, inv / _reshape(det, shape(det) + (1, 1)))  # (..., d-2, 2)
                ba = stack([bi, bj], axis=-1)
                mb = _pick(b, rest) - _red.sum(k * _reshape(ba, shape(ba)[:-1] + (1, 2)), axis=-1)
                mc = _sub(cov, rest, rest) - matmul(k, _sub(cov, pair, rest))
                dens = dens * _cdf_or_one(mb, mc, params)
            off[i, j] = off[j, i] = where(fin, dens, 0.0)
    lead = shape(grad)[:-1]

    def full(v):
        return v if shape(v) == lead else broadcast_to(v, lead)
    rows = []
    for i in range(d):
        acc = where(isfinite(_pick(b, i)), _pick(b, i), 0.0) * _pick(grad, i)
        for k in range(d):
            if k != i:
                acc = acc + _pick(cov, i, k) * off[i, k]
        diag = -acc / _pick(cov, i, i)
        rows.append(stack([full(diag if k == i else off[i, k]) for k in range(d)], axis=-1))
    return stack(rows, axis=-2)


def _lift_core(t, x, ans, core):
    """A tangent ``batch + x.shape`` as ``batch + (1,) * k + x.shape``, so that ``x``'s
    leading (stack) axes line up with ``ans``'s; ``x`` has ``core`` trailing core axes."""
    ts, xn, an = shape(t), len(shape(x)), len(shape(ans))
    k = an - (xn - core)
    if k <= 0:
        return t
    nb = len(ts) - xn
    return _reshape(t, ts[:nb] + (1,) * k + ts[nb:])


def _sym(cov):
    # the rules read cov through its symmetric part, as the value does, so that every order
    # differentiates the same function
    return 0.5 * (cov + swapaxes(cov, -1, -2))


def _vjp_b(g, ans, b, cov, **params):
    grad = _first(b, _sym(cov), params)
    return _sum_to(_reshape(g, shape(g) + (1,)) * grad, len(shape(g)) - len(shape(ans)), shape(b))


def _vjp_cov(g, ans, b, cov, **params):
    cov = _sym(cov)
    h = _second(b, cov, _first(b, cov, params), params)
    return _sum_to(_reshape(g, shape(g) + (1, 1)) * (0.5 * h), len(shape(g)) - len(shape(ans)), shape(cov))


def _jvp_b(t, ans, b, cov, **params):
    return _red.sum(_lift_core(t, b, ans, 1) * _first(b, _sym(cov), params), axis=-1)


def _jvp_cov(t, ans, b, cov, **params):
    cov = _sym(cov)
    h = _second(b, cov, _first(b, cov, params), params)  # symmetric: sum(t H) = sum(sym(t) H)
    return _red.sum(_lift_core(t, cov, ans, 2) * (0.5 * h), axis=(-2, -1))


mvn_cdf_p.defvjp(_vjp_b, _vjp_cov)
mvn_cdf_p.defjvp(_jvp_b, _jvp_cov)


def mvn_cdf(b, cov, *, maxpts=None, abseps=1e-5, releps=1e-5, rng=None):
    """``Phi_d(b; S)`` (see the module's docstring); ``maxpts``, ``abseps``, ``releps`` and
    ``rng`` reach SciPy's QMC for ``d >= 4`` only."""
    return mvn_cdf_p(b, cov, maxpts=maxpts, abseps=abseps, releps=releps, rng=rng)


def mvn_box(upper, lower, cov, **kw):
    """``P(lower < X <= upper)`` by inclusion-exclusion over the ``2^d`` corners ``c`` of the box,

        sum_c (-1)^(number of entries of c taken from lower) Phi_d(c; S)

    in one call of the primitive (the corners stacked on a new first axis). The sum is
    multilinear in each coordinate's ``(upper_i, lower_i)``, so where ``lower_i > upper_i`` in an
    odd number of coordinates it is the negative probability of the swapped box: SciPy's sign
    convention. A corner with a ``-inf`` entry is 0. For ``d >= 4`` (QMC) the error of the sum
    is up to ``2^d`` times ``abseps``."""
    full = np.broadcast_shapes(shape(upper), shape(lower))
    upper = upper if shape(upper) == full else broadcast_to(upper, full)
    lower = lower if shape(lower) == full else broadcast_to(lower, full)
    d = full[-1]
    picks = np.array(list(itertools.product((False, True), repeat=d)))  # True: lower's entry
    signs = (-1.0) ** picks.sum(axis=1)
    ones = (1,) * (len(full) - 1)
    corners = where(np.reshape(picks, (2**d,) + ones + (d,)), expand_dims(lower, 0), expand_dims(upper, 0))
    vals = mvn_cdf(corners, cov, **kw)
    return _red.sum(vals * np.reshape(signs, (2**d,) + ones), axis=0)
