"""Complex numbers end to end: JAX's conventions for grad/vjp/jvp, and every rule on complex
values against JAX (x64) and central differences in both modes to order 2, batched."""

import numpy as np
import pytest
from complex_helpers import check_like_jax, crandn, jax_or_skip

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.gradcheck import GradCheckError, check_grads

RNG = np.random.default_rng(1)
Z = crandn(RNG, 2, 3, margin=0.3)      # off the real-axis branch cuts
W = crandn(RNG, 3, margin=0.3)         # broadcasts against Z
X = RNG.standard_normal((2, 3))        # a real input meeting complex values


# -- the conventions, pinned to JAX's numbers -------------------------------------------------
def test_grad_of_real_function_of_complex_input_is_jaxs():
    # grad of |z|^2 is 2 conj(z) in JAX's convention (df/dx - i df/dy)
    assert cr.grad(lambda z: np.abs(z) ** 2)(3 + 4j) == pytest.approx(6 - 8j, rel=1e-15)
    np.testing.assert_allclose(cr.grad(np.abs)(3 + 4j), 0.6 - 0.8j, rtol=1e-15)
    # real(z conj(w)) = x_z x_w + y_z y_w: d/dz = conj(w)... as a cotangent: w conj'd twice
    z, w = 1 + 2j, 3 - 1j
    gz, gw = cr.grad(lambda z, w: np.real(z * np.conj(w)), argnums=(0, 1))(z, w)
    assert (gz, gw) == (np.conj(w), np.conj(z))
    assert type(gz) in (complex, np.complex128)


def test_pinned_against_jax():
    jax = jax_or_skip()
    jnp = jax.numpy
    z, w = 0.3 - 1.2j, -0.7 + 0.4j
    for f in (lambda xp, z, w: xp.abs(z) ** 2, lambda xp, z, w: xp.real(z * xp.conj(w)),
              lambda xp, z, w: xp.angle(z * w), lambda xp, z, w: xp.imag(z ** 3 / w)):
        got = cr.grad(lambda z, w, f=f: f(np, z, w), argnums=(0, 1))(z, w)
        want = jax.grad(lambda z, w, f=f: f(jnp, z, w), argnums=(0, 1))(jnp.asarray(z), jnp.asarray(w))
        np.testing.assert_allclose(got, want, rtol=1e-13)
    x = crandn(RNG, 8)
    got = cr.grad(lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2))(x)
    want = jax.grad(lambda x: jnp.sum(jnp.abs(jnp.fft.fft(x)) ** 2))(jnp.asarray(x))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, 2 * 8 * np.conj(x), rtol=1e-12)  # Parseval


def test_holomorphic_derivatives():
    z = 0.5 + 1.5j
    assert cr.grad(lambda z: z ** 3, holomorphic=True)(z) == pytest.approx(3 * z ** 2, rel=1e-15)
    assert cr.grad(np.exp, holomorphic=True)(z) == pytest.approx(np.exp(z), rel=1e-15)
    # second derivative of a holomorphic function: 6 z
    assert cr.grad(cr.grad(lambda z: z ** 3, holomorphic=True), holomorphic=True)(z) == \
        pytest.approx(6 * z, rel=1e-14)
    jax = jax_or_skip()
    for f in (lambda xp, z: z ** 3, lambda xp, z: xp.exp(z), lambda xp, z: xp.sin(z),
              lambda xp, z: xp.log(z) / z):
        np.testing.assert_allclose(
            cr.grad(lambda z, f=f: f(np, z), holomorphic=True)(z),
            jax.grad(lambda z, f=f: f(jax.numpy, z), holomorphic=True)(jax.numpy.asarray(z)), rtol=1e-14)


def test_grad_of_complex_output_says_what_to_do():
    with pytest.raises(TypeError, match="holomorphic=True.*real value"):
        cr.grad(lambda z: z ** 2)(1 + 1j)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.grad(lambda x: x * 1j)(2.0)
    with pytest.raises(TypeError, match="requires complex inputs"):
        cr.grad(lambda x: x * 1j, holomorphic=True)(2.0)
    with pytest.raises(TypeError, match="requires a complex output"):
        cr.grad(np.abs, holomorphic=True)(1 + 1j)


def test_derivatives_have_their_inputs_dtype():
    for dt in (np.complex64, np.complex128):
        z = np.array([1 + 2j, -0.5 + 1j], dtype=dt)
        assert cr.grad(lambda z: np.sum(np.real(z)))(z).dtype == dt  # every rule gave a real one
        assert cr.grad(lambda z: np.sum(np.abs(z)))(z).dtype == dt
    for dt in (np.float32, np.float64):
        x = np.array([1.0, 2.0], dtype=dt)
        assert cr.grad(lambda x: np.sum(np.abs(x * (1 + 1j))))(x).dtype == dt
    t = cr.jvp(lambda x: x * 1j, (2.0,), (1.0,))[1]
    assert t == 1j
    with pytest.raises(TypeError, match="tangent of a real input is real"):
        cr.jvp(lambda x: x * 1j, (2.0,), (1j,))


def test_vjp_is_the_transpose_not_the_conjugate_transpose():
    z, c = 1 + 2j, 3 - 1j
    _, f_vjp = cr.vjp(lambda z: c * z, z)
    assert f_vjp(1.0)[0] == c  # JAX: g c, not g conj(c)
    _, f_vjp = cr.vjp(np.conj, z)
    assert f_vjp(1j)[0] == -1j
    _, f_vjp = cr.vjp(np.imag, z)
    assert f_vjp(1.0)[0] == -1j
    _, f_vjp = cr.vjp(np.real, z)
    assert f_vjp(2.0)[0] == 2.0
    assert cr.jvp(np.abs, (3 + 4j,), (1j,))[1] == pytest.approx(0.8)


def test_traced_attributes():
    z = crandn(RNG, 3)
    g = cr.grad(lambda z: np.sum(z.real * 2 + z.imag * 3 + np.real(z.conj() * 1j)))(z)
    # f = 2x + 3y + Re(i (x - iy)) = 2x + 4y, whose gradient (df/dx - i df/dy) is 2 - 4i
    np.testing.assert_allclose(g, np.full(3, 2 - 4j), rtol=1e-15)


# -- every rule on complex values, against JAX and central differences -------------------------
UNARY = {
    "exp": lambda xp, z: xp.exp(z), "log": lambda xp, z: xp.log(z), "sqrt": lambda xp, z: xp.sqrt(z),
    "square": lambda xp, z: xp.square(z), "reciprocal": lambda xp, z: xp.reciprocal(z),
    "expm1": lambda xp, z: xp.expm1(z), "log1p": lambda xp, z: xp.log1p(z),
    "exp2": lambda xp, z: xp.exp2(z), "log2": lambda xp, z: xp.log2(z), "log10": lambda xp, z: xp.log10(z),
    "sin": lambda xp, z: xp.sin(z), "cos": lambda xp, z: xp.cos(z), "tan": lambda xp, z: xp.tan(z),
    "arcsin": lambda xp, z: xp.arcsin(z), "arccos": lambda xp, z: xp.arccos(z),
    "arctan": lambda xp, z: xp.arctan(z), "sinh": lambda xp, z: xp.sinh(z),
    "cosh": lambda xp, z: xp.cosh(z), "tanh": lambda xp, z: xp.tanh(z),
    "arcsinh": lambda xp, z: xp.arcsinh(z),
    "arctanh": lambda xp, z: xp.arctanh(z),
    # JAX's arccosh derivative 1/sqrt(z^2 - 1) takes the other branch on part of the plane (central
    # differences disagree with it there); 1/(sqrt(z - 1) sqrt(z + 1)) is right everywhere and
    # agrees with JAX's where Re z > 0
    "arccosh": lambda xp, z: xp.arccosh(z + 2.5),
    "abs": lambda xp, z: xp.abs(z), "real": lambda xp, z: xp.real(z), "imag": lambda xp, z: xp.imag(z),
    "conj": lambda xp, z: xp.conj(z), "angle": lambda xp, z: xp.angle(z),
    "angle_deg": lambda xp, z: xp.angle(z, deg=True),
    "negative": lambda xp, z: -z, "pow_int": lambda xp, z: z ** 3, "pow_neg": lambda xp, z: z ** -2,
    "pow_float": lambda xp, z: z ** 2.5, "pow_complex": lambda xp, z: z ** (0.5 + 1j),
    "rpow": lambda xp, z: (1.5 - 0.5j) ** z, "astype64": lambda xp, z: z.astype(xp.complex64) * 2,
    "abs_sq": lambda xp, z: xp.abs(z) ** 2, "method_conj": lambda xp, z: z.conj() * z,
    "attr_real_imag": lambda xp, z: z.real * z.imag,
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_rules_match_jax(name):
    rtol = 1e-5 if name == "astype64" else 1e-9
    check_like_jax(UNARY[name], Z, rtol=rtol, gradcheck=name != "astype64")


BINARY = {
    "add": lambda xp, a, b: a + b, "subtract": lambda xp, a, b: a - b,
    "multiply": lambda xp, a, b: a * b, "divide": lambda xp, a, b: a / b,
    "power": lambda xp, a, b: a ** b, "mul_conj": lambda xp, a, b: a * xp.conj(b),
    "where": lambda xp, a, b: xp.where(xp.real(a) > 0, a, b),
    "abs_diff": lambda xp, a, b: xp.abs(a - b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_rules_match_jax_with_broadcasting(name):
    check_like_jax(BINARY[name], Z, W)


@pytest.mark.parametrize("name", ["add", "multiply", "divide", "where", "abs_diff"])
def test_real_and_complex_operands_mix(name):
    # the real operand's derivative is real: the real part of its complex cotangent
    check_like_jax(BINARY[name], X, W)
    check_like_jax(BINARY[name], Z, X[0])


REDUCTIONS = {
    "sum": lambda xp, z: xp.sum(z, axis=0), "mean": lambda xp, z: xp.mean(z),
    "prod": lambda xp, z: xp.prod(z, axis=1), "cumsum": lambda xp, z: xp.cumsum(z, axis=1),
    "cumprod": lambda xp, z: xp.cumprod(z, axis=1), "var": lambda xp, z: xp.var(z, axis=1),
    "std": lambda xp, z: xp.std(z), "trace": lambda xp, z: xp.trace(z),
    "max": lambda xp, z: xp.max(xp.abs(z), axis=0), "average": lambda xp, z: xp.average(z, axis=0),
    "norm": lambda xp, z: xp.linalg.norm(z), "norm_axis": lambda xp, z: xp.linalg.norm(z, axis=1),
    # NumPy and JAX order complex values lexicographically (real part, then imaginary part)
    "max_complex": lambda xp, z: xp.max(z, axis=1), "sort": lambda xp, z: xp.sort(z, axis=1),
    "maximum": lambda xp, z: xp.maximum(z, z[::-1]),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reductions_match_jax(name):
    check_like_jax(REDUCTIONS[name], Z)


SHAPE = {
    "reshape": lambda xp, z: xp.reshape(z, (3, 2)), "transpose": lambda xp, z: z.T,
    "getitem": lambda xp, z: z[1, ::-1], "fancy": lambda xp, z: z[:, [0, 2, 0]],
    "mask": lambda xp, z: z[np.array([[True, False, True], [False, True, True]])],
    "concatenate": lambda xp, z: xp.concatenate([z, z * 2j], axis=0),
    "stack": lambda xp, z: xp.stack([z, xp.conj(z)]), "flip": lambda xp, z: xp.flip(z, axis=1),
    "roll": lambda xp, z: xp.roll(z, 1, axis=1), "broadcast": lambda xp, z: xp.broadcast_to(z, (4, 2, 3)),
    "swapaxes": lambda xp, z: xp.swapaxes(z, 0, 1), "tril": lambda xp, z: xp.tril(z),
    "diagonal": lambda xp, z: xp.diagonal(z), "take": lambda xp, z: xp.take(z, np.array([5, 0, 2])),
    "pad": lambda xp, z: xp.pad(z, ((1, 0), (0, 2))), "expand": lambda xp, z: xp.expand_dims(z, 1),
    "real_mix": lambda xp, z: xp.concatenate([xp.real(z), xp.imag(z)]),
}


@pytest.mark.parametrize("name", sorted(SHAPE))
def test_shape_and_indexing_match_jax(name):
    check_like_jax(SHAPE[name], Z)


def test_arccosh_is_right_where_jax_takes_the_other_branch():
    z = np.array([-0.5 + 0.5j, -2.0 - 0.3j, 0.2 - 1.5j])
    check_grads(np.arccosh, order=2)(z)
    g = cr.grad(lambda z: np.sum(np.real(np.arccosh(z))))(z)
    np.testing.assert_allclose(g, 1 / (np.sqrt(z - 1) * np.sqrt(z + 1)), rtol=1e-13)  # h'(z)


def test_complex64_stays_complex64():
    z = Z.astype(np.complex64)
    g = cr.grad(lambda z: np.sum(np.abs(np.exp(z) * z)))(z)
    assert g.dtype == np.complex64
    g64 = cr.grad(lambda z: np.sum(np.abs(np.exp(z) * z)))(Z)
    np.testing.assert_allclose(g, g64, rtol=1e-5)


def test_hessian_of_real_function_through_complex_values():
    jax = jax_or_skip()
    jnp = jax.numpy
    x = RNG.standard_normal(4)
    f = lambda xp, x: xp.sum(xp.abs(xp.exp(1j * x) + x * (0.5 - 2j)) ** 3)  # noqa: E731
    np.testing.assert_allclose(cr.hessian(lambda x: f(np, x))(x),
                               jax.hessian(lambda x: f(jnp, x))(jnp.asarray(x)), rtol=1e-10)


def test_holomorphic_jacobian_and_hessian():
    jax = jax_or_skip()
    jnp = jax.numpy
    z = crandn(RNG, 3)
    f = lambda z: z ** 2 * np.sum(z)  # noqa: E731
    fj = lambda z: z ** 2 * jnp.sum(z)  # noqa: E731
    for ours, theirs in ((cr.jacobian, jax.jacobian), (cr.jacfwd, jax.jacfwd), (cr.jacrev, jax.jacrev)):
        np.testing.assert_allclose(ours(f, holomorphic=True)(z),
                                   theirs(fj, holomorphic=True)(jnp.asarray(z)), rtol=1e-13)
    h = lambda z: np.sum(z ** 3) * z[0]  # noqa: E731
    hj = lambda z: jnp.sum(z ** 3) * z[0]  # noqa: E731
    np.testing.assert_allclose(cr.hessian(h, holomorphic=True)(z),
                               jax.hessian(hj, holomorphic=True)(jnp.asarray(z)), rtol=1e-13)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.jacobian(f)(z)


# -- check_grads perturbs real and imaginary parts and names a wrong complex rule ----------------
def test_check_grads_names_a_wrong_complex_rule():
    from chainrule.extend import primitive  # noqa: PLC0415 - only this test needs it

    @primitive
    def bad_exp(z):
        return np.exp(z)

    # the conjugate-transpose convention (g conj(f')) where JAX's is the transpose (g f'):
    # right on real values, wrong on complex ones, so only an imaginary perturbation sees it
    bad_exp.defvjp(lambda g, ans, z: g * np.conj(ans))
    bad_exp.defjvp(lambda t, ans, z: t * ans)
    check_grads(lambda x: bad_exp(x) * 2.0, order=1)(np.array([0.3, -0.2]))
    with pytest.raises(GradCheckError, match="bad_exp"):
        check_grads(lambda z: bad_exp(z) * 2.0, order=1)(crandn(RNG, 2))


def test_check_grads_passes_a_right_complex_program():
    z = crandn(RNG, 3, margin=0.3)
    report = check_grads(lambda z: np.sum(np.abs(np.log(z) * z) ** 2), order=2)(z)
    assert report.rows


def test_namespaces():
    z = crandn(RNG, 3)
    np.testing.assert_allclose(cnp.real(z), z.real)
    np.testing.assert_allclose(cnp.angle(z), np.angle(z))


# -- linear algebra ------------------------------------------------------------------------------
A = crandn(RNG, 3, 3) + 3 * np.eye(3)
B = crandn(RNG, 3, 2)
LINALG = {
    "matmul": (lambda xp, a, b: a @ b, (A, B)),
    "matmul_vec": (lambda xp, a, b: a @ b[:, 0], (A, B)),
    "matmul_stack": (lambda xp, a, b: xp.stack([a, a.T]) @ b, (A, B)),
    "matmul_real_left": (lambda xp, a, b: a @ b, (A.real, B)),
    "dot": (lambda xp, a, b: xp.dot(a, b), (A, B)),
    "vdot": (lambda xp, a, b: xp.vdot(a[:, :2], b), (A, B)),
    "vecdot": (lambda xp, a, b: xp.vecdot(a[:, :2].T, b.T), (A, B)),
    "inner": (lambda xp, a, b: xp.inner(a, b.T), (A, B)),
    "outer": (lambda xp, a, b: xp.outer(a[0], b[:, 1]), (A, B)),
    "tensordot": (lambda xp, a, b: xp.tensordot(a, b, axes=([0], [0])), (A, B)),
    "einsum": (lambda xp, a, b: xp.einsum("ij,jk,ik->k", a, b, xp.conj(b)), (A, B)),
    "inv": (lambda xp, a, b: xp.linalg.inv(a) @ b, (A, B)),
    "solve": (lambda xp, a, b: xp.linalg.solve(a, b), (A, B)),
    "solve_vec": (lambda xp, a, b: xp.linalg.solve(a, b[:, 0]), (A, B)),
    "det": (lambda xp, a, b: xp.linalg.det(a) * b, (A, B)),
    "slogdet_log": (lambda xp, a, b: xp.linalg.slogdet(a)[1] * b, (A, B)),
    "slogdet_sign": (lambda xp, a, b: xp.linalg.slogdet(a)[0] * b, (A, B)),
    "slogdet_both": (lambda xp, a, b: xp.linalg.slogdet(a)[0] * xp.exp(xp.linalg.slogdet(a)[1]),
                     (A, B)),
    "trace": (lambda xp, a, b: xp.trace(a @ a), (A, B)),
    "matrix_power": (lambda xp, a, b: xp.linalg.matrix_power(a, 3), (A, B)),
    "norm_fro": (lambda xp, a, b: xp.linalg.norm(a, "fro"), (A, B)),
    "norm_1": (lambda xp, a, b: xp.linalg.norm(b, 1, axis=0), (A, B)),
    "kron": (lambda xp, a, b: xp.kron(a[:2, :2], b), (A, B)),
}


@pytest.mark.parametrize("name", sorted(LINALG))
def test_linalg_matches_jax(name):
    f, args = LINALG[name]
    check_like_jax(f, *args, rtol=1e-8)


# -- chainrule.autograd: autograd's names, the same numbers as autograd ---------------------------
def test_autograd_namespace_matches_autograd_on_complex_values():
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    import warnings  # noqa: PLC0415 - this test alone filters autograd's warning

    import chainrule.autograd as ca  # noqa: PLC0415 - the namespace under test

    z = 0.3 - 1.2j
    for f in (lambda xp, z: xp.abs(z) ** 2, lambda xp, z: xp.real(xp.exp(z) * xp.conj(z)),
              lambda xp, z: xp.angle(z) * xp.imag(z)):
        assert ca.grad(lambda z, f=f: f(np, z))(z) == pytest.approx(ag.grad(lambda z, f=f: f(anp, z))(z))
    for f in (lambda xp, z: z ** 3, lambda xp, z: xp.exp(z) / z):
        assert ca.holomorphic_grad(lambda z, f=f: f(np, z))(z) == \
            pytest.approx(ag.holomorphic_grad(lambda z, f=f: f(anp, z))(z))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert ca.holomorphic_grad(lambda x: x ** 2)(2.0) == ag.holomorphic_grad(lambda x: x ** 2)(2.0)
    with pytest.warns(UserWarning, match="not complex"):
        ca.holomorphic_grad(lambda x: x ** 2)(2.0)
    zs = crandn(RNG, 3)
    np.testing.assert_allclose(ca.elementwise_grad(np.abs)(zs), ag.elementwise_grad(anp.abs)(zs))
    vjp, _ = ca.make_vjp(lambda z: z * (2 - 1j))(z)
    avjp, _ = ag.make_vjp(lambda z: z * (2 - 1j))(z)
    assert vjp(1j) == pytest.approx(avjp(1j))
    with pytest.raises(TypeError, match="holomorphic"):
        ca.grad(lambda z: z ** 2)(z)


# Hermitian matrices: chainrule reads the lower triangle (as NumPy's LAPACK calls do) and JAX
# symmetrises, so both are compared on a Hermitian parametrisation a = s + s^H + c I
S = crandn(RNG, 3, 3)
HERMITIAN = {
    "cholesky": lambda xp, s: xp.linalg.cholesky(s + xp.conj(s.T) + 10 * xp.eye(3)),
    "cholesky_upper": lambda xp, s: xp.conj(xp.linalg.cholesky(s + xp.conj(s.T) + 10 * xp.eye(3)).T),
    "eigvalsh": lambda xp, s: xp.linalg.eigvalsh(s + xp.conj(s.T)),
    "eigh_values": lambda xp, s: xp.linalg.eigh(s + xp.conj(s.T))[0],
    # functions of the eigenvectors that do not depend on each one's phase
    "eigh_projector": lambda xp, s: (lambda w, v: v @ xp.diag(xp.exp(w)) @ xp.conj(v.T))(
        *xp.linalg.eigh(s + xp.conj(s.T))),
    "eigh_abs": lambda xp, s: xp.abs(xp.linalg.eigh(s + xp.conj(s.T))[1]) ** 2,
    "slogdet_chol": lambda xp, s: xp.linalg.slogdet(s + xp.conj(s.T) + 4 * xp.eye(3))[1],
}


@pytest.mark.parametrize("name", sorted(HERMITIAN))
def test_hermitian_linalg_matches_jax(name):
    check_like_jax(HERMITIAN[name], S, rtol=1e-8)


def test_cholesky_and_eigh_read_the_lower_triangle_of_a_complex_matrix():
    a = crandn(RNG, 3, 3) + 5 * np.eye(3)  # not Hermitian: only its lower triangle counts
    check_grads(lambda a: np.linalg.cholesky(a), order=2)(a)
    check_grads(lambda a: np.linalg.eigvalsh(a), order=2)(a)
    g = cr.grad(lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2))(a)
    assert np.all(np.triu(g, 1) == 0) and np.all(np.imag(np.diag(g)) == 0)


def test_upper_triangle_variants_give_numpys_values():
    a = crandn(RNG, 3, 3) + 6 * np.eye(3)
    # eigenvectors up to each one's phase (LAPACK's choice differs between the two storages)
    projector = lambda w, v: v @ np.diag(np.exp(w)) @ np.conj(v.T)  # noqa: E731
    for f in (lambda a: np.linalg.cholesky(a, upper=True), lambda a: np.linalg.eigh(a, UPLO="U")[0],
              lambda a: projector(*np.linalg.eigh(a, UPLO="U")), lambda a: np.linalg.eigh(a)[1]):
        np.testing.assert_allclose(cr.vjp(f, a)[0], f(a), rtol=1e-12, atol=1e-14)
    check_grads(lambda a: np.linalg.eigvalsh(a, UPLO="U"), order=2)(a)


def test_jacobian_of_real_inputs_with_complex_outputs():
    jax = jax_or_skip()
    jnp = jax.numpy
    x = RNG.standard_normal(3)
    f = lambda xp, x: xp.exp(1j * x) * xp.sum(x)  # noqa: E731
    want = jax.jacfwd(lambda x: f(jnp, x))(jnp.asarray(x))
    for jac in (cr.jacobian, cr.jacfwd):
        np.testing.assert_allclose(jac(lambda x: f(np, x))(x), want, rtol=1e-13)
    with pytest.raises(TypeError, match="jacfwd"):  # a reverse pass cannot build it (as in JAX)
        cr.jacrev(lambda x: f(np, x))(x)
    with pytest.raises(TypeError, match="holomorphic=True"):
        cr.hessian(lambda z: np.abs(z[0]) ** 2)(crandn(RNG, 2))
