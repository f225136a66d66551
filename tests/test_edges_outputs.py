"""Results that are not floating point, and NumPy's errors kept (issue 12, item 19).

* A reverse-mode derivative of an integer or boolean result is not 0: the result is piecewise
  constant, and a zero gradient silently hides the mistake (JAX raises in grad, jacrev and
  hessian). ``grad``/``value_and_grad`` raise (chainrule/transforms.py); the curvature transforms
  built on a reverse pass must raise the same way.
* ``np.average`` with weights summing to zero raises NumPy's ZeroDivisionError, traced or not,
  instead of an inf/nan mean and gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

X = np.array([1.0, -2.0, 3.0])
INT_OR_BOOL = {
    "count": lambda x: np.sum(x > 0),
    "argmax": lambda x: np.argmax(x),
    "bool": lambda x: np.sum(x) > 0,
    "astype(int)": lambda x: np.floor(np.sum(x)).astype(np.int32),
    "count_nonzero": lambda x: np.count_nonzero(x),
    "python int": lambda x: 3,
}


@pytest.mark.parametrize("name", sorted(INT_OR_BOOL))
@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "hessian_diagonal"])
def test_grad_of_an_integer_or_boolean_result_raises(transform, name):
    with pytest.raises(TypeError, match="floating-point output"):
        getattr(cr, transform)(INT_OR_BOOL[name])(X)


# The reverse-mode curvature transforms make value_and_grad's check on every output leaf.
@pytest.mark.parametrize("name", sorted(INT_OR_BOOL))
@pytest.mark.parametrize("transform", ["jacrev", "jacobian rev", "hessian", "hvp"])
def test_reverse_curvature_of_an_integer_or_boolean_result_raises(transform, name):
    f = INT_OR_BOOL[name]
    call = {"jacrev": lambda: cr.jacrev(f)(X), "jacobian rev": lambda: cr.jacobian(f, mode="rev")(X),
            "hessian": lambda: cr.hessian(f)(X), "hvp": lambda: cr.hvp(f, X, X)}[transform]
    try:
        result = call()
    except TypeError as e:
        assert "floating-point output" in str(e)
        return
    raise AssertionError(f"{transform} of an {name} result returned {result!r}")


@pytest.mark.parametrize("shape_w", [(2,), (2, 3)])
def test_average_with_weights_summing_to_zero_raises_as_numpy(shape_w):
    x = np.arange(6.0).reshape(2, 3) if len(shape_w) == 2 else np.array([1.0, 2.0])
    w = np.ones(shape_w)
    w[1] = -1.0
    axis = 0
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        np.average(x, axis=axis, weights=w)
    for f, arg in ((lambda x: np.sum(np.average(x, axis=axis, weights=w)), x),
                   (lambda w: np.sum(np.average(x, axis=axis, weights=w)), w)):
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            cr.grad(f)(arg)
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            cr.jvp(f, (arg,), (np.ones_like(arg),))


def test_average_with_weights_still_differentiates():
    x = np.array([1.0, 2.0, 4.0])
    w = np.array([1.0, 3.0, 0.5])
    gx, gw = cr.grad(lambda x, w: np.average(x, weights=w), argnums=(0, 1))(x, w)
    np.testing.assert_allclose(gx, w / w.sum())
    np.testing.assert_allclose(gw, (x - np.average(x, weights=w)) / w.sum())


@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3)])
@pytest.mark.parametrize("name, kw", [("max", {"initial": 0.0}), ("max", {"axis": -1, "initial": -1.0}),
                                      ("min", {"axis": -1, "initial": 5.0, "keepdims": True}),
                                      ("max", {"axis": 0, "initial": 0.5}), ("amin", {"initial": 2})])
def test_max_min_of_empty_slices_with_initial_as_numpy(shape, name, kw):
    """NumPy gives ``initial`` for an empty slice; the traced reduction raised (no identity)."""
    fn = getattr(np, name)
    x = np.zeros(shape, dtype=np.float32)
    want = fn(x, **kw)
    value, f_vjp = cr.vjp(lambda x: fn(x, **kw), x)
    np.testing.assert_array_equal(value, want)
    assert np.asarray(value).dtype == np.asarray(want).dtype
    (g,) = f_vjp(np.ones_like(want))
    assert g.shape == shape and g.dtype == np.float32
    # a non-empty slice still reduces, with initial as a floor (ceiling)
    y = np.array([[1.0, 0.2], [0.1, -3.0]], dtype=np.float32)
    kw1 = {**kw, "axis": kw.get("axis", -1)}
    np.testing.assert_array_equal(cr.vjp(lambda y: fn(y, **kw1), y)[0], fn(y, **kw1))


@pytest.mark.parametrize("shape, kw", [((2, 0), {"ord": np.inf, "axis": 1}), ((0,), {"ord": np.inf}),
                                       ((0, 3), {"ord": 1}), ((0, 0), {"ord": np.inf}), ((3, 0), {"ord": 1})])
def test_max_type_norms_of_empty_arrays_are_zero_as_numpy(shape, kw):
    """NumPy's inf- and 1-norms of an empty array are 0; the traced max raised (no identity)."""
    x = np.zeros(shape)
    want = np.linalg.norm(x, **kw)
    value, f_vjp = cr.vjp(lambda x: np.linalg.norm(x, **kw), x)
    np.testing.assert_array_equal(value, want)
    assert f_vjp(np.ones_like(want))[0].shape == shape
