"""``autograd.numpy.random``: random numbers are constants; every name of ``numpy.random``."""

from numpy.random import *  # noqa: F403
from numpy.random import get_bit_generator, set_bit_generator  # noqa: F401 (not in NumPy's __all__)
