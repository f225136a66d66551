"""``chainrule.Tensor``: a PyTorch/micrograd-style front-end on the same tape as ``grad``.

A :class:`Tensor` wraps an array. Every operation on it calls a function of
``chainrule.numpy`` / ``chainrule.scipy.special`` (NumPy's own functions dispatch to
the same tables), so nothing is differentiated twice: this module writes no
derivative rule.

How the recording works
-----------------------
* One **eager graph** per connected computation: an :class:`EagerTrace`, which is a
  core :class:`~chainrule.core.trace.ReverseTrace` (the Wengert list) plus the
  leaves it has seen. The first recorded operation on leaves opens a new graph.
* A **leaf** with ``requires_grad`` holds a plain array. When it is first used in
  a graph it is boxed there as an input (``trace.new_input``); the graph remembers
  which leaf owns that input node so that ``backward`` can add into ``leaf.grad``.
  A parameter used in many iterations is simply boxed once in each iteration's graph.
* An **intermediate** Tensor holds the :class:`~chainrule.core.trace.ReverseBox`
  the primitive returned (its value and its node on the tape).
* ``backward`` seeds the output node, finds the records that lead to it with
  :func:`~chainrule.core.tape.ancestors` and runs :func:`~chainrule.core.tape.pull`
  over them (``trace.backward`` when ``create_graph`` records the pass itself): no
  recursion and no topological sort, the tape is already in execution order. This
  module never walks a tape itself.
* Tensors from two graphs combined: the graphs are merged. Node ids come from one
  counter shared by all eager graphs, so both tapes are sorted by creation and a
  merge of the two sorted lists is again in execution order.
* Without ``retain_graph`` the records a backward pass walks are claimed (dropped
  from the tape, their nodes marked *freed*) and released one by one as the pass
  goes; a later backward that needs one of them raises :class:`GraphError` (never
  a silent zero).
* ``.grad`` arrays belong to their leaf: writable, never the seed or a view of it,
  never shared with another leaf.
* Threads: ``.grad`` accumulation, merges and a pass's claim hold one lock; recording
  an operation does not (see ``_LOCK``).

Operators and methods: NumPy's come from the one operator table
(:mod:`chainrule.numpy.operators`), PyTorch's extra spellings from :data:`TORCH_METHODS`;
``dim=``/``keepdim=`` are read as ``axis=``/``keepdims=``. The common call (Tensors
of one graph, plain other arguments) takes a fast path that boxes the arguments in
one pass (:func:`_fast_box`); anything else (a new graph, a merge, values traced by
a functional transform) the general one (:func:`_on_graph`).

Dispatch: a Tensor is itself a :class:`~chainrule.core.primitive.Box` whose "trace"
is the front-end, at a level above every transform, so ``bind`` hands every
primitive call with a Tensor argument to the front-end first. Every chainrule
function therefore accepts Tensors, and NumPy's functions reach the same code
through ``__array_ufunc__`` / ``__array_function__``.

Levels: an eager graph is always the innermost transform. Functional transforms
(``chainrule.grad``...) box values at lower levels; when a graph meets a value
boxed at a higher level than its own, the graph takes a fresh, higher level.
So Tensor code inside a function given to ``chainrule.grad`` is differentiated by
``grad`` as usual (``.value`` hands the traced array to it), and even a
``.backward()`` inside such a function gives ``.grad`` values that ``grad`` can
differentiate again.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import math
import numbers
import threading

import numpy as np

from .. import numpy as cnp
from ..core.errors import ChainruleError, InPlaceError, TracerEscapeError
from ..core.linearize import check_differentiable
from ..core.primitive import Box, Primitive, bind, unbox_all
from ..core.tape import ancestors, consume, drop, merge, pull
from ..core.trace import ReverseBox, ReverseTrace, Trace, new_level
from ..numpy.operators import METHODS, OPERATORS, PROPERTIES, REFLECTED
from ..numpy.protocol import not_a_c_sequence
from ..rules import activations
from ..scipy import special as _special

__all__ = ["Tensor", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "zero_grad", "GraphError"]


class GraphError(ChainruleError, RuntimeError):
    """``backward`` cannot run: the tensor has no graph, or the graph was already freed."""


# ----------------------------------------------------------------------------- grad mode
_GRAD_ENABLED = contextvars.ContextVar("chainrule_grad_enabled", default=True)
_grad_enabled = _GRAD_ENABLED.get


def is_grad_enabled() -> bool:
    """Whether Tensor operations are being recorded in this thread / context."""
    return _GRAD_ENABLED.get()


class _GradMode:
    """Context manager and decorator that sets the (context-local) grad mode."""

    mode = True

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_GRAD_ENABLED.set(self.mode))
        return self

    def __exit__(self, *exc):
        _GRAD_ENABLED.reset(self._tokens.pop())
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            token = _GRAD_ENABLED.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _GRAD_ENABLED.reset(token)

        return wrapped


class no_grad(_GradMode):  # noqa: N801 - PyTorch's spelling
    """``with no_grad():`` (or ``@no_grad()``): Tensor operations are not recorded.

    Context-local (a ``contextvars.ContextVar``): other threads and asyncio tasks
    are not affected. Functional transforms (``chainrule.grad``) still trace values.
    """

    mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn recording back on inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` sets the mode now; used with ``with`` it is restored on exit."""

    def __init__(self, mode: bool):
        super().__init__()
        self.mode = bool(mode)
        self._tokens.append(_GRAD_ENABLED.set(self.mode))

    def __enter__(self):
        return self

    def __call__(self, fn):
        while self._tokens:  # as a decorator it only applies while ``fn`` runs
            _GRAD_ENABLED.reset(self._tokens.pop())
        return super().__call__(fn)


# ----------------------------------------------------------------------------- eager graphs
# One counter for every eager graph: node ids grow with creation time across graphs,
# which is what lets two tapes be merged by their node ids.
_NODE_IDS = itertools.count()

# Threads: a parameter (a leaf) is shared by graphs built in several threads, and graphs can
# meet. Merges, the claim a backward pass makes on the records it walks, and ``.grad``
# accumulation hold this lock; recording an operation does not (a list append is atomic,
# and a graph merged during the append gets the record handed over, see ``_absorb``).
_LOCK = threading.RLock()


class EagerTrace(ReverseTrace):
    """The tape of one eager graph, and the leaf tensors boxed on it."""

    __slots__ = ("leaf_boxes", "leaves", "freed", "merged_into", "__weakref__")

    def __init__(self):
        super().__init__()
        self._nodes = _NODE_IDS
        self.leaf_boxes = {}  # id(leaf Tensor) -> its input box here (value and node)
        self.leaves = {}  # input node -> leaf Tensor (a merged graph can hold several per leaf)
        self.freed = set()  # nodes whose records an earlier backward released
        self.merged_into = None

    def __repr__(self) -> str:
        state = f", {len(self.freed)} nodes freed" if self.freed else ""
        return f"<EagerTrace level={self.level}: {len(self.tape)} records, {len(self.leaves)} leaves{state}>"


def _root(trace: EagerTrace) -> EagerTrace:
    while trace.merged_into is not None:
        trace = trace.merged_into
    return trace


def _merge(traces: list) -> EagerTrace:
    """One graph from several: the highest-level one absorbs the others (under ``_LOCK``)."""
    traces = list({id(t): t for t in map(_root, traces)}.values())  # re-rooted under the lock
    dst = max(traces, key=lambda t: t.level)
    for src in traces:
        if src is not dst:
            src.merged_into = dst  # first: a record appended to src from now on is handed over
            _absorb(dst, src)
    return dst


def _absorb(dst: EagerTrace, src: EagerTrace) -> None:
    """Move ``src``'s records, leaves and freed nodes into ``dst`` (under ``_LOCK``).

    Lists are cut in place, never replaced, and only up to the length read here: a
    record another thread appends meanwhile stays in ``src.tape`` and is handed over
    by the thread that appended it (it sees ``src.merged_into`` once its append is done),
    so no record is lost between two graphs. Merging by first node id keeps every record
    after the records it reads even if threads appended slightly out of id order: a
    record's node is taken after its inputs' records were appended, so its id exceeds
    that of every record before them.
    """
    merge(dst.tape, src.tape)
    dst.leaves.update(list(src.leaves.items()))
    for key, box in list(src.leaf_boxes.items()):
        dst.leaf_boxes.setdefault(key, ReverseBox(box._value, dst, box._node))
    dst.freed |= src.freed


def _hand_over(trace: EagerTrace) -> None:
    """``trace`` was merged while a call was being recorded on it: move what landed there."""
    with _LOCK:
        _absorb(_root(trace), trace)


def _release(trace: EagerTrace, used) -> None:
    """Drop the walked records (their saved values go with them) and mark their nodes freed."""
    drop(trace.tape, used)  # records appended from now on (another thread) are kept
    trace.freed.update(itertools.chain.from_iterable(rec.out for rec in used))
    # A leaf's input box may hold an array the leaf has since replaced (an optimizer step);
    # a later use of the leaf here simply gets a new input node.
    trace.leaf_boxes.clear()


# ----------------------------------------------------------------------------- dispatch
_CONTAINERS = (list, tuple, dict)


def _walk(obj, fn):
    """Apply ``fn`` to every Tensor in nested lists/tuples/dicts (the argument structure)."""
    if isinstance(obj, Tensor):
        return fn(obj)
    t = type(obj)
    if t is list or t is tuple:
        return t([fn(o) if isinstance(o, Tensor) else _walk(o, fn) if type(o) in _CONTAINERS
                  else o for o in obj])
    if t is dict:
        return {k: _walk(v, fn) for k, v in obj.items()}
    return obj


def _scan(obj, tensors: list, level):
    """Collect the Tensors in ``obj``; return the highest transform level boxing a value there."""
    if isinstance(obj, Tensor):
        tensors.append(obj)
        obj = obj._raw()
    if isinstance(obj, Box):
        return obj._trace.level if obj._trace.level > level else level
    t = type(obj)
    if t is list or t is tuple:
        for o in obj:
            level = _scan(o, tensors, level)
    elif t is dict:
        for o in obj.values():
            level = _scan(o, tensors, level)
    return level


def _stay_innermost(trace: EagerTrace, level) -> None:
    """Give ``trace`` a fresh, higher level if a value is boxed by a transform above it.

    That happens when a transform (``chainrule.grad``) started after this graph and
    now traces a value meeting it. The eager graph must stay the innermost
    interpreter; its older records hold no box of that transform, so relabelling is safe.
    """
    if level >= trace.level:
        trace.level = new_level()


def _graph_for(tensors) -> EagerTrace:
    root, others = None, []
    for t in tensors:
        if t._box is not None:
            r = t._box._trace
            if r.merged_into is not None:
                r = _root(r)
            if root is None:
                root = r
            elif r is not root and all(r is not o for o in others):
                others.append(r)
    if root is None:
        return EagerTrace()
    if not others:
        return root
    with _LOCK:
        return _merge([root, *others])


def _on_graph(args, kwargs):
    """Unwrap the Tensors in ``args``/``kwargs``; box the ones that require grad on one graph.

    Returns ``(args, kwargs, trace)``; ``trace`` is None when nothing is recorded.
    """
    tensors = []
    level = _scan(args, tensors, 0)
    if kwargs:
        level = _scan(kwargs, tensors, level)
    if not (_GRAD_ENABLED.get() and any(t._box is not None or t._requires_grad for t in tensors)):
        return _walk(args, _raw), _walk(kwargs, _raw), None
    trace = _graph_for(tensors)
    _stay_innermost(trace, level)

    def box(t):
        return t._box_on(trace) if t._box is not None or t._requires_grad else t._raw()

    return _walk(args, box), _walk(kwargs, box), trace


def _fast_box(args, kwargs):
    """The common case without the general path's scans: ``(trace, args)``, each Tensor
    replaced by its box on the one eager graph the intermediates share; or None.

    It applies when recording is on, the intermediate Tensors among ``args`` all sit on one
    unmerged graph, and no argument holds a value traced by a functional transform or a
    Tensor inside a container. Everything else (a new graph, a merge, a level to check)
    takes :func:`_on_graph`. The graph's own boxes need no level check: a graph's level is
    raised above any transform whose values meet it (``_stay_innermost``), so whatever its
    records hold is boxed at lower levels.
    """
    if not _grad_enabled():
        return None
    trace = None
    leaves = False
    boxed = list(args)
    for i, a in enumerate(args):
        if type(a) is Tensor:
            box = a._box
            if box is not None:
                if box._trace is not trace:
                    if trace is not None:
                        return None  # two graphs: the general path merges them
                    trace = box._trace
                boxed[i] = box
            else:
                v = boxed[i] = a._value
                if isinstance(v, Box):
                    return None  # a leaf holding a functionally traced value: levels to check
                leaves = leaves or a._requires_grad
        elif isinstance(a, Box) or (type(a) in _CONTAINERS and _holds_box(a)):
            return None
    if trace is None or trace.merged_into is not None:
        return None  # only leaves (a new graph), or a merged graph
    if kwargs:
        for v in kwargs.values():
            if isinstance(v, Box) or (type(v) in _CONTAINERS and _holds_box(v)):
                return None
    if leaves:  # leaves that require grad: their input boxes on this graph
        for i, a in enumerate(args):
            if type(a) is Tensor and a._box is None and a._requires_grad:
                boxed[i] = a._box_on(trace)
    return trace, boxed


def _general(fn, args, kwargs, name):
    args, kwargs, trace = _on_graph(args, kwargs or {})
    out = fn(*args, **kwargs)
    if trace is not None and trace.merged_into is not None:
        _hand_over(trace)
    return _wrap(out, trace, name)


def _apply(fn, args, kwargs=None, name=None):
    """Run ``fn`` (a chainrule / NumPy function) on the tensors' values and wrap the result."""
    name = name or getattr(fn, "__name__", "op")
    fast = _fast_box(args, kwargs)
    if fast is None:
        return _general(fn, args, kwargs, name)
    trace, args = fast
    out = fn(*args, **kwargs) if kwargs else fn(*args)
    if trace.merged_into is not None:
        _hand_over(trace)
    return _wrap(out, trace, name)


def _process(prim, args, params):
    """One call of a differentiable primitive with a Tensor argument, recorded on its graph."""
    fast = _fast_box(args, params)
    if fast is None:
        return _general(prim, args, params, prim.name)
    trace, boxed = fast
    # Every box is this graph's or below it, so the graph records the call (what bind would pick).
    out = trace.process(prim, boxed, params)
    if trace.merged_into is not None:  # another thread merged the graph meanwhile
        _hand_over(trace)
    if type(out) is ReverseBox:
        return _node(out, prim.name)
    return _wrap(out, trace, prim.name)


def _is_float_value(v) -> bool:
    if isinstance(v, (Box, np.ndarray, np.generic)):
        return np.issubdtype(v.dtype, np.inexact)
    return isinstance(v, float)


def _node(box, op):
    """A Tensor for ``box``, a node of an eager graph (``op``: what made it)."""
    t = _new(Tensor)
    t._value = t._box = box
    t._requires_grad = False
    t._grad = None
    t._op = op
    return t


_new = object.__new__


def _wrap(out, trace, name):
    if type(out) is ReverseBox and isinstance(out._trace, EagerTrace):
        return _node(out, name)
    if type(out) in (list, tuple):
        return type(out)(_wrap(o, trace, name) for o in out)
    if isinstance(out, tuple):  # a named tuple (eigh's, slogdet's result)
        return type(out)(*(_wrap(o, trace, name) for o in out))
    if _is_float_value(out):
        return Tensor._make(np.asarray(out) if isinstance(out, float) else out)
    return out  # integer / boolean results (comparisons, argmax, shapes) stay plain


def _raw(t: Tensor):
    return t._raw()


def _to_value(data, copy: bool, dtype=None):
    """A Tensor's value from user data: eager history dropped, functional tracing kept."""
    if isinstance(data, Tensor):
        value = data.value
    elif type(data) is ReverseBox and isinstance(data._trace, EagerTrace):
        value = data._value
    elif isinstance(data, Box):
        value = data
    elif type(data) in (list, tuple) and _holds_box(data):
        value = cnp.stack([_to_value(d, False) for d in data])
    else:
        return np.array(data, dtype=dtype, copy=copy or None)
    if dtype is not None:
        value = cnp.astype(value, dtype)
    elif copy and isinstance(value, np.ndarray):
        value = value.copy()
    return value


def _holds_box(data) -> bool:
    """Whether a Tensor or a traced value sits anywhere in ``data`` (nested lists, tuples, dicts)."""
    if isinstance(data, Box):  # Tensors included
        return True
    t = type(data)
    if t is dict:
        data = data.values()
    elif t is not list and t is not tuple:
        return False
    return any(_holds_box(d) for d in data)


def _dims(axis, dim):
    if dim is not None:
        if axis is not None:
            raise TypeError("give either axis= (NumPy) or dim= (PyTorch), not both")
        return dim
    return axis


def _numpy_kwargs(kwargs: dict) -> dict:
    """PyTorch's keyword spellings in NumPy's: ``dim`` -> ``axis``, ``keepdim`` -> ``keepdims``."""
    if "dim" in kwargs:
        kwargs["axis"] = _dims(kwargs.get("axis"), kwargs.pop("dim"))
    if "keepdim" in kwargs:
        kwargs["keepdims"] = bool(kwargs.pop("keepdim") or kwargs.get("keepdims", False))
    return kwargs


def _shape_arg(shape):
    return shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape


# ----------------------------------------------------------------------------- Tensor
class _Frontend(Trace):
    """The "trace" of every Tensor: ``bind`` hands it any primitive call that has a Tensor argument.

    Its level is +inf, above every transform's, so a Tensor is always unwrapped first:
    ``process`` replaces the Tensors by their values (boxed on their eager graph
    where they require grad) and calls the primitive again. That is why every
    chainrule function (``chainrule.numpy``, ``chainrule.scipy``, ``chainrule.nn``)
    and a traced array's operators (``box * t``) accept Tensors and return Tensors.
    """

    __slots__ = ()

    def __init__(self):
        self.level = math.inf  # the one level not from new_level(): above every transform, always

    def new_input(self, value):
        """A leaf Tensor that requires grad."""
        return Tensor(value, requires_grad=True)

    def process(self, prim, args, params):
        return _process(prim, args, params)

    def __repr__(self) -> str:
        return "<chainrule.Tensor front-end>"


_FRONTEND = _Frontend()


class Tensor(Box):
    """An array with PyTorch-style reverse-mode autodiff, recorded on chainrule's tape.

    ``Tensor(data, requires_grad=False)`` wraps ``data`` without copying (use
    :func:`tensor` for a copy). ``data`` may be a value traced by a functional
    transform (inside ``chainrule.grad``): operations on the Tensor then stay traced.

    A Tensor is a :class:`~chainrule.core.primitive.Box` whose ``_trace`` is the
    front-end dispatcher and whose ``_value`` is what it wraps: for an intermediate
    the box on its eager graph (so the usual box-in-box unwrapping finds the node),
    for a leaf its value.
    """

    __slots__ = ("_box", "_requires_grad", "_grad", "_op", "__weakref__")
    __array_priority__ = 1001.0
    _trace = _FRONTEND

    def __init__(self, data, requires_grad: bool = False):
        self._grad = None
        self._requires_grad = False
        if type(data) is ReverseBox and isinstance(data._trace, EagerTrace):
            # a value recorded on an eager graph (reached through ``t._value``): keep its history
            self._value = self._box = data
            self._op = "wrap"
            return
        self._value = _to_value(data, copy=False)
        self._box = None
        self._op = None
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, value):
        """A Tensor of ``value`` outside any eager graph, not requiring grad (no copy, no checks).
        A node of a graph is made by :func:`_node`."""
        t = cls.__new__(cls)
        t._value = value
        t._box = t._grad = t._op = None
        t._requires_grad = False
        return t

    # -- graph plumbing --
    def _raw(self):
        """The value below the eager graph (plain, or boxed by a functional transform)."""
        return self._value if self._box is None else self._box._value

    def _box_on(self, trace: EagerTrace):
        box = self._box
        if box is not None:
            if box._trace is not trace:  # its graph was merged into ``trace``
                box = self._box = self._value = ReverseBox(box._value, trace, box._node)
            return box
        box = trace.leaf_boxes.get(id(self))
        if box is None or box._value is not self._value:  # new leaf here, or its data was replaced
            box = trace.leaf_boxes[id(self)] = trace.new_input(self._value)
            trace.leaves[box._node] = self
        return box

    def _graph(self):
        """The eager graph (an :class:`EagerTrace`) this tensor is on, or None for a leaf."""
        return None if self._box is None else _root(self._box._trace)

    @property
    def graph(self):
        """The eager graph (an :class:`EagerTrace`: its ``tape`` is the Wengert list) or None."""
        return self._graph()

    def __deepcopy__(self, memo):
        if self._box is not None:
            raise GraphError("only leaf tensors can be deep-copied; detach() first")
        value = self._value.copy() if isinstance(self._value, np.ndarray) else self._value
        t = Tensor(value, requires_grad=self._requires_grad)
        if self._grad is not None:
            t._grad = Tensor._make(np.array(unbox_all(self._grad._value), copy=True))
        memo[id(self)] = t
        return t

    # -- autograd attributes --
    @property
    def requires_grad(self) -> bool:
        return self._box is not None or self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if self._box is not None:
            if not flag:
                raise GraphError("requires_grad can only be changed on leaf tensors; use "
                                 "t.detach() to get a tensor that does not require grad")
            return
        if flag:
            check_differentiable(self._value, "tensor")
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self._box is None

    @property
    def grad_fn(self):
        """The name of the operation that made this tensor (``None`` for a leaf)."""
        return self._op if self._box is not None else None

    @property
    def grad(self):
        """The accumulated gradient (a Tensor) of a leaf, or ``None``; set to ``None`` to zero it."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = value if isinstance(value, Tensor) else Tensor(value)
            if value.shape != self.shape:
                raise ValueError(f"assigned grad has shape {value.shape}, but the tensor has "
                                 f"shape {self.shape}")
        self._grad = value

    @property
    def value(self):
        """The array a functional transform sees: eager graph stripped, ``grad`` tracing kept."""
        return self._raw()

    @property
    def data(self) -> Tensor:
        """The value as a new tensor outside any graph (``p.data -= lr * p.grad`` updates ``p``)."""
        return Tensor._make(self._raw())

    @data.setter
    def data(self, value):
        if self._box is not None:
            raise InPlaceError("cannot assign .data of a non-leaf tensor; its value is on the tape")
        self._value = _to_value(value, copy=False)

    def detach(self) -> Tensor:
        """The value as a constant: no gradient of any transform (eager or functional) flows back."""
        return Tensor._make(unbox_all(self._value))

    def clone(self) -> Tensor:
        return _apply(cnp.positive, (self,), None, "clone")

    # -- backward --
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Add d(self)/d(leaf), contracted with ``gradient``, into ``leaf.grad`` for every leaf.

        ``gradient`` defaults to 1 for a one-element tensor and is required otherwise.
        ``create_graph=True`` records the backward pass itself, so the resulting
        ``.grad`` can be differentiated again; ``retain_graph`` (default
        ``create_graph``) keeps the graph for another backward pass; otherwise the
        records this pass walked are freed. ``inputs`` limits which leaves accumulate.
        """
        if not self.requires_grad:
            raise GraphError("this tensor does not require grad and has no graph: create its "
                             "inputs with requires_grad=True (outside no_grad) to differentiate")
        want = None if inputs is None else _leaf_ids(inputs)
        if retain_graph is None:
            retain_graph = create_graph
        if self._box is None:  # a leaf: d self / d self = identity
            seed, _ = self._seed(gradient, None)
            if want is None or id(self) in want:
                self._accumulate(seed, None, create_graph, {id(seed)})
            return
        trace = self._graph()
        seed, trace = self._seed(gradient, trace)
        with _LOCK:  # what this pass walks is decided, checked and (without retain_graph) claimed at once
            trace = _root(trace)
            _stay_innermost(trace, _scan(seed, [], 0))
            node = self._box_on(trace)._node
            seeds = {node: seed}
            live, used = ancestors(trace.tape, seeds)
            dead = live & trace.freed
            if dead:
                raise GraphError(
                    "trying to backward through part of a graph that an earlier .backward() "
                    f"already freed ({len(dead)} node(s)). Pass retain_graph=True to the first "
                    "backward if you need to go through the graph again, or recompute the "
                    "forward pass (detach values carried over from an earlier iteration).")
            targets = [(n, leaf) for n, leaf in trace.leaves.items()
                       if n in live and (want is None or id(leaf) in want)]
            if not (retain_graph or create_graph):
                _release(trace, used)  # a concurrent backward through these records now raises
        wanted = [n for n, _ in targets]
        if create_graph:  # the rules see boxes of this graph and record onto it
            grads = trace.backward(seeds, wanted, create_graph=True)
            if not retain_graph:
                with _LOCK:
                    _release(trace, used)
        elif retain_graph:
            grads = pull(used, seeds, wanted)
        else:  # claimed records are dropped one by one as the pass goes (their saved values too)
            used.reverse()
            grads = pull(consume(used), seeds, wanted)
        given = {id(seed)}
        for (_, leaf), g in zip(targets, grads, strict=True):
            if g is not None:
                leaf._accumulate(g, trace, create_graph, given)

    def _seed(self, gradient, trace):
        if not np.issubdtype(self.dtype, np.inexact):
            raise TypeError(f"backward needs a floating-point output, got dtype {self.dtype}")
        if gradient is None:
            if self.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a one-element output, got shape "
                    f"{self.shape}: pass gradient= (a cotangent of that shape), or reduce first "
                    "(e.g. y.sum().backward())")
            return np.ones(self.shape, dtype=self.dtype), trace
        if not isinstance(gradient, Tensor):
            gradient = Tensor(gradient)
        if gradient.shape != self.shape:
            raise ValueError(f"gradient has shape {gradient.shape}, but the output has shape "
                             f"{self.shape}")
        if not (gradient.requires_grad and _GRAD_ENABLED.get()) or trace is None:
            return gradient._raw(), trace
        (_, g), _, trace = _on_graph((self, gradient), {})
        return g, trace

    def _accumulate(self, g, trace, create_graph, given: set):
        """Add the cotangent ``g`` into ``.grad``; ``given``: ids of arrays other leaves (or
        the seed) already hold in this pass."""
        if type(g) is ReverseBox and trace is not None and g._trace is trace:  # create_graph
            new = _node(g, "backward")
        elif isinstance(g, Box):  # traced by a functional transform (Tensor code inside grad)
            new = Tensor._make(g)
        else:
            if np.shape(g) != self.shape and not np.ndim(g):  # a symbolic broadcast scalar
                g = np.full(self.shape, g, dtype=self.dtype)
            new = Tensor._make(_own(g, self.dtype, given))
        if new.shape != self.shape:
            if new.ndim:
                raise ValueError(f"internal error: cotangent of shape {new.shape} for a leaf of "
                                 f"shape {self.shape}")
            new = _apply(cnp.broadcast_to, (new, self.shape), None, "backward")
        with _LOCK:  # read, add, write: two threads adding into one leaf must not lose one
            if self._grad is None:
                self._grad = new
            else:
                with set_grad_enabled(create_graph):
                    total = self._grad + new
                v = total._value
                if not isinstance(v, (np.ndarray, Box)):  # 0-d sums come back as NumPy scalars
                    total._value = np.asarray(v)
                self._grad = total

    # -- metadata --
    @property
    def shape(self) -> tuple:
        return tuple(np.shape(unbox_all(self._value)))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def dim(self) -> int:
        return self.ndim

    @property
    def dtype(self):
        v = self._value
        return v.dtype if hasattr(v, "dtype") else np.result_type(v)

    @property
    def size(self) -> int:
        """Number of elements (NumPy's ``.size``; PyTorch's ``numel()``)."""
        return int(np.prod(self.shape))

    def numel(self) -> int:
        return self.size

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # -- conversions --
    def _plain(self, what):
        v = self._raw()
        if isinstance(v, Box):
            raise TracerEscapeError(
                f"{what} on a Tensor traced by a functional transform (chainrule.grad...) would "
                "drop that derivative; use .value to keep it traced, or .detach() to drop it")
        return v

    def numpy(self) -> np.ndarray:
        """The value as a new ndarray (a copy, detached from the graph)."""
        return np.array(self._plain(".numpy()"), copy=True)

    def item(self):
        v = np.asarray(self._plain(".item()"))
        if v.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {v.shape}")
        return v.item()

    def tolist(self):
        return np.asarray(self._plain(".tolist()")).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(unbox_all(self._value))

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise TracerEscapeError(
                "converting a Tensor that requires grad to a NumPy array would drop its gradient; "
                "use t.numpy() or t.detach() for the value. To compute with it, use the Tensor's "
                "methods or NumPy's own functions (np.sum(t), np.tanh(t) are recorded); "
                "chainrule.numpy functions that convert their argument first end up here")
        v = np.asarray(self._plain("np.asarray()"), dtype=dtype)
        return v.copy() if copy else v

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(np.asarray(unbox_all(self._value)), separator=", ", prefix="tensor(")
        extra = ""
        if self._box is not None:
            extra = f", grad_fn=<{self._op}>"
        elif self._requires_grad:
            extra = ", requires_grad=True"
        if isinstance(self._raw(), Box):
            extra += ", traced"
        return f"tensor({body}{extra})"

    __str__ = __repr__

    def __format__(self, spec):
        if spec and self.size == 1:
            return format(np.asarray(unbox_all(self._value)).item(), spec)
        return format(str(self), spec)

    # -- NumPy protocols: np.tanh(t), np.sum(t) record the same primitives --
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            raise InPlaceError(f"numpy.{ufunc.__name__}(..., out=...) with a Tensor writes in "
                               "place; write `y = op(...)` instead")
        if method == "at":
            return _ufunc_at(ufunc, *inputs, **kwargs)
        fn = ufunc if method == "__call__" else getattr(ufunc, method)
        return _apply(fn, inputs, kwargs, name=ufunc.__name__)

    def __array_function__(self, func, types, args, kwargs):
        return _apply(func, args, kwargs, name=func.__name__)

    # -- in place: the tensor object takes the new value; arrays are never overwritten --
    def _inplace(self, result):
        result = result if isinstance(result, Tensor) else Tensor._make(result)
        if result.shape != self.shape:
            raise ValueError(f"in-place result has shape {result.shape}, but the tensor has "
                             f"shape {self.shape}")
        if result._box is not None and self._box is None and self._requires_grad:
            raise InPlaceError(
                "in-place operation on a leaf tensor that requires grad: its gradient would be "
                "meaningless. Update parameters inside `with chainrule.no_grad():` or via "
                "p.data (p.data -= lr * p.grad)")
        if self._box is None and result._box is None:
            self._value = result._value  # a leaf keeps its identity (and its requires_grad)
        else:
            self._value, self._box, self._op = result._value, result._box, result._op
        return self

    def __iadd__(self, other):
        return self._inplace(self + other)

    def __isub__(self, other):
        return self._inplace(self - other)

    def __imul__(self, other):
        return self._inplace(self * other)

    def __itruediv__(self, other):
        return self._inplace(self / other)

    def __ipow__(self, other):
        return self._inplace(self ** other)

    def __imatmul__(self, other):
        return self._inplace(self @ other)

    # -- indexing --
    def __getitem__(self, key):
        key = _walk(key, _constant_value)  # index Tensors are constants
        return _apply(_GETITEM, (self, key), None, "getitem")

    def __setitem__(self, key, value):
        """``x[key] = v`` records ``at_set(x, key, v)``: NumPy's assignment (among repeated
        indices the last write wins); the gradient flows to the winning entries of ``v``,
        not to the overwritten ones of ``x``."""
        key = _walk(key, _constant_value)
        self._inplace(_apply(cnp.at_set, (self, key, value), None, "setitem"))

    # -- PyTorch's spellings (NumPy's methods and operators come from the operator table) --
    def copy(self):
        """A new tensor (NumPy's ``copy``): its later in-place updates leave this one alone."""
        return self.clone()

    def sort(self, axis=-1, kind=None, order=None, *, stable=None):
        """Sorts in place, as NumPy's ``ndarray.sort`` (the tensor takes the sorted value)."""
        self._inplace(cnp.sort(self, axis=axis, kind=kind, order=order, stable=stable))

    def transpose(self, dim0=None, dim1=None):
        """PyTorch's ``transpose(dim0, dim1)`` swaps two axes; with no arguments all axes reverse."""
        if dim0 is None and dim1 is None:
            return cnp.transpose(self)
        if dim0 is None or dim1 is None:
            raise TypeError("transpose takes two axes to swap (dim0, dim1), or none; "
                            "use permute(*axes) for a full permutation")
        return cnp.swapaxes(self, dim0, dim1)

    def view(self, *shape):
        """Same as ``reshape`` (values are never shared for writing, so a view is a reshape)."""
        return cnp.reshape(self, _shape_arg(shape))

    def permute(self, *dims):
        return cnp.transpose(self, tuple(_shape_arg(dims)))

    def expand(self, *shape):
        return cnp.broadcast_to(self, tuple(_shape_arg(shape)))

    def to(self, dtype):
        return self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def pow(self, exponent):
        return self ** exponent

    def softmax(self, dim=-1):
        return _special.softmax(self, axis=dim)

    def log_softmax(self, dim=-1):
        return _special.log_softmax(self, axis=dim)

    def logsumexp(self, dim=None, keepdim=False):
        return _special.logsumexp(self, axis=dim, keepdims=keepdim)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy/PyTorch names
        return cnp.clip(self, min, max)

    clamp = clip


def _constant_value(t: Tensor):
    return unbox_all(t._value)


_GETITEM = OPERATORS["__getitem__"]


def _ufunc_at(ufunc, a, indices, b=None):
    """``np.add.at(t, i, v)`` (any ufunc's ``.at``) on a Tensor ``t``: NumPy's unbuffered
    in-place update, recorded as ``chainrule.numpy.ufunc_at`` (a repeated index applies the
    operation once per occurrence); ``t`` takes the new value, as ``t[i] += v`` does. Into a
    plain ndarray only values without a gradient can be written."""
    indices = _walk(indices, _constant_value)  # index Tensors are constants
    if not isinstance(a, Tensor):
        if isinstance(b, Tensor) and (b.requires_grad or b._box is not None or isinstance(b._raw(), Box)):
            raise InPlaceError(f"numpy.{ufunc.__name__}.at(a, indices, t) would write a Tensor that "
                               "has a gradient into the plain array a, which cannot hold it; use a "
                               "Tensor a, or a = chainrule.numpy.ufunc_at(ufunc, a, indices, t)")
        ufunc.at(a, indices, *(() if b is None else (np.asarray(b),)))
        return None
    args = (ufunc, a, indices) + (() if b is None else (b,))
    a._inplace(_apply(cnp.ufunc_at, args, None, f"{ufunc.__name__}.at"))
    return None


# PyTorch's method names that NumPy arrays do not have: name -> the function it calls
TORCH_METHODS = {
    "exp": cnp.exp, "log": cnp.log, "sqrt": cnp.sqrt, "sin": cnp.sin, "cos": cnp.cos,
    "tanh": cnp.tanh, "abs": cnp.absolute, "square": cnp.square, "matmul": cnp.matmul,
    "unsqueeze": cnp.expand_dims, "expand_dims": cnp.expand_dims,
    # the one definition of each activation (chainrule.nn and `chainrule explain` call the same)
    "relu": activations.relu, "sigmoid": activations.sigmoid, "gelu": activations.gelu,
}


def _operator(fn, name: str, reflected: bool = False):
    """``fn`` of the operator table as a Tensor operator or method.

    A differentiable primitive goes straight to the front-end's ``process`` (what ``bind``
    would pick: a Tensor is always the innermost box); a non-differentiable one (a
    comparison) through ``bind``, which gives its plain value. Any other function runs on
    the Tensors' boxes (one boxing for its whole composite) and its result is wrapped.
    PyTorch's ``dim=``/``keepdim=`` are read as NumPy's ``axis=``/``keepdims=``.
    """
    if isinstance(fn, Primitive):
        prim = fn
        if not prim.differentiable:
            if reflected:
                return lambda self, other: bind(prim, (other, self), {})

            def op(*args, **params):
                return bind(prim, args, _numpy_kwargs(params) if params else params)
        elif reflected:
            return lambda self, other: _process(prim, (other, self), {})
        else:
            def op(*args, **params):
                return _process(prim, args, _numpy_kwargs(params) if params else params)
    elif reflected:
        return lambda self, other: _apply(fn, (other, self), None, name)
    else:
        def op(self, *args, **kwargs):
            return _apply(fn, (self, *args), _numpy_kwargs(kwargs) if kwargs else None, name)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = getattr(fn, "__doc__", None)
    return op


def _install(cls) -> None:
    """``cls``'s operators, methods and properties from the one operator table
    (``chainrule.numpy.operators``) and :data:`TORCH_METHODS`. A name the class body
    defines keeps the body's meaning (PyTorch's ``transpose(dim0, dim1)``, say)."""
    own = set(vars(cls))
    for table, reflected in ((OPERATORS, False), (REFLECTED, True), (METHODS, False),
                             (TORCH_METHODS, False)):
        for dunder, fn in table.items():
            if dunder not in own:
                name = getattr(fn, "name", None) or getattr(fn, "__name__", dunder)
                setattr(cls, dunder, _operator(fn, dunder if table is METHODS else name, reflected))
    for prop, fn in PROPERTIES.items():
        if prop not in own:
            setattr(cls, prop, property(_operator(fn, prop)))


_install(Tensor)
# `a[i] = t` then raises the TracerEscapeError of t's float(), not NumPy's "sequence" ValueError
not_a_c_sequence(Tensor)


def _own(g, dtype, given: set) -> np.ndarray:
    """``g`` as an array a leaf's ``.grad`` may own: writable, of the leaf's dtype, and not
    the seed, a view (a read-only broadcast, a reshape of the seed) or an array another
    leaf got in this pass; otherwise a copy. Writing into a ``.grad`` then changes nothing
    else, and changing the seed afterwards does not change ``.grad``."""
    if type(g) is not np.ndarray:  # a NumPy or Python scalar
        g = np.array(g, dtype=dtype)
    elif g.dtype != dtype or g.base is not None or not g.flags.writeable or id(g) in given:
        g = g.astype(dtype)  # a copy
    given.add(id(g))
    return g


def _leaf_ids(inputs) -> set:
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for t in inputs:
        if not isinstance(t, Tensor) or not t.is_leaf:
            raise ValueError("backward(inputs=...) takes leaf tensors (created with "
                             "requires_grad=True)")
    return {id(t) for t in inputs}


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new leaf tensor with a copy of ``data`` (like ``torch.tensor``).

    A Tensor argument gives its value without its graph; a value traced by
    ``chainrule.grad`` stays traced. Python floats become float64.
    """
    return Tensor(_to_value(data, copy=True, dtype=dtype), requires_grad=requires_grad)


def zero_grad(*tensors) -> None:
    """Set ``.grad = None`` on the given tensors (or on an iterable of them)."""
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        tensors = tuple(tensors[0])
    for t in tensors:
        t.grad = None
