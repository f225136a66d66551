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


class CheckpointCall:
    """One checkpointed call, the ``call`` parameter of its record (for :func:`checkpoint` and
    the Tensor API's ``checkpoint`` alike).

    ``fun`` maps the flat arguments to a tuple of flat outputs; ``wanted[i]`` says whether
    argument ``i`` can be asked for a cotangent (it was traced when the call was made: a
    constant is never a parent on a tape, so its cotangent, for instance a network input's,
    is not computed). The VJP rule is asked once per traced argument with the same
    cotangent ``g``; :meth:`cotangent` runs the recomputation and its backward pass for all of
    them on the first request, hands each result out once and forgets the pass after the
    last, so nothing of it outlives the record.
    """

    __slots__ = ("fun", "name", "wanted", "_g", "_cts", "_left")

    def __init__(self, fun, name, wanted):
        self.fun = fun
        self.name = name
        self.wanted = tuple(wanted)
        self._g = None
        self._cts = None
        self._left = 0

    def __repr__(self) -> str:
        return f"<checkpointed {self.name}>"

    def cotangent(self, argnum, g, pull_all):
        """Argument ``argnum``'s cotangent for the record's cotangent ``g``; ``pull_all()``
        returns every argument's (``None`` where not wanted) and runs once per pass."""
        if self._g is not g:
            self._g, self._cts, self._left = g, pull_all(), sum(self.wanted)
        ct, self._cts[argnum] = self._cts[argnum], None  # handed out once: the outer pass owns it
        self._left -= 1
        if self._left == 0:  # every wanted argument has asked: the pass is done with this record
            self._g = self._cts = None
        return ct

    def forget(self) -> None:
        """Drop a cached pass: a new forward evaluation makes it stale."""
        self._g = self._cts = None


def _impl(*xs, call):
    # a new forward evaluation: what an earlier backward pass left in the cache is stale (and a
    # jitted program, which calls only this, holds ``call`` as a constant: free it here)
    call.forget()
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
    """Argument ``argnum``'s part of ``(df/dxs)^T g``: ``f`` recomputed at the saved inputs on a
    fresh lean tape and ``g`` pulled through it once for every wanted argument (the first
    request computes them all; the recomputed tape is consumed as it is pulled)."""
    return call.cotangent(argnum, g, lambda: _pull(g, ans, xs, call))


def _pull(g, ans, xs, call):
    diff = [i for i, x in enumerate(xs) if call.wanted[i] and dtype_of(x).kind in "fc"]

    def f(*d):
        full = list(xs)
        for i, v in zip(diff, d):
            full[i] = v
        return call.fun(*full)
    lin, _, _, _ = linearize_reverse(f, [xs[i] for i in diff])
    batch = next((lead(c, a) for c, a in zip(g, ans) if c is not None), ())
    pulled = lin.pull(list(g), batch=batch, release=True)
    for j in lin.disconnected:
        # no path from the outputs: a zero that holds no memory while the outer pass adds it
        # up (core copies a read-only gradient before handing it to the caller)
        pulled[j] = np.broadcast_to(np.zeros((), pulled[j].dtype), pulled[j].shape)
    cts = [None] * len(xs)
    for i, c in zip(diff, pulled):
        cts[i] = c
    return cts


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
    return checkpoint_p(*vals, call=CheckpointCall(mapped, call.name, _traced(vals)))


register_batching_rule(checkpoint_p, _batch_rule)


def _traced(args) -> list:
    """Which arguments can be asked for a cotangent: those traced by some transform."""
    return [isinstance(a, Box) for a in args]


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
        args = [leaves[i] for i in where]
        outs = checkpoint_p(*args, call=CheckpointCall(flat, name, _traced(args)))
        return tree_unflatten(out_def[0], outs)

    return wrapped


remat = checkpoint  # JAX's other name
