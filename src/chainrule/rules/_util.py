"""The two rule families built from a table of derivatives: elementwise primitives and
piecewise-constant ops. The broadcasting bookkeeping they use (``unbroadcast``, ``lift``,
``fill``) lives with the linear primitives in :mod:`.linear`. Also here: :func:`every_example`
and :func:`agreed`, the one sanctioned way for a composite to read values to choose a size
or a shape that must serve every example of a ``vmap`` batch.
"""

from __future__ import annotations

import numpy as np

from ..core.aval import dtype_of
from ..core.errors import NoRuleError
from ..core.primitive import Box, Primitive
from .dispatch import implements
from .linear import fill, lift, unbroadcast


def elementwise(name: str, fn, *derivatives, doc: str | None = None, impl=None,
                saves=None, scalars: bool = True) -> Primitive:
    """An elementwise primitive from its partial derivatives ``d_i(ans, *args)``.

    One derivative serves both modes (PyTorch's ``auto_element_wise``):
    VJP ``unbroadcast(g * d_i)``, JVP ``lift(t) * d_i``. ``fn`` is the NumPy function
    dispatched to this primitive; ``impl`` (default ``fn``) computes it. ``saves`` lists
    what the derivatives read (see ``Primitive``): argument positions and/or ``"ans"``.
    The derivatives see Python-scalar arguments as NumPy scalars (:func:`_numpy_scalars`);
    ``scalars=False`` skips that for derivatives that do no arithmetic on them (multiply's).
    """
    prim = Primitive(name, fn if impl is None else impl, doc=doc, saves=saves)
    if len(derivatives) == 1 and scalars:  # the cast inlined: one frame less per backward step
        (d,) = derivatives

        def vjp(g, ans, x, **kw):
            return g * d(ans, _cast(ans, x) if type(x) in _PY_SCALARS else x, **kw)

        def jvp(t, ans, x, **kw):
            return t * d(ans, _cast(ans, x) if type(x) in _PY_SCALARS else x, **kw)
        prim.defvjp(vjp)
        prim.defjvp(jvp)
        implements(fn)(prim)
        return prim
    if len(derivatives) == 1:
        (d,) = derivatives
        prim.defvjp(lambda g, ans, x, **kw: g * d(ans, x, **kw))
        prim.defjvp(lambda t, ans, x, **kw: t * d(ans, x, **kw))
    else:
        prim.defvjp(*[_vjp_of(d, i, scalars) for i, d in enumerate(derivatives)])
        prim.defjvp(*[_jvp_of(d, i, scalars) for i, d in enumerate(derivatives)])
    implements(fn)(prim)
    return prim


def _numpy_scalars(d):
    """``d(ans, *args)`` with every Python-scalar argument made a NumPy scalar of ``ans``'s dtype.

    A Python float reaches a rule unboxed when it is a transform's input (``grad(np.log)(0.0)``)
    or a constant operand (``x / 0.0``), and Python's arithmetic on it raises where NumPy's
    gives inf or nan: ``1.0 / 0.0`` and ``0.0 ** -0.5`` are ZeroDivisionErrors, ``2.0 ** 1e308``
    an OverflowError, ``(-4.0) ** -0.5`` a complex number. NumPy computes with a Python scalar
    cast to the result's dtype (it is weakly typed), so ``ans``'s dtype keeps the rule's
    value and dtype what NumPy's own arithmetic gives (a float32 input stays float32).
    """
    cast = _cast

    # one wrapper per common arity: this runs in every backward step, so no *args there
    def unary(ans, x):
        if type(x) in _PY_SCALARS:
            x = cast(ans, x)
        return d(ans, x)

    def binary(ans, x, y):
        if type(x) in _PY_SCALARS:
            x = cast(ans, x)
        if type(y) in _PY_SCALARS:
            y = cast(ans, y)
        return d(ans, x, y)

    def nary(ans, *args):
        return d(ans, *[cast(ans, a) if type(a) in _PY_SCALARS else a for a in args])

    arity = getattr(getattr(d, "__code__", None), "co_argcount", 0)
    return unary if arity == 2 else binary if arity == 3 else nary


def _cast(ans, v):
    """The Python scalar ``v`` as a NumPy scalar of ``ans``'s dtype (float64 for an integer ``ans``)."""
    t = type(ans)
    if t in _INEXACT_SCALARS:  # the common case, a NumPy scalar result: its own type
        return t(v)
    dt = dtype_of(ans)
    return dt.type(v) if dt.kind in "fc" else np.float64(v)


_PY_SCALARS = frozenset({float, int, bool, complex})
_INEXACT_SCALARS = frozenset(t for t in np.sctypeDict.values() if issubclass(t, np.inexact))


def _binary(d, scalars: bool) -> bool:
    """Whether ``d(ans, x, y)`` gets the two-argument rules, with the casts inlined (they run
    in every backward step); other arities go through :func:`_numpy_scalars`."""
    return scalars and getattr(getattr(d, "__code__", None), "co_argcount", 0) == 3


def _vjp_of(d, i, scalars=False):
    if d is None:
        return None
    if _binary(d, scalars):
        def vjp2(g, ans, x, y):
            if type(x) in _PY_SCALARS:
                x = _cast(ans, x)
            if type(y) in _PY_SCALARS:
                y = _cast(ans, y)
            c = g * d(ans, x, y)
            arg = y if i else x
            return c if getattr(arg, "shape", ()) == getattr(ans, "shape", ()) else unbroadcast(c, arg, ans)
        return vjp2
    if scalars:
        d = _numpy_scalars(d)

    def vjp(g, ans, *args):
        x = args[i]
        if getattr(x, "shape", ()) == getattr(ans, "shape", ()):  # x was not broadcast
            return g * d(ans, *args)
        return unbroadcast(g * d(ans, *args), x, ans)
    return vjp


def _jvp_of(d, i, scalars=False):
    if d is None:
        return None
    if _binary(d, scalars):
        def jvp2(t, ans, x, y):
            if type(x) in _PY_SCALARS:
                x = _cast(ans, x)
            if type(y) in _PY_SCALARS:
                y = _cast(ans, y)
            arg = y if i else x
            if getattr(arg, "shape", ()) == getattr(ans, "shape", ()):  # arg was not broadcast
                return t * d(ans, x, y)
            return fill(lift(t, arg, ans) * d(ans, x, y), t, arg, ans)
        return jvp2
    if scalars:
        d = _numpy_scalars(d)

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


# ---------------------------------------------------------------- values that choose a size
def every_example(x):
    """The plain values of ``x`` in every example at once, for choosing something all of
    them share: a number of terms large enough for each (the extra terms of an example add
    nothing), or a shape they must agree on (:func:`agreed`).

    Derivative traces are stripped (the choice is piecewise constant: no derivative). A
    ``vmap`` batch is read whole, its batch axes in front of the example's axes, so only a
    reduction over every element (``max``, ``all``, ``any``) means the same as for one
    example; nothing is per-example silently. Under ``jit`` the staging trace is told, as
    :func:`~chainrule.core.primitive.unbox_all` tells it (that call then runs eagerly).
    """
    while isinstance(x, Box):
        if x._staged and not getattr(x, "_holds_every_example", False):
            x._trace.read_value()
        x = x._value
    return x


def agreed(flag, what: str) -> bool:
    """``bool(flag)`` for ``flag``, one boolean per example, when every example has the same
    value: a branch that decides an output's shape can then be taken for the whole batch.
    When the examples of a ``vmap`` batch differ, its trace raises ``BatchedValueError``
    with ``what`` (the reason one shape cannot serve them all)."""
    v = np.asarray(every_example(flag))
    if v.all():
        return True
    if not v.any():
        return False
    while not getattr(flag, "_holds_every_example", False):  # the batch whose examples differ
        if not isinstance(flag, Box):
            raise ValueError(f"agreed: {what}; the flag has several values ({v.shape}) but is "
                             "not batched: it must be one boolean per example")
        flag = flag._value
    flag._trace.read_value(what)

