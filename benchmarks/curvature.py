"""Jacobian, Hessian and Hessian-vector product workloads.

* Jacobian of a 200 -> 200 two-layer tanh network ``W2 tanh(W1 x + b1) + b2``;
* Hessian of a 100-input function ``sum(tanh(A x)^2) + sum(x^4)/4``;
* ``H v`` of the n-dimensional Rosenbrock function at n = 10^5.

chainrule's ``jacobian``/``hessian``/``hvp`` live in ``chainrule.core.curvature``.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, chainrule_rows, jax_cases, lazy, staged


def _requires(name):
    def check():
        import chainrule

        if not hasattr(chainrule, name):
            return f"chainrule.{name} does not exist yet (core/curvature.py)"
        return None
    return check


# ---------------------------------------------------------------- functions, any NumPy-like xp
def net(xp, params, x):
    W1, b1, W2, b2 = params
    return W2 @ xp.tanh(W1 @ x + b1) + b2


def energy(xp, A, x):
    return xp.sum(xp.tanh(A @ x) ** 2) + 0.25 * xp.sum(x ** 4)


def rosenbrock(xp, x):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rng():
    return np.random.default_rng(31337)


def _chainrule_cases(make, args, note):
    """chainrule's rows, eager and ``chainrule.jit`` (staged before timing), of the function
    ``make(chainrule, chainrule.numpy)`` of ``args``."""
    def runner(jit=False):
        import chainrule
        import chainrule.numpy as cnp

        fn = make(chainrule, cnp)
        fn = staged(chainrule.jit(fn), *args) if jit else fn
        return lambda: [fn(*args)]
    rows = chainrule_rows(runner)
    rows[0].note = note
    return rows


# ---------------------------------------------------------------- Jacobian
def jacobian_cases(n, hidden):
    rng = _rng()
    params = [rng.standard_normal((hidden, n)) / np.sqrt(n), rng.standard_normal(hidden),
              rng.standard_normal((n, hidden)) / np.sqrt(hidden), rng.standard_normal(n)]
    x = rng.standard_normal(n)
    out = []

    out += _chainrule_cases(lambda cr, cnp: cr.jacobian(lambda x: net(cnp, params, x)), [x],
                            "mode='auto': one batched sweep")

    def torch_case():
        import torch
        from torch.func import jacrev

        tp = [torch.tensor(p) for p in params]
        jac = jacrev(lambda x: net(torch, tp, x))
        tx = torch.tensor(x)
        return lambda: [jac(tx).numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func.jacrev (vmap)"))

    def jax_jacobian(jax, jnp):
        jp = [jnp.asarray(p) for p in params]
        return jax.jacrev(lambda x: net(jnp, jp, x))
    out += jax_cases(jax_jacobian, [x], "jacrev")

    def autograd_case():
        import autograd
        import autograd.numpy as anp

        jac = autograd.jacobian(lambda x: net(anp, params, x))
        return lambda: [jac(x)]
    out.append(Case("autograd", lazy(autograd_case, "autograd"), note="one VJP per output row"))
    return out


# ---------------------------------------------------------------- Hessian
def hessian_cases(n):
    rng = _rng()
    A = rng.standard_normal((n, n)) / np.sqrt(n)
    x = rng.standard_normal(n)
    out = []

    out += _chainrule_cases(lambda cr, cnp: cr.hessian(lambda x: energy(cnp, A, x)), [x],
                            "forward over reverse, batched")

    def torch_case():
        import torch
        from torch.func import hessian

        tA = torch.tensor(A)
        hess = hessian(lambda x: energy(torch, tA, x))
        tx = torch.tensor(x)
        return lambda: [hess(tx).numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func.hessian"))

    def jax_hessian(jax, jnp):
        jA = jnp.asarray(A)
        return jax.hessian(lambda x: energy(jnp, jA, x))
    out += jax_cases(jax_hessian, [x], "hessian")

    def autograd_case():
        import autograd
        import autograd.numpy as anp

        hess = autograd.hessian(lambda x: energy(anp, A, x))
        return lambda: [hess(x)]
    out.append(Case("autograd", lazy(autograd_case, "autograd")))
    return out


# ---------------------------------------------------------------- Hessian-vector product
def hvp_cases(n):
    rng = _rng()
    x = rng.uniform(-1.5, 1.5, n)
    v = rng.standard_normal(n)
    out = []

    out += _chainrule_cases(lambda cr, cnp: lambda x, v: cr.hvp(lambda x: rosenbrock(cnp, x), x, v),
                            [x, v], "R-operator, forward over reverse")

    def torch_case():
        import torch
        from torch.func import grad, jvp

        tx, tv = torch.tensor(x), torch.tensor(v)
        g = grad(lambda x: rosenbrock(torch, x))
        return lambda: [jvp(g, (tx,), (tv,))[1].numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func jvp(grad)"))

    def jax_hvp(jax, jnp):
        g = jax.grad(lambda x: rosenbrock(jnp, x))
        return lambda x, v: jax.jvp(g, (x,), (v,))[1]
    out += jax_cases(jax_hvp, [x, v], "jvp(grad)")

    def autograd_case():
        import autograd
        import autograd.numpy as anp

        hvp = autograd.hessian_vector_product(lambda x: rosenbrock(anp, x))
        return lambda: [hvp(x, v)]
    out.append(Case("autograd", lazy(autograd_case, "autograd")))
    return out


# The Jacobian issue's targets: at least 10x faster than autograd's jacobian and hessian
# (chainrule / autograd <= 0.1) and within 2x of JAX jit. Compiled is compared with compiled
# (chainrule.jit with JAX's jit); the table's ratio column gives eager chainrule's too.
# autograd's hessian cannot run at n = 10^5 (an 80 GB matrix), so the hvp is compared with
# its hessian_vector_product, untargeted.
def _targets(what):
    return ((f"{what} vs autograd (10x faster)", "chainrule", "autograd", 0.1),
            (f"{what}, jit vs JAX jit", "chainrule (jit)", "jax (jit)", 2.0))


WORKLOADS = [
    Workload(name="jacobian", title="Jacobian of a {n} -> {n} two-layer tanh network (hidden {hidden})",
             sizes={"tiny": {"n": 5, "hidden": 4}, "full": {"n": 200, "hidden": 200}},
             cases=jacobian_cases, requires=_requires("jacobian"), targets=_targets("jacobian"),
             doc=__doc__),
    Workload(name="hessian", title="Hessian of a {n}-input function",
             sizes={"tiny": {"n": 4}, "full": {"n": 100}},
             cases=hessian_cases, requires=_requires("hessian"), targets=_targets("hessian"),
             doc=__doc__),
    Workload(name="hvp", title="Hessian-vector product, Rosenbrock, n = {n}",
             sizes={"tiny": {"n": 10}, "full": {"n": 100_000}},
             cases=hvp_cases, requires=_requires("hvp"),
             targets=_targets("hvp")[1:], doc=__doc__),
]
