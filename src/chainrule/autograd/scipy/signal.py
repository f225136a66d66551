"""``autograd.scipy.signal``: ``convolve`` (autograd's takes ``axes`` and ``dot_axes`` too)."""

from ...scipy.signal import *  # noqa: F403
