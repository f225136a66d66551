"""Checkpointing: the time of one gradient of the deep MLP of ``memory``, with and without it.

The network, data and loss are those of the ``memory`` workload (a 100-layer tanh MLP, width
256, batch 1024, float64, ``0.5 * mean(h * h)``). "checkpoint/10" wraps each block of 10 layers
in the tool's checkpoint (``chainrule.checkpoint``, ``torch.utils.checkpoint.checkpoint`` with
``use_reentrant=False``, ``jax.checkpoint``): the block's activations are recomputed in the
backward pass (Chen et al. 2016: about one extra forward pass, a third more arithmetic). The
peak memory of the same two chainrule gradients is in the ``memory`` table.

``python -m benchmarks._checkpoint_scaling [LAYERS ...]`` measures how the peak grows with depth
(default 25, 50, 100, 200 layers): the plain gradient, a checkpoint every 10 layers and one
every ``round(sqrt(layers))`` layers, each in a fresh process as in the ``memory`` table, and
prints a Markdown table (the one in ``benchmarks/README.md``).
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ._harness import Case, Workload, jax_x64, lazy
from .memory import CHECKPOINT_EVERY, _measure, loss, make_data


def cases(layers, width, batch) -> list[Case]:
    params, x = make_data(layers, width, batch)
    out = []

    def chainrule_case(ck):
        def factory():
            import chainrule
            import chainrule.numpy as cnp

            block = chainrule.checkpoint if ck else None
            vg = chainrule.value_and_grad(lambda ps: loss(cnp, ps, x, block=block))

            def run():
                v, g = vg(params)
                return [v, *g]
            return run
        return factory
    out.append(Case("chainrule", lazy(chainrule_case(False))))
    out.append(Case("chainrule", lazy(chainrule_case(True)), label="chainrule (checkpoint/10)",
                    note=f"chainrule.checkpoint every {CHECKPOINT_EVERY} layers"))

    def torch_case(ck):
        def factory():
            import torch
            import torch.utils.checkpoint as tc

            ps = [torch.tensor(p, requires_grad=True) for p in params]
            tx = torch.tensor(x)
            block = (lambda f: lambda *a: tc.checkpoint(f, *a, use_reentrant=False)) if ck else None

            def run():
                v = loss(torch, ps, tx, block=block)
                return [v.item(), *[t.numpy() for t in torch.autograd.grad(v, ps)]]
            return run
        return factory
    out.append(Case("torch", lazy(torch_case(False), "torch"), note="eager, float64"))
    out.append(Case("torch", lazy(torch_case(True), "torch"), label="torch (checkpoint/10)",
                    note="torch.utils.checkpoint, use_reentrant=False"))

    def jax_case(ck):
        def factory():
            import jax
            import jax.numpy as jnp

            with jax_x64():
                jps = [jnp.asarray(p) for p in params]
                jx = jnp.asarray(x)
                block = jax.checkpoint if ck else None
                vg = jax.jit(jax.value_and_grad(lambda ps, x: loss(jnp, ps, x, block=block)))

            def run():
                with jax_x64():
                    v, g = vg(jps, jx)
                    return [np.asarray(v), *[np.asarray(t) for t in g]]
            return run
        return factory
    out.append(Case("jax", lazy(jax_case(False), "jax"), label="jax (jit)", note="compiled"))
    out.append(Case("jax", lazy(jax_case(True), "jax"), label="jax (jit, checkpoint/10)",
                    note="jax.checkpoint, compiled"))
    return out


WORKLOAD = Workload(
    name="checkpoint",
    title="Checkpointing: gradient of a {layers}-layer tanh MLP (width {width}, batch {batch})",
    sizes={"tiny": {"layers": 4, "width": 8, "batch": 5},
           "full": {"layers": 100, "width": 256, "batch": 1024}},
    cases=cases,
    rtol=1e-8,
    targets=(("time, checkpoint every 10 layers vs none", "chainrule (checkpoint/10)",
              "chainrule", 1.5),),
    doc=__doc__,
)


def scaling(depths=(25, 50, 100, 200), width=256, batch=1024) -> str:
    """The peak of one gradient against depth, plain and checkpointed (a Markdown table).

    Each peak is the ``memory`` workload's (the rise of the peak RSS during one gradient,
    parameters and input already resident, the gradient itself included). In parentheses:
    the peak less the gradient's bytes (``layers * (width + 1) * width`` float64 numbers),
    which every gradient ends up holding; the last column, the gradient over the plain peak,
    is the floor of the ratio for any checkpointing. The three gradients must agree
    (rtol 1e-8).
    """
    lines = ["| layers | gradient | plain | checkpoint every 10 | vs plain | "
             "checkpoint every k = sqrt(layers) | vs plain | gradient / plain |",
             "|---|---|---|---|---|---|---|---|"]
    for n in depths:
        k = max(1, round(math.sqrt(n)))
        plain, want = _measure("chainrule", n, width, batch)
        grad_bytes = sum(a.nbytes for a in want[1:])
        cells = [f"{n}", _mib(grad_bytes), f"{_mib(plain)} ({_mib(plain - grad_bytes)})"]
        for every in (CHECKPOINT_EVERY, k):
            peak, got = _measure("chainrule-checkpoint", n, width, batch, every)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
            cells += [("" if every == CHECKPOINT_EVERY else f"k = {k}: ")
                      + f"{_mib(peak)} ({_mib(peak - grad_bytes)})", _ratio(peak, plain)]
        cells.append(_ratio(grad_bytes, plain))
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if b > 0 else "-"  # toy sizes: the RSS mark may not move at all


def _mib(nbytes) -> str:
    return f"{nbytes / 2 ** 20:.1f} MiB"
