"""Circuit diagrams: what goes on each wire, escaping, collapsing, and rendering with ``dot``."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule.viz import examples, label, trace
from chainrule.viz.circuit import GRAD_COLOR, VALUE_COLOR, choose_collapsed, have_dot

graphviz = pytest.importorskip("graphviz", reason="the python package 'graphviz' is not installed")
needs_dot = pytest.mark.skipif(not have_dot(), reason="the graphviz 'dot' program is not installed "
                                                      "(apt-get install graphviz)")


def wire(src: str, dst: str, source: str):
    m = re.search(rf"\b{src} -> {dst} \[label=<(.*?)> id=", source)
    assert m, f"no wire {src} -> {dst}"
    return re.findall(r'<font color="(#[0-9a-f]+)">(.*?)</font>', m.group(1))


def test_cs231n_wires_carry_value_above_gradient_below():
    c = trace(examples.cs231n)(*examples.CS231N_ARGS)
    src = c.circuit().source
    ids = {n.name: f"n{n.id}" for n in c.nodes}
    v, g = VALUE_COLOR, GRAD_COLOR
    assert wire(ids["x"], ids["q"], src) == [(v, "-2"), (g, "-4")]
    assert wire(ids["y"], ids["q"], src) == [(v, "5"), (g, "-4")]
    assert wire(ids["z"], ids["f"], src) == [(v, "-4"), (g, "3")]
    assert wire(ids["q"], ids["f"], src) == [(v, "3"), (g, "-4")]
    assert wire(ids["f"], f"out{c['f'].id}", src) == [(v, "-12"), (g, "1")]
    assert "<b>+</b>" in src and "<b>*</b>" in src and "rankdir=LR" in src


def test_fan_out_draws_one_wire_per_use_with_its_own_gradient():
    W, x = examples.ica_args()
    c = trace(examples.ica_cost, wrt="W")(W, x)
    src = c.circuit().source
    w = f"n{c['W'].id}"
    assert src.count(f"\t{w} -> ") == 2
    r = f"n{c['r'].id}"
    assert src.count(f"\t{r} -> ") == 2  # r * r: two wires into one gate


def test_labels_are_escaped():
    def f(x):
        return label(x * 2.0, '<script>alert("x")</script> & <b>')

    c = trace(f)(1.0)
    src = c.circuit().source
    labels = re.findall(r"label=<(.*?)> ", src)
    assert labels and not any("<script>" in lab for lab in labels)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in src
    if have_dot():
        from chainrule.viz.circuit import to_svg

        svg = to_svg(c)
        assert "<script" not in svg and "&lt;script&gt;" in svg


def test_large_graph_collapses_into_labelled_groups():
    c = trace(examples.mlp_loss, wrt="params")(*examples.mlp_args(depth=6))
    assert len(c.nodes) > 30
    collapsed = choose_collapsed(c, max_nodes=16)
    assert collapsed
    src = c.circuit(max_nodes=16).source
    drawn = {int(i) for i in re.findall(r"\n\tn(\d+) \[", src)}
    ops = {n.id for n in c.nodes if not n.is_input}
    assert len(drawn & ops) < 10 and re.search(r"\n\tg\d+ \[", src)
    assert "mlp_loss loop (line" in src
    small = c.circuit(max_nodes=60).source  # everything fits: groups become dashed clusters
    assert "subgraph cluster_" in small and "layer (iteration 3)" in small
    assert choose_collapsed(trace(examples.cs231n)(*examples.CS231N_ARGS), 2) == set()


@needs_dot
def test_render_svg_and_png(tmp_path):
    c = trace(examples.cs231n)(*examples.CS231N_ARGS)
    svg = c.render(tmp_path / "c.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for t in ("&#45;12", "&#45;4", ">3<"):
        assert t in text
    assert 'id="n3"' in text
    png = c.render(tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = c.render(tmp_path / "c.dot")
    assert dot.read_text().startswith("digraph")
    with pytest.raises(ValueError, match="unsupported"):
        c.render(tmp_path / "c.bmp")


@needs_dot
def test_render_a_network(tmp_path):
    c = trace(examples.mlp_loss, wrt="params")(*examples.mlp_args(depth=4))
    p = c.render(tmp_path / "mlp.svg", max_nodes=16)
    assert "layer" in p.read_text()
    arr = np.asarray(c.value)
    assert arr.shape == ()


def test_integer_power_gate_shows_its_exponent():
    # x ** 2 records integer_pow with n=2 as a parameter: the gate reads "**2", one input wire
    src = trace(lambda x: (x ** 2).sum())(np.array([1.0, 2.0])).circuit().source
    assert "<b>**2</b>" in src
    assert "integer_pow(x, n=2)" in src


def test_gate_symbols_are_keyed_by_the_primitive_not_its_name():
    """A user's primitive that happens to be called "add" or "getitem" is drawn and written as
    itself, not as chainrule's + gate or as indexing."""
    import chainrule.numpy as cnp
    from chainrule import primitive
    from chainrule.viz.circuit import gate_symbol

    my_add = primitive(lambda x, y: x + 2 * y, name="add")
    my_add.defvjp(lambda g, ans, x, y: g, lambda g, ans, x, y: 2 * g)
    my_getitem = primitive(lambda x, idx: x * idx, name="getitem")
    my_getitem.defvjp(lambda g, ans, x, idx: g * idx)

    def f(x, y):
        return cnp.sum(my_getitem(my_add(x, y), 3.0)) + cnp.sum(x[0] + y)

    c = trace(f)(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    mine = [n for n in c.nodes if n.prim in (my_add, my_getitem)]
    assert [gate_symbol(n) for n in mine] == ["add", "getitem"]
    assert [n.signature(c.nodes) for n in mine] == ["add(x, y)", "getitem(add_1, 3)"]
    ours = [n for n in c.nodes if n.prim is not None and n.prim not in (my_add, my_getitem)]
    assert {gate_symbol(n) for n in ours} >= {"+", "[ ]", "Σ"}
