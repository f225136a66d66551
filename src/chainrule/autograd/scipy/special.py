"""``autograd.scipy.special``."""

from ...scipy.special import *  # noqa: F403
