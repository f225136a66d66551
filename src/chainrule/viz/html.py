"""A self-contained HTML page that steps through the forward pass, then the backward pass.

One file, no network: the circuit is inline SVG (graphviz when the ``dot``
program is installed, else a simple built-in layered layout), the numbers are a
JSON island, and a few lines of script move a highlight from gate to gate. Every
piece of text from the computation (node names can come from user code) is
escaped on the way in and set with ``textContent`` in the page, never parsed as HTML.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ..debug import nonfinite_marks
from . import _fmt
from .circuit import (
    GRAD_COLOR,
    VALUE_COLOR,
    choose_collapsed,
    gate_symbol,
    have_dot,
    representative,
    short_label,
    to_svg,
)
from .table import local_cell, nonfinite_note, passed_cell, upstream_cell


def page_data(comp, rep=None) -> dict:
    """What the page's script reads: node texts, the steps, and which SVG element shows what."""
    rep = rep or {n.id: ("n", n.id) for n in comp.nodes}
    marks = nonfinite_marks(comp)  # born in red, passed on in grey, as each phase reaches them
    nodes = []
    for n in comp.nodes:
        nodes.append({
            "id": n.id, "name": n.name, "op": n.op, "sig": n.signature(comp.nodes),
            "input": n.is_input, "output": n.is_output, "el": f"{rep[n.id][0]}{rep[n.id][1]}",
            "value": _fmt.fmt_value(n.value), "local": local_cell(comp, n),
            "upstream": upstream_cell(comp, n), "passed": passed_cell(comp, n),
            "parents": n.parents, "reaches": n.grad is not None,
            "nonfinite": marks.get(n.id), "nan_note": nonfinite_note(marks.get(n.id)),
        })
    steps = [{"phase": "forward", "node": n.id} for n in comp.nodes]
    steps += [{"phase": "backward", "node": n.id} for n in comp.backward_order() if n.grad is not None]
    wires = []
    for v in comp.nodes:
        for k, a in enumerate(v.inputs):
            if a.node is not None:
                wires.append({"el": f"e{a.node}_{v.id}_{k}", "src": a.node, "dst": v.id})
    for nid in comp.outputs:
        wires.append({"el": f"e{nid}_out", "src": nid, "dst": None})
    outs = ", ".join(comp.nodes[i].name for i in comp.outputs)
    return {"name": comp.name, "outputs": outs, "nodes": nodes, "steps": steps, "wires": wires,
            "colors": {"value": VALUE_COLOR, "grad": GRAD_COLOR}}


def _script_json(data) -> str:
    """JSON that cannot end its <script> element early (``</script>`` inside a name)."""
    s = json.dumps(data, ensure_ascii=False)
    return (s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _graphviz_svg(comp, max_nodes: int) -> str:
    svg = to_svg(comp, max_nodes=max_nodes, title=False, constants=True)
    svg = re.sub(r"^.*?(?=<svg)", "", svg, flags=re.S)  # XML prolog, doctype, comments
    return svg


def simple_svg(comp) -> str:
    """A layered layout drawn by hand (used when graphviz's ``dot`` is not installed)."""
    e = html.escape
    depth: dict[int, int] = {}
    for n in comp.nodes:
        depth[n.id] = 0 if n.is_input else 1 + max((depth[p] for p in n.parents), default=0)
    for n in comp.nodes:  # an input sits just before its first consumer
        if n.is_input:
            uses = [depth[c] for c, _ in comp.consumers(n.id)]
            depth[n.id] = max(0, min(uses, default=1) - 1)
    last = max(depth.values()) + 1
    layers: dict[int, list[int]] = {}
    for n in comp.nodes:
        layers.setdefault(depth[n.id], []).append(n.id)
    for nid in comp.outputs:
        layers.setdefault(last, []).append(-1 - nid)
    dx, dy, x0, y0 = 170, 100, 60, 60
    pos: dict[int, tuple] = {}
    for d in sorted(layers):
        ids = layers[d]

        def bary(nid):  # order a layer by where its inputs sit (fewer crossings)
            ps = [pos[p][1] for p in (comp.nodes[nid].parents if nid >= 0 else [-1 - nid]) if p in pos]
            return sum(ps) / len(ps) if ps else 0.0
        ids.sort(key=bary)
        for i, nid in enumerate(ids):
            pos[nid] = (x0 + d * dx, y0 + i * dy)
    width = x0 * 2 + last * dx
    height = y0 * 2 + (max(len(v) for v in layers.values()) - 1) * dy
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
             'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>']

    def wire(el, a, b, vt, gt):
        (x1, y1), (x2, y2) = a, b
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        parts.append(f'<g id="{e(el)}" class="edge"><line x1="{x1 + 22}" y1="{y1}" x2="{x2 - 24}" '
                     f'y2="{y2}" stroke="#444" marker-end="url(#arrow)"/>'
                     f'<text x="{mx}" y="{my - 7}" text-anchor="middle" font-size="12" '
                     f'fill="{VALUE_COLOR}">{e(vt)}</text>'
                     f'<text x="{mx}" y="{my + 16}" text-anchor="middle" font-size="12" '
                     f'fill="{GRAD_COLOR}">{e(gt)}</text></g>')

    for v in comp.nodes:
        for k, a in enumerate(v.inputs):
            if a.node is None:
                continue
            u = comp.nodes[a.node]
            g = v.passed_down[k] if k < len(v.passed_down) else None
            wire(f"e{u.id}_{v.id}_{k}", pos[u.id], pos[v.id], _fmt.fmt_short(u.value),
                 _fmt.fmt_short(g) if g is not None else "")
    for nid in comp.outputs:
        n = comp.nodes[nid]
        wire(f"e{nid}_out", pos[nid], pos[-1 - nid], _fmt.fmt_short(n.value), _fmt.fmt_short(n.grad))
        x, y = pos[-1 - nid]
        parts.append(f'<g id="out{nid}" class="node"><title>{e(n.name)}</title>'
                     f'<text x="{x}" y="{y + 5}" text-anchor="middle" '
                     f'font-weight="bold" font-size="14">{e(short_label(n.name))}</text></g>')
    for n in comp.nodes:
        x, y = pos[n.id]
        if n.is_input:
            parts.append(f'<g id="n{n.id}" class="node"><title>{e(n.name)}</title>'
                         f'<text x="{x}" y="{y + 5}" text-anchor="middle" '
                         f'font-weight="bold" font-size="14">{e(short_label(n.name))}</text></g>')
            continue
        sym = gate_symbol(n)
        label = f'<text x="{x}" y="{y + 5}" text-anchor="middle" font-weight="bold" font-size="13">' \
                f'{e(sym)}</text>'
        if n.named:
            label += (f'<text x="{x}" y="{y + 36}" text-anchor="middle" font-size="11" fill="#555">'
                      f'{e(short_label(n.name))}</text>')
        parts.append(f'<g id="n{n.id}" class="node"><title>{e(n.name)} = {e(n.signature(comp.nodes))}</title>'
                     f'<ellipse cx="{x}" cy="{y}" rx="{22 if len(sym) <= 2 else 30}" ry="20" '
                     f'fill="#fafafa" stroke="#222"/>{label}</g>')
    parts.append("</svg>")
    return "\n".join(parts)


_CSS = """
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; margin: 0; color: #222; background: #fff; }
header { padding: 10px 16px; border-bottom: 1px solid #ddd; display: flex; flex-wrap: wrap;
         gap: 12px; align-items: center; }
header h1 { font-size: 18px; margin: 0 12px 0 0; }
button { font-size: 14px; padding: 4px 12px; cursor: pointer; }
#stepinfo { font-size: 14px; color: #555; min-width: 16em; }
main { display: flex; flex-wrap: wrap; gap: 16px; padding: 12px 16px; }
#diagram { flex: 3 1 480px; position: relative; height: 72vh; min-height: 320px; overflow: hidden;
           border: 1px solid #eee; border-radius: 6px; cursor: grab; touch-action: none;
           user-select: none; -webkit-user-select: none; }
#diagram.dragging { cursor: grabbing; }
#diagram svg { display: block; width: 100%; height: 100%; }
#zoombar { position: absolute; top: 6px; right: 6px; display: flex; gap: 4px; z-index: 1;
           align-items: center; background: rgba(255, 255, 255, .85); border-radius: 4px; padding: 2px; }
#zoombar button { font-size: 13px; padding: 2px 9px; }
#zoomlevel { font-size: 12px; color: #555; min-width: 3.5em; text-align: right; }
#panel { flex: 1 1 300px; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px;
         background: #fcfcfc; }
#panel h2 { font-size: 20px; margin: 4px 0; font-family: Menlo, Consolas, monospace; }
#phase { font-size: 12px; text-transform: uppercase; letter-spacing: .08em; font-weight: bold; }
#phase.forward { color: VALUE; } #phase.backward { color: GRAD; }
#panel dt { font-size: 12px; color: #666; margin-top: 8px; }
#panel dd { margin: 2px 0 0 0; font-family: Menlo, Consolas, monospace; white-space: pre-wrap;
            font-size: 13px; }
#cur-value { color: VALUE; } #cur-upstream, #cur-passed { color: GRAD; }
#cur-op { font-family: Menlo, Consolas, monospace; color: #444; white-space: pre-wrap; }
#note { font-size: 13px; color: #444; }
table { border-collapse: collapse; margin: 0 16px 24px 16px; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; text-align: left; }
td { font-family: Menlo, Consolas, monospace; white-space: pre-wrap; }
td.v { color: VALUE; } td.g { color: GRAD; }
tr.current { background: #fff6cc; }
.node.current ellipse, .node.current polygon, .node.current path { stroke: #f0a000; stroke-width: 3px; }
.node.current text { font-weight: bold; fill: #b36b00; }
.node.current ellipse { fill: #fff1c2; }
.edge.active path, .edge.active line { stroke: #f0a000; stroke-width: 2.5px; }
.edge .hidden, .hidden { visibility: hidden; }
.node.pending { opacity: .35; }
.node.nan-born ellipse, .node.nan-born polygon, .node.nan-born path { fill: #ff9d9d; stroke: #c00000; }
.node.nan-born text { fill: #8b0000; }
.node.nan-passed ellipse, .node.nan-passed polygon, .node.nan-passed path { fill: #d6d6d6; stroke: #888; }
.node.nan-passed text { fill: #666; }
tr.nan-born td { background: #ffd9d9; } tr.nan-passed td { color: #888; }
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("glassbox-data").textContent);
  var steps = data.steps, nodes = data.nodes, wires = data.wires;
  var step = 0;
  function $(id) { return document.getElementById(id); }
  function set(id, text) { $(id).textContent = text; }
  function el(id) { return document.getElementById(id); }
  // split every wire's labels into the forward value and the gradient by their colour
  wires.forEach(function (w) {
    var g = el(w.el); w.node = g; w.val = []; w.grad = [];
    if (!g) return;
    Array.prototype.forEach.call(g.querySelectorAll("text"), function (t) {
      var fill = (t.getAttribute("fill") || "").toLowerCase();
      if (fill === data.colors.value) w.val.push(t);
      else if (fill === data.colors.grad) w.grad.push(t);
    });
  });
  // the table, filled with textContent only
  var body = $("rows");
  nodes.forEach(function (n) {
    var tr = document.createElement("tr"); tr.id = "row" + n.id;
    [["name", ""], ["sig", ""], ["value", "v"], ["local", ""], ["upstream", "g"], ["passed", "g"]]
      .forEach(function (c) {
        var td = document.createElement("td"); td.className = c[1]; td.dataset.key = c[0];
        tr.appendChild(td);
      });
    body.appendChild(tr);
  });
  // ---- zoom and pan: the SVG's viewBox is the window onto the circuit ----
  // s: screen pixels per SVG unit; (ux, uy): the SVG point at the diagram's top-left corner.
  // The circuit starts fitted to the box, but never smaller than READABLE px for its smallest
  // text (a large circuit then opens at its first node, and the view follows the steps).
  var READABLE = 10.5;
  var box = $("diagram"), svg = box.querySelector("svg");
  var vb0 = null, unit = 1, minFont = 12, s = 1, ux = 0, uy = 0;
  if (svg) {
    var b = svg.viewBox && svg.viewBox.baseVal;
    if (b && b.width > 0) {
      vb0 = {x: b.x, y: b.y, w: b.width, h: b.height};
    } else {
      vb0 = {x: 0, y: 0, w: parseFloat(svg.getAttribute("width")) || 800,
             h: parseFloat(svg.getAttribute("height")) || 600};
    }
    var wattr = svg.getAttribute("width") || "";
    unit = /pt$/.test(wattr) ? (parseFloat(wattr) * 4 / 3) / vb0.w : 1;  // natural px per unit
    var sizes = [];
    svg.querySelectorAll("text").forEach(function (t) {
      var f = parseFloat(t.getAttribute("font-size"));
      if (f > 0) sizes.push(f);
    });
    if (sizes.length) minFont = Math.min.apply(null, sizes);
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  }
  function readable() { return READABLE / minFont; }
  function fitted() { return Math.min(box.clientWidth / vb0.w, box.clientHeight / vb0.h); }
  function limits() { var f = fitted(), r = readable(); return [Math.min(f, r) * 0.5, Math.max(f, r) * 8]; }
  function apply() {
    if (!svg) return;
    var w = box.clientWidth / s, h = box.clientHeight / s;
    svg.setAttribute("viewBox", [ux, uy, w, h].join(" "));
    box.dataset.scale = String(s);
    $("zoomlevel").textContent = Math.round(100 * s / unit) + "%";
  }
  function zoomAt(mx, my, target) {
    var lim = limits(), t = Math.max(lim[0], Math.min(lim[1], target));
    ux += mx / s - mx / t; uy += my / s - my / t; s = t; apply();
  }
  function zoomBy(f) { zoomAt(box.clientWidth / 2, box.clientHeight / 2, s * f); }
  function fit() {  // the whole circuit, centred
    s = fitted();
    ux = vb0.x - (box.clientWidth / s - vb0.w) / 2; uy = vb0.y - (box.clientHeight / s - vb0.h) / 2;
    apply();
  }
  function home() {  // fitted but readable, and not above the natural size unless needed
    var want = Math.max(readable(), Math.min(fitted(), unit));
    if (want <= fitted()) { fit(); s = want; }
    else s = want;
    ux = vb0.x - Math.max(0, (box.clientWidth / s - vb0.w) / 2);
    uy = vb0.y - Math.max(0, (box.clientHeight / s - vb0.h) / 2);
    apply();
  }
  function follow(g) {  // bring an element into view (centred) when it is outside it
    if (!g || !svg) return;
    var r = g.getBoundingClientRect(), c = box.getBoundingClientRect();
    if (r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom) return;
    ux += ((r.left + r.right) / 2 - (c.left + c.right) / 2) / s;
    uy += ((r.top + r.bottom) / 2 - (c.top + c.bottom) / 2) / s;
    apply();
  }
  if (svg) {
    box.addEventListener("wheel", function (e) {
      e.preventDefault();
      var c = box.getBoundingClientRect();
      zoomAt(e.clientX - c.left, e.clientY - c.top, s * Math.exp(-e.deltaY * 0.002));
    }, {passive: false});
    var drag = null;
    box.addEventListener("pointerdown", function (e) {
      if (e.button !== 0 || e.target.closest("#zoombar")) return;
      drag = {x: e.clientX, y: e.clientY, ux: ux, uy: uy};
      box.setPointerCapture(e.pointerId); box.classList.add("dragging");
    });
    box.addEventListener("pointermove", function (e) {
      if (!drag) return;
      ux = drag.ux - (e.clientX - drag.x) / s; uy = drag.uy - (e.clientY - drag.y) / s; apply();
    });
    function endDrag(e) {
      if (!drag) return;
      drag = null; box.classList.remove("dragging");
      if (box.hasPointerCapture(e.pointerId)) box.releasePointerCapture(e.pointerId);
    }
    box.addEventListener("pointerup", endDrag);
    box.addEventListener("pointercancel", endDrag);
    $("zoom-in").addEventListener("click", function () { zoomBy(1.25); });
    $("zoom-out").addEventListener("click", function () { zoomBy(0.8); });
    $("zoom-fit").addEventListener("click", fit);
    $("zoom-home").addEventListener("click", home);
    window.addEventListener("resize", apply);
    home();
  }
  function show(list, on) { list.forEach(function (t) { t.classList.toggle("hidden", !on); }); }
  function render() {
    var s = steps[step], cur = nodes[s.node], back = s.phase === "backward";
    var fwdDone = back ? nodes.length - 1 : s.node;
    var processed = {};
    if (back) for (var i = nodes.length; i <= step; i++) processed[steps[i].node] = true;
    document.querySelectorAll(".current").forEach(function (x) { x.classList.remove("current"); });
    document.querySelectorAll(".edge.active").forEach(function (x) { x.classList.remove("active"); });
    var nan = {};  // NaN/Inf marks of the phases reached so far: born (red), passed on (grey)
    nodes.forEach(function (n) {
      var g = el(n.el);
      if (g) g.classList.toggle("pending", n.id > fwdDone);
      var tr = $("row" + n.id), m = n.nonfinite || {}, seen = [];
      if (m.forward && n.id <= fwdDone) seen.push(m.forward);
      if (m.backward && processed[n.id]) seen.push(m.backward);
      nan[n.id] = seen.indexOf("born") >= 0 ? "born" : seen.length ? "passed" : "";
      [g, tr].forEach(function (x) {
        if (!x) return;
        x.classList.toggle("nan-born", nan[n.id] === "born");
        x.classList.toggle("nan-passed", nan[n.id] === "passed");
      });
      tr.querySelectorAll("td").forEach(function (td) {
        var k = td.dataset.key, txt = "";
        if (k === "name") txt = n.name + (n.output ? " (output)" : "");
        else if (k === "sig") txt = n.sig;
        else if (k === "value" || k === "local") txt = n.id <= fwdDone ? n[k] : "";
        else if (processed[n.id]) txt = n[k];
        td.textContent = txt;
      });
    });
    wires.forEach(function (w) {
      show(w.val, w.src <= fwdDone);
      show(w.grad, back && (w.dst === null || processed[w.dst] === true));
      if (w.node && (w.dst === s.node || (!back && w.src === s.node && w.dst === null)))
        w.node.classList.add("active");
    });
    var g = el(cur.el); if (g) { g.classList.add("current"); follow(g); }
    $("row" + cur.id).classList.add("current");
    var ph = $("phase"); ph.className = s.phase;
    ph.textContent = (back ? "backward pass" : "forward pass");
    set("cur-name", cur.name);
    set("cur-op", cur.input ? "input" : cur.name + " = " + cur.sig);
    set("cur-value", cur.value);
    set("cur-local", cur.input ? "(an input: no gate)" : cur.local);
    set("cur-upstream", back ? cur.upstream : "(the backward pass has not reached it yet)");
    set("cur-passed", back ? (cur.input ? "(an input: nothing below it)" : cur.passed)
                           : "(the backward pass has not reached it yet)");
    set("note", back
      ? (cur.output ? "The backward pass starts at the output with gradient 1. "
                    : "All gradients from above have arrived (summed over every use). ")
        + (cur.input ? "This is the gradient of " + data.outputs + " with respect to this input."
                     : "The gate multiplies it by its local gradients and passes the results down.")
      : (cur.input ? "An input enters the circuit." :
         "The gate computes its output and, on the side, its local gradient with respect to each input."));
    if (nan[cur.id]) $("note").textContent += " " + cur.nan_note + ".";
    set("stepinfo", "step " + (step + 1) + " of " + steps.length + " (" + s.phase + ": " + cur.name + ")");
    $("slider").value = String(step);
    $("prev").disabled = step === 0; $("next").disabled = step === steps.length - 1;
    document.body.dataset.step = String(step);
  }
  function go(k) { step = Math.max(0, Math.min(steps.length - 1, k)); render(); }
  $("prev").addEventListener("click", function () { go(step - 1); });
  $("next").addEventListener("click", function () { go(step + 1); });
  $("reset").addEventListener("click", function () { go(0); });
  $("backward").addEventListener("click", function () { go(nodes.length); });
  $("slider").max = String(steps.length - 1);
  $("slider").addEventListener("input", function (e) { go(parseInt(e.target.value, 10)); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") go(step + 1);
    else if (e.key === "ArrowLeft") go(step - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(steps.length - 1);
    else if ((e.key === "+" || e.key === "=") && svg) zoomBy(1.25);
    else if (e.key === "-" && svg) zoomBy(0.8);
    else if (e.key === "0" && svg) fit();
  });
  set("fname", data.name);
  go(0);
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>glass box: <span id="fname"></span></h1>
<button id="reset" type="button">&#x21E4; start</button>
<button id="prev" type="button">&#x25C0; back</button>
<button id="next" type="button">next &#x25B6;</button>
<button id="backward" type="button">jump to backward pass</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
<span id="stepinfo"></span>
</header>
<main>
<section id="diagram" aria-label="circuit (drag to pan, wheel to zoom)">
<div id="zoombar">
<span id="zoomlevel"></span>
<button id="zoom-out" type="button" title="zoom out (-)" aria-label="zoom out">&#x2212;</button>
<button id="zoom-in" type="button" title="zoom in (+)" aria-label="zoom in">+</button>
<button id="zoom-fit" type="button" title="the whole circuit (0)">fit</button>
<button id="zoom-home" type="button" title="readable size">reset</button>
</div>
{svg}
</section>
<aside id="panel">
<div id="phase"></div>
<h2 id="cur-name"></h2>
<div id="cur-op"></div>
<dl>
<dt>value (forward)</dt><dd id="cur-value"></dd>
<dt>local gradient</dt><dd id="cur-local"></dd>
<dt>upstream gradient (arriving from the output side)</dt><dd id="cur-upstream"></dd>
<dt>gradient passed down (local &#xD7; upstream)</dt><dd id="cur-passed"></dd>
</dl>
<p id="note"></p>
</aside>
</main>
<table aria-label="nodes">
<thead><tr><th>node</th><th>op</th><th>value</th><th>local gradient</th><th>upstream gradient</th>
<th>gradient passed down</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script type="application/json" id="glassbox-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""


def to_html(comp, path=None, *, layout: str = "auto", max_nodes: int = 150) -> str:
    """The step-through page as a string; also written to ``path`` when given.

    ``layout``: ``"graphviz"`` (needs ``dot``), ``"simple"`` (built in), or ``"auto"``
    (graphviz when ``dot`` is installed).
    """
    if layout not in ("auto", "graphviz", "simple"):
        raise ValueError(f"layout must be 'auto', 'graphviz' or 'simple', not {layout!r}")
    use_dot = layout == "graphviz" or (layout == "auto" and have_dot())
    if use_dot:
        svg = _graphviz_svg(comp, max_nodes)
        rep = representative(comp, choose_collapsed(comp, max_nodes))
    else:
        svg = simple_svg(comp)
        rep = None
    css = _CSS.replace("VALUE", VALUE_COLOR).replace("GRAD", GRAD_COLOR)
    page = _PAGE.format(title=html.escape(f"glass box: {comp.name}"), css=css, svg=svg,
                        data=_script_json(page_data(comp, rep)), js=_JS)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(page, encoding="utf-8")
    return page
