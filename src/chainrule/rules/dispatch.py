"""NumPy dispatch tables: what NumPy calls when one of its functions meets a traced array.

The rule families register the NumPy callables they implement with ``@implements``;
``chainrule.numpy.protocol`` reads the tables in ``__array_ufunc__`` and
``__array_function__``. Nothing is wrapped automatically: a NumPy function that no rule
registered raises ``NoRuleError`` naming it.
"""

from __future__ import annotations

import numpy as np

UFUNCS: dict = {}
FUNCTIONS: dict = {}


def implements(*numpy_objects):
    """Register ``fn`` as what NumPy dispatches to when a traced array meets ``numpy_objects``."""
    def register(fn):
        for obj in numpy_objects:
            (UFUNCS if isinstance(obj, np.ufunc) else FUNCTIONS)[obj] = fn
        return fn

    return register
