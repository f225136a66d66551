"""Gradient checking by central differences (PRML eq. 5.77), and *which* primitive is wrong.

    dE/dw ~= (E(w + eps) - E(w - eps)) / (2 eps)          error O(eps^2)

``check_grads(f)(*args)`` compares forward mode (J v) and reverse mode (u^T J v)
against that, per input, up to the requested order (order 2 checks the
derivatives of the derivatives the same way). It also runs one *batched* pass
per mode: a batch of cotangents (tangents) with a leading axis must give what
one pass per row gives, because ``jacrev``, ``jacfwd``, ``jacobian`` and
``hessian`` push whole batches through every rule. When a check fails it
re-runs the function on a tape and checks every recorded primitive's own VJP
and JVP rules at the values it actually saw, singly and batched, so the error
names the op, its position in the trace and the mode whose rule is wrong.

Tolerances are relative. An analytic derivative ``a`` agrees with the central
difference ``d`` when

    |a - d| <= rtol * max(|a|, |d|) + atol          (atol = 0 by default)

so a function of scale 1e-7 is checked as strictly as one of scale 1. The
central difference carries its own error, rounding (about machine-eps * |f| / eps:
the cancellation of two nearly equal values of f) plus truncation (about
eps**2 * |f'''|). It is estimated from the difference between the quotients at
``eps`` and ``2 eps``; when that error is larger than ``rtol`` allows and explains
the disagreement, the check says that central differences cannot resolve the
derivative at this ``eps`` (and suggests one) instead of blaming a primitive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .core.aval import derivative_dtype, shape_of
from .core.errors import ChainruleError
from .core.linearize import check_differentiable, linearize_reverse, push_forward
from .core.primitive import unbox_all
from .core.pytree import tree_flatten, tree_unflatten
from .core.tape import ancestors
from .core.trace import ReverseBox, ReverseTrace
from .transforms import jvp, vjp

__all__ = ["GradCheckError", "GradCheckReport", "check_batched", "check_grads",
           "localize_failure", "numerical_jvp"]

_MACHEPS = float(np.finfo(np.float64).eps)
BATCH_ROWS = 3  # rows of the batched pass check_grads runs per mode and order


class GradCheckError(ChainruleError, AssertionError):
    """A derivative disagrees with central differences, or a rule is not batch-polymorphic."""


@dataclass
class InputReport:
    index: int
    shape: tuple
    mode: str
    order: int
    rel_error: float


@dataclass
class GradCheckReport:
    """Worst relative error per input, mode and order; ``batched`` holds the batched passes'
    ``(mode, order, worst relative difference from single passes)``."""

    rows: list = field(default_factory=list)
    batched: list = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max((r.rel_error for r in self.rows), default=0.0)

    def __str__(self) -> str:
        lines = [f"input {r.index} {r.shape}: {r.mode} order {r.order}: worst rel. error {r.rel_error:.2e}"
                 for r in self.rows]
        lines += [f"batched {mode} pass, order {order}: {BATCH_ROWS} rows vs single passes: "
                  f"rel. difference {err:.2e}" for mode, order, err in self.batched]
        return "\n".join(lines) or "no differentiable inputs"


@dataclass
class _Failure:
    mode: str
    index: int | None  # the input, or None for a batched pass
    order: int
    message: str
    resolvable: bool  # False: central differences cannot decide at this eps
    fn: object  # the function checked at this order (what localisation re-records)
    args: tuple


def _flat(tree) -> np.ndarray:
    """The leaves in one vector: float, or complex when a leaf is complex."""
    leaves = [np.asarray(unbox_all(x)) for x in tree_flatten(tree)[0]]
    if not leaves:
        return np.zeros(0)
    dt = complex if any(x.dtype.kind == "c" for x in leaves) else float
    return np.concatenate([np.ravel(x.astype(dt, copy=False)) for x in leaves])


def _pair(a, b) -> float:
    """``Re(sum a*b)``: the pairing under which a VJP is the transpose of a JVP (JAX's, for
    complex values; ``a . b`` for real ones)."""
    return float(np.real(np.sum(a * b)))


def _random(rng, shape, dtype):
    """Standard normal entries; complex ones perturb the real and the imaginary part."""
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape)


def _norm(a) -> float:
    return float(np.linalg.norm(np.ravel(a)))


def _axpy(alpha, v, x):
    return tree_unflatten(tree_flatten(x)[1],
                          [xi + alpha * vi for xi, vi in zip(tree_flatten(x)[0], tree_flatten(v)[0])])


def numerical_jvp(f, args, tangents, eps):
    """Central difference of ``f`` along ``tangents`` (PRML eq. 5.77 applied to a direction)."""
    plus = f(*_axpy(eps, tangents, args))
    minus = f(*_axpy(-eps, tangents, args))
    return (_flat(plus) - _flat(minus)) / (2 * eps)


class _CentralDifference:
    """``(f(x + eps v) - f(x - eps v)) / (2 eps)`` and an estimate of its own error.

    Rounding error falls as 1/eps and truncation error grows as eps**2, so the
    quotient at ``2 eps`` differs from the one at ``eps`` by about the larger of the
    two; the rounding of f's values themselves (machine-eps * |f| / eps) is a floor
    for the estimate when the two quotients agree by chance.
    """

    def __init__(self, f, args, v, eps):
        self.f, self.args, self.v, self.eps = f, args, v, eps
        plus, minus = _flat(f(*_axpy(eps, v, args))), _flat(f(*_axpy(-eps, v, args)))
        self.value = max(_norm(plus), _norm(minus))
        self.change = _norm(plus - minus)
        self.d = (plus - minus) / (2 * eps)
        self.d2 = numerical_jvp(f, args, v, 2 * eps)
        self.rounding = _MACHEPS * self.value / eps
        self.noise = _norm(self.d - self.d2) + self.rounding

    def at(self, eps):
        """The same quotient at another step, or ``None`` where f is not finite or raises there."""
        try:
            with np.errstate(all="ignore"):
                other = _CentralDifference(self.f, self.args, self.v, eps)
        except Exception:  # a step outside f's domain (a Cholesky of a non-SPD matrix...) is skipped
            return None
        return other if np.isfinite(other.noise) and np.all(np.isfinite(other.d)) else None

    def why(self) -> str:
        """Which error of the quotient dominates, and the step that would shrink it."""
        d4 = self.at(4 * self.eps)
        near = _norm(self.d - self.d2)
        if d4 is not None and _norm(self.d2 - d4.d) > 2.5 * near and near > self.rounding:
            # the error grows about 4x per doubling of eps: truncation
            return (f"the truncation error of the quotient (about eps**2 times f's third derivative) "
                    f"is about {self.noise:.1e}; a smaller eps shrinks it (as eps**2)")
        return (f"f's values are about {self.value:.1e} but change by only {self.change:.1e} over "
                f"+-eps, so rounding (the cancellation of nearly equal values) leaves an error of about "
                f"{self.noise:.1e} in the difference quotient; a larger eps shrinks it (as 1/eps), "
                f"and so does checking f without a large constant part")


class _Analytic:
    """A derivative to check: forward mode's ``J v`` (``u`` is None), or reverse mode's
    ``(J^T u) . v``, compared with ``u . d`` for a central difference ``d ~= J v``.

    ``gap(fd)`` measures it against a central difference: ``(difference, scale, noise)``. In reverse
    mode ``u^T J v`` may nearly cancel, so its scale is ``|u| |J v|`` (Cauchy-Schwarz) and the
    quotient's error is weighted by ``|u|``.
    """

    def __init__(self, value, u=None):
        self.value, self.u = value, u
        self.weight = 1.0 if u is None else _norm(u)

    def gap(self, fd):
        b = fd.d if self.u is None else _pair(self.u, fd.d)
        diff = _norm(self.value - b)
        scale = max(_norm(self.value), _norm(b), self.weight * _norm(fd.d))
        return diff, scale, self.weight * fd.noise


def _compare(analytic, fd, rtol, atol):
    """``(relative error, verdict, detail)``; verdict ``None`` (agree), ``"wrong"`` or ``"unresolved"``.

    Agreement is ``diff <= rtol * scale + atol``. A disagreement larger than three times
    the quotient's own error is a wrong derivative. In between, central differences
    cannot decide at this eps: other steps (10**k eps) are tried. Where one resolves the
    derivative, its verdict counts (a right rule fails only to say that this eps
    cannot check it); where none does but the derivative is zero within the quotient's
    error at its most precise step (a stationary point, a linear map's second derivative)
    the check passes; otherwise it is unresolved.
    """
    diff, scale, noise = analytic.gap(fd)
    rel = diff / scale if diff else 0.0
    allowed = rtol * scale + atol
    if diff <= allowed:
        return rel, None, ""
    if diff > 3 * noise + allowed:
        return rel, "wrong", ""
    best = (noise / max(analytic.weight, 1e-300), fd, diff, scale, noise)
    for k in (1, -1, 2, -2, 3, 4, 5):
        other = fd.at(fd.eps * 10.0 ** k)
        if other is None:
            continue
        o_diff, o_scale, o_noise = analytic.gap(other)
        if o_noise <= rtol * o_scale:  # this step resolves the derivative
            if o_diff <= rtol * o_scale + atol + 3 * o_noise:
                return rel, "unresolved", (f"central differences cannot resolve this derivative at "
                                           f"eps={fd.eps:g}: {fd.why()}. At eps={other.eps:g} they "
                                           f"can, and it agrees (relative error {o_diff / o_scale:.1e}): "
                                           f"check with eps={other.eps:g}")
            return o_diff / o_scale, "wrong", (f" at eps={other.eps:g} (eps={fd.eps:g} cannot resolve "
                                               f"this derivative: {fd.why()})")
        if other.noise < best[1].noise:
            best = (other.noise, other, o_diff, o_scale, o_noise)
    _, b_fd, b_diff, b_scale, b_noise = best
    if _norm(b_fd.d) <= 3 * b_fd.noise and b_diff <= 3 * b_noise + rtol * b_scale + atol:
        return rel, None, ""  # zero within what central differences can see at any step
    return rel, "unresolved", (f"central differences cannot resolve this derivative at eps={fd.eps:g} "
                               f"(nor at 10**k times it): {fd.why()}")


def _judge_local(analytic, fd, rtol, atol):
    """A local rule check blames a rule only when central differences show it wrong."""
    rel, verdict, detail = _compare(analytic, fd, rtol, atol)
    return f"relative error {rel:.3g}{detail}" if verdict == "wrong" else None


def _direction(rng, args, only):
    """A random direction, non-zero only in flattened input ``only``."""
    leaves, td = tree_flatten(args)
    return tree_unflatten(td, [_random(rng, shape_of(unbox_all(x)), derivative_dtype(unbox_all(x)))
                               if i == only else np.zeros(shape_of(unbox_all(x)))
                               for i, x in enumerate(leaves)])


def _like(rng, tree):
    leaves, td = tree_flatten(tree)
    return tree_unflatten(td, [_random(rng, shape_of(unbox_all(o)), derivative_dtype(unbox_all(o)))
                               for o in leaves])


def _check_at(f, args, modes, order, eps, rtol, atol, rng, report, level):
    leaves = tree_flatten(args)[0]
    failures = []
    for i, x in enumerate(leaves):
        check_differentiable(x)
        v = _direction(rng, args, i)
        fd = _CentralDifference(f, args, v, eps)
        shape = shape_of(unbox_all(x))
        checks = []
        if "fwd" in modes:
            checks.append(("fwd", _Analytic(_flat(jvp(f, args, v)[1]))))
        if "rev" in modes:
            out, f_vjp = vjp(f, *args)
            u = _like(rng, out)
            checks.append(("rev", _Analytic(_pair(_flat(f_vjp(u)), _flat(v)), _flat(u))))
        for mode, analytic in checks:
            rel, verdict, detail = _compare(analytic, fd, rtol, atol)
            report.rows.append(InputReport(i, shape, mode, level, rel))
            if verdict:
                failures.append(_Failure(mode, i, level, f"{mode} mode, order {level}: input {i} has "
                                         f"relative error {rel:.3g}" + (detail if verdict == "wrong"
                                                                        else f"; {detail}"),
                                         verdict == "wrong", f, args))
    for mode in ("fwd", "rev"):
        if mode in modes and leaves:
            worst, problem = _batched_problem(f, args, mode, BATCH_ROWS, rtol, atol, rng)
            report.batched.append((mode, level, worst))
            if problem:
                failures.append(_Failure(mode, None, level, f"order {level}, {problem}", True, f, args))
    if failures or order <= 1:
        return failures
    # Order k+1: check the derivative maps themselves, as functions of the inputs.
    if "fwd" in modes:
        v = _like(rng, args)
        failures += _check_at(lambda *a: jvp(f, a, v)[1], args, ("fwd", "rev"), order - 1,
                              eps, rtol, atol, rng, report, level + 1)
    if "rev" in modes:
        u = _like(rng, f(*args))
        failures += _check_at(lambda *a: vjp(f, *a)[1](u), args, ("fwd", "rev"), order - 1,
                              eps, rtol, atol, rng, report, level + 1)
    return failures


def check_grads(f, modes=("fwd", "rev"), order: int = 2, eps: float = 1e-6, rtol: float = 1e-5,
                atol: float = 0.0, seed: int = 0, localize: bool = True):
    """Return a checker: ``check_grads(f, modes, order)(*args)``.

    Each mode is checked against central differences, ``|a - d| <= rtol * max(|a|, |d|) + atol``
    (relative: ``atol`` is extra absolute slack, 0 by default), and by a batched pass of
    ``BATCH_ROWS`` cotangents (tangents) with a leading batch axis against one pass per row;
    ``order`` 2 and up repeat both on the derivative maps.

    On success it returns a :class:`GradCheckReport` (worst relative error per
    input, mode and order). On failure it raises :class:`GradCheckError` whose
    message names the first primitive whose own rule disagrees with central
    differences, or is not batch-polymorphic, at the values it saw in this trace;
    or says that central differences cannot resolve the derivative at this ``eps``.
    """
    modes = tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"unknown mode {m!r}; use 'fwd' and/or 'rev'")

    def checker(*args):
        rng = np.random.default_rng(seed)
        report = GradCheckReport()
        failures = _check_at(f, args, modes, order, eps, rtol, atol, rng, report, 1)
        if failures:
            lines = [fl.message for fl in failures]
            first = next((fl for fl in failures if fl.resolvable), failures[0])
            culprits = (localize_failure(first.fn, first.args, eps, rtol, atol, seed)
                        if localize else [])
            if culprits:
                lines.append("culprit: " + culprits[0])
                lines += ["also: " + c for c in culprits[1:]]
            elif any(fl.resolvable for fl in failures) and localize:
                lines.append(f"every recorded primitive passes its local check at order {first.order}; "
                             "the error is in a higher-order rule or in code outside the tape")
            raise GradCheckError("gradient check failed\n  " + "\n  ".join(lines))
        return report

    return checker


def _rows(rng, likes, rows):
    """Per leaf of ``likes``, a batch ``(B,) + shape``: ``rows`` random rows over all the leaves'
    entries together, or for ``rows=None`` a whole Jacobian's worth: scaled identity rows,
    then ``BATCH_ROWS`` random ones (a batch of identity rows alone can hide a rule that mixes
    rows: it is symmetric, and a batch of one has a single row)."""
    shapes = [shape_of(unbox_all(x)) for x in likes]
    sizes = [math.prod(s) for s in shapes]
    n = sum(sizes)
    if rows is None:
        m = np.vstack([np.diag(rng.uniform(0.5, 2.0, n)), rng.standard_normal((BATCH_ROWS, n))])
    else:
        m = rng.standard_normal((rows, n))
    m2 = rng.standard_normal(m.shape)  # imaginary parts, for complex leaves
    out, start = [], 0
    for x, s, k in zip(likes, shapes, sizes):
        dt = derivative_dtype(unbox_all(x))
        part = m[:, start:start + k] + (1j * m2[:, start:start + k] if dt.kind == "c" else 0)
        out.append(part.reshape((len(m),) + s).astype(dt))
        start += k
    return out


def _row_problem(batched, singles, r, rtol, atol, what, noise=0.0):
    """Compare row ``r`` of each batched leaf with the single pass; a message or ``None``.
    ``noise`` is rounding's share: where a result cancels to ~0 (entries of 1e-17 from inputs of
    order 1), the two passes' rounding differs by more than ``rtol`` of the tiny result."""
    for k, (b, s) in enumerate(zip(batched, singles)):
        b, s = np.asarray(unbox_all(b)), np.asarray(unbox_all(s))
        if b.shape[1:] != s.shape:
            return 1.0, (f"{what} {k} has shape {b.shape} for the batch but {s.shape} for one row "
                         "(the batch axis must lead)")
        diff, scale = np.max(np.abs(b[r] - s), initial=0.0), np.max(np.abs(s), initial=0.0)
        if diff > rtol * max(scale, np.max(np.abs(b[r]), initial=0.0)) + atol + noise:
            return float(diff / max(scale, 1e-300)), (
                f"row {r} of {what} {k} differs from the single pass by {diff:.3g} "
                f"(entries up to {scale:.3g})")
    return 0.0, None


def _batched_problem(f, args, mode, rows, rtol, atol, rng):
    """``(worst relative difference, message or None)`` for one batched pass of ``mode``."""
    leaves, td = tree_flatten(args)
    if mode == "rev":
        lin = linearize_reverse(f, args)[0]
        batch = _rows(rng, lin.out_values, rows)
        if not batch or not batch[0].shape[0]:
            return 0.0, None
        n = batch[0].shape[0]
        what = "the cotangent of input"
        try:
            batched = lin.pull(batch, batch=(n,))
        except Exception as e:
            return 1.0, _batched_message(mode, n, f"it raised {type(e).__name__}: {e}")
        single = lambda r: lin.pull([c[r] for c in batch])  # noqa: E731
    else:
        batch = _rows(rng, leaves, rows)
        if not batch or not batch[0].shape[0]:
            return 0.0, None
        n = batch[0].shape[0]
        what = "the tangent of output"
        try:
            batched = tree_flatten(push_forward(f, args, tree_unflatten(td, batch), batch=(n,))[1])[0]
        except Exception as e:
            return 1.0, _batched_message(mode, n, f"it raised {type(e).__name__}: {e}")
        single = lambda r: tree_flatten(  # noqa: E731
            push_forward(f, args, tree_unflatten(td, [t[r] for t in batch]))[1])[0]
    worst, noise = 0.0, _rounding_noise(batched, batch, leaves)
    for r in range(n):
        err, problem = _row_problem(batched, single(r), r, rtol, atol, what, noise)
        worst = max(worst, err)
        if problem:
            return worst, _batched_message(mode, n, problem)
    return worst, None


def _rounding_noise(results, seeds, inputs) -> float:
    """How far two exact-arithmetic-equal passes may differ by rounding alone: a few hundred ulps
    of the larger of the results and (seeds x inputs), the size of the terms that were summed.
    A rule that is not batch-polymorphic is wrong by far more (it mixes rows)."""
    def biggest(leaves):
        return max((float(np.max(np.abs(np.asarray(unbox_all(v))), initial=0.0)) for v in leaves),
                   default=0.0)
    dtypes = [np.asarray(unbox_all(v)).dtype for v in results]
    eps = max((np.finfo(dt).eps for dt in dtypes if dt.kind in "fc"), default=np.finfo(np.float64).eps)
    return 256.0 * float(eps) * max(biggest(results), biggest(seeds) * max(1.0, biggest(inputs)))


def _batched_message(mode, n, problem):
    kind = "cotangents in one backward pass" if mode == "rev" else "tangents in one forward pass"
    users = "jacrev, jacobian and hessian" if mode == "rev" else "jacfwd, jacobian, hessian and hvp"
    return (f"{mode} mode: a batch of {n} {kind} disagrees with {n} single passes ({problem}): "
            f"a rule is not batch-polymorphic, so {users} would be wrong")


def check_batched(f, *args, rows: int | None = None, modes=("fwd", "rev"), rtol: float = 1e-7,
                  atol: float = 1e-10, seed: int = 0, localize: bool = True):
    """One pass with a batch of cotangents (tangents) == one pass per row, for every row.

    This is what makes Jacobians one vectorised pass: every rule must let leading
    batch axes on ``g`` / ``t`` pass through. ``rows=None`` uses identity rows (the
    whole Jacobian, one pass per entry), ``rows=k`` uses ``k`` random rows. Rows agree
    when ``max|batched - single| <= rtol * max|row| + atol``. Raises
    :class:`GradCheckError` naming the primitive whose rule is not batch-polymorphic.
    """
    rng = np.random.default_rng(seed)
    for mode in modes:
        _, problem = _batched_problem(f, args, mode, rows, rtol, atol, rng)
        if problem:
            culprits = [c for c in localize_failure(f, args, seed=seed) if "batch" in c] if localize else []
            raise GradCheckError("\n  ".join([problem] + [f"culprit: {c}" for c in culprits[:1]]
                                             + [f"also: {c}" for c in culprits[1:]]))


def localize_failure(f, args, eps=1e-6, rtol=1e-5, atol=0.0, seed=0) -> list[str]:
    """Check each recorded primitive's VJP and JVP rules locally, singly and batched;
    describe the wrong ones."""
    leaves, td = tree_flatten(args)
    trace = ReverseTrace()
    out = f(*tree_unflatten(td, [trace.new_input(x) for x in leaves]))
    # the records that lead to the output, in execution order: only their rules shape the result
    outs = [o._node for o in tree_flatten(out)[0] if type(o) is ReverseBox and o._trace is trace]
    used = ancestors(trace.tape, outs)[1][::-1]
    rng = np.random.default_rng(seed)
    found = []
    n = len(used)
    for pos, rec in enumerate(used):
        for argnum, _ in rec.parents:
            for mode in ("rev", "fwd"):
                rule = "VJP" if mode == "rev" else "JVP"
                where = f"primitive '{rec.prim.name}' (op {pos + 1} of {n} in the trace)"
                err = _local_rule_error(rec, argnum, mode, eps, rtol, atol, rng)
                if err is not None:
                    found.append(f"{where} has a wrong {rule} rule for argument {argnum}: {err}")
                    continue
                err = _local_batch_error(rec, argnum, mode, rtol, atol, rng)
                if err is not None:
                    found.append(f"{where} has a {rule} rule for argument {argnum} that is not "
                                 f"batch-polymorphic: {err}")
    return found


def _local_fn(rec, argnum):
    args = [unbox_all(a) for a in rec.args]

    def fi(xi):
        a = list(args)
        a[argnum] = xi
        return rec.prim.impl(*a, **rec.params)

    return args, fi


def _local_rule_error(rec, argnum, mode, eps, rtol, atol, rng):
    args, fi = _local_fn(rec, argnum)
    x = np.asarray(args[argnum])
    x = x.astype(derivative_dtype(x))
    v = _random(rng, x.shape, x.dtype)
    fd = _CentralDifference(fi, (x,), (v,), eps)
    ans = fi(x)
    try:
        if mode == "fwd":
            analytic = _Analytic(_flat(rec.prim.jvp(argnum, v if x.shape else v[()], ans, args,
                                                    rec.params)))
        else:
            u = _like(rng, ans)
            got = _flat(rec.prim.vjp(argnum, u, ans, args, rec.params))
            analytic = _Analytic(_pair(got, v.ravel()), _flat(u))
    except Exception as e:  # a rule that crashes is as wrong as one that miscomputes
        return f"the rule raised {type(e).__name__}: {e}"
    # an op whose own central difference cannot decide (cancellation) is not blamed
    return _judge_local(analytic, fd, rtol, atol)


def _local_batch_error(rec, argnum, mode, rtol, atol, rng, n=BATCH_ROWS):
    """The rule applied to ``n`` stacked cotangents (tangents) vs. applied to each alone."""
    args, fi = _local_fn(rec, argnum)
    ans = fi(args[argnum])
    if mode == "rev":
        outs, od = tree_flatten(ans)
        batch = _rows(rng, outs, n)
        seed = tree_unflatten(od, batch)
        row = lambda r: tree_unflatten(od, [b[r] for b in batch])  # noqa: E731
        call, what = rec.prim.vjp, "cotangent"
    else:
        batch = _rows(rng, [args[argnum]], n)
        seed, row = batch[0], (lambda r: batch[0][r])
        call, what = rec.prim.jvp, "tangent"
    shapes = [b.shape for b in batch]
    try:
        batched = tree_flatten(call(argnum, seed, ans, args, rec.params))[0]
    except Exception as e:
        return (f"given a {what} with a leading batch axis of {n} (shape "
                f"{', '.join(map(str, shapes))}) it raised {type(e).__name__}: {e}")
    for r in range(n):
        single = tree_flatten(call(argnum, row(r), ans, args, rec.params))[0]
        _, problem = _row_problem(batched, single, r, rtol, atol, "result")
        if problem:
            got = ", ".join(str(np.shape(unbox_all(b))) for b in batched)
            want = ", ".join(str((n,) + np.shape(unbox_all(s))) for s in single)
            return (f"given a {what} with a leading batch axis of {n} (shape "
                    f"{', '.join(map(str, shapes))}) it returns shape {got} where stacking {n} single "
                    f"calls gives {want} ({problem}); rules must let leading batch axes of g and t "
                    "pass through (docs/extending.md)")
    return None
