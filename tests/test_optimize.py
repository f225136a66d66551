"""chainrule.optimize: exact jac / hess / hessp for scipy.optimize.minimize."""

import warnings

import numpy as np
import pytest

import chainrule.numpy as cnp
import chainrule.optimize as cro

optimize = pytest.importorskip("scipy.optimize")


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_exact_derivatives_match_scipys_rosenbrock():
    rng = np.random.default_rng(0)
    obj = cro.objective(rosen, np.zeros(6))
    for _ in range(3):
        x, p = rng.standard_normal(6), rng.standard_normal(6)
        val, g = obj.value_and_grad(x)
        assert val == pytest.approx(optimize.rosen(x), rel=1e-14)
        np.testing.assert_allclose(g, optimize.rosen_der(x), rtol=1e-13)
        np.testing.assert_allclose(obj.jac(x), optimize.rosen_der(x), rtol=1e-13)
        np.testing.assert_allclose(obj.hess(x), optimize.rosen_hess(x), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(obj.hessp(x, p), optimize.rosen_hess_prod(x, p), rtol=1e-12)
        q = rng.standard_normal(6)  # a second product at the same point replays the cached tape
        np.testing.assert_allclose(obj.hessp(x, q), optimize.rosen_hess_prod(x, q), rtol=1e-12)


@pytest.mark.parametrize("x0", [np.array([1.3, 0.7, 0.8, 1.9, 1.2]), np.tile([-1.2, 1.0], 25)],
                         ids=["scipy-docs-5d", "50d"])
def test_newton_cg_with_exact_hessp_beats_bfgs(x0):
    newton = cro.minimize(rosen, x0, method="Newton-CG", options={"xtol": 1e-10})
    bfgs = cro.minimize(rosen, x0, method="BFGS", options={"gtol": 1e-8})  # exact gradient only
    assert newton.success and bfgs.success
    np.testing.assert_allclose(newton.x, np.ones_like(x0), atol=1e-6)
    np.testing.assert_allclose(bfgs.x, np.ones_like(x0), atol=1e-6)
    assert newton.nhev > 0  # hessp was used
    assert newton.nit < bfgs.nit, (newton.nit, bfgs.nit)


@pytest.mark.parametrize("method", ["trust-ncg", "trust-krylov", "trust-exact", "trust-constr"])
def test_trust_region_methods_get_exact_curvature(method):
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # SciPy warns about ignored/missing Hessians
        res = cro.minimize(rosen, x0, method=method)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-4)


def test_gradient_only_methods_get_no_hessian():
    x0 = np.array([1.3, 0.7, 0.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for method in ("BFGS", "L-BFGS-B", "CG", None):
            res = cro.minimize(rosen, x0, method=method)
            assert res.success
            np.testing.assert_allclose(res.x, np.ones(3), atol=1e-4)


def test_pytree_parameters_and_args():
    # least squares for a dict of parameters; the answer is np.linalg.lstsq's
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.01 * rng.standard_normal(40)

    def loss(p, X, y):
        return cnp.mean((X @ p["w"] + p["b"] - y) ** 2)

    p0 = {"w": np.zeros(3), "b": np.zeros(())}
    res = cro.minimize(loss, p0, args=(X, y), method="Newton-CG")
    assert set(res.x) == {"w", "b"} and res.x["w"].shape == (3,) and np.shape(res.x["b"]) == ()
    assert res.x_flat.shape == (4,) and set(res.jac) == {"w", "b"}
    ref = np.linalg.lstsq(np.c_[X, np.ones(40)], y, rcond=None)[0]
    np.testing.assert_allclose(res.x["w"], ref[:3], atol=1e-6)
    np.testing.assert_allclose(res.x["b"], ref[3], atol=1e-6)
    # a matrix-shaped x0 comes back in its shape
    res = cro.minimize(lambda W: cnp.sum((W - 2.0) ** 2), np.zeros((2, 3)), method="trust-exact")
    assert res.x.shape == (2, 3)
    np.testing.assert_allclose(res.x, 2.0, atol=1e-8)


def test_hessp_records_gradient_once_per_point():
    calls = {"n": 0}

    def f(x):
        calls["n"] += 1
        return rosen(x)

    obj = cro.objective(f, np.zeros(4))
    x = np.array([0.5, -0.3, 1.2, 0.9])
    for p in np.eye(4):
        obj.hessp(x, p)
    assert calls["n"] == 1
    obj.hessp(x + 0.1, np.ones(4))
    assert calls["n"] == 2


def test_errors():
    with pytest.raises(TypeError, match="supplies 'jac'"):
        cro.minimize(rosen, np.zeros(3), jac=optimize.rosen_der)
    with pytest.raises(ValueError, match="curvature"):
        cro.minimize(rosen, np.zeros(3), curvature="yes")
    with pytest.raises(TypeError, match="scalar"):
        cro.minimize(lambda x: x ** 2, np.zeros(3))
    with pytest.raises(TypeError, match="int"):
        cro.minimize(rosen, np.zeros(3, dtype=int))
