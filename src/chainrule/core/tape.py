"""The Wengert list, and every walk over it.

A tape is a flat list of :class:`Record` in execution order (so in topological order: no
recursion, no sort). :func:`ancestors` finds what leads to some nodes, :func:`pull` is the
reverse pass, :class:`Push` the forward pass along a recorded tape; :func:`snapshot`,
:func:`merge` and :func:`drop` copy, join and free tapes. Nothing else walks a tape.
"""

from __future__ import annotations

import heapq

import numpy as np


class Checks:
    """Optional observers for debugging tools (``debug_nans``), one test per call while unset:
    ``value(prim, args, params, ans)`` sees each traced output, ``vjp(rec, argnum, node, g, c)``
    each reverse contribution (:func:`pull`'s default observer), ``jvp(prim, argnum, t, ans,
    args, params, c)`` each forward one."""

    value = vjp = jvp = None


class LazyCotangent:
    """A cotangent kept in a cheaper form than its array while contributions add up (the
    transposes of many small picks of one array: ``rules.linear.SparseCotangent``). :func:`pull`
    adds them with ``+`` and calls ``dense()`` before a rule, an observer or a caller sees one."""

    __slots__ = ()

    def dense(self):
        raise NotImplementedError


def _dense(c):
    return c.dense() if isinstance(c, LazyCotangent) else c


class Record:
    """One executed primitive: a row of the Wengert list.

    ``out`` is always a tuple of node ids, one per result. ``ans`` is what the
    rules receive: the output, or the tuple of outputs of a multiple-result
    primitive. ``parents`` is ``((argnum, node), ...)`` for the traced inputs.
    """

    __slots__ = ("prim", "args", "params", "ans", "parents", "out")

    def __init__(self, prim, args, params, ans, parents, out):
        self.prim = prim
        self.args = args  # primal inputs, unboxed at the recording trace's level
        self.params = params
        self.ans = ans
        self.parents = parents
        self.out = out

    def __repr__(self) -> str:
        return f"Record({self.prim.name}, parents={self.parents}, out={self.out})"


def ancestors(tape, nodes):
    """``(live, used)``: the nodes that lead to ``nodes`` (them included), and the records
    that produce them, last first."""
    live = set(nodes)
    add = live.add
    used = []
    for rec in reversed(tape):
        for o in rec.out:
            if o in live:
                used.append(rec)
                for _, node in rec.parents:
                    add(node)
                break
    return live, used


def merge(dst: list, src: list) -> None:
    """Move ``src``'s records into ``dst`` in execution order, for tapes whose node ids come
    from one counter (the Tensor API's graphs): ordered by first node id. Only the records
    there on entry move; one appended meanwhile (another thread) stays in ``src``."""
    n, m = len(src), len(dst)
    moved = src[:n]
    del src[:n]
    dst[:m] = heapq.merge(dst[:m], moved, key=lambda rec: rec.out[0])


def drop(tape: list, used) -> None:
    """Remove the records ``used`` from ``tape``; records appended after entry are kept."""
    n = len(tape)
    if len(used) == n:  # the pass walked the whole tape (the usual loss.backward())
        del tape[:n]
    else:
        gone = {id(r) for r in used}
        tape[:n] = [r for r in tape[:n] if id(r) not in gone]


def consume(tape: list):
    """The records of ``tape`` from the last, each removed before the next is handed out."""
    pop = tape.pop
    while tape:
        yield pop()


def pull(records, seeds: dict, wanted, rebox=None, observer=None) -> list:
    """The chain rule over ``records`` (last first): ``seeds`` maps node -> cotangent.

    Returns the accumulated cotangent (or ``None``, a symbolic zero) of each node in
    ``wanted``. Fan-out adds up (UFLDL's tied ``W`` in ``W^T W x`` receives two
    contributions). Each cotangent is dropped as soon as its record has used it.

    ``rebox(rec) -> (args, ans)`` gives the rules boxed primal values (the backward pass is then
    recorded: ``create_graph``); ``observer(rec, argnum, node, g, contribution)`` sees every
    contribution (the glass box's delta tables), at one ``None`` check per record when absent.
    """
    observer = observer or Checks.vjp
    ct = dict(seeds)
    pop = ct.pop
    for rec in records:
        out = rec.out
        prim = rec.prim
        if prim.multiple_results:
            g = tuple(_dense(pop(o, None)) for o in out)
            if all(x is None for x in g):
                continue
        else:
            g = pop(out[0], None)
            if g is None:  # symbolic zero: this record does not lead to the outputs
                continue
            if isinstance(g, LazyCotangent):  # rules see arrays only
                g = g.dense()
        if rebox is None:
            args = rec.args
            ans = rec.ans
        else:
            args, ans = rebox(rec)
        params = rec.params
        # The per-argument rule is called here directly (one frame less than prim.vjp);
        # prim.vjp handles variable-arity rules and raises the missing-rule error.
        rules = prim._vjps if prim._vjp_argnum is None else ()
        for argnum, node in rec.parents:
            rule = rules[argnum] if argnum < len(rules) else None
            if rule is not None and observer is None:  # unnamed: NumPy adds fan-out into its buffer
                ct[node] = ct[node] + rule(g, ans, *args, **params) if node in ct else rule(
                    g, ans, *args, **params)
                continue
            c = prim.vjp(argnum, g, ans, args, params) if rule is None else rule(g, ans, *args, **params)
            if observer is not None:
                observer(rec, argnum, node, g, _dense(c))
            ct[node] = ct[node] + c if node in ct else c
        c = None  # not kept alive while the next rules run (a checkpoint's recompute a block)
    return [_dense(ct.get(n)) for n in wanted]


def snapshot(tape) -> None:
    """Copy, in place, every array the records hold that the tape did not produce (inputs,
    closed-over arrays, views of them), so that a caller changing them in place before a
    later sweep cannot mix new values into old derivatives."""
    produced, copies = set(), {}
    for rec in tape:
        args = rec.args
        for i, a in enumerate(args):
            if type(a) is np.ndarray and id(a) not in produced:
                root = a
                while isinstance(root.base, np.ndarray):
                    root = root.base
                if id(root) not in produced:
                    if id(a) not in copies:
                        copies[id(a)] = a.copy()
                    args[i] = copies[id(a)]
        for a in (rec.ans if rec.prim.multiple_results else (rec.ans,)):
            produced.add(id(a))


def _add_maybe(a, b):
    return b if a is None else a if b is None else a + b


def jvp_sum(prim, tangents, ans, args, params):
    """One primitive call's output tangent: the sum of the JVP rules' contributions of the
    arguments ``tangents = [(argnum, t), ...]`` (``None`` when there are none)."""
    t_out = None
    # per-argument rules are called directly (one frame less than prim.jvp, which handles
    # variable-arity rules and raises the missing-rule error)
    rules = prim._jvps if prim._jvp_argnum is None else ()
    check = Checks.jvp
    for argnum, t in tangents:
        rule = rules[argnum] if argnum < len(rules) else None
        c = prim.jvp(argnum, t, ans, args, params) if rule is None else rule(t, ans, *args, **params)
        if check is not None:
            check(prim, argnum, t, ans, args, params, c)
        if t_out is None:
            t_out = c
        elif prim.multiple_results:
            t_out = tuple(_add_maybe(a, b) for a, b in zip(t_out, c, strict=True))
        else:  # the new term is an unnamed temporary, so NumPy can add into its buffer
            t_out = t_out + c
    return t_out


class Push:
    """Forward mode along a recorded tape (JVP rules, batched tangents).

    The tape is pruned once to the records between ``in_nodes`` and ``out_nodes``,
    and each tangent is dropped after its last use. Calling it costs the tangent
    arithmetic only: the recorded function is not run again.
    """

    def __init__(self, tape, in_nodes, out_nodes):
        self.in_nodes = list(in_nodes)
        self.out_nodes = list(out_nodes)
        keep = {n for n in out_nodes if n is not None}
        live, used = ancestors(tape, keep)
        used.reverse()
        self.records = used
        last_use: dict = {}
        for pos, rec in enumerate(used):
            for _, node in rec.parents:
                last_use[node] = pos
        # free[i]: tangents no longer needed after record i (never an output's)
        self.free = [[] for _ in used]
        for node, pos in last_use.items():
            if node not in keep:
                self.free[pos].append(node)

    def __call__(self, tangents) -> list:
        """Tangents of ``out_nodes`` (``None``: a symbolic zero) from those of ``in_nodes``."""
        tan = {n: t for n, t in zip(self.in_nodes, tangents, strict=True) if t is not None}
        get = tan.get
        for rec, free in zip(self.records, self.free, strict=True):
            prim = rec.prim
            t_out = jvp_sum(prim, [(i, get(n)) for i, n in rec.parents if get(n) is not None],
                            rec.ans, rec.args, rec.params)
            if t_out is not None:
                if prim.multiple_results:
                    for o, t in zip(rec.out, t_out, strict=True):
                        if t is not None:
                            tan[o] = t
                else:
                    tan[rec.out[0]] = t_out
            for node in free:
                tan.pop(node, None)
        return [None if n is None else get(n) for n in self.out_nodes]
