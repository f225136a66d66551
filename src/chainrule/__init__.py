"""chainrule: exact derivatives of NumPy programs by backpropagation, shown as it happens."""

from . import numpy  # noqa: F401  (installs the traced-array operators)
from .core.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from .core.transforms import grad, jvp, value_and_grad, vjp

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "tree_flatten", "tree_unflatten", "tree_map",
           "tree_leaves"]
__version__ = "0.1.0"
