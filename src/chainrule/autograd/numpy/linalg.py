"""``autograd.numpy.linalg``: chainrule's differentiable ``numpy.linalg``; the names it does not
differentiate (``matrix_rank``, ``tensorinv``, ``tensorsolve``, ``cross``) are NumPy's own, as
autograd exposes every name of ``numpy.linalg``: on plain arrays they compute, on traced ones
they raise ``NoRuleError`` naming themselves (autograd's have no gradient either)."""

import numpy.linalg as _npla

from ...numpy.linalg import *  # noqa: F403


def __getattr__(name):
    try:
        return getattr(_npla, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.autograd.numpy.linalg' has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | {n for n in dir(_npla) if not n.startswith("_")})
