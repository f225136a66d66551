"""Silent-wrong classes closed in the core: each test names the class it covers."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.errors import NotDifferentiableInputError

# -- a complex intermediate gives JAX's derivatives in every mode (it used to be silently wrong) --
COMPLEX_INTERMEDIATES = [
    lambda x, xp: xp.abs(x * 1j),
    lambda x, xp: xp.abs(xp.sqrt(x - 4 + 0j)),
    lambda x, xp: xp.real(xp.exp(1j * x)),
    lambda x, xp: xp.abs(x + np.complex128(1j)),
    lambda x, xp: xp.sum(xp.abs(xp.array([1j, 2.0]) * x)),
    lambda x, xp: xp.abs(np.complex64(2j) * x),
]


def test_complex_intermediates_pinned_values():
    # |x i| = |x|, and |sqrt(x - 4)| = sqrt(4 - x) for x < 4: d/dx = -1 / (2 sqrt 2)
    assert cr.grad(lambda x: np.abs(x * 1j))(2.0) == 1.0
    g = cr.grad(lambda x: np.abs(np.sqrt(x - 4 + 0j)))(2.0)
    np.testing.assert_allclose(g, -1 / (2 * np.sqrt(2.0)), rtol=1e-14)
    np.testing.assert_allclose(cr.grad(lambda x: np.real(np.exp(1j * x)))(2.0), -np.sin(2.0))
    np.testing.assert_allclose(cr.hessian(lambda x: np.abs(x + 1j))(2.0), 1 / 5 ** 1.5)


@pytest.mark.parametrize("f", COMPLEX_INTERMEDIATES)
@pytest.mark.parametrize("x", [2.0, np.float64(2.0), np.array(2.0)])
def test_complex_intermediate_matches_jax_in_every_mode(f, x):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    fc = lambda x: f(x, np)  # noqa: E731
    fj = lambda x: f(x, jnp)  # noqa: E731
    xj = jnp.asarray(x, dtype=jnp.float64)
    # NumPy computes complex64(2j) * 2.0 in complex64 (a Python float is weak); JAX's x is float64
    rtol = 1e-6 if f is COMPLEX_INTERMEDIATES[5] else 1e-12
    close = lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol)  # noqa: E731
    close(cr.grad(fc)(x), jax.grad(fj)(xj))
    close(cr.jvp(fc, (x,), (1.5,))[1], jax.jvp(fj, (xj,), (jnp.asarray(1.5),))[1])
    close(cr.hessian(fc)(x), jax.hessian(fj)(xj))
    close(cr.vjp(fc, x)[1](0.7)[0], jax.vjp(fj, xj)[1](jnp.asarray(0.7))[0])
    # a real input's derivative stays real
    assert np.asarray(cr.grad(fc)(x)).dtype == np.float64


def test_real_programs_with_complex_free_constants_still_work():
    assert cr.grad(lambda x: np.abs(x * 2.0))(-2.0) == -2.0


# -- argnums naming an argument twice ----------------------------------------------------------
@pytest.mark.parametrize("argnums", [(1, 1), (0, 0, 1), (1, -1)])
def test_repeated_argnums_raise(argnums):
    f = lambda x, y: x * y  # noqa: E731
    for transform in (cr.grad, cr.value_and_grad, cr.jacobian, cr.jacrev, cr.jacfwd, cr.hessian):
        with pytest.raises(ValueError, match="more than once"):
            transform(f, argnums=argnums)(1.0, 2.0)


# -- grad of an integer or boolean output ------------------------------------------------------
@pytest.mark.parametrize("f", [lambda x: (x > 0).sum(), lambda x: np.argmax(x),
                               lambda x: (x > 0).all(), lambda x: np.floor(x).astype(int).sum()])
def test_grad_of_integer_or_boolean_output_raises(f):
    with pytest.raises(TypeError, match="floating-point output"):
        cr.grad(f)(np.array([1.0, -2.0]))


# -- gradients belong to the caller ------------------------------------------------------------
@pytest.mark.parametrize("f", [lambda x: x.sum(), lambda x: np.mean(x), lambda x: np.sum(x * 2.0),
                               lambda x: np.broadcast_to(x, (3, 3)).sum(), lambda x: x[0, 0]])
def test_gradients_are_writable_arrays(f):
    g = cr.grad(f)(np.ones((3, 3)))
    g *= 0.1  # a read-only broadcast view would raise here
    assert g.flags.writeable


# -- values changed after recording never mix into a closure's derivative --------------------
def test_vjp_uses_the_recorded_input_after_it_is_changed_in_place():
    x = np.array([1.0, 2.0])
    _, f_vjp = cr.vjp(np.sin, x)
    x[0] = 100.0
    np.testing.assert_allclose(f_vjp(np.ones(2))[0], np.cos([1.0, 2.0]))


def test_vjp_uses_recorded_closed_over_arrays_and_views():
    w = np.array([1.0, 2.0, 3.0])
    x = np.array([0.5, 0.25, 0.125])
    _, f_vjp = cr.vjp(lambda x: np.sum(w * np.exp(x.reshape(3))), x)
    w[:] = -7.0
    x[:] = 9.0
    np.testing.assert_allclose(f_vjp(1.0)[0], np.array([1.0, 2.0, 3.0]) * np.exp([0.5, 0.25, 0.125]))


def test_vjp_output_can_be_changed_without_touching_the_tape():
    x = np.array([0.1, 0.2])
    out, f_vjp = cr.vjp(np.exp, x)  # exp's VJP reads its output
    out[:] = 0.0
    np.testing.assert_allclose(f_vjp(np.ones(2))[0], np.exp([0.1, 0.2]))


def test_linearize_uses_recorded_values():
    x = np.array([1.0, 2.0])
    _, f_jvp = cr.linearize(np.sin, x)
    x[:] = 100.0
    np.testing.assert_allclose(f_jvp(np.ones(2)), np.cos([1.0, 2.0]))
    np.testing.assert_allclose(f_jvp.T(np.ones(2)), np.cos([1.0, 2.0]))


# -- inputs that are not numbers ------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["abc", object(), {1, 2}, b"x"])
def test_non_numeric_inputs_get_a_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        cr.grad(lambda x: x)(bad)


def test_torch_tensor_input_is_named():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="torch"):
        cr.grad(lambda x: (x * x).sum())(torch.ones(3, dtype=torch.float64))


def test_integer_inputs_still_get_their_own_error():
    with pytest.raises(NotDifferentiableInputError):
        cr.grad(lambda x: x * 2.0)(3)


# -- the one operator table: metadata properties on traced arrays --------------------------------
def test_real_imag_mt_on_traced_arrays():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(cr.grad(lambda x: (x.mT * np.arange(6.0).reshape(3, 2)).sum())(x),
                               np.arange(6.0).reshape(3, 2).T)
    np.testing.assert_allclose(cr.grad(lambda x: x.real.sum() + 0 * x.imag.sum())(x), np.ones((2, 3)))


@pytest.mark.parametrize("op", ["__and__", "__or__", "__xor__"])
def test_bitwise_operators_on_masks_follow_numpy(op):
    x = np.array([-1.0, 0.5, 2.0, 3.0])

    def f(x):
        a, b = x > 0, x < 2.5
        return np.sum(getattr(a, op)(b) * x) + np.sum(~a * x)

    want = getattr(x > 0, op)(x < 2.5) * 1.0 + ~(x > 0) * 1.0
    np.testing.assert_allclose(cr.grad(f)(x), want)
