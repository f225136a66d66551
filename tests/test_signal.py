"""scipy.signal's convolve/correlate (issue 14 item 4): n-d, every mode, real and complex,
values equal to SciPy's for every size pairing, derivatives against JAX's
jax.scipy.signal (float64), check_grads in both modes to order 2 with batched passes."""

import numpy as np
import pytest
import scipy.signal as ss
from helpers import check_batched

import chainrule as cr
import chainrule.scipy.signal as cs
from chainrule import check_grads

rng = np.random.default_rng(11)

SHAPES = [((5,), (3,)), ((3,), (5,)), ((4, 3), (2, 2)), ((2, 2), (4, 3)), ((4, 5), (3, 2)),
          ((3, 4, 2), (2, 3, 2))]


@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1, s2", SHAPES)
def test_values_match_scipy(fn, mode, s1, s2):
    a = rng.normal(size=s1) + 1j * rng.normal(size=s1)
    v = rng.normal(size=s2) + 1j * rng.normal(size=s2)
    try:
        want = getattr(ss, fn)(a, v, mode)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(cs, fn)(a, v, mode)
        return
    np.testing.assert_allclose(getattr(cs, fn)(a, v, mode), want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("s1, s2", [((6,), (3,)), ((4, 3), (2, 2)), ((2, 2), (4, 3))])
def test_derivatives(fn, mode, s1, s2):
    a, v = rng.normal(size=s1), rng.normal(size=s2)
    f = lambda a, v: getattr(cs, fn)(a, v, mode)  # noqa: E731
    check_grads(f, modes=("fwd", "rev"), order=2)(a, v)
    check_batched(f, a, v)


@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_against_jax(fn, mode):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jsig = pytest.importorskip("jax.scipy.signal")
    a, v = rng.normal(size=(5, 4)), rng.normal(size=(3, 2))
    ours = lambda a, v: (getattr(cs, fn)(a, v, mode) ** 2).sum()  # noqa: E731
    theirs = lambda a, v: (getattr(jsig, fn)(a, v, mode) ** 2).sum()  # noqa: E731
    np.testing.assert_allclose(ours(a, v), theirs(a, v), rtol=1e-12)
    for g, gj in zip(cr.grad(ours, (0, 1))(a, v), jax.grad(theirs, (0, 1))(a, v), strict=True):
        np.testing.assert_allclose(g, gj, rtol=1e-10)


def test_2d_variants_and_errors():
    a, v = rng.normal(size=(4, 5)), rng.normal(size=(2, 3))
    np.testing.assert_allclose(cs.convolve2d(a, v, "same"), ss.convolve2d(a, v, "same"), rtol=1e-12)
    np.testing.assert_allclose(cs.correlate2d(a, v, "valid"), ss.correlate2d(a, v, "valid"), rtol=1e-12)
    np.testing.assert_allclose(cs.fftconvolve(a, v), ss.fftconvolve(a, v), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="boundary='fill'"):
        cs.convolve2d(a, v, boundary="wrap")
    with pytest.raises(ValueError, match="same dimensionality"):
        cs.convolve(a, v[0])
    with pytest.raises(ValueError, match="at least as large"):
        cs.convolve(rng.normal(size=(4, 2)), rng.normal(size=(2, 4)), "valid")
    with pytest.raises(ValueError, match="acceptable mode"):
        cs.convolve(a, v, "bogus")
