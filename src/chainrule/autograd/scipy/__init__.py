"""``autograd.scipy``."""

from . import linalg, signal, special, stats  # noqa: F401
