"""Shared test helpers: batched-vs-single passes.

``check_batched(f, *args)`` lives in :mod:`chainrule.gradcheck` (``check_grads`` runs it
too, on random rows); the tests call it with identity rows, a whole Jacobian.
"""

from __future__ import annotations

from chainrule.gradcheck import check_batched

__all__ = ["check_batched"]
