"""``autograd.scipy``."""

from . import integrate, linalg, signal, special, stats  # noqa: F401
