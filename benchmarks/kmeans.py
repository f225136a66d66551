"""GradBench k-means: the cost of a clustering and its Newton direction.

Definition and check values: ../shared/benchmarks/kmeans.md (kept here in ``cost``'s
docstring). The Newton direction divides the gradient by the Hessian-vector product with a
matrix of ones; every tool computes both in one forward-over-reverse pass (``jvp`` of
``grad``; PyTorch: a double backward), as GradBench's implementations do.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, as_arrays, chainrule_rows, forward_case, jax_runner, lazy, staged

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


def cost_of(xp, logsumexp, params, points):
    """``cost`` in the harness's layout (``params = [centroids]``, the points a constant)."""
    return cost(xp, points, *params)


def newton(ad, xp, points):
    """``c -> (cost, grad / (H @ ones))`` by forward over reverse (``jvp`` of ``grad``), in a
    tool with JAX's transform names (``ad``: chainrule or jax; ``xp`` its NumPy)."""
    f = lambda c: cost(xp, points, c)  # noqa: E731

    def direction(c):
        g, hv = ad.jvp(ad.grad(f), (c,), (xp.ones_like(c),))
        return f(c), g / hv
    return direction


def cases(k, n, d) -> list[Case]:
    points, centroids = make_data(k, n, d)
    ones = np.ones_like(centroids)
    out = []

    def chainrule_case(jit=False):
        import chainrule
        import chainrule.numpy as cnp

        fn = newton(chainrule, cnp, points)
        if jit:
            fn = staged(chainrule.jit(fn), centroids)
        return lambda: as_arrays(fn(centroids))
    out += chainrule_rows(chainrule_case)
    out.append(forward_case("chainrule", cost_of, [centroids], (points,), label="chainrule cost",
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
    out.append(Case("jax", lazy(lambda: jax_runner(
        lambda jax, jnp: newton(jax, jnp, jnp.asarray(points)), [centroids]), "jax"),
        label="jax (jit)", note="compiled"))

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
