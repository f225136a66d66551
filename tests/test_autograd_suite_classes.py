"""chainrule.autograd against autograd's own test suite (issue 14 item 7): one test per class
of failure that running HIPS/autograd's tests with ``autograd`` aliased to ``chainrule.autograd``
showed, written here in our own words.

- ``test_util.check_grads`` with containers: directions shaped like dict/list/tuple inputs and
  outputs (it drew one array per argument and failed on any container);
- names of autograd's public API that programs and tests import: ``numpy.make_diagonal``,
  ``scipy.stats.dirichlet.rvs``, the module paths ``autograd.tracer`` (``primitive``,
  ``getval``, ``isbox``), ``autograd.core`` (the unary ``make_vjp``/``make_jvp``) and
  ``autograd.util`` (``subvals``, the deprecated ``quick_grad_check``).
"""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.autograd as ca
import chainrule.autograd.numpy as cnp
from chainrule.autograd import test_util as tu
from chainrule.gradcheck import GradCheckError

rng = np.random.default_rng(7)
M = rng.standard_normal((3, 2))
V = rng.standard_normal(4)
C = rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))


# --- check_grads over containers ---------------------------------------------------------

def dict_in(d):
    return cnp.sum(cnp.sin(d["a"])) * d["b"] + cnp.sum(d["c"][0] ** 2)


def list_in(xs):
    return cnp.tanh(xs[0]) * cnp.sum(xs[1][0]) * xs[1][1]


def tuple_out(x):
    return cnp.sin(x), (cnp.exp(x[0]), [x ** 2])


def complex_tuple_out(z):
    return cnp.real(z) * 2.0, cnp.exp(z)


@pytest.mark.parametrize("fun, arg", [
    (dict_in, {"a": M, "b": 0.7, "c": [V, 1.5]}),
    (list_in, [V, (M, 0.2)]),
    (tuple_out, M),
    (complex_tuple_out, C),
    (lambda d: {"s": cnp.sum(d["x"]) * d["y"], "p": d["x"] * 3.0}, {"x": V, "y": 2.0}),
])
@pytest.mark.parametrize("modes", [["rev"], ["fwd"], ["fwd", "rev"]])
def test_check_grads_takes_containers_in_and_out(fun, arg, modes):
    """Directions have the inputs' and the output's structure, shapes and dtypes, at every
    order of the recursion."""
    tu.check_grads(fun, modes=modes, order=2)(arg)


def test_check_grads_over_containers_still_finds_a_wrong_rule():
    """A wrong second derivative inside a container-valued program is caught (the direction
    for the reverse recursion is a tuple, one entry per output)."""
    right_first = ca.primitive(lambda x: x ** 3)

    def dx(g, ans, x):
        return g * 3.0 * untangled(x)
    untangled = ca.primitive(lambda x: x ** 2)
    untangled.defvjp(lambda g, ans, x: g * 3.0 * x)  # should be 2x: only the second order sees it
    untangled.defjvp(lambda t, ans, x: t * 3.0 * x)
    right_first.defvjp(dx)
    right_first.defjvp(lambda t, ans, x: t * 3.0 * untangled(x))

    def fun(d):
        return right_first(d["x"]), [cnp.sin(d["y"])]

    arg = {"x": np.array([0.4, 1.2]), "y": 0.3}
    tu.check_grads(fun, modes=["rev"], order=1)(arg)
    with pytest.raises(GradCheckError):
        tu.check_grads(fun, modes=["rev"], order=2)(arg)


# --- make_diagonal -----------------------------------------------------------------------

@pytest.mark.parametrize("offset", [-2, 0, 1])
@pytest.mark.parametrize("axes", [(-1, -2), (-2, -1), (0, 2), (2, 0), (1, 0)])
def test_make_diagonal_is_diagonals_inverse(offset, axes):
    B = rng.standard_normal((2, 3))
    out = cnp.make_diagonal(B, offset=offset, axis1=axes[0], axis2=axes[1])
    assert np.ndim(out) == 3
    np.testing.assert_array_equal(np.diagonal(out, offset=offset, axis1=axes[0], axis2=axes[1]), B)
    assert np.count_nonzero(out) == np.count_nonzero(B)  # zeros off the diagonal


def test_make_diagonal_values_and_derivatives():
    d = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(cnp.make_diagonal(d, axis1=-1, axis2=-2), np.diag(d))
    np.testing.assert_array_equal(cnp.make_diagonal(d, offset=1), np.diag(d, 1))
    np.testing.assert_array_equal(cnp.make_diagonal(d, offset=-1), np.diag(d, -1))
    w = rng.standard_normal((2, 4, 4))
    tu.check_grads(lambda D: cnp.sum(w * cnp.make_diagonal(D, axis1=-1, axis2=-2) ** 2))(
        rng.standard_normal((2, 4)))
    cr.check_grads(lambda D: cnp.make_diagonal(D, offset=-1, axis1=0, axis2=1))(d)
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        cnp.make_diagonal(d, axis1=0, axis2=-2)


# --- module paths and names --------------------------------------------------------------

def test_tracer_names():
    from chainrule.autograd import tracer

    seen = []

    def f(x):
        seen.append((tracer.isbox(x), tracer.getval(x)))
        return x * 2.0

    assert ca.grad(f)(1.5) == 2.0
    assert seen[-1][0] and not tracer.isbox(seen[-1][1]) and seen[-1][1] == 1.5
    assert not tracer.isbox(1.5) and tracer.getval(1.5) == 1.5
    nested = []
    ca.grad(ca.grad(lambda x: (nested.append(tracer.getval(x)), x ** 3)[1]))(2.0)
    assert all(type(v) in (float, np.float64) or not tracer.isbox(v) for v in nested)
    double = tracer.primitive(lambda x: 2.0 * x)
    ca.extend.defvjp(double, lambda ans, x: lambda g: 2.0 * g)
    assert ca.grad(double)(3.0) == 2.0
    assert tracer.notrace_primitive is ca.extend.notrace_primitive


def test_value_and_grad_value_is_plain():
    value, g = ca.value_and_grad(lambda x: cnp.sum(x ** 2))(V)
    from chainrule.autograd.tracer import isbox
    assert not isbox(value) and not isbox(g)


def test_core_make_vjp_and_make_jvp_are_unary():
    from chainrule.autograd import core

    vjp, ans = core.make_vjp(cnp.sin, V)
    np.testing.assert_allclose(ans, np.sin(V))
    np.testing.assert_allclose(vjp(np.ones(4)), np.cos(V))
    out, tangent = core.make_jvp(lambda x: cnp.sum(x * x), V)(np.ones(4))
    np.testing.assert_allclose([out, tangent], [np.sum(V * V), 2 * np.sum(V)])
    assert core.defvjp is ca.extend.defvjp  # core.primitive adds the pre-1.2 methods (as autograd's)


def test_util_helpers_and_deprecated_quick_grad_check():
    from chainrule.autograd import util

    assert util.subvals((1, 2, 3), [(0, "a"), (2, "c")]) == ("a", 2, "c")
    assert util.subval((1, 2), 1, 5) == (1, 5)
    with pytest.warns(DeprecationWarning, match="deprecated"):
        util.quick_grad_check(lambda x, y: cnp.sum(x ** 2) * y, V, (2.0,))
    wrong = ca.primitive(lambda x: x ** 2)
    wrong.defvjp(lambda g, ans, x: g * 3 * x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(GradCheckError):
            util.quick_grad_check(wrong, 1.3)


def test_dirichlet_rvs_is_scipys_sampler():
    from chainrule.autograd.scipy.stats import dirichlet

    alpha = np.array([1.5, 2.0, 3.0])
    x = dirichlet.rvs(alpha, size=4, random_state=np.random.RandomState(0))
    assert x.shape == (4, 3)
    np.testing.assert_allclose(x.sum(axis=1), 1.0)
    assert "rvs" in dirichlet.__all__


# --- autograd.numpy's own conventions: where by keyword, integer casts of traced values ------

def test_where_takes_x_and_y_by_keyword():
    c = [True, False, True]
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    expect = np.array([1.0, 5.0, 3.0])
    for out in (cnp.where(c, x, y), cnp.where(c, x=x, y=y), cnp.where(c, x, y=y),
                cnp.where(condition=c, x=x, y=y)):
        np.testing.assert_array_equal(out, expect)
    np.testing.assert_array_equal(cnp.where(c)[0], [0, 2])
    g = ca.grad(lambda a: cnp.sum(cnp.where(c, x=a, y=a ** 2)))(x)
    np.testing.assert_allclose(g, [1.0, 4.0, 1.0])
    # the result follows NumPy (an array), where autograd returns Python lists and scalars
    assert isinstance(cnp.where(True, [1, 2], [3, 4]), np.ndarray)
    with pytest.raises(TypeError, match="give both x and y"):
        cnp.where(c, x)
    with pytest.raises(TypeError, match="unexpected"):
        cnp.where(c, x, z=y)


@pytest.mark.parametrize("name", ["int8", "int16", "int32", "int64"])
def test_integer_types_cast_traced_values(name):
    """``np.int64(x)`` of a traced array is its plain integer cast (derivative 0 everywhere
    but at the jumps), usable as an index; as a dtype the type is NumPy's."""
    T = getattr(cnp, name)
    W = rng.standard_normal((5, 3))
    W[:, -1] = [0, 1, 2, 1, 0]
    seen = []

    def f(W):
        idx = T(W[:, -1])
        seen.append(idx)
        return cnp.sum(W[idx, 0]) + cnp.sum(W[:, :2] ** 2)

    g = ca.grad(f)(W)
    idx = seen[-1]
    assert isinstance(idx, np.ndarray) and idx.dtype == getattr(np, name) and idx.dtype == T
    expect = 2 * W
    expect[:, 2] = 0.0
    np.add.at(expect[:, 0], [0, 1, 2, 1, 0], 1.0)
    np.testing.assert_allclose(g, expect)
    assert T(3.7) == 3 and np.dtype(T) == np.dtype(name) and np.zeros(2, dtype=T).dtype == np.dtype(name)


# --- linalg reads lists and tuples holding traced values --------------------------------

@pytest.mark.parametrize("fun, expect", [
    (lambda x: cnp.linalg.norm([x, x + 2.0]), lambda x: (2 * x + 2) / np.sqrt(x ** 2 + (x + 2) ** 2)),
    (lambda x: cnp.linalg.norm((x, 3.0), ord=1), lambda x: np.sign(x)),
    (lambda x: cnp.linalg.det([[x, 1.0], [2.0, x]]), lambda x: 2 * x),
    (lambda x: cnp.linalg.slogdet(((x, 0.5), (0.5, 2.0)))[1], lambda x: 2.0 / (2 * x - 0.25)),
    (lambda x: cnp.sum(cnp.linalg.inv([[x, 0.0], [0.0, 2 * x]])), lambda x: -1.5 / x ** 2),
    (lambda x: cnp.sum(cnp.linalg.solve([[x, 0.0], [0.0, 1.0]], [1.0, x])), lambda x: -1 / x ** 2 + 1),
])
def test_linalg_of_containers_of_traced_values(fun, expect):
    for x in (0.7, 1.9):
        np.testing.assert_allclose(ca.grad(fun)(x), expect(x), rtol=1e-12)
    tu.check_grads(fun)(1.3)


# --- the functions the operators return are named as autograd's ---------------------------

@pytest.mark.parametrize("op", ["grad", "value_and_grad", "grad_and_aux", "make_vjp", "make_jvp",
                                "elementwise_grad", "holomorphic_grad", "jacobian", "hessian",
                                "hessian_tensor_product", "hessian_vector_product",
                                "tensor_jacobian_product", "vector_jacobian_product", "deriv",
                                "make_hvp"])
def test_returned_functions_are_named_after_the_operator(op):
    def model(x, y):
        return cnp.sum(x * y)

    operator = getattr(ca, op)
    base = {"hessian_vector_product": "hessian_tensor_product",
            "vector_jacobian_product": "tensor_jacobian_product"}.get(op, op)
    assert operator.__name__ == base
    made = operator(model, 1)
    assert made.__name__ == f"{base}_of_model_wrt_argnum_1"
    assert made.__doc__.startswith(f"    {base} of function model with respect to argument number 1")
    assert operator(lambda x: x).__name__ == f"{base}_of_<lambda>_wrt_argnum_0"


def test_grad_docstring_and_unnamed_callables():
    from functools import partial

    assert ca.grad.__doc__.startswith("\n    Returns a function which")
    g = ca.grad(partial(lambda x, y: x * y, y=3.0))
    assert g.__name__ == "grad_of_[unknown name]_wrt_argnum_0" and g(2.0) == 3.0


# --- argnum: an int, or a tuple/list of them, for every operator (autograd's unary_to_nary) --

def _three(a, b, c):
    return cnp.sin(a) * b + c


A3, B3, C3 = np.array([0.3, 1.0]), np.array([2.0, -1.0]), 0.5


@pytest.mark.parametrize("argnum", [(0, 1), [0, 1], (2,), [1, 2]])
def test_tuple_argnum_for_every_operator(argnum):
    partials = {0: lambda u: u * np.cos(A3) * B3, 1: lambda u: u * np.sin(A3), 2: lambda u: np.sum(u)}
    u = np.array([1.0, -2.0])
    vjp, ans = ca.make_vjp(_three, argnum)(A3, B3, C3)
    np.testing.assert_allclose(ans, np.sin(A3) * B3 + C3)
    got = vjp(u)
    assert isinstance(got, tuple) and len(got) == len(argnum)
    for i, gi in zip(argnum, got):
        np.testing.assert_allclose(gi, partials[i](u))
    for i, gi in zip(argnum, ca.elementwise_grad(_three, argnum)(A3, B3, C3)):
        np.testing.assert_allclose(gi, partials[i](np.ones(2)))
    tangents = tuple(np.full(np.shape((A3, B3, C3)[i]), 0.5) for i in argnum)
    jv = ca.make_jvp(_three, argnum)(A3, B3, C3)(tangents)[1]
    expect = sum({0: np.cos(A3) * B3, 1: np.sin(A3), 2: np.ones(2)}[i] * 0.5 for i in argnum)
    np.testing.assert_allclose(jv, expect)
    scalar = lambda a, b, c: cnp.sum(_three(a, b, c))  # noqa: E731
    for i, gi in zip(argnum, ca.grad(scalar, argnum)(A3, B3, C3)):
        np.testing.assert_allclose(gi, partials[i](np.ones(2)))


# --- check_grads' failures name the function and the mode, as autograd's -------------------

def test_check_grads_failure_names_function_and_mode():
    def scaled(x):
        return x * 2.0
    scaled_prim = ca.primitive(scaled)
    ca.extend.defvjp(scaled_prim, lambda ans, x: lambda g: g * 2.001)
    ca.extend.defjvp(scaled_prim, lambda g, ans, x: g * 2.0)
    with pytest.raises(AssertionError, match=r"^\(VJP\) check of scaled failed") as info:
        tu.check_grads(scaled_prim, modes=["fwd", "rev"])(1.0)
    assert "culprit: primitive 'scaled'" in str(info.value)  # chainrule's diagnosis follows
    ca.extend.defvjp(scaled_prim, lambda ans, x: lambda g: g * 2.0)
    ca.extend.defjvp(scaled_prim, lambda g, ans, x: g * 1.999)
    with pytest.raises(AssertionError, match=r"^\(JVP\) check of scaled failed"):
        tu.check_grads(scaled_prim, modes=["fwd", "rev"])(1.0)
    tu.check_grads(scaled_prim, modes=["rev"])(1.0)  # the forward rule is never asked for

    inner = ca.primitive(lambda x: x)
    ca.extend.defvjp(inner, lambda ans, x: lambda g: g * 1.001)  # wrong: seen at order 2 only
    outer = ca.primitive(scaled)
    ca.extend.defvjp(outer, lambda ans, x: lambda g: inner(g) * 2.0)
    tu.check_grads(outer, modes=["rev"], order=1)(1.0)
    with pytest.raises(AssertionError, match=r"^\(VJP\) check of vjp_scaled failed"):
        tu.check_grads(outer, modes=["rev"], order=2)(1.0)
    with pytest.raises(AssertionError, match=r"^\(VJP\) check of vjp_\[unknown name\] failed"):
        from functools import partial
        tu.check_grads(partial(lambda x, k: outer(x) * k, k=1.0), modes=["rev"], order=2)(1.0)


def test_pre_1_2_rule_spellings_on_core_primitives():
    """autograd 1.9's autograd.core.primitive keeps the deprecated defvjp(vjpfun(g, ans, vs, gvs,
    *args), argnum), defgrad and defvjp_is_zero, warning; rules accumulate per argument."""
    from chainrule.autograd.core import primitive as core_primitive

    @core_primitive
    def mul(x, y):
        return x * y

    with pytest.warns(DeprecationWarning, match="deprecated"):
        mul.defvjp(lambda g, ans, vs, gvs, x, y: y * g)
    with pytest.warns(DeprecationWarning):
        mul.defgrad(lambda ans, x, y: lambda g: x * g, argnum=1)
    x, y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5, -1.0], [2.0, 0.25]])
    gx, gy = ca.grad(lambda x, y: cnp.sum(mul(x, y)), argnum=(0, 1))(x, y)
    np.testing.assert_allclose(gx, y)
    np.testing.assert_allclose(gy, x)
    tu.check_grads(lambda x, y: mul(x, y), modes=["rev"])(x, y)  # batched cotangents, one row at a time

    @core_primitive
    def zero(x, y):
        return 0 * x * y

    with pytest.warns(DeprecationWarning):
        zero.defvjp_is_zero([0, 1])
    assert np.array_equal(ca.grad(lambda x: cnp.sum(zero(x, y)))(x), np.zeros_like(x))
    assert not hasattr(ca.extend.primitive(lambda x: x), "defgrad")  # extend's has only the 1.2 API


def test_rule_tables_take_rules_away_and_back():
    """autograd.core.primitive_vjps / primitive_jvps: pop a primitive's rules (its derivative then
    raises naming it), put them back; a function that is no primitive has none."""
    from chainrule.autograd.core import primitive_jvps, primitive_vjps
    from chainrule.autograd.extend import defjvp, defvjp, primitive
    from chainrule.core.errors import NoRuleError

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda ans, x: lambda g: 3 * x ** 2 * g)
    defjvp(cube, lambda g, ans, x: 3 * x ** 2 * g)
    assert primitive_vjps.pop(cnp.iscomplex, None) is None
    saved_vjp, saved_jvp = primitive_vjps.pop(cube), primitive_jvps.pop(cube)
    assert cube not in primitive_vjps
    with pytest.raises(NoRuleError):
        ca.grad(cube)(2.0)
    primitive_vjps[cube], primitive_jvps[cube] = saved_vjp, saved_jvp
    assert ca.grad(cube)(2.0) == 12.0 and ca.deriv(cube)(2.0) == 12.0
    with pytest.raises(TypeError, match="no registry"):
        len(primitive_vjps)
