"""MLP: value_and_grad of a tanh network with softmax cross-entropy.

64-256-256-10, batch 256, float64, the loss averaged over the batch. Besides the
peers, the table has the plain NumPy forward pass: chainrule's time over it is the
"cheap gradient" ratio (reverse mode promises a small constant, about 3).
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, chainrule_rows, jax_x64, lazy, staged


def make_data(sizes, batch, seed=31337):
    rng = np.random.default_rng(seed)
    params = []
    for m, n in zip(sizes[:-1], sizes[1:], strict=True):
        params += [rng.standard_normal((m, n)) / np.sqrt(m), 0.1 * rng.standard_normal(n)]
    x = rng.standard_normal((batch, sizes[0]))
    labels = rng.integers(0, sizes[-1], batch)
    onehot = np.eye(sizes[-1])[labels]
    return params, x, onehot


def loss(xp, logsumexp, params, x, onehot):
    """Mean softmax cross-entropy: ``mean(logsumexp(z) - <z, y>)`` with ``z`` the logits."""
    h = x
    n = len(params) // 2
    for i in range(n):
        z = h @ params[2 * i] + params[2 * i + 1]
        h = xp.tanh(z) if i < n - 1 else z
    return xp.mean(logsumexp(h, axis=1) - xp.sum(h * onehot, axis=1))


def _np_logsumexp(z, axis):
    m = np.max(z, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=axis)) + np.squeeze(m, axis)


def cases(sizes, batch) -> list[Case]:
    params, x, onehot = make_data(sizes, batch)
    out = []

    def chainrule_case(jit=False):
        import chainrule
        import chainrule.numpy as cnp
        from chainrule.scipy.special import logsumexp

        vg = chainrule.value_and_grad(lambda ps: loss(cnp, logsumexp, ps, x, onehot))
        if jit:
            vg = staged(chainrule.jit(vg), params)

        def run():
            v, g = vg(params)
            return [v, *g]
        return run
    out += chainrule_rows(chainrule_case)

    def numpy_case():
        def run():
            return [loss(np, _np_logsumexp, params, x, onehot)]
        return run
    out.append(Case("numpy", lazy(numpy_case), label="numpy forward", compare=1,
                    note="forward pass only (value)"))

    def torch_case():
        import torch

        ps = [torch.tensor(p, requires_grad=True) for p in params]
        tx = torch.tensor(x)
        ty = torch.tensor(onehot)

        def run():
            v = loss(torch, torch.logsumexp, ps, tx, ty)
            g = torch.autograd.grad(v, ps)
            return [v.item(), *[t.numpy() for t in g]]
        return run
    out.append(Case("torch", lazy(torch_case, "torch"), note="eager, float64"))

    def autograd_case():
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp

        vg = autograd.value_and_grad(lambda ps: loss(anp, logsumexp, ps, x, onehot))

        def run():
            v, g = vg(params)
            return [v, *g]
        return run
    out.append(Case("autograd", lazy(autograd_case, "autograd")))

    def mygrad_case():
        import mygrad as mg

        def lse(z, axis):
            m = np.max(z.data, axis=axis, keepdims=True)  # a constant shift
            return mg.log(mg.sum(mg.exp(z - m), axis=axis)) + np.squeeze(m, axis)

        def run():
            ps = [mg.tensor(p) for p in params]
            v = loss(mg, lse, ps, x, onehot)
            v.backward()
            return [v.item(), *[p.grad for p in ps]]
        return run
    out.append(Case("mygrad", lazy(mygrad_case, "mygrad")))

    def jax_case(jit):
        def factory():
            import jax
            import jax.numpy as jnp
            from jax.scipy.special import logsumexp

            with jax_x64():
                jps = [jnp.asarray(p) for p in params]
                jx, jy = jnp.asarray(x), jnp.asarray(onehot)
                vg = jax.value_and_grad(lambda ps: loss(jnp, logsumexp, ps, jx, jy))
                vg = jax.jit(vg) if jit else vg

            def run():
                with jax_x64():
                    v, g = vg(jps)
                    return [np.asarray(v), *[np.asarray(t) for t in g]]
            return run
        return factory
    out.append(Case("jax", lazy(jax_case(True), "jax"), label="jax (jit)", note="compiled"))
    out.append(Case("jax", lazy(jax_case(False), "jax"), label="jax (eager)"))
    return out


WORKLOAD = Workload(
    name="mlp",
    title="MLP {sizes} tanh + softmax cross-entropy, batch {batch}: value_and_grad",
    sizes={"tiny": {"sizes": (5, 7, 6, 3), "batch": 4},
           "full": {"sizes": (64, 256, 256, 10), "batch": 256}},
    cases=cases,
    rtol=1e-9,
    targets=(("value_and_grad vs PyTorch eager CPU", "chainrule", "torch", 1.0),
             ("value_and_grad vs the NumPy forward pass", "chainrule", "numpy forward", 3.0)),
    doc=__doc__,
)
