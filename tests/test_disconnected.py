"""'Never reached the output' is told apart from 'the gradient is zero here' (issue 15, item 4)."""

import warnings

import numpy as np
import pytest

import chainrule as cr


def test_an_unused_argument_warns_and_gets_zero():
    with pytest.warns(cr.DisconnectedWarning, match="does not depend on argument 1"):
        gx, gy = cr.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(3))
    assert gx == 2.0 and np.array_equal(gy, np.zeros(3))


def test_a_zero_slope_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.grad(lambda x: (x - 1.0) ** 2)(1.0) == 0.0  # connected, slope 0
        assert cr.grad(lambda x: x * 0.0)(3.0) == 0.0  # connected through a product with 0


@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad])
def test_allow_disconnected_silences_it(transform):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transform(lambda x, y: x * 2.0, argnums=(0, 1), allow_disconnected=True)(1.0, 2.0)


def test_a_warnings_filter_silences_it():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", cr.DisconnectedWarning)
        cr.grad(lambda x: 3.0)(1.0)


def test_part_of_a_pytree_argument_is_named_as_part():
    with pytest.warns(cr.DisconnectedWarning, match="part of argument 0"):
        g = cr.grad(lambda d: d["a"] * 2.0)({"a": 1.0, "b": 2.0})
    assert g["a"] == 2.0 and g["b"] == 0.0


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(cr.DisconnectedWarning) as rec:
        cr.grad(lambda x: 3.0)(1.0)
    assert rec[0].filename == __file__


def test_warns_once_per_call_site_under_the_default_filter():
    with warnings.catch_warnings(record=True) as rec:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for _ in range(5):
            cr.grad(lambda x: 3.0)(1.0)
    assert sum(issubclass(w.category, cr.DisconnectedWarning) for w in rec) == 1


def test_inner_gradient_of_a_nested_transform_is_checked_too():
    with pytest.warns(cr.DisconnectedWarning):
        cr.grad(lambda x: cr.grad(lambda y: x * 2.0)(1.0))(3.0)
