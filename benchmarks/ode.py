"""The gradient of an ODE solve: Lotka-Volterra's predator-prey model, a loss on its trajectory,
differentiated with respect to the initial state and the four rate parameters.

    dx/dt = a x - b x z,   dz/dt = -c z + d x z,   ys = y(t_0..t_m),   loss = sum(ys^2)

Every tool differentiates its own ODE solver by the adjoint method (the backward pass solves the
adjoint system backwards from the last time point, jumping by the loss's cotangent at each
earlier one). chainrule's ``odeint`` and autograd's solve forward and backward with SciPy's
LSODA; chainrule's ``solve_ivp(method="RK45")`` and JAX's ``jax.experimental.ode.odeint`` with
a Dormand-Prince 5(4) pair (JAX's is its own, in JAX). All at rtol = atol = 1e-10, so they agree
to about 1e-7 although their steps differ. PyTorch has no ODE solver of its own (torchdiffeq is
a separate package), so it has no row.
"""

from __future__ import annotations

import numpy as np

from ._harness import Case, Workload, jax_x64, lazy

TOL = 1e-10
Y0 = np.array([1.0, 0.5])
THETA = np.array([1.0, 0.4, 1.0, 0.3])


def lotka_volterra(xp, y, t, theta):
    """``dy/dt`` (``xp`` a NumPy-like namespace: chainrule.numpy, autograd.numpy, jax.numpy)."""
    x, z = y[0], y[1]
    return xp.stack([theta[0] * x - theta[1] * x * z, -theta[2] * z + theta[3] * x * z])


def cases(points, t_end) -> list[Case]:
    ts = np.linspace(0.0, t_end, points)
    out = []

    def chainrule_case(method):
        import chainrule
        import chainrule.numpy as cnp
        from chainrule.scipy.integrate import odeint, solve_ivp

        def loss(y0, theta):
            if method == "odeint":
                ys = odeint(lambda y, t, th: lotka_volterra(cnp, y, t, th), y0, ts, (theta,),
                            rtol=TOL, atol=TOL)
            else:
                ys = solve_ivp(lambda t, y, th: lotka_volterra(cnp, y, t, th), (ts[0], ts[-1]), y0,
                               method=method, t_eval=ts, args=(theta,), rtol=TOL, atol=TOL).y
            return cnp.sum(ys ** 2)
        vg = chainrule.value_and_grad(loss, argnums=(0, 1))

        def run():
            v, g = vg(Y0, THETA)
            return [v, *g]
        return run

    out.append(Case("chainrule", lazy(lambda: chainrule_case("odeint")),
                    note="odeint: LSODA (SciPy) forward and backward"))
    out.append(Case("chainrule", lazy(lambda: chainrule_case("RK45")),
                    label="chainrule solve_ivp RK45", note="Dormand-Prince 5(4) (SciPy)"))

    def jax_case(jit):
        import jax
        import jax.numpy as jnp
        from jax.experimental.ode import odeint

        with jax_x64():
            jts = jnp.asarray(ts)

            def loss(y0, theta):
                ys = odeint(lambda y, t, th: lotka_volterra(jnp, y, t, th), y0, jts, theta,
                            rtol=TOL, atol=TOL)
                return jnp.sum(ys ** 2)
            vg = jax.value_and_grad(loss, argnums=(0, 1))
            if jit:
                vg = jax.jit(vg)
            args = (jnp.asarray(Y0), jnp.asarray(THETA))

        def run():
            with jax_x64():
                v, g = vg(*args)
                return [np.asarray(v), *[np.asarray(x) for x in g]]
        return run
    out.append(Case("jax", lazy(lambda: jax_case(True), "jax"), label="jax (jit)",
                    note="Dormand-Prince 5(4), compiled"))
    out.append(Case("jax", lazy(lambda: jax_case(False), "jax"), label="jax (eager)",
                    note="odeint's own inner jit only"))

    def autograd_case():
        import autograd
        import autograd.numpy as anp
        from autograd.builtins import tuple as ag_tuple
        from autograd.scipy.integrate import odeint

        def loss(params):
            y0, theta = params
            ys = odeint(lambda y, t, th: lotka_volterra(anp, y, t, th), y0, ts, ag_tuple((theta,)),
                        rtol=TOL, atol=TOL)
            return anp.sum(ys ** 2)
        vg = autograd.value_and_grad(loss)

        def run():
            v, g = vg([Y0, THETA])
            return [v, *g]
        return run
    out.append(Case("autograd", lazy(autograd_case, "autograd"), note="LSODA (SciPy)"))
    return out


WORKLOAD = Workload(
    name="ode",
    title="ODE gradient (adjoint), Lotka-Volterra, {points} time points on [0, {t_end}]",
    sizes={"tiny": {"points": 3, "t_end": 1.0},
           "full": [{"points": 2, "t_end": 10.0}, {"points": 51, "t_end": 10.0}]},
    cases=cases,
    rtol=1e-6,
    targets=(("odeint gradient vs autograd's", "chainrule", "autograd", 1.0),),
    doc=__doc__,
)
