"""Checkpointing: the time of one gradient of a deep MLP, with and without it.

The network, data and loss are those of the ``memory`` workload (a 100-layer tanh MLP,
float64, ``0.5 * mean(h * h)``), in two shapes (:data:`SHAPES`): the ``memory`` workload's
(width 256, batch 1024), where a layer's gradient is a quarter of its activation, and a narrow
one with a large batch (width 128, batch 4096: a layer's gradient is 1/32 of its activation),
where the activations dominate, as in Chen et al. 2016's setting. "checkpoint/10" wraps each
block of 10 layers in the tool's checkpoint (``chainrule.checkpoint``,
``torch.utils.checkpoint.checkpoint`` with ``use_reentrant=False``, ``jax.checkpoint``): the
block's activations are recomputed in the backward pass (Chen et al.: about one extra forward
pass, a third more arithmetic). The peak memory of the same two chainrule gradients at the first
shape is in the ``memory`` table.

``python -m benchmarks._checkpoint_scaling`` judges issue 16's two targets (peak at most 0.25x,
time at most 1.5x the un-checkpointed gradient's) for both shapes at several depths, with blocks
of 10 layers and of ``round(sqrt(layers))``: :func:`scaling`.
"""

from __future__ import annotations

import math
import statistics
import sys

import numpy as np

from ._harness import Case, Workload, gradient_runner, lazy, time_round_robin
from .memory import CHECKPOINT_EVERY, _measure, gradient_fn, loss, make_data


def checkpoint_block(tool):
    """The tool's checkpoint as ``loss``'s ``block`` (a wrapper of a function of arrays)."""
    if tool == "chainrule":
        import chainrule

        return chainrule.checkpoint
    if tool == "torch":
        import torch.utils.checkpoint as tc

        return lambda f: lambda *a: tc.checkpoint(f, *a, use_reentrant=False)
    if tool == "jax":
        import jax

        return jax.checkpoint
    raise ValueError(f"no checkpoint for {tool!r}")


def cases(layers, width, batch) -> list[Case]:
    params, x = make_data(layers, width, batch)

    def case(tool, ck, **kw):
        def factory():
            block = checkpoint_block(tool) if ck else None
            return gradient_runner(tool, lambda xp, logsumexp, ps, x: loss(xp, ps, x, block=block),
                                   params, (x,), jit=tool == "jax")
        return Case(tool, lazy(factory, tool), **kw)
    return [case("chainrule", False),
            case("chainrule", True, label="chainrule (checkpoint/10)",
                 note=f"chainrule.checkpoint every {CHECKPOINT_EVERY} layers"),
            case("torch", False, note="eager, float64"),
            case("torch", True, label="torch (checkpoint/10)",
                 note="torch.utils.checkpoint, use_reentrant=False"),
            case("jax", False, label="jax (jit)", note="compiled"),
            case("jax", True, label="jax (jit, checkpoint/10)", note="jax.checkpoint, compiled")]


#: (width, batch) of the two networks (100 layers in the workload): the ``memory`` workload's,
#: and one where the activations (batch x width a layer) dominate the parameters (width^2)
SHAPES = ((256, 1024), (128, 4096))
PEAK_LIMIT = 0.25  # issue 16: the checkpointed peak at most a quarter of the plain one
TIME_LIMIT = 1.5  # ... for at most 1.5x the plain gradient's time

WORKLOAD = Workload(
    name="checkpoint",
    title="Checkpointing: gradient of a {layers}-layer tanh MLP (width {width}, batch {batch})",
    sizes={"tiny": [{"layers": 4, "width": 8, "batch": 5}, {"layers": 4, "width": 4, "batch": 20}],
           "full": [{"layers": 100, "width": w, "batch": b} for w, b in SHAPES]},
    cases=cases,
    rtol=1e-8,
    targets=(("time, checkpoint every 10 layers vs none", "chainrule (checkpoint/10)",
              "chainrule", TIME_LIMIT),),
    doc=__doc__,
)


def scaling(depths=(25, 50, 100, 200), width=256, batch=1024, clock="cpu", min_repeats=5,
            min_time=1.0) -> str:
    """Issue 16's targets against depth for one shape: a Markdown table, then one target line
    per judged ratio (the harness's format).

    For each depth ``n`` and block size (10 layers, and ``k = round(sqrt(n))``, Chen et al.'s
    choice), the plain and the checkpointed gradient's peaks are the ``memory`` workload's (the
    rise of the peak RSS during one gradient in a fresh process, parameters and input already
    resident, the value and gradient included). "beyond the gradient" is a peak less the bytes
    of the gradient that call returned (what the child returned, measured): what the gradient
    keeps alive besides its result, the part checkpointing controls. The time ratio is of the
    medians of the two gradients (the same functions as the children's) timed round-robin in
    this process with ``clock`` (:func:`benchmarks._harness.time_round_robin`). The gradients
    must agree (rtol 1e-8). Targets: peak ratio <= :data:`PEAK_LIMIT` (issue 16's), time ratio
    <= :data:`TIME_LIMIT` (issue 16's), and the beyond-the-gradient ratio <= ``PEAK_LIMIT``.
    """
    lines = [f"| layers | checkpoint every | gradient | plain peak (beyond the gradient) | "
             f"checkpointed peak (beyond the gradient) | peak / plain | beyond / plain's | "
             f"time / plain ({clock} clock) |",
             "|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for n in depths:
        params, x = make_data(n, width, batch)
        plain, want = _measure("chainrule", n, width, batch)
        grad_bytes = sum(a.nbytes for a in want[1:])
        sizes = list(dict.fromkeys((CHECKPOINT_EVERY, max(1, round(math.sqrt(n))))))
        timed = [Case("plain", gradient_fn("chainrule", params, x))]
        timed += [Case(f"every {k}", gradient_fn("chainrule-checkpoint", params, x, k))
                  for k in sizes]
        times = {name: statistics.median(ts) for name, ts in
                 time_round_robin(timed, min_time, min_repeats, clock=clock).items()}
        for k in sizes:
            peak, got = _measure("chainrule-checkpoint", n, width, batch, k)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
            which = ", ".join(filter(None, [f"{k}" if k == CHECKPOINT_EVERY else "",
                                            f"sqrt({n}) = {k}" if k == sizes[-1] else ""]))
            ratios = (_div(peak, plain), _div(peak - grad_bytes, plain - grad_bytes),
                      _div(times[f"every {k}"], times["plain"]))
            lines.append("| " + " | ".join([
                f"{n}", which, _mib(grad_bytes),
                f"{_mib(plain)} ({_mib(plain - grad_bytes)})",
                f"{_mib(peak)} ({_mib(peak - grad_bytes)})", *map(_shown, ratios)]) + " |")
            print(lines[-1], file=sys.stderr, flush=True)
            where = f"{n} layers, checkpoint every {k} vs none"
            verdicts += [_target(f"peak memory, {where}", ratios[0], PEAK_LIMIT),
                         _target(f"time, {where}", ratios[2], TIME_LIMIT),
                         _target(f"peak beyond the returned gradient, {where}", ratios[1],
                                 PEAK_LIMIT)]
    return "\n".join([*lines, "", *verdicts])


def _div(a, b):
    return a / b if a > 0 and b > 0 else None  # toy sizes: the RSS mark may not move at all


def _shown(ratio) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _target(desc, ratio, limit) -> str:
    """One target line as the harness's Markdown tables write it (``_harness.table``)."""
    status = "n/a" if ratio is None else ("met" if ratio <= limit else "NOT met")
    return f"- target: {desc} <= {limit:g}: **{_shown(ratio)}**, {status}"


def _mib(nbytes) -> str:
    return f"{nbytes / 2 ** 20:.1f} MiB"
