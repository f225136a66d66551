"""The glass box's data: trace(), the explain() table, labels, groups, and agreement with the core."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz import examples, label, scope, trace
from chainrule.viz.formula import FUNCTIONS
from chainrule.viz.table import rows


def cs231n():
    return trace(examples.cs231n)(*examples.CS231N_ARGS)


# ------------------------------------------------------------------ CS231n (seed 003)

def test_cs231n_nodes_values_and_gradients():
    c = cs231n()
    assert [n.name for n in c.nodes] == ["x", "y", "z", "q", "f"]
    assert [n.op for n in c.nodes] == ["input", "input", "input", "add", "multiply"]
    assert c["q"].value == 3 and c["f"].value == -12
    assert c.grads == {"x": -4, "y": -4, "z": 3}
    assert c["q"].grad == -4 and c["f"].grad == 1
    # local gradients: the add gate's are 1 and 1; the multiply gate's are z and q
    assert [float(g) for g in c["q"].local_grads] == [1, 1]
    assert [float(g) for g in c["f"].local_grads] == [-4, 3]
    assert [float(g) for g in c["f"].passed_down] == [-4, 3]
    assert [a.node for a in c["f"].inputs] == [c["q"].id, c["z"].id]
    assert c.outputs == [c["f"].id] and c["f"].is_output
    assert c.value == -12


def test_cs231n_table_shows_the_seed_numbers():
    c = cs231n()
    r = {row["node"]: row for row in rows(c)}
    assert [row["node"] for row in rows(c)] == ["f", "q", "z", "y", "x"]  # backward order
    assert r["q"]["value"] == "3" and r["f"]["value"] == "-12"
    assert r["f"]["upstream"] == "1 (seed)"
    assert r["f"]["local"] == "∂f/∂q = -4\n∂f/∂z = 3"
    assert r["f"]["passed"] == "q: (-4) × 1 = -4\nz: 3 × 1 = 3"
    assert r["q"]["local"] == "∂q/∂x = 1\n∂q/∂y = 1"
    assert r["q"]["upstream"] == "-4"
    assert r["q"]["passed"] == "x: 1 × (-4) = -4\ny: 1 × (-4) = -4"
    assert (r["x"]["upstream"], r["y"]["upstream"], r["z"]["upstream"]) == ("-4", "-4", "3")
    assert r["x"]["value"] == "-2" and r["y"]["value"] == "5" and r["z"]["value"] == "-4"


def test_explain_prints_the_table(capsys):
    pytest.importorskip("rich")
    c = cs231n()
    c.explain(width=140, color=False)
    out = capsys.readouterr().out
    text = c.explain_text(width=140)
    assert [ln.rstrip() for ln in out.splitlines()] == text.splitlines()
    for piece in ("node", "local gradient", "upstream gradient", "gradient passed down",
                  "multiply(q, z)", "add(x, y)", "-12", "∂f/∂q = -4", "∂f/∂z = 3",
                  "q: (-4) × 1 = -4", "x: 1 × (-4) = -4", "1 (seed)"):
        assert piece in text, piece
    lines = text.splitlines()
    order = [next(i for i, ln in enumerate(lines) if ln.strip().startswith(name))
             for name in ("f (output)", "q ", "z ", "y ", "x ")]
    assert order == sorted(order)


# ------------------------------------------------------------------ UFLDL ICA (seed 002)

def test_ica_tied_weights_contributions_sum_to_closed_form():
    W, x = examples.ica_args()
    c = trace(examples.ica_cost, wrt="W")(W, x)
    w = c["W"]
    assert len(w.contributions) == 2
    by_op = {c.nodes[k.frm].op: k.value for k in w.contributions}
    assert set(by_op) == {"matmul", "transpose"}
    closed = examples.ica_closed_form(W, x)
    np.testing.assert_allclose(by_op["matmul"], closed["W x"], rtol=1e-12)
    np.testing.assert_allclose(by_op["transpose"], closed["W^T"], rtol=1e-12)
    np.testing.assert_allclose(w.grad, closed["W x"] + closed["W^T"], rtol=1e-12)
    np.testing.assert_allclose(w.grad, cr.grad(examples.ica_cost)(W, x), rtol=1e-12)
    # the table spells the sum out
    up = next(r["upstream"] for r in rows(c) if r["node"] == "W")
    assert up.startswith("from Wx: ") and "\n+ from transpose_1: " in up and "\n= " in up


def test_ica_without_matmul_same_contributions():
    """The same cost written with broadcasting: W still fans out to two gates."""
    W, x = examples.ica_args()

    def cost(W, x):
        Wx = (W * x).sum(axis=1)
        r = (W * Wx[:, None]).sum(axis=0) - x
        return (r * r).sum()

    c = trace(cost, wrt=0)(W, x)
    got = [k.value for k in c["W"].contributions]
    closed = examples.ica_closed_form(W, x)
    np.testing.assert_allclose(got[0], closed["W x"], rtol=1e-12)
    np.testing.assert_allclose(got[1], closed["W^T"], rtol=1e-12)


# ------------------------------------------------------------------ agreement with the core

def test_gradients_match_grad_on_an_array_program():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=4)

    def f(a, b):
        h = np.tanh(a * b + 1.0)
        s = np.exp(h).sum(axis=0)
        return np.sum(s * s) / (1.0 + np.sum(b * b))

    c = trace(f)(a, b)
    ga, gb = cr.grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(c["a"].grad, ga, rtol=1e-12)
    np.testing.assert_allclose(c["b"].grad, gb, rtol=1e-12)
    np.testing.assert_allclose(c.value, f(a, b))
    for n in c.nodes:  # every node's gradient is the sum of its contributions
        if n.contributions and not n.is_output:
            np.testing.assert_allclose(n.grad, sum(k.value for k in n.contributions), rtol=1e-12)
        assert n.stats["shape"] == list(np.shape(n.value))


def test_fan_out_of_one_gate_x_times_x():
    c = trace(lambda x: x * x)(3.0)
    x = c["x"]
    assert [k.argnum for k in x.contributions] == [0, 1]
    assert [float(k.value) for k in x.contributions] == [3.0, 3.0] and x.grad == 6.0
    up = next(r["upstream"] for r in rows(c) if r["node"] == "x")
    assert up == "from f (arg 0): 3\n+ from f (arg 1): 3\n= 6"


def test_multiple_result_primitive_and_unused_output():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])

    def h(A):
        sign, logdet = np.linalg.slogdet(A)
        return logdet

    c = trace(h)(A)
    assert [(n.name, n.output_index) for n in c.nodes[1:]] == [("sign", 0), ("logdet", 1)]
    assert c["sign"].grad is None  # does not reach the output
    np.testing.assert_allclose(c["A"].grad, np.linalg.inv(A).T)
    assert "does not reach logdet" in next(r["upstream"] for r in rows(c) if r["node"] == "sign")


def test_multiple_result_primitive_both_results_used():
    """eigh's VJP runs once on both results' gradients; the gate's passed-down gradient is shown
    on its first result, the other result passes nothing separately, and A's total is grad's."""
    A = np.array([[2.0, 1.0], [1.0, 3.0]])

    def h(A):
        w, v = np.linalg.eigh(A)
        return np.sum(w ** 3) + np.sum(v[:, 0] * np.array([1.0, 2.0]))

    c = trace(h)(A)
    w, v = (n for n in c.nodes if n.op == "eigh")
    assert (w.output_index, v.output_index) == (0, 1)
    assert w.grad is not None and v.grad is not None
    assert w.passed_down[0] is not None and v.passed_down == [None]
    np.testing.assert_allclose(c["A"].grad, cr.grad(h)(A), rtol=1e-12)
    assert [k.frm for k in c["A"].contributions] == [w.id]


def test_deltas_come_from_the_engines_backward_pass(monkeypatch):
    """The glass box runs ReverseTrace.backward with an observer (one sweep, written once in
    core/tape.py) instead of a backward pass of its own."""
    from chainrule.core.trace import ReverseTrace

    calls = []
    real = ReverseTrace.backward

    def spy(self, seeds, wanted, *args, **kwargs):
        calls.append(kwargs.get("observer"))
        return real(self, seeds, wanted, *args, **kwargs)

    monkeypatch.setattr(ReverseTrace, "backward", spy)
    c = cs231n()
    assert len(calls) == 1 and callable(calls[0])
    assert c.grads == {"x": -4, "y": -4, "z": 3}


def test_higher_order_the_backward_pass_is_on_the_tape():
    f = lambda x: np.sin(x) * x  # noqa: E731
    c = trace(cr.grad(f))(0.7)
    np.testing.assert_allclose(c.value, np.cos(0.7) * 0.7 + np.sin(0.7))
    np.testing.assert_allclose(c["x"].grad, cr.grad(cr.grad(f))(0.7))
    assert len(c.nodes) > 3


def test_seed_and_non_scalar_output():
    x = np.array([1.0, 2.0, 3.0])
    c = trace(lambda x: x * x)(x)
    np.testing.assert_allclose(c["x"].grad, 2 * x)  # seeded with ones: d sum(f)
    c2 = trace(lambda x: x * x, seed=np.array([1.0, 0.0, 2.0]))(x)
    np.testing.assert_allclose(c2["x"].grad, [2.0, 0.0, 12.0])


# ------------------------------------------------------------------ inputs and names

def test_names_from_signature_pytrees_and_constants():
    params = {"W": np.eye(2), "b": np.zeros(2)}
    labels = np.array([0, 1])

    def loss(params, x, labels, scale=1.0):
        z = x @ params["W"] + params["b"]
        return scale * np.sum(z[np.arange(2), labels])

    c = trace(loss)(params, np.ones((2, 2)), labels, scale=2.0)
    assert [c.nodes[i].name for i in c.inputs] == ["params['W']", "params['b']", "x"]
    assert "z" in [n.name for n in c.nodes]
    np.testing.assert_allclose(c["params['W']"].grad, cr.grad(loss)(params, np.ones((2, 2)), labels,
                                                                     scale=2.0)["W"])
    c2 = trace(loss, wrt="params")(params, np.ones((2, 2)), labels)
    assert [c2.nodes[i].name for i in c2.inputs] == ["params['W']", "params['b']"]
    assert trace(lambda x, y: x * y, wrt=1)(2.0, 3.0).grads == {"y": 2.0}


def test_label_names_a_value_and_changes_nothing():
    def f(x, y):
        s = label(x * y, "product")
        return label(np.sin(s), "out")

    c = trace(f)(2.0, 3.0)
    assert [n.name for n in c.nodes] == ["x", "y", "product", "out"]
    assert c.grads["x"] == pytest.approx(np.cos(6.0) * 3.0)
    assert cr.grad(f)(2.0, 3.0) == pytest.approx(np.cos(6.0) * 3.0)
    assert label(5.0, "five") == 5.0  # outside trace: the value itself
    with pytest.raises(TypeError, match="non-empty string"):
        label(1.0, "")


def test_duplicate_names_are_made_unique_and_inputs_keep_theirs():
    def f(x):
        for _ in range(3):
            x = np.sin(x)
        return x

    c = trace(f)(1.0)
    names = [n.name for n in c.nodes]
    assert names[0] == "x" and len(set(names)) == len(names)


def test_structure_groups_calls_loops_and_scopes():
    c = trace(examples.mlp_loss, wrt="params")(*examples.mlp_args(depth=3))
    calls = [g for g in c.groups if g.kind == "call"]
    assert [g.label for g in calls] == [f"layer (iteration {i})" for i in (1, 2, 3)]
    assert all(len(g.nodes) == 3 for g in calls)  # matmul, add, tanh
    loop = next(g for g in c.groups if g.kind == "loop")
    assert loop.children == [g.id for g in calls] and "line" in loop.label

    def rnn(W, xs):
        h = np.zeros(2)
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
        with scope("readout"):
            y = np.sum(h * h)
        return y

    r = trace(rnn)(np.eye(2) * 0.5, np.ones((4, 2)))
    its = [g for g in r.groups if g.kind == "iteration"]
    assert [g.label for g in its] == [f"iteration {i}" for i in (1, 2, 3, 4)]
    assert all(len(g.nodes) == 4 for g in its)  # getitem, matmul, add, tanh
    ro = next(g for g in r.groups if g.kind == "scope")
    assert ro.label == "readout" and [r.nodes[i].op for i in ro.nodes] == ["multiply", "sum"]
    flat = trace(rnn, structure=False)(np.eye(2) * 0.5, np.ones((4, 2)))
    assert [g.kind for g in flat.groups] == ["scope"]
    assert [n.name for n in flat.nodes[:4]] == ["W", "xs", "matmul_1", "getitem_1"]


def test_profile_hook_is_restored():
    before = sys.getprofile()
    cs231n()
    assert sys.getprofile() is before
    with pytest.raises(ZeroDivisionError):
        trace(lambda x: 1 / 0)(1.0)
    assert sys.getprofile() is before


def test_network_from_chainrule_nn():
    nn = pytest.importorskip("chainrule.nn")
    if not hasattr(nn, "mlp"):
        pytest.skip("chainrule.nn.mlp is not available")
    net = nn.mlp(4, [5], 3)
    params = net.init(seed=0)
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)

    def loss(p, x, t):
        return nn.softmax_cross_entropy(net.apply(p, x), t)

    c = trace(loss)(params, x, t)
    value, g = cr.value_and_grad(loss)(params, x, t)
    np.testing.assert_allclose(c.value, value)
    for i in c.inputs:
        n = c.nodes[i]
        if n.name.startswith("p["):
            keys = [k.strip("'") for k in n.name[2:-1].split("][")]
            want = g
            for k in keys:
                want = want[k]
            np.testing.assert_allclose(n.grad, want, rtol=1e-10, atol=1e-14)
    assert any(g.kind == "call" for g in c.groups)


def test_tensor_code():
    if not hasattr(cr, "Tensor"):
        pytest.skip("chainrule.Tensor is not available")
    T = cr.Tensor
    x = np.array([0.5, -1.0])

    def f(x):
        t = T(x)
        return ((t * 3.0).exp() + t).sum()

    c = trace(f)(x)
    np.testing.assert_allclose(c["x"].grad, 3 * np.exp(3 * x) + 1)
    c2 = trace(lambda a: (a * a).sum())(T(x, requires_grad=True))
    np.testing.assert_allclose(c2.grads["a"], 2 * x)


# ------------------------------------------------------------------ data out

def test_to_dict_is_json_and_large_arrays_are_summarised():
    big = np.linspace(-1, 1, 200)
    c = trace(lambda v: np.sum(np.tanh(v)), keep_elements=100)(big)
    assert c["v"].value is None and c["v"].stats["shape"] == [200]
    assert c["v"].stats["min"] == -1.0 and c["v"].stats["max"] == 1.0
    d = json.loads(c.to_json())
    assert d["nodes"][0]["value"] is None and d["nodes"][0]["stats"]["size"] == 200
    small = json.loads(cs231n().to_json())
    q = next(n for n in small["nodes"] if n["name"] == "q")
    assert q["value"] == 3.0 and q["grad"] == -4.0 and q["local_grads"] == [1.0, 1.0]
    assert q["inputs"] == [{"node": 0}, {"node": 1}]
    assert small["outputs"] == [4]
    from chainrule.viz._fmt import fmt_value

    assert fmt_value(np.arange(100.0)).startswith("float64[100] mean 49.5")


def test_bad_input_errors():
    with pytest.raises(TypeError, match="no floating-point inputs"):
        trace(lambda n: n)(np.arange(3))
    with pytest.raises(ValueError, match="does not depend"):
        trace(lambda x: 3.0)(1.0)
    with pytest.raises(ValueError, match="not an argument name"):
        trace(lambda x: x, wrt="y")(1.0)
    with pytest.raises(TypeError, match="needs a function"):
        trace(3)
    with pytest.raises(KeyError, match="no node named"):
        cs231n()["nope"]


# ------------------------------------------------------------------ the formula language

_BINARY = {"arctan2", "dot", "hypot", "logaddexp", "matmul", "maximum", "minimum", "outer", "power"}


def test_formula_functions_are_the_librarys_own():
    """Each function a formula can call is the library's object (chainrule.numpy,
    chainrule.scipy.special, the activations nn and Tensor use), never a redefinition."""
    import chainrule.numpy as cnp
    from chainrule.rules import activations
    from chainrule.scipy import special
    from chainrule.viz.formula import FUNCTION_NAMES

    assert FUNCTION_NAMES == tuple(sorted(FUNCTIONS))
    for name, fn in FUNCTIONS.items():
        homes = [m for m in (cnp, special, activations) if any(v is fn for v in vars(m).values())]
        assert homes, f"formula function {name} is not a chainrule.numpy / scipy.special / activation"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_listed_formula_function_runs_and_differentiates(name):
    import chainrule.numpy as cnp
    from chainrule.viz.formula import parse

    x, y = np.array([0.3, 0.7]), np.array([0.6, 0.2])
    fn = FUNCTIONS[name]
    if name in _BINARY:
        formula, args = f"sum({name}(x, y))", (x, y)
    else:
        formula, args = f"sum({name}(x))", (x,)
    f = parse(formula)
    c = trace(f, name="f")(*args)
    want = cr.grad(lambda *a: cnp.sum(fn(*a)), argnums=tuple(range(len(args))))(*args)
    assert f.inputs == ["x", "y"][:len(args)]
    for got, w in zip(c.grads.values(), want, strict=True):  # inputs in order
        np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-15)


def test_formula_max_and_min_are_numpys_reductions():
    from chainrule.viz.formula import FormulaError, parse

    c = trace(parse("max(x)"), name="f")(np.array([1.0, 3.0, 3.0]))
    (g,) = c.grads.values()
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])  # ties share (chainrule.conventions)
    c = trace(parse("min(x) * 2"), name="f")(np.array([1.0, 3.0]))
    (g,) = c.grads.values()
    np.testing.assert_array_equal(g, [2.0, 0.0])
    for bad in ("max(x, y)", "min(x, 1)"):
        with pytest.raises(FormulaError, match="takes one argument.*(maximum|minimum)"):
            parse(bad)
