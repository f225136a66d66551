"""``autograd.misc.fixed_points``: ``fixed_point(f, a, x0, distance, tol)``, differentiable in
``a`` by the implicit function theorem, as autograd's.

The forward pass iterates ``x <- f(a)(x)`` from ``x0`` until ``distance(x, x_prev) <= tol``. At
the fixed point ``x* = f(a)(x*)``, so ``dx* = (I - d_x f)^{-1} d_a f da``; the VJP of ``g`` is

    w = g + w d_x f     (itself a fixed point, iterated with the same distance and tol)
    a_bar = w d_a f

computed with ``fixed_point`` again, so the VJP is differentiable in turn (every order of
reverse mode). As in autograd, ``x0`` carries no derivative and there is no forward-mode rule
(a ``jvp`` through it raises ``NoRuleError`` naming it). ``a`` may be any pytree of arrays.

Under ``vmap`` the examples iterate together, as one fixed point of the mapped ``f`` (its
derivative is the per-example ones, block by block), until every example's distance is within
``tol``: an example may take more steps than alone would, and land closer to its fixed point.
"""

from __future__ import annotations

from ... import numpy as _cnp
from ... import transforms as _t
from ...batching import register_batching_rule, vmap
from ...core.aval import shape_of
from ...core.primitive import Primitive, strip_derivatives
from ...core.pytree import tree_flatten, tree_unflatten
from ..extend import per_row

__all__ = ["fixed_point"]


def _iterate(f, a, x0, distance, tol):
    _f = f(a)
    x, x_prev = _f(x0), x0
    while distance(x, x_prev) > tol:
        x, x_prev = _f(x), x
    return x


def _impl(*leaves, f, tree, x0, distance, tol):
    return _iterate(f, tree_unflatten(tree, list(leaves)), x0, distance, tol)


def _vjp(argnum, g, ans, *leaves, f, tree, x0, distance, tol):
    def one(g):
        def rev_iter(params):
            a, x_star, x_star_bar = params
            _, vjp_x = _t.vjp(f(a), x_star)
            return lambda w: vjp_x(w)[0] + x_star_bar
        w = fixed_point(rev_iter, (tree_unflatten(tree, list(leaves)), ans, g), _cnp.zeros_like(ans),
                        distance, tol)
        _, vjp_leaf = _t.vjp(lambda leaf: f(tree_unflatten(tree, [leaf if i == argnum else v for i, v in
                                                                  enumerate(leaves)]))(ans), leaves[argnum])
        return vjp_leaf(w)[0]
    return per_row(one, g, ans)


def _batch_rule(size, vals, batched, *, f, tree, x0, distance, tol):
    """The stacked problem: ``X <- vmap(f)(A, X)`` from ``x0`` broadcast, to ``max`` distance."""
    in_axes = tuple(0 if b else None for b in batched)

    def stacked_f(leaves):
        def one(x, *ls):
            return f(tree_unflatten(tree, list(ls)))(x)
        return lambda X: vmap(one, in_axes=(0,) + in_axes)(X, *leaves)

    def stacked_distance(X, Y):
        return _cnp.max(vmap(distance)(X, Y))
    X0 = _cnp.broadcast_to(x0, (size,) + shape_of(x0))
    return fixed_point_p(*vals, f=stacked_f, tree=tree_flatten(list(vals))[1], x0=X0,
                          distance=stacked_distance, tol=tol)


fixed_point_p = Primitive("fixed_point", _impl, doc="x* = f(a)(x*), iterated from x0 to tolerance")
fixed_point_p.defvjp_argnum(_vjp)
register_batching_rule(fixed_point_p, _batch_rule)


def fixed_point(f, a, x0, distance, tol):
    """The fixed point of ``f(a)`` reached from ``x0``: iterate until ``distance(x, x_prev) <= tol``."""
    leaves, tree = tree_flatten(a)
    return fixed_point_p(*leaves, f=f, tree=tree, x0=strip_derivatives(x0), distance=distance, tol=tol)
