"""``autograd.numpy.random``: random numbers are constants."""

from numpy.random import *  # noqa: F403
