"""Array-likes where SciPy takes them: a list or tuple (of numbers, or of traced values) is an
array to chainrule's mirrors of SciPy as to SciPy itself. The class: a function that read the
shape or dtype of its raw argument saw a list as a scalar (``shape_of([1, 2])`` was ``()``)."""

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.signal as sg
import scipy.special as ssp
import scipy.stats as st

import chainrule as cr
import chainrule.scipy.linalg as cl
import chainrule.scipy.signal as cg
import chainrule.scipy.special as csp
import chainrule.scipy.stats as cs
from chainrule.core.aval import dtype_of, shape_of

A = [[2.0, 0.3], [0.1, 1.5]]
B = [[1.0, 0.2], [0.4, 3.0]]
b = [1.0, 2.0]
S = [[1.0, 0.2], [0.2, 1.0]]

CALLS = {  # name: (ours, SciPy's) called with lists and tuples
    "linalg.pinv": lambda m: m.pinv(A), "linalg.expm": lambda m: m.expm(A),
    "linalg.lstsq": lambda m: m.lstsq(A, b)[0], "linalg.block_diag": lambda m: m.block_diag(A, [[1.0]]),
    "linalg.cho_solve": lambda m: m.cho_solve(m.cho_factor(B), b),
    "linalg.solve_sylvester": lambda m: m.solve_sylvester(A, B, A),
    "signal.convolve2d": lambda m: m.convolve2d(A, B), "signal.correlate": lambda m: m.correlate(b, b),
    "special.multigammaln": lambda m: m.multigammaln([3.0, 4.0], 2),
    "special.logsumexp": lambda m: m.logsumexp((1.0, 2.0)),
    "stats.norm.cdf": lambda m: m.norm.cdf([0.1, 0.2], [0.0, 1.0], (1.0, 2.0)),
    "stats.t.logcdf": lambda m: m.t.logcdf([0.1, -0.2], [3, 4]),
    "stats.gamma.sf": lambda m: m.gamma.sf((0.1, 0.2), [2.0, 3.0]),
    "stats.poisson.pmf": lambda m: m.poisson.pmf([1, 2], [2.0, 3.0]),
    "stats.binom.entropy": lambda m: m.binom.entropy([4, 5], 0.3),
    "stats.dirichlet.logpdf": lambda m: m.dirichlet.logpdf([0.2, 0.3, 0.5], [1.0, 2.0, 3.0]),
    "stats.multivariate_normal.logpdf": lambda m: m.multivariate_normal.logpdf([0.1, 0.2], [0.0, 0.0], S),
    "stats.multivariate_normal.cdf": lambda m: m.multivariate_normal.cdf([0.1, 0.2], [0.0, 0.0], S),
}
MODULES = {"linalg": (cl, sl), "signal": (cg, sg), "special": (csp, ssp), "stats": (cs, st)}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_lists_are_arrays_as_in_scipy(name):
    ours, theirs = MODULES[name.split(".")[0]]
    np.testing.assert_allclose(CALLS[name](ours), CALLS[name](theirs), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("value", [[1, 2], [1, 2.0], [[1.0], [2.0]], (np.float32(1), 2.0), [True, False],
                                   [], [np.zeros(3)] * 2, ([1, 2], [3, 4]), 3, 2.5])
def test_shape_and_dtype_of_a_sequence_are_numpys(value):
    assert shape_of(value) == np.shape(value)
    assert dtype_of(value) == np.asarray(value).dtype


def test_lists_of_traced_values():
    """A list whose items are traced: its shape from the items', and differentiable through."""
    def f(x):
        items = [x, 2.0 * x]
        assert shape_of(items) == (2,) + np.shape(x)
        return cs.norm.logpdf(items).sum() + cl.pinv([[x, 1.0], [0.0, 2.0]])[0, 0]
    x = 0.5
    want = -(x + 4.0 * x) - 1.0 / x ** 2
    assert cr.grad(f)(x) == pytest.approx(want, rel=1e-10)
