"""Per-example gradients: the gradient of an MLP's loss for each of 256 examples separately.

The network and data are those of the ``mlp`` workload (tanh layers, softmax cross-entropy,
float64); the loss of one example is ``logsumexp(z) - <z, y>``. What differential privacy
(per-example clipping) and influence functions need: a ``(256,) + W.shape`` gradient for every
parameter ``W``. chainrule's ``vmap(grad(loss), in_axes=(None, 0, 0))`` runs each primitive
once on the whole batch (its batching rule), against ``torch.func.vmap(torch.func.grad)``,
``jax.vmap(jax.grad)`` (compiled and eager) and a Python loop of 256 ordinary gradients.

Two networks: the ``mlp`` workload's 64-256-256-10 (85,770 parameters, so 175 MB of
per-example gradients: every tool is bound by writing them, and a loop of gradients does the
same arithmetic) and a small 16-32-32-4 one, where the loop pays Python's per-call cost 256
times and batching is what saves it.

``numpy (by hand)`` is the batched backward pass written out in NumPy (one GEMM per layer
each way, ``einsum('bi,bj->bij')`` for the weight gradients): the floor for any tool. On the
large network the per-example gradients alone are 175 MB of fresh memory, whose first
writes cost more than a tenth of the loop's time on these machines: there the table shows
how close chainrule comes to that floor. With ``--clock cpu`` the time BLAS's helper
threads spend waiting counts too (the batched GEMMs are threaded, the loop's small products
are not); ``OPENBLAS_NUM_THREADS=1`` measures the work alone.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, as_arrays, jax_cases, lazy, namespace, staged
from .mlp import make_data


def example_loss(xp, logsumexp, params, x, y):
    """Softmax cross-entropy of one example (``x``: features, ``y``: one-hot label)."""
    h = x
    n = len(params) // 2
    for i in range(n):
        z = h @ params[2 * i] + params[2 * i + 1]
        h = xp.tanh(z) if i < n - 1 else z
    return logsumexp(h, axis=-1) - xp.sum(h * y, axis=-1)


def cases(sizes, batch) -> list[Case]:
    params, x, onehot = make_data(sizes, batch)
    out = []

    def chainrule_case(kind):
        def factory():
            import chainrule

            xp, logsumexp = namespace("chainrule")
            g = chainrule.grad(lambda ps, xi, yi: example_loss(xp, logsumexp, ps, xi, yi))
            if kind == "loop":
                def run():
                    gs = [g(params, xi, yi) for xi, yi in zip(x, onehot)]
                    return [np.stack(col) for col in zip(*gs)]
                return run
            pe = chainrule.vmap(g, in_axes=(None, 0, 0))
            if kind == "jit":
                pe = staged(chainrule.jit(pe), params, x, onehot)
            return lambda: as_arrays(pe(params, x, onehot))
        return factory
    out.append(Case("chainrule", lazy(chainrule_case("vmap")), note="vmap(grad(loss))"))
    out.append(Case("chainrule", lazy(chainrule_case("jit")), label="chainrule (jit)",
                    note="jit(vmap(grad(loss))), staged before timing"))
    out.append(Case("chainrule", lazy(chainrule_case("loop")), label="chainrule (loop)",
                    note="a Python loop of grad(loss)"))

    def numpy_case():
        # the batched backward pass written out: what any per-example tool must at least do
        # (one GEMM per layer each way, one outer product per weight matrix per example)
        def run():
            n = len(params) // 2
            hs, h = [x], x
            for i in range(n):
                z = h @ params[2 * i] + params[2 * i + 1]
                h = np.tanh(z) if i < n - 1 else z
                hs.append(h)
            e = np.exp(h - h.max(axis=1, keepdims=True))
            dz = e / e.sum(axis=1, keepdims=True) - onehot
            grads = [None] * (2 * n)
            for i in reversed(range(n)):
                grads[2 * i] = np.einsum("bi,bj->bij", hs[i], dz)
                grads[2 * i + 1] = dz
                if i:
                    dz = (dz @ params[2 * i].T) * (1 - hs[i] ** 2)
            return grads
        return run
    out.append(Case("numpy", lazy(numpy_case), label="numpy (by hand)",
                    note="the batched backward pass written out in NumPy: the floor"))

    def torch_case(kind):
        def factory():
            import torch

            ps = [torch.tensor(p) for p in params]
            tx, ty = torch.tensor(x), torch.tensor(onehot)
            xp, logsumexp = namespace("torch")

            def lossf(ps, xi, yi):
                return example_loss(xp, logsumexp, ps, xi, yi)
            if kind == "loop":
                leaves = [p.clone().requires_grad_(True) for p in ps]

                def run():
                    gs = [torch.autograd.grad(lossf(leaves, xi, yi), leaves) for xi, yi in zip(tx, ty)]
                    return [torch.stack(col).numpy() for col in zip(*gs)]
                return run
            pe = torch.func.vmap(torch.func.grad(lossf), in_dims=(None, 0, 0))
            return lambda: as_arrays(pe(ps, tx, ty))
        return factory
    out.append(Case("torch", lazy(torch_case("vmap"), "torch"), label="torch.func",
                    note="torch.func.vmap(torch.func.grad(loss)), eager"))
    out.append(Case("torch", lazy(torch_case("loop"), "torch"), label="torch (loop)",
                    note="a Python loop of torch.autograd.grad"))

    def jax_per_example(jax, jnp):
        xp, logsumexp = namespace("jax")
        return jax.vmap(jax.grad(lambda ps, xi, yi: example_loss(xp, logsumexp, ps, xi, yi)),
                        in_axes=(None, 0, 0))
    out += jax_cases(jax_per_example, [params, x, onehot], notes=("compiled", ""))
    return out


WORKLOAD = Workload(
    name="per_example",
    title="Per-example gradients: MLP {sizes} tanh + softmax cross-entropy, batch {batch}",
    sizes={"tiny": {"sizes": (5, 7, 6, 3), "batch": 4},
           # the mlp workload's network (its per-example gradients are 175 MB: memory-bound),
           # and a small one, where a loop of grads pays Python's cost per example
           "full": [{"sizes": (64, 256, 256, 10), "batch": 256},
                    {"sizes": (16, 32, 32, 4), "batch": 256}]},
    cases=cases,
    rtol=1e-9,
    targets=(("per-example gradients vs torch.func", "chainrule", "torch.func", 2.0),
             ("per-example gradients vs a loop of grads", "chainrule", "chainrule (loop)", 0.1)),
    doc=__doc__,
)
