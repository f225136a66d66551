"""``chainrule.scipy.special``: SciPy's special functions, differentiable.

The ufuncs (``expit``, ``erf``, ``gammaln``, ``digamma``, ``xlogy``, ...) are also what
plain ``scipy.special.erf(x)`` dispatches to on a traced ``x``. ``polygamma``,
``logsumexp``, ``softmax`` and ``log_softmax`` are Python functions in SciPy, so on
traced values call them from here; so are ``multigammaln``, ``comb``, ``factorial`` and
``zeta``.
"""

from ..rules.bessel import BESSEL as _BESSEL
from ..rules.bessel import i0, i0e, i1, i1e, iv, ive, j0, j1, jv, kv, y0, y1, yn  # noqa: F401
from ..rules.expint import EXPINT as _EXPINT
from ..rules.expint import dawsn, exp1, expi, expn, fresnel, owens_t, shichi, sici, spence  # noqa: F401
from ..rules.gammabeta import GAMMA_BETA as _GAMMA_BETA
from ..rules.gammabeta import (  # noqa: F401
    beta,
    betainc,
    betaincc,
    betainccinv,
    betaincinv,
    betaln,
    gammainc,
    gammaincc,
    gammainccinv,
    gammaincinv,
    gammasgn,
    kl_div,
    multigammaln,
    rel_entr,
    rgamma,
    stdtr,
    stdtrit,
)
from ..rules.hypergeometric import HYPERGEOMETRIC as _HYPERGEOMETRIC
from ..rules.hypergeometric import (  # noqa: F401
    binom,
    boxcox,
    boxcox1p,
    comb,
    factorial,
    hyp1f1,
    hyp2f1,
    inv_boxcox,
    inv_boxcox1p,
    loggamma,
    poch,
    zeta,
)
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

__all__ = list(_NAMES) + _BESSEL + _GAMMA_BETA + _EXPINT + _HYPERGEOMETRIC
