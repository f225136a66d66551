"""``autograd.misc.tracers``: ``const_graph``.

autograd's ``const_graph(fun, *args, **kwargs)`` records ``fun``'s primitives on its first call
and replays that record on later calls, skipping Python's overhead. ``chainrule.jit`` is that:
it stages ``fun`` once per input signature (shapes, dtypes) and then runs the straight-line
program. The differences: a new signature is staged again (autograd would replay the first
record whatever the shapes), and a program that must read its data runs eagerly.
"""

from __future__ import annotations

import functools

from ...compile.staging import jit

__all__ = ["const_graph"]


def const_graph(fun, *args, **kwargs):
    """``fun`` with ``args``/``kwargs`` bound, staged once per signature and then replayed."""
    return functools.wraps(fun)(jit(functools.partial(fun, *args, **kwargs)))
