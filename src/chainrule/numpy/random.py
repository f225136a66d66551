"""``chainrule.numpy.random``: NumPy's random module (random numbers are constants)."""

from numpy.random import *  # noqa: F403
