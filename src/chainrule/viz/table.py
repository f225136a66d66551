"""``explain()``: the backward pass as a table in the textbook's terms (rich).

One row per node, output first (backward order): the node, its op, its forward
value, the gate's local gradients, the gradient arriving from upstream (for a
node used more than once, each contribution and their sum), and what the gate
passes down to each input (local x upstream).
"""

from __future__ import annotations

import io

from ..debug import nonfinite_marks
from . import _fmt

VALUE_STYLE = "green"
GRAD_STYLE = "red"
BORN_STYLE = "bold white on red"  # the node where a NaN/Inf was born (debug_nans' sense)
PASSED_STYLE = "dim"  # a node that only passed one on


def _rich():
    try:
        from rich import box
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("explain() needs the optional package 'rich': "
                          "pip install 'chainrule[viz]' (or pip install rich)") from e
    return box, Console, Table, Text


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _arg_suffix(n, k) -> str:
    """`` (arg 1)`` when one node feeds several arguments of ``n`` (``r * r``), else nothing."""
    a = n.inputs[k]
    return f" (arg {k})" if sum(1 for b in n.inputs if b.node == a.node) > 1 else ""


def _arg_label(comp, n, k) -> str:
    return comp.nodes[n.inputs[k].node].name + _arg_suffix(n, k)


def _d(name: str) -> str:
    return f"∂({name})" if any(c in name for c in " +-*/@") else f"∂{name}"


def local_cell(comp, n) -> str:
    lines = []
    for k, a in enumerate(n.inputs):
        if a.node is None:
            continue
        wrt = _d(comp.nodes[a.node].name) + _arg_suffix(n, k)
        lines.append(f"{_d(n.name)}/{wrt} = {_fmt.fmt_value(n.local_grads[k])}")
    return "\n".join(lines)


def upstream_cell(comp, n) -> str:
    if n.grad is None:
        outs = ", ".join(comp.nodes[i].name for i in comp.outputs)
        return f"0 (does not reach {outs})"
    if n.is_output and not n.contributions:
        return f"{_fmt.fmt_value(n.grad)} (seed)"
    if len(n.contributions) <= 1 and not n.is_output:
        return _fmt.fmt_value(n.grad)
    lines = []
    if n.is_output:
        lines.append("seed: 1")
    for c in n.contributions:
        src = comp.nodes[c.frm].name + _arg_suffix(comp.nodes[c.frm], c.argnum)
        lines.append(f"from {src}: {_fmt.fmt_value(c.value)}")
    lines = [lines[0]] + ["+ " + s for s in lines[1:]]
    lines.append(f"= {_fmt.fmt_value(n.grad)}")
    return "\n".join(lines)


def passed_cell(comp, n) -> str:
    if n.grad is None:
        return ""
    lines = []
    for k, a in enumerate(n.inputs):
        if a.node is None:
            continue
        c = n.passed_down[k]
        loc = n.local_grads[k] if k < len(n.local_grads) else None
        target = _arg_label(comp, n, k)
        if (_fmt.is_scalar(c) and _fmt.is_scalar(loc) and _fmt.is_scalar(n.grad)
                and _fmt.size_of(n.value) == 1):
            lines.append(f"{target}: {_paren(_fmt.num(_fmt.scalar(loc)))} × "
                         f"{_paren(_fmt.num(_fmt.scalar(n.grad)))} = {_fmt.fmt_value(c)}")
        else:
            lines.append(f"{target}: {_fmt.fmt_value(c)}")
    return "\n".join(lines)


def nonfinite_note(mark) -> str:
    """``NaN/Inf born here (backward)`` or ``NaN/Inf passed on``, for a node's mark (or "")."""
    if not mark:
        return ""
    born = [phase for phase, state in mark.items() if state == "born"]
    return f"NaN/Inf born here ({', '.join(born)})" if born else "NaN/Inf passed on"


def rows(comp) -> list[dict]:
    """The table's cells as strings, one dict per node in backward order."""
    out = []
    marks = nonfinite_marks(comp)
    for n in comp.backward_order():
        out.append({"node": n.name, "op": n.signature(comp.nodes), "value": _fmt.fmt_value(n.value),
                    "local": local_cell(comp, n), "upstream": upstream_cell(comp, n),
                    "passed": passed_cell(comp, n), "is_output": n.is_output, "is_input": n.is_input,
                    "nonfinite": marks.get(n.id)})
    return out


def build_table(comp):
    box, _Console, Table, Text = _rich()
    outs = ", ".join(comp.nodes[i].name for i in comp.outputs)
    table = Table(title=f"Backward pass of {comp.name}: gradients of {outs}, output first",
                  caption="local gradient: d gate / d input (VJP at ones)   "
                          "upstream: d output / d node, summed over every use   "
                          "passed down: local × upstream",
                  box=box.SIMPLE_HEAVY, show_lines=True, title_justify="left")
    table.add_column("node", style="bold", overflow="fold")
    table.add_column("op", overflow="fold")
    table.add_column("value", style=VALUE_STYLE, overflow="fold")
    table.add_column("local gradient", overflow="fold")
    table.add_column("upstream gradient", style=GRAD_STYLE, overflow="fold")
    table.add_column("gradient passed down", style=GRAD_STYLE, overflow="fold")
    for r in rows(comp):
        name = r["node"] + (" (output)" if r["is_output"] else "")
        mark = r["nonfinite"]
        if mark:
            name += "\n" + nonfinite_note(mark)
        style = None if not mark else BORN_STYLE if "born" in mark.values() else PASSED_STYLE
        table.add_row(Text(name), Text(r["op"]), Text(r["value"]), Text(r["local"]),
                      Text(r["upstream"]), Text(r["passed"]), style=style)
    return table


def explain(comp, file=None, width=None, color=None) -> None:
    _box, Console, _Table, _Text = _rich()
    kwargs = {}
    if color is False:
        kwargs["color_system"] = None
    elif color is True:
        kwargs["force_terminal"] = True
    console = Console(file=file, width=width, **kwargs)
    console.print(build_table(comp))


def explain_text(comp, width: int = 140) -> str:
    _box, Console, _Table, _Text = _rich()
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, force_terminal=False).print(build_table(comp))
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
