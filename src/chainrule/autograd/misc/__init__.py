"""``autograd.misc``: ``flatten``, ``const_graph``, ``fixed_points`` and the optimizers."""

from . import fixed_points, optimizers, tracers  # noqa: F401
from .flatten import flatten
from .tracers import const_graph

__all__ = ["const_graph", "fixed_points", "flatten", "optimizers", "tracers"]
