"""``autograd.scipy.stats.multivariate_normal``.

One difference from autograd: autograd's gradient with respect to ``cov`` is that of SciPy's
function, which reads only the lower triangle (a lower-triangular gradient, half on the
diagonal); chainrule's uses the symmetric part ``(C + C^T) / 2`` and gives the symmetric
gradient, as JAX's does. For any symmetric parameterisation of ``cov`` (``L @ L.T``, a
diagonal, ...) the gradients with respect to the parameters are the same.
"""

from ....scipy.stats.multivariate_normal import *  # noqa: F403
from ....scipy.stats.multivariate_normal import __all__  # noqa: F401
