"""``autograd.numpy`` as chainrule: differentiable NumPy names, the rest plain NumPy, and
autograd's one addition to NumPy, ``make_diagonal``."""

import builtins as _builtins
import importlib as _importlib

import numpy as _np

from ... import numpy as _cnp
from ...core.primitive import unbox_all as _unbox_all
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


def where(condition, *args, **kwargs):
    """NumPy's ``where`` that also takes ``x`` and ``y`` by keyword, as autograd's does
    (``where(c, x=a, y=b)``; NumPy's are positional only). The result follows NumPy, always an
    array (autograd returns a list or Python scalar when no argument is an ndarray)."""
    xy = list(args)
    for name in ("x", "y")[len(xy):]:
        if name in kwargs:
            xy.append(kwargs.pop(name))
    if kwargs or len(xy) == 1 or len(xy) > 2:
        raise TypeError("where: give both x and y (by position or by keyword x=, y=) or neither"
                        + (f"; unexpected {sorted(kwargs)}" if kwargs else ""))
    return _cnp.where(condition, *xy)


def _integer_type(cls):
    """``cls`` (an integer scalar type) whose constructor also takes a traced value and
    returns its plain integer cast, as autograd's ``np.int64(x)`` does: the cast is piecewise
    constant, so nothing of a derivative is lost (``x.astype(int)`` does the same). As a dtype
    it is ``cls`` (``np.dtype(np.int64)``, ``a.dtype == np.int64``)."""
    def new(_subclass, *args, **kwargs):
        return cls(*[_unbox_all(a) for a in args], **kwargs)
    return _builtins.type(cls.__name__, (cls,), {"__new__": new, "__module__": __name__,
                                                 "__doc__": _integer_type.__doc__})


# autograd wraps these (its numpy_wrapper's integer types)
int8, int16, int32, int64, integer = (_integer_type(_t) for _t in (_np.int8, _np.int16, _np.int32,
                                                                  _np.int64, _np.integer))
