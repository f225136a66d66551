"""``trace(f)(*args)``: the recorded computation of ``f`` as data, forward values and backward deltas.

The glass box adds no rules and no sweep of its own. It runs ``f`` on the core's
reverse trace, reads the Wengert list (``ReverseTrace.tape``) once to make one
node per recorded value, and runs the engine's own backward pass
(``ReverseTrace.backward`` -> :func:`chainrule.core.tape.pull`) with an observer
that keeps what the engine throws away: the gradient arriving at every node, what
each gate passes to each input, and, for a node used several times (fan-out), the
separate contributions that add up to its gradient.

The *local gradient* of a gate with respect to an input is the primitive's VJP
applied to a cotangent of ones. For scalars that is exactly the partial derivative
(the multiply gate ``f = q z`` has local gradients ``z`` and ``q``); for arrays it is
``sum_i d out_i / d in``, the gradient of ``sum(out)``. It too comes from ``pull``, run
over the gate's one record.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.primitive import Box
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.tape import pull
from ..core.trace import ReverseTrace
from ..frontends.tensor import Tensor
from ..rules.linear import getitem_p
from . import _fmt
from . import circuit as _circuit
from . import html as _html
from . import table as _table
from ._structure import Group, Recorder, active, node_of

__all__ = ["trace", "label", "scope", "Computation", "Node", "Arg", "Contribution", "Group"]

# Arrays with more elements than this are kept only as their summary statistics.
KEEP_ELEMENTS = 1_000_000


@dataclass
class Arg:
    """One positional argument of an op: a node (``node`` is its id) or a constant (``value``)."""

    node: int | None
    value: Any = None

    @property
    def is_const(self) -> bool:
        return self.node is None


@dataclass
class Contribution:
    """A gradient sent down one wire: ``frm`` (the consumer) passed ``value`` to its argument ``argnum``."""

    frm: int
    argnum: int
    value: Any


@dataclass
class Node:
    """One value of the computation: an input, or the output of one executed primitive.

    ``grad`` is the gradient arriving at the node (the textbook's upstream gradient,
    ``d out / d node``; ``None`` when the node does not reach the output), the sum of
    ``contributions``, one per wire leaving it. For an op, ``local_grads[k]`` is the
    local gradient with respect to argument ``k`` and ``passed_down[k]`` the gradient
    it sends to that argument (``None`` for constants).

    ``prim`` is the Primitive object that made the node (``None`` for an input): per-primitive
    data in the views (gate symbols) is keyed by it; ``op`` is only its name, for display.
    A multiple-result primitive (``slogdet``) makes one node per result; its VJP runs once on
    the results' gradients together, so what it passes down is shown on the first result that
    receives a gradient.
    """

    id: int
    name: str
    op: str  # "input", or the primitive's name
    inputs: list[Arg] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    value: Any = None
    stats: dict = field(default_factory=dict)
    local_grads: list = field(default_factory=list)
    grad: Any = None
    contributions: list[Contribution] = field(default_factory=list)
    passed_down: list = field(default_factory=list)
    group: int | None = None
    is_output: bool = False
    named: bool = False  # the name came from the user (signature, variable, label)
    output_index: int | None = None  # which result of a multiple-result primitive
    doc: str | None = None
    prim: Any = field(default=None, repr=False, compare=False)
    _record: Any = field(default=None, repr=False, compare=False)

    @property
    def is_input(self) -> bool:
        return self.op == "input"

    @property
    def shape(self) -> tuple:
        return tuple(self.stats.get("shape", ()))

    @property
    def parents(self) -> list[int]:
        return [a.node for a in self.inputs if a.node is not None]

    def signature(self, nodes) -> str:
        """``multiply(q, z)``: the op with its arguments by name (constants by value)."""
        if self.is_input:
            return "input"
        suffix = "" if self.output_index is None else f"[{self.output_index}]"
        if self.prim is getitem_p and self.inputs and self.inputs[0].node is not None:
            idx = self.params["idx"] if "idx" in self.params else (
                self.inputs[1].value if len(self.inputs) == 2 else None)
            return f"{nodes[self.inputs[0].node].name}[{_fmt.fmt_index(idx)}]"
        args = [nodes[a.node].name if a.node is not None else _fmt.fmt_const(a.value)
                for a in self.inputs]
        args += [f"{k}={_fmt.fmt_const(v)}" for k, v in self.params.items()
                 if v is not None and v is not False]
        return f"{self.op}({', '.join(args)}){suffix}"


class Computation:
    """What ``trace(f)(*args)`` returns: every node in execution order, with its numbers.

    ``nodes`` (execution order), ``inputs`` / ``outputs`` (node ids), ``groups``
    (function calls, loops, scopes), ``value`` (what ``f`` returned, as plain arrays),
    ``node("q")`` or ``comp["q"]`` to look a node up by name, ``grads`` (input name ->
    gradient). Views: :meth:`explain` (a table), :meth:`circuit` / :meth:`render`
    (graphviz), :meth:`to_html` (a step-through page), :meth:`to_dict` (JSON-ready).
    """

    def __init__(self, name, nodes, inputs, outputs, groups, value):
        self.name = name
        self.nodes: list[Node] = nodes
        self.inputs: list[int] = inputs
        self.outputs: list[int] = outputs
        self.groups: list[Group] = groups
        self.value = value
        self._by_name = {n.name: n for n in nodes}

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __getitem__(self, key) -> Node:
        return self.node(key)

    def node(self, key) -> Node:
        if isinstance(key, int):
            return self.nodes[key]
        try:
            return self._by_name[key]
        except KeyError:
            raise KeyError(f"no node named {key!r}; nodes are {sorted(self._by_name)}") from None

    @property
    def grads(self) -> dict:
        """Input name -> gradient of the (seeded) output, ``None`` where it does not depend on it."""
        return {self.nodes[i].name: self.nodes[i].grad for i in self.inputs}

    def backward_order(self) -> list[Node]:
        return self.nodes[::-1]

    def consumers(self, nid: int) -> list[tuple[int, int]]:
        """``(consumer id, argnum)`` for every wire leaving node ``nid``, in execution order."""
        return [(n.id, k) for n in self.nodes for k, a in enumerate(n.inputs) if a.node == nid]

    def to_dict(self, max_elements: int = 64) -> dict:
        """Plain data (JSON-serialisable): arrays with more than ``max_elements`` entries as ``null``
        plus their statistics in ``stats``."""
        def arr(x):
            return _fmt.jsonable(x, max_elements)

        nodes = []
        for n in self.nodes:
            nodes.append({
                "id": n.id, "name": n.name, "op": n.op, "is_input": n.is_input,
                "is_output": n.is_output, "group": n.group,
                "inputs": [{"node": a.node} if a.node is not None
                           else {"const": _fmt.fmt_const(a.value)} for a in n.inputs],
                "params": {k: _fmt.fmt_const(v) for k, v in n.params.items()},
                "value": arr(n.value), "stats": n.stats,
                "local_grads": [arr(g) for g in n.local_grads],
                "grad": arr(n.grad),
                "grad_stats": None if n.grad is None else _fmt.stats(n.grad),
                "passed_down": [arr(g) for g in n.passed_down],
                "contributions": [{"from": c.frm, "argnum": c.argnum, "value": arr(c.value)}
                                  for c in n.contributions],
            })
        return {"name": self.name, "inputs": list(self.inputs), "outputs": list(self.outputs),
                "nodes": nodes, "groups": [g.to_dict() for g in self.groups]}

    def to_json(self, max_elements: int = 64, **kwargs) -> str:
        return json.dumps(self.to_dict(max_elements), **kwargs)

    # Views live in their own modules (their optional dependencies, rich and graphviz, are
    # imported there, lazily, when a view is first drawn).
    def explain(self, file=None, width: int | None = None, color: bool | None = None) -> None:
        """Print the backward pass as a table (needs ``rich``): one row per node, output first."""
        _table.explain(self, file=file, width=width, color=color)

    def explain_text(self, width: int = 140) -> str:
        """The :meth:`explain` table as plain text."""
        return _table.explain_text(self, width=width)

    def circuit(self, **kwargs):
        """A ``graphviz.Digraph`` of the circuit (values above the wires, gradients below)."""
        return _circuit.circuit(self, **kwargs)

    def render(self, path, format: str | None = None, **kwargs):  # noqa: A002
        """Write the circuit to ``path`` (``.svg`` or ``.png``; needs the graphviz ``dot`` program)."""
        return _circuit.render(self, path, format=format, **kwargs)

    def to_html(self, path=None, **kwargs) -> str:
        """A self-contained HTML page stepping through the forward and backward pass."""
        return _html.to_html(self, path, **kwargs)

    def _repr_svg_(self):  # Jupyter
        try:
            return self.circuit()._repr_image_svg_xml()
        except Exception:  # no graphviz: Jupyter falls back to repr
            return None

    def __repr__(self) -> str:
        outs = ", ".join(self.nodes[i].name for i in self.outputs)
        return (f"<Computation {self.name}: {len(self.inputs)} inputs, "
                f"{len(self.nodes) - len(self.inputs)} ops, output {outs}>")


# ------------------------------------------------------------------ user API

def label(x, name: str):
    """Name the value ``x`` in the glass box (``q = label(x + y, "q")``); returns ``x`` unchanged.

    Outside ``trace`` it does nothing; it never changes a value or a derivative
    (no node is added to the tape). The first label given to a value wins.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"label name must be a non-empty string, got {name!r}")
    rec = active()
    if rec is not None:
        node = rec.node_of(x)
        if node is not None:
            rec.labels.setdefault(node, name)
    return x


class scope:
    """``with scope("encoder"): ...``: group everything computed inside under one labelled box.

    Groups nest; in large circuits a group is drawn collapsed to a single box.
    Outside ``trace`` it does nothing.
    """

    def __init__(self, name: str):
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope name must be a non-empty string, got {name!r}")
        self.name = name
        self._rec = None
        self._entry = None

    def __enter__(self):
        self._rec = active()
        if self._rec is not None:
            self._entry = self._rec.push_scope(self.name)
        return self

    def __exit__(self, *exc):
        if self._rec is not None:
            self._rec.pop_scope(self._entry)
        return False


def trace(f: Callable, *, wrt=None, seed=None, structure: bool = True,
          keep_elements: int = KEEP_ELEMENTS, name: str | None = None):
    """``trace(f)(*args, **kwargs)`` runs ``f`` and returns its :class:`Computation`.

    Inputs are the floating-point leaves of the positional arguments (Python numbers
    count as floats; integer and boolean arrays, strings and keyword arguments are
    constants); ``wrt`` (argument names or positions) restricts them. Each is named
    after its parameter (``x``; ``params['W1']`` for a leaf of a dict). The backward
    pass is seeded with ``seed`` (default: ones, i.e. ``d f`` for a scalar ``f`` and
    ``d sum(f)`` otherwise).

    ``structure=True`` follows function calls, loops and local variable names while
    ``f`` runs (a profile hook, removed afterwards) to name and group nodes; set it to
    ``False`` for the plain tape. Arrays larger than ``keep_elements`` are kept only as
    statistics.
    """
    if not callable(f):
        raise TypeError(f"trace() needs a function, got {type(f).__name__}")

    @functools.wraps(f)
    def run(*args, **kwargs) -> Computation:
        return _run(f, args, kwargs, wrt=wrt, seed=seed, structure=structure,
                    keep=keep_elements, name=name)

    return run


def _param_names(f, nargs: int) -> list[str]:
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return [f"arg{i}" for i in range(nargs)]
    names: list[str] = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}[{i}]" for i in range(nargs - len(names))]
            break
    names += [f"arg{i}" for i in range(len(names), nargs)]
    return names[:nargs]


def _leaf_paths(tree, prefix: str) -> list[str]:
    """Names of the leaves in ``tree_flatten`` order: ``params['W1']``, ``layers[0]``, ``p.w``."""
    out: list[str] = []

    def walk(t, p):
        if isinstance(t, dict):
            for k in sorted(t):
                walk(t[k], f"{p}[{k!r}]")
        elif type(t) in (list, tuple):
            for i, c in enumerate(t):
                walk(c, f"{p}[{i}]")
        elif isinstance(t, tuple) and hasattr(type(t), "_fields"):
            for fname, c in zip(type(t)._fields, t, strict=True):
                walk(c, f"{p}.{fname}")
        elif t is None:
            return
        else:
            out.append(p)

    walk(tree, prefix)
    return out


def _differentiable(x, forced: bool) -> bool:
    """Float leaves are inputs; integer arrays only when named in ``wrt`` (labels stay constants)."""
    if isinstance(x, Box):
        return True
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (float, int)):
        return True  # Python numbers are a formula's inputs: -2 means -2.0
    if isinstance(x, (np.ndarray, np.generic)):
        if np.iscomplexobj(x):
            raise NotImplementedError(f"complex input (dtype {x.dtype}) is not supported yet by chainrule")
        return x.dtype.kind == "f" or (forced and x.dtype.kind in "iu")
    return False


def _as_float(x):
    if isinstance(x, Box):
        return x
    if isinstance(x, (int, float)):
        return float(x)
    a = np.asarray(x)
    return x if a.dtype.kind == "f" else a.astype(float)


def _select(wrt, names: list[str]) -> set[int] | None:
    if wrt is None:
        return None
    items = (wrt,) if isinstance(wrt, (int, str)) else tuple(wrt)
    out = set()
    for w in items:
        if isinstance(w, int):
            if not -len(names) <= w < len(names):
                raise ValueError(f"wrt={wrt!r}: position {w} out of range for {len(names)} arguments")
            out.add(w % len(names))
        elif w in names:
            out.add(names.index(w))
        else:
            raise ValueError(f"wrt={wrt!r}: {w!r} is not an argument name ({', '.join(names)})")
    return out


def _fname(f, name) -> str:
    if name:
        return name
    n = getattr(f, "__name__", None) or type(f).__name__
    return "f" if n == "<lambda>" else n


def _run(f, args, kwargs, *, wrt, seed, structure, keep, name) -> Computation:
    fname = _fname(f, name)
    argnames = _param_names(f, len(args))
    chosen = _select(wrt, argnames)

    trace_ = ReverseTrace()
    nodes: list[Node] = []
    node_index: dict[int, int] = {}  # tape node id -> position in nodes
    call_args = []
    for i, (a, an) in enumerate(zip(args, argnames, strict=True)):
        leaves, td = tree_flatten(a)
        paths = _leaf_paths(a, an)
        if chosen is not None and i not in chosen:
            call_args.append(a)
            continue
        new = []
        for leaf, p in zip(leaves, paths, strict=True):
            if isinstance(leaf, Tensor):
                # a Tensor argument: trace its value, hand f a Tensor around the traced input
                val = _fmt.plain(leaf.value)
                if np.asarray(val).dtype.kind not in "fiu":
                    new.append(leaf)
                    continue
                box = trace_.new_input(_as_float(val))
                node_index[box._node] = len(nodes)
                nodes.append(Node(id=len(nodes), name=p, op="input", value=_fmt.plain(box._value),
                                  named=True))
                new.append(Tensor(box, requires_grad=leaf.requires_grad))
                continue
            if _differentiable(leaf, forced=chosen is not None):
                leaf = _as_float(leaf)
                box = trace_.new_input(leaf)
                node_index[box._node] = len(nodes)
                nodes.append(Node(id=len(nodes), name=p, op="input", value=_fmt.plain(leaf),
                                  named=True))
                new.append(box)
            else:
                new.append(leaf)
        call_args.append(tree_unflatten(td, new))
    input_ids = [n.id for n in nodes]
    if not input_ids:
        raise TypeError(f"trace({fname}): no floating-point inputs among the positional arguments "
                        "(integer/boolean arrays and keyword arguments are constants)")

    with Recorder(trace_, structure=structure) as rec:
        out = f(*call_args, **kwargs)

    # one node per recorded output (multiple-result primitives give several), from the records
    # the recorder filed as they were appended
    for r, group in zip(rec.records, rec.record_group, strict=True):
        parents = dict(r.parents)
        args_ = [Arg(node_index[parents[k]]) if k in parents else Arg(None, _fmt.plain(v))
                 for k, v in enumerate(r.args)]
        multi = r.prim.multiple_results
        for j, o in enumerate(r.out):
            node_index[o] = len(nodes)
            nodes.append(Node(id=len(nodes), name="", op=r.prim.name, inputs=list(args_),
                              params=dict(r.params), value=_fmt.plain(r.ans[j] if multi else r.ans),
                              group=group, output_index=j if multi else None, doc=r.prim.doc,
                              prim=r.prim, _record=r))

    # outputs and seeds
    out_leaves, out_def = tree_flatten(out)
    out_ids: list[int] = []
    seeds: dict[int, Any] = {}
    seed_leaves = None
    if seed is not None:
        seed_leaves, seed_def = tree_flatten(seed)
        if len(seed_leaves) != len(out_leaves):
            raise ValueError(f"seed has {len(seed_leaves)} leaves but the output has {len(out_leaves)}")
    for k, o in enumerate(out_leaves):
        tn = node_of(o, trace_)
        if tn is None:
            continue
        nid = node_index[tn]
        v = nodes[nid].value
        s = (np.ones(np.shape(v), dtype=np.result_type(v, np.float64)) if seed_leaves is None
             else np.broadcast_to(np.asarray(seed_leaves[k], dtype=float), np.shape(v)).copy())
        seeds[tn] = s if tn not in seeds else seeds[tn] + s
        if nid not in out_ids:
            out_ids.append(nid)
    if not out_ids:
        raise ValueError(f"trace({fname}): the output does not depend on any input; nothing to show")

    _name_nodes(nodes, node_index, rec, out_ids, fname, len(out_leaves))
    _backward(trace_, nodes, node_index, seeds)
    _local_grads(nodes)
    for nid in out_ids:
        nodes[nid].is_output = True
    for n in nodes:
        n.stats = _fmt.stats(n.value)
        n._record = None  # the tape's saved arrays are not kept alive by the result
        if keep is not None:
            _shrink(n, keep)
    groups = _fold_groups(rec.groups, nodes)
    value = tree_unflatten(out_def, [_fmt.plain(o) for o in out_leaves])
    return Computation(fname, nodes, input_ids, out_ids, groups, value)


def _fold_groups(groups: list[Group], nodes: list[Node]) -> list[Group]:
    """Keep the groups that say something.

    Dropped (their content moves to the enclosing group): empty groups, a loop that
    ran once, a function call that recorded a single op; an iteration holding just
    one call becomes that call (``layer (iteration 2)``).
    """
    for g in groups:
        g.nodes, g.children = [], []
    for n in nodes:
        if n.group is not None:
            groups[n.group].nodes.append(n.id)
    for g in groups:  # children in creation order
        if g.parent is not None:
            groups[g.parent].children.append(g.id)
    size: dict[int, int] = {}

    def total(gid):
        if gid not in size:
            g = groups[gid]
            size[gid] = len(g.nodes) + sum(total(c) for c in g.children)
        return size[gid]

    def dissolve(g) -> bool:
        if total(g.id) == 0:
            return True
        if g.kind == "loop" and len(g.children) == 1 and not g.nodes:
            return True
        if g.kind == "call" and total(g.id) == 1:
            return True
        return g.kind == "iteration" and not g.nodes and len(g.children) == 1

    home: dict[int, int | None] = {}  # group -> the kept group its nodes belong to
    keep: list[Group] = []
    gone: set[int] = set()
    for g in groups:  # parents come before children
        parent = None if g.parent is None else home[g.parent]
        if dissolve(g) or (g.kind == "iteration" and g.parent in gone):
            gone.add(g.id)
            home[g.id] = parent
            if g.kind == "iteration" and not g.nodes and len(g.children) == 1:
                child = groups[g.children[0]]
                child.label = f"{child.label} ({g.label})"
            continue
        g.parent = parent
        home[g.id] = g.id
        keep.append(g)
    new_id = {g.id: i for i, g in enumerate(keep)}
    for g in keep:
        g.id = new_id[g.id]
        g.parent = None if g.parent is None else new_id[g.parent]
        g.nodes, g.children = [], []
    for g in keep:
        if g.parent is not None:
            keep[g.parent].children.append(g.id)
    for n in nodes:
        if n.group is not None:
            h = home[n.group]
            n.group = None if h is None else new_id[h]
            if n.group is not None:
                keep[n.group].nodes.append(n.id)
    return keep


def _name_nodes(nodes, node_index, rec, out_ids, fname, n_out) -> None:
    # tape node -> the op node showing it (labels and variable names never rename an input)
    by_tape = {t: nodes[i] for t, i in node_index.items() if not nodes[i].is_input}
    for tape_id, lab in rec.labels.items():
        if tape_id in by_tape:
            by_tape[tape_id].name, by_tape[tape_id].named = lab, True
    for tape_id, (_, var) in rec.local_names.items():
        n = by_tape.get(tape_id)
        if n is not None and not n.named:
            n.name, n.named = var, True
    for k, nid in enumerate(out_ids):
        n = nodes[nid]
        if not n.named:
            n.name = fname if n_out == 1 else f"{fname}[{k}]"
            n.named = True
    counts: dict[str, int] = {}
    for n in nodes:
        if not n.name:
            counts[n.op] = counts.get(n.op, 0) + 1
            n.name = f"{n.op}_{counts[n.op]}"
            if n.output_index is not None:
                n.name += f"[{n.output_index}]"
    seen: dict[str, int] = {}
    for n in nodes:  # inputs come first, so they keep their names
        base = n.name
        if base in seen:
            k = seen[base]
            while f"{base}_{k}" in seen:
                k += 1
            seen[base] = k + 1
            n.name = f"{base}_{k}"
        seen.setdefault(n.name, 2)


def _backward(trace_: ReverseTrace, nodes: list[Node], node_index: dict, seeds: dict) -> None:
    """The engine's backward pass (``seeds``: tape node -> cotangent), observed.

    Every VJP contribution ``pull`` computes is kept: as what its gate passed down,
    and as one of the contributions summed into the gradient of the node it reaches.
    """
    for n in nodes:
        n.passed_down = [None] * len(n.inputs)

    def observe(rec, argnum, node, g, c):
        out = rec.out
        if rec.prim.multiple_results:
            for o, gj in zip(out, g, strict=True):
                nodes[node_index[o]].grad = gj
            frm = node_index[out[next(j for j, gj in enumerate(g) if gj is not None)]]
        else:
            frm = node_index[out[0]]
            nodes[frm].grad = g
        nodes[frm].passed_down[argnum] = c
        nodes[node_index[node]].contributions.append(Contribution(frm, argnum, c))

    inputs = [t for t, i in node_index.items() if nodes[i].is_input]
    for t, g in zip(inputs, trace_.backward(seeds, inputs, observer=observe), strict=True):
        nodes[node_index[t]].grad = g
    for n in nodes:
        n.contributions.sort(key=lambda k: (k.frm, k.argnum))  # consumers in execution order
        n.grad = _fmt.plain(n.grad)
        n.passed_down = [_fmt.plain(c) for c in n.passed_down]
        for c in n.contributions:
            c.value = _fmt.plain(c.value)


def _local_grads(nodes: list[Node]) -> None:
    """Each gate's VJP at a cotangent of ones (``pull`` over its one record): for scalars,
    the partial derivatives."""
    for n in nodes:
        r = n._record
        if r is None:
            continue
        v = n.value
        ones = np.ones(np.shape(v), dtype=np.result_type(v, np.float64))
        local: list = [None] * len(n.inputs)

        def observe(rec, argnum, node, g, c, local=local):
            local[argnum] = _fmt.plain(c)

        try:
            pull([r], {r.out[n.output_index or 0]: ones}, (), observer=observe)
        except Exception:  # a rule that cannot run on its own here: the table shows "-"
            pass
        n.local_grads = local


def _shrink(n: Node, keep: int) -> None:
    def small(x):
        return x if x is None or _fmt.size_of(x) <= keep else None

    n.value = small(n.value)
    n.grad = small(n.grad)
    n.local_grads = [small(g) for g in n.local_grads]
    n.passed_down = [small(g) for g in n.passed_down]
    for c in n.contributions:
        c.value = small(c.value)
    n.inputs = [a if a.node is not None else Arg(None, small(a.value)) for a in n.inputs]
