"""``autograd.test_util``."""

from ..gradcheck import check_grads  # noqa: F401
