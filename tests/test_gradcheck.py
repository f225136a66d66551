"""check_grads: reports per input, and names the primitive whose rule is wrong."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import GradCheckError, check_grads


def test_report_lists_worst_error_per_input_mode_and_order():
    report = check_grads(lambda x, y: cnp.sum(cnp.sin(x) * y), order=2)(np.ones(3), np.ones(3))
    modes = {(r.index, r.mode, r.order) for r in report.rows}
    assert {(0, "fwd", 1), (1, "rev", 1), (0, "fwd", 2), (1, "rev", 2)} <= modes
    assert report.worst < 1e-6
    assert "input 0" in str(report)


def _bad_square():
    @cr.primitive
    def square(x):
        return x * x

    square.defvjp(lambda g, ans, x: g * 3.0 * x)  # wrong: should be 2x
    square.defjvp(lambda t, ans, x: t * 2.0 * x)  # right
    return square


def test_wrong_custom_vjp_is_named():
    square = _bad_square()
    f = lambda x: cnp.sum(cnp.exp(x) + square(cnp.tanh(x)))
    with pytest.raises(GradCheckError) as info:
        check_grads(f, modes=("fwd", "rev"), order=1)(np.array([0.3, -0.2]))
    msg = str(info.value)
    assert "rev mode" in msg and "fwd mode" not in msg.split("culprit")[0]
    assert "primitive 'square'" in msg
    assert "op 3 of 5" in msg  # exp, tanh, square, add, sum
    assert "VJP" in msg.split("culprit")[1]


def test_wrong_custom_jvp_is_named():
    @cr.primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, ans, x: g * 3.0 * x ** 2)
    cube.defjvp(lambda t, ans, x: t * 3.0 * x)  # wrong
    with pytest.raises(GradCheckError, match=r"primitive 'cube' \(op 1 of 2.*JVP rule"):
        check_grads(lambda x: cnp.sum(cube(x)), order=1)(np.array([0.7, 1.3]))


def test_wrong_second_order_rule_is_caught():
    @cr.primitive
    def sq(x):
        return x * x

    # first order right, but written with a non-differentiable constant: second order wrong
    sq.defvjp(lambda g, ans, x: g * 2.0 * cr.stop_gradient(x))
    sq.defjvp(lambda t, ans, x: t * 2.0 * cr.stop_gradient(x))
    check_grads(lambda x: cnp.sum(sq(x)), order=1)(np.array([0.5]))
    with pytest.raises(GradCheckError, match="order 2"):
        check_grads(lambda x: cnp.sum(sq(x)), order=2)(np.array([0.5]))


def test_custom_primitive_works_at_every_order_and_in_every_transform():
    @cr.primitive
    def logcosh(x):
        return np.logaddexp(x, -x) - np.log(2.0)

    logcosh.defvjp(lambda g, ans, x: g * cnp.tanh(x))
    logcosh.defjvp(lambda t, ans, x: t * cnp.tanh(x))
    x = np.array([0.3, -1.2, 2.0])
    check_grads(lambda x: logcosh(x), order=3)(x)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(logcosh(x)))(x), np.tanh(x))
    assert cr.grad(cr.grad(lambda x: logcosh(x)))(0.5) == pytest.approx(1 - np.tanh(0.5) ** 2)


def test_crashing_rule_is_named():
    @cr.primitive
    def bad(x):
        return 2.0 * x

    bad.defvjp(lambda g, ans, x: g * undefined_name)  # noqa: F821
    bad.defjvp(lambda t, ans, x: 2.0 * t)
    with pytest.raises(Exception) as info:
        check_grads(lambda x: cnp.sum(bad(x)), order=1)(np.ones(2))
    assert "bad" in str(info.value) or "undefined_name" in str(info.value)


def test_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        check_grads(lambda x: x, modes=("sideways",))(1.0)
