"""``autograd.scipy.linalg``."""

from ...scipy.linalg import *  # noqa: F403
