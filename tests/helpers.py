"""Shared test helpers: batched-vs-single passes.

``check_batched(f, *args)`` lives in :mod:`chainrule.gradcheck` (``check_grads`` runs it
too, on random rows); the tests call it with identity rows, a whole Jacobian.
"""

from __future__ import annotations

import contextlib

import pytest

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
