"""``autograd.numpy.linalg``."""

from ...numpy.linalg import *  # noqa: F403
