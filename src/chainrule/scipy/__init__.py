"""``chainrule.scipy``: SciPy names, differentiable."""

from . import special  # noqa: F401
