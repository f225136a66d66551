"""``autograd.numpy`` as chainrule: differentiable NumPy names, the rest plain NumPy, and
autograd's one addition to NumPy, ``make_diagonal``."""

import builtins as _builtins
import importlib as _importlib

import numpy as _np

from ... import numpy as _cnp
from ...numpy import *  # noqa: F403
from ...numpy import __getattr__  # noqa: F401  (fallback to plain numpy names)

# ``np.linalg`` etc. must be autograd's submodules below, not the ``chainrule.numpy`` modules the
# ``*`` import brought in (``from . import linalg`` would find those and stop there)
fft = _importlib.import_module(".fft", __name__)
linalg = _importlib.import_module(".linalg", __name__)
random = _importlib.import_module(".random", __name__)


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """The inverse of ``diagonal``: an array with one more axis whose ``offset`` diagonal in
    the axes ``axis1``, ``axis2`` (of the result) holds ``D``'s last axis, zeros elsewhere
    (autograd's addition to NumPy; autograd itself implements only ``offset=0, axis1=-1,
    axis2=-2``). With ``n = D.shape[-1]``, ``m = n + |offset|``, rows ``r_i = i + max(-offset, 0)``
    and columns ``c_i = i + max(offset, 0)``::

        out[..., r, c] = sum_i D[..., i] [r == r_i] [c == c_i]

    then the two new axes are moved to ``axis1`` and ``axis2``; linear in ``D``, so
    differentiable to any order."""
    n = _np.shape(D)[-1] if _np.ndim(D) else 1
    D = _cnp.reshape(D, (1,)) if _np.ndim(D) == 0 else D
    # Python's abs and max: the ``*`` import above shadows them with NumPy's
    m = n + _builtins.abs(offset)
    eye = _np.eye(m)
    rows = eye[_np.arange(n) + _builtins.max(-offset, 0)]
    cols = eye[_np.arange(n) + _builtins.max(offset, 0)]
    out = _cnp.einsum("...i,ir,ic->...rc", D, rows, cols)
    nd = _np.ndim(out)
    a1, a2 = axis1 % nd, axis2 % nd
    if a1 == a2:
        raise ValueError(f"make_diagonal: axis1 and axis2 must differ (both are {axis1} of {nd} axes)")
    return _cnp.moveaxis(out, (nd - 2, nd - 1), (a1, a2))
