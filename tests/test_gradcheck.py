"""check_grads: reports per input, and names the primitive whose rule is wrong."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import GradCheckError, check_grads
from chainrule.autograd.test_util import check_grads as autograd_check_grads


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


# ---------------------------------------------------------------- batched passes (issue 12, item 4)
A = np.random.default_rng(3).standard_normal((3, 4))


def _linear(vjp_rule, jvp_rule):
    @cr.primitive
    def lin(x):
        return x @ A.T

    return lin.defvjp(vjp_rule).defjvp(jvp_rule)


# Rules right for one cotangent/tangent and wrong for a batch of them, each paired with the
# batch-polymorphic way to write it: a matmul on the wrong side, a flip over every axis
# (the batch axis too, same shape), a reduction over axis 0, a reshape to the unbatched shape.
def _flip_prim(vjp_rule, jvp_rule):
    @cr.primitive
    def rev(x):
        return x[..., ::-1]

    return rev.defvjp(vjp_rule).defjvp(jvp_rule)


def _total_prim(vjp_rule, jvp_rule):
    @cr.primitive
    def total(x):
        return np.sum(x, axis=-1)

    return total.defvjp(vjp_rule).defjvp(jvp_rule)


def _flat_prim(vjp_rule, jvp_rule):
    @cr.primitive
    def flat(x):
        return np.reshape(x, (-1,))

    return flat.defvjp(vjp_rule).defjvp(jvp_rule)


BATCH_CASES = {
    "matmul side": (_linear, lambda g, ans, x: A.T @ g, lambda t, ans, x: A @ t,
                    lambda g, ans, x: g @ A, lambda t, ans, x: t @ A.T, (4,)),
    "flip all axes": (_flip_prim, lambda g, ans, x: cnp.flip(g), lambda t, ans, x: cnp.flip(t),
                      lambda g, ans, x: g[..., ::-1], lambda t, ans, x: t[..., ::-1], (5,)),
    "reduce axis 0": (_total_prim, lambda g, ans, x: cnp.expand_dims(g, 0) + 0 * x,
                      lambda t, ans, x: cnp.sum(t, axis=0),
                      lambda g, ans, x: cnp.expand_dims(g, -1) + 0 * x,
                      lambda t, ans, x: cnp.sum(t, axis=-1), (4,)),
    "reshape to x's shape": (_flat_prim, lambda g, ans, x: cnp.reshape(g, x.shape),
                             lambda t, ans, x: cnp.reshape(t, (-1,)),
                             lambda g, ans, x: cnp.reshape(g, g.shape[:g.ndim - 1] + x.shape),
                             lambda t, ans, x: cnp.reshape(t, t.shape[:t.ndim - x.ndim] + (-1,)),
                             (2, 3)),
}


@pytest.mark.parametrize("name", list(BATCH_CASES))
@pytest.mark.parametrize("bad_mode", ["rev", "fwd"])
def test_rule_wrong_only_for_a_batch_is_caught_and_named(name, bad_mode):
    make, bad_vjp, bad_jvp, good_vjp, good_jvp, shape = BATCH_CASES[name]
    x = np.random.default_rng(4).standard_normal(shape)
    prim = make(bad_vjp if bad_mode == "rev" else good_vjp, bad_jvp if bad_mode == "fwd" else good_jvp)
    f = lambda x: cnp.tanh(prim(x))  # noqa: E731
    with pytest.raises(GradCheckError) as info:
        check_grads(f, modes=(bad_mode,), order=1)(x)
    msg = str(info.value)
    assert "batch" in msg and f"primitive '{prim.name}'" in msg
    assert ("VJP" if bad_mode == "rev" else "JVP") in msg.split("culprit")[1]
    with pytest.raises(GradCheckError, match=f"primitive '{prim.name}'.*not batch-polymorphic"):
        cr.gradcheck.check_batched(f, x, modes=(bad_mode,))


@pytest.mark.parametrize("name", list(BATCH_CASES))
def test_batch_polymorphic_rules_pass_and_give_right_jacobians(name):
    make, _, _, good_vjp, good_jvp, shape = BATCH_CASES[name]
    x = np.random.default_rng(5).standard_normal(shape)
    prim = make(good_vjp, good_jvp)
    f = lambda x: cnp.tanh(prim(x))  # noqa: E731
    report = check_grads(f, order=2)(x)
    assert {(m, o) for m, o, _ in report.batched} == {("fwd", 1), ("rev", 1), ("fwd", 2), ("rev", 2)}
    cr.gradcheck.check_batched(f, x)
    jr, jf = cr.jacrev(f)(x), cr.jacfwd(f)(x)
    np.testing.assert_allclose(jr, jf, rtol=1e-12, atol=1e-14)
    n = x.size
    rows = [cr.grad(lambda x, k=k: cnp.ravel(f(x))[k])(x) for k in range(np.size(f(x)))]
    np.testing.assert_allclose(jr.reshape(-1, n), np.reshape(rows, (-1, n)), rtol=1e-12, atol=1e-14)


def test_batched_check_reaches_rules_used_inside_rules():
    """At order 2 the derivative maps are checked batched, so a custom primitive that only
    appears inside another primitive's rule is checked too."""
    flip = _flip_prim(lambda g, ans, x: cnp.flip(g), lambda t, ans, x: cnp.flip(t))

    @cr.primitive
    def rsq(x):  # rsq(x) = reversed(x)**2, whose rules call the custom `rev`
        return x[::-1] ** 2

    rsq.defvjp(lambda g, ans, x: flip(g) * 2 * x)
    rsq.defjvp(lambda t, ans, x: flip(t * 2 * x))
    x = np.array([0.3, -0.8, 1.1])
    check_grads(lambda x: cnp.sum(cnp.sin(rsq(x))), order=1)(x)  # single passes: right
    with pytest.raises(GradCheckError, match=r"order 2.*batch|batch.*order 2"):
        check_grads(lambda x: cnp.sum(cnp.sin(rsq(x))), order=2)(x)


# ---------------------------------------------------------------- tolerances scale with f
@pytest.mark.parametrize("scale", [1e-7, 1e-12, 1e7])
@pytest.mark.parametrize("bad_mode", ["rev", "fwd"])
def test_twice_wrong_rule_is_caught_at_any_scale(scale, bad_mode):
    @cr.primitive
    def sq(x):
        return scale * x * x

    right_v, right_t = (lambda g, ans, x: g * 2 * scale * x), (lambda t, ans, x: t * 2 * scale * x)
    wrong_v, wrong_t = (lambda g, ans, x: g * 4 * scale * x), (lambda t, ans, x: t * 4 * scale * x)
    x = np.array([0.3, -0.5, 0.9])
    sq.defvjp(right_v).defjvp(right_t)
    check_grads(lambda x: cnp.sum(cnp.sin(x) * sq(x)), order=2)(x)
    sq.defvjp(wrong_v if bad_mode == "rev" else right_v).defjvp(wrong_t if bad_mode == "fwd" else right_t)
    with pytest.raises(GradCheckError) as info:
        check_grads(lambda x: cnp.sum(cnp.sin(x) * sq(x)), modes=(bad_mode,), order=1)(x)
    assert "primitive 'sq'" in str(info.value).split("culprit")[1]


def test_atol_is_extra_slack_not_the_default():
    @cr.primitive
    def tiny(x):
        return 1e-7 * x

    tiny.defvjp(lambda g, ans, x: 1.1e-7 * g).defjvp(lambda t, ans, x: 1e-7 * t)
    f = lambda x: cnp.sum(tiny(x))  # noqa: E731
    with pytest.raises(GradCheckError):
        check_grads(f, order=1)(np.ones(3))
    check_grads(f, order=1, atol=1e-6)(np.ones(3))  # the caller may still ask for absolute slack


# ---------------------------------------------------------------- resolution of central differences
@pytest.mark.parametrize("offset", [1e8, -1e9])
def test_unresolvable_step_is_reported_not_blamed_on_a_primitive(offset):
    f = lambda x: cnp.sum(x ** 2) + offset  # noqa: E731
    x = np.array([0.3, 0.5])
    with pytest.raises(GradCheckError) as info:
        check_grads(f, order=1)(x)
    msg = str(info.value)
    assert "cannot resolve" in msg and "cancellation" in msg and "eps=" in msg
    assert "culprit" not in msg and "'add'" not in msg
    check_grads(f, order=2, eps=0.1)(x)  # the step the message suggests


def test_wrong_rule_inside_an_unresolvable_function_is_still_named():
    square = _bad_square()
    with pytest.raises(GradCheckError) as info:
        check_grads(lambda x: cnp.sum(square(x)) + 1e8, modes=("rev",), order=1)(np.array([0.3, 0.5]))
    assert "primitive 'square'" in str(info.value).split("culprit")[1]


def test_zero_derivatives_pass_without_absolute_tolerance():
    x = np.array([[0.4, -1.2, 2.0], [0.1, 0.5, -0.3]])
    check_grads(lambda x: cnp.std(x, axis=0), order=2)(x)  # |x0 - x1| / 2: second derivative 0
    check_grads(lambda x: cnp.cos(x) + 3.0, order=2)(np.zeros(3))  # stationary point
    check_grads(lambda x: cnp.prod(x), order=1)(np.array([0.0, 0.0, 2.0]))  # gradient exactly 0


def test_batched_pass_allows_rounding_where_a_result_cancels_to_zero():
    """A derivative that cancels to ~1e-17 from terms of order 1 (the VJP of a complex product's
    JVP) differs between the batched and the single passes by rounding alone: not a failure.
    (Before: 41 of 200 random complex scalars failed autograd's test_util.check_grads on prod.)"""
    for seed in range(60):
        rs = np.random.RandomState(seed)
        autograd_check_grads(cnp.prod, modes=["fwd", "rev"], order=2)(rs.randn() + 1j * rs.randn())
