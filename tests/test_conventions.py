"""One table of derivative conventions at kinks, ties and bounds (chainrule.conventions), and one
definition of each activation: relu'(0) is the same in chainrule.nn, the Tensor API and
`chainrule explain`."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.cli.main import main
from chainrule.conventions import CONVENTIONS
from chainrule.rules import activations
from chainrule.viz.formula import FUNCTIONS


def _seed(c, out):
    return np.ones(np.shape(out)) if c.seed is None else np.asarray(c.seed, dtype=float)


def _reverse(c) -> list:
    """The VJP of the entry's seed at its point, by grad, for each of its argnums."""
    def f(*args):
        out = c.fn(*args)
        return cnp.sum(out * _seed(c, cr.stop_gradient(out)))

    g = cr.grad(f, argnums=c.argnums)(*c.args)
    return list(g)


def _forward(c) -> list:
    """The same numbers by forward mode: seed . (J e_i) for every element i of every argnum."""
    def f(*diff):
        full = list(c.args)
        for j, v in zip(c.argnums, diff, strict=True):
            full[j] = v
        return c.fn(*full)

    primals = [np.asarray(c.args[j], dtype=float) for j in c.argnums]
    out = []
    for k, x in enumerate(primals):
        col = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            tangents = [np.zeros(p.shape) for p in primals]
            tangents[k][i] = 1.0
            y, t = cr.jvp(f, primals, tangents)
            col[i] = np.sum(np.asarray(t) * _seed(c, y))
        out.append(col)
    return out


def _assert_grads(c, name, path, where):
    """The derivatives ``path(c)`` computes (NumPy's warnings at the kinks silenced) are the
    table's, bit for bit."""
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = path(c)
    for k, (g, want) in enumerate(zip(got, c.grads, strict=True)):
        np.testing.assert_array_equal(np.asarray(g, dtype=float), np.asarray(want, dtype=float),
                                      err_msg=f"{name}: argument {c.argnums[k]}{where}")


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_each_convention_is_what_grad_computes(name):
    c = CONVENTIONS[name]
    assert len(c.grads) == len(c.argnums)
    _assert_grads(c, name, _reverse, "")


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_each_convention_holds_in_forward_mode_too(name):
    c = CONVENTIONS[name]
    _assert_grads(c, name, _forward, " (jvp)")


# ------------------------------------------------------------------ one relu, one sigmoid

def test_one_definition_of_each_activation():
    assert nn.relu is activations.relu and FUNCTIONS["relu"] is activations.relu
    assert nn.sigmoid is activations.sigmoid and FUNCTIONS["sigmoid"] is activations.sigmoid
    assert nn.gelu is activations.gelu and FUNCTIONS["gelu"] is activations.gelu
    assert nn.get_activation("relu") is activations.relu


def test_relu_derivative_at_zero_in_nn():
    assert cr.grad(nn.relu)(0.0) == 0.0
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(cr.grad(lambda a: cnp.sum(nn.relu(a)))(x), [0.0, 0.0, 1.0])
    net = nn.Network({"h": nn.Dense(1, "relu")})  # W = 1, b = 0 puts the unit at its kink
    params = {"h": {"W": {"x": np.ones((1, 1))}, "b": np.zeros(1)}}
    g = cr.grad(lambda p: cnp.sum(net.apply(p, np.zeros((1, 1)))))(params)
    np.testing.assert_array_equal(g["h"]["b"], [0.0])


def test_relu_derivative_at_zero_in_the_tensor_api():
    t = cr.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    t.relu().sum().backward()
    np.testing.assert_array_equal(np.asarray(t.grad), [0.0, 0.0, 1.0])
    u = cr.Tensor(0.0, requires_grad=True)  # the nn function on a Tensor
    nn.relu(u).backward()
    assert float(np.asarray(u.grad)) == 0.0


def _explain_page(tmp_path, formula, **values) -> dict:
    argv = ["explain", formula, "--out", str(tmp_path), "--no-png"]
    for k, v in values.items():
        argv += [f"--{k}", str(v)]
    assert main(argv) == 0
    page = (tmp_path / "explain.html").read_text(encoding="utf-8")
    island = re.search(r'<script type="application/json" id="glassbox-data">(.*?)</script>', page, re.S)
    return json.loads(island.group(1))


def test_relu_derivative_at_zero_in_chainrule_explain(tmp_path, capsys):
    data = _explain_page(tmp_path, "relu(x)", x=0)
    x = next(n for n in data["nodes"] if n["name"] == "x")
    assert x["upstream"] == "0", x  # d relu / dx at 0, as in nn and Tensor
    table = capsys.readouterr().out
    assert "relu" in table or "where" in table


@pytest.mark.parametrize("formula, grad", [("sigmoid(x)", 0.25), ("relu(x)", 0.0),
                                           ("abs(x)", 0.0), ("maximum(x, 0)", 0.5)])
def test_explain_follows_the_conventions_at_zero(tmp_path, formula, grad, capsys):
    data = _explain_page(tmp_path, formula, x=0)
    x = next(n for n in data["nodes"] if n["name"] == "x")
    assert float(x["upstream"]) == grad


# ------------------------------------------------------------------ every front-end follows it

def _tensor(c) -> list:
    """The same numbers through the Tensor API: leaves that require grad, ``backward``."""
    args = [cr.Tensor(np.asarray(a, dtype=float), requires_grad=True) if j in c.argnums else a
            for j, a in enumerate(c.args)]
    out = c.fn(*args)
    if not isinstance(out, cr.Tensor):  # a piecewise-constant result is a constant: no graph
        return [np.zeros(np.shape(c.args[j])) for j in c.argnums]
    (out * _seed(c, out.detach().value)).sum().backward()
    return [np.zeros(np.shape(c.args[j])) if args[j].grad is None else args[j].grad.value
            for j in c.argnums]


@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_each_convention_holds_in_the_tensor_api(name):
    c = CONVENTIONS[name]
    _assert_grads(c, name, _tensor, " (Tensor)")


@pytest.mark.parametrize("name", sorted(n for n, c in CONVENTIONS.items()
                                        if any(c.fn is f for f in FUNCTIONS.values())))
def test_each_convention_the_formula_language_can_spell_uses_the_same_function(name):
    """The formula language (chainrule explain) calls the very function the table names, so it
    computes the table's value; a function it cannot spell has no entry to check here."""
    c = CONVENTIONS[name]
    assert any(f is c.fn for f in FUNCTIONS.values())
