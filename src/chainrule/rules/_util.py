"""Shared helpers for writing batch-polymorphic rules.

A cotangent ``g`` reaching a rule has shape ``batch + ans.shape`` and a tangent
``t`` of argument ``x`` has shape ``batch + x.shape``, where ``batch`` is zero or
more leading axes (a Jacobian's identity rows). Rules never look at ``batch``
directly; they use these helpers and negative axes.
"""

from __future__ import annotations

from ..core.primitive import Box, Primitive, implements
from . import reductions as _reductions
from . import shape as _shape_ops


def shape(x) -> tuple:
    # getattr with a default: a Python scalar costs no raised-and-caught AttributeError
    return getattr(x, "shape", ())


def ndim(x) -> int:
    return len(getattr(x, "shape", ()))


def nbatch(g, ans) -> int:
    """Number of leading batch axes on a cotangent ``g`` of output ``ans``."""
    return ndim(g) - ndim(ans)


def unbroadcast(g, x, ans):
    """Sum ``g`` (shape ``batch + ans.shape``) down to ``batch + x.shape``: the VJP of broadcasting."""
    gs = getattr(g, "shape", ())
    xs = getattr(x, "shape", ())
    if gs == xs:
        return g
    nb = len(gs) - len(getattr(ans, "shape", ()))
    target = gs[:nb] + xs
    if gs == target:
        return g
    extra = len(gs) - len(target)
    axes = tuple(range(nb, nb + extra)) + tuple(
        nb + extra + i for i, d in enumerate(xs) if d == 1 and gs[nb + extra + i] != 1)
    return _shape_ops.reshape(_reductions.sum(g, axis=axes), target)


def lift(t, x, ans):
    """Reshape a tangent ``batch + x.shape`` to ``batch + (1,...) + x.shape`` so it broadcasts like ``x``."""
    ts = getattr(t, "shape", ())
    xn = len(getattr(x, "shape", ()))
    an = len(getattr(ans, "shape", ()))
    if len(ts) == xn or xn == an:
        return t
    nb = len(ts) - xn
    return _shape_ops.reshape(t, ts[:nb] + (1,) * (an - xn) + ts[nb:])


def fill(c, t, x, ans):
    """Broadcast a tangent contribution to the full ``batch + ans.shape``."""
    ts = getattr(t, "shape", ())
    want = ts[: len(ts) - len(getattr(x, "shape", ()))] + getattr(ans, "shape", ())
    return c if getattr(c, "shape", ()) == want else _shape_ops.broadcast_to(c, want)


def elementwise(name: str, fn, *derivatives, doc: str | None = None, impl=None,
                saves=None) -> Primitive:
    """An elementwise primitive from its partial derivatives ``d_i(ans, *args)``.

    One derivative serves both modes (PyTorch's ``auto_element_wise``):
    VJP ``unbroadcast(g * d_i)``, JVP ``lift(t) * d_i``. ``fn`` is the NumPy function
    dispatched to this primitive; ``impl`` (default ``fn``) computes it. ``saves`` lists
    what the derivatives read (see ``Primitive``): argument positions and/or ``"ans"``.
    """
    prim = Primitive(name, fn if impl is None else impl, doc=doc, saves=saves)
    if len(derivatives) == 1:
        (d,) = derivatives
        prim.defvjp(lambda g, ans, x, **kw: g * d(ans, x, **kw))
        prim.defjvp(lambda t, ans, x, **kw: t * d(ans, x, **kw))
    else:
        prim.defvjp(*[_vjp_of(d, i) for i, d in enumerate(derivatives)])
        prim.defjvp(*[_jvp_of(d, i) for i, d in enumerate(derivatives)])
    implements(fn)(prim)
    return prim


def _vjp_of(d, i):
    if d is None:
        return None

    def vjp(g, ans, *args):
        x = args[i]
        if getattr(x, "shape", ()) == getattr(ans, "shape", ()):  # x was not broadcast
            return g * d(ans, *args)
        return unbroadcast(g * d(ans, *args), x, ans)
    return vjp


def _jvp_of(d, i):
    if d is None:
        return None

    def jvp(t, ans, *args):
        x = args[i]
        if getattr(x, "shape", ()) == getattr(ans, "shape", ()):  # x was not broadcast
            return t * d(ans, *args)
        return fill(lift(t, x, ans) * d(ans, *args), t, x, ans)
    return jvp


def constant_op(name: str, fn, doc: str | None = None) -> Primitive:
    """A piecewise-constant or boolean op: its output carries no derivative (zero a.e.)."""
    prim = Primitive(name, fn, differentiable=False, doc=doc)
    implements(fn)(prim)
    return prim


def is_traced(x) -> bool:
    return isinstance(x, Box)
