"""The one operator table: what ``+``, ``x[i]``, ``x.sum()``, ``x.T`` mean on a traced value.

Every front-end takes its operators and methods from here: traced arrays (the
functional transforms and jit) and ``chainrule.Tensor`` install the same functions,
keyed by the function object, so an operator cannot mean one thing under ``grad``
and another on a Tensor.
"""

from __future__ import annotations

# ruff: noqa: F405  (names come from the rule families' star imports)
from ..rules.constants import *  # noqa: F403  (the same namespace as chainrule.numpy)
from ..rules.elementwise import *  # noqa: F403
from ..rules.linalg import *  # noqa: F403
from ..rules.reductions import *  # noqa: F403
from ..rules.shape import *  # noqa: F403

# dunder -> function(self, other) / function(self)
OPERATORS = {
    "__add__": add, "__sub__": subtract, "__mul__": multiply, "__truediv__": divide,
    "__pow__": power, "__matmul__": matmul, "__mod__": mod, "__floordiv__": floor_divide,
    "__neg__": negative, "__pos__": positive, "__abs__": absolute,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
    "__eq__": equal, "__ne__": not_equal, "__getitem__": getitem,
    "__and__": bitwise_and, "__or__": bitwise_or, "__xor__": bitwise_xor,
    "__invert__": invert,
}

# reflected dunder -> the function, called as function(other, self)
REFLECTED = {
    "__radd__": add, "__rsub__": subtract, "__rmul__": multiply, "__rtruediv__": divide,
    "__rpow__": power, "__rmatmul__": matmul, "__rmod__": mod,
    "__rfloordiv__": floor_divide, "__rand__": bitwise_and, "__ror__": bitwise_or,
    "__rxor__": bitwise_xor,
}

# ndarray method name -> function(self, *args, **kwargs)
METHODS = {
    "sum": sum, "mean": mean, "prod": prod, "max": max, "min": min, "var": var,
    "std": std, "cumsum": cumsum, "cumprod": cumprod, "reshape": method_reshape,
    "transpose": method_transpose, "swapaxes": swapaxes, "squeeze": squeeze,
    "ravel": ravel, "flatten": flatten, "dot": method_dot, "clip": clip,
    "round": round, "argmax": method_argmax, "argmin": method_argmin,
    "argsort": method_argsort, "astype": method_astype, "diagonal": diagonal,
    "trace": trace, "repeat": repeat, "conj": conj, "conjugate": conj,
    "copy": method_copy, "all": method_all, "any": method_any,
    "nonzero": method_nonzero, "take": take, "sort": method_sort,
}

# ndarray property name -> function(self)
PROPERTIES = {
    "T": transpose,
    "mT": lambda x: swapaxes(x, -1, -2),
    "real": real,
    "imag": imag,
}
