"""``chainrule.scipy``: SciPy names, differentiable, in SciPy's layout (special, stats, linalg,
signal, integrate, and optimize's test functions).

Importing it records which of SciPy's Python-level functions each module mirrors
(``rules.dispatch.MIRRORS``), so that a traced array escaping from inside, say,
``scipy.special.logsumexp`` names ``chainrule.scipy.special.logsumexp`` in its error.
"""

import inspect

import scipy.integrate
import scipy.linalg
import scipy.optimize
import scipy.signal
import scipy.special
import scipy.stats

from ..rules.dispatch import MIRRORS
from . import integrate, linalg, optimize, signal, special, stats


def _public(module):
    return [n for n in getattr(module, "__all__", dir(module)) if not n.startswith("_")]


def _mirror(theirs, ours, prefix: str) -> None:
    """Every public function of ``ours`` that ``theirs`` defines in Python (not a ufunc)."""
    for name in _public(ours):
        fn = getattr(theirs, name, None)
        if inspect.isfunction(inspect.unwrap(fn)) if fn is not None else False:
            MIRRORS[fn] = (f"{theirs.__name__}.{name}", f"chainrule.{prefix}.{name}")


for _theirs, _ours, _prefix in [(scipy.special, special, "scipy.special"),
                                (scipy.linalg, linalg, "scipy.linalg"),
                                (scipy.signal, signal, "scipy.signal"),
                                (scipy.optimize, optimize, "scipy.optimize"),
                                (scipy.integrate, integrate, "scipy.integrate")]:
    _mirror(_theirs, _ours, _prefix)

for _ours in [m for m in vars(stats).values() if inspect.ismodule(m)]:
    _dist = _ours.__name__.rsplit(".", 1)[1]
    _gen = getattr(scipy.stats, _dist)
    for _method in _public(_ours):
        _fn = getattr(type(_gen), _method, None)
        if not inspect.isfunction(_fn):
            continue
        if _fn.__qualname__.split(".")[0] == type(_gen).__name__:  # this distribution's own method
            MIRRORS[_fn] = (f"scipy.stats.{_dist}.{_method}", f"chainrule.scipy.stats.{_dist}.{_method}")
        else:  # shared by SciPy's distributions (rv_continuous.logpdf): ``self`` says which one
            _entry = MIRRORS.setdefault(_fn, (f"scipy.stats.{{dist}}.{_method}",
                                              f"chainrule.scipy.stats.{{dist}}.{_method}", set()))
            _entry[2].add(_gen.name)

__all__ = ["integrate", "linalg", "optimize", "signal", "special", "stats"]
