"""``autograd.numpy`` as chainrule: differentiable NumPy names, the rest plain NumPy."""

from ...numpy import *  # noqa: F403
from ...numpy import __getattr__  # noqa: F401  (fallback to plain numpy names)
from . import fft, linalg, random  # noqa: F401
