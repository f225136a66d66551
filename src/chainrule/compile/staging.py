"""Staging: record every primitive a call executes, then run that record without the tracer.

``jit(f)`` runs ``f`` once per input signature (tree structure, shapes, dtypes, static
arguments) under a :class:`StagingTrace`, the outermost trace of all. Whatever the call
does, its own arithmetic and that of every transform inside it (``grad``, ``hvp``,
``hessian``: their tapes, backward passes and tangent pushes), reaches this trace as
primitive calls on input-dependent values, and each becomes one :class:`Eqn` of a flat
:class:`Program`. The program is then pruned to what the outputs need and turned into
one straight-line Python function of NumPy calls (its source is readable: ``.source``),
so a later call with the same signature pays no boxing, no dispatch, no tape and no
rule lookup: only the NumPy work. Elementwise runs can be fused into compiled loops
(:mod:`chainrule.compile.fusion`).

Like ``jax.jit``, a program is the computation for *every* input of its signature, so
it must not depend on the values: a call that reads the value of an input-dependent
array (``if x > 0``, ``int(n)``, an index computed from the data) cannot be staged.
chainrule detects every such read and runs that signature eagerly instead, with a
:class:`JitFallbackWarning` naming where the value was read; results are never baked
in. Arrays the function closes over are constants of the program, copied when it is
staged (as in JAX): changing one in place later does not change what the program computes.
"""

from __future__ import annotations

import functools
import hashlib
import keyword
import operator
import os
import threading
import time
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from ..core.errors import TracerEscapeError
from ..core.primitive import Box
from ..core.pytree import tree_flatten, tree_unflatten
from ..core.trace import Trace, TracedArray, collector_paused
from ..debug import check_jit_call
from ..debug import enabled as debug_nans_enabled
from ..rules import elementwise as ew
from .fusion import fuse_elementwise, simplify
from .ir import PY_NUMBERS, Eqn, Lit, Staged, freeze

__all__ = ["jit", "Program", "JitFallbackWarning"]


# where a read of a staged value is reported: the caller's line, outside these two packages
_LIBRARY_DIRS = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
                 os.path.dirname(os.path.abspath(np.__file__)) + os.sep)


class JitFallbackWarning(UserWarning):
    """``jit`` could not stage a call and runs it eagerly (the reason is in the message)."""


class _OuterTraceError(Exception):
    """A value traced by a transform *around* the jitted call reached the staged program."""


class StagedBox(TracedArray):
    """An input-dependent value while a call is being staged (variable ``_var``)."""

    __slots__ = ("_var",)
    _staged = True

    def __init__(self, value, trace, var):
        self._value = value
        self._trace = trace
        self._var = var

    # Reading a staged value as data (a size, an index, a Python number, a plain array) is
    # what the eager function does with its value; it cannot be staged, so the trace is told
    # (that signature then runs eagerly, with a JitFallbackWarning) and the read goes on with
    # this call's value. A staged value has no derivative to lose: derivative traces inside
    # the call box it again, and their boxes still refuse these conversions.
    def _read(self):
        self._trace.read_value()
        return self._value

    def __index__(self):
        return operator.index(self._read())

    def __int__(self):
        return int(self._read())

    def __float__(self):
        return float(self._read())

    def __complex__(self):
        return complex(self._read())

    def __round__(self, ndigits=None):
        return round(self._read(), ndigits)

    def __format__(self, spec):
        return format(self._read(), spec)

    def item(self, *args):
        return np.asarray(self._read()).item(*args)

    def tolist(self):
        return np.asarray(self._read()).tolist()

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self._read(), dtype=dtype)
        return value.copy() if copy else value


class StagingTrace(Trace):
    """Records primitive calls on staged values as equations, computing them as it goes.

    An operation equal to one already recorded (the same primitive, operands and parameters:
    every primitive is a pure function of them) is not recorded again: its result gets the
    earlier one's variables, so the program runs it once. A backward pass and a tangent push
    recompute the same products (``2 * x``, ``y * y``); finding them here, with one dictionary
    lookup per call, spares a pass over the whole program afterwards.
    """

    __slots__ = ("staged", "reads", "done", "_copies", "_by_content", "_seen")

    def __init__(self):
        super().__init__()
        self.staged = Staged()
        self._copies: dict = {}  # id(array) -> (array, its copy): one copy per constant
        self._by_content: dict = {}  # (shape, dtype, digest) -> the copy (see _same_copy)
        self._seen: dict = {}  # (prim, operand keys, parameter key) -> the result's variables
        self.reads: list[str] = []  # where input-dependent values were read (see read_value)
        self.done = False  # set when the staged call returns: later use is an escaped value

    def new_input(self, value) -> StagedBox:
        var = self.staged.new_var(value)
        self.staged.in_vars.append(var)
        return StagedBox(value, self, var)

    def read_value(self) -> None:
        """Called when code reads a staged value's contents: the program would bake them in."""
        if self.done:
            raise TracerEscapeError("reading a value that jit staged in an earlier call (kept in "
                                    "a global, an attribute or a closure); return it instead")
        if not self.reads:  # name the caller's line: the last frame outside chainrule and NumPy
            frames = [f for f in traceback.extract_stack()[:-1]
                      if not os.path.abspath(f.filename).startswith(_LIBRARY_DIRS)]
            where = frames[-1] if frames else None
            self.reads.append(f"{where.filename}:{where.lineno} ({where.line})" if where else "?")

    def process(self, prim, args, params):
        if self.done:
            raise TracerEscapeError(
                f"`{prim.name}` on a value that jit staged in an earlier call (kept in a global, "
                "an attribute or a closure); a staged value exists only during its call: return "
                "it from the jitted function instead")
        ins, vals = [], []
        plain = True  # only staged operands: the variables are their own key
        for a in args:
            if type(a) is StagedBox and a._trace is self:
                ins.append(a._var)
                vals.append(a._value)
            elif isinstance(a, Box):
                raise _OuterTraceError(prim.name)
            else:
                ins.append(Lit(self.constant(a)))
                vals.append(a)
                plain = False
        ans = prim.impl(*vals, **params)
        ins = tuple(ins)
        if params:
            params = self.constant(params)
            pkey = freeze(params)
        else:
            pkey = ()
        # a constant's key is tagged: the literal 3 and variable 3 are different operands
        key = (prim, ins if plain else tuple([a if type(a) is int else (Lit, freeze(a.value))
                                              for a in ins]), pkey)
        outs = self._seen.get(key)
        if outs is None:  # a new operation (else the earlier one's result: run once)
            staged = self.staged
            if prim.multiple_results:
                outs = tuple([staged.new_var(v) for v in ans])
            else:
                outs = (staged.new_var(ans),)
            self._seen[key] = outs
            staged.eqns.append(Eqn(prim, ins, params, outs))
        if prim.multiple_results:
            return tuple([StagedBox(v, self, n) for v, n in zip(ans, outs, strict=True)])
        return StagedBox(ans, self, outs[0])

    def constant(self, v):
        """``v`` as a constant of the program: arrays (also inside tuples, lists and dicts of
        parameters) are copied, so the program holds their values at staging and a later
        in-place change of a closed-over array cannot reach it (JAX's semantics). A value
        with no array in it is returned as it is (no copy of a tuple or dict)."""
        t = type(v)
        if t in _NOT_ARRAYS:
            return v
        if t is dict:  # parameters: most hold only numbers, axes, shapes and slices
            out = None
            for k, x in v.items():
                tx = type(x)
                if tx in _NOT_ARRAYS or tx is tuple and _no_array(x):
                    continue
                y = self.constant(x)
                if y is not x:
                    if out is None:
                        out = dict(v)
                    out[k] = y
            return v if out is None else out
        if t is tuple or t is list:
            if _no_array(v):
                return v
            items = [self.constant(x) for x in v]
            return v if all(a is b for a, b in zip(items, v, strict=True)) else t(items)
        if isinstance(v, np.ndarray):
            pair = self._copies.get(id(v))
            if pair is None:  # the original stays referenced: its id names it until staged
                pair = self._copies[id(v)] = (v, self._same_copy(v))
            return pair[1]
        return v

    def _same_copy(self, v: np.ndarray) -> np.ndarray:
        """A copy of ``v``, the same one for every constant with ``v``'s type, shape, dtype
        and bytes. Code that computes a constant from a constant (``points.T``, ``sum(points
        ** 2)``) makes a new array at each use; with one copy for equal contents the
        operations on them are recognised as repeated (k-means' cost and its gradient
        share their distance matrix)."""
        if v.dtype.hasobject or type(v) is not np.ndarray:
            return v.copy()
        flat = np.ascontiguousarray(v).reshape(-1).view(np.uint8)
        key = (v.shape, v.dtype, hashlib.blake2b(flat, digest_size=16).digest())
        same = self._by_content.get(key)
        if same is not None and np.array_equal(same.reshape(-1).view(np.uint8), flat):
            return same
        copy = self._by_content[key] = v.copy()
        return copy


def _no_array(items) -> bool:
    """A tuple or list of plain values (ints, slices, ...) only: nothing to copy."""
    for x in items:
        if type(x) not in _NOT_ARRAYS:
            return False
    return True


_NOT_ARRAYS = frozenset((int, float, bool, str, slice, type(None), type(Ellipsis)))


# ------------------------------------------------------------------ the program
_INLINE = (int, float, bool, str, type(None))


def _inlinable(v) -> bool:
    if type(v) in _INLINE:
        return not (type(v) is float and not np.isfinite(v))
    if type(v) is tuple:
        return all(_inlinable(x) for x in v)
    return type(v) is slice and all(_inlinable(x) for x in (v.start, v.stop, v.step))


class Program:
    """A staged call as straight-line code: inputs ``in_vars``, outputs ``outs``.

    ``outs`` holds variable numbers or :class:`Lit` constants. ``source`` is the
    generated Python; ``fn`` is it compiled, a function of plain arrays.

    Calling a program runs it in two tiers. Python's ``compile`` of the generated source
    costs about as much per line as one eager primitive call (a 19,000-line LSTM gradient:
    ~1 s), so a new program first runs through an interpreter of its equations (no
    compilation; each step costs ~1 us more than a line of the compiled function) and is
    compiled once the time spent interpreting it exceeds the time spent staging it (the
    ski-rental rule: whatever the number of calls, the two tiers together cost at most
    about twice the better choice made in hindsight). :meth:`compile` moves to the
    compiled tier at once (as ``jax.jit(f).lower(x).compile()`` does).
    """

    def __init__(self, staged: Staged, fuse: bool = True, staging_time: float = 0.0):
        t0 = time.perf_counter()
        self.in_vars = list(staged.in_vars)
        self.outs = list(staged.outs)
        self._avals = staged.avals  # the variables' shapes: which callable each step uses
        self.kernels: list = []  # the fused loops' sources (glass box)
        with collector_paused():
            self.eqns = simplify(staged.eqns, self.outs, staged)
            if fuse:
                self.eqns, self.kernels = fuse_elementwise(self.eqns, self.outs, staged)
        self._source = None
        self._fn = None
        self._interpreter = None
        # seconds of interpreting after which the program is compiled
        self._budget = staging_time + time.perf_counter() - t0
        self._spent = 0.0

    @property
    def source(self) -> str:
        """The program as one Python function (generated on first use)."""
        if self._source is None:
            self._source, self._env = _codegen(self.eqns, self.in_vars, self.outs, self._avals)
        return self._source

    @property
    def fn(self):
        """The compiled function of the program (compiled on first use)."""
        if self._fn is None:
            with collector_paused():  # Python's compiler allocates an AST node by node
                source = self.source
                env = self._env
                exec(compile(source, "<chainrule.jit program>", "exec"), env)  # noqa: S102 - our own code
            self._fn = env["program"]
        return self._fn

    @property
    def compiled(self) -> bool:
        """Whether calls run the compiled function (else the interpreter)."""
        return self._fn is not None

    def compile(self):
        """Compile the program now (later calls skip the interpreter); returns ``self``."""
        self.fn  # noqa: B018 - compiles
        return self

    def __call__(self, *arrays):
        fn = self._fn
        if fn is not None:
            return fn(*arrays)
        if self._spent >= self._budget:
            return self.fn(*arrays)
        if self._interpreter is None:
            with collector_paused():
                self._interpreter = _interpreter(self.eqns, self.in_vars, self.outs,
                                                 self._avals)
        t0 = time.perf_counter()
        result = self._interpreter(*arrays)
        self._spent += time.perf_counter() - t0
        return result

    def __repr__(self) -> str:
        kernels = "".join(f"\n{k}" for k in self.kernels)
        return f"<Program: {len(self.eqns)} operations>\n{self.source}{kernels}"


def _last_uses(eqns, outs) -> dict:
    """variable -> index of the last equation that reads it (``len(eqns)`` for an output)."""
    last_use: dict = {}
    for i, e in enumerate(eqns):
        for a in e.ins:
            if type(a) is int:
                last_use[a] = i
    n = len(eqns)
    for o in outs:
        if type(o) is int:
            last_use[o] = n
    return last_use


def _copied_output(o, in_vars) -> bool:
    """An output that is an input or an array constant is copied: the caller may modify it."""
    return o in in_vars if type(o) is int else isinstance(o.value, np.ndarray)


# The implementations of these primitives take NumPy's scalar arithmetic when both operands
# are Python or float64 scalars and call this ufunc otherwise (rules/elementwise.py,
# _scalar_fast); that choice costs 0.2 us per call (0.55 us against the ufunc's 0.34 us on
# vectors of 7). A program knows which operands are arrays of one or more dimensions, so
# its steps on those call the ufunc itself (tests/test_jit.py checks this table against
# the implementations).
ARRAY_UFUNCS = {ew.add: np.add, ew.subtract: np.subtract, ew.multiply: np.multiply,
                ew.divide: np.divide}


def _callable(e: Eqn, avals):
    """What a step of the program calls for ``e``: its primitive's implementation, or the
    ufunc that implementation calls when an operand is an array (:data:`ARRAY_UFUNCS`)."""
    ufunc = ARRAY_UFUNCS.get(e.prim)
    if ufunc is not None:
        for a in e.ins:
            if avals[a].shape if type(a) is int else isinstance(a.value, np.ndarray):
                return ufunc
    return e.prim.impl


def _interpreter(eqns, in_vars, outs, avals):
    """The program as a loop over its equations: the same calls, in the same order, each
    intermediate dropped after its last use, as the generated function makes them.

    Values live in a list of registers (constants filled in once); each step fetches its
    operands with one ``operator.itemgetter`` call.
    """
    template: list = []
    slot: dict = {}
    for v in in_vars:
        slot[v] = len(template)
        template.append(None)
    last_use = _last_uses(eqns, outs)
    steps = []
    append = template.append
    for i, e in enumerate(eqns):
        idx = []
        dead = []
        for a in e.ins:
            if type(a) is int:
                r = slot[a]
                idx.append(r)
                if last_use[a] == i and r not in dead:
                    dead.append(r)
            else:
                idx.append(len(template))
                append(a.value)
        if len(idx) == 1:  # itemgetter of one index returns the item, not a 1-tuple
            get = operator.itemgetter(slice(idx[0], idx[0] + 1))
        elif idx:
            get = operator.itemgetter(*idx)
        else:
            get = operator.itemgetter(slice(0, 0))
        regs = []
        for o in e.outs:
            slot[o] = r = len(template)
            append(None)
            regs.append(r)
            if o not in last_use:  # never read
                dead.append(r)
        out = tuple(regs) if e.prim.multiple_results else regs[0]
        steps.append((_callable(e, avals), get, e.params, out, tuple(dead)))
    # each output: (register, copy it) or (None, the constant)
    results = [(slot[o], o in in_vars) if type(o) is int else (None, o.value) for o in outs]
    in_slots = [slot[v] for v in in_vars]

    def program(*arrays):
        r = template.copy()
        for k, a in zip(in_slots, arrays, strict=True):
            r[k] = a
        for impl, get, params, out, dead in steps:
            value = impl(*get(r), **params) if params else impl(*get(r))
            if type(out) is int:
                r[out] = value
            else:
                for k, v in zip(out, value, strict=True):
                    r[k] = v
            for k in dead:
                r[k] = None
        return tuple((np.array(r[k]) if x else r[k]) if k is not None
                     else (np.array(x) if isinstance(x, np.ndarray) else x) for k, x in results)
    return program


def _codegen(eqns, in_vars, outs, avals):
    """One Python function's source and its namespace: a line per equation, each
    intermediate deleted after its last use."""
    names: dict = {}
    env: dict = {"np": np}

    def constant(value, hint):
        if _inlinable(value):
            return repr(value)
        key = id(value)
        if key not in names:
            name = f"{hint}{len(names)}"
            while name in env:  # a primitive may carry that name
                name += "_"
            names[key] = name
            env[name] = value
            env.setdefault("_keep", []).append(value)  # keep id() stable while compiling
        return names[key]

    def operand(a):
        return f"v{a}" if type(a) is int else constant(a.value, "c")

    last_use = _last_uses(eqns, outs)
    frees: list = [[] for _ in eqns]
    for v, i in last_use.items():
        if i < len(eqns):
            frees[i].append(v)

    impls: dict = {}
    lines = [f"def program({', '.join(f'v{v}' for v in in_vars)}):"]
    for i, e in enumerate(eqns):
        impl = _callable(e, avals)
        if id(impl) not in impls:  # the primitive's own name where it is free and a valid one
            name = e.prim.name if impl is e.prim.impl else f"np_{impl.__name__}"
            if not name.isidentifier() or keyword.iskeyword(name) or name in env:
                name = f"{name if name.isidentifier() else 'op'}_{len(impls)}"
            impls[id(impl)] = name
            env[name] = impl
        args = [operand(a) for a in e.ins]
        args += [f"{k}={constant(v, 'p')}" for k, v in e.params.items()]
        outs_text = ", ".join(f"v{o}" for o in e.outs) + (
            "," if e.prim.multiple_results and len(e.outs) == 1 else "")
        lines.append(f"    {outs_text or '_'} = {impls[id(impl)]}({', '.join(args)})")
        dead = [f"v{v}" for v in frees[i] if v not in e.outs]
        dead += [f"v{v}" for v in e.outs if v not in last_use]
        if dead:
            lines.append(f"    del {', '.join(sorted(dead))}")
    fresh = [f"np.array({operand(o)})" if _copied_output(o, in_vars) else operand(o) for o in outs]
    lines.append(f"    return ({''.join(o + ', ' for o in fresh)})")
    return "\n".join(lines) + "\n", env


# ------------------------------------------------------------------ jit
_EAGER = object()
PROGRAM_CACHE_SIZE = 64  # signatures kept per jitted function, least recently used dropped first


class _LRU(OrderedDict):
    """A dict that keeps its ``size`` most recently used entries (``get`` and assignment use).
    Safe to share between threads: a jitted function may be called from several."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            if key not in self:
                return default
            self.move_to_end(key)
            return self[key]

    def __setitem__(self, key, value):
        with self._lock:
            super().__setitem__(key, value)
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)


def jit(f: Callable | None = None, *, static_argnums=(), fuse: bool = True):
    """``f``, staged once per input signature and then run as a straight-line NumPy program.

    ``static_argnums``: positional arguments that are Python constants of the program
    (hashable; a new value stages again). Every other argument may be a pytree of
    arrays and numbers. ``fuse`` fuses runs of elementwise operations into compiled
    loops when Numba is installed. Inside another transform (``grad(jit(f))``) and
    for calls whose program would depend on the data, ``f`` runs eagerly (see the
    module docstring); the jitted function's ``.lower(*args)`` returns the
    :class:`Program` of a signature, and ``.cache_info()`` how many are cached.

    Closed-over arrays are constants, as in ``jax.jit``: the program keeps a copy of each
    array ``f`` reads from its closure (or a global) when the signature is staged, so an
    in-place change afterwards (``A[:] = 0``) never reaches it, wholly or in part. To see
    new values, pass the array as an argument (or build a new ``jit(f)``). A signature
    staged later captures the values of that time; one that runs eagerly reads its
    closure at each call, as ``f`` does.

    Memory stays bounded: a jitted function keeps the programs of its ``PROGRAM_CACHE_SIZE``
    (64) most recently used signatures (an older one is staged again when called), and a
    fused loop is compiled once per loop source and shared by every program and every jitted
    function whose loop reads the same. Numba never frees compiled code, so a process
    compiles at most ``chainrule.compile.fusion.KERNEL_LIMIT`` (256) distinct loops; later
    ones run unfused, with a RuntimeWarning.
    """
    if f is None:
        return functools.partial(jit, static_argnums=static_argnums, fuse=fuse)
    statics = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    cache = _LRU(PROGRAM_CACHE_SIZE)

    def split(args, kwargs):
        n = len(args)
        fixed = []
        for i in statics:
            if not -n <= i < n:
                raise ValueError(f"static_argnums {i} is out of range for {n} positional arguments")
            fixed.append(i % n)
        static = tuple((i, args[i]) for i in sorted(set(fixed)))
        dyn = tuple(a for i, a in enumerate(args) if i not in dict(static))
        leaves, treedef = tree_flatten((dyn, kwargs))
        return static, leaves, treedef

    def rebuild(static, treedef, leaves):
        dyn, kwargs = tree_unflatten(treedef, leaves)
        args, it = [], iter(dyn)
        fixed = dict(static)
        for i in range(len(dyn) + len(fixed)):
            args.append(fixed[i] if i in fixed else next(it))
        return args, kwargs

    def stage(key, static, leaves, treedef):
        # one pause of the garbage collector for the call and the rewrites (core.trace.collector_paused): it
        # then runs once, when staging is done, over what the program keeps
        with collector_paused():
            return record(key, static, leaves, treedef)

    def record(key, static, leaves, treedef):
        t0 = time.perf_counter()
        trace = StagingTrace()
        boxes = [trace.new_input(x) for x in leaves]
        args, kwargs = rebuild(static, treedef, boxes)
        try:
            out = f(*args, **kwargs)
        except _OuterTraceError as err:
            cache[key] = _EAGER
            warnings.warn(f"jit({_name(f)}): a value traced by an enclosing transform reached "
                          f"`{err}` inside the jitted call; it runs eagerly. Pass that value "
                          "as an argument of the jitted function instead of closing over it",
                          JitFallbackWarning, stacklevel=3)
            return _EAGER, False, None
        finally:
            trace.done = True
            trace._seen.clear()  # only the recording needs it
        out_leaves, out_def = tree_flatten(out)
        outs = []
        for o in out_leaves:
            if type(o) is StagedBox and o._trace is trace:
                outs.append(o._var)
            elif isinstance(o, Box):
                raise TypeError(f"jit({_name(f)}) returned a value traced by another transform "
                                "(an escaped tracer); return plain results")
            else:
                outs.append(Lit(trace.constant(o)))
        trace._copies.clear()  # the program holds the copies; the originals are the caller's
        trace._by_content.clear()
        concrete = tree_unflatten(out_def, [o._value if isinstance(o, StagedBox) else o
                                            for o in out_leaves])
        if trace.reads:
            cache[key] = _EAGER
            warnings.warn(f"jit({_name(f)}): the call reads the value of an input-dependent "
                          f"array at {trace.reads[0]}, so one program cannot stand for every "
                          "input of this signature; it runs eagerly. Make that value a static "
                          "argument, or compute with chainrule.numpy (where, select) instead "
                          "of Python control flow", JitFallbackWarning, stacklevel=3)
            return _EAGER, True, concrete
        trace.staged.outs = outs
        program = Program(trace.staged, fuse=fuse, staging_time=time.perf_counter() - t0)
        trace.staged = None  # the program holds what it needs (a box that outlives the call
        # holds the trace: it must not hold the whole record too)
        program.out_def = out_def
        cache[key] = program
        return program, True, concrete

    def key_of(args, kwargs):
        static, leaves, treedef = split(args, kwargs)
        if any(isinstance(x, Box) for x in leaves):
            return None, static, leaves, treedef
        # Python numbers stay Python numbers (NumPy treats them as weakly typed: float32 * 2.5
        # is float32, float32 * array(2.5) is not); anything else becomes an array
        leaves = [x if type(x) in PY_NUMBERS or isinstance(x, np.ndarray) else _array(x)
                  for x in leaves]
        try:
            key = (treedef, static, tuple(type(x) if type(x) in PY_NUMBERS else (x.shape, x.dtype)
                                          for x in leaves))
            hash(key)
        except TypeError as err:
            raise TypeError(f"jit({_name(f)}): static arguments must be hashable: {err}") from None
        return key, static, leaves, treedef

    @functools.wraps(f)
    def jitted(*args, **kwargs):
        if debug_nans_enabled():  # results checked; a non-finite one is re-run op by op to name it
            return check_jit_call(jitted, f, statics, args, kwargs)
        key, static, leaves, treedef = key_of(args, kwargs)
        if key is None:  # under an enclosing transform: its tracer must see f's operations
            return f(*args, **kwargs)
        program = cache.get(key)
        if program is None:
            program, ran, result = stage(key, static, leaves, treedef)
            if ran:  # the staging call computed this call's results
                return result
        if program is _EAGER:
            return f(*args, **kwargs)
        return tree_unflatten(program.out_def, program(*leaves))

    def lower(*args, **kwargs):
        key, static, leaves, treedef = key_of(args, kwargs)
        if key is None:
            raise TypeError("lower() takes plain arrays, not values traced by a transform")
        program = cache.get(key)
        if program is None:
            program, _, _ = stage(key, static, leaves, treedef)
        return None if program is _EAGER else program

    jitted.lower = lower
    jitted.cache_info = lambda: {"programs": sum(p is not _EAGER for p in cache.values()),
                                 "eager": sum(p is _EAGER for p in cache.values())}
    return jitted


def _array(x):
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"jit: an argument of type {type(x).__name__} is not an array or a number "
                        "of a supported dtype; pass it through static_argnums (or close over it)")
    return a


def _name(f) -> str:
    return getattr(f, "__name__", repr(f))
