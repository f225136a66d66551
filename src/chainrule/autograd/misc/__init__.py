"""``autograd.misc``: ``flatten`` and the optimizers."""

from . import optimizers  # noqa: F401
from .flatten import flatten

__all__ = ["flatten", "optimizers"]
