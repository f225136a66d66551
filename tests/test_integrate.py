"""chainrule.scipy.integrate: odeint and solve_ivp, reverse mode (adjoint) against forward mode
(forward sensitivities), central differences, closed forms, JAX's odeint and autograd's.

Agreement is measured per argument as ``max|a - b| / max|b|`` over the whole derivative array.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import scipy.integrate

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.gradcheck import check_grads
from chainrule.scipy.integrate import odeint, solve_ivp

TOL = dict(rtol=1e-10, atol=1e-10)


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def agree(got, want, limit):
    errs = [rel(a, b) for a, b in zip(got, want, strict=True)]
    assert max(errs) <= limit, errs
    return errs


# ------------------------------------------------------------------ problems
def lotka_volterra(y, t, th):
    """Non-stiff, with an explicit time dependence (a forcing) so that d/dt matters."""
    x, z = y[0], y[1]
    return cnp.stack([th[0] * x - th[1] * x * z + 0.1 * cnp.sin(t), -th[2] * z + th[3] * x * z])


def robertson(t, y, k):
    """Robertson's chemical kinetics (stiff: rates 0.04, 3e7, 1e4)."""
    return cnp.stack([-k[0] * y[0] + k[2] * y[1] * y[2],
                      k[0] * y[0] - k[1] * y[1] ** 2 - k[2] * y[1] * y[2],
                      k[1] * y[1] ** 2])


def van_der_pol(y, t, mu):
    return cnp.stack([y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]])


Y0 = np.array([1.0, 0.5])
TH = np.array([1.0, 0.4, 1.0, 0.3])
TS = np.array([0.0, 0.7, 1.5, 3.0])
ROB_Y0 = np.array([1.0, 0.0, 0.0])
ROB_K = np.array([0.04, 3e7, 1e4])
ROB_T = np.array([0.0, 0.5, 2.0])
ROB_W = np.array([[1.0], [1e4], [1.0]])  # y2 is ~1e-5: weighted so it counts


def lv_odeint(y0, ts, th):
    return odeint(lotka_volterra, y0, ts, (th,), **TOL)


def lv_solve_ivp(method):
    def f(y0, ts, th):
        return solve_ivp(lambda t, y, th: lotka_volterra(y, t, th), (ts[0], ts[-1]), y0,
                         method=method, t_eval=ts, args=(th,), **TOL).y
    return f


# ------------------------------------------------------------------ the forward solve is SciPy's
def test_values_are_scipys():
    plain = lambda y, t, th: np.asarray(lotka_volterra(y, t, th))  # noqa: E731
    assert np.array_equal(lv_odeint(Y0, TS, TH), scipy.integrate.odeint(plain, Y0, TS, (TH,), **TOL))
    for method in ("RK45", "DOP853", "Radau", "BDF", "LSODA"):
        ours = solve_ivp(lambda t, y, th: lotka_volterra(y, t, th), (0.0, 3.0), Y0, method=method,
                         t_eval=TS, args=(TH,), **TOL)
        theirs = scipy.integrate.solve_ivp(lambda t, y, th: plain(y, t, th), (0.0, 3.0), Y0,
                                           method=method, t_eval=TS, args=(TH,), **TOL)
        assert np.array_equal(ours.y, theirs.y) and np.array_equal(ours.t, theirs.t)
        # traced, the value is the same solve
        traced = cr.jvp(lambda y0, f=lv_solve_ivp(method): f(y0, TS, TH), (Y0,), (np.ones(2),))[0]
        assert rel(traced, theirs.y) < 1e-12


# ------------------------------------------------------------------ adjoint vs forward sensitivities
@pytest.mark.parametrize("solver", ["odeint", "RK45", "DOP853"])
def test_nonstiff_adjoint_matches_forward_sensitivities(solver):
    """The whole Jacobian of the trajectory w.r.t. y0, every time point and the parameters:
    reverse mode (one batched adjoint solve) against forward mode (one batched tangent solve)."""
    f = lv_odeint if solver == "odeint" else lv_solve_ivp(solver)
    rev = cr.jacrev(f, argnums=(0, 1, 2))(Y0, TS, TH)
    fwd = cr.jacfwd(f, argnums=(0, 1, 2))(Y0, TS, TH)
    agree(rev, fwd, 1e-6)


@pytest.mark.parametrize("method", ["BDF", "LSODA", "Radau"])
def test_stiff_robertson_adjoint_matches_forward_sensitivities(method):
    def loss(y0, k, te):
        r = solve_ivp(robertson, (te[0], te[-1]), y0, method=method, t_eval=te, args=(k,), **TOL)
        return cnp.sum(r.y * ROB_W)
    rev = cr.grad(loss, argnums=(0, 1, 2))(ROB_Y0, ROB_K, ROB_T)
    fwd = cr.jacfwd(loss, argnums=(0, 1, 2))(ROB_Y0, ROB_K, ROB_T)
    agree(rev, fwd, 1e-6)


def test_stiff_van_der_pol_odeint():
    """mu = 1000 (LSODA switches to BDF); the loss weighs both components at every point."""
    w = np.array([[1.0, 0.0], [1.0, 1e3], [1.0, 1e3]])

    def loss(y0, mu, ts):
        return cnp.sum(odeint(van_der_pol, y0, ts, (mu,), **TOL) * w)
    args = (np.array([2.0, 0.0]), 1000.0, np.array([0.0, 0.5, 1.0]))
    rev = cr.grad(loss, argnums=(0, 1, 2))(*args)
    fwd = cr.jacfwd(loss, argnums=(0, 1, 2))(*args)
    agree(rev, fwd, 1e-6)


# ------------------------------------------------------------------ central differences and closed forms
def central(f, x, eps):
    x = np.asarray(x, dtype=float)
    out = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        out.append((f(x + e) - f(x - e)) / (2 * eps))
    return np.array(out).reshape(x.shape)


def test_gradient_matches_central_differences():
    def loss(y0, ts, th):
        return float(np.sum(np.asarray(lv_odeint(y0, ts, th)) ** 2))
    g = cr.grad(lambda *a: cnp.sum(lv_odeint(*a) ** 2), argnums=(0, 1, 2))(Y0, TS, TH)
    fd = [central(lambda y: loss(y, TS, TH), Y0, 1e-5), central(lambda t: loss(Y0, t, TH), TS, 1e-5),
          central(lambda th: loss(Y0, TS, th), TH, 1e-5)]
    agree(g, fd, 1e-6)


def test_time_derivatives_closed_form():
    """dy/dt = -k y: y(t_i) = y0 exp(-k (t_i - t_0)); d/dt_0 is -(d/dt_i summed), per time."""
    def ys(y0, ts, k):
        return odeint(lambda y, t, k: -k * y, y0, ts, (k,), **TOL)

    def exact(y0, ts, k):
        return y0[None, :] * cnp.exp(-k * (ts - ts[0]))[:, None]
    args = (np.array([1.5, -0.5]), np.array([0.2, 0.9, 2.0]), 0.8)
    for jac in (cr.jacrev, cr.jacfwd):
        agree(jac(ys, argnums=(0, 1, 2))(*args), jac(exact, argnums=(0, 1, 2))(*args), 1e-8)


def test_a_func_returning_a_list():
    """SciPy accepts a list from func; so does the traced solve: y = cos(sqrt(k) t)."""
    def x_at_1(k):
        return odeint(lambda y, t, k: [y[1], -k * y[0]], np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                      (k,), **TOL)[1, 0]
    want = -np.sin(np.sqrt(2.0)) / (2 * np.sqrt(2.0))
    assert rel(cr.grad(x_at_1)(2.0), want) < 1e-8 and rel(cr.jacfwd(x_at_1)(2.0), want) < 1e-8


def test_check_grads_first_order_both_modes():
    f = lambda y0, ts, k: odeint(lambda y, t, k: cnp.stack([y[1], -k * y[0] - 0.1 * y[1] * t]),  # noqa: E731
                                 y0, ts, (k,), rtol=1e-12, atol=1e-12)
    check_grads(f, modes=("fwd", "rev"), order=1, eps=1e-5, rtol=1e-5)(
        np.array([1.0, 0.2]), np.array([0.0, 0.5, 1.0]), 0.9)


# ------------------------------------------------------------------ second order
def decay_loss(x):
    y0, k, t1 = x[0:1], x[1], x[2]
    ts = cnp.stack([0.0 * t1, t1])
    return cnp.sum(odeint(lambda y, t, k: -k * y, y0, ts, (k,), **TOL)[1] ** 2)


def decay_exact(x):
    return x[0] ** 2 * cnp.exp(-2 * x[1] * x[2])


@pytest.mark.parametrize("how", ["hessian", pytest.param("rev-over-rev", marks=pytest.mark.slow),
                                 "fwd-over-fwd"])
def test_second_order_closed_form(how):
    """y0^2 exp(-2 k t): the Hessian in y0, k and the end time, three ways."""
    x = np.array([1.3, 0.7, 1.1])
    h = {"hessian": cr.hessian, "rev-over-rev": lambda f: cr.jacrev(cr.grad(f)),
         "fwd-over-fwd": lambda f: cr.jacfwd(cr.jacfwd(f))}[how]
    assert rel(h(decay_loss)(x), cr.hessian(decay_exact)(x)) < 1e-7


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_check_grads_second_order(mode):
    """One state, two time points: second order nests solves in solves (reverse over reverse
    integrates the adjoint's adjoint, each right-hand side an adjoint pass), so it is kept tiny."""
    def f(y0, ts, k):
        return solve_ivp(lambda t, y, k: -k * y * (1 + 0.1 * t), (ts[0], ts[-1]), y0,
                         method="DOP853", t_eval=ts, args=(k,), **TOL).y
    check_grads(f, modes=(mode,), order=2, eps=1e-4, rtol=1e-4)(np.array([1.0]), np.array([0.0, 1.0]), 0.9)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_check_grads_second_order_two_states(mode):
    def f(y0, ts, k):
        return solve_ivp(lambda t, y, k: cnp.stack([y[1], -k * y[0] - 0.1 * y[1] * t]),
                         (ts[0], ts[-1]), y0, method="DOP853", t_eval=ts, args=(k,),
                         rtol=1e-12, atol=1e-12).y
    check_grads(f, modes=(mode,), order=2, eps=1e-4, rtol=1e-4)(
        np.array([1.0, 0.2]), np.array([0.0, 1.0]), 0.9)


# ------------------------------------------------------------------ batches
def test_batched_cotangents_and_tangents_match_one_at_a_time():
    """jacrev pushes all rows through one adjoint solve (the batch folded into its state), jacfwd
    all tangents through one tangent solve: each row equals its own vjp / jvp."""
    f = lv_solve_ivp("DOP853")
    out, pull = cr.vjp(lambda th: f(Y0, TS, th), TH)
    rows = [pull(e.reshape(out.shape))[0] for e in np.eye(out.size)]
    assert rel(cr.jacrev(lambda th: f(Y0, TS, th))(TH).reshape(out.size, -1), np.array(rows)) < 1e-8
    cols = [cr.jvp(lambda th: f(Y0, TS, th), (TH,), (e,))[1] for e in np.eye(TH.size)]
    assert rel(np.moveaxis(cr.jacfwd(lambda th: f(Y0, TS, th))(TH), -1, 0), np.array(cols)) < 1e-8


def test_vmap_matches_a_loop():
    """One solve of the stacked system (its steps shared), equal to the loop to the tolerance."""
    y0s = np.array([[1.0, 0.5], [0.8, 0.9], [1.2, 0.3]])
    ths = TH * np.array([[1.0], [1.1], [0.9]])
    f = lv_solve_ivp("RK45")
    loop = np.stack([f(y, TS, th) for y, th in zip(y0s, ths, strict=True)])
    assert rel(cr.vmap(lambda y, th: f(y, TS, th))(y0s, ths), loop) < 1e-7
    assert rel(cr.vmap(lambda y: f(y, TS, TH))(y0s), np.stack([f(y, TS, TH) for y in y0s])) < 1e-7


def test_vmap_of_grad_matches_a_loop():
    y0s, ths, ts = np.array([[1.0, 0.5], [0.8, 0.9]]), TH * np.array([[1.0], [1.1]]), TS[[0, 2]]
    g = cr.grad(lambda y, th: cnp.sum(odeint(lambda y, t, th: -th[:2] * y, y, ts, (th,), **TOL) ** 2),
                argnums=(0, 1))
    batched = cr.vmap(g)(y0s, ths)
    for b, (y, th) in enumerate(zip(y0s, ths, strict=True)):
        agree([batched[0][b], batched[1][b]], g(y, th), 1e-6)


def test_vmap_over_time_grids():
    grids = np.array([[0.0, 1.0, 2.0], [0.0, 0.5, 3.0]])
    got = cr.vmap(lambda ts: lv_odeint(Y0, ts, TH))(grids)
    assert rel(got, np.stack([lv_odeint(Y0, ts, TH) for ts in grids])) < 1e-12


# ------------------------------------------------------------------ time points
def test_repeated_and_decreasing_time_points():
    ts = np.array([0.0, 1.0, 1.0, 2.0])
    ys = lv_odeint(Y0, ts, TH)
    assert np.array_equal(ys[1], ys[2])
    rev = cr.jacrev(lv_odeint, argnums=(0, 1, 2))(Y0, ts, TH)
    agree(rev, cr.jacfwd(lv_odeint, argnums=(0, 1, 2))(Y0, ts, TH), 1e-6)
    back = np.array([3.0, 2.0, 0.5])
    rev = cr.jacrev(lv_odeint, argnums=(0, 1, 2))(Y0, back, TH)
    agree(rev, cr.jacfwd(lv_odeint, argnums=(0, 1, 2))(Y0, back, TH), 1e-6)


def test_solve_ivp_result_and_time_span():
    r = solve_ivp(lambda t, y: -0.5 * y, (0.0, 2.0), Y0, t_eval=np.linspace(0, 2, 5), **TOL)
    assert r.y.shape == (2, 5) and r.t.shape == (5,) and r.success
    # without t_eval the solver's own steps; the end point moves with t_span[1]
    def end(t1):
        r = solve_ivp(lambda t, y: -0.5 * y, cnp.stack([0.0 * t1, t1]), Y0, **TOL)
        return r.y[:, -1]
    t1 = 2.0
    want = -0.5 * Y0 * np.exp(-0.5 * t1)
    assert rel(cr.jacfwd(end)(t1), want) < 1e-8 and rel(cr.jacrev(end)(t1), want) < 1e-8
    # t_span[0] moves the start: y(t1) = y0 exp(-0.5 (t1 - t0))
    def from_start(t0):
        return solve_ivp(lambda t, y: -0.5 * y, cnp.stack([t0, 2.0 + 0.0 * t0]), Y0,
                         t_eval=np.array([1.0, 2.0]), **TOL).y
    want = 0.5 * Y0[:, None] * np.exp(-0.5 * (np.array([1.0, 2.0]) - 0.2))
    assert rel(cr.jacrev(from_start)(0.2), want) < 1e-8 and rel(cr.jacfwd(from_start)(0.2), want) < 1e-8


# ------------------------------------------------------------------ closures and arguments
def test_closed_over_traced_values_are_differentiated():
    def with_closure(k, y0):
        return cnp.sum(odeint(lambda y, t: -k * y * cnp.sin(t), y0, TS, **TOL))

    def with_args(k, y0):
        return cnp.sum(odeint(lambda y, t, k: -k * y * cnp.sin(t), y0, TS, (k,), **TOL))
    args = (0.8, np.array([1.0, 2.0]))
    agree(cr.grad(with_closure, argnums=(0, 1))(*args), cr.grad(with_args, argnums=(0, 1))(*args), 1e-12)
    assert rel(cr.jvp(with_closure, args, (1.0, np.zeros(2)))[1],
               cr.jvp(with_args, args, (1.0, np.zeros(2)))[1]) < 1e-12
    assert cr.grad(with_closure)(*args) != 0


def test_a_traced_value_out_of_reach_is_an_error():
    class Rates:
        pass

    def loss(k):
        rates = Rates()
        rates.k = k
        return cnp.sum(odeint(lambda y, t: -rates.k * y, Y0, TS))
    with pytest.raises(TypeError, match="odeint: func uses a value traced by an enclosing transform"):
        cr.grad(loss)(0.5)


def test_a_traced_value_reached_only_later_is_an_error_too():
    """The check at t0 passes (the branch is not taken there); the solve itself raises."""
    holder = {}

    def loss(k):
        holder["k"] = k  # reached through a global dict: not an argument, not in a closure cell
        return cnp.sum(odeint(lambda y, t: -y * (holder["k"] if t > 0.5 else 1.0), Y0, TS))
    with pytest.raises(TypeError, match="odeint: func uses a value traced by an enclosing transform"):
        cr.grad(loss)(0.5)

    def partial_loss(k):
        rhs = functools.partial(lambda y, t, k: -k * y, k=k)
        return cnp.sum(odeint(rhs, Y0, TS))
    with pytest.raises(TypeError, match="odeint: func uses a value traced by an enclosing transform"):
        cr.grad(partial_loss)(0.5)


def test_nested_arguments_are_differentiated():
    def f(y, t, p):
        return -p["rate"] * y + p["shift"][0]
    p = {"rate": 0.7, "shift": (np.array([0.1, -0.2]),)}
    g = cr.grad(lambda p: cnp.sum(odeint(f, Y0, TS, (p,), **TOL)))(p)
    want = cr.grad(lambda r, s: cnp.sum(odeint(lambda y, t, r, s: -r * y + s, Y0, TS, (r, s), **TOL)),
                   argnums=(0, 1))(0.7, np.array([0.1, -0.2]))
    assert rel(g["rate"], want[0]) < 1e-10 and rel(g["shift"][0], want[1]) < 1e-10


def test_float32_inputs_get_float32_derivatives():
    g = cr.grad(lambda y0, th: cnp.sum(lv_odeint(y0, TS, th)), argnums=(0, 1))(
        Y0.astype(np.float32), TH.astype(np.float32))
    assert [x.dtype for x in g] == [np.float32, np.float32]
    want = cr.grad(lambda y0, th: cnp.sum(lv_odeint(y0, TS, th)), argnums=(0, 1))(Y0, TH)
    agree(g, want, 1e-6)


def test_solve_ivp_backwards_in_time():
    f = lambda y0, th: solve_ivp(lambda t, y, th: lotka_volterra(y, t, th), (3.0, 0.0), y0,  # noqa: E731
                                 method="DOP853", t_eval=np.array([2.0, 1.0, 0.0]), args=(th,), **TOL).y
    agree(cr.jacrev(f, argnums=(0, 1))(Y0, TH), cr.jacfwd(f, argnums=(0, 1))(Y0, TH), 1e-6)


def test_tfirst_full_output_and_integer_arguments():
    def f(t, y, th, n):
        assert isinstance(n, int)  # a non-float argument stays as given (not differentiated)
        return lotka_volterra(y, t, th) * n
    ys, info = odeint(f, Y0, TS, (TH, 1), tfirst=True, full_output=True, **TOL)
    assert rel(ys, lv_odeint(Y0, TS, TH)) < 1e-12 and "nfe" in info
    g = cr.grad(lambda th: cnp.sum(odeint(f, Y0, TS, (th, 1), tfirst=True, **TOL)))(TH)
    assert rel(g, cr.grad(lambda th: cnp.sum(lv_odeint(Y0, TS, th)))(TH)) < 1e-10


def test_jit_matches_eager():
    loss = cr.value_and_grad(lambda y0, th: cnp.sum(lv_odeint(y0, TS, th) ** 2), argnums=(0, 1))
    jitted = cr.jit(loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to eager
        for y0 in (Y0, 1.1 * Y0):
            v, g = jitted(y0, TH)
            v0, g0 = loss(y0, TH)
            assert rel(v, v0) < 1e-12
            agree(g, g0, 1e-6)


# ------------------------------------------------------------------ peers
def test_matches_jax_odeint():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax.experimental.ode import odeint as jax_odeint

    def jloss(y0, ts, th):
        f = lambda y, t, th: jnp.stack([th[0] * y[0] - th[1] * y[0] * y[1] + 0.1 * jnp.sin(t),  # noqa: E731
                                        -th[2] * y[1] + th[3] * y[0] * y[1]])
        return jnp.sum(jax_odeint(f, y0, ts, th, **TOL) ** 2)
    # float64 inside this test only (jax.config.update("jax_enable_x64", True) would be global)
    with jax.enable_x64(True):
        want = jax.grad(jloss, argnums=(0, 1, 2))(*(jnp.asarray(a) for a in (Y0, TS, TH)))
        want = [np.asarray(w) for w in want]
        assert want[0].dtype == np.float64
    got = cr.grad(lambda *a: cnp.sum(lv_odeint(*a) ** 2), argnums=(0, 1, 2))(Y0, TS, TH)
    agree(got, want, 1e-6)


def test_autograd_namespace_matches_autograd():
    from chainrule.autograd.scipy.integrate import odeint as cr_odeint

    autograd = pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd.builtins import tuple as ag_tuple
    from autograd.scipy.integrate import odeint as ag_odeint

    def f(xp):
        return lambda y, t, th: xp.stack([th[0] * y[0] - th[1] * y[0] * y[1],
                                          -th[2] * y[1] + th[3] * y[0] * y[1]])
    want = autograd.grad(lambda th: anp.sum(ag_odeint(f(anp), Y0, TS, ag_tuple((th,)), **TOL) ** 2))(TH)
    got = cr.autograd.grad(lambda th: cnp.sum(cr_odeint(f(cnp), Y0, TS, (th,), **TOL) ** 2))(TH)
    assert rel(got, want) < 1e-6


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, kind, message", [
    (lambda: odeint(3, Y0, TS), TypeError, "odeint: func must be callable, got int"),
    (lambda: odeint(lambda y, t: -y, np.ones((2, 2)), TS), ValueError,
     r"odeint: y0 must be 1-D, got shape \(2, 2\)"),
    (lambda: odeint(lambda y, t: -y, Y0, np.array([0.0, 2.0, 1.0])), ValueError,
     "odeint: t must be monotonic"),
    (lambda: odeint(lambda y, t: y[:1], Y0, TS), ValueError,
     r"odeint: func returned an array of shape \(1,\); it must return dy/dt with the shape of y0, \(2,\)"),
    (lambda: solve_ivp(lambda t, y: -y, (0.0, 1.0), Y0, method="Euler"), ValueError,
     "solve_ivp: method 'Euler' is not supported; use one of RK23, RK45, DOP853, Radau, BDF, LSODA"),
    (lambda: solve_ivp(lambda t, y: -y, (0.0, 1.0), Y0, t_eval=np.array([0.5, 2.0])), ValueError,
     "solve_ivp: t_eval values must lie within t_span"),
    (lambda: solve_ivp(lambda t, y: -y, (0.0, 1.0, 2.0), Y0), ValueError,
     "solve_ivp: t_span must be a pair"),
])
def test_errors(call, kind, message):
    with pytest.raises(kind, match=message):
        call()


def test_errors_under_a_transform():
    with pytest.raises(ValueError, match="odeint: func returned an array of shape"):
        cr.grad(lambda y0: cnp.sum(odeint(lambda y, t: cnp.concatenate([y, y]), y0, TS)))(Y0)
    with pytest.raises(NotImplementedError, match="solve_ivp: events and dense_output are not "
                                                  "differentiable"):
        cr.grad(lambda y0: cnp.sum(solve_ivp(lambda t, y: -y, (0.0, 1.0), y0, dense_output=True).y))(Y0)


def test_scipys_own_solvers_name_ours_when_a_traced_value_escapes():
    from chainrule.core.errors import TracerEscapeError

    with pytest.raises(TracerEscapeError, match="use chainrule.scipy.integrate.odeint"):
        cr.grad(lambda y0: np.sum(scipy.integrate.odeint(lambda y, t: -y, y0, TS)))(Y0)
    with pytest.raises(TracerEscapeError, match="use chainrule.scipy.integrate.solve_ivp"):
        cr.grad(lambda y0: np.sum(scipy.integrate.solve_ivp(lambda t, y: -y, (0.0, 1.0), y0).y))(Y0)
