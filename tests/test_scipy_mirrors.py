"""chainrule.scipy mirrors SciPy's layout (issue 14 item 6): optimize's Rosenbrock functions,
and a traced array escaping from inside a SciPy (or NumPy) Python-level function that
chainrule mirrors names the replacement, for every mirrored module."""

import numpy as np
import pytest
import scipy.linalg as sl
import scipy.optimize as so
import scipy.signal as ssig
import scipy.special as sp
import scipy.stats as st
from helpers import check_batched

import chainrule as cr
import chainrule.scipy.optimize as co
from chainrule import check_grads
from chainrule.core.errors import TracerEscapeError
from chainrule.rules.dispatch import MIRRORS

x0 = np.array([0.3, -1.2, 0.8, 1.5])


@pytest.mark.parametrize("name", ["rosen", "rosen_der", "rosen_hess"])
def test_rosen_family_values_and_derivatives(name):
    np.testing.assert_allclose(getattr(co, name)(x0), getattr(so, name)(x0), rtol=1e-13)
    check_grads(getattr(co, name), modes=("fwd", "rev"), order=2)(x0)
    check_batched(getattr(co, name), x0)


def test_rosen_derivatives_are_each_other():
    np.testing.assert_allclose(cr.grad(co.rosen)(x0), so.rosen_der(x0), rtol=1e-12)
    np.testing.assert_allclose(cr.hessian(co.rosen)(x0), so.rosen_hess(x0), rtol=1e-12)
    p = np.array([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(co.rosen_hess_prod(x0, p), so.rosen_hess_prod(x0, p), rtol=1e-12)
    check_grads(co.rosen_hess_prod, modes=("fwd", "rev"), order=2)(x0, p)
    pts = np.stack([x0, x0[::-1]], axis=1)  # SciPy's rosen evaluates columns as points
    np.testing.assert_allclose(co.rosen(pts), so.rosen(pts), rtol=1e-13)


ESCAPES = [
    (lambda x: sp.logsumexp(x), "chainrule.scipy.special.logsumexp"),
    (lambda x: sp.softmax(x), "chainrule.scipy.special.softmax"),
    (lambda x: st.norm.logpdf(x, 0.0, 2.0), "chainrule.scipy.stats.norm.logpdf"),
    (lambda x: st.gamma.cdf(x, 2.0), "chainrule.scipy.stats.gamma.cdf"),
    (lambda x: st.t(3).logpdf(x), "chainrule.scipy.stats.t.logpdf"),
    (lambda x: st.poisson.logpmf(3, x), "chainrule.scipy.stats.poisson.logpmf"),
    (lambda x: st.multivariate_normal.logpdf(x, np.zeros(3)),
     "chainrule.scipy.stats.multivariate_normal.logpdf"),
    (lambda x: so.rosen(x), "chainrule.scipy.optimize.rosen"),
    (lambda x: sl.expm(np.diag(x)), "chainrule.scipy.linalg.expm"),
    (lambda x: ssig.convolve(x, x), "chainrule.scipy.signal.convolve"),
    (lambda x: np.r_[x, 1.0], "chainrule.numpy.r_"),
]


@pytest.mark.parametrize("f, replacement", ESCAPES)
def test_escape_names_the_replacement(f, replacement):
    x = np.array([0.5, 1.5, 2.5])
    with pytest.raises(TracerEscapeError, match=replacement.replace(".", r"\.")):
        cr.grad(lambda x: np.sum(f(x)))(x)


def test_plain_escape_names_nothing_mirrored():
    with pytest.raises(TracerEscapeError) as info:
        cr.grad(lambda x: np.asarray(x).sum())(np.ones(2))
    assert "use chainrule.scipy" not in str(info.value)


def test_every_mirror_is_a_real_replacement():
    """Each entry names a chainrule function that exists (no dangling advice)."""
    import importlib

    for name, replacement, *dists in MIRRORS.values():
        for target in replacement.split(" / "):
            for t in [target.format(dist=d) for d in dists[0]] if dists else [target]:
                module, attr = t.rsplit(".", 1)
                assert hasattr(importlib.import_module(module), attr), (name, t)


def test_unmirrored_distribution_is_not_advised():
    """scipy.stats.lognorm shares rv_continuous.logpdf with norm, but chainrule has no lognorm:
    the error must not send the user to a chainrule.scipy.stats.lognorm that does not exist."""
    with pytest.raises(TracerEscapeError) as info:
        cr.grad(lambda x: np.sum(st.lognorm.logpdf(x, 0.5)))(np.array([0.5, 1.5]))
    assert "lognorm" not in str(info.value)
