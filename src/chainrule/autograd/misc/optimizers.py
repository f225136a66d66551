"""``autograd.misc.optimizers``: sgd (with momentum), rmsprop and adam with autograd's
signatures: ``opt(grad, x0, callback=None, num_iters=..., step_size=..., ...)`` where
``grad(x, i)`` takes the iteration number, ``x0`` may be any nest of arrays, and
``callback(x, i, g)`` sees each step. Written with chainrule's operations, so the
optimisation itself can be differentiated (meta-optimisation), as in autograd."""

from __future__ import annotations

import functools

import numpy as np

from ...rules.elementwise import sqrt
from .flatten import flatten


def unflatten_optimizer(optimize):
    """An optimizer of flat 1-d arrays made to take and return nests of arrays."""
    @functools.wraps(optimize)
    def _optimize(grad, x0, callback=None, *args, **kwargs):
        _x0, unflatten = flatten(x0)

        def _grad(x, i):
            return flatten(grad(unflatten(x), i))[0]
        _callback = (lambda x, i, g: callback(unflatten(x), i, unflatten(g))) if callback else None
        return unflatten(optimize(_grad, _x0, _callback, *args, **kwargs))
    return _optimize


@unflatten_optimizer
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """``v = mass v - (1 - mass) g``; ``x = x + step_size v``."""
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@unflatten_optimizer
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10**-8):
    """``s = gamma s + (1 - gamma) g^2``; ``x = x - step_size g / (sqrt(s) + eps)`` (``s`` starts at 1)."""
    avg_sq_grad = np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g ** 2 * (1 - gamma)
        x = x - step_size * g / (sqrt(avg_sq_grad) + eps)
    return x


@unflatten_optimizer
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=10**-8):
    """Adam: bias-corrected first and second moments, ``x -= step_size m^ / (sqrt(v^) + eps)``."""
    m = np.zeros(len(x))
    v = np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g ** 2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (sqrt(vhat) + eps)
    return x


__all__ = ["sgd", "rmsprop", "adam", "unflatten_optimizer"]
