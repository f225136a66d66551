"""Decompositions (svd, qr, eig, pinv, lstsq, cond, spectral norms): both modes to second order,
batched passes, stacks, NumPy dispatch, values and gradients against JAX (x64), and the documented
behaviour at degenerate points."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.gradcheck import check_batched, check_grads

rng = np.random.default_rng(7)


def randn(*shape):
    return rng.standard_normal(shape)


def mT(x):
    return np.swapaxes(x, -1, -2)


def check(f, *args):
    check_grads(f, modes=("fwd", "rev"), order=2)(*args)
    check_batched(f, *args)


SHAPES = {"square": (3, 3), "tall": (5, 3), "wide": (2, 4), "stack": (2, 4, 3), "wide stack": (2, 2, 3)}


# ---------------------------------------------------------------- svd
def _svd_sign_free(a, full):
    """Functions of U, s, Vh that do not depend on the singular vectors' signs."""
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    proj_u = u[..., :, :1] @ mT(u[..., :, :1])  # the top left singular direction's projector
    proj_v = mT(vh[..., k - 1:k, :]) @ vh[..., k - 1:k, :]
    return s, rebuilt ** 2, proj_u, proj_v


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("full", [False, True])
def test_svd_both_modes_second_order_batched(name, full):
    check(lambda a: _svd_sign_free(a, full), randn(*SHAPES[name]))


@pytest.mark.parametrize("name", ["tall", "wide"])
def test_svd_full_complement_projector(name):
    """The complement's columns are an arbitrary basis; the projector onto them is a function of A."""
    a = randn(*SHAPES[name])

    def f(a):
        u, s, vh = np.linalg.svd(a)  # full_matrices, NumPy's default
        m, n = a.shape[-2:]
        if m > n:
            c = u[..., :, n:]
            return c @ mT(c)
        c = mT(vh[..., m:, :])
        return c @ mT(c)

    check(f, a)


def test_svd_values_match_numpy_and_dispatch():
    a = randn(2, 4, 3)
    got = cr.vjp(lambda a: np.linalg.svd(a), a)[0]
    want = np.linalg.svd(a)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)
    assert type(got).__name__ == type(want).__name__
    np.testing.assert_allclose(cr.vjp(lambda a: np.linalg.svd(a, compute_uv=False), a)[0],
                               np.linalg.svd(a, compute_uv=False))
    np.testing.assert_allclose(cnp.linalg.svdvals(a), np.linalg.svd(a, compute_uv=False))


def test_svd_hermitian_follows_numpys_eigh_path():
    """hermitian=True: NumPy's values, signs and order (its eigh-based path), differentiable."""
    x = randn(2, 4, 4)
    a = x + mT(x)
    got, want = cr.vjp(lambda a: np.linalg.svd(a, hermitian=True), a)[0], np.linalg.svd(a, hermitian=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-12)
    np.testing.assert_allclose(cr.vjp(lambda a: np.linalg.svd(a, hermitian=True, compute_uv=False), a)[0],
                               np.linalg.svd(a, hermitian=True, compute_uv=False), atol=1e-12)

    def f(a):
        u, s, vh = np.linalg.svd(a, hermitian=True)
        return s, (u * s[..., None, :]) @ vh, u[..., :, :1] * mT(vh[..., :1, :])

    check(f, a)


def test_svd_repeated_singular_values_documented_behaviour():
    """At repeated singular values the singular values' gradient is finite (U V^T for their sum)
    and the vectors' derivatives are not (inf/nan, as in JAX)."""
    a = np.diag([2.0, 2.0, 1.0])[[1, 2, 0]]  # exactly repeated (a rotated copy is only nearly so)
    g = cr.grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)))(a)
    u, _, vh = np.linalg.svd(a)
    np.testing.assert_allclose(g, u @ vh, atol=1e-12)
    with np.errstate(all="ignore"):
        gu = cr.grad(lambda a: np.sum(np.linalg.svd(a)[0] ** 3))(a)
    assert not np.all(np.isfinite(gu))


def test_singular_values_alone_at_repeated_values_are_clean_in_both_modes():
    """svdvals has its own primitive: forward mode forms no singular-vector tangent (whose gaps are
    0 here), so no warning and no NaN for debug_nans, in either mode, at first order."""
    a = np.diag([2.0, 2.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with cr.debug_nans():
            _, t = cr.jvp(lambda a: np.linalg.svd(a, compute_uv=False), (a,), (np.ones((3, 3)),))
            jf = cr.jacfwd(lambda a: np.linalg.norm(a, "nuc"))(a)
            jr = cr.grad(lambda a: np.linalg.norm(a, "nuc"))(a)
    np.testing.assert_array_equal(t, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(jf, np.eye(3))
    np.testing.assert_array_equal(jr, np.eye(3))


def test_svd_refuses_vectors():
    with pytest.raises(np.linalg.LinAlgError, match="svd"):
        cr.grad(lambda x: np.sum(np.linalg.svd(x)[1]))(randn(3))


def crandn(*shape):
    return randn(*shape) + 1j * randn(*shape)


def _phase_free(a, full):
    """Functions of a complex SVD that do not depend on each singular pair's free phase."""
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    rebuilt = (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :]
    proj_u = u[..., :, :1] @ np.conj(mT(u[..., :, :1]))
    proj_v = np.conj(mT(vh[..., k - 1:k, :])) @ vh[..., k - 1:k, :]
    return s, rebuilt ** 2, proj_u, proj_v, np.abs(u[..., :, :k]) ** 2


@pytest.mark.parametrize("name", ["square", "tall", "wide", "stack"])
def test_complex_matrices_both_modes_second_order_batched(name):
    """svd (phase-free functions), qr (Q and R themselves: R's real diagonal fixes the phase),
    pinv, lstsq, cond and the spectral norms of complex matrices."""
    a = crandn(*SHAPES[name])
    check(lambda a: _phase_free(a, False), a)
    check(lambda a: _phase_free(a, True), a)
    check(lambda a: tuple(np.linalg.qr(a)), a)
    check(np.linalg.pinv, a)
    check(lambda a: (np.linalg.cond(a), np.linalg.norm(a, "nuc", axis=(-2, -1)),
                     np.linalg.matrix_norm(a, ord=-2)), a)


def test_complex_lstsq_matches_numpy():
    a, b = crandn(5, 3), crandn(5, 2)
    x, res, rank, s = cr.vjp(lambda a, b: np.linalg.lstsq(a, b), a, b)[0]
    want = np.linalg.lstsq(a, b)
    for got, w in zip((x, res, s), (want[0], want[1], want[3])):
        np.testing.assert_allclose(got, w)
    assert res.dtype == want[1].dtype
    check(lambda a, b: tuple(np.linalg.lstsq(a, b)[i] for i in (0, 1)), a, b)


# ---------------------------------------------------------------- qr
@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_both_modes_second_order_batched(name, mode):
    a = randn(*SHAPES[name])

    def f(a):
        out = np.linalg.qr(a, mode=mode)
        if mode == "r":
            return out
        q, r = out
        n = min(a.shape[-2:])
        rest = q[..., :, n:]  # complete Q's extra columns: only their projector is a function of A
        return q[..., :, :n], r, rest @ mT(rest)

    check(f, a)


def test_qr_values_and_errors():
    a = randn(2, 5, 3)
    q, r = cr.vjp(lambda a: np.linalg.qr(a, mode="complete"), a)[0]
    wq, wr = np.linalg.qr(a, mode="complete")
    np.testing.assert_allclose(q, wq, atol=1e-12)
    np.testing.assert_allclose(r, wr, atol=1e-12)
    with pytest.raises(NotImplementedError, match="raw"):
        cr.grad(lambda a: np.sum(np.linalg.qr(a, mode="raw")[0]))(a[0])
    with pytest.raises(ValueError, match="mode"):
        cnp.linalg.qr(a, mode="economic")


# ---------------------------------------------------------------- eig
def _eig_parts(a):
    w, v = np.linalg.eig(a)
    return w, v


def _real_spectrum():
    """A dense matrix with eigenvalues 1, 2, 3. (Not a triangular one: NumPy returns a triangular
    matrix's eigenvalues in diagonal order and a perturbed one's in another, a jump.)"""
    b = randn(3, 3) + 3 * np.eye(3)
    return b @ np.diag([1.0, 2.0, 3.0]) @ np.linalg.inv(b)


@pytest.mark.parametrize("a", [
    randn(3, 3),                       # real, generally a complex pair
    randn(2, 3, 3),                    # a stack
    _real_spectrum(),                  # real eigenvalues (NumPy's order is continuous here)
    randn(3, 3) + 1j * randn(3, 3),    # complex input
], ids=["real", "stack", "real-eigenvalues", "complex"])
def test_eig_both_modes_second_order_batched(a):
    """Eigenvectors included: their derivative keeps NumPy's normalisation (unit norm, largest
    entry real), so central differences of NumPy's own eigenvectors agree with it."""
    check(_eig_parts, a)
    check(np.linalg.eigvals, a)


def test_eig_values_are_complex_and_match_numpy():
    a = _real_spectrum()
    w, v = cr.vjp(np.linalg.eig, a)[0]
    assert w.dtype == np.complex128 and v.dtype == np.complex128
    ww, wv = np.linalg.eig(a)
    np.testing.assert_allclose(w, ww)
    np.testing.assert_allclose(v, wv)
    # a real matrix's gradient is real (the derivative has its input's dtype)
    g = cr.grad(lambda a: np.real(np.sum(np.linalg.eigvals(a) ** 2)))(randn(3, 3))
    assert g.dtype == np.float64


def test_eigvals_at_repeated_eigenvalues_is_finite():
    """d sum(w^k) = k tr(A^{k-1} dA): finite at a repeated eigenvalue (no gap needed)."""
    a = np.eye(3) * 2.0
    g = cr.grad(lambda a: np.real(np.sum(np.linalg.eigvals(a) ** 3)))(a)
    np.testing.assert_allclose(g, 3 * (a @ a).T, atol=1e-12)


# ---------------------------------------------------------------- pinv, lstsq, cond, norms
@pytest.mark.parametrize("name", list(SHAPES))
def test_pinv_cond_norms_both_modes_second_order_batched(name):
    a = randn(*SHAPES[name])
    check(np.linalg.pinv, a)
    check(np.linalg.cond, a)
    check(lambda a: np.linalg.cond(a, -2), a)
    for ord_ in (2, -2, "nuc"):
        check(lambda a, o=ord_: np.linalg.matrix_norm(a, ord=o, keepdims=True), a)


def test_pinv_finite_at_repeated_singular_values():
    """The Golub-Pereyra derivative needs no singular-value gap (an orthogonal matrix: all equal)."""
    q, _ = np.linalg.qr(randn(3, 3))
    check(np.linalg.pinv, q)


def test_norm_spectral_orders_axes_and_keepdims():
    x = randn(3, 2, 4)
    for ord_ in (2, -2, "nuc"):
        want = np.linalg.norm(x, ord_, axis=(0, 2), keepdims=True)
        got = cr.vjp(lambda x, o=ord_: np.linalg.norm(x, o, axis=(0, 2), keepdims=True), x)[0]
        np.testing.assert_allclose(got, want)
        check(lambda x, o=ord_: np.linalg.norm(x, o, axis=(2, 0)), x)
    check(lambda x: np.linalg.norm(x[0], "nuc"), x)
    with pytest.raises(ValueError, match="duplicate"):
        cnp.linalg.norm(x, 2, axis=(1, 1))


@pytest.mark.parametrize("bshape", [(5,), (5, 2)])
def test_lstsq_both_modes_second_order_batched(bshape):
    a, b = randn(5, 3), randn(*bshape)
    x, res, rank, s = cr.vjp(lambda a, b: np.linalg.lstsq(a, b), a, b)[0]
    wx, wres, wrank, ws = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x, wx)
    np.testing.assert_allclose(res, wres)
    assert rank == wrank
    np.testing.assert_allclose(s, ws)
    check(lambda a, b: tuple(np.linalg.lstsq(a, b)[i] for i in (0, 1, 3)), a, b)
    # wide: minimum-norm solution, no residuals
    check(lambda a, b: np.linalg.lstsq(a, b)[0], randn(3, 5), randn(3))


# ---------------------------------------------------------------- any order
@pytest.mark.parametrize("name", ["svd", "qr", "eig", "pinv"])
def test_third_order(name):
    """The rules are written with chainrule's own operations, so their derivatives differentiate."""
    f = {"svd": lambda a: (lambda u, s, vh: (u[:, :1] @ u[:, :1].T, s))(*np.linalg.svd(a)),
         "qr": lambda a: tuple(np.linalg.qr(a, mode="complete")),
         "eig": lambda a: tuple(np.linalg.eig(a[:2])),
         "pinv": np.linalg.pinv}[name]
    check_grads(f, modes=("fwd", "rev"), order=3)(randn(3, 2))


# ---------------------------------------------------------------- float32 stays float32
FLOAT32 = {
    "svd full": lambda a: np.sum(np.linalg.svd(a)[0] ** 2 * a[:, :1]),
    "svd wide": lambda a: np.sum(np.linalg.svd(a.T)[2] ** 2),
    "qr complete": lambda a: np.sum(np.linalg.qr(a, mode="complete")[1] ** 3),
    "qr wide": lambda a: np.sum(np.linalg.qr(a.T)[1] ** 3),
    "eig": lambda a: np.sum(np.abs(np.linalg.eig(a[:3])[1]) ** 3),
    "pinv nuc": lambda a: np.sum(np.linalg.pinv(a) ** 2) + np.linalg.norm(a, "nuc"),
    "lstsq": lambda a: np.sum(np.linalg.lstsq(a, a[:, 0] * 2)[0] ** 2),
    "cond": np.linalg.cond,
}


@pytest.mark.parametrize("name", list(FLOAT32))
def test_float32_values_and_derivatives_stay_float32(name):
    f, a = FLOAT32[name], randn(4, 3).astype(np.float32)
    assert np.asarray(f(a)).dtype == np.float32
    assert cr.grad(f)(a).dtype == np.float32
    assert np.asarray(cr.jvp(f, (a,), (np.ones_like(a),))[1]).dtype == np.float32


# ---------------------------------------------------------------- jit stages them
JITTED = {
    "svd": lambda a: np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 2 * a[:, :1]),
    "qr": lambda a: np.sum(np.linalg.qr(a)[1] ** 3),
    "eig": lambda a: np.sum(np.abs(np.linalg.eig(a[:3])[1]) ** 3),
    "pinv nuc": lambda a: np.sum(np.linalg.pinv(a) ** 2) + np.linalg.norm(a, "nuc"),
}


@pytest.mark.parametrize("name", list(JITTED))
def test_jit_stages_the_rules_without_reading_values(name):
    """No rule reads a value (eig's phase entry is found with recorded operations), so one staged
    program serves every input of the signature."""
    f = JITTED[name]
    jitted = cr.jit(cr.grad(f))
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.JitFallbackWarning)
        for a in (randn(4, 3), randn(4, 3)):
            np.testing.assert_allclose(jitted(a), cr.grad(f)(a), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- an independent oracle: JAX
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _sym_svd(xp, a):
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    top = u[..., :, :1] @ xp.swapaxes(u[..., :, :1], -1, -2)
    return xp.sum(xp.sin(s)) + xp.sum(top * xp.cos(a @ xp.swapaxes(a, -1, -2)))


def _qr_fn(xp, a):
    q, r = xp.linalg.qr(a)
    return xp.sum(xp.sin(q)) + xp.sum(r ** 3)


ORACLE = {
    "svd": (_sym_svd, (4, 3)),
    "svd wide stack": (_sym_svd, (2, 2, 4)),
    "svdvals": (lambda xp, a: xp.sum(xp.linalg.svd(a, compute_uv=False) ** 3), (3, 5)),
    "qr": (_qr_fn, (5, 3)),
    "qr wide": (_qr_fn, (3, 4)),
    "eigvals": (lambda xp, a: xp.real(xp.sum(xp.linalg.eigvals(a) ** 3)), (4, 4)),
    "pinv": (lambda xp, a: xp.sum(xp.tanh(xp.linalg.pinv(a))), (4, 3)),
    "lstsq": (lambda xp, a: xp.sum(xp.linalg.lstsq(a, xp.arange(5.0) - 2, rcond=None)[0] ** 2),
              (5, 3)),
    "cond": (lambda xp, a: xp.linalg.cond(a), (3, 3)),
    "norm 2": (lambda xp, a: xp.linalg.norm(a, 2), (3, 4)),
    "norm -2": (lambda xp, a: xp.linalg.norm(a, -2), (4, 3)),
    "norm nuc": (lambda xp, a: xp.linalg.norm(a, "nuc"), (3, 3)),
    "matrix_power": (lambda xp, a: xp.sum(xp.linalg.matrix_power(a, 3) ** 2)
                     + xp.sum(xp.linalg.matrix_power(a + 3 * xp.eye(3), -2)), (3, 3)),
    "multi_dot": (lambda xp, a: xp.sum(xp.linalg.multi_dot([a, a.T, xp.sin(a)])), (3, 4)),
    "eigvalsh": (lambda xp, a: xp.sum(xp.linalg.eigvalsh(a + a.T) ** 3), (4, 4)),
}


def _csvd(xp, a):
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    top = u[:, :1] @ xp.conj(u[:, :1]).T
    second = vh.conj().T[:, 1:2] @ vh[1:2, :]
    return (xp.sum(s ** 3) + xp.sum(xp.abs(top * xp.cos(xp.real(a @ xp.conj(a).T))))
            + xp.sum(xp.real(second) ** 2))


def _csvd_wide(xp, a):
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    return xp.sum(xp.abs((u * s[None, :]) @ vh) ** 2 * xp.abs(u[0:1, :1]))


def _cqr(xp, a):
    q, r = xp.linalg.qr(a)
    return xp.sum(xp.abs(xp.sin(q)) ** 2) + xp.sum(xp.real(r) ** 3 + xp.imag(r))


def _cqr_wide(xp, a):
    q, r = xp.linalg.qr(a)
    return xp.sum(xp.real(q * q)) + xp.sum(xp.imag(r) ** 3)


COMPLEX_ORACLE = {
    "svd": (_csvd, (4, 3)),
    "svd wide": (_csvd_wide, (2, 3)),
    "qr": (_cqr, (4, 3)),
    "qr wide": (_cqr_wide, (2, 3)),
    "pinv": (lambda xp, a: xp.sum(xp.abs(xp.linalg.pinv(a)) ** 2 * xp.arange(4.0)), (4, 3)),
    "norms": (lambda xp, a: xp.linalg.norm(a, "nuc") + xp.linalg.norm(a, -2) + xp.linalg.cond(a), (3, 3)),
    "eigvals": (lambda xp, a: xp.sum(xp.abs(xp.linalg.eigvals(a)) ** 2), (3, 3)),
}


@pytest.mark.parametrize("name", list(COMPLEX_ORACLE))
def test_complex_values_and_gradients_agree_with_jax(name):
    """JAX's convention for the gradient of a real function of a complex matrix, which chainrule
    follows."""
    fn, shp = COMPLEX_ORACLE[name]
    a = crandn(*shp)
    np.testing.assert_allclose(fn(np, a), fn(jnp, a), rtol=1e-10)
    np.testing.assert_allclose(cr.grad(lambda a: fn(np, a))(a), jax.grad(lambda a: fn(jnp, a))(a),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", list(ORACLE))
def test_values_gradients_and_hessians_agree_with_jax(name):
    fn, shp = ORACLE[name]
    a = randn(*shp)
    ours = lambda a: fn(np, a)  # noqa: E731 - plain NumPy code, dispatched to chainrule
    theirs = lambda a: fn(jnp, a)  # noqa: E731
    np.testing.assert_allclose(ours(a), theirs(a), rtol=1e-10)
    np.testing.assert_allclose(cr.grad(ours)(a), jax.grad(theirs)(a), rtol=1e-8, atol=1e-10)
    # Hessians for one case per primitive rule (JAX's compile time dominates this test); JAX has no
    # second derivative of eigvals (it needs eigenvector derivatives, which JAX refuses)
    if name in ("svd", "qr wide", "pinv", "norm nuc"):
        np.testing.assert_allclose(cr.hessian(ours)(a), jax.hessian(theirs)(a), rtol=1e-6, atol=1e-8)
