"""float32 stays float32 through every rule family (NumPy's type rules are the contract).

A constant array that a rule builds (an identity, a triangular mask, a shift, a count) is not
weakly typed as a Python scalar is: made float64, it turns a float32 derivative (or value)
into float64. For each function: the traced value has NumPy's (SciPy's) own dtype, and the
gradient, a tangent and a Hessian-vector product are float32 for a float32 input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg as sla

import chainrule as cr
import chainrule.scipy.special as csp
from chainrule.scipy import linalg as crla

_rng = np.random.default_rng(0)
X = _rng.normal(size=(3, 3)).astype(np.float32)
W = (np.abs(X[0]) + 0.5).astype(np.float32)
LOWER = np.tril(X) + 3 * np.eye(3, dtype=np.float32)

FUNCTIONS = {
    "sum": np.sum, "mean": np.mean, "var": np.var, "std": np.std, "prod": np.prod,
    "cumprod": lambda x: np.cumprod(x)[-1],
    "cumprod with a zero": lambda x: np.cumprod(x * np.array([1, 0, 1], np.float32))[-1],
    "cumsum": lambda x: np.cumsum(x)[-1], "max": np.max, "min": lambda x: np.min(x, axis=0)[0],
    "ptp": np.ptp, "median": np.median, "average": lambda x: np.average(x, axis=0, weights=W)[0],
    "nanmean": np.nanmean, "nansum": np.nansum,
    "norm": np.linalg.norm, "norm 1": lambda x: np.linalg.norm(x, 1),
    "norm inf": lambda x: np.linalg.norm(x, np.inf),
    "norm 0 (a count)": lambda x: np.linalg.norm(x[0], 0) * x[0, 0],
    "vector norm": lambda x: np.linalg.norm(x[0]), "det": np.linalg.det,
    "slogdet": lambda x: np.linalg.slogdet(x)[1], "inv": lambda x: np.sum(np.linalg.inv(x)),
    "solve": lambda x: np.sum(np.linalg.solve(x, x[0])),
    "eigh": lambda x: np.sum(np.linalg.eigh(x + x.T)[0] ** 2),
    "eigh vectors": lambda x: np.sum(np.linalg.eigh(x + x.T)[1][:, 0] ** 2
                                     * np.arange(3.0, dtype=np.float32)),
    "cholesky": lambda x: np.sum(np.linalg.cholesky(x @ x.T + 3 * np.eye(3, dtype=np.float32))),
    "solve_triangular unit": lambda x: np.sum(crla.solve_triangular(x * LOWER, x[0], lower=True,
                                                                     unit_diagonal=True)),
    "matmul": lambda x: np.sum(x @ x), "einsum": lambda x: np.einsum("ij,jk->", x, x),
    "einsum diagonal": lambda x: np.einsum("ii->", x * x),
    "einsum summed": lambda x: np.sum(np.einsum("ij->i", x) ** 2),
    "trace": np.trace, "outer": lambda x: np.sum(np.outer(x[0], x[1])),
    "kron": lambda x: np.sum(np.kron(x, x)),
    "matrix_power 3": lambda x: np.sum(np.linalg.matrix_power(x, 3)),
    "matrix_power -2": lambda x: np.sum(np.linalg.matrix_power(x, -2)),
    "matrix_power 0": lambda x: np.sum(np.linalg.matrix_power(x, 0) * x),
    "logsumexp": csp.logsumexp, "logsumexp b": lambda x: csp.logsumexp(x, b=x * x),
    "logsumexp const b": lambda x: csp.logsumexp(x, b=W), "softmax": lambda x: csp.softmax(x)[0, 0],
    "log_softmax": lambda x: csp.log_softmax(x, axis=1)[0, 0], "expit": lambda x: np.sum(csp.expit(x)),
    "gammaln": lambda x: np.sum(csp.gammaln(x * x + 1)), "digamma": lambda x: np.sum(csp.digamma(x * x + 1)),
    "clip": lambda x: np.sum(np.clip(x, -0.5, 0.5)), "where": lambda x: np.sum(np.where(x > 0, x, 0.0)),
    "power": lambda x: np.sum(np.abs(x) ** 1.5), "integer power": lambda x: np.sum(x ** 3),
    "negative power": lambda x: np.sum(x ** -1), "2 ** x": lambda x: np.sum(2.0 ** x),
    "maximum": lambda x: np.sum(np.maximum(x, 0.0)), "fmin": lambda x: np.sum(np.fmin(x, x.T)),
    "hypot": lambda x: np.sum(np.hypot(x, 1.0)), "arctan2": lambda x: np.sum(np.arctan2(x, 2.0)),
}
# not float32 in SciPy itself: scipy.special.polygamma computes in float64


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32_in_float32_out(name):
    f = FUNCTIONS[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        plain = f(X)
        g = cr.grad(f)(X)
        value, t = cr.jvp(f, (X,), (np.ones_like(X),))
        h = cr.hvp(f, X, np.ones_like(X))
    assert np.asarray(value).dtype == np.asarray(plain).dtype, f"value: {np.asarray(value).dtype}"
    for what, d in (("grad", g), ("jvp", t), ("hvp", h)):
        assert np.asarray(d).dtype == np.float32, f"{what} of {name}: {np.asarray(d).dtype}"


def test_numpy_and_scipy_give_float32_for_these():
    """The reference itself: NumPy's and SciPy's values for float32 input are float32."""
    import scipy.special as ss
    assert ss.logsumexp(X).dtype == np.float32 and ss.softmax(X).dtype == np.float32
    assert np.linalg.norm(X[0], 0).dtype == np.float32
    assert np.linalg.matrix_power(X, 0).dtype == np.float32
    assert sla.solve_triangular(LOWER, X[0], lower=True, unit_diagonal=True).dtype == np.float32


# float32 values whose float32 sum loses digits that a float64 accumulator keeps
_WIDE = np.arange(100_000, dtype=np.float32) * np.float32(0.1) + np.float32(1e4)
_FRACTIONS = np.array([0.5, 0.7, 1.9, -1.2])
DTYPE_ARG = {
    "sum float64": (lambda x: np.sum(x, dtype=np.float64), _WIDE),
    "mean float64": (lambda x: np.mean(x, dtype=np.float64), _WIDE),
    "var float64": (lambda x: np.var(x, dtype=np.float64), _WIDE),
    "std float64": (lambda x: np.std(x, dtype=np.float64), _WIDE),
    "cumsum float64": (lambda x: np.cumsum(x, dtype=np.float64)[-3:], _WIDE),
    "prod float64": (lambda x: np.prod(x[:3], dtype=np.float64), _WIDE),
    "nansum float64": (lambda x: np.nansum(x, dtype=np.float64), _WIDE),
    "nanmean float64": (lambda x: np.nanmean(x, dtype=np.float64), _WIDE),
    "sum int": (lambda x: np.sum(x, dtype=int), _FRACTIONS),
    "mean int": (lambda x: np.mean(x, dtype=int), _FRACTIONS),
    "prod int": (lambda x: np.prod(x, dtype=int), _FRACTIONS),
    "cumsum int": (lambda x: np.cumsum(x, dtype=int), _FRACTIONS),
    "cumprod float32": (lambda x: np.cumprod(x, dtype=np.float32), _FRACTIONS),
    "sum float32": (lambda x: np.sum(x, dtype=np.float32), _FRACTIONS),
}


@pytest.mark.parametrize("name", sorted(DTYPE_ARG))
def test_a_reductions_dtype_is_its_accumulator(name):
    """``dtype=`` is the dtype the elements are reduced in, as in NumPy: casting only the result
    gave a float32-accurate float64 sum (and sum([0.5, 0.7], dtype=int) = 1, not NumPy's 0)."""
    f, x = DTYPE_ARG[name]
    want = f(x)
    value, _ = cr.vjp(f, x)
    np.testing.assert_array_equal(value, want)
    assert np.asarray(value).dtype == np.asarray(want).dtype
    if np.asarray(want).dtype.kind == "f":
        g = cr.grad(lambda x: np.sum(f(x)))(x)
        assert g.dtype == x.dtype  # the cast's transpose: back to the input's dtype
