"""ADBench / GradBench GMM: the gradient of the Gaussian-mixture log posterior.

Definition and check value: ../shared/benchmarks/gmm.md (kept here in ``objective``'s
docstring). Every tool runs the same formulation: the triangular factors ``Q_k`` are
gathered from ``[exp(q_k), l_k, 0]`` with one constant index map, and the K*N Mahalanobis
terms are one batched matmul ``(x - mu_k) Q_k^T``.
"""

from __future__ import annotations

import math

import numpy as np

from ._harness import Case, Workload, chainrule_rows, jax_x64, lazy, staged

CHECK_VALUE = -20.067360546658307  # objective on gmm_d2_K3_n1.txt (float64)


def make_data(d, K, n, seed=31337):
    """Standard-normal alpha, mu, icf and x from a fixed seed; gamma = 1, m = 0."""
    rng = np.random.default_rng(seed)
    alphas = rng.standard_normal(K)
    means = rng.standard_normal((K, d))
    icf = rng.standard_normal((K, d * (d + 1) // 2))
    x = rng.standard_normal((n, d))
    return alphas, means, icf, x, 1.0, 0


def load_instance(path):
    """ADBench's text format: ``D K N``, K alphas, K rows of mu, K rows of icf, N rows of x,
    then ``gamma m``."""
    tokens = open(path).read().split()
    d, K, n = (int(t) for t in tokens[:3])
    vals = [float(t) for t in tokens[3:]]
    i = 0

    def take(count, shape):
        nonlocal i
        out = np.array(vals[i:i + count]).reshape(shape)
        i += count
        return out
    alphas = take(K, (K,))
    means = take(K * d, (K, d))
    icf = take(K * d * (d + 1) // 2, (K, d * (d + 1) // 2))
    x = take(n * d, (n, d))
    gamma, m = vals[i], int(vals[i + 1])
    return alphas, means, icf, x, gamma, m


def tri_index(d: int) -> np.ndarray:
    """``idx[i, j]`` into ``[exp(q) (d), l (d(d-1)/2), 0]`` such that ``Q = v[idx]``.

    ``l`` fills the strictly lower part column by column (column c: rows c+1 .. d-1).
    """
    idx = np.full((d, d), d + d * (d - 1) // 2)
    pos = d
    for c in range(d):
        idx[c, c] = c
        for r in range(c + 1, d):
            idx[r, c] = pos
            pos += 1
    return idx


def wishart_constant(d, K, gamma, m) -> float:
    """``K * C`` with ``C = n' d (log gamma - log(2)/2) - log Gamma_d(n'/2)``, ``n' = d + m + 1``."""
    from scipy.special import multigammaln

    n_ = d + m + 1
    return K * (n_ * d * (math.log(gamma) - 0.5 * math.log(2.0)) - multigammaln(0.5 * n_, d))


def objective(xp, logsumexp, alphas, means, icf, x, gamma, m, idx=None):
    """GMM log posterior (GradBench's corrected ADBench objective).

        beta[k,i] = alpha_k + sum_j q_kj - 0.5 || Q_k (x_i - mu_k) ||^2
        LL        = -N D/2 log(2 pi) + sum_i logsumexp_k beta[k,i] - N logsumexp(alpha)
        W         = sum_k [ gamma^2/2 (||exp(q_k)||^2 + ||l_k||^2) - m sum_j q_kj ] - K C
        objective = LL - W

    ``xp`` is a NumPy-like namespace (chainrule.numpy, numpy, autograd.numpy, jax.numpy,
    mygrad), ``logsumexp(a, axis)`` the matching stable log-sum-exp.
    """
    K, d = means.shape
    n = x.shape[0]
    idx = tri_index(d) if idx is None else idx
    q = icf[:, :d]
    lower = icf[:, d:]
    eq = xp.exp(q)
    v = xp.concatenate([eq, lower, xp.zeros((K, 1))], axis=1)
    Q = v[:, idx]  # (K, d, d) lower triangular
    xc = x[None, :, :] - means[:, None, :]  # (K, n, d)
    Qxc = xc @ xp.swapaxes(Q, 1, 2)  # row i of Q_k (x_i - mu_k), all k and i
    beta = (alphas + xp.sum(q, axis=1))[:, None] - 0.5 * xp.sum(Qxc * Qxc, axis=2)
    ll = (-0.5 * n * d * math.log(2 * math.pi) + xp.sum(logsumexp(beta, axis=0))
          - n * logsumexp(alphas, axis=0))
    w = (xp.sum(0.5 * gamma**2 * (xp.sum(eq * eq, axis=1) + xp.sum(lower * lower, axis=1))
                - m * xp.sum(q, axis=1)) - wishart_constant(d, K, gamma, m))
    return ll - w


def objective_torch(torch, alphas, means, icf, x, gamma, m, idx):
    """The same formulation in PyTorch's names."""
    K, d = means.shape
    n = x.shape[0]
    q = icf[:, :d]
    lower = icf[:, d:]
    eq = torch.exp(q)
    v = torch.cat([eq, lower, torch.zeros((K, 1), dtype=icf.dtype)], dim=1)
    Q = v[:, idx]
    xc = x[None, :, :] - means[:, None, :]
    Qxc = xc @ Q.transpose(1, 2)
    beta = (alphas + q.sum(1))[:, None] - 0.5 * (Qxc * Qxc).sum(2)
    ll = (-0.5 * n * d * math.log(2 * math.pi) + torch.logsumexp(beta, 0).sum()
          - n * torch.logsumexp(alphas, 0))
    w = ((0.5 * gamma**2 * ((eq * eq).sum(1) + (lower * lower).sum(1)) - m * q.sum(1)).sum()
         - wishart_constant(d, K, gamma, m))
    return ll - w


def np_logsumexp(a, axis):
    mx = np.max(a, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(a - mx), axis=axis)) + np.squeeze(mx, axis)


def cases(d, K, n) -> list[Case]:
    alphas, means, icf, x, gamma, m = make_data(d, K, n)
    idx = tri_index(d)
    primals = (alphas, means, icf)
    out = []

    def chainrule_case(jit=False):
        import chainrule
        import chainrule.numpy as cnp
        from chainrule.scipy.special import logsumexp

        f = lambda a, mu, c: objective(cnp, logsumexp, a, mu, c, x, gamma, m, idx)  # noqa: E731
        vg = chainrule.value_and_grad(f, argnums=(0, 1, 2))
        if jit:
            vg = staged(chainrule.jit(vg), *primals)

        def run():
            v, g = vg(*primals)
            return [v, *g]
        return run
    out += chainrule_rows(chainrule_case)

    def objective_case():
        import chainrule.numpy as cnp
        from chainrule.scipy.special import logsumexp

        def run():
            return [objective(cnp, logsumexp, *primals, x, gamma, m, idx)]
        return run
    out.append(Case("chainrule", lazy(objective_case), label="chainrule objective", compare=1,
                    note="objective only, untraced"))

    def numpy_case():
        def run():
            return [objective(np, np_logsumexp, *primals, x, gamma, m, idx)]
        return run
    out.append(Case("numpy", lazy(numpy_case), label="numpy objective", compare=1,
                    note="objective only"))

    def torch_case():
        import torch

        ps = [torch.tensor(p, requires_grad=True) for p in primals]
        tx, tidx = torch.tensor(x), torch.tensor(idx)

        def run():
            v = objective_torch(torch, *ps, tx, gamma, m, tidx)
            g = torch.autograd.grad(v, ps)
            return [v.item(), *[t.numpy() for t in g]]
        return run
    out.append(Case("torch", lazy(torch_case, "torch"), note="eager, float64"))

    def jax_case(jit):
        def factory():
            import jax
            import jax.numpy as jnp
            from jax.scipy.special import logsumexp

            with jax_x64():
                jps = [jnp.asarray(p) for p in primals]
                jx = jnp.asarray(x)
                f = lambda a, mu, c: objective(jnp, logsumexp, a, mu, c, jx, gamma, m, idx)  # noqa: E731
                vg = jax.value_and_grad(f, argnums=(0, 1, 2))
                vg = jax.jit(vg) if jit else vg

            def run():
                with jax_x64():
                    v, g = vg(*jps)
                    return [np.asarray(v), *[np.asarray(t) for t in g]]
            return run
        return factory
    out.append(Case("jax", lazy(jax_case(True), "jax"), label="jax (jit)", note="compiled"))
    out.append(Case("jax", lazy(jax_case(False), "jax"), label="jax (eager)"))

    def autograd_case():
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp

        vg = autograd.value_and_grad(
            lambda ps: objective(anp, logsumexp, *ps, x, gamma, m, idx))

        def run():
            v, g = vg(list(primals))
            return [v, *g]
        return run
    out.append(Case("autograd", lazy(autograd_case, "autograd")))

    def mygrad_case():
        import mygrad as mg

        def lse(a, axis):
            mx = np.max(a.data, axis=axis, keepdims=True)  # a constant shift
            return mg.log(mg.sum(mg.exp(a - mx), axis=axis)) + np.squeeze(mx, axis)

        def run():
            ps = [mg.tensor(p) for p in primals]
            v = objective(mg, lse, *ps, x, gamma, m, idx)
            v.backward()
            return [v.item(), *[p.grad for p in ps]]
        return run
    out.append(Case("mygrad", lazy(mygrad_case, "mygrad")))
    return out


WORKLOAD = Workload(
    name="gmm",
    title="GMM objective gradient (ADBench), d={d} K={K} n={n}",
    sizes={"tiny": {"d": 3, "K": 4, "n": 5},
           "full": [{"d": 10, "K": 25, "n": 1000}, {"d": 64, "K": 200, "n": 1000}]},
    cases=cases,
    rtol=1e-8,
    targets=(("gradient vs PyTorch eager", "chainrule", "torch", 1.0),
             ("gradient vs JAX jit", "chainrule", "jax (jit)", 2.0),
             ("gradient vs chainrule's own objective", "chainrule", "chainrule objective", 4.0)),
    doc=__doc__,
)
