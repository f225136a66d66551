"""``autograd.scipy.special``."""

from ...scipy.special import *  # noqa: F403
from ...scipy.special import jv as jn  # noqa: F401 (autograd's name: SciPy's jn is jv)
