"""Circuit diagrams in CS231n's style, drawn with graphviz.

Inputs enter on the left, each gate is a circle with its op, and every wire
carries two numbers: the forward value (green, above) and the gradient flowing
back along that wire (red, below). A node used several times has one wire per
use, each with its own gradient; the node's total is their sum.

Large graphs collapse: function calls, loops (and their iterations) and ``scope``
blocks are groups, and the outermost groups are drawn as single labelled boxes
until the picture has at most ``max_nodes`` items; groups that fit stay open,
drawn as dashed clusters around their gates.
"""

from __future__ import annotations

import html
from collections import deque
from pathlib import Path

from ..rules import elementwise as _ew
from ..rules.linalg import matmul_p
from ..rules.linear import getitem_p, sum_p, transpose_p
from . import _fmt

VALUE_COLOR = "#2e7d32"
GRAD_COLOR = "#c62828"
CONST_COLOR = "#757575"

# The gate drawn for a primitive, keyed by the Primitive object (a gate without an entry
# shows its primitive's name).
SYMBOLS = {_ew.add: "+", _ew.subtract: "−", _ew.multiply: "*", _ew.divide: "/", _ew.negative: "−",
           _ew.power_p: "**", _ew.integer_pow: "**", matmul_p: "@", sum_p: "Σ", _ew.maximum: "max",
           _ew.minimum: "min", _ew.square: "x²", _ew.sqrt: "√", _ew.reciprocal: "1/x",
           transpose_p: "·ᵀ", getitem_p: "[ ]"}


def _graphviz():
    try:
        import graphviz
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("circuit diagrams need the optional package 'graphviz': "
                          "pip install 'chainrule[viz]' (and the graphviz program: "
                          "apt-get install graphviz, or brew install graphviz)") from e
    return graphviz


def have_dot() -> bool:
    """Whether the graphviz ``dot`` program is installed (needed to render, not to build)."""
    import shutil

    return shutil.which("dot") is not None


# Names longer than this are cut short in the picture (a node named after its source text, a
# long label); the full text is in the node's tooltip, the panel and the table.
MAX_LABEL = 18


def short_label(text, limit: int = MAX_LABEL) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when anything was cut."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def esc(s) -> str:
    """Text for a graphviz HTML-like label (user names can hold anything, ``<script>`` included)."""
    return html.escape(str(s), quote=True)


def wire_label(value_text: str, grad_text: str | None) -> str:
    parts = [f'<font color="{VALUE_COLOR}">{esc(value_text)}</font>']
    if grad_text:
        parts.append(f'<font color="{GRAD_COLOR}">{esc(grad_text)}</font>')
    return "<" + "<br/>".join(parts) + ">"


# ------------------------------------------------------------------ collapsing

def subtree_sizes(comp) -> dict[int, int]:
    sizes: dict[int, int] = {}

    def size(gid):
        if gid not in sizes:
            g = comp.groups[gid]
            sizes[gid] = len(g.nodes) + sum(size(c) for c in g.children)
        return sizes[gid]

    for g in comp.groups:
        size(g.id)
    return sizes


def choose_collapsed(comp, max_nodes: int) -> set[int]:
    """The groups drawn as single boxes: open the outermost first while the picture fits."""
    if len(comp.nodes) <= max_nodes or not comp.groups:
        return set()
    sizes = subtree_sizes(comp)
    top = [g.id for g in comp.groups if g.parent is None and sizes[g.id]]
    ungrouped = sum(1 for n in comp.nodes if n.group is None)
    count = ungrouped + len(top)
    collapsed = set(top)
    queue = deque(sorted(top, key=lambda g: sizes[g]))
    while queue:
        gid = queue.popleft()
        g = comp.groups[gid]
        kids = [c for c in g.children if sizes[c]]
        delta = len(g.nodes) + len(kids) - 1
        if count + delta <= max_nodes:
            collapsed.discard(gid)
            collapsed.update(kids)
            count += delta
            queue.extend(sorted(kids, key=lambda c: sizes[c]))
    return collapsed


def representative(comp, collapsed: set[int]):
    """node id -> what stands for it in the picture: ``("n", id)`` or ``("g", group id)``."""
    rep = {}
    for n in comp.nodes:
        r = ("n", n.id)
        gid = n.group
        while gid is not None:
            if gid in collapsed:
                r = ("g", gid)
            gid = comp.groups[gid].parent
        rep[n.id] = r
    return rep


def group_titles(comp) -> dict[int, str]:
    """Labels that tell repeats apart: ``layer (2 of 3)``."""
    by_parent: dict = {}
    for g in comp.groups:
        by_parent.setdefault((g.parent, g.kind, g.name), []).append(g.id)
    titles = {}
    for (_, kind, _), ids in by_parent.items():
        for k, gid in enumerate(ids):
            g = comp.groups[gid]
            title = g.label
            if kind in ("call", "scope") and len(ids) > 1 and g.label == g.name:
                title = f"{g.label} ({k + 1} of {len(ids)})"
            if kind == "loop":
                title = f"{g.label}, {len(g.children)} iteration{'s' if len(g.children) != 1 else ''}"
            titles[gid] = title
    return titles


# ------------------------------------------------------------------ the picture

def gate_symbol(n) -> str:
    """The text inside node ``n``'s gate: its symbol, or its primitive's name."""
    if n.prim is _ew.integer_pow and "n" in n.params:  # the exponent is a parameter, not a wire
        return f"**{n.params['n']}"
    return SYMBOLS.get(n.prim, n.op)


def _gate_label(n) -> tuple[str, str]:
    text = gate_symbol(n)
    sym = SYMBOLS.get(n.prim)
    # a circle only for a bare symbol: one sized to fit a name under it would be huge
    shape = ("circle" if sym is not None and (len(sym) <= 2 or n.prim is getitem_p)
             and (not n.named or len(n.name) <= 3) else "ellipse")
    inner = f"<b>{esc(text)}</b>"
    if n.named:
        inner += f'<br/><font point-size="9" color="#555555">{esc(short_label(n.name))}</font>'
    return "<" + inner + ">", shape


def circuit(comp, *, max_nodes: int = 60, rankdir: str = "LR", constants: bool = True,
            title: bool = True):
    """The circuit as a ``graphviz.Digraph`` (node ids ``n<id>``, group boxes ``g<id>``)."""
    graphviz = _graphviz()
    collapsed = choose_collapsed(comp, max_nodes)
    rep = representative(comp, collapsed)
    titles = group_titles(comp)
    sizes = subtree_sizes(comp) if comp.groups else {}

    dot = graphviz.Digraph(name="circuit", graph_attr={
        "rankdir": rankdir, "splines": "spline", "nodesep": "0.35", "ranksep": "0.9",
        "fontname": "Helvetica", "bgcolor": "white", "pad": "0.2"},
        node_attr={"fontname": "Helvetica", "fontsize": "12"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.6",
                   "color": "#444444"})
    if title:
        outs = ", ".join(comp.nodes[i].name for i in comp.outputs)
        dot.attr(label="<" + esc(f"{comp.name}: forward values (green) above each wire, "
                                 f"gradients of {outs} (red) below") + ">",
                 labelloc="t", fontsize="12")

    # where each visible item goes: the innermost open group, as a cluster
    def open_parent(gid):
        while gid is not None and gid in collapsed:
            gid = comp.groups[gid].parent
        return gid

    stmts: dict = {None: []}  # open group id (None = top level) -> [(kind, args)]

    def place(gid, item):
        stmts.setdefault(gid, []).append(item)

    for n in comp.nodes:
        r = rep[n.id]
        if r[0] == "g":
            continue
        attrs = {"id": f"n{n.id}", "tooltip": graphviz.nohtml(f"{n.name} = {n.signature(comp.nodes)}")}
        if n.is_input:
            attrs.update(shape="plaintext", label="<<b>" + esc(short_label(n.name)) + "</b>>")
            place(None, ("node", f"n{n.id}", attrs))
            continue
        label, shape = _gate_label(n)
        attrs.update(shape=shape, label=label, style="filled", fillcolor="#fafafa",
                     width="0.45", margin="0.04")
        place(open_parent(n.group), ("node", f"n{n.id}", attrs))
    shown_groups = {r[1] for r in rep.values() if r[0] == "g"}
    for gid in sorted(shown_groups):
        parent = open_parent(comp.groups[gid].parent)
        k = sizes.get(gid, 0)
        place(parent, ("node", f"g{gid}", {
            "id": f"g{gid}", "shape": "box", "style": "rounded,filled", "fillcolor": "#eef3fb",
            "label": "<<b>" + esc(titles[gid]) + "</b><br/>"
                     f'<font point-size="9">{k} op{"s" if k != 1 else ""}</font>>',
            "tooltip": graphviz.nohtml(titles[gid])}))

    def emit(g, gid):
        for _kind, name, attrs in stmts.get(gid, []):
            g.node(name, **attrs)
        for child in (comp.groups[gid].children if gid is not None
                      else [x.id for x in comp.groups if x.parent is None]):
            if child in collapsed or child in shown_groups or not sizes.get(child):
                continue
            with g.subgraph(name=f"cluster_{child}") as sub:
                sub.attr(label="<" + esc(titles[child]) + ">", style="dashed,rounded",
                         color="#8899aa", fontsize="10", id=f"cluster{child}")
                emit(sub, child)

    emit(dot, None)

    # wires
    def rid(r):
        return f"{'n' if r[0] == 'n' else 'g'}{r[1]}"

    seen: dict = {}
    for v in comp.nodes:
        for k, a in enumerate(v.inputs):
            rv = rep[v.id]
            if a.node is None:
                if constants and rv[0] == "n":
                    cname = f"c{v.id}_{k}"
                    dot.node(cname, label="<" + esc(_fmt.fmt_short(a.value)) + ">", shape="plaintext",
                             fontcolor=CONST_COLOR, fontsize="10", id=cname)
                    dot.edge(cname, f"n{v.id}", color=CONST_COLOR, style="dashed", id=f"w{cname}")
                continue
            ru = rep[a.node]
            if ru == rv:
                continue
            u = comp.nodes[a.node]
            key = (rid(ru), rid(rv))
            if ru[0] == "n" and rv[0] == "n":
                key += (k,)  # x * x: two wires, each with its own gradient
            if key in seen:
                seen[key][1] += 1
                continue
            grad = v.passed_down[k] if k < len(v.passed_down) else None
            seen[key] = [(u, v, k, grad), 1]
    for (su, sv, *_), ((u, v, k, grad), count) in seen.items():
        vt = _fmt.fmt_short(u.value)
        gt = _fmt.fmt_short(grad) if grad is not None else ""
        if count > 1:
            vt, gt = f"{count} wires", ""
        dot.edge(su, sv, label=wire_label(vt, gt), id=f"e{u.id}_{v.id}_{k}")
    for nid in comp.outputs:
        n = comp.nodes[nid]
        oname = f"out{nid}"
        dot.node(oname, label="<<b>" + esc(short_label(n.name)) + "</b>>", shape="plaintext", id=oname,
                 tooltip=graphviz.nohtml(n.name))
        dot.edge(rid(rep[nid]), oname, label=wire_label(_fmt.fmt_short(n.value), _fmt.fmt_short(n.grad)),
                 id=f"e{nid}_out")
    return dot


def to_svg(comp, **kwargs) -> str:
    """The circuit as SVG text (needs the graphviz ``dot`` program)."""
    return _pipe(circuit(comp, **kwargs), "svg").decode("utf-8")


def _pipe(dot, fmt: str) -> bytes:
    graphviz = _graphviz()
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound as e:
        raise RuntimeError("rendering needs the graphviz 'dot' program: apt-get install graphviz "
                           "(Debian/Ubuntu) or brew install graphviz (macOS)") from e


def render(comp, path, format: str | None = None, **kwargs) -> Path:  # noqa: A002
    """Write the circuit to ``path``; the format comes from the suffix (``.svg``, ``.png``, ``.pdf``)."""
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower() or "svg"
    if fmt not in ("svg", "png", "pdf", "dot", "gv"):
        raise ValueError(f"unsupported circuit format {fmt!r}: use svg, png, pdf or dot")
    dot = circuit(comp, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("dot", "gv"):
        path.write_text(dot.source, encoding="utf-8")
    else:
        if fmt == "png":
            dot.attr(dpi="144")
        path.write_bytes(_pipe(dot, fmt))
    return path
