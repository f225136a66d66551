"""``import chainrule.numpy as np``: NumPy's names, differentiable.

The same functions are what NumPy itself dispatches to when plain ``numpy`` code
meets a traced array, so either import style records the same primitives.
"""

from numpy import e, euler_gamma, float32, float64, inf, nan, newaxis, pi  # noqa: F401

from ..rules.constants import *  # noqa: F403
from ..rules.elementwise import *  # noqa: F403
from ..rules.linalg import *  # noqa: F403
from ..rules.numeric import *  # noqa: F403
from ..rules.reductions import *  # noqa: F403
from ..rules.selection import *  # noqa: F403
from ..rules.sets import *  # noqa: F403
from ..rules.shape import *  # noqa: F403
from ..rules.special import *  # noqa: F403
from . import fft, linalg, random  # noqa: F401
from . import protocol as _protocol

_protocol.install()


def __getattr__(name):
    """Names chainrule does not define (dtypes, constructors, np.random...) are NumPy's own.

    Plain NumPy functions still dispatch to chainrule's rules when they meet a
    traced array, or raise an error naming themselves if none exists.
    """
    import numpy

    try:
        return getattr(numpy, name)
    except AttributeError:
        raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}") from None
