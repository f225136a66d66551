"""``checkpoint``: keep a function's inputs, not its intermediates, and recompute them when needed.

``checkpoint(f)(*args)`` has ``f``'s value and every derivative of ``f``, but a reverse-mode
tape holds one record for the whole call (its inputs and outputs) instead of one record per
operation inside ``f`` with the arrays those keep alive. The backward pass runs ``f`` again
at the saved inputs and pulls the cotangents through that fresh recording at once (Chen et
al. 2016: checkpointing every ``sqrt(n)`` layers of an ``n``-layer network keeps
``O(sqrt(n))`` activations for one extra forward pass).

The call is one record of :data:`checkpoint_p`, a primitive whose

* implementation runs ``f`` on plain values (nothing is recorded inside it);
* VJP rule runs ``chainrule``'s own reverse mode on ``f`` at the saved inputs
  (:func:`~chainrule.core.linearize.linearize_reverse`, then one pull of the batched
  cotangents): written with the transforms themselves, so when the inputs are traced by
  an outer transform the recomputation is traced too (``grad`` of ``grad``, ``hessian``);
* JVP rule pushes the tangent through ``f`` (:func:`~chainrule.core.linearize.push_forward`,
  batched tangents pass through);
* batching rule (``vmap``) is the primitive again around ``vmap(f)``.

So ``checkpoint`` composes with every transform in any order, and ``jit`` stages it as one
call. JAX's name and semantics (``jax.checkpoint``, also ``jax.remat``); ``f`` must be pure
and take the arrays it differentiates as arguments (a traced value it closes over raises).
"""

from __future__ import annotations

import functools

import numpy as np

from .batching import register_batching_rule, vmap
from .core.aval import dtype_of
from .core.errors import ChainruleError
from .core.linearize import linearize_reverse, push_forward
from .core.primitive import Box, Primitive
from .core.pytree import tree_flatten, tree_unflatten
from .rules.linear import lead

__all__ = ["checkpoint", "remat", "checkpoint_p"]


class CheckpointClosureError(ChainruleError, TypeError):
    """A checkpointed function closed over a traced value instead of taking it as an argument."""


class _Call:
    """One checkpointed call: ``fun`` maps the flat array arguments to a tuple of flat outputs.

    Its VJP rule is asked once per traced argument with the same cotangent; the
    recomputation and pull for all of them happens on the first request and each result is
    handed out once (``_g`` identifies the record's cotangent, ``_cts`` holds the rest).
    """

    __slots__ = ("fun", "name", "_g", "_cts")

    def __init__(self, fun, name):
        self.fun = fun
        self.name = name
        self._g = None
        self._cts = None

    def __repr__(self) -> str:
        return f"<checkpointed {self.name}>"


def _impl(*xs, call):
    # a new forward evaluation: what an earlier backward pass left in the cache is stale (and a
    # jitted program, which calls only this, holds ``call`` as a constant: free it here)
    call._g = call._cts = None
    out = call.fun(*xs)
    for o in out:
        if isinstance(o, Box):
            raise CheckpointClosureError(
                f"checkpoint({call.name}): the function closes over a value traced by an "
                "enclosing transform (it reached an output without being an argument); pass "
                "every array you differentiate with respect to as an argument of the "
                "checkpointed function")
    return out


def _vjp(argnum, g, ans, *xs, call):
    """Recompute ``f`` at the saved inputs on a fresh tape and pull ``g`` through it once
    for every differentiable argument (the first request computes them all)."""
    if call._g is not g:
        diff = [i for i, x in enumerate(xs) if dtype_of(x).kind in "fc"]

        def f(*d):
            full = list(xs)
            for i, v in zip(diff, d):
                full[i] = v
            return call.fun(*full)
        lin, _, _, _ = linearize_reverse(f, [xs[i] for i in diff])
        batch = next((lead(c, a) for c, a in zip(g, ans) if c is not None), ())
        pulled = lin.pull(list(g), batch=batch, release=True)
        cts = [None] * len(xs)
        for i, c in zip(diff, pulled):
            cts[i] = c
        call._g, call._cts = g, cts
    ct, call._cts[argnum] = call._cts[argnum], None  # handed out once: freed with the pass
    return ct


def _jvp(argnum, t, ans, *xs, call):
    """The tangent of every output for the tangent ``t`` of argument ``argnum`` (leading batch
    axes of ``t`` pass through): ``f`` pushed forward at the saved inputs."""
    def f(x):
        full = list(xs)
        full[argnum] = x
        return call.fun(*full)
    _, t_out, _ = push_forward(f, (xs[argnum],), (t,), batch=lead(t, xs[argnum]))
    return tuple(t_out)


checkpoint_p = Primitive("checkpoint", _impl, multiple_results=True,
                         doc="f(*xs) whose intermediates are recomputed, not kept: its rules "
                             "re-run f under vjp / jvp at the saved inputs")
checkpoint_p.defvjp_argnum(_vjp)
checkpoint_p.defjvp_argnum(_jvp)


def _batch_rule(size, vals, batched, *, call):
    """A batch of checkpointed calls is one checkpointed call of ``vmap(f)``."""
    mapped = vmap(call.fun, in_axes=tuple(0 if b else None for b in batched), axis_size=size)
    return checkpoint_p(*vals, call=_Call(mapped, call.name))


register_batching_rule(checkpoint_p, _batch_rule)


def _is_argument(x) -> bool:
    """A leaf passed to the primitive (an array or a number); anything else stays static."""
    return isinstance(x, (Box, np.ndarray, np.generic, int, float, complex))


def checkpoint(fun=None, *, prevent_cse: bool = True, policy=None, static_argnums=()):
    """``fun`` with its intermediates recomputed in the backward pass instead of kept.

    ``checkpoint(f)(*args)`` equals ``f(*args)``, and so does every derivative of it, to
    rounding; a reverse-mode tape keeps only the call's inputs and outputs and runs ``f``
    once more (with its own recording) when the backward pass reaches it. Usable as a
    decorator, with or without arguments. Array leaves of the arguments are the checkpoint's
    inputs; other leaves (strings, callables) are static. ``prevent_cse`` and ``policy`` are
    accepted for JAX compatibility: chainrule never merges the recomputation with the
    forward pass, and saves nothing inside ``f`` (``policy`` must be ``None``).
    """
    if policy is not None:
        raise NotImplementedError("checkpoint(policy=...): chainrule keeps nothing inside the "
                                  "checkpointed function (JAX's default policy)")
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy,
                                 static_argnums=static_argnums)
    static = {static_argnums} if isinstance(static_argnums, int) else set(static_argnums)
    name = getattr(fun, "__name__", type(fun).__name__)

    @functools.wraps(fun)
    def wrapped(*args, **kwargs):
        fixed = {i % len(args): args[i] for i in static} if args else {}
        dyn_args = tuple(a for i, a in enumerate(args) if i not in fixed)
        leaves, in_def = tree_flatten((dyn_args, kwargs))
        where = [i for i, x in enumerate(leaves) if _is_argument(x)]
        if not any(isinstance(leaves[i], Box) for i in where):
            return fun(*args, **kwargs)  # nothing traced: nothing would be kept anyway
        out_def = []
        # the closure keeps only the static leaves: the arrays are the primitive's arguments
        static_leaves = [None if i in set(where) else x for i, x in enumerate(leaves)]

        def flat(*xs):
            full = list(static_leaves)
            for i, x in zip(where, xs):
                full[i] = x
            a, kw = tree_unflatten(in_def, full)
            it = iter(a)
            a = [fixed[i] if i in fixed else next(it) for i in range(len(a) + len(fixed))]
            out_leaves, od = tree_flatten(fun(*a, **kw))
            if not out_def:
                out_def.append(od)
            return tuple(out_leaves)
        outs = checkpoint_p(*[leaves[i] for i in where], call=_Call(flat, name))
        return tree_unflatten(out_def[0], outs)

    return wrapped


remat = checkpoint  # JAX's other name
