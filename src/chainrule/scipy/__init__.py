"""``chainrule.scipy``: SciPy names, differentiable."""

from . import linalg, special, stats  # noqa: F401
