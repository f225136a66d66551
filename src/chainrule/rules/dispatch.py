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


# Python-level functions of SciPy (and NumPy) that chainrule mirrors: the foreign function
# object -> (its public name, the name of chainrule's replacement). A method SciPy's
# distributions share has "{dist}" in both and a third item, the distributions chainrule
# mirrors it for; the escaping call's ``self`` says which one it is. ``numpy.protocol`` names the replacement
# when a traced array escapes from inside one of them.
MIRRORS: dict = {}
