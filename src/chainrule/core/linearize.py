"""The engine's two entry points: :func:`linearize_reverse` and :func:`push_forward`.

Every transform users call (``vjp``, ``jvp``, ``grad`` in :mod:`chainrule.transforms`;
``jacobian``, ``hessian``, ``hvp`` in :mod:`chainrule.curvature`) sits on these two. Both
accept *batched* cotangents/tangents: a leading batch axis on every seed runs through every
rule, so a Jacobian is one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .aval import derivative_dtype, dtype_of, shape_of
from .errors import NotDifferentiableInputError
from .primitive import Box
from .pytree import tree_flatten, tree_unflatten
from .tape import Push, snapshot
from .trace import ForwardBox, ForwardTrace, ReverseBox, ReverseTrace, collector_paused


def check_differentiable(x, what: str = "input"):
    """Reject integer and boolean inputs, and non-arrays, with a message that says why."""
    if not isinstance(x, (np.ndarray, np.generic, int, float, complex, Box)):
        raise TypeError(f"cannot differentiate with respect to an {what} of type "
                        f"{type(x).__module__}.{type(x).__qualname__}: chainrule differentiates NumPy "
                        "arrays and Python or NumPy numbers (convert it with np.asarray first)")
    dtype = dtype_of(x)
    if dtype.kind not in "fc":
        raise NotDifferentiableInputError(
            f"cannot differentiate with respect to an {what} of dtype {dtype}: integer and boolean "
            "values are constants. Pass a float (e.g. 3.0 or x.astype(float)) to differentiate.")


def _as_input_dtype(c, x):
    """A derivative has its input's dtype (float32 in, float32 out; complex in, complex out),
    whatever precision or kind the program computed in between (a real part's cotangent is
    real; a float64 input through a complex64 constant gets a float32 one)."""
    dt = derivative_dtype(x)
    if dtype_of(c) == dt:
        return c
    if dt.kind != "c" and dtype_of(c).kind == "c":
        c = np.real(c)  # only a rule that breaks the pairing gets here; keep the real part
    return c.astype(dt) if hasattr(c, "astype") else dt.type(c)


def _zeros(like, batch=()):
    return np.zeros(tuple(batch) + shape_of(like), dtype=derivative_dtype(like))


class ReverseLinearization:
    """A traced function's outputs together with the tape that maps output cotangents back.

    ``pull(ct_leaves, batch)`` runs the backward pass once; every cotangent carries
    the leading ``batch`` axes (``()`` for an ordinary VJP).
    """

    def __init__(self, trace: ReverseTrace, in_nodes, in_leaves, out_leaves):
        self.trace = trace
        self.in_nodes = list(in_nodes)
        self.in_leaves = in_leaves
        self.out_nodes = []
        self.out_values = []
        for o in out_leaves:
            o = _lower(o, trace)
            if type(o) is ReverseBox and o._trace is trace:
                self.out_nodes.append(o._node)
                self.out_values.append(o._value)
            else:  # output does not depend on the inputs (or is a constant)
                self.out_nodes.append(None)
                self.out_values.append(o)

    def require_float_outputs(self, what: str):
        """Reverse mode from an integer or boolean output would be a silent zero: raise."""
        for o in self.out_values:
            if dtype_of(o).kind not in "fc":
                raise TypeError(f"{what} requires a floating-point output, got dtype {dtype_of(o)}: "
                                "an integer or boolean result is piecewise constant")

    def pull(self, ct_leaves, batch=(), release: bool = False) -> list:
        """With ``release`` the tape is consumed as it is walked (saved values freed early)."""
        seeds = {}
        for node, c in zip(self.out_nodes, ct_leaves):
            if node is not None and c is not None:
                seeds[node] = c if node not in seeds else seeds[node] + c
        cts = self.trace.backward(seeds, self.in_nodes, release=release)
        self.disconnected = [i for i, c in enumerate(cts) if c is None]
        return [_zeros(x, batch) if c is None else _as_input_dtype(c, x)
                for c, x in zip(cts, self.in_leaves)]

    def freeze(self):
        """Copy what the tape shares with the caller (:func:`~chainrule.core.tape.snapshot`) and
        the outputs handed back: for transforms that return a closure (``vjp``, ``linearize``)."""
        snapshot(self.trace.tape)
        self.out_values = [v.copy() if type(v) is np.ndarray else v for v in self.out_values]
        return self

    def pusher(self):
        """The forward sweep along this tape (:class:`~chainrule.core.tape.Push`):
        ``push(tangent_leaves, batch)`` returns the outputs' tangents, ``f`` not run again."""
        sweep = Push(self.trace.tape, self.in_nodes, self.out_nodes)

        def push(tangent_leaves, batch=()):
            return [_zeros(o, batch) if t is None else t
                    for t, o in zip(sweep(tangent_leaves), self.out_values, strict=True)]
        return push


def linearize_reverse(f: Callable, primals: Sequence, has_aux: bool = False):
    """Run ``f(*primals)`` on a fresh reverse trace.

    Returns ``(linearization, out_treedef, in_treedef, aux)``.
    """
    in_leaves, in_def = tree_flatten(tuple(primals))
    for x in in_leaves:
        check_differentiable(x)
    trace = ReverseTrace(keep_values=False)  # records keep only what their rules read
    in_boxes = [trace.new_input(x) for x in in_leaves]
    out_leaves, out_def, aux = _run(f, trace, in_def, in_boxes, has_aux)
    lin = ReverseLinearization(trace, [b._node for b in in_boxes], in_leaves, out_leaves)
    return lin, out_def, in_def, aux


def push_forward(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False,
                 batch=()):
    """Run ``f`` on a fresh forward trace; returns ``(out, out_tangent, aux)`` as pytrees.

    Each tangent leaf has shape ``batch + primal.shape``.
    """
    in_leaves, in_def = tree_flatten(tuple(primals))
    t_leaves, t_def = tree_flatten(tuple(tangents))
    if t_def != in_def:
        raise ValueError(f"tangents must have the same structure as primals: {t_def!r} vs {in_def!r}")
    for x, t in zip(in_leaves, t_leaves):
        check_differentiable(x)
        want = tuple(batch) + shape_of(x)
        if shape_of(t) != want:
            raise ValueError(f"tangent shape {shape_of(t)} does not match primal shape {want}")
        if dtype_of(t).kind == "c" and dtype_of(x).kind != "c":
            raise TypeError(f"a complex tangent (dtype {dtype_of(t)}) for a real primal (dtype "
                            f"{dtype_of(x)}): the tangent of a real input is real")
    trace = ForwardTrace()
    boxes = [trace.new_input(x, t) for x, t in zip(in_leaves, t_leaves)]
    out_leaves, out_def, aux = _run(f, trace, in_def, boxes, has_aux)
    vals, tans = [], []
    for o in out_leaves:
        o = _lower(o, trace)
        if type(o) is ForwardBox and o._trace is trace:
            vals.append(o._value)
            tans.append(o._tangent)
        else:
            vals.append(o)
            tans.append(_zeros(o, tuple(batch)))
    return tree_unflatten(out_def, vals), tree_unflatten(out_def, tans), aux


def _run(f, trace, in_def, boxes, has_aux):
    """``f`` on ``trace``'s input boxes, the collector paused: ``(out_leaves, out_def, aux)``."""
    with collector_paused():
        out = f(*tree_unflatten(in_def, boxes))
    aux = None
    if has_aux:
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("with has_aux=True the function must return a pair (output, aux)")
        out, aux = out
        aux = _strip(aux, trace)
    out_leaves, out_def = tree_flatten(out)
    return out_leaves, out_def, aux


def _lower(x, trace):
    """Unwrap boxes of *higher* levels (a Tensor wrapping a traced value) down to ``trace``:
    reading through such wrappers keeps the derivative instead of a silent zero."""
    while isinstance(x, Box) and x._trace is not trace and x._trace.level > trace.level:
        x = x._value
    return x


def _strip(tree, trace):
    """Aux data leaves the transform as values, not as boxes of a finished trace."""
    leaves, td = tree_flatten(tree)
    leaves = [_lower(x, trace) for x in leaves]
    return tree_unflatten(td, [x._value if isinstance(x, Box) and x._trace is trace else x
                               for x in leaves])
