"""The step-through page as a file: self-contained, escaped, and carrying the right steps.

The page is driven in a real browser in tests/test_browser.py.
"""

from __future__ import annotations

import json
import re

import pytest

from chainrule.viz import examples, label, trace
from chainrule.viz.circuit import have_dot
from chainrule.viz.html import page_data

EVIL = "<script>window.__pwned = 1</script><img src=x onerror=alert(1)>"


def evil_comp():
    def f(x, y):
        return label(x * y, EVIL) + x

    return trace(f)(2.0, 3.0)


def layouts():
    return ["simple", "graphviz"] if have_dot() else ["simple"]


@pytest.mark.parametrize("layout", layouts())
def test_page_is_self_contained(tmp_path, layout):
    page = trace(examples.cs231n)(*examples.CS231N_ARGS).to_html(tmp_path / "p.html", layout=layout)
    assert (tmp_path / "p.html").read_text(encoding="utf-8") == page
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<link" not in page and "@import" not in page and "url(http" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count("<script") == 2  # the JSON island and the stepper


@pytest.mark.parametrize("layout", layouts())
def test_user_labels_are_escaped_everywhere(layout):
    page = evil_comp().to_html(layout=layout)
    assert "__pwned" in page  # it is there, as text ...
    assert "<script>window" not in page and "<img src=x" not in page  # ... never as markup
    island = re.search(r'<script type="application/json" id="glassbox-data">(.*?)</script>', page, re.S)
    data = json.loads(island.group(1))
    assert EVIL in [n["name"] for n in data["nodes"]]


def test_steps_forward_then_backward():
    c = trace(examples.cs231n)(*examples.CS231N_ARGS)
    d = page_data(c)
    assert [(s["phase"], c.nodes[s["node"]].name) for s in d["steps"]] == [
        ("forward", "x"), ("forward", "y"), ("forward", "z"), ("forward", "q"), ("forward", "f"),
        ("backward", "f"), ("backward", "q"), ("backward", "z"), ("backward", "y"), ("backward", "x")]
    q = d["nodes"][c["q"].id]
    assert q["value"] == "3" and q["upstream"] == "-4" and q["el"] == f"n{c['q'].id}"
    assert {w["el"] for w in d["wires"]} == {"e0_3_0", "e1_3_1", "e3_4_0", "e2_4_1", "e4_out"}


def test_bad_layout():
    with pytest.raises(ValueError, match="layout"):
        trace(examples.cs231n)(*examples.CS231N_ARGS).to_html(layout="tikz")


@pytest.mark.parametrize("layout", layouts())
def test_long_names_are_cut_short_in_the_picture_with_the_full_text_on_hover(layout):
    """A node named after its source text (or a long label) no longer blows up its gate: the
    picture shows MAX_LABEL characters, the tooltip, the panel and the table the whole name."""
    from chainrule.viz.circuit import MAX_LABEL, short_label

    long = "the_reconstruction_error_of_layer_two"

    def f(x, y):
        return label(x * y, long) + x

    c = trace(f)(2.0, 3.0)
    page = c.to_html(layout=layout)
    shown = short_label(long)
    assert len(shown) == MAX_LABEL and shown.endswith("…") and long.startswith(shown[:-1])
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert f">{shown}<" in svg  # the label
    assert long in svg  # the tooltip (graphviz: xlink:title; the built-in layout: <title>)
    assert long in json.dumps(page_data(c), ensure_ascii=False)  # panel and table
    assert short_label("x * y") == "x * y"


def test_the_page_has_zoom_and_pan_controls():
    page = trace(examples.cs231n)(*examples.CS231N_ARGS).to_html(layout="simple")
    for control in ('id="zoom-in"', 'id="zoom-out"', 'id="zoom-fit"', 'id="zoom-home"'):
        assert control in page
    assert '"wheel"' in page and '"pointerdown"' in page
