"""numpy.fft, all of it: values, and derivatives against JAX (x64) and central differences in
both modes to order 2, batched; ``n``/``s`` cropping and zero-padding, every ``norm``."""

import numpy as np
import pytest
from complex_helpers import check_like_jax, crandn, jax_or_skip

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.gradcheck import check_grads

RNG = np.random.default_rng(7)
C1 = crandn(RNG, 2, 6)     # a batch of two complex signals of length 6
R1 = RNG.standard_normal((2, 7))  # two real signals of odd length
C3 = crandn(RNG, 3, 4, 5)
R3 = RNG.standard_normal((3, 4, 6))
NORMS = [None, "backward", "ortho", "forward"]

ONE_D = {  # name -> (input, n values: None, smaller and larger than the axis)
    "fft": (C1, [None, 4, 9]), "ifft": (C1, [None, 4, 9]),
    "rfft": (R1, [None, 4, 10]), "irfft": (C1, [None, 5, 13]),
    "hfft": (C1, [None, 6, 11]), "ihfft": (R1, [None, 4, 10]),
}


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", sorted(ONE_D))
def test_one_dimensional_transforms(name, norm):
    x, ns = ONE_D[name]
    for n in ns:
        for axis in (-1, 0):
            if n is not None and axis == 0:
                continue
            f = lambda xp, x, n=n, axis=axis: getattr(xp.fft, name)(x, n=n, axis=axis, norm=norm)  # noqa: E731
            np.testing.assert_allclose(getattr(cnp.fft, name)(x, n=n, axis=axis, norm=norm),
                                       getattr(np.fft, name)(x, n=n, axis=axis, norm=norm))
            # every norm is a constant factor: second order once, with the default norm
            check_like_jax(f, x, order=2 if norm is None else 1)


N_D = {  # name -> (input, s values)
    "fftn": (C3, [None, (3, 6), (2, 4, 7)]), "ifftn": (C3, [None, (3, 6), (2, 4, 7)]),
    "fft2": (C3, [None, (3, 7)]), "ifft2": (C3, [None, (5, 3)]),
    "rfftn": (R3, [None, (3, 4), (2, 5, 8)]), "irfftn": (C3, [None, (3, 6), (2, 4, 7)]),
    "rfft2": (R3, [None, (3, 9)]), "irfft2": (C3, [None, (5, 7)]),
}


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", sorted(N_D))
def test_n_dimensional_transforms(name, norm):
    x, ss = N_D[name]
    for s in ss:
        # NumPy's default axes, said explicitly (s without axes is deprecated)
        axes = (-2, -1) if name.endswith("2") else None if s is None else tuple(range(-len(s), 0))
        f = lambda xp, x, s=s, axes=axes: getattr(xp.fft, name)(x, s=s, axes=axes, norm=norm)  # noqa: E731
        np.testing.assert_allclose(getattr(cnp.fft, name)(x, s=s, axes=axes, norm=norm),
                                   getattr(np.fft, name)(x, s=s, axes=axes, norm=norm), atol=1e-12)
        check_like_jax(f, x, order=2 if s is None and norm is None else 1)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn"])
def test_axes_in_any_order(name):
    x = R3 if name == "rfftn" else C3
    for axes in [(0,), (2, 0), (1, -1), (0, 1, 2)]:
        f = lambda xp, x, axes=axes: getattr(xp.fft, name)(x, axes=axes)  # noqa: E731
        np.testing.assert_allclose(getattr(cnp.fft, name)(x, axes=axes),
                                   getattr(np.fft, name)(x, axes=axes), atol=1e-12)
        check_like_jax(f, x, order=1)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_shifts(name):
    for axes in (None, 0, (1, 2)):
        check_like_jax(lambda xp, x, axes=axes: getattr(xp.fft, name)(x, axes=axes), C3)


def test_freqs_are_constants():
    assert cnp.fft.fftfreq is np.fft.fftfreq and cnp.fft.rfftfreq is np.fft.rfftfreq
    f = np.fft.fftfreq(6, d=0.1)
    g = cr.grad(lambda x: np.sum(np.abs(np.fft.fft(x) * f) ** 2))(C1[0])
    jax = jax_or_skip()
    want = jax.grad(lambda x: jax.numpy.sum(jax.numpy.abs(jax.numpy.fft.fft(x) * f) ** 2))(C1[0])
    np.testing.assert_allclose(g, want, rtol=1e-12)


def test_round_trips_and_mixed_programs():
    # irfft(rfft(x)) is x, so its derivative is the identity (the Hermitian weights at work)
    x = RNG.standard_normal(8)
    np.testing.assert_allclose(cr.jacobian(lambda x: np.fft.irfft(np.fft.rfft(x), n=8))(x),
                               np.eye(8), atol=1e-14)
    x = RNG.standard_normal(7)
    np.testing.assert_allclose(cr.jacobian(lambda x: np.fft.irfft(np.fft.rfft(x), n=7))(x),
                               np.eye(7), atol=1e-14)
    np.testing.assert_allclose(cr.hessian(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 4))(x),
                               _jax_hessian(lambda xp, x: xp.sum(xp.abs(xp.fft.rfft(x)) ** 4), x),
                               rtol=1e-10)
    check_like_jax(lambda xp, x: xp.fft.ifft(xp.fft.fft(x) * xp.exp(1j * xp.arange(6.0)) ** 2), C1)


def _jax_hessian(f, x):
    jax = jax_or_skip()
    return jax.hessian(lambda x: f(jax.numpy, x))(jax.numpy.asarray(x))


def test_float32_stays_single_precision():
    x = RNG.standard_normal(8).astype(np.float32)
    g = cr.grad(lambda x: np.sum(np.abs(np.fft.rfft(x)) ** 2))(x)
    assert g.dtype == np.float32
    y = cnp.fft.fft(cr.jvp(lambda x: x, (x,), (x,))[0].astype(np.complex64))
    assert np.asarray(y).dtype == np.complex64


def test_batched_jacobians_through_every_transform():
    for f in (lambda x: np.fft.fft(x, n=8), lambda x: np.fft.rfft(np.real(x), n=5),
              lambda x: np.fft.irfft(x, n=9), lambda x: np.fft.hfft(x), lambda x: np.fft.fft2(x)):
        z = crandn(RNG, 2, 5)
        check_grads(lambda z, f=f: np.real(f(z)) + np.imag(f(z)) ** 2, order=2)(z)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="Invalid norm"):
        cr.grad(lambda x: np.sum(np.abs(np.fft.fft(x, norm="bad"))))(C1)
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        cr.grad(lambda x: np.sum(np.abs(np.fft.fft(x, n=0))))(C1)
    with pytest.raises(TypeError, match="real input"):
        cr.grad(lambda x: np.sum(np.abs(np.fft.rfft(x))))(C1)
    with pytest.raises(TypeError, match="out="):
        cr.grad(lambda x: np.sum(np.abs(cnp.fft.fft(x, out=np.empty((2, 6), complex)))))(C1)
