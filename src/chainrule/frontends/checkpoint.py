"""``checkpoint(function, *args)`` for Tensors: PyTorch's ``torch.utils.checkpoint.checkpoint``.

The forward pass runs ``function`` under ``no_grad`` (nothing inside it is recorded or kept);
the call is one record of :data:`tensor_checkpoint_p` on the eager graph, holding the Tensor
arguments and the outputs. When ``backward`` reaches that record, ``function`` runs again with
recording on, at fresh leaves holding the saved argument values, and one backward pass through
that recording adds into ``.grad`` of every parameter ``function`` uses (the Tensors it closes
over, as ``self.weight`` in a module) and returns the arguments' cotangents to the outer pass.
These are the semantics of PyTorch's reentrant checkpoint (``use_reentrant=True``), with its
limits: at least one Tensor argument must require grad (else nothing reaches the record),
parameters receive their gradient during the pass (``backward(inputs=...)`` cannot exclude
them), and ``create_graph=True`` through a checkpoint is refused. For functional code
(``chainrule.grad``, any order, ``jvp``, ``vmap``, ``jit``) use :func:`chainrule.checkpoint`.
"""

from __future__ import annotations

import numpy as np

from ..checkpoint import CheckpointCall
from ..core.errors import NoRuleError
from ..core.primitive import Box, Primitive
from ..core.pytree import tree_flatten, tree_unflatten
from .tensor import GraphError, Tensor, enable_grad, no_grad

__all__ = ["checkpoint"]


def _impl(*xs, call):
    with no_grad():
        out = call.fun(*[Tensor._make(x) for x in xs])
    return tuple(o._raw() if isinstance(o, Tensor) else o for o in out)


def _vjp(argnum, g, ans, *xs, call):
    return call.cotangent(argnum, g, lambda: _backward(g, xs, call))


def _backward(g, xs, call):
    """Every wanted argument's cotangent: ``function`` re-run with recording on at fresh
    leaves and one ``backward`` of ``sum(outputs * g)`` through that recording (which also
    fills ``.grad`` of the parameters it closes over)."""
    if any(isinstance(v, Box) for v in (*g, *xs)):
        raise GraphError(f"checkpoint({call.name}): a backward pass with create_graph=True, "
                         "or inside a functional transform, cannot go through a Tensor "
                         "checkpoint; use chainrule.checkpoint on functional code")
    with enable_grad():
        leaves = [Tensor(x, requires_grad=bool(w) and np.issubdtype(np.result_type(x), np.inexact))
                  for x, w in zip(xs, call.wanted)]
        outs = call.fun(*leaves)
        total = None
        for o, c in zip(outs, g):
            if c is not None and isinstance(o, Tensor) and o.requires_grad:
                term = (o * c).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
    return [None if t.grad is None else t.grad._raw() for t in leaves]


def _no_jvp(argnum, t, ans, *xs, call):
    raise NoRuleError(f"checkpoint({call.name}) of Tensors is reverse mode only (as PyTorch's); "
                      "use chainrule.checkpoint with chainrule.jvp")


tensor_checkpoint_p = Primitive(
    "tensor_checkpoint", _impl, multiple_results=True,
    doc="function(*tensors) run under no_grad; its VJP re-runs it recording and backpropagates")
tensor_checkpoint_p.defvjp_argnum(_vjp)
tensor_checkpoint_p.defjvp_argnum(_no_jvp)


def checkpoint(function, *args, use_reentrant: bool | None = None, preserve_rng_state: bool = True,
               **kwargs):
    """``function(*args, **kwargs)`` whose intermediate Tensors are recomputed in the backward
    pass instead of kept (``torch.utils.checkpoint.checkpoint``; see the module notes).

    Tensor leaves of ``args`` and ``kwargs`` are the checkpoint's inputs; everything else is
    passed as is. ``use_reentrant`` and ``preserve_rng_state`` are accepted for PyTorch
    compatibility (the semantics are the reentrant ones; ``function`` must be deterministic).
    """
    leaves, in_def = tree_flatten((args, kwargs))
    where = [i for i, x in enumerate(leaves) if isinstance(x, Tensor)]
    if not any(leaves[i].requires_grad for i in where):
        raise GraphError(f"checkpoint({getattr(function, '__name__', 'function')}): none of the "
                         "Tensor arguments requires grad, so the backward pass would never reach "
                         "the checkpoint and the parameters inside it would get no gradient; "
                         "call the function directly (or give it an input that requires grad)")
    out_def = []
    # the closure keeps only the non-Tensor leaves: the Tensors are the primitive's arguments
    static_leaves = [None if isinstance(x, Tensor) else x for x in leaves]

    def run(*tensors):
        full = list(static_leaves)
        for i, t in zip(where, tensors):
            full[i] = t
        a, kw = tree_unflatten(in_def, full)
        outs, od = tree_flatten(function(*a, **kw))
        if not out_def:
            out_def.append(od)
        return tuple(outs)
    name = getattr(function, "__name__", type(function).__name__)
    tensors = [leaves[i] for i in where]
    # only a Tensor that requires grad is a parent of the record, so only its cotangent is asked
    outs = tensor_checkpoint_p(*tensors, call=CheckpointCall(run, name, [t.requires_grad for t in tensors]))
    return tree_unflatten(out_def[0], outs)
