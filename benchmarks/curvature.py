"""Jacobian, Hessian and Hessian-vector product workloads.

* Jacobian of a 200 -> 200 two-layer tanh network ``W2 tanh(W1 x + b1) + b2``;
* Hessian of a 100-input function ``sum(tanh(A x)^2) + sum(x^4)/4``;
* ``H v`` of the n-dimensional Rosenbrock function at n = 10^5.

chainrule's ``jacobian``/``hessian``/``hvp`` live in ``chainrule.core.curvature``.
"""

from __future__ import annotations

import numpy as np

from ._harness import JIT_NOTE, Case, Workload, jax_x64, lazy, staged


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


def _chainrule_jit(make, *args):
    """chainrule.jit of ``make(chainrule, chainrule.numpy)``, staged (and compiled) before timing."""
    def factory():
        import chainrule
        import chainrule.numpy as cnp

        fn = staged(chainrule.jit(make(chainrule, cnp)), *args)
        return lambda: [fn(*args)]
    return Case("chainrule", lazy(factory), label="chainrule (jit)", note=JIT_NOTE)


def _jax_pair(make, what):
    """JAX compiled and eager: ``make(jit)`` returns the factory of a runner."""
    return [Case("jax", lazy(make(True), "jax"), label="jax (jit)", note=f"jit({what})"),
            Case("jax", lazy(make(False), "jax"), label="jax (eager)", note=what)]


# ---------------------------------------------------------------- Jacobian
def jacobian_cases(n, hidden):
    rng = _rng()
    params = [rng.standard_normal((hidden, n)) / np.sqrt(n), rng.standard_normal(hidden),
              rng.standard_normal((n, hidden)) / np.sqrt(hidden), rng.standard_normal(n)]
    x = rng.standard_normal(n)
    out = []

    def chainrule_case():
        import chainrule
        import chainrule.numpy as cnp

        jac = chainrule.jacobian(lambda x: net(cnp, params, x))
        return lambda: [jac(x)]
    out.append(Case("chainrule", lazy(chainrule_case), note="mode='auto': one batched sweep"))
    out.append(_chainrule_jit(lambda cr, cnp: cr.jacobian(lambda x: net(cnp, params, x)), x))

    def torch_case():
        import torch
        from torch.func import jacrev

        tp = [torch.tensor(p) for p in params]
        jac = jacrev(lambda x: net(torch, tp, x))
        tx = torch.tensor(x)
        return lambda: [jac(tx).numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func.jacrev (vmap)"))

    def jax_case(jit):
        def factory():
            import jax
            import jax.numpy as jnp

            with jax_x64():
                jp = [jnp.asarray(p) for p in params]
                jac = jax.jacrev(lambda x: net(jnp, jp, x))
                jac = jax.jit(jac) if jit else jac
                jx = jnp.asarray(x)

            def run():
                with jax_x64():
                    return [np.asarray(jac(jx))]
            return run
        return factory
    out += _jax_pair(jax_case, "jacrev")

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

    def chainrule_case():
        import chainrule
        import chainrule.numpy as cnp

        hess = chainrule.hessian(lambda x: energy(cnp, A, x))
        return lambda: [hess(x)]
    out.append(Case("chainrule", lazy(chainrule_case), note="forward over reverse, batched"))
    out.append(_chainrule_jit(lambda cr, cnp: cr.hessian(lambda x: energy(cnp, A, x)), x))

    def torch_case():
        import torch
        from torch.func import hessian

        tA = torch.tensor(A)
        hess = hessian(lambda x: energy(torch, tA, x))
        tx = torch.tensor(x)
        return lambda: [hess(tx).numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func.hessian"))

    def jax_case(jit):
        def factory():
            import jax
            import jax.numpy as jnp

            with jax_x64():
                jA = jnp.asarray(A)
                hess = jax.hessian(lambda x: energy(jnp, jA, x))
                hess = jax.jit(hess) if jit else hess
                jx = jnp.asarray(x)

            def run():
                with jax_x64():
                    return [np.asarray(hess(jx))]
            return run
        return factory
    out += _jax_pair(jax_case, "hessian")

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

    def chainrule_case():
        import chainrule
        import chainrule.numpy as cnp

        return lambda: [chainrule.hvp(lambda x: rosenbrock(cnp, x), x, v)]
    out.append(Case("chainrule", lazy(chainrule_case), note="R-operator, forward over reverse"))
    out.append(_chainrule_jit(
        lambda cr, cnp: lambda x, v: cr.hvp(lambda x: rosenbrock(cnp, x), x, v), x, v))

    def torch_case():
        import torch
        from torch.func import grad, jvp

        tx, tv = torch.tensor(x), torch.tensor(v)
        g = grad(lambda x: rosenbrock(torch, x))
        return lambda: [jvp(g, (tx,), (tv,))[1].numpy()]
    out.append(Case("torch", lazy(torch_case, "torch"), note="torch.func jvp(grad)"))

    def jax_case(jit):
        def factory():
            import jax
            import jax.numpy as jnp

            with jax_x64():
                g = jax.grad(lambda x: rosenbrock(jnp, x))
                hvp = lambda x, v: jax.jvp(g, (x,), (v,))[1]  # noqa: E731
                hvp = jax.jit(hvp) if jit else hvp
                jx, jv = jnp.asarray(x), jnp.asarray(v)

            def run():
                with jax_x64():
                    return [np.asarray(hvp(jx, jv))]
            return run
        return factory
    out += _jax_pair(jax_case, "jvp(grad)")

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
