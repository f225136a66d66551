"""autograd users switch by changing imports: the same program, both libraries, same numbers."""

import numpy as onp
import pytest

PROGRAM = """
{imports}

def logistic_loss(w, X, t):
    y = 1.0 / (1.0 + np.exp(-np.dot(X, w)))
    return -np.sum(t * np.log(y) + (1 - t) * np.log(1 - y))

def tanh_net(params, x):
    for W, b in params:
        x = np.tanh(np.dot(x, W) + b)
    return np.sum(x ** 2)

w = npr.RandomState(0).randn(3)
X = npr.RandomState(1).randn(5, 3)
t = (npr.RandomState(2).rand(5) > 0.5).astype(float)
params = [(npr.RandomState(3).randn(3, 4), npr.RandomState(4).randn(4)),
          (npr.RandomState(5).randn(4, 2), npr.RandomState(6).randn(2))]
results = dict(
    g=grad(logistic_loss)(w, X, t),
    gg=grad(lambda x: np.sum(grad(lambda y: np.sum(np.sin(y) * y))(x)))(w),
    ew=elementwise_grad(np.tanh)(w),
    net=grad(tanh_net)(params, X),
)
vjp, ans = make_vjp(lambda x: np.sin(x) * 2.0)(w)
results["vjp"] = vjp(onp.ones(3))
"""

OURS = """import chainrule.autograd.numpy as np
import chainrule.autograd.numpy.random as npr
from chainrule.autograd import grad, elementwise_grad, make_vjp"""

THEIRS = """import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import grad, elementwise_grad, make_vjp"""


def _run(imports):
    scope = {"onp": onp}
    exec(PROGRAM.format(imports=imports), scope)
    return scope["results"]


def test_same_program_same_numbers():
    pytest.importorskip("autograd")
    ours, theirs = _run(OURS), _run(THEIRS)
    for key in ("g", "gg", "ew", "vjp"):
        onp.testing.assert_allclose(ours[key], theirs[key], rtol=1e-12, err_msg=key)
    for (gw, gb), (tw, tb) in zip(ours["net"], theirs["net"]):
        onp.testing.assert_allclose(gw, tw, rtol=1e-12)
        onp.testing.assert_allclose(gb, tb, rtol=1e-12)


def test_runs_without_autograd_installed():
    results = _run(OURS)
    assert results["g"].shape == (3,)


def test_extend_with_autograd_signatures():
    import chainrule.autograd.numpy as np
    from chainrule.autograd import grad
    from chainrule.autograd.extend import defjvp, defvjp, primitive

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
    defjvp(cube, lambda g, ans, x: g * 3 * x ** 2)
    assert grad(lambda x: np.sum(cube(x)))(onp.array([2.0]))[0] == pytest.approx(12.0)
    assert grad(grad(cube))(2.0) == pytest.approx(12.0)
