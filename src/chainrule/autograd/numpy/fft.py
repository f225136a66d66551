"""``autograd.numpy.fft``."""

from ...numpy.fft import *  # noqa: F403
