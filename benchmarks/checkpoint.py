"""Checkpointing: the time of one gradient of the deep MLP of ``memory``, with and without it.

The network, data and loss are those of the ``memory`` workload (a 100-layer tanh MLP, width
256, batch 1024, float64, ``0.5 * mean(h * h)``). "checkpoint/10" wraps each block of 10 layers
in the tool's checkpoint (``chainrule.checkpoint``, ``torch.utils.checkpoint.checkpoint`` with
``use_reentrant=False``, ``jax.checkpoint``): the block's activations are recomputed in the
backward pass (Chen et al. 2016: about one extra forward pass, a third more arithmetic). The
peak memory of the same two chainrule gradients is in the ``memory`` table.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, jax_x64, lazy
from .memory import CHECKPOINT_EVERY, loss, make_data


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
