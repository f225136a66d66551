"""chainrule: exact derivatives of NumPy programs by backpropagation, shown as it happens."""

from . import (  # noqa: F401
           numpy,  # noqa: F401  (installs the traced-array operators)
           optimize,
           scipy,
)
from .batching import vmap
from .checkpoint import checkpoint, remat
from .compile import JitFallbackWarning, jit
from .core.errors import DisconnectedWarning
from .core.pytree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from .curvature import *  # noqa: F403
from .curvature import __all__ as _curvature_all
from .debug import NonFiniteError, debug_nans
from .extend import primitive, stop_gradient
from .frontends.tensor import *  # noqa: F403
from .frontends.tensor import __all__ as _tensor_all
from .gradcheck import GradCheckError, check_grads
from .transforms import grad, jvp, value_and_grad, vjp
from .viz import *  # noqa: F403
from .viz import __all__ as _viz_all

__version__ = "0.1.0"

__all__ = ["jit", "JitFallbackWarning", "grad", "value_and_grad", "vjp", "jvp", "check_grads",
           "GradCheckError", "primitive", "stop_gradient", "tree_flatten", "tree_unflatten",
           "tree_map", "tree_leaves", "debug_nans", "NonFiniteError", "DisconnectedWarning", "vmap",
           "checkpoint", "remat",
           *_curvature_all, *_tensor_all, *_viz_all]
