"""ADBench / GradBench GMM: the gradient of the Gaussian-mixture log posterior.

Definition and check value: ../shared/benchmarks/gmm.md (kept here in ``objective``'s
docstring). Every tool runs the same formulation: the triangular factors ``Q_k`` are
gathered from ``[exp(q_k), l_k, 0]`` with one constant index map, and the K*N Mahalanobis
terms are one batched matmul ``(x - mu_k) Q_k^T``.
"""

from __future__ import annotations

import math

import numpy as np

from ._harness import Case, Workload, forward_case, gradient_cases

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


def cases(d, K, n) -> list[Case]:
    alphas, means, icf, x, gamma, m = make_data(d, K, n)
    consts = (x, tri_index(d))  # converted to each tool's arrays; gamma and m stay numbers

    def loss(xp, logsumexp, ps, x, idx):
        return objective(xp, logsumexp, *ps, x, gamma, m, idx)

    def loss_torch(torch, logsumexp, ps, x, idx):
        return objective_torch(torch, *ps, x, gamma, m, idx)

    primals = [alphas, means, icf]
    out = gradient_cases(loss, primals, consts, losses={"torch": loss_torch})
    out[2:2] = [forward_case("chainrule", loss, primals, consts, label="chainrule objective",
                             note="objective only, untraced"),
                forward_case("numpy", loss, primals, consts, label="numpy objective",
                             note="objective only")]
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
