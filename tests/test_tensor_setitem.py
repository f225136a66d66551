"""Tensor ``x[key] = v`` is NumPy's assignment: among repeated indices the last write wins, and
the gradient goes to the winning values only (issue 12 item 7)."""

import numpy as np
import pytest

from chainrule import tensor

RNG = np.random.default_rng(7)
SHAPE = (4, 3)

CASES = {  # key, shape of the values
    "repeated ints": ([0, 0, 2], (3, 3)),
    "repeated ints, one value row": ([1, 3, 1], (3,)),
    "repeated rows, column slice": ((np.array([1, 1]), slice(0, 2)), (2, 2)),
    "repeated pairs": ((np.array([0, 2, 0, 0]), np.array([1, 1, 1, 2])), (4,)),
    "2-d index array": ((np.array([[3, 3], [0, 3]]), 2), (2, 2)),
    "scalar value on repeats": (([2, 2, 2], [0, 1, 0]), ()),
    "mask then repeated column": ((np.array([True, False, True, False]), [2, 2]), (2,)),
    "negative and positive alias": ([-1, 3], (2, 3)),
    "no repeats": ((slice(1, 3), [0, 2]), (2, 2)),
}


def numpy_reference(key, vshape, w):
    """Value and both gradients from NumPy itself: which value element wins each position."""
    n = int(np.prod(vshape))
    ids = np.arange(n).reshape(vshape)
    winner = np.full(SHAPE, -1)
    winner[key] = ids
    hit = winner >= 0
    g_values = np.bincount(winner[hit], weights=w[hit], minlength=n).reshape(vshape)
    g_x = np.where(hit, 0.0, w)
    return g_x, g_values


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("leaf_x", [False, True], ids=["x on a graph", "x plain"])
def test_setitem_last_write_wins(name, leaf_x):
    key, vshape = CASES[name]
    xv, vv, w = RNG.normal(size=SHAPE), RNG.normal(size=vshape), RNG.normal(size=SHAPE)
    want = xv.copy()
    want[key] = vv

    x = tensor(xv, requires_grad=True)
    v = tensor(vv, requires_grad=True)
    h = tensor(xv) if leaf_x else x * 1.0
    h[key] = v
    np.testing.assert_array_equal(h.numpy(), want)
    (h * w).sum().backward()
    g_x, g_values = numpy_reference(key, vshape, w)
    np.testing.assert_allclose(v.grad.numpy(), g_values, rtol=1e-12, atol=1e-12)
    if leaf_x:
        assert x.grad is None
    else:
        np.testing.assert_allclose(x.grad.numpy(), g_x, rtol=1e-12, atol=1e-12)


def test_setitem_keeps_the_tensor_dtype_and_refuses_a_leaf():
    h = tensor(np.zeros(3, dtype=np.float32))
    h[[1, 1]] = tensor([1.0, 2.0])
    assert h.dtype == np.float32 and h.tolist() == [0.0, 2.0, 0.0]
    w = tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(Exception, match="leaf"):
        w[[0, 0]] = 1.0
