"""``scipy.integrate.odeint`` and ``solve_ivp``, differentiable: adjoint (reverse) and forward
sensitivities (forward), every order.

One primitive, :data:`odeint_p` ``(y0, ts, *args) -> ys`` with ``ys[i] = y(ts[i])`` for
``dy/dt = f(y, t, *args)``, ``y(ts[0]) = y0`` (``ys``: ``(T, n)``). Its implementation is SciPy
itself on plain values (``scipy.integrate.odeint``, or ``solve_ivp`` with the chosen method).

**VJP (the adjoint method, as ``jax.experimental.ode.odeint``).** With the cotangent ``g``
(``(T, n)``), the adjoint ``a(t)`` solves ``da/dt = -a df/dy`` backwards from ``a(t_{T-1}) =
g_{T-1}`` and jumps by ``g_{i-1}`` at each earlier time point; between ``t_i`` and ``t_{i-1}`` one
solve of the augmented system ``[a, theta_bar]`` with ``dtheta_bar/dt = -a df/dtheta`` gives

    y0_bar = a(t_0),   args_bar = theta_bar(t_0) = int_{t_0}^{t_{T-1}} a df/dtheta dt,
    ts_bar[i] = g_i . f(y_i, t_i)  (i >= 1),   ts_bar[0] = -a(t_0+) . f(y_0, t_0)

(``a(t_0+)``: before ``g_0`` is added; moving ``t_0`` moves the whole solution,
``dy(t)/dt_0 = -Phi(t, t_0) f(y_0, t_0)``). JAX accumulates ``ts_bar[0]`` as
``-sum_{i>=1} g_i . f(y_i, t_i) + int a df/dt dt``, equal in exact arithmetic; but ``f`` at a
computed ``y_i`` of a stiff system amplifies the solver's error by the stiffness, while
``f(y_0, t_0)`` is exact. ``a df/dy`` and ``a df/dtheta`` are one reverse pass of chainrule
through ``f``. Unlike
JAX, ``y`` is not part of the state integrated backwards (that is unstable for a stiff system:
its decaying modes grow backwards in time): ``y(t)`` on ``[t_{i-1}, t_i]`` is the flow from
``ys[i-1]``, itself an :data:`odeint_p` call ``odeint_p(ys[i-1], [t_{i-1}, t])[1]`` whose
implementation reads one dense forward solve (SciPy's ``dense_output``) kept by its call
object, exact for the values it was made from and re-solved for any others. A leading batch of
cotangents is folded into the state (``a``: ``(B, n)``), so a Jacobian is one backward solve.

**JVP (forward sensitivities).** ``s = dy`` solves ``ds/dt = df/dy s + df/dtheta dtheta``
alongside ``y`` (one forward solve of ``[y, s]``, ``s``: ``(B, n)``, the product a batched
forward pass of chainrule through ``f``), from ``s(t_0) = dy0``; a time tangent adds
``f(y_i, t_i) dt_i`` and starts ``s(t_0) = -f(y_0, t_0) dt_0``.

Every solve in both rules is again an :data:`odeint_p` call on chainrule values, so the rules
are differentiated by the same rules: ``hessian``, ``jvp(grad)`` and ``grad(grad)`` compose.
"""

from __future__ import annotations

import contextlib
import math
import types

import numpy as np

from ..core.aval import derivative_dtype, dtype_of, shape_of
from ..core.linearize import linearize_reverse, push_forward
from ..core.primitive import Box, Primitive, strip_derivatives, unbox_all
from ..core.pytree import tree_flatten, tree_unflatten
from . import reductions as _red
from .linear import getitem, lead, reshape
from .shape import asarray, concatenate, moveaxis, stack

SOLVE_IVP_METHODS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")
# solve_ivp options that concern only the system the user gave (not the derived ones)
_PRIMAL_ONLY = ("jac", "jac_sparsity", "lband", "uband", "vectorized", "first_step")


def _scipy_integrate():
    import scipy.integrate  # imported when first used, like scipy.linalg in rules/scipy_linalg.py

    return scipy.integrate


_ODEPACK = [0]  # how many ODEPACK (LSODA) solves are running (its state is the process's)


class _Odepack:
    """Marks an ODEPACK solve as running. ODEPACK keeps its state in Fortran common blocks, so
    it cannot be re-entered: a solve needed while one runs (a derived system's ``f`` solving
    again, at second order) uses SciPy's pure-Python Radau (stiff-capable) instead."""

    def __enter__(self):
        _ODEPACK[0] += 1

    def __exit__(self, *exc):
        _ODEPACK[0] -= 1


class _Flow:
    """A dense forward solution (SciPy's ``OdeSolution``) and the exact values it starts from."""

    __slots__ = ("y0", "t0", "args", "lo", "hi", "sol")

    def __init__(self, y0, t0, args, t1, sol):
        self.y0, self.t0, self.args, self.sol = y0, t0, args, sol
        self.lo, self.hi = min(t0, t1), max(t0, t1)

    def serves(self, y0, ts, args) -> bool:
        return (ts[0] == self.t0 and self.lo <= ts.min() and ts.max() <= self.hi
                and np.array_equal(y0, self.y0)
                and all(np.array_equal(a, b) for a, b in zip(args, self.args, strict=True)))


class OdeCall:
    """One ODE system and how to solve it: the static parameter of an :data:`odeint_p` call.

    ``fun(y, t, *args)`` is ``dy/dt`` (1-D ``y``); ``method`` is ``"odeint"`` (SciPy's
    ``odeint``, LSODA from ODEPACK) or a ``solve_ivp`` method. The systems the rules derive
    (adjoint, tangent, flow) are kept here, one per kind, so that repeated evaluations reuse
    their dense solutions. ``info`` holds SciPy's diagnostics of the latest forward solve.
    """

    __slots__ = ("fun", "jac", "name", "method", "rtol", "atol", "options", "derived_options",
                 "dense", "info", "_flow", "_derived", "_key", "_cts")

    def __init__(self, fun, name, method, rtol, atol, options=None, derived_options=None,
                 dense=False, jac=None):
        self.fun = fun
        self.jac = jac  # the user's Jacobian (jac(y, t, *args) or a matrix): the forward solve only
        self.name = name
        self.method = method
        self.rtol = rtol
        self.atol = atol
        self.options = dict(options or {})
        self.derived_options = dict(derived_options if derived_options is not None else self.options)
        self.dense = dense  # keep a dense solution and answer later queries from it
        self.info = None
        self._flow = None
        self._derived = {}
        self._key = self._cts = None

    def __repr__(self) -> str:
        return f"<ode {self.name} ({self.method})>"

    def derived(self, kind, make):
        """The derived system ``kind`` of this system, made once: ``make() -> (fun, name)``."""
        def build():
            fun, name = make()
            # a derived state has another length and scale: one absolute tolerance for all of it
            atol = None if self.atol is None else float(np.min(self.atol))
            # a stiff system's derived systems are stiff too: LSODA (compiled, its order up to 5
            # in BDF mode and 12 in Adams mode) takes a fraction of SciPy's Python Radau's or
            # BDF's steps at tight tolerances (Robertson's adjoint at 1e-10: 10x fewer evaluations)
            method = "LSODA" if self.method in ("Radau", "BDF") else self.method
            return OdeCall(fun, f"{name}({self.name})", method, self.rtol, atol,
                           self.derived_options, dense=True)
        return self.memo(kind, build)

    def memo(self, key, build):
        """``build()``, once per ``key``: a system made from this one (derived, batched)."""
        call = self._derived.get(key)
        if call is None:
            call = self._derived[key] = build()
        return call

    # ------------------------------------------------------------ plain solves (SciPy)
    def _rhs(self, args, n):
        fun, name = self.fun, self.name

        def rhs(t, y):
            out = fun(y, t, *args)
            if isinstance(out, Box):  # only a traced value it was not given can make it one
                raise TypeError(_HIDDEN.format(name=name))
            out = np.asarray(out, dtype=np.float64)
            if out.shape != (n,):
                raise ValueError(f"{name}: func returned an array of shape {out.shape}; it must "
                                 f"return dy/dt with the shape of y0, ({n},)")
            return out
        return rhs

    def solve(self, y0, ts, args):
        """``ys`` (``(T, n)``) at the time points ``ts`` (plain values, monotonic)."""
        n, T = y0.shape[0], ts.shape[0]
        if T == 0 or ts[0] == ts[-1]:
            return np.tile(y0.astype(np.float64), (T, 1))
        new = np.concatenate([[True], ts[1:] != ts[:-1]])
        if not new.all():  # repeated time points (SciPy's t_eval must be strictly monotonic)
            return self.solve(y0, ts[new], args)[np.cumsum(new) - 1]
        if self.dense:
            flow = self._flow
            if flow is None or not flow.serves(y0, ts, args):
                flow = self._flow = _Flow(y0.copy(), ts[0], [a.copy() for a in args], ts[-1],
                                          self._solve_ivp(y0, ts[[0, -1]], args, dense=True).sol)
            if T == 2:  # y(t) for the adjoint: OdeSolution's one-point path
                return np.stack([y0, flow.sol(ts[1])])
            ys = flow.sol(ts).T
            ys[ts == ts[0]] = y0
            return ys
        if self.method == "odeint" and not _ODEPACK[0]:
            with _Odepack():
                ys, self.info = _scipy_integrate().odeint(
                    self._rhs(args, n), y0, ts, rtol=self.rtol, atol=self.atol, tfirst=True,
                    full_output=True, Dfun=self._jac(args), **self.options)
            return ys
        res = self._solve_ivp(y0, ts, args, dense=False)
        return res.y.T

    def _jac(self, args):
        jac = self.jac
        if jac is None or not callable(jac):
            return jac
        return lambda t, y: np.asarray(unbox_all(jac(y, t, *args)), dtype=np.float64)

    def _exact_jac(self, args, n):
        fun, eye = self.fun, np.eye(n)

        def jac(t, y):
            _, tangents, _ = push_forward(lambda y: fun(y, t, *args), (y,), (eye,), batch=(n,))
            return np.asarray(unbox_all(tangents)).T
        return jac

    def _solve_ivp(self, y0, ts, args, dense, steps=False, method=None):
        """SciPy's ``solve_ivp`` from ``ts[0]`` to ``ts[-1]``: at ``ts``, at the solver's own
        ``steps``, or ``dense`` (the interpolant)."""
        options = dict(self.options)
        if self.method == "odeint":
            # odeint's system in solve_ivp (a dense solution, or one inside a running ODEPACK
            # solve): LSODA with odeint's tolerances and step bounds
            options = {"rtol": 1.49012e-8 if self.rtol is None else self.rtol,
                       "atol": 1.49012e-8 if self.atol is None else self.atol,
                       "max_step": self.options.get("hmax", 0.0) or np.inf,
                       "min_step": self.options.get("hmin", 0.0)}
            method = method or "LSODA"
        else:
            options["rtol"], options["atol"] = self.rtol, self.atol
            if self.jac is not None:
                options["jac"] = self._jac(args)
            method = method or self.method
        if method == "LSODA" and _ODEPACK[0]:
            method = "Radau"  # ODEPACK cannot be re-entered (see _Odepack)
        if method != "LSODA":
            options.pop("min_step", None)  # LSODA's alone
        if self.dense and method in ("Radau", "BDF", "LSODA"):
            # a derived system's exact Jacobian (one batched forward pass of chainrule through its
            # f): it is linear in most of its state, where difference quotients lose digits
            options["jac"] = self._exact_jac(args, y0.shape[0])
        with _Odepack() if method == "LSODA" else contextlib.nullcontext():
            res = _scipy_integrate().solve_ivp(self._rhs(args, y0.shape[0]), (ts[0], ts[-1]), y0,
                                               method=method, t_eval=None if dense or steps else ts,
                                               dense_output=dense, **options)
        if res.status < 0 and self.dense and method in ("BDF", "LSODA"):
            # a derived system (adjoint, tangent) starts off its slow manifold when the cotangent
            # or tangent is arbitrary, a transient SciPy's BDF can fail to start on: Radau copes
            return self._solve_ivp(y0, ts, args, dense, steps, method="Radau")
        if res.status < 0:
            raise RuntimeError(f"{self.name}: the solver failed ({res.message})")
        self.info = res
        return res


# ================================================================ the primitive
def _impl(y0, ts, *args, call):
    call._key = call._cts = None  # a new forward evaluation: an earlier backward's cache is stale
    ts = np.asarray(ts, dtype=np.float64)
    d = np.diff(ts)
    if not (np.all(d >= 0) or np.all(d <= 0)):  # the time points were traced by vmap or jit
        raise ValueError(f"{call.name}: the time points must be monotonic (increasing or "
                         f"decreasing), got {ts}")
    return call.solve(np.asarray(y0, dtype=np.float64), ts, [np.asarray(a) for a in args])


def _size(x) -> int:
    return math.prod(shape_of(x))


def _flow_call(call):
    """``y(t)`` from ``(y_c, t_c)``: the same system, answered from one dense solve."""
    return call.derived("flow", lambda: (call.fun, "flow"))


def _adjoint_call(call, B, n, sizes):
    """The augmented backward system of ``call`` for ``B`` cotangents: state ``[a (B, n),
    theta_bar (B, sum(sizes))]``; its arguments are ``(y_c, t_c, *args)``, ``y`` being the flow
    from ``(y_c, t_c)``."""
    fun, flow = call.fun, _flow_call(call)

    def make():
        def adjoint(state, t, y_c, t_c, *args):
            y = getitem(odeint_p(y_c, stack([t_c, t]), *args, call=flow), 1)
            a = reshape(getitem(state, slice(0, B * n)), (B, n))
            lin, _, _, _ = linearize_reverse(lambda y, *args: fun(y, t, *args), (y,) + tuple(args))
            if B == 1:  # one cotangent (grad): an unbatched pass costs less
                cts = [reshape(c, (1,) + shape_of(c)) for c in
                       lin.pull([reshape(a, (n,))], release=True)]
            else:
                cts = lin.pull([a], batch=(B,), release=True)
            parts = [reshape(cts[0], (B * n,))]
            if sizes:
                parts.append(reshape(concatenate([reshape(c, (B, s)) for c, s in
                                                  zip(cts[1:], sizes, strict=True)], axis=1), (-1,)))
            return -concatenate(parts)
        return adjoint, "adjoint"
    return call.derived(("adjoint", B), make)


def _tangent_call(call, B, n, k):
    """The forward-sensitivity system of ``call`` for ``B`` tangents: state ``[y, s (B, n)]``,
    arguments ``(*args)`` and, when ``k`` is an argument's index, that argument's tangent."""
    fun = call.fun

    def make():
        def tangent(state, t, *rest):
            y = getitem(state, slice(0, n))
            s = reshape(getitem(state, slice(n, None)), (B, n))
            if k is None:
                dy, ds, _ = push_forward(lambda y: fun(y, t, *rest), (y,), (s,), batch=(B,))
            else:
                args, dth = rest[:-1], rest[-1]

                def f(y, th):
                    return fun(y, t, *args[:k], th, *args[k + 1:])
                dy, ds, _ = push_forward(f, (y, args[k]), (s, dth), batch=(B,))
            return concatenate([dy, reshape(ds, (B * n,))])
        return tangent, "tangent"
    return call.derived(("tangent", B, k), make)


def _adjoint(call, g, ys, y0, ts, args):
    """Every argument's cotangent for the cotangent ``g`` of ``ys`` (module docstring)."""
    T, n = shape_of(ys)
    batch = lead(g, ys)
    B = math.prod(batch)
    g = reshape(g, (B, T, n))
    sizes = [_size(a) for a in args]
    dt = derivative_dtype(ys)
    t_plain = _known(ts)
    a = getitem(g, (slice(None), T - 1))
    th = np.zeros((B, sum(sizes)), dtype=dt)
    t_bars = []
    adj = _adjoint_call(call, B, n, sizes) if T > 1 else None
    flow = _flow_call(call)
    for i in range(T - 1, 0, -1):
        y_i, t_i, t_prev = getitem(ys, i), getitem(ts, i), getitem(ts, i - 1)
        t_bar = _red.sum(getitem(g, (slice(None), i)) * asarray(call.fun(y_i, t_i, *args)), axis=-1)
        t_bars.append(t_bar)
        if t_plain is None or t_plain[i] != t_plain[i - 1]:
            y_prev = _known(getitem(ys, i - 1))
            plain_args = [_known(x) for x in args]
            if t_plain is not None and y_prev is not None and all(a is not None for a in plain_args):
                # the forward flow over this interval, solved now, so that the backward solve's
                # evaluations of y(t) only read it (not under vmap: each example has its own)
                flow.solve(y_prev, t_plain[[i - 1, i]], plain_args)
            state = concatenate([reshape(a, (B * n,)), reshape(th, (-1,))])
            out = getitem(odeint_p(state, stack([t_i, t_prev]), getitem(ys, i - 1), t_prev, *args,
                                   call=adj), 1)
            a = reshape(getitem(out, slice(0, B * n)), (B, n))
            th = reshape(getitem(out, slice(B * n, None)), (B, -1))
        if i == 1:  # a(t_0+): moving t_0 moves the whole solution, dL/dt_0 = -a(t_0+) . f(y_0, t_0)
            t_bars.append(-_red.sum(a * asarray(call.fun(y0, getitem(ts, 0), *args)), axis=-1))
        a = a + getitem(g, (slice(None), i - 1))
    if T == 1:
        t_bars.append(np.zeros(B, dtype=dt))
    ts_bar = stack(t_bars[::-1], axis=1)
    cts = [reshape(a, batch + (n,)), reshape(ts_bar, batch + (T,))]
    start = 0
    for x, s in zip(args, sizes, strict=True):
        cts.append(reshape(getitem(th, (slice(None), slice(start, start + s))), batch + shape_of(x)))
        start += s
    return cts


def _known(x):
    """``x``'s plain value (float64 array), or ``None`` under ``vmap`` or ``jit``, where a value
    is not one array to read."""
    x = strip_derivatives(x)
    return None if isinstance(x, Box) else np.asarray(x, dtype=np.float64)


def _vjp(argnum, g, ans, y0, ts, *args, call):
    """Asked once per traced argument with the same ``g``: the first request solves for all."""
    key = call._key
    if key is None or key[0] is not g or key[1] is not ans:
        call._cts = _adjoint(call, g, ans, y0, ts, args)
        call._key = (g, ans)  # holding them keeps their ids from being reused
    return call._cts[argnum]


def _jvp(argnum, t, ans, y0, ts, *args, call):
    """The forward sensitivities for the tangent ``t`` of argument ``argnum`` (module docstring)."""
    T, n = shape_of(ans)
    batch = lead(t, (y0, ts, *args)[argnum])
    B = math.prod(batch)
    k = None
    extra = ()
    if argnum == 0:
        s0 = reshape(t, (B, n))
    elif argnum == 1:
        tdot = reshape(t, (B, T))
        f0 = asarray(call.fun(y0, getitem(ts, 0), *args))
        s0 = -getitem(tdot, (slice(None), slice(0, 1))) * f0
    else:
        k = argnum - 2
        s0 = np.zeros((B, n), dtype=derivative_dtype(ans))
        extra = (reshape(t, (B,) + shape_of(args[k])),)
    tan = _tangent_call(call, B, n, k)
    out = odeint_p(concatenate([y0, reshape(s0, (B * n,))]), ts, *args, *extra, call=tan)
    s = moveaxis(reshape(getitem(out, (slice(None), slice(n, None))), (T, B, n)), 1, 0)
    if argnum == 1:
        f = stack([asarray(call.fun(getitem(ans, i), getitem(ts, i), *args)) for i in range(T)])
        s = s + reshape(tdot, (B, T, 1)) * f
    return reshape(s, batch + (T, n))


odeint_p = Primitive("odeint", _impl,
                     doc="ys[i] = y(ts[i]) for dy/dt = f(y, t, *args), y(ts[0]) = y0 (SciPy's solvers)")
odeint_p.defvjp_argnum(_vjp)
odeint_p.defjvp_argnum(_jvp)


# ================================================================ calling it: checks and closures
def _is_dynamic(x) -> bool:
    """An argument derivatives may flow into: a float array or number (others stay fixed)."""
    if isinstance(x, Box):
        return dtype_of(x).kind in "fc"
    return isinstance(x, (float, np.floating)) or (isinstance(x, np.ndarray) and x.dtype.kind in "fc")


def _cell_box(cell) -> bool:
    try:
        return isinstance(cell.cell_contents, Box)
    except ValueError:  # an empty cell (a name not yet bound)
        return False


def _hoist(func):
    """``(f, values)``: ``func`` with the traced values held in its closure cells taken as extra
    trailing arguments (``f(*a, *values)`` runs ``func``'s code with those cells refilled), so
    their derivatives flow through the solve's arguments instead of being lost."""
    cells = getattr(func, "__closure__", None) or ()
    where = [i for i, c in enumerate(cells) if _cell_box(c)]
    if not where or not isinstance(func, types.FunctionType):
        return func, ()
    values = tuple(cells[i].cell_contents for i in where)
    m = len(where)

    def f(*a):
        fresh = list(cells)
        for i, v in zip(where, a[len(a) - m:], strict=True):
            fresh[i] = types.CellType(v)
        g = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__,
                               tuple(fresh))
        g.__kwdefaults__ = func.__kwdefaults__
        return g(*a[:len(a) - m])
    return f, values


def prepare(name, func, y0, args, tfirst=False, jac=None):
    """Check ``func``, ``y0`` and ``args``; return ``(fun, jac, y0, dyn)`` for :data:`odeint_p`:
    ``fun(y, t, *dyn)`` calls ``func(y, t, *args)`` (``func(t, y, *args)`` with ``tfirst``),
    ``dyn`` being the float arguments followed by the traced values ``func`` closes over; the
    other arguments stay fixed. ``jac`` (a callable of ``func``'s layout) is adapted alike."""
    if not callable(func):
        raise TypeError(f"{name}: func must be callable, got {type(func).__name__}")
    y0 = asarray(y0)
    if len(shape_of(y0)) != 1:
        raise ValueError(f"{name}: y0 must be 1-D, got shape {shape_of(y0)}")
    if dtype_of(y0).kind == "c":
        raise TypeError(f"{name}: complex y0 is not supported; integrate its real and imaginary "
                        "parts as a real system")
    if dtype_of(y0).kind != "f":
        y0 = y0.astype(np.float64) if isinstance(y0, np.ndarray) else y0 * 1.0
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    f, closed = _hoist(func)
    # the float leaves of the arguments (nested tuples, lists, dicts too) are the solve's
    leaves, tree = tree_flatten(args + closed)
    dyn = [i for i, a in enumerate(leaves) if _is_dynamic(a)]

    def adapt(h, hoisted):
        def flat(y, t, *d):
            a = list(leaves)
            for i, v in zip(dyn, d, strict=True):
                a[i] = v
            a = tree_unflatten(tree, a)
            a = a if hoisted else a[:len(args)]
            return asarray(h(t, y, *a) if tfirst else h(y, t, *a))
        return flat
    return (adapt(f, True), adapt(jac, False) if callable(jac) else jac, y0,
            [leaves[i] for i in dyn])


_HIDDEN = ("{name}: func uses a value traced by an enclosing transform that it neither takes as an "
           "argument nor holds in its own closure; pass it through args= so its derivative is not lost")


def _probe(name, fun, y0, t0, dyn):
    """One plain evaluation of ``fun``: its shape, and no derivative trace it was not given."""
    out = fun(strip_derivatives(y0), strip_derivatives(t0), *[strip_derivatives(a) for a in dyn])
    if strip_derivatives(out) is not out:
        raise TypeError(_HIDDEN.format(name=name))
    if shape_of(out) != shape_of(y0):
        raise ValueError(f"{name}: func returned an array of shape {shape_of(out)}; it must return "
                         f"dy/dt with the shape of y0, {shape_of(y0)}")


def _check_times(name, ts, what):
    """``ts``'s plain values, checked (``None`` under ``vmap`` / ``jit``: the solve checks them)."""
    tp = _known(ts)
    if tp is None:
        return None
    if tp.ndim != 1:
        raise ValueError(f"{name}: {what} must be 1-D, got shape {tp.shape}")
    if not np.all(np.isfinite(tp)):
        raise ValueError(f"{name}: {what} must be finite, got {tp}")
    d = np.diff(tp)
    if not (np.all(d >= 0) or np.all(d <= 0)):
        raise ValueError(f"{name}: {what} must be monotonic (increasing or decreasing), got {tp}")
    return tp


def _float(x):
    return x if dtype_of(x).kind == "f" else (x.astype(np.float64) if isinstance(x, np.ndarray)
                                              else x * 1.0)


def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """``scipy.integrate.odeint``, differentiable in ``y0``, ``t`` and ``args`` to any order.

    ``ys[i] = y(t[i])`` (``(len(t), len(y0))``) for ``dy/dt = func(y, t, *args)``
    (``func(t, y, *args)`` with ``tfirst``), ``y(t[0]) = y0``, solved by SciPy's LSODA. Reverse
    mode is the adjoint method, forward mode forward sensitivities (``chainrule.rules.integrate``).
    Traced values ``func`` holds in its closure are differentiated as if passed in ``args``.
    ``Dfun`` serves the forward solve; ``full_output`` returns ``(ys, infodict)`` as SciPy does.
    """
    name = "odeint"
    fun, jac, y0, dyn = prepare(name, func, y0, args, tfirst=tfirst, jac=Dfun)
    ts = _float(asarray(t))
    if len(shape_of(ts)) != 1:
        raise ValueError(f"{name}: t must be 1-D, got shape {shape_of(ts)}")
    _check_times(name, ts, "t")
    _probe(name, fun, y0, getitem(ts, 0) if shape_of(ts)[0] else 0.0, dyn)
    options = dict(col_deriv=col_deriv, ml=ml, mu=mu, tcrit=tcrit, h0=h0, hmax=hmax, hmin=hmin,
                   ixpr=ixpr, mxstep=mxstep, mxhnil=mxhnil, mxordn=mxordn, mxords=mxords,
                   printmessg=printmessg)
    options = {k: v for k, v in options.items() if v is not None}
    call = OdeCall(fun, name, "odeint", rtol, atol, options, jac=jac,
                   derived_options={k: options[k] for k in ("hmax", "hmin")})
    ys = odeint_p(y0, ts, *dyn, call=call)
    return (ys, call.info) if full_output else ys


def _ode_result(**fields):
    from scipy.integrate._ivp.ivp import OdeResult  # SciPy's result type (its fields, its repr)

    return OdeResult(**fields)


def solve_ivp(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
              vectorized=False, args=None, **options):
    """``scipy.integrate.solve_ivp``, differentiable in ``y0``, ``t_span``, ``t_eval`` and ``args``.

    Returns SciPy's ``OdeResult`` whose ``y`` (``(n, len(t))``) and ``t`` are traced:
    ``y[:, i] = y(t[i])`` for ``dy/dt = fun(t, y, *args)``, ``y(t_span[0]) = y0``. Methods RK23,
    RK45, DOP853 (explicit) and Radau, BDF, LSODA (stiff). Without ``t_eval`` the time points are
    the solver's own steps, held fixed for the derivatives except the two ends, which are
    ``t_span``'s. ``events`` and ``dense_output`` are SciPy's when nothing is traced, and an
    error otherwise (their results are not differentiable). ``vectorized`` is ignored (the
    derivatives evaluate ``fun`` one state at a time).
    """
    name = "solve_ivp"
    if not (isinstance(method, str) and method in SOLVE_IVP_METHODS):
        raise ValueError(f"{name}: method {method!r} is not supported; use one of "
                         f"{', '.join(SOLVE_IVP_METHODS)}")
    rtol, atol = options.pop("rtol", 1e-3), options.pop("atol", 1e-6)
    user_jac = options.pop("jac", None)
    f, jac, y0, dyn = prepare(name, fun, y0, () if args is None else args, tfirst=True,
                              jac=user_jac)
    span = _float(asarray(t_span))
    if shape_of(span) != (2,):
        raise ValueError(f"{name}: t_span must be a pair (t0, t1), got shape {shape_of(span)}")
    sp = _check_times(name, span, "t_span")
    te = None if t_eval is None else _float(asarray(t_eval))
    if te is not None:
        tp = _check_times(name, te, "t_eval")
        lo, hi = (-np.inf, np.inf) if sp is None else (min(sp), max(sp))
        if tp is not None and tp.size and (tp.min() < lo or tp.max() > hi):
            raise ValueError(f"{name}: t_eval values must lie within t_span {tuple(sp)}")
        if sp is not None and tp is not None and tp.size > 1 and (tp[-1] - tp[0]) * (sp[1] - sp[0]) < 0:
            raise ValueError(f"{name}: t_eval must be sorted in the direction of t_span")
    traced = any(isinstance(x, Box) for x in (y0, span, te, *dyn))
    if not traced:  # nothing to differentiate: SciPy's own call, every option included
        plain_args = None if args is None else (tuple(args) if isinstance(args, (tuple, list))
                                                 else (args,))
        return _scipy_integrate().solve_ivp(
            fun, tuple(sp), y0, method=method, t_eval=t_eval, dense_output=dense_output,
            events=events, vectorized=vectorized, args=plain_args, rtol=rtol, atol=atol,
            **({} if user_jac is None else {"jac": user_jac}), **options)
    if events is not None or dense_output:
        raise NotImplementedError(f"{name}: events and dense_output are not differentiable; pass "
                                  "the time points you need as t_eval")
    _probe(name, f, y0, getitem(span, 0), dyn)
    derived = {k: v for k, v in options.items() if k not in _PRIMAL_ONLY}
    call = OdeCall(f, name, method, rtol, atol, options, derived, jac=jac)
    if t_eval is None:  # the solver's own steps; the ends are t_span's (traced)
        if sp is None:
            raise ValueError(f"{name}: without t_eval the time points are the solver's steps, "
                             "chosen from t_span's value, which vmap or jit does not give; pass t_eval")
        grid = call._solve_ivp(np.asarray(unbox_all(y0), dtype=np.float64), sp,
                               [np.asarray(unbox_all(a)) for a in dyn], dense=False, steps=True).t
        ts = concatenate([getitem(span, slice(0, 1)), grid[1:-1], getitem(span, slice(1, 2))])
        first = 0
    else:
        first = 1
        ts = concatenate([getitem(span, slice(0, 1)), te])
    ys = odeint_p(y0, ts, *dyn, call=call)
    ys, ts = getitem(ys, slice(first, None)), getitem(ts, slice(first, None))
    info = call.info  # None when the solve ran elsewhere (a batched call under vmap)
    stats = {k: getattr(info, k, 0) for k in ("nfev", "njev", "nlu", "status")}
    return _ode_result(t=ts, y=moveaxis(ys, 0, 1), sol=None, t_events=None, y_events=None,
                       message=getattr(info, "message", "The solver successfully reached the end "
                                       "of the integration interval."),
                       success=True, **stats)
