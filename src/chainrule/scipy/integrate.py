"""``chainrule.scipy.integrate``: ``odeint`` and ``solve_ivp``, differentiable to any order.

SciPy's solvers compute the solution; reverse mode is the adjoint method and forward mode
forward sensitivities, each again a solve by SciPy (``chainrule.rules.integrate`` has the
formulas). ``vmap`` over ``y0`` or the arguments solves the stacked system once.
"""

from __future__ import annotations

from ..batching import register_batching_rule, vmap
from ..core.aval import shape_of
from ..rules.integrate import OdeCall, odeint, odeint_p, solve_ivp
from ..rules.linear import getitem, reshape
from ..rules.shape import broadcast_to, moveaxis, stack

__all__ = ["odeint", "solve_ivp"]


def _batched_call(call, size, n, batched_args):
    """``call``'s system for ``size`` examples at once: the states stacked into one vector."""
    fun = call.fun
    in_axes = (0, None) + tuple(0 if b else None for b in batched_args)

    def stacked(y, t, *args):
        return reshape(vmap(fun, in_axes=in_axes)(reshape(y, (size, n)), t, *args), (size * n,))
    atol = call.atol
    if atol is not None and shape_of(atol):
        atol = [a for _ in range(size) for a in atol]  # per component, tiled per example
    return OdeCall(stacked, f"vmap({call.name})", call.method, call.rtol, atol, call.options,
                   call.derived_options, dense=call.dense)


def _batch_rule(size, vals, batched, *, call):
    """A batch of solves sharing their time points is one solve of the stacked system; a batch
    of time grids is one solve per example (they cannot share steps)."""
    y0, ts, *args = vals
    if batched[1]:
        outs = [odeint_p(*[getitem(v, i) if b else v for v, b in zip(vals, batched, strict=True)],
                         call=call) for i in range(size)]
        return stack(outs)
    n = shape_of(y0)[-1]
    y0 = y0 if batched[0] else broadcast_to(y0, (size, n))
    # one batched system per pattern, kept: its dense solution serves repeated evaluations
    stacked = call.memo(("vmap", size, tuple(batched[2:])),
                        lambda: _batched_call(call, size, n, batched[2:]))
    ys = odeint_p(reshape(y0, (size * n,)), ts, *args, call=stacked)
    return moveaxis(reshape(ys, (shape_of(ys)[0], size, n)), 1, 0)


register_batching_rule(odeint_p, _batch_rule)
