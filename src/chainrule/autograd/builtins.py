"""``autograd.builtins``: autograd needs its own ``tuple``/``list``/``dict`` to differentiate
through containers, and its own ``isinstance``/``type`` to see through its boxes. chainrule's
transforms accept any container (pytrees), so the containers are Python's own; ``isinstance``
and ``type`` see through chainrule's traced values as autograd's see through its boxes
(``type(x)`` of a traced ndarray is ``numpy.ndarray``)."""

from __future__ import annotations

import builtins as _builtins

import numpy as _np

from ..core.aval import ShapedArray as _ShapedArray
from ..core.primitive import Box as _Box

tuple = _builtins.tuple  # noqa: A001
list = _builtins.list  # noqa: A001
dict = _builtins.dict  # noqa: A001


def _plain_type(x):
    """The type of the value under every trace (read without reading the value itself)."""
    while _builtins.isinstance(x, _Box):
        x = x._value
    return _np.ndarray if _builtins.isinstance(x, _ShapedArray) else _builtins.type(x)


def isinstance(obj, classinfo):  # noqa: A001
    """``isinstance`` that answers for the value a traced array holds, as autograd's does."""
    if _builtins.isinstance(obj, classinfo):
        return True
    return _builtins.isinstance(obj, _Box) and issubclass(_plain_type(obj), classinfo)


def type(obj, *rest):  # noqa: A001
    """``type(x)``: the type of the value a traced array holds; ``type(name, bases, dict)``
    creates a class, as Python's does."""
    return _builtins.type(obj, *rest) if rest else _plain_type(obj)


__all__ = ["tuple", "list", "dict", "isinstance", "type"]
