"""chainrule: exact derivatives of NumPy programs by backpropagation, shown as it happens."""

from . import numpy  # noqa: F401  (installs the traced-array operators)
from . import optimize  # noqa: F401
from . import scipy  # noqa: F401
from .core.curvature import *  # noqa: F403
from .core.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from .core.transforms import grad, jvp, value_and_grad, vjp
from .extend import primitive, stop_gradient
from .frontends.tensor import *  # noqa: F403
from .gradcheck import GradCheckError, check_grads
from .viz import *  # noqa: F403

__version__ = "0.1.0"
