"""``autograd.scipy.integrate``: ``odeint(func, y0, t, args=(), **kwargs)``, SciPy's signature.

autograd differentiates its ``odeint`` in reverse mode only; this one is chainrule's, with
forward mode and every order as well (``chainrule.scipy.integrate``).
"""

from ...scipy.integrate import odeint

__all__ = ["odeint"]
