"""``chainrule.scipy.special``: SciPy's special functions, differentiable.

The ufuncs (``expit``, ``erf``, ``gammaln``, ``digamma``, ``xlogy``, ...) are also what
plain ``scipy.special.erf(x)`` dispatches to on a traced ``x``. ``polygamma``,
``logsumexp``, ``softmax`` and ``log_softmax`` are Python functions in SciPy, so on
traced values call them from here.
"""

from ..rules.special import SCIPY_SPECIAL as _NAMES
from ..rules.special import (  # noqa: F401
    digamma,
    entr,
    erf,
    erfc,
    erfcinv,
    erfcx,
    erfinv,
    expit,
    gamma,
    gammaln,
    log_expit,
    log_ndtr,
    log_softmax,
    logit,
    logsumexp,
    ndtr,
    ndtri,
    polygamma,
    psi,
    softmax,
    xlog1py,
    xlogy,
)

__all__ = list(_NAMES)
