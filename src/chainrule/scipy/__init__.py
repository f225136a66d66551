"""``chainrule.scipy``: SciPy names, differentiable."""

from . import linalg, special  # noqa: F401
