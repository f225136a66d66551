""".grad arrays belong to their leaf (issue 12 item 19, Tensor part): writable, and never an alias
of the seed, of another leaf's .grad, or of a value the tape still holds."""

import numpy as np
import pytest

from chainrule import Tensor, tensor

RNG = np.random.default_rng(19)

# ops whose VJP can hand the cotangent through unchanged, or as a (read-only) view
OPS = {
    "leaf itself": lambda x: x,
    "add zero": lambda x: x + 0.0,
    "positive": lambda x: +x,
    "reshape": lambda x: x.reshape(-1),
    "transpose": lambda x: x.T,
    "astype same": lambda x: x.astype(x.dtype),
    "broadcast": lambda x: x.expand(2, 2, 3),
    "getitem": lambda x: x[::-1],
    "exp": lambda x: x.exp(),
}


@pytest.mark.parametrize("as_tensor", [False, True], ids=["array", "Tensor"])
@pytest.mark.parametrize("name", OPS)
def test_changing_the_seed_leaves_grad_alone(name, as_tensor):
    f = OPS[name]
    xv = RNG.normal(size=(2, 3))
    x = tensor(xv, requires_grad=True)
    y = f(x)
    g = RNG.normal(size=y.shape)
    y.backward(gradient=Tensor(g) if as_tensor else g)  # Tensor(g) wraps g, no copy
    before = x.grad.numpy()
    g *= 0.0
    g += 99.0
    np.testing.assert_array_equal(x.grad.numpy(), before)


NOT_0D = {"broadcast", "transpose", "getitem"}  # need at least one axis
WRITABLE = [(n, (2, 3)) for n in OPS] + [(n, ()) for n in OPS if n not in NOT_0D]


@pytest.mark.parametrize("name,shape", WRITABLE, ids=[f"{n}-{len(s)}d" for n, s in WRITABLE])
def test_grad_is_a_writable_array_of_its_own(name, shape):
    f = OPS[name]
    xv = RNG.normal(size=shape)
    x = tensor(xv, requires_grad=True)
    f(x).sum().backward()
    g = x.grad.value
    assert type(g) is np.ndarray and g.flags.writeable and g.dtype == x.dtype
    before = g.copy()
    g *= 0.1  # in place, as with a PyTorch .grad
    np.testing.assert_allclose(x.grad.numpy(), 0.1 * before)
    x.grad *= 10.0  # the Tensor's own in-place operator too
    np.testing.assert_allclose(x.grad.numpy(), before)
    f(x).sum().backward()  # an accumulated .grad is writable too
    g = x.grad.value
    assert type(g) is np.ndarray and g.flags.writeable
    g *= 0.5
    np.testing.assert_allclose(x.grad.numpy(), before)


def test_leaves_sharing_one_cotangent_get_separate_grads():
    a = tensor(RNG.normal(size=3), requires_grad=True)
    b = tensor(RNG.normal(size=3), requires_grad=True)
    c = tensor(RNG.normal(size=3), requires_grad=True)
    ((a + b + c) * 2.0).sum().backward()  # add's VJP hands one array to all three
    a.grad.value[...] = 0.0
    np.testing.assert_array_equal(b.grad.numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(c.grad.numpy(), [2.0, 2.0, 2.0])


def test_writing_into_grad_leaves_a_retained_graph_alone():
    xv = RNG.normal(size=3)
    x = tensor(xv, requires_grad=True)
    y = (x.exp() * 1.0).sum()
    y.backward(retain_graph=True)
    x.grad.value[...] = -1.0
    x.grad = None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xv), rtol=1e-12)
