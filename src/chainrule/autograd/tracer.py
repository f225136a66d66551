"""``autograd.tracer``: the names programs import from it. ``primitive`` and
``notrace_primitive`` are :mod:`chainrule.autograd.extend`'s; ``Box`` is chainrule's traced
value (every trace's box subclasses it), ``isbox(x)`` says whether ``x`` is one, and
``getval(x)`` is the plain value under every trace (autograd's boxes and chainrule's both nest,
one per active transform). ``trace(start_node, fun, x)`` with a program's ``Node`` subclass
records one node per primitive, as autograd's tracer does."""

from __future__ import annotations

from ..core.primitive import Box, unbox_all
from ._node_trace import Node, trace
from .extend import notrace_primitive, primitive

__all__ = ["Box", "Node", "getval", "isbox", "notrace_primitive", "primitive", "trace"]


def isbox(x) -> bool:
    """``True`` for a traced value (a value some active transform is recording)."""
    return isinstance(x, Box)


def getval(x):
    """The value under every trace: a plain array or number, with no derivative."""
    return unbox_all(x)
