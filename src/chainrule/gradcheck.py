"""Gradient checking by central differences (PRML eq. 5.77), and *which* primitive is wrong.

    dE/dw ~= (E(w + eps) - E(w - eps)) / (2 eps)          error O(eps^2)

``check_grads(f)(*args)`` compares forward mode (J v) and reverse mode (u^T J v)
against that, per input, up to the requested order (order 2 checks the
derivatives of the derivatives the same way). When a check fails it re-runs
the function on a tape and checks every recorded primitive's own VJP and JVP
rules at the values it actually saw, so the error names the op, its position in
the trace and the mode whose rule is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .core.errors import ChainruleError
from .core.primitive import Box
from .core.pytree import tree_flatten, tree_unflatten
from .core.trace import ReverseTrace
from .core.transforms import check_differentiable, jvp, vjp


class GradCheckError(ChainruleError, AssertionError):
    """A derivative disagrees with central differences."""


@dataclass
class InputReport:
    index: int
    shape: tuple
    mode: str
    order: int
    rel_error: float


@dataclass
class GradCheckReport:
    """Worst relative error per input, mode and order."""

    rows: list = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max((r.rel_error for r in self.rows), default=0.0)

    def __str__(self) -> str:
        lines = [f"input {r.index} {r.shape}: {r.mode} order {r.order}: worst rel. error {r.rel_error:.2e}"
                 for r in self.rows]
        return "\n".join(lines) or "no differentiable inputs"


def _unbox(x):
    while isinstance(x, Box):
        x = x._value
    return x


def _flat(tree) -> np.ndarray:
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(_unbox(x), dtype=float)) for x in leaves])


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    diff = np.linalg.norm(a - b)
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if diff == 0 else float(diff / max(scale, 1e-300))


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.linalg.norm(a - b) <= atol + rtol * max(np.linalg.norm(a), np.linalg.norm(b)))


def _axpy(alpha, v, x):
    return tree_unflatten(tree_flatten(x)[1],
                          [xi + alpha * vi for xi, vi in zip(tree_flatten(x)[0], tree_flatten(v)[0])])


def numerical_jvp(f, args, tangents, eps):
    """Central difference of ``f`` along ``tangents`` (PRML eq. 5.77 applied to a direction)."""
    plus = f(*_axpy(eps, tangents, args))
    minus = f(*_axpy(-eps, tangents, args))
    return (_flat(plus) - _flat(minus)) / (2 * eps)


def _direction(rng, args, only):
    """A random unit-ish direction, non-zero only in flattened input ``only``."""
    leaves, td = tree_flatten(args)
    out = []
    for i, x in enumerate(leaves):
        shape = np.shape(_unbox(x))
        out.append(rng.standard_normal(shape) if i == only else np.zeros(shape))
    return tree_unflatten(td, out)


def _check_at(f, args, modes, order, eps, rtol, atol, rng, report, level):
    leaves = tree_flatten(args)[0]
    failures = []
    for i, x in enumerate(leaves):
        check_differentiable(x)
        v = _direction(rng, args, i)
        numeric = numerical_jvp(f, args, v, eps)
        if "fwd" in modes:
            _, t_out = jvp(f, args, v)
            err = _rel(_flat(t_out), numeric)
            report.rows.append(InputReport(i, np.shape(_unbox(x)), "fwd", level, err))
            if not _close(_flat(t_out), numeric, rtol, atol):
                failures.append(("fwd", i, level, err))
        if "rev" in modes:
            out, f_vjp = vjp(f, *args)
            out_leaves, out_def = tree_flatten(out)
            u = tree_unflatten(out_def, [rng.standard_normal(np.shape(_unbox(o))) for o in out_leaves])
            ct = f_vjp(u)
            lhs = float(_flat(ct) @ _flat(v))
            rhs = float(_flat(u) @ numeric)
            err = _rel(lhs, rhs)
            report.rows.append(InputReport(i, np.shape(_unbox(x)), "rev", level, err))
            if not _close(lhs, rhs, rtol, atol):
                failures.append(("rev", i, level, err))
    if failures or order <= 1:
        return failures
    # Order k+1: check the derivative maps themselves, as functions of the inputs.
    if "fwd" in modes:
        v = tree_unflatten(tree_flatten(args)[1],
                           [rng.standard_normal(np.shape(_unbox(x))) for x in leaves])
        failures += _check_at(lambda *a: jvp(f, a, v)[1], args, ("fwd", "rev"), order - 1,
                              eps, rtol, atol, rng, report, level + 1)
    if "rev" in modes:
        out = f(*args)
        out_leaves, out_def = tree_flatten(out)
        u = tree_unflatten(out_def, [rng.standard_normal(np.shape(_unbox(o))) for o in out_leaves])
        failures += _check_at(lambda *a: vjp(f, *a)[1](u), args, ("fwd", "rev"), order - 1,
                              eps, rtol, atol, rng, report, level + 1)
    return failures


def check_grads(f, modes=("fwd", "rev"), order: int = 2, eps: float = 1e-6, rtol: float = 1e-5,
                atol: float = 1e-6, seed: int = 0, localize: bool = True):
    """Return a checker: ``check_grads(f, modes, order)(*args)``.

    On success it returns a :class:`GradCheckReport` (worst relative error per
    input, mode and order). On failure it raises :class:`GradCheckError` whose
    message names the first primitive whose own rule disagrees with central
    differences at the values it saw in this trace.
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
            lines = [f"{mode} mode, order {lvl}: input {i} has relative error {err:.3g}"
                     for mode, i, lvl, err in failures]
            culprits = localize_failure(f, args, eps, rtol, atol, seed) if localize else []
            if culprits:
                lines.append("culprit: " + culprits[0])
                lines += ["also: " + c for c in culprits[1:]]
            else:
                lines.append("every recorded primitive passes its local check at first order; "
                             "the error is in a higher-order rule or in code outside the tape")
            raise GradCheckError("gradient check failed\n  " + "\n  ".join(lines))
        return report

    return checker


def localize_failure(f, args, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0) -> list[str]:
    """Check each recorded primitive's VJP and JVP rules locally; describe the wrong ones."""
    leaves, td = tree_flatten(args)
    trace = ReverseTrace()
    f(*tree_unflatten(td, [trace.new_input(x) for x in leaves]))
    rng = np.random.default_rng(seed)
    found = []
    n = len(trace.tape)
    for pos, rec in enumerate(trace.tape):
        for argnum, _ in rec.parents:
            for mode in ("rev", "fwd"):
                err = _local_rule_error(rec, argnum, mode, eps, rtol, atol, rng)
                if err is not None:
                    found.append(f"primitive '{rec.prim.name}' (op {pos + 1} of {n} in the trace) "
                                 f"has a wrong {'VJP' if mode == 'rev' else 'JVP'} rule for "
                                 f"argument {argnum}: {err}")
    return found


def _local_rule_error(rec, argnum, mode, eps, rtol, atol, rng):
    args = [_unbox(a) for a in rec.args]
    x = np.asarray(args[argnum], dtype=float)

    def fi(xi):
        a = list(args)
        a[argnum] = xi
        return rec.prim.impl(*a, **rec.params)

    v = rng.standard_normal(x.shape)
    numeric = (_flat(fi(x + eps * v)) - _flat(fi(x - eps * v))) / (2 * eps)
    ans = fi(x)
    try:
        if mode == "fwd":
            got = _flat(rec.prim.jvp(argnum, v if x.shape else float(v), ans, args, rec.params))
            ok, err = _close(got, numeric, rtol, atol), _rel(got, numeric)
        else:
            u = tree_unflatten(tree_flatten(ans)[1],
                               [rng.standard_normal(np.shape(o)) for o in tree_flatten(ans)[0]])
            got = _flat(rec.prim.vjp(argnum, u, ans, args, rec.params))
            lhs, rhs = float(got @ v.ravel()), float(_flat(u) @ numeric)
            ok, err = _close(lhs, rhs, rtol, atol), _rel(lhs, rhs)
    except Exception as e:  # a rule that crashes is as wrong as one that miscomputes
        return f"the rule raised {type(e).__name__}: {e}"
    return None if ok else f"relative error {err:.3g}"
