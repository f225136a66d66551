"""vmap (issue 16): every registered primitive under vmap against stacking per-example results,
JAX's in_axes/out_axes semantics checked against jax.vmap, nesting, and every composition with
grad, jvp, jacobian, hessian and jit; chunk_size; errors that name the culprit.
"""

from __future__ import annotations

import importlib
import pkgutil
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule
import chainrule.numpy as cnp
from chainrule import grad, hessian, jacfwd, jacobian, jacrev, jit, jvp, value_and_grad, vjp
from chainrule.autograd.misc.fixed_points import fixed_point_p
from chainrule.batching import BatchedValueError, batching_rule, vmap
from chainrule.checkpoint import checkpoint_p
from chainrule.compile.fusion import join_tiles, scatter_sum
from chainrule.core.errors import NoRuleError
from chainrule.core.primitive import Primitive
from chainrule.core.trace import to_complex
from chainrule.frontends.checkpoint import tensor_checkpoint_p
from chainrule.rules import decompositions as dec
from chainrule.rules import elementwise as ew
from chainrule.rules import fft
from chainrule.rules import gammabeta as gb
from chainrule.rules import linalg as la
from chainrule.rules import linear as lin
from chainrule.rules import mvn_cdf as mvn
from chainrule.rules import reductions as red
from chainrule.rules import scipy_linalg as sla
from chainrule.rules import special as sp
from chainrule.rules.dispatch import UFUNCS
from chainrule.rules.integrate import odeint_p


def _all_primitives():
    found = {}
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        for v in vars(mod).values():
            if isinstance(v, Primitive):
                found[id(v)] = v
    return sorted(found.values(), key=lambda p: p.name)


PRIMITIVES = _all_primitives()
# Built by jit's simplification of a staged program, after every transform has run: it is never
# bound on a traced value.
NOT_BATCHED = {scatter_sum, join_tiles}
# The Tensor front-end's checkpoint: bound only on Tensors, reverse mode only (as PyTorch's).
NOT_BATCHED.add(tensor_checkpoint_p)
# its batching rule is vmap of the checkpointed function: tests/test_checkpoint.py runs it
TESTED_ELSEWHERE = {checkpoint_p}
# an ODE solve's batching rule solves the stacked systems: tests/test_integrate.py checks
# vmap and vmap of grad against a loop
TESTED_ELSEWHERE.add(odeint_p)
# autograd's fixed_point: the mapped problem iterated together; tests/test_autograd_dropin.py
# checks vmap and vmap of grad against a loop
TESTED_ELSEWHERE.add(fixed_point_p)

_UFUNC_OF = {fn: uf for uf, fn in UFUNCS.items() if isinstance(fn, Primitive)}
_EXTRA_ELEMENTWISE = {  # elementwise primitives that are not a ufunc's: arity, params, kinds
    ew.power_p: (2, {}, "ff"), ew.integer_pow: (1, {"n": 3}, "f"), ew.where: (3, {}, "bff"),
    ew.real_p: (1, {}, "c"), ew.imag_p: (1, {}, "c"), ew.conj_p: (1, {}, "c"),
    ew._angle_real: (1, {"deg": True}, "f"), ew.round: (1, {"decimals": 1}, "f"),
    sp._polygamma: (2, {}, "if"), sp.weighted_exp: (2, {}, "ff"), to_complex: (1, {}, "f"),
    gb.gammainc_da: (3, {}, "iff"), gb.betainc_dab: (5, {}, "iifff"), gb.stdtr_ddf: (3, {}, "iff"),
}


def _elementwise_spec(prim):
    if prim in _EXTRA_ELEMENTWISE:
        return _EXTRA_ELEMENTWISE[prim]
    uf = _UFUNC_OF.get(prim)
    if uf is None or uf.signature is not None:
        return None
    floats = any(t.startswith("d" * uf.nin) for t in uf.types)
    return uf.nin, {}, ("f" if floats else "i") * uf.nin


def _value(rng, kind, shape):
    if kind == "f":
        return rng.uniform(0.1, 0.9, size=shape)
    if kind == "c":
        return rng.normal(size=shape) + 1j * rng.normal(size=shape)
    if kind == "b":
        return rng.uniform(size=shape) < 0.5
    return rng.integers(0, 4, size=shape)


def _spd(rng, shape):
    m = rng.normal(size=shape)
    return m @ np.swapaxes(m, -1, -2) + 3 * np.eye(shape[-1])


def _well(rng, shape):
    return rng.normal(size=shape) + 3 * np.eye(shape[-1])


def _band(rng, shape):  # banded storage with a dominant main diagonal (its row is 1 here)
    ab = rng.normal(size=shape)
    ab[1] += 4.0
    return ab


def _value_c(rng, shape):
    return _value(rng, "c", shape)


def _f(rng, shape):
    return rng.normal(size=shape)


def _pos(rng, shape):
    return rng.uniform(0.5, 1.5, size=shape)


_IDX = [(slice(1, 3),), (np.array([0, 2, 2]),), (np.array([True, False, True, True]),),
        (1, None, slice(None, None, -1)), (np.array([[0, 1], [3, 3]]), np.array([2, 0]))]

# per-example argument makers (shapes fixed) and parameters, for the primitives with structure
CASES = {
    lin.reshape_p: [([(_f, (2, 3))], {"shape": (3, 2)}), ([(_f, (6,))], {"shape": (1, 2, 3)})],
    lin.broadcast_to_p: [([(_f, (3,))], {"shape": (2, 3)}), ([(_f, (1, 3))], {"shape": (4, 2, 3)})],
    lin.transpose_p: [([(_f, (2, 3, 4))], {"axes": (2, 0, 1)}), ([(_f, (2, 3))], {"axes": (1, 0)})],
    lin.getitem_p: [([(_f, (4, 3))], {"idx": lin.normalize_index(k, (4, 3))}) for k in _IDX],
    lin.scatter_add_p: [([(_f, lin.getitem(np.zeros((4, 3)), k).shape)],
                         {"idx": lin.normalize_index(k, (4, 3)), "shape": (4, 3)}) for k in _IDX],
    lin.sum_p: [([(_f, (2, 3, 4))], {"axis": (-3, -1), "keepdims": kd}) for kd in (True, False)]
    + [([(_f, (3,))], {"axis": (-1,), "keepdims": False})],
    lin.astype_p: [([(_f, (2, 3))], {"dtype": np.dtype(np.complex128)}),
                   ([(_f, (2, 3))], {"dtype": np.dtype(np.float32)})],
    lin.concatenate_p: [([(_f, (2, 3)), (_f, (1, 3)), (_f, (4, 3))], {"axis": -2}),
                        ([(_f, (2, 3)), (_f, (2, 1))], {"axis": -1})],
    red.max_p: [([(_f, (3, 4))], {"axis": ax, "keepdims": kd})
                for ax in ((-1,), (-2, -1)) for kd in (True, False)],
    red.cumsum_p: [([(_f, (3, 4))], {"axis": ax}) for ax in (-1, -2)],
    red.cumprod_p: [([(_pos, (3, 4))], {"axis": ax}) for ax in (-1, -2)],
    la.matmul_p: [([(_f, sa), (_f, sb)], {}) for sa, sb in [
        ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
        ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,))]],
    la.einsum_p: [([(_f, (2, 3)), (_f, (3, 4))], {"subscripts": "ij,jk->ik"}),
                  ([(_f, (3, 3))], {"subscripts": "ii->i"}),
                  ([(_f, (3,)), (_f, (3,))], {"subscripts": "i,i->"}),
                  ([(_f, (2, 3, 4))], {"subscripts": "ijk->kj"})],
    la.inv_p: [([(_well, (3, 3))], {}), ([(_well, (2, 3, 3))], {})],
    la.det_p: [([(_well, (3, 3))], {}), ([(_well, (2, 3, 3))], {})],
    la.adjugate_p: [([(_well, (3, 3))], {})],
    la.slogdet_p: [([(_well, (3, 3))], {}), ([(_well, (2, 3, 3))], {})],
    la.cholesky_p: [([(_spd, (3, 3))], {}), ([(_spd, (2, 3, 3))], {})],
    la.eigh_p: [([(_spd, (3, 3))], {})],
    la.solve_p: [([(_well, sa), (_f, sb)], {}) for sa, sb in [
        ((3, 3), (3, 2)), ((2, 3, 3), (3, 1)), ((3, 3), (4, 3, 2)), ((70, 70), (70, 2))]],
    la.solve_triangular_p: [([(_well, sa), (_f, sb)], {"trans": tr, "lower": lo, "unit": un})
                            for sa, sb in [((3, 3), (3, 2)), ((2, 3, 3), (3, 1)), ((70, 70), (70, 3))]
                            for tr, lo, un in [(False, True, False), (True, False, True)]],
}
CASES[red.min_p] = CASES[red.prod_p] = CASES[red.max_p]


def _ints(n):  # indices into an axis of length n, negative ones included
    return lambda rng, shape: rng.integers(-n, n, size=shape)


# gather keys on x of shape (4, 3, 5): the Ellipsis slots are operands (traced indices);
# adjacent advanced entries at the front, after slices or None, split by a slice or None,
# beside integers and constant index arrays
_GATHER = [((Ellipsis,), [(2,)]), ((slice(None), Ellipsis), [(2, 2)]),
           ((Ellipsis, 1), [(3,)]), ((None, slice(1, 3), Ellipsis), [()]),
           ((Ellipsis, None, Ellipsis), [(2,), (2,)]), ((np.array([0, 2]), slice(None), Ellipsis), [(2,)]),
           ((0, slice(None, None, -1), Ellipsis), [(1, 3)]), ((Ellipsis, Ellipsis), [(2, 1), (3,)])]
_BOUNDS = (4, 3, 5)


def _gather_operands(key, shapes):
    """Index makers for the key's slots, each bounded by the length of the axis it indexes."""
    axes = iter(_BOUNDS)
    bounds = [next(axes) for k in key if k is not None]  # None takes no axis, the rest one
    slots = [n for k, n in zip([k for k in key if k is not None], bounds) if k is Ellipsis]
    return [(_ints(n), s) for n, s in zip(slots, shapes)]


def _gathered_shape(key, shapes):
    return np.zeros(_BOUNDS)[lin.fill_key(key, [np.zeros(s, int) for s in shapes])].shape


CASES[lin.gather_p] = [([(_f, _BOUNDS)] + _gather_operands(k, ss), {"key": k}) for k, ss in _GATHER]
CASES[lin.gather_scatter_add_p] = [
    ([(_f, _gathered_shape(k, ss))] + _gather_operands(k, ss), {"key": k, "shape": _BOUNDS})
    for k, ss in _GATHER]
CASES.update({
    dec.svd_p: [([(_f, (4, 3))], {"full": False}), ([(_f, (2, 3, 3))], {"full": True})],
    dec.svdvals_p: [([(_f, (4, 3))], {}), ([(_f, (2, 3, 3))], {})],
    dec.qr_p: [([(_f, (4, 3))], {"complete": False}), ([(_f, (2, 3, 3))], {"complete": True})],
    dec.eig_p: [([(_well, (3, 3))], {})],
    dec.pinv_p: [([(_f, (4, 3))], {"rtol": 1e-10}), ([(_f, (2, 3, 4))], {"rtol": 1e-10})],
    sla.expm_p: [([(_f, (3, 3))], {}), ([(_f, (2, 3, 3))], {})],
    sla.logm_p: [([(_spd, (3, 3))], {})],
    sla.sqrtm_p: [([(_spd, (3, 3))], {})],
    sla.lu_p: [([(_well, (3, 3))], {}), ([(_well, (2, 3, 3))], {})],
    sla.sylvester_p: [([(_well, (3, 3)), (_well, (2, 2)), (_f, (3, 2))], {}),
                      ([(_well, (2, 3, 3)), (_well, (2, 2)), (_f, (3, 2))], {})],
    fft.dft: [([(_f, (3, 4))], {"axes": ax, "inverse": inv})
              for ax in ((-1,), (-2, -1)) for inv in (False, True)]
    + [([(_value_c, (2, 3))], {"axes": (-2,), "inverse": False})],
    fft.rdft: [([(_f, (3, 4))], {"axis": ax, "n": n}) for ax, n in ((-1, 4), (-2, 3), (-1, 6))],
    fft.irdft: [([(_value_c, (3, 3))], {"axis": -1, "n": n}) for n in (4, 5)]
    + [([(_value_c, (3, 4))], {"axis": -2, "n": 4})],
    sla.banded_p: [([(_band, (3, 4)), (_f, (4, 2))], {"l_and_u": (1, 1)}),
                   ([(_band, (2, 4)), (_f, (3, 4, 1))], {"l_and_u": (0, 1)})],
    # b (..., d) and cov (..., d, d): d = 1, 2, 3 (closed form, bvnu, quadrature) and 4 (QMC)
    mvn.mvn_cdf_p: [([(_f, (3,)), (_spd, (3, 3))], {}), ([(_f, (4, 2)), (_spd, (2, 2))], {}),
                    ([(_f, (3, 1)), (_spd, (3, 1, 1))], {}), ([(_f, (4,)), (_spd, (4, 4))], {})],
})


def test_every_primitive_is_batched_or_exempt():
    """A new primitive without a batching rule (or without a case here) fails this test."""
    missing = [p.name for p in PRIMITIVES if p not in NOT_BATCHED and batching_rule(p) is None]
    assert not missing, f"primitives without a batching rule: {missing}"
    untested = [p.name for p in PRIMITIVES if p not in NOT_BATCHED | TESTED_ELSEWHERE
                and p not in CASES and _elementwise_spec(p) is None]
    assert not untested, f"primitives the sweep does not cover: {untested}"
    assert len(PRIMITIVES) >= 110


def _check(prim, per_example, params, data):
    """vmap(prim) over a drawn batch size, drawn mapped arguments and axes, against stacking."""
    n = len(per_example)
    size = data.draw(st.integers(1, 4), label="size")
    mapped = data.draw(st.lists(st.booleans(), min_size=n, max_size=n).filter(any), label="mapped")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    args, axes, examples = [], [], []
    for (make, shape), m in zip(per_example, mapped):
        if m:
            stacked = np.stack([make(rng, shape) for _ in range(size)])
            ax = data.draw(st.integers(-stacked.ndim, stacked.ndim - 1), label="axis")
            args.append(np.moveaxis(stacked, 0, ax))
            axes.append(ax)
            examples.append(list(stacked))
        else:
            v = make(rng, shape)
            args.append(v)
            axes.append(None)
            examples.append([v] * size)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = [prim.impl(*[e[b] for e in examples], **params) for b in range(size)]
        got = vmap(lambda *a: prim(*a, **params), in_axes=tuple(axes))(*args)
    if prim.multiple_results:
        for i, g in enumerate(got):
            _same(g, np.stack([w[i] for w in want]), prim)
    else:
        _same(got, np.stack(want), prim)


def _same(got, want, prim):
    got = np.asarray(got)
    assert got.shape == want.shape, f"{prim.name}: shape {got.shape}, stacked {want.shape}"
    assert got.dtype == want.dtype, f"{prim.name}: dtype {got.dtype}, stacked {want.dtype}"
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, equal_nan=True,
                               err_msg=prim.name)


_SWEEP = settings(max_examples=12, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow])
ELEMENTWISE = [p for p in PRIMITIVES if p not in NOT_BATCHED and _elementwise_spec(p) is not None]
STRUCTURED = [(p, i) for p in PRIMITIVES if p in CASES for i in range(len(CASES[p]))]


@pytest.mark.parametrize("prim", ELEMENTWISE, ids=lambda p: p.name)
@_SWEEP
@given(data=st.data())
def test_elementwise_primitive_under_vmap(prim, data):
    nin, params, kinds = _elementwise_spec(prim)
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=nin, max_dims=3, max_side=3),
                       label="shapes").input_shapes
    makers = [(lambda rng, s, k=k: _value(rng, k, s), s) for k, s in zip(kinds, shapes)]
    _check(prim, makers, params, data)


@pytest.mark.parametrize("prim,case", STRUCTURED,
                         ids=lambda v: v.name if isinstance(v, Primitive) else str(v))
@_SWEEP
@given(data=st.data())
def test_structured_primitive_under_vmap(prim, case, data):
    per_example, params = CASES[prim][case]
    _check(prim, per_example, params, data)


# ------------------------------------------------------------------ JAX's semantics
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _mlp(p, x):
    return np.tanh(x @ p["W"] + p["b"]) @ p["v"]


def _mlp_j(p, x):
    return jnp.tanh(x @ p["W"] + p["b"]) @ p["v"]


@pytest.mark.parametrize("in_axes,out_axes,shapes", [
    (0, 0, [(5, 3), (5, 3)]),
    (1, 0, [(3, 5), (3, 5)]),
    ((0, None), 0, [(5, 3), (3,)]),
    ((None, 1), 1, [(3,), (3, 5)]),
    ((-1, 0), -1, [(3, 5), (5, 3)]),
    ([1, -2], 0, [(3, 5), (5, 3)]),
])
def test_in_and_out_axes_agree_with_jax(in_axes, out_axes, shapes):
    rng = np.random.default_rng(0)
    x, y = (rng.normal(size=s) for s in shapes)

    def f(a, b):
        return np.outer(np.sin(a), b) + a[:, None]

    def fj(a, b):
        return jnp.outer(jnp.sin(a), b) + a[:, None]
    got = vmap(f, in_axes=in_axes, out_axes=out_axes)(x, y)
    want = jax.vmap(fj, in_axes=in_axes, out_axes=out_axes)(x, y)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_pytree_in_axes_out_axes_and_axis_size_agree_with_jax():
    rng = np.random.default_rng(1)
    p = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=(7, 4)), "v": rng.normal(size=4)}
    x = rng.normal(size=(3, 7))
    in_axes = ({"W": None, "b": 0, "v": None}, 1)

    def f(p, x):
        return {"out": _mlp(p, x), "b": p["b"], "const": p["v"]}

    def fj(p, x):
        return {"out": _mlp_j(p, x), "b": p["b"], "const": p["v"]}
    out_axes = {"out": 0, "b": 1, "const": None}
    got = vmap(f, in_axes, out_axes)(p, x)
    want = jax.vmap(fj, in_axes, out_axes)(p, x)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, err_msg=k)
    # nothing mapped: axis_size says how many; an unmapped output is broadcast
    got = vmap(lambda a: a * 2.0, in_axes=None, axis_size=3)(np.arange(2.0))
    want = jax.vmap(lambda a: a * 2.0, in_axes=None, axis_size=3)(jnp.arange(2.0))
    np.testing.assert_allclose(got, want)
    # a tuple output with per-leaf out_axes, a kwarg mapped over axis 0 as in JAX
    got = vmap(lambda a, *, k: (a + k, a), out_axes=(1, 0))(x, k=x)
    want = jax.vmap(lambda a, *, k: (a + k, a), out_axes=(1, 0))(x, k=x)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)


def test_nested_vmap_agrees_with_jax():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    got = vmap(vmap(lambda u, v: np.dot(u, v) * np.exp(u).sum(), (None, 0)), (0, None))(a, b)
    want = jax.vmap(jax.vmap(lambda u, v: jnp.dot(u, v) * jnp.exp(u).sum(), (None, 0)),
                    (0, None))(a, b)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    m = rng.normal(size=(2, 3, 4, 5))
    got = vmap(vmap(lambda m: m @ m.T, in_axes=2, out_axes=1), in_axes=0)(m)
    want = jax.vmap(jax.vmap(lambda m: m @ m.T, in_axes=2, out_axes=1), in_axes=0)(m)
    assert got.shape == want.shape == (2, 3, 5, 3)
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------ compositions
def _loss(w, x, y):
    h = np.tanh(x @ w["W1"] + w["b1"])
    return np.sum((h @ w["W2"] - y) ** 2) + 0.1 * np.sum(w["W1"] ** 2)


def _loss_j(w, x, y):
    h = jnp.tanh(x @ w["W1"] + w["b1"])
    return jnp.sum((h @ w["W2"] - y) ** 2) + 0.1 * jnp.sum(w["W1"] ** 2)


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    w = {"W1": rng.normal(size=(4, 6)), "b1": rng.normal(size=6), "W2": rng.normal(size=(6, 2))}
    return w, rng.normal(size=(8, 4)), rng.normal(size=(8, 2))


def _close(a, b):
    for x, y in zip(chainrule.tree_leaves(a), chainrule.tree_leaves(b)):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def test_per_example_gradients_vmap_of_grad_agree_with_jax(problem):
    w, X, Y = problem
    got = vmap(grad(_loss), in_axes=(None, 0, 0))(w, X, Y)
    want = jax.vmap(jax.grad(_loss_j), in_axes=(None, 0, 0))(w, X, Y)
    _close(got, want)
    loop = [grad(_loss)(w, x, y) for x, y in zip(X, Y)]
    _close(got, {k: np.stack([g[k] for g in loop]) for k in w})


def test_grad_of_vmap_and_jit_orders(problem):
    w, X, Y = problem

    def total(w):
        return np.sum(vmap(_loss, in_axes=(None, 0, 0))(w, X, Y))
    want = grad(lambda w: _loss(w, X, Y) * 0 + sum(_loss(w, x, y) for x, y in zip(X, Y)))(w)
    _close(grad(total)(w), want)
    _close(jit(grad(total))(w), want)
    pe = vmap(grad(_loss), in_axes=(None, 0, 0))(w, X, Y)
    _close(jit(vmap(grad(_loss), in_axes=(None, 0, 0)))(w, X, Y), pe)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # vmap(jit(.)) traces through jit: no fallback warning
        _close(vmap(jit(grad(_loss)), in_axes=(None, 0, 0))(w, X, Y), pe)
    _close(vmap(grad(jit(_loss)), in_axes=(None, 0, 0))(w, X, Y), pe)


def test_jvp_vjp_and_value_and_grad_compose_both_ways(problem):
    w, X, Y = problem
    V = np.random.default_rng(4).normal(size=X.shape)
    f = lambda x: np.tanh(x @ w["W1"])  # noqa: E731
    t_loop = np.stack([jvp(f, (x,), (v,))[1] for x, v in zip(X, V)])
    np.testing.assert_allclose(vmap(lambda x, v: jvp(f, (x,), (v,))[1])(X, V), t_loop, rtol=1e-12)
    np.testing.assert_allclose(jvp(vmap(f), (X,), (V,))[1], t_loop, rtol=1e-12)
    ct = np.random.default_rng(5).normal(size=(8, 6))
    (g_outer,) = vjp(vmap(f), X)[1](ct)
    g_inner = vmap(lambda x, c: vjp(f, x)[1](c)[0])(X, ct)
    np.testing.assert_allclose(g_outer, g_inner, rtol=1e-12)
    v, g = vmap(value_and_grad(_loss), in_axes=(None, 0, 0))(w, X, Y)
    np.testing.assert_allclose(v, [_loss(w, x, y) for x, y in zip(X, Y)], rtol=1e-12)


def test_jacobians_and_hessians_compose_both_ways(problem):
    w, X, _ = problem
    f = lambda x: np.tanh(x @ w["W1"]) * np.sum(x ** 2)  # noqa: E731
    s = lambda x: np.sum(np.sin(x) * np.cosh(x @ w["W1"][:, :4]))  # noqa: E731
    J = np.stack([jacobian(f)(x) for x in X])
    H = np.stack([hessian(s)(x) for x in X])
    for jac in (jacobian, jacfwd, jacrev):
        np.testing.assert_allclose(vmap(jac(f))(X), J, rtol=1e-10, atol=1e-12)
        # the Jacobian of the batched map is block diagonal with the per-example blocks
        big = jac(vmap(f))(X)
        np.testing.assert_allclose(np.einsum("bibj->bij", big), J, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(vmap(hessian(s))(X), H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.einsum("bibj->bij", hessian(lambda X: np.sum(vmap(s)(X)))(X)),
                               H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(vmap(grad(grad(lambda x: np.sin(x) * x ** 3)))(X[:, 0]),
                               [grad(grad(lambda x: np.sin(x) * x ** 3))(x) for x in X[:, 0]])
    np.testing.assert_allclose(jit(vmap(hessian(s)))(X), H, rtol=1e-10, atol=1e-12)


def test_vmap_of_vmap_of_grad_and_jax_agree(problem):
    w, X, Y = problem
    Xs, Ys = X.reshape(2, 4, 4), Y.reshape(2, 4, 2)
    got = vmap(vmap(grad(_loss), (None, 0, 0)), (None, 0, 0))(w, Xs, Ys)
    want = jax.vmap(jax.vmap(jax.grad(_loss_j), (None, 0, 0)), (None, 0, 0))(w, Xs, Ys)
    _close(got, want)


# ------------------------------------------------------------------ chunk_size
def test_chunk_size_gives_the_same_result(problem):
    w, X, Y = problem
    full = vmap(grad(_loss), in_axes=(None, 0, 0))(w, X, Y)
    for chunk in (1, 3, 8, 100):
        _close(vmap(grad(_loss), in_axes=(None, 0, 0), chunk_size=chunk)(w, X, Y), full)
    got = vmap(lambda x: (x.sum(), x), in_axes=1, out_axes=(0, 1), chunk_size=3)(X.T)
    np.testing.assert_allclose(got[0], X.sum(1))
    np.testing.assert_allclose(got[1], X.T)
    with pytest.raises(ValueError, match="chunk_size"):
        vmap(np.sin, chunk_size=0)


# ------------------------------------------------------------------ errors
def test_a_primitive_without_batching_rule_is_named():
    p = chainrule.primitive(lambda x: x * 2.0)
    with pytest.raises(NoRuleError, match="has no batching rule"):
        vmap(p)(np.ones((3, 2)))


def test_data_dependent_control_flow_and_shapes_raise_naming_the_function():
    def branchy(x):
        return x if x.sum() > 0 else -x
    with pytest.raises(BatchedValueError, match=r"vmap\(branchy\)"):
        vmap(branchy)(np.ones((3, 2)))

    def positives(x):
        return x[x > 0]
    with pytest.raises(BatchedValueError, match=r"vmap\(positives\)"):
        vmap(positives)(np.ones((3, 2)))
    # the documented rewrite works
    np.testing.assert_allclose(vmap(lambda x: cnp.where(x.sum() > 0, x, -x))(np.array([[1.0], [-2.0]])),
                               [[1.0], [2.0]])


def test_bad_axes_and_sizes_raise():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="different sizes"):
        vmap(lambda a, b: a + b)(x, np.ones((4, 2)))
    with pytest.raises(ValueError, match="axis_size"):
        vmap(lambda a: a, in_axes=None)(x)
    with pytest.raises(ValueError, match="out of bounds"):
        vmap(lambda a: a, in_axes=2)(x)
    with pytest.raises(ValueError, match="2 entries"):
        vmap(lambda a: a, in_axes=(0, 0))(x)
    with pytest.raises(ValueError, match="out_axes=None"):
        vmap(lambda a: a, out_axes=None)(x)
    with pytest.raises(ValueError, match="scalar"):
        vmap(lambda a: a)(1.0)


def test_a_batched_value_has_the_per_example_shape():
    seen = {}

    def f(x):
        seen.update(shape=x.shape, ndim=x.ndim, size=x.size, len=len(x), dtype=x.dtype)
        return x
    vmap(f, in_axes=1)(np.ones((3, 5, 2), dtype=np.float32))
    assert seen == {"shape": (3, 2), "ndim": 2, "size": 6, "len": 3, "dtype": np.float32}


# ------------------------------------------------------------------ chunk_size on the Jacobians
@pytest.fixture
def observed_batches():
    """The leading (batch) size of every cotangent and tangent a rule receives."""
    from chainrule.core.tape import Checks
    seen = []
    old = Checks.vjp, Checks.jvp

    def batch(d, value):  # the leading axes of d beyond the value's own
        return np.shape(d)[0] if np.ndim(d) > np.ndim(value) else 0
    Checks.vjp = lambda rec, argnum, node, g, c: seen.append(
        max(batch(gi, a) for gi, a in zip(g, rec.ans) if gi is not None)
        if rec.prim.multiple_results else batch(g, rec.ans))
    Checks.jvp = lambda prim, argnum, t, ans, args, params, c: seen.append(batch(t, args[argnum]))
    yield seen
    Checks.vjp, Checks.jvp = old


def _pytree_problem():
    rng = np.random.default_rng(6)
    p = {"a": rng.normal(size=(2, 3)), "b": rng.normal(size=4)}

    def f(p):  # 10 inputs -> (3,) and (2, 2) outputs: 7 rows
        h = np.tanh(p["a"] @ p["b"][:3]) * np.sum(p["b"] ** 2)
        return {"u": np.sin(np.concatenate([h, p["b"][3:]])), "v": np.outer(h, h)[:2, :2]}

    def s(p):
        return np.sum(np.sin(p["a"]) ** 2) * np.exp(p["b"]).sum() + np.sum(p["a"] @ p["b"][:3] ** 3)
    return p, f, s


@pytest.mark.parametrize("chunk", [1, 3, 4, 7, 100])
def test_jacobian_and_hessian_chunk_size_give_the_same_result(chunk):
    p, f, s = _pytree_problem()
    for jac in (jacrev, jacfwd, lambda g, **k: jacobian(g, mode="fwd", **k),
                lambda g, **k: jacobian(g, mode="rev", **k), jacobian):
        _close(jac(f, chunk_size=chunk)(p), jac(f)(p))
    _close(hessian(s, chunk_size=chunk)(p), hessian(s)(p))
    _close(hessian(f, chunk_size=chunk)(p), hessian(f)(p))  # a Hessian per output element
    _close(vmap(jacrev(f, chunk_size=chunk))({"a": np.stack([p["a"]] * 2), "b": np.stack([p["b"]] * 2)}),
           vmap(jacrev(f))({"a": np.stack([p["a"]] * 2), "b": np.stack([p["b"]] * 2)}))


def test_chunk_size_bounds_the_batch_every_rule_sees(observed_batches):
    p, f, s = _pytree_problem()
    for make in (jacrev, jacfwd, hessian):
        observed_batches.clear()
        make(s if make is hessian else f, chunk_size=3)(p)
        assert observed_batches and max(observed_batches) <= 3, make.__name__
        observed_batches.clear()
        make(s if make is hessian else f)(p)
        assert max(observed_batches) > 3, make.__name__  # the check can fail


def test_vmap_chunk_size_bounds_the_batch():
    seen = []

    def f(x):
        seen.append(x._value.shape[0])  # the batch a BatchBox carries
        return np.sin(x) * 2
    x = np.arange(10.0)
    np.testing.assert_allclose(vmap(f, chunk_size=4)(x), np.sin(x) * 2)
    assert seen == [4, 4, 2]


def test_bad_chunk_size_raises():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="chunk_size"):
            jacobian(np.sin, chunk_size=bad)


# ------------------------------------------------------------------ nesting with constants
BINARY_CONSTANT_OPS = [p for p in ELEMENTWISE
                       if not p.differentiable and _elementwise_spec(p)[0] == 2]


@pytest.mark.parametrize("prim", BINARY_CONSTANT_OPS, ids=lambda p: p.name)
def test_nested_vmap_of_non_differentiable_ops_keeps_levels_apart(prim):
    """``bind`` gives a non-differentiable primitive to its first traced argument's trace; an
    outer vmap's box first and an inner one's second must still be mapped by the inner first."""
    nin, params, kinds = _elementwise_spec(prim)
    rng = np.random.default_rng(7)
    a, b = _value(rng, kinds[0], (3, 4)), _value(rng, kinds[1], (5, 4))

    def f(u, v):
        return prim(u, v, **params)
    with np.errstate(all="ignore"):
        want = np.array([[f(u, v) for v in b] for u in a])
        got = vmap(vmap(f, in_axes=(None, 0)), in_axes=(0, None))(a, b)
        np.testing.assert_array_equal(got, want)
        got = vmap(vmap(f, in_axes=(0, None)), in_axes=(None, 0))(a, b)
        np.testing.assert_array_equal(got, np.swapaxes(want, 0, 1))


def test_a_custom_primitive_gets_a_batching_rule():
    from chainrule.batching import register_batching_rule

    @chainrule.primitive
    def rowsum(x):
        return np.sum(x, axis=-1)
    rowsum.defvjp(lambda g, ans, x: np.broadcast_to(g[..., None], g.shape + x.shape[-1:]))
    X = np.arange(24.0).reshape(4, 2, 3)
    with pytest.raises(NoRuleError, match="rowsum"):
        vmap(rowsum)(X)
    register_batching_rule(rowsum, lambda size, vals, batched: rowsum(vals[0]))  # trailing axis
    np.testing.assert_allclose(vmap(rowsum)(X), X.sum(-1))
    np.testing.assert_allclose(vmap(grad(lambda x: np.sum(rowsum(x) ** 2)))(X),
                               [grad(lambda x: np.sum(rowsum(x) ** 2))(x) for x in X])
    with pytest.raises(TypeError, match="Primitive"):
        register_batching_rule(np.sum, lambda *a: None)


def test_a_ufunc_primitive_registered_after_import_is_elementwise():
    """The rule families import in any order (scipy.integrate imports vmap before the Bessel
    functions register): a ufunc's primitive registered later still gets the elementwise rule."""
    from chainrule.rules.dispatch import UFUNCS, implements

    uf = np.frompyfunc(lambda a, b: a * b + 1.0, 2, 1)
    prim = Primitive("late_ufunc", lambda a, b: (a * b + 1.0).astype(np.float64))
    implements(uf)(prim)
    try:
        assert batching_rule(prim) is not None
        x, y = np.arange(6.0).reshape(3, 2), np.array([2.0, 3.0])
        np.testing.assert_array_equal(vmap(prim, in_axes=(0, None))(x, y), x * y + 1.0)
    finally:
        del UFUNCS[uf]
