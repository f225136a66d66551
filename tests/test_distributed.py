"""Data-parallel gradients on Dask equal the single-machine gradient of the whole sum."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

da = pytest.importorskip("dask.array")
from chainrule import distributed  # noqa: E402


def batch_loss(params, X, t):
    """Sum over rows of the squared error of a linear model (Bishop's E = sum_n E_n)."""
    y = cnp.sum(X * params["w"], axis=1) + params["b"]
    return 0.5 * cnp.sum((y - t) ** 2)


def test_matches_single_machine_gradient():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 5))
    t = rng.standard_normal(1000)
    params = {"w": rng.standard_normal(5), "b": 0.3}
    value, grads = distributed.value_and_grad(batch_loss, params, da.from_array(X, chunks=(97, 5)),
                                              da.from_array(t, chunks=(250,)), split_every=3)
    ref_value, ref_grads = cr.value_and_grad(batch_loss)(params, X, t)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(grads["w"], ref_grads["w"], rtol=1e-12)
    assert grads["b"] == pytest.approx(ref_grads["b"], rel=1e-12)
    # plain NumPy inputs are chunked by Dask itself
    g = distributed.grad(batch_loss, params, X, t)
    np.testing.assert_allclose(g["w"], ref_grads["w"], rtol=1e-12)


def test_row_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same number of rows"):
        distributed.grad(batch_loss, {"w": np.ones(2), "b": 0.0}, np.ones((4, 2)), np.ones(3))
