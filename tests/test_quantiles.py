"""Quantiles: the inverses of the incomplete gamma and beta functions and of the t CDF
(gammaincinv, gammainccinv, betaincinv, betainccinv, stdtrit; betaincc beside them), and
through them ppf/isf of scipy.stats' continuous families, against SciPy, differentiable in
every argument (implicit function theorem; the parameter derivatives of the forward functions)."""

import numpy as np
import pytest
import scipy.special as ss
import scipy.stats as st

import chainrule as cr
import chainrule.scipy.special as cs
import chainrule.scipy.stats as cst

P = np.array([0.02, 0.3, 0.5, 0.9])
SPECIAL = {  # name: arguments (the probability last)
    "gammaincinv": (np.array([0.5, 2.0, 7.0, 30.0]), P), "gammainccinv": (np.array([0.5, 2.0, 7.0, 30.0]), P),
    "betaincinv": (np.array([0.5, 2.0, 7.0, 1.0]), np.array([1.5, 3.0, 0.7, 1.0]), P),
    "betainccinv": (np.array([0.5, 2.0, 7.0, 1.0]), np.array([1.5, 3.0, 0.7, 1.0]), P),
    "betaincc": (np.array([0.5, 2.0, 7.0, 1.0]), np.array([1.5, 3.0, 0.7, 1.0]), P),
    "stdtrit": (np.array([0.7, 3.0, 30.0, 1.0]), P),
}


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_special_inverses(name):
    ours, theirs, args = getattr(cs, name), getattr(ss, name), SPECIAL[name]
    np.testing.assert_allclose(ours(*args), theirs(*args), rtol=1e-13)
    cr.check_grads(ours, modes=("fwd", "rev"), order=2, eps=1e-5)(*args)
    for k in range(len(args)):
        got = cr.grad(lambda *a: ours(*a).sum(), argnums=k)(*args)
        h = 1e-6 * np.maximum(1.0, np.abs(args[k]))
        up, down = list(args), list(args)
        up[k], down[k] = args[k] + h, args[k] - h
        fd = (theirs(*up) - theirs(*down)) / (2 * h)
        np.testing.assert_allclose(got, fd, rtol=2e-6, err_msg=f"arg {k}")
    stacked = [np.stack([a, a * 1.01 if k < len(args) - 1 else a * 0.99]) for k, a in enumerate(args)]
    np.testing.assert_allclose(cr.vmap(ours)(*stacked), theirs(*stacked), rtol=1e-12)


FAMILIES = [("norm", ()), ("expon", ()), ("t", (3.0,)), ("gamma", (2.0,)), ("beta", (0.8, 2.5)),
            ("chi2", (3.0,)), ("laplace", ()), ("logistic", ()), ("cauchy", ())]


@pytest.mark.parametrize("name, shapes", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_ppf_and_isf_as_scipy(name, shapes):
    """Values at the ends of [0, 1] (the support's ends), outside it (nan), in the far tails
    (isf from the upper tail's own inverse: isf(1e-20) is finite, not ppf(1 - 1e-20) = inf)."""
    q = np.array([0.0, 1e-20, 1e-10, 0.01, 0.3, 0.5, 0.9, 1.0, 1.2, -0.1])
    for method in ("ppf", "isf"):
        with np.errstate(all="ignore"):
            want = getattr(getattr(st, name), method)(q, *shapes, 0.1, 1.3)
        got = getattr(getattr(cst, name), method)(q, *shapes, 0.1, 1.3)
        np.testing.assert_allclose(got, want, rtol=1e-9, err_msg=method)


@pytest.mark.parametrize("name, shapes", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_ppf_and_isf_differentiate_in_every_argument(name, shapes):
    for method in ("ppf", "isf"):
        def f(q, loc, scale, *s, method=method):
            return getattr(getattr(cst, name), method)(q, *s, loc, scale)
        cr.check_grads(f, modes=("fwd", "rev"), order=2, eps=1e-5)(np.array([0.2, 0.6]), 0.1, 1.3, *shapes)
        # the quantile's derivative in q is 1 / pdf at the quantile
        q = np.array([0.2, 0.6])
        x = f(q, 0.1, 1.3, *shapes)
        dq = cr.grad(lambda q: f(q, 0.1, 1.3, *shapes).sum())(q)
        pdf = getattr(st, name).pdf(x, *shapes, 0.1, 1.3)
        np.testing.assert_allclose(dq, (1.0 if method == "ppf" else -1.0) / pdf, rtol=1e-9)
