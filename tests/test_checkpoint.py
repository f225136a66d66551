"""checkpoint (issue 16): the same derivatives as without it (1e-12) in every transform and order,
fewer values on the tape, recomputation in the backward pass, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
from chainrule import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jit,
    jvp,
    value_and_grad,
    vjp,
    vmap,
)
from chainrule.checkpoint import CheckpointClosureError, checkpoint, checkpoint_p, remat
from chainrule.core.linearize import linearize_reverse
from chainrule.core.tape import Checks

RNG = np.random.default_rng(0)
WS = [RNG.normal(size=(5, 5)) / 2 for _ in range(6)]
BS = [0.1 * RNG.normal(size=5) for _ in range(6)]
X = RNG.normal(size=(3, 5))


def block(h, W1, b1, W2, b2):
    return np.tanh(np.tanh(h @ W1 + b1) @ W2 + b2)


def net(params, x, every=None):
    """Three blocks of two tanh layers; ``every``: checkpoint each block (None: plain)."""
    Ws, bs = params
    run = block if every is None else checkpoint(block)
    h = x
    for i in range(0, 6, 2):
        h = run(h, Ws[i], bs[i], Ws[i + 1], bs[i + 1])
    return np.sum(h ** 2) + np.sum(np.sin(h))


def both(fn):
    """``fn(loss)`` for the plain and the checkpointed network."""
    return fn(lambda p, x: net(p, x)), fn(lambda p, x: net(p, x, every=1))


def _close(a, b, tol=1e-12):
    la, lb = chainrule.tree_leaves(a), chainrule.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


P = (WS, BS)


def test_gradients_equal_without_checkpoint():
    _close(*both(lambda f: grad(f)(P, X)))
    _close(*both(lambda f: value_and_grad(f, argnums=(0, 1))(P, X)))
    _close(*both(lambda f: vjp(lambda x: np.tanh(f(P, x)), X)[1](0.7)))


def test_higher_orders_and_forward_mode():
    _close(*both(lambda f: grad(lambda x: np.sum(grad(f, argnums=1)(P, x) ** 2))(X)))
    _close(*both(lambda f: hessian(f, argnums=1)(P, X)))
    _close(*both(lambda f: hvp(lambda x: f(P, x), X, np.ones_like(X))))
    _close(*both(lambda f: jvp(lambda x: f(P, x), (X,), (np.cos(X),))))
    _close(*both(lambda f: jvp(grad(lambda x: f(P, x)), (X,), (np.cos(X),))))
    _close(*both(lambda f: grad(lambda x: jvp(lambda y: f(P, y), (x,), (np.cos(X),))[1])(X)))
    for jac in (jacobian, jacfwd, jacrev):
        _close(*both(lambda f, jac=jac: jac(lambda x: f(P, x))(X)))


def test_composes_with_vmap_and_jit():
    Xs = RNG.normal(size=(4, 3, 5))
    _close(*both(lambda f: vmap(grad(f), in_axes=(None, 0))(P, Xs)))
    _close(*both(lambda f: grad(lambda p: np.sum(vmap(f, in_axes=(None, 0))(p, Xs)))(P)))
    _close(*both(lambda f: vmap(hessian(lambda x: f(P, x)))(Xs)))
    _close(*both(lambda f: jit(grad(f))(P, X)))
    _close(*both(lambda f: jit(vmap(grad(f), in_axes=(None, 0)))(P, Xs)))
    _close(*both(lambda f: vmap(jit(grad(f)), in_axes=(None, 0))(P, Xs)))


def _saved(f, *args, shape):
    """(records, distinct arrays of ``shape`` kept) on the lean tape grad records for ``f``."""
    lin, *_ = linearize_reverse(f, args)
    tape = lin.trace.tape
    kept = set()
    for rec in tape:
        for v in list(rec.args) + list(rec.ans if rec.prim.multiple_results else [rec.ans]):
            if isinstance(v, np.ndarray) and v.shape == shape:
                kept.add(id(v))
    return len(tape), len(kept)


def test_the_tape_keeps_fewer_records_and_values():
    x = RNG.normal(size=(64, 5))
    n_plain, a_plain = _saved(lambda p: net(p, x), P, shape=x.shape)
    n_ck, a_ck = _saved(lambda p: net(p, x, every=1), P, shape=x.shape)
    # each block is six records (matmul, add, tanh, twice), replaced by one
    assert n_ck == n_plain - 3 * 6 + 3, (n_ck, n_plain)
    # activations kept: x and both tanh outputs of each block, against x and each block's output
    assert (a_plain, a_ck) == (7, 4)
    assert sum(rec.prim is checkpoint_p for rec in linearize_reverse(
        lambda p: net(p, x, every=1), (P,))[0].trace.tape) == 3


def test_the_outer_tape_holds_only_the_calls_and_their_boundary_values():
    """Each block is one record whose arguments are the block's input and parameters (the
    caller's arrays themselves, not copies), and every array the outer tape keeps is an
    input or a block's output: nothing computed inside a block is on it."""
    x = RNG.normal(size=(64, 5))
    tape = linearize_reverse(lambda p: net(p, x, every=1), (P,))[0].trace.tape
    blocks = [rec for rec in tape if rec.prim is checkpoint_p]
    assert tape[:3] == blocks and len(blocks) == 3  # the blocks first, then only the loss
    assert not any(rec.prim is checkpoint_p for rec in tape[3:])
    hs = [x]  # the block boundaries, computed without a tape
    for i in range(3):
        hs.append(block(hs[-1], WS[2 * i], BS[2 * i], WS[2 * i + 1], BS[2 * i + 1]))
    for i, rec in enumerate(blocks):
        assert len(rec.args) == 5 and np.array_equal(rec.args[0], hs[i])
        assert all(a is b for a, b in zip(rec.args[1:], (WS[2 * i], BS[2 * i], WS[2 * i + 1], BS[2 * i + 1])))
    assert blocks[0].args[0] is x
    inputs = {id(a) for a in (x, *WS, *BS)}
    kept = {id(v): v for rec in tape
            for v in (*rec.args, *(rec.ans if rec.prim.multiple_results else (rec.ans,)))
            if isinstance(v, np.ndarray) and id(v) not in inputs}
    # besides the inputs: the three block outputs, once each
    assert len(kept) == 3, [v.shape for v in kept.values()]
    assert all(any(np.array_equal(v, h) for h in hs[1:]) for v in kept.values())


def _peak_besides_gradient(f, *args):
    """tracemalloc's peak during one ``grad(f)(*args)``, less the gradient's own bytes."""
    import tracemalloc

    grad(f)(*args)  # warm-up: caches, first-call allocations
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        g = grad(f)(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - sum(a.nbytes for a in chainrule.tree_leaves(g))


def test_peak_memory_is_the_boundaries_and_one_recomputed_block():
    """Chen et al. 2016: blocks of ``k`` of ``L`` layers keep ``L/k`` boundary activations and
    recompute one block (``k`` more) at a time, against ``L`` for the plain gradient. Besides
    those, a few activation-sized arrays are in flight: the block's incoming cotangent, the
    cotangent being computed and its predecessor, the duplicate of the block's output that its
    record keeps while the block is recomputed, and the two cotangent contributions the outer
    pass still holds from the loss's fan-out (core/tape.py ``pull``)."""
    L, k = 36, 6
    rng = np.random.default_rng(1)
    Ws = [rng.normal(size=(16, 16)) / 4 for _ in range(L)]
    x = rng.normal(size=(4096, 16))
    act = x.nbytes  # 512 KiB per activation; the weights and their gradients are tiny

    def layers(h, *Ws):
        for W in Ws:
            h = np.tanh(h @ W)
        return h

    def loss(Ws, every):
        h = layers(x, *Ws) if every is None else x
        for i in range(0, L if every else 0, every or 1):
            h = checkpoint(layers)(h, *Ws[i:i + every])
        return np.sum(h * h)
    plain = _peak_besides_gradient(loss, Ws, None)
    ck = _peak_besides_gradient(loss, Ws, k)
    assert plain >= L * act
    assert ck <= (L / k + k + 5.5) * act, (ck / act, plain / act)


def test_the_backward_pass_recomputes_each_block_once():
    calls = []

    def counted(h, W):
        calls.append(1)
        return np.tanh(h @ W)

    def f(W):
        h = X
        for _ in range(3):
            h = checkpoint(counted)(h, W)
        return np.sum(h)
    g = grad(f)(WS[0])
    assert len(calls) == 6  # three in the forward pass, each block once more in the backward
    calls.clear()

    def plain(W):
        h = X
        for _ in range(3):
            h = counted(h, W)
        return np.sum(h)
    _close(g, grad(plain)(WS[0]))


class _Contributions:
    """Every ``(primitive name, argnum)`` the backward passes contribute to (``Checks.vjp``)."""

    def __enter__(self):
        self.seen = []
        self._old, Checks.vjp = Checks.vjp, lambda rec, argnum, node, g, c: self.seen.append(
            (rec.prim.name, argnum))
        return self

    def __exit__(self, *exc):
        Checks.vjp = self._old


@pytest.mark.parametrize("k", [0, 1, 2])
def test_no_cotangent_is_computed_for_a_constant_argument(k):
    """Only a traced argument is a parent of the record, so only its cotangent is asked for:
    the recomputation's backward pass must not compute the others (a network input's cotangent
    is one more matmul per gradient and one more activation-sized array)."""
    const = RNG.normal(size=(5, 5))

    def body(a, b, c):
        return np.tanh(a @ b) * c

    def f(W, ck=True):
        args = [W, W, W]
        args[k] = const
        return np.sum((checkpoint(body) if ck else body)(*args))
    with _Contributions() as c:
        g = grad(f)(WS[0])
    # the constant's operand of matmul / multiply gets no contribution, every traced one does
    want = {("matmul", 0), ("matmul", 1), ("multiply", 1)} - {[("matmul", 0), ("matmul", 1),
                                                              ("multiply", 1)][k]}
    assert {s for s in c.seen if s[0] in ("matmul", "multiply") and s != ("multiply", 0)} == want, c.seen
    _close(g, grad(lambda W: f(W, ck=False))(WS[0]))


def test_a_disconnected_argument_gets_a_zero_that_holds_no_memory():
    """A traced argument the outputs do not depend on gets a zero cotangent: handed to the
    outer pass as a broadcast view, not as a dense array of the argument's size."""
    V = RNG.normal(size=(300, 200))

    def f(W, V, x):
        return np.sum(checkpoint(lambda x, W, V: np.tanh(x @ W))(x, W, V) ** 2)
    seen = {}
    old, Checks.vjp = Checks.vjp, lambda rec, argnum, node, g, c: (
        seen.__setitem__(argnum, c) if rec.prim is checkpoint_p else None)
    try:
        gW, gV = grad(f, argnums=(0, 1))(WS[0], V, X)
    finally:
        Checks.vjp = old
    assert seen[2].shape == V.shape and seen[2].strides == (0, 0)
    assert np.array_equal(gV, np.zeros_like(V)) and gV.flags.writeable
    _close(gW, grad(lambda W: np.sum(np.tanh(X @ W) ** 2))(WS[0]))
    # batched cotangents (jacrev's rows): the zero keeps the batch axes
    J = jacrev(lambda V: checkpoint(lambda x, W, V: np.tanh(x @ W))(X, WS[0], V))(V)
    assert J.shape == X.shape + V.shape and not J.any()


def test_no_cotangent_for_a_tensor_that_does_not_require_grad():
    from chainrule import Tensor
    from chainrule.frontends.checkpoint import checkpoint as tcheckpoint

    W = Tensor(WS[0].copy(), requires_grad=True)
    x = Tensor(X.copy())  # data: requires no grad
    with _Contributions() as c:
        (tcheckpoint(lambda x, W: (x @ W).tanh(), x, W) ** 2).sum().backward()
    assert ("matmul", 1) in c.seen and ("matmul", 0) not in c.seen, c.seen
    _close(W.grad.value, grad(lambda W: np.sum(np.tanh(X @ W) ** 2))(WS[0]))


def test_a_finished_backward_pass_leaves_no_cotangent_in_the_records():
    """A tape that outlives its pull (``vjp``'s closure, pulled twice) must not keep each
    checkpointed block's cotangent (an activation per block) between pulls."""
    lin, *_ = linearize_reverse(lambda p: net(p, X, every=1), (P,))
    calls = [rec.params["call"] for rec in lin.trace.tape if rec.prim is checkpoint_p]
    assert len(calls) == 3
    for _ in range(2):
        lin.pull([1.0])
        assert all(c._g is None and c._cts is None for c in calls)
    f_vjp = vjp(lambda p: net(p, X, every=1), P)[1]
    _close(f_vjp(1.0), f_vjp(1.0))


def test_decorator_forms_pytrees_kwargs_and_static_leaves():
    @checkpoint
    def a(p, x, *, scale):
        return {"y": np.tanh(x @ p["W"]) * scale, "z": [x.sum(), p["W"].sum()]}

    @checkpoint(static_argnums=(2,))
    def b(p, x, act):
        return getattr(np, act)(x @ p["W"])

    @remat
    def c(x, label="unused"):
        return np.exp(x) if label == "unused" else x

    p = {"W": WS[0]}

    def f(p, x, ck=True):
        fa = a if ck else a.__wrapped__
        fb = b if ck else b.__wrapped__
        fc = c if ck else c.__wrapped__
        out = fa(p, x, scale=2.0)
        return np.sum(out["y"]) + out["z"][0] * out["z"][1] + np.sum(fb(p, x, "sin")) + np.sum(fc(x))
    _close(grad(f, argnums=(0, 1))(p, X), grad(lambda p, x: f(p, x, False), argnums=(0, 1))(p, X))
    assert np.allclose(a(p, X, scale=2.0)["y"], np.tanh(X @ WS[0]) * 2)  # plain call: no trace


def test_a_closed_over_traced_value_raises():
    def f(W, x):
        return np.sum(checkpoint(lambda x: np.tanh(x @ W))(x))
    with pytest.raises(CheckpointClosureError, match="closes over"):
        grad(f, argnums=(0, 1))(WS[0], X)
    # with no traced argument there is nothing to checkpoint: f runs as written, and the
    # closed-over value's derivative is recorded as usual
    _close(grad(f)(WS[0], X), grad(lambda W, x: np.sum(np.tanh(x @ W)))(WS[0], X))


def test_policy_is_refused():
    with pytest.raises(NotImplementedError, match="policy"):
        checkpoint(np.sin, policy=lambda *a: True)


def test_autograd_namespace_has_checkpoint():
    from chainrule.autograd import checkpoint as ag_checkpoint
    from chainrule.autograd import grad as ag_grad

    f = ag_checkpoint(lambda x: np.sum(np.tanh(x) ** 2))
    np.testing.assert_allclose(ag_grad(f)(X), grad(lambda x: np.sum(np.tanh(x) ** 2))(X), rtol=1e-12)


# ------------------------------------------------------------------ chainrule.nn: per block
def test_network_checkpoint_per_block_same_gradients_fewer_records():
    from chainrule.nn import Dense, Network

    net_ = Network({"h1": Dense(8, "tanh"), "h2": Dense(8, "tanh"),
                    "h3": Dense(8, "tanh", inputs=["h2", "x"]),  # a skip connection over blocks
                    "h4": Dense(8, "relu"), "out": Dense(3, inputs=["h4", "h1"])}, input_dim=5)
    params = net_.init(seed=1)
    x = RNG.normal(size=(7, 5))

    def loss(p, k):
        return np.sum(net_.apply(p, x, checkpoint=k) ** 2)
    want = grad(loss)(params, None)
    for k in (1, 2, 3, 5):
        _close(grad(loss)(params, k), want)
        _close(net_.apply(params, x, return_all=True, checkpoint=k), net_.apply(params, x, return_all=True))
    n_plain = len(linearize_reverse(lambda p: loss(p, None), (params,))[0].trace.tape)
    n_ck = len(linearize_reverse(lambda p: loss(p, 2), (params,))[0].trace.tape)
    assert n_ck == n_plain - 18 + 3, (n_ck, n_plain)  # 18 layer records become 3 block records
    with pytest.raises(ValueError, match="checkpoint"):
        net_.apply(params, x, checkpoint=0)


# ------------------------------------------------------------------ Tensor: torch.utils.checkpoint
def test_tensor_checkpoint_matches_plain_backward_and_keeps_less():
    from chainrule import Tensor
    from chainrule.frontends.checkpoint import checkpoint as tcheckpoint

    W = [Tensor(w.copy(), requires_grad=True) for w in WS[:4]]

    def layer(h, i):  # closes over the parameters, as a module's forward does
        return (h @ W[i]).tanh()

    def block(h, i):
        return layer(layer(h, i), i + 1)

    def run(ck):
        for w in W:
            w.grad = None
        x = Tensor(X.copy(), requires_grad=True)
        h = x
        for i in (0, 2):
            h = tcheckpoint(block, h, i) if ck else block(h, i)
        out = (h ** 2).sum()
        records = len(out.graph.tape)
        out.backward()
        return [w.grad.value for w in W] + [x.grad.value], records
    want, n_plain = run(False)
    got, n_ck = run(True)
    _close(got, want)
    assert n_ck == n_plain - 2 * 4 + 2, (n_ck, n_plain)


def test_tensor_checkpoint_errors():
    from chainrule import Tensor
    from chainrule.frontends.checkpoint import checkpoint as tcheckpoint
    from chainrule.frontends.tensor import GraphError

    with pytest.raises(GraphError, match="requires grad"):
        tcheckpoint(lambda h: h.tanh(), Tensor(X))
    x = Tensor(X.copy(), requires_grad=True)
    y = (tcheckpoint(lambda h: (h * h).tanh(), x) ** 2).sum()
    with pytest.raises(GraphError, match="create_graph"):
        y.backward(create_graph=True)


def test_a_jitted_checkpoint_does_not_keep_the_callers_arrays():
    import gc
    import weakref

    f = jit(grad(lambda W, x: np.sum(checkpoint(block)(x, W, BS[0], W, BS[1]) ** 2), argnums=(0, 1)))
    x = RNG.normal(size=(3, 5))
    want = grad(lambda W, x: np.sum(block(x, W, BS[0], W, BS[1]) ** 2), argnums=(0, 1))(WS[0], x)
    _close(f(WS[0], x), want)
    ref = weakref.ref(x)
    del x
    gc.collect()
    assert ref() is None  # the staged program holds no reference to the staging call's input


def test_a_jitted_program_does_not_keep_the_staging_backward_pass():
    f = jit(grad(lambda W, x: np.sum(checkpoint(block)(x, W, BS[0], W, BS[1]) ** 2)))
    x = RNG.normal(size=(3, 5))
    f(WS[0], x)
    (eqn,) = [e for e in f.lower(WS[0], x).eqns if e.prim is checkpoint_p]
    f(WS[0], x)  # a call of the program runs the checkpoint's forward evaluation
    assert eqn.params["call"]._g is None and eqn.params["call"]._cts is None
