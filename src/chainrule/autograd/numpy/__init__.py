"""``autograd.numpy`` as chainrule: differentiable NumPy names, the rest plain NumPy."""

import importlib as _importlib

from ...numpy import *  # noqa: F403
from ...numpy import __getattr__  # noqa: F401  (fallback to plain numpy names)

# ``np.linalg`` etc. must be autograd's submodules below, not the ``chainrule.numpy`` modules the
# ``*`` import brought in (``from . import linalg`` would find those and stop there)
fft = _importlib.import_module(".fft", __name__)
linalg = _importlib.import_module(".linalg", __name__)
random = _importlib.import_module(".random", __name__)
