"""Scalar graph: a fixed random program of mixed scalar operations, forward + backward.

Every value is a Python scalar, so the time is almost all per-operation overhead
(boxing, recording, dispatching rules): the cost that dominates small-tensor code.
The program is a chain (each op uses the previous result and one earlier value, an
input or a constant), so every op is on the path to the output and every library
does the same backward work.
"""

from __future__ import annotations

import random
import sys

from ._harness import JIT_NOTE, Case, Workload, as_arrays, gradient_runner, lazy

_BINARY = ("add", "sub", "mul", "div")  # the operand is an earlier value
_OPS = _BINARY + ("square", "scale", "shift", "rsub")  # the operand (if any) is a constant


def _step(v, name, o):
    """One op of the program, written with Python operators (so any scalar type runs it)."""
    if name == "add":
        return v + o
    if name == "sub":
        return v - o
    if name == "mul":
        return v * o
    if name == "div":
        return v / o
    if name == "square":
        return v ** 2
    if name == "scale":
        return v * o
    if name == "shift":
        return v + o
    return o - v  # rsub


def make_program(n_ops: int, n_inputs: int, seed: int = 31337):
    """``(inputs, ops)``; each op is ``(name, operand)``, the operand an index into the values
    so far (binary ops) or a constant. Ops are drawn at random and kept only if the value
    stays in [0.05, 20] in magnitude, so no library meets overflow or division by ~0."""
    rng = random.Random(seed)
    xs = [rng.uniform(0.5, 1.5) for _ in range(n_inputs)]
    vals = list(xs)
    ops = []
    while len(ops) < n_ops:
        name = rng.choice(_OPS)
        j = rng.randrange(max(0, len(vals) - 32), len(vals))
        c = rng.uniform(0.5, 1.5)
        operand = j if name in _BINARY else c
        r = _step(vals[-1], name, vals[j] if name in _BINARY else c)
        if not 0.05 <= abs(r) <= 20.0:
            continue
        ops.append((name, operand))
        vals.append(r)
    return xs, ops


def replay(xs, ops):
    """Run the program on whatever scalar type ``xs`` holds; returns the last value."""
    vals = list(xs)
    v = vals[-1]
    for name, o in ops:
        v = _step(v, name, vals[o] if name in _BINARY else o)
        vals.append(v)
    return v


def cases(n_ops: int, n_inputs: int) -> list[Case]:
    xs, ops = make_program(n_ops, n_inputs)

    def program(xp, logsumexp, xs):
        return replay(xs, ops)

    def backward_case(tool, make_leaf, label=None, note=""):
        """The program run PyTorch-style: leaves made each run, operators, ``.backward()``."""
        def factory():
            leaf = make_leaf()

            def run():
                inputs = [leaf(x) for x in xs]
                y = replay(inputs, ops)
                limit = sys.getrecursionlimit()  # micrograd's topological sort recurses
                sys.setrecursionlimit(max(limit, 4 * len(ops) + 1000))
                try:
                    y.backward()
                finally:
                    sys.setrecursionlimit(limit)
                value = y.item() if hasattr(y, "item") else y.data
                return as_arrays([value, [0.0 if x.grad is None else float(x.grad) for x in inputs]])
            return run
        return Case(tool, lazy(factory, tool), label=label, note=note)

    def tensor_leaf():
        from chainrule import Tensor

        return lambda x: Tensor(x, requires_grad=True)

    def micrograd_leaf():
        from micrograd.engine import Value

        return Value

    def torch_leaf():
        import torch

        return lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def mygrad_leaf():
        import mygrad as mg

        return mg.tensor

    def runner(tool, jit=False):
        return lazy(lambda: gradient_runner(tool, program, xs, jit=jit), tool)

    return [Case("chainrule", runner("chainrule")),
            Case("chainrule", runner("chainrule", jit=True), label="chainrule (jit)", note=JIT_NOTE),
            backward_case("chainrule", tensor_leaf, label="chainrule (Tensor)",
                          note="eager Tensor API, 0-d float64"),
            backward_case("micrograd", micrograd_leaf),
            backward_case("torch", torch_leaf, note="eager, 0-d float64 tensors"),
            Case("autograd", runner("autograd")),
            backward_case("mygrad", mygrad_leaf),
            Case("jax", runner("jax"), label="jax (eager)", note="no jit: op by op")]


WORKLOAD = Workload(
    name="scalar",
    title="Scalar graph: {n_ops} mixed scalar ops, forward + backward ({n_inputs} inputs)",
    sizes={"tiny": {"n_ops": 60, "n_inputs": 4}, "full": {"n_ops": 2000, "n_inputs": 16}},
    cases=cases,
    rtol=1e-9,
    per="n_ops",
    targets=(("time per op vs PyTorch eager", "chainrule", "torch", 1.0),
             ("Tensor API time per op vs grad", "chainrule (Tensor)", "chainrule", 2.0),
             ("time per op vs autograd", "chainrule", "autograd", 1.0),
             ("time per op vs mygrad", "chainrule", "mygrad", 1.0),
             ("time per op vs micrograd (aim)", "chainrule", "micrograd", 1.5)),
    doc=__doc__,
)
