"""``autograd.misc.flatten``: a nest of tuples, lists and dicts of arrays as one 1-d array."""

from __future__ import annotations

import math

import numpy as np

from ...core.aval import shape_of
from ...core.pytree import tree_flatten, tree_unflatten
from ...rules.linear import ravel, reshape
from ...rules.shape import concatenate


def flatten(value):
    """``(flat, unflatten)``: the leaves raveled and concatenated (differentiable, so ``flat``
    and ``unflatten`` may be traced through), and the inverse, which rebuilds the nest."""
    leaves, treedef = tree_flatten(value)
    shapes = [shape_of(leaf) for leaf in leaves]
    sizes = [math.prod(s) for s in shapes]
    flat = concatenate([ravel(leaf) for leaf in leaves]) if leaves else np.zeros(0)

    def unflatten(vector):
        pieces, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            pieces.append(reshape(vector[start:start + size], shape))
            start += size
        return tree_unflatten(treedef, pieces)
    return flat, unflatten



def flatten_func(func, example):
    """``(flat_func, unflatten, flat_example)``: ``func`` of a nest as a function of a 1-d array
    (its output flattened too), for optimizers that work on vectors."""
    _ex, unflatten = flatten(example)

    def _func(_x, *args):
        return flatten(func(unflatten(_x), *args))[0]
    return _func, unflatten, _ex


__all__ = ["flatten", "flatten_func"]
