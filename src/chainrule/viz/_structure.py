"""Where each tape record came from: function calls, loop iterations and ``scope`` blocks.

While the glass box runs the user's function it installs a profile hook
(``sys.setprofile``, restored afterwards). The hook keeps a stack of the user's
frames (code outside NumPy, the standard library and chainrule's engine) and,
whenever the tape has grown, files the new records under the innermost frame,
the loop iteration it is in (loops found from the bytecode's backward jumps, so
no source code is needed) and any open ``scope``. It also reads each frame's
local variables when it returns, which is how ``q = x + y`` names a node ``q``.
None of this touches the derivative: the tape is only read.
"""

from __future__ import annotations

import dis
import sys
from contextvars import ContextVar

from ..core.primitive import Box

_ACTIVE: ContextVar = ContextVar("chainrule_glassbox_recorder", default=None)

_SKIP_TOP = {"numpy", "scipy", "_pytest", "pytest", "pluggy", "rich", "graphviz", "importlib"}
_ENGINE = ("chainrule.core", "chainrule.rules", "chainrule.numpy", "chainrule.scipy",
           "chainrule.viz", "chainrule.cli", "chainrule.frontends", "chainrule.gradcheck")
_user_code: dict = {}
_loop_cache: dict = {}


_USER = ("chainrule.viz.examples",)  # inside an engine package, but user-level code


def _is_user(code, globs) -> bool:
    hit = _user_code.get(code)
    if hit is None:
        mod = globs.get("__name__", "") or ""
        top = mod.split(".")[0]
        hit = mod in _USER or not (top in sys.stdlib_module_names or top in _SKIP_TOP
                                   or any(mod == p or mod.startswith(p + ".") for p in _ENGINE))
        _user_code[code] = hit
    return hit


def _loops(code) -> list:
    """``(start, end, line)`` byte-offset ranges of the loops in ``code`` (from backward jumps)."""
    hit = _loop_cache.get(code)
    if hit is None:
        ins = list(dis.get_instructions(code))
        line_at = {}
        line = code.co_firstlineno
        for i in ins:
            pos = getattr(i, "positions", None)
            if pos is not None and pos.lineno is not None:
                line = pos.lineno
            line_at[i.offset] = line
        hit = sorted(((i.argval, i.offset, line_at.get(i.argval, code.co_firstlineno))
                      for i in ins if i.opname.startswith("JUMP_BACKWARD")
                      and isinstance(i.argval, int)), key=lambda r: r[1] - r[0])
        _loop_cache[code] = hit
    return hit


class Group:
    """A labelled part of the computation: one function call, one loop (and its iterations), or a scope."""

    __slots__ = ("id", "kind", "label", "parent", "nodes", "children", "name")

    def __init__(self, gid, kind, name, label, parent):
        self.id = gid
        self.kind = kind  # "call" | "loop" | "iteration" | "scope"
        self.name = name  # function name / loop name / scope name, shared by repeats
        self.label = label
        self.parent = parent  # id of the enclosing group, or None
        self.nodes: list[int] = []  # nodes recorded directly in this group
        self.children: list[int] = []

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "name": self.name, "label": self.label,
                "parent": self.parent, "nodes": list(self.nodes), "children": list(self.children)}

    def __repr__(self) -> str:
        return f"Group({self.id}, {self.kind}, {self.label!r}, {len(self.nodes)} nodes)"


class _Entry:
    __slots__ = ("serial", "kind", "frame", "name", "parent", "depth", "calls", "loop_state")

    def __init__(self, serial, kind, frame, name, parent):
        self.serial = serial
        self.kind = kind  # "root" | "call" | "scope"
        self.frame = frame
        self.name = name
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.calls = 0
        self.loop_state: dict = {}


class Recorder:
    """Collects groups, record-to-group attribution, labels and local-variable names for one trace."""

    def __init__(self, trace, *, structure: bool = True):
        self.trace = trace
        self.tape = trace.tape
        self.structure = structure
        self.seen = 0
        self._serials = 0
        self.root = _Entry(0, "root", None, "", None)
        self.stack = [self.root]
        self.frames = [self.root]  # the frame-kind entries of the stack
        # Each record as it is appended (the glass box's rows, in execution order), with the
        # innermost group it was made in: the recorder files records, it sweeps nothing.
        self.records: list = []
        self.record_group: list = []  # tape index -> innermost group id (or None)
        self.record_entry: list = []  # tape index -> serial of the user frame that made it
        self.groups: list[Group] = []
        self._group_ids: dict = {}
        self.labels: dict = {}  # node id -> explicit label
        self.local_names: dict = {}  # node id -> (depth, name)
        self.node_record: dict = {}  # node id -> tape index
        self._prev = None
        self._token = None

    # -- lifecycle --
    def __enter__(self):
        self._token = _ACTIVE.set(self)
        if self.structure:
            self._prev = sys.getprofile()
            sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc):
        if self.structure:
            sys.setprofile(self._prev)
        self._flush()
        _ACTIVE.reset(self._token)
        return False

    # -- the profile hook --
    def _hook(self, frame, event, arg):
        if len(self.tape) > self.seen:
            self._flush()
        if event == "call":
            top = self.frames[-1]
            if top.frame is not None and frame.f_back is top.frame:
                top.calls += 1
            code = frame.f_code
            if _is_user(code, frame.f_globals):
                self._serials += 1
                e = _Entry(self._serials, "call", frame, code.co_qualname, self.stack[-1])
                self.stack.append(e)
                self.frames.append(e)
        elif event == "return":
            top = self.frames[-1]
            if top.frame is frame:
                self._harvest(top)
                while self.stack[-1] is not top:  # a scope left open by an exception
                    self.stack.pop()
                self.stack.pop()
                self.frames.pop()

    def _harvest(self, entry) -> None:
        """Name nodes after the local variables that hold them (outermost frame wins)."""
        frame = entry.frame
        code = frame.f_code
        nparams = code.co_argcount + code.co_kwonlyargcount
        params = set(code.co_varnames[:nparams])
        for var, val in list(frame.f_locals.items()):
            node = self.node_of(val)
            if node is None or var.startswith("_"):
                continue
            if var in params and self._made_in(node) != entry.serial:
                continue  # a parameter is the caller's value under another name
            prev = self.local_names.get(node)
            if prev is None or entry.depth < prev[0]:
                self.local_names[node] = (entry.depth, var)

    def _made_in(self, node):
        idx = self.node_record.get(node)
        return None if idx is None else self.record_entry[idx]

    # -- filing records --
    def _flush(self) -> None:
        n = len(self.tape)
        if n <= self.seen:
            return
        gid = self._group_path() if self.structure else self._scope_path()
        serial = self.frames[-1].serial
        for i in range(self.seen, n):
            rec = self.tape[i]
            self.records.append(rec)
            self.record_group.append(gid)
            self.record_entry.append(serial)
            for o in rec.out:
                self.node_record[o] = i
        self.seen = n

    def _group(self, key, kind, name, label, parent):
        gid = self._group_ids.get(key)
        if gid is None:
            gid = len(self.groups)
            self._group_ids[key] = gid
            self.groups.append(Group(gid, kind, name, label, parent))
            if parent is not None:
                self.groups[parent].children.append(gid)
        return gid

    def _scope_path(self):
        gid = None
        for e in self.stack[1:]:
            if e.kind == "scope":
                gid = self._group(("scope", e.serial), "scope", e.name, e.name, gid)
        return gid

    def _group_path(self):
        chain = self.stack[1:]
        gid = None
        first_frame = True
        for e in chain:
            if e.kind == "scope":
                gid = self._group(("scope", e.serial), "scope", e.name, e.name, gid)
                continue
            if not first_frame:  # the traced function itself is the whole picture, not a group
                gid = self._group(("call", e.serial), "call", e.name, e.name, gid)
            first_frame = False
            gid = self._loop_groups(e, gid)
        return gid

    def _loop_groups(self, e, gid):
        """Nested loop / iteration groups for the instruction frame ``e`` is executing.

        An iteration ends when execution comes back to an earlier instruction of
        the loop body (an inner loop counts as one instruction of the outer body),
        or to the same call instruction for a new call.
        """
        o = e.frame.f_lasti
        loops = [lp for lp in _loops(e.frame.f_code) if lp[0] <= o <= lp[1]]
        loops.sort(key=lambda lp: lp[0] - lp[1])  # outermost first
        path: tuple = ()
        for i, (start, _end, line) in enumerate(loops):
            inner = loops[i + 1][0] if i + 1 < len(loops) else None
            pos = o if inner is None else inner
            skey = (path, start)
            state = e.loop_state.get(skey)
            if state is None:
                it = 1
            else:
                last_pos, last_calls, it = state
                if pos < last_pos or (pos == last_pos and inner is None and e.calls != last_calls):
                    it += 1
            e.loop_state[skey] = (pos, e.calls, it)
            name = f"{e.name} loop (line {line})"
            gid = self._group(("loop", e.serial, path, start), "loop", name, name, gid)
            path = path + ((start, it),)
            gid = self._group(("iter", e.serial, path), "iteration", name, f"iteration {it}", gid)
        return gid

    # -- user API hooks --
    def node_of(self, x):
        """The node id of ``x`` on this trace (looking through nested boxes and wrappers), or None."""
        return node_of(x, self.trace)

    def push_scope(self, name: str):
        self._flush()
        self._serials += 1
        e = _Entry(self._serials, "scope", self.frames[-1].frame, name, self.stack[-1])
        self.stack.append(e)
        return e

    def pop_scope(self, entry) -> None:
        self._flush()
        if entry in self.stack:
            while self.stack[-1] is not entry:
                self.stack.pop()
            self.stack.pop()


def _unwrap(x):
    """A Box inside a wrapper object (e.g. a Tensor holding a traced array), else ``x``."""
    if isinstance(x, Box):
        return x
    for attr in ("_box", "_value", "data", "_data", "value"):
        try:
            v = getattr(x, attr, None)
        except Exception:  # a property that raises: not a wrapper
            continue
        if isinstance(v, Box):
            return v
    return x


def node_of(x, trace):
    x = _unwrap(x)
    while isinstance(x, Box):
        if x._trace is trace:
            return getattr(x, "_node", None)
        x = x._value
    return None


def active():
    return _ACTIVE.get()
