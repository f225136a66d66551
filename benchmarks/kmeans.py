"""GradBench k-means: the cost of a clustering and its Newton direction.

Definition and check values: ../shared/benchmarks/kmeans.md (kept here in ``cost``'s
docstring). The Newton direction divides the gradient by the Hessian-vector product with a
matrix of ones; every tool computes both in one forward-over-reverse pass (``jvp`` of
``grad``; PyTorch: a double backward), as GradBench's implementations do.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, chainrule_rows, jax_x64, lazy, staged

# The check instance of ../shared/benchmarks/kmeans.md (float64).
CHECK_POINTS = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.2]])
CHECK_CENTROIDS = np.array([[0.1, 0.1], [0.9, 0.8]])
CHECK_COST = 1.71
CHECK_DIR = np.array([[-0.0666666666666667, -0.3], [-0.1, 0.3]])


def make_data(k: int, n: int, d: int, seed: int = 31337):
    """Points uniform in [0, 1) from a fixed seed; the centroids are the last ``k`` points
    (so that no cluster is empty)."""
    points = np.random.default_rng(seed).random((n, d))
    return points, points[-k:].copy()


def cost(xp, points, centroids):
    """``sum_i min_j D[j, i]`` with ``D[j, i] = ||P_i||^2 + ||C_j||^2 - 2 C_j . P_i`` (k x n).

    ``xp`` is a NumPy-like namespace (chainrule.numpy, numpy, autograd.numpy, jax.numpy, torch
    through ``torch_min``); the points are a constant."""
    pp = xp.sum(points * points, 1)
    cc = xp.sum(centroids * centroids, 1)
    dist = pp[None, :] + cc[:, None] - 2.0 * (centroids @ points.T)
    return xp.sum(xp.min(dist, 0))


def cost_torch(torch, points, centroids):
    pp = (points * points).sum(1)
    cc = (centroids * centroids).sum(1)
    dist = pp[None, :] + cc[:, None] - 2.0 * (centroids @ points.T)
    return dist.min(0).values.sum()


def cases(k, n, d) -> list[Case]:
    points, centroids = make_data(k, n, d)
    ones = np.ones_like(centroids)
    out = []

    def chainrule_case(jit=False):
        import chainrule
        import chainrule.numpy as cnp

        f = lambda c: cost(cnp, points, c)  # noqa: E731

        def newton(c):
            g, hv = chainrule.jvp(chainrule.grad(f), (c,), (np.ones_like(c),))
            return f(c), g / hv
        if jit:
            newton = staged(chainrule.jit(newton), centroids)
        return lambda: list(newton(centroids))
    out += chainrule_rows(chainrule_case)

    def objective_case():
        import chainrule.numpy as cnp

        return lambda: [cost(cnp, points, centroids)]
    out.append(Case("chainrule", lazy(objective_case), label="chainrule cost", compare=1,
                    note="cost only, untraced"))

    def torch_case():
        import torch

        tp = torch.tensor(points)
        tones = torch.tensor(ones)

        def run():
            c = torch.tensor(centroids, requires_grad=True)
            v = cost_torch(torch, tp, c)
            (g,) = torch.autograd.grad(v, c, create_graph=True)
            (hv,) = torch.autograd.grad(g, c, grad_outputs=tones)
            return [v.item(), (g / hv).detach().numpy()]
        return run
    out.append(Case("torch", lazy(torch_case, "torch"), note="eager, double backward"))

    def jax_case():
        import jax
        import jax.numpy as jnp

        with jax_x64():
            jp, jc = jnp.asarray(points), jnp.asarray(centroids)
            f = lambda c: cost(jnp, jp, c)  # noqa: E731

            @jax.jit
            def newton(c):
                g, hv = jax.jvp(jax.grad(f), (c,), (jnp.ones_like(c),))
                return f(c), g / hv

        def run():
            with jax_x64():
                v, direction = newton(jc)
                return [np.asarray(v), np.asarray(direction)]
        return run
    out.append(Case("jax", lazy(jax_case, "jax"), label="jax (jit)", note="compiled"))

    def autograd_case():
        import autograd
        import autograd.numpy as anp

        f = lambda c: cost(anp, points, c)  # noqa: E731
        gradient = autograd.grad(f)
        hvp = autograd.hessian_vector_product(f)

        def run():
            return [f(centroids), gradient(centroids) / hvp(centroids, ones)]
        return run
    out.append(Case("autograd", lazy(autograd_case, "autograd"), note="grad, then hvp"))
    return out


WORKLOAD = Workload(
    name="kmeans",
    title="k-means cost and Newton direction (GradBench), k={k} n={n} d={d}",
    sizes={"tiny": {"k": 3, "n": 20, "d": 2},
           "full": [{"k": 10, "n": 1000, "d": 8}, {"k": 100, "n": 1000, "d": 8}]},
    cases=cases,
    rtol=1e-9,
    targets=(("Newton direction vs PyTorch eager", "chainrule", "torch", 1.0),
             ("jit Newton direction vs JAX jit", "chainrule (jit)", "jax (jit)", 1.0)),
    doc=__doc__,
)
