"""Jacobians, Hessians and curvature products: PRML 5.3.4, one vectorised pass each."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.errors import NotDifferentiableInputError
from chainrule.core.pytree import tree_flatten, tree_map
from chainrule.core.trace import ReverseTrace


# ----------------------------------------------------------------- helpers
def sigmoid(a):
    return 1.0 / (1.0 + cnp.exp(-a))


def softmax(a):
    e = cnp.exp(a - cnp.max(a, axis=-1, keepdims=True))
    return e / cnp.sum(e, axis=-1, keepdims=True)


def make_net(rng, d_in, d_hidden, d_out):
    # Bishop's indexing: w_ji connects input i to hidden unit j (rows receive).
    return {"W1": rng.standard_normal((d_hidden, d_in)), "b1": rng.standard_normal(d_hidden),
            "W2": rng.standard_normal((d_out, d_hidden)), "b2": rng.standard_normal(d_out)}


def net(p, x, out="sigmoid"):
    a_hidden = p["W1"] @ x + p["b1"]  # (5.48)
    z = cnp.tanh(a_hidden)  # (5.49)
    a_out = p["W2"] @ z + p["b2"]
    return sigmoid(a_out) if out == "sigmoid" else softmax(a_out)


def flat(tree):
    return np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in tree_flatten(tree)[0]])


def jac_matrix(jac_tree, out_tree, in_tree):
    """An out-tree of in-trees of blocks -> one (M, N) matrix in flattened order."""
    out_leaves = tree_flatten(out_tree)[0]
    in_leaves = tree_flatten(in_tree)[0]
    blocks = tree_flatten(jac_tree)[0]  # out-major, then in: the order tree_flatten visits them
    rows, i = [], 0
    for o in out_leaves:
        row = []
        for x in in_leaves:
            b = np.asarray(blocks[i])
            assert b.shape == np.shape(o) + np.shape(x)
            row.append(b.reshape(np.size(o), np.size(x)))
            i += 1
        rows.append(np.concatenate(row, axis=1))
    assert i == len(blocks)
    return np.concatenate(rows, axis=0)


def numeric_jac(f, x_tree, eps=1e-6):
    """PRML eq. 5.77: 2N forward passes of central differences, one column per input element."""
    leaves, td = tree_flatten(x_tree)
    sizes = [np.size(x) for x in leaves]
    base = flat(x_tree)

    def unflat(v):
        out, o = [], 0
        for x, n in zip(leaves, sizes, strict=True):
            out.append(v[o:o + n].reshape(np.shape(x)))
            o += n
        from chainrule.core.pytree import tree_unflatten
        return tree_unflatten(td, out)

    cols = []
    for i in range(base.size):
        e = np.zeros_like(base)
        e[i] = eps
        cols.append((flat(f(unflat(base + e))) - flat(f(unflat(base - e)))) / (2 * eps))
    return np.stack(cols, axis=1)


class Counter:
    """Counts calls of f and of backward passes: the Jacobian must be ONE pass, not a loop."""

    def __init__(self, monkeypatch, f):
        self.f_calls = 0
        self.backward_calls = 0
        self._f = f
        orig = ReverseTrace.backward

        def counted(trace, *a, **k):
            self.backward_calls += 1
            return orig(trace, *a, **k)

        monkeypatch.setattr(ReverseTrace, "backward", counted)

    def __call__(self, *args, **kwargs):
        self.f_calls += 1
        return self._f(*args, **kwargs)


# ----------------------------------------------------------------- PRML 5.73-5.76 by hand
def prml_jacobian(p, x, out):
    """J_ki by PRML's recipe: forward pass, then one backward pass per output row k."""
    a_h = p["W1"] @ x + p["b1"]
    z = np.tanh(a_h)
    a_o = p["W2"] @ z + p["b2"]
    K, H, D = a_o.size, a_h.size, x.size
    if out == "sigmoid":
        y = 1.0 / (1.0 + np.exp(-a_o))
    else:
        y = np.exp(a_o - a_o.max()) / np.exp(a_o - a_o.max()).sum()
    J = np.zeros((K, D))
    for k in range(K):
        dy_da_out = np.zeros(K)
        for j in range(K):
            if out == "sigmoid":
                dy_da_out[j] = (k == j) * y[j] * (1 - y[j])  # (5.75): delta_kj sigma'(a_j)
            else:
                dy_da_out[j] = (k == j) * y[k] - y[k] * y[j]  # (5.76)
        dy_da_hidden = np.zeros(H)
        for j in range(H):  # (5.74): h'(a_j) sum_l w_lj dy_k/da_l
            dy_da_hidden[j] = (1 - z[j] ** 2) * sum(p["W2"][m, j] * dy_da_out[m] for m in range(K))
        for i in range(D):  # (5.73): J_ki = sum_j w_ji dy_k/da_j
            J[k, i] = sum(p["W1"][j, i] * dy_da_hidden[j] for j in range(H))
    return J


@pytest.mark.parametrize("out", ["sigmoid", "softmax"])
@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
@pytest.mark.parametrize("shape", [(3, 5, 4), (6, 4, 2)])
def test_prml_network_jacobian_matches_hand_backprop(out, mode, shape):
    rng = np.random.default_rng(sum(shape))
    d_in, d_h, d_out = shape
    p = make_net(rng, d_in, d_h, d_out)
    x = rng.standard_normal(d_in)
    J = cr.jacobian(lambda x: net(p, x, out), mode=mode)(x)
    assert J.shape == (d_out, d_in)
    np.testing.assert_allclose(J, prml_jacobian(p, x, out), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(J, numeric_jac(lambda x: net(p, x, out), x), rtol=1e-6, atol=1e-8)


def test_softmax_jacobian_rows_sum_to_zero():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(7)
    for mode in ("fwd", "rev"):
        S = cr.jacobian(softmax, mode=mode)(a)
        y = softmax(a)
        np.testing.assert_allclose(S, np.diag(y) - np.outer(y, y), atol=1e-15)  # (5.76)
        np.testing.assert_allclose(S.sum(axis=1), 0.0, atol=1e-15)
        np.testing.assert_allclose(S.sum(axis=0), 0.0, atol=1e-15)
    # sum_k y_k = 1 at every input, so the network Jacobian sums to zero over its outputs
    p = make_net(rng, 4, 6, 5)
    J = cr.jacobian(lambda x: net(p, x, "softmax"))(rng.standard_normal(4))
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-15)


# ----------------------------------------------------------------- one pass, not a loop
def test_jacobian_is_one_pass(monkeypatch):
    rng = np.random.default_rng(2)
    W = rng.standard_normal((5, 8))
    wide = Counter(monkeypatch, lambda x: cnp.tanh(W @ x))  # N=8 > M=5 -> reverse
    tall = Counter(monkeypatch, lambda x: cnp.tanh(W.T @ x))  # N=5 < M=8 -> forward

    cr.jacobian(wide)(rng.standard_normal(8))
    assert (wide.f_calls, wide.backward_calls) == (1, 1)
    cr.jacobian(tall)(rng.standard_normal(5))
    assert (tall.f_calls, tall.backward_calls) == (1, 1)  # recorded once, forward replay: no backward

    for fn, want in ((cr.jacrev, 1), (cr.jacfwd, 0)):
        c = Counter(monkeypatch, lambda x: cnp.tanh(W @ x))
        fn(c)(rng.standard_normal(8))
        assert c.f_calls == 1 and c.backward_calls == want

    c = Counter(monkeypatch, lambda x: cnp.sum(cnp.tanh(W @ x) ** 2))
    H = cr.hessian(c)(rng.standard_normal(8))
    assert H.shape == (8, 8) and c.f_calls == 1 and c.backward_calls == 1


def test_auto_mode_chooses_by_size(monkeypatch):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 6))
    calls = {"n": 0}
    orig = ReverseTrace.backward

    def counted(trace, *a, **k):
        calls["n"] += 1
        return orig(trace, *a, **k)

    monkeypatch.setattr(ReverseTrace, "backward", counted)
    J_tall = cr.jacobian(lambda x: cnp.sin(W.T @ x))(rng.standard_normal(3))  # 3 inputs < 6 outputs
    assert calls["n"] == 0 and J_tall.shape == (6, 3)
    J_wide = cr.jacobian(lambda x: cnp.sin(W @ x))(rng.standard_normal(6))
    assert calls["n"] == 1 and J_wide.shape == (3, 6)
    x = rng.standard_normal(4)
    J_square = cr.jacobian(lambda x: cnp.sin(x) * x)(x)  # N == M -> reverse
    assert calls["n"] == 2
    np.testing.assert_allclose(J_square, np.diag(np.cos(x) * x + np.sin(x)), atol=1e-15)


# ----------------------------------------------------------------- random networks and pytrees
@pytest.mark.parametrize("seed", range(4))
def test_jacfwd_equals_jacrev_equals_central_differences(seed):
    rng = np.random.default_rng(10 + seed)
    d_in, d_h, d_out = rng.integers(1, 6, size=3)
    p = make_net(rng, d_in, d_h, d_out)
    x = rng.standard_normal(d_in)
    f = lambda x: cnp.tanh(p["W2"] @ cnp.tanh(p["W1"] @ x + p["b1"]) + p["b2"]) * cnp.sum(x ** 2)
    Jf, Jr, Ja = cr.jacfwd(f)(x), cr.jacrev(f)(x), cr.jacobian(f)(x)
    np.testing.assert_allclose(Jf, Jr, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Ja, Jr, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(Jr, numeric_jac(f, x), rtol=1e-6, atol=1e-8)
    # with respect to the parameters (a dict pytree), matrix-valued input blocks
    g = lambda p: net(p, x, "softmax")
    ref = numeric_jac(g, p)
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        np.testing.assert_allclose(jac_matrix(jac(g)(p), g(p), p), ref, rtol=1e-6, atol=1e-8)


def pytree_fn(p, s):
    h = cnp.tanh(p["W"] @ p["x"][0] + p["x"][1])
    return {"y": h * s, "scal": cnp.sum(h ** 2), "pair": (p["W"] * s, cnp.sin(p["x"][1]))}


def pytree_args(rng):
    p = {"W": rng.standard_normal((3, 2)), "x": [rng.standard_normal(2), rng.standard_normal(3)]}
    return p, 0.7


def test_pytrees_in_and_out_layout_and_values():
    rng = np.random.default_rng(4)
    p, s = pytree_args(rng)
    out = pytree_fn(p, s)
    ref = numeric_jac(lambda q: pytree_fn(q, s), p)
    results = [jac(pytree_fn)(p, s) for jac in (cr.jacfwd, cr.jacrev, cr.jacobian)]
    for J in results:
        assert set(J) == {"y", "scal", "pair"}
        assert isinstance(J["pair"], tuple) and isinstance(J["y"]["x"], list)
        assert J["y"]["W"].shape == (3, 3, 2) and J["scal"]["x"][1].shape == (3,)
        assert J["pair"][0]["W"].shape == (3, 2, 3, 2)
        np.testing.assert_allclose(jac_matrix(J, out, p), ref, rtol=1e-6, atol=1e-8)
    # argnums=(0, 1): a tuple of input trees, the scalar argument gives blocks of shape out.shape
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        Jp, Js = jac(pytree_fn, argnums=(0, 1))(p, s)["y"]
        np.testing.assert_allclose(Jp["W"], results[0]["y"]["W"], atol=1e-13)
        np.testing.assert_allclose(Js, cnp.tanh(p["W"] @ p["x"][0] + p["x"][1]), atol=1e-13)


def test_layout_matches_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    p, s = pytree_args(rng)

    def jfn(p, s):
        h = jnp.tanh(p["W"] @ p["x"][0] + p["x"][1])
        return {"y": h * s, "scal": jnp.sum(h ** 2), "pair": (p["W"] * s, jnp.sin(p["x"][1]))}

    # JAX's jacfwd and jacrev share one layout; jit: eager JAX compiles every op
    b = jax.jit(jax.jacrev(jfn, argnums=(0, 1)))(p, s)
    lb = jax.tree_util.tree_leaves(b)
    for ours in (cr.jacrev, cr.jacfwd, cr.jacobian):
        la = tree_flatten(ours(pytree_fn, argnums=(0, 1))(p, s))[0]
        assert len(la) == len(lb)
        for x, y in zip(la, lb, strict=True):
            assert np.shape(x) == np.shape(y)
            np.testing.assert_allclose(x, np.asarray(y), rtol=2e-4, atol=2e-5)
    hx = cr.hessian(lambda p: pytree_fn(p, s)["scal"])(p)
    hj = jax.jit(jax.hessian(lambda p: jfn(p, s)["scal"]))(p)
    for x, y in zip(tree_flatten(hx)[0], jax.tree_util.tree_leaves(hj), strict=True):
        assert np.shape(x) == np.shape(y)
        np.testing.assert_allclose(x, np.asarray(y), rtol=2e-4, atol=2e-5)


def test_matches_torch_jacobian():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    p = make_net(rng, 5, 7, 3)
    x = rng.standard_normal(5)
    tp = {k: torch.tensor(v) for k, v in p.items()}

    def tnet(x):
        return torch.softmax(tp["W2"] @ torch.tanh(tp["W1"] @ x + tp["b1"]) + tp["b2"], dim=-1)

    J_t = torch.autograd.functional.jacobian(tnet, torch.tensor(x)).numpy()
    np.testing.assert_allclose(cr.jacobian(lambda x: net(p, x, "softmax"))(x), J_t, rtol=1e-12,
                               atol=1e-14)
    H_t = torch.autograd.functional.hessian(lambda x: torch.sum(tnet(x) ** 3), torch.tensor(x))
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(net(p, x, "softmax") ** 3))(x),
                               H_t.numpy(), rtol=1e-10, atol=1e-13)


def test_has_aux_kwargs_and_shapes():
    f = lambda x, scale=1.0: (cnp.sin(x) * scale, {"n": cnp.sum(x)})
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian, cr.hessian):
        J, aux = jac(f, has_aux=True)(x, scale=2.0)
        assert float(aux["n"]) == pytest.approx(2.1) and not isinstance(aux["n"], cr.core.primitive.Box)
        assert J.shape == (2, 3, 2, 3) + ((2, 3) if jac is cr.hessian else ())
    J = cr.jacobian(lambda x: cnp.sin(x) * 2.0)(x)
    np.testing.assert_allclose(J.reshape(6, 6), np.diag(2 * np.cos(x).ravel()))
    # scalar in, scalar out; scalar in, vector out; vector in, scalar out
    assert cr.jacobian(lambda t: t ** 3)(2.0) == pytest.approx(12.0)
    np.testing.assert_allclose(cr.jacfwd(lambda t: cnp.stack([t, t ** 2]))(3.0), [1.0, 6.0])
    np.testing.assert_allclose(cr.jacrev(lambda v: cnp.sum(v ** 2))(np.arange(3.0)), [0.0, 2.0, 4.0])
    # an output that does not depend on the input: zeros of the right layout
    for jac in (cr.jacfwd, cr.jacrev, cr.jacobian):
        Z = jac(lambda v: (v * 0.0 + 1.0, np.ones((2, 2))))(np.ones(3))
        assert Z[1].shape == (2, 2, 3) and not Z[1].any()


def test_bad_input_errors():
    with pytest.raises(ValueError, match="mode"):
        cr.jacobian(lambda x: x, mode="sideways")
    with pytest.raises(NotDifferentiableInputError):
        cr.jacobian(lambda x: x * 2)(np.arange(3))
    with pytest.raises(NotDifferentiableInputError):
        cr.jacfwd(lambda x: x * 2)(np.arange(3))
    with pytest.raises(ValueError, match="argnums"):
        cr.jacrev(lambda x: x, argnums=2)(1.0)
    with pytest.raises(ValueError, match="structure"):
        cr.hvp(lambda x: cnp.sum(x ** 2), np.ones(3), [np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        cr.hvp(lambda x: cnp.sum(x ** 2), np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="batch_size"):
        cr.hessian_diagonal(lambda x: x, batch_size=0)


# ----------------------------------------------------------------- Hessians and curvature
@pytest.mark.parametrize("n", [1, 2, 7])
def test_hessian_symmetric_and_equals_central_differences_of_gradient(n):
    rng = np.random.default_rng(20 + n)
    x = rng.standard_normal(n)
    f = lambda x: cnp.sum(cnp.tanh(x[:-1] * x[1:]) ** 2) + cnp.sum(cnp.sin(x) * x ** 3)
    H = cr.hessian(f)(x)
    assert H.shape == (n, n)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(H, numeric_jac(cr.grad(f), x), rtol=1e-6, atol=1e-7)
    for jac_outer, jac_inner in ((cr.jacrev, cr.jacrev), (cr.jacobian, cr.jacobian),
                                 (cr.jacfwd, cr.jacfwd), (cr.jacrev, cr.jacfwd)):
        np.testing.assert_allclose(jac_outer(jac_inner(f))(x), H, rtol=1e-11, atol=1e-12)


def test_hessian_of_network_loss_wrt_parameter_pytree():
    rng = np.random.default_rng(7)
    p = make_net(rng, 3, 4, 2)
    x, t = rng.standard_normal(3), np.array([0.0, 1.0])

    def loss(p):
        y = net(p, x, "softmax")
        return -cnp.sum(t * cnp.log(y))

    H = cr.hessian(loss)(p)
    assert H["W1"]["W2"].shape == (4, 3, 2, 4) and H["b2"]["b1"].shape == (2, 4)
    Hm = jac_matrix(H, cr.grad(loss)(p), p)
    np.testing.assert_allclose(Hm, Hm.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(Hm, numeric_jac(cr.grad(loss), p), rtol=1e-5, atol=1e-7)


def test_hvp_equals_hessian_times_v_and_is_batched():
    rng = np.random.default_rng(8)
    f = lambda x: cnp.sum(cnp.tanh(x) ** 2 * cnp.sin(x[::-1])) + cnp.sum(x[1:] * x[:-1] ** 2)
    x = rng.standard_normal(6)
    H = cr.hessian(f)(x)
    v = rng.standard_normal(6)
    np.testing.assert_allclose(cr.hvp(f, x, v), H @ v, rtol=1e-12, atol=1e-13)
    V = rng.standard_normal((4, 6))  # four products in one pass
    np.testing.assert_allclose(cr.hvp(f, x, V), V @ H.T, rtol=1e-12, atol=1e-13)
    # pytree x
    p = {"a": x[:2], "b": [x[2:].reshape(2, 2)]}
    g = lambda p: f(cnp.concatenate([p["a"], cnp.ravel(p["b"][0])]))
    vp = {"a": v[:2], "b": [v[2:].reshape(2, 2)]}
    out = cr.hvp(g, p, vp)
    np.testing.assert_allclose(flat(out), H @ v, rtol=1e-12, atol=1e-13)
    assert out["b"][0].shape == (2, 2)


def test_hvp_edge_cases():
    x, v = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    with pytest.raises(TypeError, match="scalar output"):
        cr.hvp(lambda x: x * x, x, v)
    # f independent of x (or linear in x): H v = 0, with v's batch axes
    np.testing.assert_array_equal(cr.hvp(lambda x: cnp.sum(np.ones(2)), x, v), np.zeros(2))
    np.testing.assert_array_equal(cr.hvp(lambda x: cnp.sum(3.0 * x), x, np.ones((3, 2))),
                                  np.zeros((3, 2)))
    # forward over reverse composes with an outer transform: d/dx of (H(x) v) . w
    f = lambda x: cnp.sum(x ** 3)  # noqa: E731
    w = np.array([1.0, 1.0])
    g = cr.grad(lambda x: cnp.sum(cr.hvp(f, x, v) * w))(x)
    np.testing.assert_allclose(g, 6.0 * v * w)  # H = diag(6x), d/dx (6 x v . w) = 6 v w


def test_hvp_never_builds_the_hessian():
    # n = 20000: a Hessian would be 3.2 GB; the R-operator costs a few gradients
    n = 20_000
    rng = np.random.default_rng(9)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    f = lambda x: cnp.sum(cnp.tanh(x) ** 2) + 0.5 * cnp.sum(x[1:] * x[:-1])
    hv = cr.hvp(f, x, v)
    d2 = 2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)  # d^2/dx^2 tanh(x)^2
    want = d2 * v
    want[:-1] += 0.5 * v[1:]
    want[1:] += 0.5 * v[:-1]
    np.testing.assert_allclose(hv, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 1, 3, 100])
def test_hessian_diagonal_exact(batch_size):
    rng = np.random.default_rng(11)
    p = {"w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    f = lambda p: cnp.sum(cnp.tanh(p["w"] @ np.ones(3) + p["b"]) ** 3) + cnp.sum(p["w"] ** 4)
    H = jac_matrix(cr.hessian(f)(p), p, p)
    d = cr.hessian_diagonal(f, batch_size=batch_size)(p)
    assert d["w"].shape == (2, 3) and d["b"].shape == (2,)
    np.testing.assert_allclose(flat(d), np.diag(H), rtol=1e-12, atol=1e-13)
    x = rng.standard_normal(5)
    g = lambda x, c: cnp.sum(cnp.sin(x) * x ** 2) * c
    np.testing.assert_allclose(cr.hessian_diagonal(g, batch_size=batch_size)(x, 2.0),
                               np.diag(cr.hessian(g)(x, 2.0)), rtol=1e-12)


def gn_setup(seed):
    rng = np.random.default_rng(seed)
    p = make_net(rng, 3, 4, 3)
    x = rng.standard_normal(3)
    t = np.array([0.2, 0.5, 0.3])
    f_inner = lambda p: p["W2"] @ cnp.tanh(p["W1"] @ x + p["b1"]) + p["b2"]  # logits
    xent = lambda a: -cnp.sum(t * cnp.log(softmax(a)))
    sq = lambda a: 0.5 * cnp.sum((a - t) ** 2)
    v = tree_map(lambda w: rng.standard_normal(np.shape(w)), p)
    return p, f_inner, xent, sq, v


def test_ggnvp_is_jt_hl_j_v():
    p, f_inner, xent, sq, v = gn_setup(12)
    z = f_inner(p)
    J = jac_matrix(cr.jacobian(f_inner)(p), z, p)
    for loss in (xent, sq):
        HL = cr.hessian(loss)(z)
        Gv = cr.ggnvp(f_inner, loss, p, v)
        assert set(Gv) == set(p) and Gv["W1"].shape == p["W1"].shape
        np.testing.assert_allclose(flat(Gv), J.T @ HL @ J @ flat(v), rtol=1e-11, atol=1e-12)
        G = J.T @ HL @ J
        np.testing.assert_allclose(flat(cr.gauss_newton_diagonal(f_inner, loss, p)), np.diag(G),
                                   rtol=1e-11, atol=1e-12)
    # squared error: Bishop's outer-product approximation (5.84-5.85), J^T J v
    np.testing.assert_allclose(flat(cr.ggnvp(f_inner, sq, p, v)), J.T @ (J @ flat(v)), rtol=1e-11)
    # Gauss-Newton is PSD for a convex loss; the true Hessian differs by the f_inner curvature term
    Hfull = jac_matrix(cr.hessian(lambda q: xent(f_inner(q)))(p), p, p)
    assert np.linalg.eigvalsh(J.T @ cr.hessian(xent)(z) @ J).min() > -1e-10
    assert not np.allclose(Hfull, J.T @ cr.hessian(xent)(z) @ J)


def test_ggnvp_equals_hvp_when_inner_is_linear():
    rng = np.random.default_rng(13)
    A = rng.standard_normal((4, 3))
    w, v = rng.standard_normal(3), rng.standard_normal(3)
    loss = lambda z: cnp.sum(cnp.exp(z) - z * 0.3)
    np.testing.assert_allclose(cr.ggnvp(lambda w: A @ w, loss, w, v),
                               cr.hvp(lambda w: loss(A @ w), w, v), rtol=1e-12)


# ----------------------------------------------------------------- linearize: eqs. 5.72 and 5.71
def test_linearize_is_jdx_and_runs_f_once(monkeypatch):
    rng = np.random.default_rng(14)
    p = make_net(rng, 4, 5, 3)
    c = Counter(monkeypatch, lambda x: net(p, x, "softmax"))
    x = rng.standard_normal(4)
    y, f_jvp = cr.linearize(c, x)
    assert c.f_calls == 1
    np.testing.assert_allclose(y, net(p, x, "softmax"))
    J = cr.jacobian(lambda x: net(p, x, "softmax"))(x)
    dx = rng.standard_normal(4)
    np.testing.assert_allclose(f_jvp(dx), J @ dx, rtol=1e-12, atol=1e-14)
    DX = rng.standard_normal((10, 4))  # ten perturbations, one replay
    np.testing.assert_allclose(f_jvp(DX), DX @ J.T, rtol=1e-12, atol=1e-14)
    ct = rng.standard_normal(3)
    np.testing.assert_allclose(f_jvp.T(ct), J.T @ ct, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(f_jvp.T(np.eye(3)), J, rtol=1e-12, atol=1e-14)
    assert c.f_calls == 1  # the linear map never re-runs f
    # eq. 5.72: dy ~= J dx, the error O(|dx|^2)
    errs = []
    for eps in (1e-2, 5e-3):
        dy = net(p, x + eps * dx, "softmax") - y
        errs.append(np.linalg.norm(dy - f_jvp(eps * dx)))
    assert errs[1] < errs[0] / 3.5
    with pytest.raises(ValueError, match="shape"):
        f_jvp(np.ones(3))
    with pytest.raises(TypeError, match="tangent argument"):
        f_jvp(dx, dx)


def test_linearize_several_primals_and_pytrees():
    rng = np.random.default_rng(15)
    p, s = pytree_args(rng)
    out, lin = cr.linearize(pytree_fn, p, s)
    dp = tree_map(lambda w: rng.standard_normal(np.shape(w)), p)
    _, want = cr.jvp(pytree_fn, (p, s), (dp, 0.3))
    got = lin(dp, 0.3)
    np.testing.assert_allclose(flat(got), flat(want), rtol=1e-12, atol=1e-14)
    ct = tree_map(lambda o: rng.standard_normal(np.shape(o)), out)
    gp, gs = lin.T(ct)
    _, f_vjp = cr.vjp(pytree_fn, p, s)
    wp, ws = f_vjp(ct)
    np.testing.assert_allclose(flat(gp), flat(wp), rtol=1e-12)
    assert gs == pytest.approx(ws)


def test_modular_chain_rule_eq_5_71():
    # Fig. 5.8: w -> module z(w) -> red module y(z) -> error E(y)
    rng = np.random.default_rng(16)
    W = rng.standard_normal((4, 3))
    B = rng.standard_normal((2, 4))
    z_mod = lambda w: cnp.tanh(W @ w)
    y_mod = lambda z: sigmoid(B @ z)
    E = lambda y: 0.5 * cnp.sum((y - 0.3) ** 2)
    w = rng.standard_normal(3)
    z, lin_z = cr.linearize(z_mod, w)
    y, lin_y = cr.linearize(y_mod, z)
    _, lin_E = cr.linearize(E, y)
    dE_dw = (lin_E @ lin_y @ lin_z).T(1.0)  # sum_kj dE/dy_k dy_k/dz_j dz_j/dw
    np.testing.assert_allclose(dE_dw, cr.grad(lambda w: E(y_mod(z_mod(w))))(w), rtol=1e-12)
    # the red module's Jacobian in the middle, written as PRML writes the sum
    J_y = cr.jacobian(y_mod)(z)
    dE_dy = cr.grad(E)(y)
    dz_dw = cr.jacobian(z_mod)(w)
    np.testing.assert_allclose(np.einsum("k,kj,ji->i", dE_dy, J_y, dz_dw), dE_dw, rtol=1e-12)
    dw = rng.standard_normal(3)
    np.testing.assert_allclose((lin_y @ lin_z)(dw), J_y @ dz_dw @ dw, rtol=1e-12)


# ----------------------------------------------------------------- composition with other transforms
def test_jacobians_compose_with_grad_and_jvp():
    rng = np.random.default_rng(17)
    W = rng.standard_normal((5, 2))
    tall = lambda x: cnp.sin(W @ x)  # auto picks forward replay here
    x = rng.standard_normal(2)
    # d/dx sum(J(x)**2), J from each mode, against central differences
    for jac in (cr.jacobian, cr.jacfwd, cr.jacrev):
        s = lambda x, jac=jac: cnp.sum(jac(tall)(x) ** 2)
        np.testing.assert_allclose(cr.grad(s)(x), numeric_jac(s, x)[0], rtol=1e-6)
        v = rng.standard_normal(2)
        np.testing.assert_allclose(cr.jvp(s, (x,), (v,))[1], numeric_jac(s, x)[0] @ v, rtol=1e-6)
    # third derivative of a scalar function: jacobian of hessian
    f = lambda x: cnp.sum(cnp.sin(x) * x[::-1] ** 2)
    T = cr.jacobian(cr.hessian(f))(x)
    np.testing.assert_allclose(T, numeric_jac(cr.hessian(f), x).reshape(2, 2, 2), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(T, T.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(T, T.transpose(2, 1, 0), atol=1e-12)
    # hvp of a function built on linearize (replay under an outer trace)
    g = lambda x: cnp.sum(cr.linearize(tall, x)[1](np.ones(2)) ** 2)
    np.testing.assert_allclose(cr.grad(g)(x), numeric_jac(g, x)[0], rtol=1e-6)


def test_forward_replay_through_multiple_result_primitives():
    # eigh returns (w, V): the tape replay must route a tuple of tangents like ForwardTrace does
    rng = np.random.default_rng(18)
    A = rng.standard_normal((3, 3))

    def f(x):
        S = (A + A.T) * x[0] + np.eye(3) * x[1] ** 2
        w, V = np.linalg.eigh(S)
        return cnp.concatenate([w, V[:, 0] ** 2])

    x = np.array([0.5, 1.2])
    J = cr.jacobian(f)(x)  # N=2 < M=6: forward replay of the recorded tape
    np.testing.assert_allclose(J, cr.jacrev(f)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(J, numeric_jac(f, x), rtol=1e-6, atol=1e-8)
    _, lin = cr.linearize(f, x)
    np.testing.assert_allclose(lin(np.eye(2)).T, J, rtol=1e-10, atol=1e-12)
