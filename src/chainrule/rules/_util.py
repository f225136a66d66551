"""The two rule families built from a table of derivatives: elementwise primitives and
piecewise-constant ops. The broadcasting bookkeeping they use (``unbroadcast``, ``lift``,
``fill``) lives with the linear primitives in :mod:`.linear`.
"""

from __future__ import annotations

from ..core.errors import NoRuleError
from ..core.primitive import Primitive
from .dispatch import implements
from .linear import fill, lift, unbroadcast


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


def no_derivative(name: str, what: str):
    """A partial derivative with no closed form (a Bessel function's order, ``betainc``'s ``a``):
    a derivative for :func:`elementwise` that raises ``NoRuleError`` naming the function and
    the argument, in whichever mode asks for it."""
    def d(ans, *args):
        raise NoRuleError(f"{name}: no derivative with respect to {what} (SciPy has no closed "
                          f"form for it); pass it as a constant")
    return d


def constant_op(name: str, fn, doc: str | None = None) -> Primitive:
    """A piecewise-constant or boolean op: its output carries no derivative (zero a.e.)."""
    prim = Primitive(name, fn, differentiable=False, doc=doc)
    implements(fn)(prim)
    return prim
