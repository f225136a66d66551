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

from ._harness import Case, Workload, gradient_runner, lazy

TOL = 1e-10
Y0 = np.array([1.0, 0.5])
THETA = np.array([1.0, 0.4, 1.0, 0.3])


def lotka_volterra(xp, y, t, theta):
    """``dy/dt`` (``xp`` a NumPy-like namespace: chainrule.numpy, autograd.numpy, jax.numpy)."""
    x, z = y[0], y[1]
    return xp.stack([theta[0] * x - theta[1] * x * z, -theta[2] * z + theta[3] * x * z])


def cases(points, t_end) -> list[Case]:
    ts = np.linspace(0.0, t_end, points)
    primals = [Y0, THETA]

    def case(tool, loss_factory, jit=False, **kw):
        """``loss_factory()`` imports the tool's solver and returns the harness's loss of
        ``[y0, theta]`` and the time points."""
        return Case(tool, lazy(lambda: gradient_runner(tool, loss_factory(), primals, (ts,), jit),
                               tool), **kw)

    def chainrule_loss(method):
        def factory():
            from chainrule.scipy.integrate import odeint, solve_ivp

            def loss(cnp, logsumexp, params, ts):
                y0, theta = params
                if method == "odeint":
                    ys = odeint(lambda y, t, th: lotka_volterra(cnp, y, t, th), y0, ts, (theta,),
                                rtol=TOL, atol=TOL)
                else:
                    ys = solve_ivp(lambda t, y, th: lotka_volterra(cnp, y, t, th), (ts[0], ts[-1]),
                                   y0, method=method, t_eval=ts, args=(theta,), rtol=TOL,
                                   atol=TOL).y
                return cnp.sum(ys ** 2)
            return loss
        return factory

    def jax_loss():
        from jax.experimental.ode import odeint

        def loss(jnp, logsumexp, params, ts):
            y0, theta = params
            ys = odeint(lambda y, t, th: lotka_volterra(jnp, y, t, th), y0, ts, theta,
                        rtol=TOL, atol=TOL)
            return jnp.sum(ys ** 2)
        return loss

    def autograd_loss():
        from autograd.builtins import tuple as ag_tuple
        from autograd.scipy.integrate import odeint

        def loss(anp, logsumexp, params, ts):
            y0, theta = params
            ys = odeint(lambda y, t, th: lotka_volterra(anp, y, t, th), y0, ts, ag_tuple((theta,)),
                        rtol=TOL, atol=TOL)
            return anp.sum(ys ** 2)
        return loss

    return [case("chainrule", chainrule_loss("odeint"),
                 note="odeint: LSODA (SciPy) forward and backward"),
            case("chainrule", chainrule_loss("RK45"), label="chainrule solve_ivp RK45",
                 note="Dormand-Prince 5(4) (SciPy)"),
            case("jax", jax_loss, True, label="jax (jit)", note="Dormand-Prince 5(4), compiled"),
            case("jax", jax_loss, label="jax (eager)", note="odeint's own inner jit only"),
            case("autograd", autograd_loss, note="LSODA (SciPy)")]


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
