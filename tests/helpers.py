"""Shared test helpers: batched-vs-single passes.

``check_batched(f, *args)`` lives in :mod:`chainrule.gradcheck` (``check_grads`` runs it
too, on random rows); the tests call it with identity rows, a whole Jacobian.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import strategies as st

from chainrule.compile import fusion
from chainrule.gradcheck import check_batched

__all__ = ["check_batched"]


@contextlib.contextmanager
def fuse_everything():
    """Fuse loops of any size, so small test arrays go through the compiled loops too."""
    old = fusion.MIN_SIZE
    fusion.MIN_SIZE = 1
    try:
        yield
    finally:
        fusion.MIN_SIZE = old


@pytest.fixture(scope="module")
def own_loop_table():
    """A test module that compiles many distinct loops keeps them out of the process-wide
    table, whose limit (fusion.KERNEL_LIMIT) the other tests' loops count against."""
    saved = fusion._kernels
    fusion._kernels = {}
    yield
    fusion._kernels = saved


def random_steps(draw, n_in: int, unary: dict, binary: dict) -> list:
    """1 to 6 steps of a random program over ``n_in`` inputs: ``("u", name, i)`` applies
    ``unary[name]`` to value ``i``, ``("b", name, i, j)`` ``binary[name]`` to values ``i, j``
    (each step's result becomes the next value); see :func:`run_steps`."""
    steps = []
    for n_vals in range(n_in, n_in + draw(st.integers(1, 6))):
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(sorted(unary))), draw(st.integers(0, n_vals - 1))))
        else:
            steps.append(("b", draw(st.sampled_from(sorted(binary))),
                          draw(st.integers(0, n_vals - 1)), draw(st.integers(0, n_vals - 1))))
    return steps


def run_steps(steps, xs, unary: dict, binary: dict):
    """The last value of the program ``steps`` (:func:`random_steps`) run on the inputs ``xs``."""
    vals = list(xs)
    for s in steps:
        vals.append(unary[s[1]](vals[s[2]]) if s[0] == "u" else binary[s[1]](vals[s[2]], vals[s[3]]))
    return vals[-1]

