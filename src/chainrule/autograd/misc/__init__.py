"""``autograd.misc``: ``flatten``, ``const_graph`` and the optimizers."""

from . import optimizers, tracers  # noqa: F401
from .flatten import flatten
from .tracers import const_graph

__all__ = ["const_graph", "flatten", "optimizers", "tracers"]
