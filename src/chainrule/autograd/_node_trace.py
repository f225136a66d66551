"""autograd's user-extensible tracer, ``trace(start_node, fun, x)`` with ``Node`` subclasses,
run on chainrule's own trace protocol.

autograd lets a program subclass ``tracer.Node`` and call ``trace(Node.new_root(...), fun, x)``:
every primitive that ``fun`` applies to a value depending on ``x`` then builds one node,
``NodeType(value, fun, args, kwargs, parent_argnums, parents)``, whose ``parents`` are the nodes
of the traced arguments; ``trace`` returns ``(end_value, end_node)``. autograd's own examples use
it to print an evaluation trace and to draw the graph. Here a :class:`NodeTrace` is one more
chainrule :class:`~chainrule.core.trace.Trace`: nested under (or over) the differentiating
transforms like any other, so tracing ``grad(f)`` records the backward pass's primitives too.

The ``fun`` a node receives is a callable named after chainrule's primitive (``fun.__name__``),
which applies that primitive; chainrule's primitives are finer-grained than autograd's in places
(a composite such as ``mean`` shows as ``sum`` and ``multiply``), and names follow chainrule.
"""

from __future__ import annotations

import warnings

from ..core.primitive import Box, bind
from ..core.trace import Trace, TracedArray

__all__ = ["Node", "trace"]


class Node:
    """Base class of a program's node type: ``__init__(value, fun, args, kwargs,
    parent_argnums, parents)`` for a primitive's result, ``initialize_root(*args, **kwargs)``
    for the start node (made by ``new_root``)."""

    __slots__ = []

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        raise NotImplementedError("a Node subclass defines __init__(value, fun, args, kwargs, "
                                  "parent_argnums, parents)")

    def initialize_root(self, *args, **kwargs):
        raise NotImplementedError("a Node subclass defines initialize_root(...) for new_root")

    @classmethod
    def new_root(cls, *args, **kwargs):
        """A start node: created without ``__init__``, then ``initialize_root(*args, **kwargs)``."""
        root = cls.__new__(cls)
        root.initialize_root(*args, **kwargs)
        return root


_callables: dict = {}  # Primitive -> the named callable its nodes receive as ``fun``


def _as_callable(prim):
    """A function named ``prim.name`` that applies ``prim`` (``fun(*args, **kwargs)``)."""
    f = _callables.get(prim)
    if f is None:
        def f(*args, **kwargs):
            return bind(prim, list(args), kwargs)
        f.__name__ = f.__qualname__ = prim.name
        _callables[prim] = f
    return f


class NodeBox(TracedArray):
    """A value that depends on the traced input, with the node that computed it."""

    __slots__ = ("_node",)

    def __init__(self, value, trace, node):
        self._value = value
        self._trace = trace
        self._node = node


class NodeTrace(Trace):
    """Builds one node per primitive applied to this trace's boxes (the node type is the
    first traced argument's, as in autograd)."""

    __slots__ = ()

    def new_input(self, value, node) -> NodeBox:
        return NodeBox(value, self, node)

    def process(self, prim, args, params):
        vals = list(args)
        argnums, parents = [], []
        nested = False  # a value still boxed by another trace
        for i, a in enumerate(args):
            if type(a) is NodeBox and a._trace is self:
                argnums.append(i)
                parents.append(a._node)
                a = vals[i] = a._value
            if isinstance(a, Box):
                nested = True
        ans = bind(prim, vals, params) if nested else prim.impl(*vals, **params)
        node = type(parents[0])(ans, _as_callable(prim), tuple(vals), dict(params), tuple(argnums),
                                tuple(parents))
        if prim.multiple_results:
            return tuple(NodeBox(v, self, node) for v in ans)
        return NodeBox(ans, self, node)


def trace(start_node, fun, x):
    """Apply ``fun`` to ``x`` while recording: returns ``(end_value, end_node)``; if the result
    does not depend on ``x``, warns and returns ``(result, None)`` (autograd's behaviour)."""
    t = NodeTrace()
    end = fun(t.new_input(x, start_node))
    if type(end) is NodeBox and end._trace is t:
        return end._value, end._node
    warnings.warn("Output seems independent of input.", stacklevel=2)
    return end, None
