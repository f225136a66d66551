"""chainrule.nn: DAG networks, fused error functions, Bishop's backprop results, optimisers, I/O."""

from __future__ import annotations

import os

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.gradcheck import check_grads


def _rng(seed=0):
    return np.random.default_rng(seed)


def _skip_net(act="tanh", d=3, h=4, k=2):
    """Bishop's general topology in one line: the output reads the hidden layer and the input."""
    return nn.Network({"h1": nn.Dense(h, act, inputs=["x"]),
                       "out": nn.Dense(k, inputs=["h1", "x"])}, input_dim=d)


# ----------------------------------------------------------------------------- networks

def test_skip_network_structure_and_forward():
    net = _skip_net()
    p = net.init(seed=1)
    assert set(p) == {"h1", "out"}
    assert p["h1"]["W"]["x"].shape == (3, 4) and p["h1"]["b"].shape == (4,)
    assert p["out"]["W"]["h1"].shape == (4, 2) and p["out"]["W"]["x"].shape == (3, 2)
    x = _rng().normal(size=(5, 3))
    z = net.apply(p, x, return_all=True)
    h = np.tanh(x @ p["h1"]["W"]["x"] + p["h1"]["b"])
    want = h @ p["out"]["W"]["h1"] + x @ p["out"]["W"]["x"] + p["out"]["b"]
    np.testing.assert_allclose(z["h1"], h)
    np.testing.assert_allclose(net.apply(p, x), want)
    assert net.num_params() == 3 * 4 + 4 + 4 * 2 + 3 * 2 + 2


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "gelu"])
def test_skip_network_passes_check_grads_order_2(act):
    net = _skip_net(act)
    p = net.init(seed=2)
    x = _rng(3).normal(size=(3, 3))
    t = np.array([0, 1, 1])
    loss = lambda params: nn.softmax_cross_entropy(net.apply(params, x), t)
    report = check_grads(loss, modes=("fwd", "rev"), order=2)(p)
    assert report.worst < 1e-5


def test_network_output_wrt_input_order_2():
    net = nn.Network({"a": nn.Dense(3, "tanh"), "b": nn.Dense(3, "sigmoid", inputs=["a", "x"]),
                      "out": nn.Dense(2, "softmax", inputs=["b", "a"])}, input_dim=2)
    p = net.init(seed=4)
    check_grads(lambda x: net.apply(p, x), modes=("fwd", "rev"), order=2)(_rng(5).normal(size=(2, 2)))


def test_relu_network_first_order():
    net = nn.mlp(4, [5, 5], 3, "relu")
    p = net.init(seed=0)
    x, t = _rng(1).normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])
    check_grads(lambda q: nn.softmax_cross_entropy(net.apply(q, x), t), modes=("rev",), order=1)(p)


def test_default_inputs_chain_and_output_choice():
    net = nn.Network({"a": nn.Dense(4, "tanh"), "b": nn.Dense(2)}, input_dim=3)
    assert net.layers["a"].inputs == ("x",) and net.layers["b"].inputs == ("a",)
    assert net.output == "b" and net.output_dim == 2
    net2 = nn.Network({"a": nn.Dense(4, "tanh"), "b": nn.Dense(2)}, input_dim=3, output="a")
    assert net2.apply(net2.init(0), np.ones((1, 3))).shape == (1, 4)


def test_layers_listed_out_of_order_are_sorted_topologically():
    net = nn.Network({"out": nn.Dense(2, inputs=["h"]), "h": nn.Dense(3, "tanh", inputs=["x"])},
                     input_dim=2, output="out")
    assert net.order == ["h", "out"]
    assert net.apply(net.init(0), np.ones((4, 2))).shape == (4, 2)


@pytest.mark.parametrize("layers, match", [
    ({"a": nn.Dense(2, inputs=["b"]), "b": nn.Dense(2, inputs=["a"])}, "cycle"),
    ({"a": nn.Dense(2, inputs=["nope"])}, "neither a layer"),
    ({"x": nn.Dense(2)}, "bad layer name"),
    ({"a/b": nn.Dense(2)}, "bad layer name"),
])
def test_bad_topologies(layers, match):
    with pytest.raises(ValueError, match=match):
        nn.Network(layers, input_dim=2)


def test_bad_layer_arguments():
    with pytest.raises(ValueError, match="unknown activation"):
        nn.Dense(3, "swish")
    with pytest.raises(ValueError, match="positive integer"):
        nn.Dense(0)
    with pytest.raises(ValueError, match="init"):
        nn.Dense(3, init="lecun")
    with pytest.raises(ValueError, match="input size is unknown"):
        nn.Network({"a": nn.Dense(2)}).init(0)
    with pytest.raises(ValueError, match="expects 3 features"):
        _skip_net().apply(_skip_net().init(0), np.ones((2, 5)))


def test_init_is_seeded_glorot_and_he():
    net = nn.Network({"g": nn.Dense(400, "tanh"), "h": nn.Dense(300, "relu")}, input_dim=200)
    p1, p2, p3 = net.init(7), net.init(7), net.init(8)
    np.testing.assert_array_equal(p1["g"]["W"]["x"], p2["g"]["W"]["x"])
    assert not np.allclose(p1["g"]["W"]["x"], p3["g"]["W"]["x"])
    r = np.sqrt(6 / (200 + 400))
    w = p1["g"]["W"]["x"]
    assert np.abs(w).max() <= r and np.abs(w).max() > 0.95 * r  # Glorot uniform
    assert abs(p1["h"]["W"]["g"].std() - np.sqrt(2 / 400)) < 0.05 * np.sqrt(2 / 400)  # He normal
    assert np.all(p1["g"]["b"] == 0)


def test_config_round_trip():
    net = _skip_net("gelu")
    assert nn.Network.from_config(net.to_config()) == net


def test_activations():
    a = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(nn.sigmoid(a), 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(nn.relu(a), np.maximum(a, 0))
    np.testing.assert_allclose(nn.tanh(a), np.tanh(a))
    from scipy.stats import norm
    np.testing.assert_allclose(nn.gelu(a), a * norm.cdf(a))
    s = nn.softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(s.sum(-1), 1.0)
    assert np.all(np.isfinite(s)) and s[1, 0] == 1.0
    assert np.all(np.isfinite(nn.sigmoid(np.array([-1000.0, 1000.0]))))


# ----------------------------------------------------------------------------- error functions

def _naive_sigmoid_ce(a, t):
    y = 1 / (1 + np.exp(-a))
    return -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y))


def _naive_softmax_ce(a, t):
    y = np.exp(a) / np.sum(np.exp(a), axis=-1, keepdims=True)
    return -np.sum(t * np.log(y))


def test_fused_losses_equal_naive_forms():
    rng = _rng(11)
    a = rng.normal(size=(6, 4)) * 3
    tb = (rng.uniform(size=(6, 4)) > 0.5).astype(float)
    labels = rng.integers(0, 4, size=6)
    tk = nn.one_hot(labels, 4)
    np.testing.assert_allclose(nn.sigmoid_cross_entropy(a, tb, reduction="sum"), _naive_sigmoid_ce(a, tb))
    np.testing.assert_allclose(nn.softmax_cross_entropy(a, tk, reduction="sum"), _naive_softmax_ce(a, tk))
    np.testing.assert_allclose(nn.softmax_cross_entropy(a, labels, reduction="sum"), _naive_softmax_ce(a, tk))
    np.testing.assert_allclose(nn.softmax_cross_entropy(a, labels), _naive_softmax_ce(a, tk) / 6)
    np.testing.assert_allclose(nn.sum_of_squares(a, tb, reduction="sum"), 0.5 * np.sum((a - tb) ** 2))
    per = nn.softmax_cross_entropy(a, labels, reduction="none")
    assert per.shape == (6,)
    # and their gradients, where the naive forms are finite
    g_fused = chainrule.grad(lambda z: nn.sigmoid_cross_entropy(z, tb, reduction="sum"))(a)
    g_naive = chainrule.grad(lambda z: _naive_sigmoid_ce_traced(z, tb))(a)
    np.testing.assert_allclose(g_fused, g_naive, rtol=1e-9, atol=1e-12)
    g_fused = chainrule.grad(lambda z: nn.softmax_cross_entropy(z, tk, reduction="sum"))(a)
    g_naive = chainrule.grad(lambda z: _naive_softmax_ce_traced(z, tk))(a)
    np.testing.assert_allclose(g_fused, g_naive, rtol=1e-9, atol=1e-12)


def _naive_sigmoid_ce_traced(a, t):
    import chainrule.numpy as cnp
    y = 1 / (1 + cnp.exp(-a))
    return -cnp.sum(t * cnp.log(y) + (1 - t) * cnp.log(1 - y))


def _naive_softmax_ce_traced(a, t):
    import chainrule.numpy as cnp
    e = cnp.exp(a)
    return -cnp.sum(t * cnp.log(e / cnp.sum(e, axis=-1, keepdims=True)))


def test_fused_losses_stay_finite_at_huge_logits():
    a = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    labels = np.array([1, 2])
    tk = nn.one_hot(labels, 3)
    with np.errstate(all="ignore"):
        assert not np.isfinite(_naive_softmax_ce(a, tk))  # what the fused form avoids
    v, g = chainrule.value_and_grad(lambda z: nn.softmax_cross_entropy(z, labels, reduction="sum"))(a)
    np.testing.assert_allclose(v, 2000.0 + np.log(2.0))  # 2000 + (ln 2 from two tied maxima)
    np.testing.assert_allclose(g, nn.softmax(a) - tk)
    assert np.all(np.isfinite(g))
    tb = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    v, g = chainrule.value_and_grad(lambda z: nn.sigmoid_cross_entropy(z, tb, reduction="sum"))(a)
    np.testing.assert_allclose(v, 1000 + 1000 + np.log(2) + 1000 + 1000 + 0.0)
    np.testing.assert_allclose(g, nn.sigmoid(a) - tb)
    # second order stays finite too
    h = chainrule.grad(lambda z: chainrule.grad(
        lambda w: nn.softmax_cross_entropy(w, labels, reduction="sum"))(z)[0, 0])(a)
    assert np.all(np.isfinite(h))


@pytest.mark.parametrize("loss, act", [
    (nn.softmax_cross_entropy, nn.softmax),
    (nn.sigmoid_cross_entropy, nn.sigmoid),
    (nn.sum_of_squares, nn.identity),
])
def test_bishop_error_signal_is_y_minus_t(loss, act):
    """dE/da_k = y_k - t_k for each canonical activation / error-function pair (Bishop 5.4.3, 8.1.1)."""
    rng = _rng(21)
    a = rng.normal(size=(5, 3)) * 2
    if loss is nn.softmax_cross_entropy:
        t = nn.one_hot(rng.integers(0, 3, size=5), 3)
    elif loss is nn.sigmoid_cross_entropy:
        t = (rng.uniform(size=(5, 3)) > 0.5).astype(float)
    else:
        t = rng.normal(size=(5, 3))
    delta = chainrule.grad(lambda z: loss(z, t, reduction="sum"))(a)
    np.testing.assert_allclose(delta, act(a) - t, rtol=1e-12, atol=1e-12)
    # the mean is the same signal divided by N
    np.testing.assert_allclose(chainrule.grad(lambda z: loss(z, t))(a), (act(a) - t) / 5, atol=1e-12)


def test_single_layer_linear_model_gradient():
    """y_k = sum_i w_ki x_i, E_n = 1/2 sum_k (y_k - t_k)^2  =>  dE_n/dw_ji = (y_j - t_j) x_i (8.3)."""
    rng = _rng(31)
    net = nn.Network({"out": nn.Linear(3, bias=False)}, input_dim=4)
    p = net.init(0)
    x, t = rng.normal(size=4), rng.normal(size=3)
    g = chainrule.grad(lambda q: nn.sum_of_squares(net.apply(q, x), t, reduction="sum"))(p)
    y = x @ p["out"]["W"]["x"]
    # W[i, j] multiplies x_i into y_j, so W[i, j] is Bishop's w_ji
    np.testing.assert_allclose(g["out"]["W"]["x"], np.outer(x, y - t), rtol=1e-12)
    # a batch sums the per-example terms (E = sum_n E_n)
    X, T = rng.normal(size=(7, 4)), rng.normal(size=(7, 3))
    g = chainrule.grad(lambda q: nn.sum_of_squares(net.apply(q, X), T, reduction="sum"))(p)
    np.testing.assert_allclose(g["out"]["W"]["x"], X.T @ (X @ p["out"]["W"]["x"] - T), rtol=1e-12)


def test_loss_argument_errors():
    with pytest.raises(ValueError, match="shape"):
        nn.sum_of_squares(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="0..2"):
        nn.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        nn.sum_of_squares(np.zeros((3, 2)), np.zeros((3, 2)), reduction="avg")


def test_l2_penalty_skips_biases():
    p = {"a": {"W": {"x": np.full((2, 2), 2.0)}, "b": np.full(2, 100.0)}}
    np.testing.assert_allclose(nn.l2_penalty(p, 0.5), 0.25 * 16)
    g = chainrule.grad(lambda q: nn.l2_penalty(q, 0.5))(p)
    np.testing.assert_allclose(g["a"]["W"]["x"], 0.5 * p["a"]["W"]["x"])
    np.testing.assert_allclose(g["a"]["b"], 0.0)


def test_accuracy():
    out = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0]])
    assert nn.accuracy(out, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert nn.accuracy(out, nn.one_hot(np.array([1, 0, 1]), 2)) == 1.0


def test_softmax_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng(41)
    a, labels = rng.normal(size=(8, 5)) * 4, rng.integers(0, 5, size=8)
    at = torch.tensor(a, requires_grad=True)
    lt = torch.nn.functional.cross_entropy(at, torch.tensor(labels))
    lt.backward()
    v, g = chainrule.value_and_grad(lambda z: nn.softmax_cross_entropy(z, labels))(a)
    np.testing.assert_allclose(v, lt.item(), rtol=1e-12)
    np.testing.assert_allclose(g, at.grad.numpy(), rtol=1e-10, atol=1e-14)


# ----------------------------------------------------------------------------- optimisers

def _quadratic():
    """f(w) = 1/2 (w - c)^T A (w - c) summed over two leaves, minimum at c."""
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    c = {"layer": {"W": {"x": np.array([1.0, -2.0])}, "b": np.array([0.5, 3.0])}}

    def f(p):
        total = 0.0
        for leaf, ci in ((p["layer"]["W"]["x"], c["layer"]["W"]["x"]), (p["layer"]["b"], c["layer"]["b"])):
            r = leaf - ci
            total = total + 0.5 * (r @ (A @ r))
        return total

    p0 = {"layer": {"W": {"x": np.zeros(2)}, "b": np.zeros(2)}}
    return f, p0, c, A


@pytest.mark.parametrize("opt, steps", [
    (nn.SGD(0.2), 300),
    (nn.SGD(0.05, momentum=0.9), 300),
    (nn.SGD(0.05, momentum=0.9, nesterov=True), 300),
    (nn.Adam(0.05), 1500),
    (nn.Adam(nn.cosine_decay(0.1, 1500)), 1500),
])
def test_optimisers_minimise_a_quadratic(opt, steps):
    f, p, c, _ = _quadratic()
    vg = chainrule.value_and_grad(f)
    state = opt.init(p)
    start = f(p)
    for _ in range(steps):
        _, g = vg(p)
        p, state = opt.update(p, g, state)
    assert f(p) < 1e-8 * start
    np.testing.assert_allclose(p["layer"]["W"]["x"], c["layer"]["W"]["x"], atol=1e-4)
    np.testing.assert_allclose(p["layer"]["b"], c["layer"]["b"], atol=1e-4)


def test_weight_decay_moves_the_minimum_of_weights_only():
    f, p, c, A = _quadratic()
    lam = 0.7
    opt = nn.SGD(0.1, momentum=0.5, weight_decay=lam)
    vg = chainrule.value_and_grad(f)
    state = opt.init(p)
    for _ in range(600):
        _, g = vg(p)
        p, state = opt.update(p, g, state)
    # minimum of 1/2 (w-c)^T A (w-c) + lam/2 |w|^2 is (A + lam I)^-1 A c; biases are not decayed
    want = np.linalg.solve(A + lam * np.eye(2), A @ c["layer"]["W"]["x"])
    np.testing.assert_allclose(p["layer"]["W"]["x"], want, atol=1e-8)
    np.testing.assert_allclose(p["layer"]["b"], c["layer"]["b"], atol=1e-8)


def test_optimiser_update_is_functional():
    f, p, _, _ = _quadratic()
    before = p["layer"]["b"].copy()
    opt = nn.Adam(0.1)
    state = opt.init(p)
    new, state2 = opt.update(p, chainrule.grad(f)(p), state)
    np.testing.assert_array_equal(p["layer"]["b"], before)
    assert state["step"] == 0 and state2["step"] == 1
    assert not np.allclose(new["layer"]["b"], before)


def test_optimiser_arguments():
    with pytest.raises(ValueError, match="learning rate"):
        nn.SGD(0.0)
    with pytest.raises(ValueError, match="momentum"):
        nn.SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="structure"):
        opt = nn.SGD(0.1)
        opt.update({"a": np.zeros(2)}, {"b": np.zeros(2)}, opt.init({"a": np.zeros(2)}))
    s = nn.cosine_decay(1.0, 10)
    assert s(0) == 1.0 and s(10) == pytest.approx(0.0) and s(5) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- data

def test_load_digits():
    x, t = nn.load_digits()
    assert x.shape == (1797, 64) and t.shape == (1797,)
    assert x.dtype == np.float64 and x.min() == 0 and x.max() == 16
    assert set(np.unique(t)) == set(range(10))


def test_batches_cover_the_data_and_are_seeded():
    x, t = np.arange(10.0)[:, None], np.arange(10)
    b1 = list(nn.batches(x, t, 3, seed=(0, 1)))
    b2 = list(nn.batches(x, t, 3, seed=(0, 1)))
    b3 = list(nn.batches(x, t, 3, seed=(0, 2)))
    assert [len(tb) for _, tb in b1] == [3, 3, 3, 1]
    assert sorted(np.concatenate([tb for _, tb in b1])) == list(range(10))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(b1, b2, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(b1, b3, strict=True))
    assert all(np.array_equal(xb[:, 0], tb) for xb, tb in b1)
    assert [len(tb) for _, tb in nn.batches(x, t, 3, drop_last=True)] == [3, 3, 3]


def test_train_test_split_stratified():
    x, t = nn.load_digits()
    xtr, xte, ttr, tte = nn.train_test_split(x, t, 0.2, seed=0, stratify=True)
    assert len(xtr) + len(xte) == 1797
    share = np.bincount(tte, minlength=10) / np.bincount(t, minlength=10)
    assert np.all(np.abs(share - 0.2) < 0.02)


def test_read_table_csv(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("a,b,label\n1,2,cat\n3,4,dog\n\n5,6,cat\n")
    tab = nn.read_table(f, target="label")
    np.testing.assert_array_equal(tab.x, [[1, 2], [3, 4], [5, 6]])
    assert list(tab.t) == ["cat", "dog", "cat"] and tab.feature_names == ["a", "b"]
    with pytest.raises(nn.DataError, match="non-numeric value 'cat' at line 2, column 'label'"):
        nn.read_table(f, target="a")
    with pytest.raises(nn.DataError, match="no column named 'lbl'"):
        nn.read_table(f, target="lbl")
    with pytest.raises(nn.DataError, match="out of range"):
        nn.read_table(f, target=5)
    with pytest.raises(nn.DataError, match="no such file"):
        nn.read_table(tmp_path / "missing.csv")
    (tmp_path / "n.csv").write_text("1,2,0\n3,NaN,1\n")
    with pytest.raises(nn.DataError, match="NaN value 'NaN' at line 2, column 'column 1'"):
        nn.read_table(tmp_path / "n.csv")
    (tmp_path / "r.csv").write_text("1,2,0\n3,1\n")
    with pytest.raises(nn.DataError, match="line 2 has 2 fields, expected 3"):
        nn.read_table(tmp_path / "r.csv")


def test_read_table_npz(tmp_path):
    x, y = _rng().normal(size=(5, 2)), np.array([0, 1, 0, 1, 1])
    np.savez(tmp_path / "a.npz", x=x, y=y)
    tab = nn.read_table(tmp_path / "a.npz")
    np.testing.assert_array_equal(tab.x, x)
    np.testing.assert_array_equal(tab.t, y)
    x[1, 1] = np.nan
    np.savez(tmp_path / "b.npz", x=x, y=y)
    with pytest.raises(nn.DataError, match="NaN value in 'x' at row 1, column 1"):
        nn.read_table(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", x=np.array([{"a": 1}], dtype=object), y=y)
    with pytest.raises(nn.DataError, match="unpickling"):
        nn.read_table(tmp_path / "c.npz")


# ----------------------------------------------------------------------------- save / load

def test_save_load_round_trip(tmp_path):
    net = _skip_net("gelu")
    p = net.init(3)
    path = tmp_path / "sub" / "model.npz"
    nn.save(path, p, net, metadata={"classes": [0, 1], "mean": np.arange(3.0)})
    assert os.listdir(tmp_path / "sub") == ["model.npz"]  # no temporary file left behind
    net2, p2, meta = nn.load_model(path)
    assert net2 == net and meta == {"classes": [0, 1], "mean": [0.0, 1.0, 2.0]}
    for (path_a, a), (path_b, b) in zip(nn.tree_items(p), nn.tree_items(p2), strict=True):
        assert path_a == path_b
        np.testing.assert_array_equal(a, b)
    x = _rng().normal(size=(2, 3))
    np.testing.assert_array_equal(net.apply(p, x), net2.apply(nn.load(path, net), x))
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert "params/out/W/h1" in z.files


def test_load_with_the_wrong_network_names_the_array(tmp_path):
    net = _skip_net()
    nn.save(tmp_path / "m.npz", net.init(0), net)
    wider = _skip_net(h=5)
    with pytest.raises(nn.ParamShapeError, match=r"params\['h1'\]\['W'\]\['x'\] has shape \(3, 4\), "
                                                 r"the network needs \(3, 5\)"):
        nn.load(tmp_path / "m.npz", wider)
    no_skip = nn.Network({"h1": nn.Dense(4, "tanh"), "out": nn.Dense(2)}, input_dim=3)
    with pytest.raises(nn.ParamShapeError, match=r"params\['out'\]\['W'\]\['x'\] is not a parameter"):
        nn.load(tmp_path / "m.npz", no_skip)
    with pytest.raises(nn.ParamShapeError, match="missing"):
        nn.save(tmp_path / "n.npz", {"h1": net.init(0)["h1"]}, net)


def test_load_errors(tmp_path):
    with pytest.raises(nn.ModelFileError, match="no such model file"):
        nn.load(tmp_path / "nope.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(nn.ModelFileError, match="not a readable"):
        nn.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "obj.npz", **{"params/a/W/x": np.array([object()], dtype=object)})
    with pytest.raises(nn.ModelFileError, match="not a readable"):
        nn.load(tmp_path / "obj.npz")


def test_small_training_run_learns_digits():
    """The functional loop from the docs, end to end, in well under a second."""
    x, t = nn.load_digits()
    x = x / 16.0
    net = nn.mlp(64, [32], 10, "tanh")
    params = net.init(0)
    loss = lambda p, xb, tb: nn.softmax_cross_entropy(net.apply(p, xb), tb)
    vg = chainrule.value_and_grad(loss)
    opt = nn.Adam(1e-2)
    state = opt.init(params)
    for epoch in range(3):
        for xb, tb in nn.batches(x[:1000], t[:1000], 50, seed=(0, epoch)):
            _, g = vg(params, xb, tb)
            params, state = opt.update(params, g, state)
    assert nn.accuracy(net.apply(params, x[1000:]), t[1000:]) > 0.85


# ----------------------------------------------------------------------------- targets are inputs
# (issue 12 item 6) dE/dt for every loss, every reduction; second derivatives in every pairing.
LOSSES = {
    "sum_of_squares": (nn.sum_of_squares, lambda a, t: -(a - t), lambda a, t: np.ones_like(a)),
    "sigmoid_cross_entropy": (nn.sigmoid_cross_entropy, lambda a, t: -a, lambda a, t: np.zeros_like(a)),
    "softmax_cross_entropy": (nn.softmax_cross_entropy,
                              lambda a, t: chainrule.scipy.special.logsumexp(a, axis=-1)[..., None] - a,
                              lambda a, t: np.zeros_like(a)),
}


def _loss_args(seed=0, shape=(4, 3)):
    rng = _rng(seed)
    a = rng.standard_normal(shape) * 2
    t = rng.uniform(0.05, 0.95, size=shape)  # soft targets: probabilities, not 1-of-K
    return a, t


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_are_differentiable_in_their_targets(name, reduction):
    loss, dedt, _ = LOSSES[name]
    a, t = _loss_args(1)
    check_grads(lambda a, t: loss(a, t, reduction=reduction), order=2)(a, t)
    g = chainrule.grad(lambda t: chainrule.numpy.sum(loss(a, t, reduction=reduction)))(t)
    n = 1 if reduction != "mean" else a.shape[0]
    np.testing.assert_allclose(g, dedt(a, t) / n, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("shape", [(4, 3), (3,)])
def test_losses_hessians_in_logits_and_targets(name, shape):
    loss, _, d2edt2 = LOSSES[name]
    a, t = _loss_args(2, shape)
    h = chainrule.hessian(loss, argnums=(0, 1))(a, t)
    size = a.size
    # central differences of the gradient, column by column
    grad = chainrule.grad(loss, argnums=(0, 1))
    flat = np.concatenate([a.ravel(), t.ravel()])
    eps = 1e-6
    cols = []
    for j in range(2 * size):
        e = np.zeros(2 * size)
        e[j] = eps
        gp = np.concatenate([np.ravel(v) for v in grad((flat + e)[:size].reshape(shape),
                                                       (flat + e)[size:].reshape(shape))])
        gm = np.concatenate([np.ravel(v) for v in grad((flat - e)[:size].reshape(shape),
                                                       (flat - e)[size:].reshape(shape))])
        cols.append((gp - gm) / (2 * eps))
    numeric = np.stack(cols, axis=1)
    dense = np.block([[np.reshape(h[i][j], (size, size)) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(dense, numeric, atol=1e-7)
    n = a.shape[0] if len(shape) == 2 else 1
    np.testing.assert_allclose(np.diag(np.reshape(h[1][1], (size, size))), d2edt2(a, t).ravel() / n)
    # the target-only Hessian, the one that raised TracerEscapeError
    np.testing.assert_allclose(chainrule.hessian(loss, argnums=1)(a, t), h[1][1], rtol=1e-12, atol=1e-14)


def test_loss_targets_through_the_tensor_api_and_jit():
    a, t = _loss_args(3)
    at, tt = chainrule.tensor(a, requires_grad=True), chainrule.tensor(t, requires_grad=True)
    nn.softmax_cross_entropy(at, tt).backward()
    want = LOSSES["softmax_cross_entropy"][1](a, t) / a.shape[0]
    np.testing.assert_allclose(np.asarray(tt.grad), want, rtol=1e-12)
    g = chainrule.jit(chainrule.grad(nn.sigmoid_cross_entropy, argnums=1))(a, t)
    np.testing.assert_allclose(g, -a / a.shape[0], rtol=1e-12)


def test_integer_labels_stay_constants_and_plain_targets_are_not_copied():
    a, _ = _loss_args(4)
    labels = np.array([0, 2, 1, 2])
    g = chainrule.grad(nn.softmax_cross_entropy)(a, labels)
    np.testing.assert_allclose(g, (nn.softmax(a) - nn.one_hot(labels, 3)) / 4, rtol=1e-12)
    t = np.full(a.shape, 0.5)
    assert nn.losses._targets(t, a.shape, "x") is t  # the training path pays nothing for targets
    assert nn.losses._targets(np.array([[1, 0]]), (1, 2), "x").dtype == np.float64


def test_l2_penalty_has_a_hessian():
    p = {"a": {"W": _rng(5).standard_normal((2, 3)), "b": np.ones(3)}}
    h = chainrule.hessian(lambda p: nn.l2_penalty(p, 0.3))(p)
    np.testing.assert_allclose(np.reshape(h["a"]["W"]["a"]["W"], (6, 6)), 0.3 * np.eye(6))
    np.testing.assert_allclose(h["a"]["b"]["a"]["b"], np.zeros((3, 3)))
