"""Extending chainrule: custom primitives with their own derivative rules.

    @chainrule.primitive
    def logcosh(x):
        return np.logaddexp(x, -x) - np.log(2)

    logcosh.defvjp(lambda g, ans, x: g * chainrule.numpy.tanh(x))
    logcosh.defjvp(lambda t, ans, x: t * chainrule.numpy.tanh(x))

Rules receive the cotangent ``g`` (or tangent ``t``), the output ``ans``, then the
inputs by name, then any keyword arguments (static parameters). Write them with
``chainrule.numpy`` so they can themselves be differentiated: the new primitive
then works at every order and inside every transform. Rules must also let leading
batch axes of ``g`` / ``t`` pass through (``g @ A``, not ``A.T @ g``): Jacobians and
Hessians push whole batches through them. ``check_grads`` checks both and names the
primitive if a rule is wrong; see docs/extending.md.
"""

from __future__ import annotations

from .core.primitive import Primitive, strip_derivatives
from .rules.dispatch import implements

__all__ = ["primitive", "Primitive", "implements", "stop_gradient"]


def primitive(fn=None, *, name: str | None = None, multiple_results: bool = False):
    """Decorator turning a NumPy function into a chainrule primitive (add rules with defvjp/defjvp)."""
    def wrap(f):
        return Primitive(name or f.__name__, f, multiple_results=multiple_results, doc=f.__doc__)
    return wrap if fn is None else wrap(fn)


def stop_gradient(x):
    """``x`` as a constant: no derivative of any order flows through it (``jit`` still stages it)."""
    return strip_derivatives(x)
