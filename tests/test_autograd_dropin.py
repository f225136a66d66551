"""chainrule.autograd as a drop-in for autograd 1.9 (issue 14 item 7): every public name of
autograd's top level, ``extend``, ``builtins``, ``test_util`` and ``differential_operators``
exists here; autograd's module paths import; the operators agree with autograd itself
(argnum, tensor_jacobian_product's contraction, deriv, make_hvp, make_ggnvp,
multigrad_dict, grad_named, grad of a size-1 output); autograd's README and tutorial programs
give autograd's results with only the import changed."""

import importlib
import inspect

import numpy as np
import pytest

ag = pytest.importorskip("autograd")
import autograd.numpy as anp  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.autograd as ca  # noqa: E402
import chainrule.autograd.numpy as cnp  # noqa: E402
from chainrule.core.errors import NoRuleError  # noqa: E402

# autograd's own machinery, which a program never needs from a drop-in (chainrule has its own
# tracing): boxes, vector spaces, node types and registration internals.
EXTEND_INTERNALS = {  # autograd.extend's share of them
    "Box",
    "JVPNode",
    "VJPNode",
    "VSpace",
    "SparseObject",
    "vspace",
    "register_notrace",
    "defvjp_argnums",
    "defjvp_argnums",
}
INTERNALS = EXTEND_INTERNALS | {
    "core",
    "tracer",
    "util",
    "wrap_util",
    "ContainerVSpace",
    "DictBox",
    "DictMeta",
    "DictVSpace",
    "ListMeta",
    "ListVSpace",
    "NamedTupleVSpace",
    "SequenceBox",
    "SequenceVSpace",
    "TupleMeta",
    "TupleVSpace",
    "container_take",
    "container_untake",
    "defjvp",
    "defjvp_argnum",
    "defvjp",
    "defvjp_argnum",
    "dict_",
    "fwd_grad_make_sequence",
    "grad_container_take",
    "grad_sequence_extend_left",
    "grad_sequence_extend_right",
    "isinstance_",
    "list_",
    "make_sequence",
    "notrace_primitive",
    "primitive",
    "sequence_extend_left",
    "sequence_extend_right",
    "subvals",
    "tuple_",
    "type_",
    "unary_to_nary",
    "wraps",
    "attach_name_and_doc",
    "getval",
    "make_vjp",
    "make_jvp",
    "OrderedDict",
    "partial",
    "np",
    "inspect",
    "getargspec",
}


def public(module):
    return {n for n in dir(module) if not n.startswith("_")}


@pytest.mark.parametrize(
    "theirs, ours, internals",
    [
        (
            "autograd",
            "chainrule.autograd",
            {"core", "tracer", "util", "wrap_util", "numpy", "extend", "differential_operators", "builtins"},
        ),
        (
            "autograd.extend",
            "chainrule.autograd.extend",
            EXTEND_INTERNALS,
        ),
        (
            "autograd.builtins",
            "chainrule.autograd.builtins",
            INTERNALS - {"tuple", "list", "dict", "isinstance", "type"},
        ),
    ],
)
def test_every_public_name(theirs, ours, internals):
    missing = public(importlib.import_module(theirs)) - public(importlib.import_module(ours)) - internals
    assert not missing, f"{ours} lacks {sorted(missing)}"


def test_differential_operators_module():
    theirs = importlib.import_module("autograd.differential_operators")
    ours = importlib.import_module("chainrule.autograd.differential_operators")
    ops = {
        n
        for n in public(theirs)
        if callable(getattr(theirs, n)) and getattr(theirs, n).__module__ == "autograd.differential_operators"
    }
    assert ops - public(ours) == set()


@pytest.mark.parametrize(
    "path",
    [
        "numpy",
        "numpy.fft",
        "numpy.linalg",
        "numpy.random",
        "scipy",
        "scipy.special",
        "scipy.linalg",
        "scipy.signal",
        "scipy.stats",
        "scipy.stats.norm",
        "scipy.stats.t",
        "scipy.stats.gamma",
        "scipy.stats.beta",
        "scipy.stats.chi2",
        "scipy.stats.poisson",
        "scipy.stats.dirichlet",
        "scipy.stats.multivariate_normal",
        "misc",
        "misc.flatten",
        "misc.optimizers",
        "test_util",
        "extend",
        "builtins",
        "differential_operators",
    ],
)
def test_module_paths(path):
    theirs = importlib.import_module("autograd." + path)
    ours = importlib.import_module("chainrule.autograd." + path)
    if path == "numpy.fft":  # NumPy's fft functions (autograd's module also holds its rule helpers)
        assert not (public(theirs) & public(np.fft)) - public(ours) - {"test"}
    elif path.startswith("scipy.stats.") or path in ("misc.optimizers", "misc.flatten"):
        fns = {
            n
            for n in public(theirs)
            if callable(getattr(theirs, n))
            and not isinstance(getattr(theirs, n), type)
            and n not in INTERNALS
            and not n.startswith(("grad_", "make_grad", "fwd_grad"))
            and (getattr(getattr(theirs, n), "__module__", "") or "").startswith(("autograd", "numpy"))
        }
        missing = {
            n
            for n in fns - public(ours)
            if n
            not in (
                "unbroadcast_f",
                "rvs",
                "wrap_namespace",
                "covgrad",
                "generalized_outer_product",
                "psi",
                "gamma",
                "digamma",
                "beta",
                "solve",
                "wraps",
                "flatten",
                "type",
            )
        }
        assert not missing, f"chainrule.autograd.{path} lacks {sorted(missing)}"


# autograd's rule helpers and imports per module: what a program cannot need from a drop-in
# (gradient makers, vector spaces, the modules autograd itself imports). Everything else public
# in autograd's module must be public in chainrule's.
MODULE_INTERNALS = {
    "numpy": {"Box", "array_from_args", "builtins", "c_class", "concatenate_args", "custom_where",
              "make_diagonal", "metadata", "notrace_functions", "notrace_primitive", "numpy_boxes",
              "numpy_jvps", "numpy_version", "numpy_vjps", "numpy_vspaces", "numpy_wrapper",
              "parse_einsum_input", "primitive", "r_class", "wrap_if_boxes_inside", "wrap_intdtype",
              "wrap_namespace"},
    "numpy.fft": {"anp", "check_even_shape", "check_no_repeated_axes", "defvjp", "fft_grad",
                  "get_fft2_args", "get_fft_args", "get_fftn_args", "irfft_grad", "make_rfft_factors",
                  "match_complex", "primitive", "rfft_grad", "test", "truncate_pad", "vspace",
                  "wrap_namespace"},
    "numpy.linalg": {"T", "add2d", "anp", "builtins", "defjvp", "defvjp", "grad_cholesky", "grad_eig",
                     "grad_eigh", "grad_inv", "grad_pinv", "grad_solve", "grad_svd", "norm_jvp",
                     "norm_vjp", "partial", "test", "wrap_namespace"},
    "numpy.random": {"test", "wrap_namespace"},
    "scipy.special": {"defjvp", "defvjp", "fwd_grad_logsumexp", "inv_root_pi", "make_gammainc_vjp_arg1",
                      "make_grad_logsumexp", "np", "primitive", "repeat_to_match_shape", "root_pi",
                      "unbroadcast_f"},
    "scipy.signal": {"as_strided", "compute_conv_size", "defvjp", "einsum_tensordot", "flipped_idxs",
                     "grad_convolve", "np", "npo", "parse_axes", "partial", "primitive"},
    "scipy.integrate": {"argnums_unpack", "defvjp_argnums", "flatten", "grad_odeint", "make_vjp", "np",
                        "primitive", "tuple"},
    "differential_operators": {"OrderedDict", "atuple", "defvjp_argnum", "np", "primitive",
                               "unary_to_nary", "vspace"},
    "test_util": {"get_name", "make_jvp", "make_numerical_jvp", "make_vjp", "product", "unary_to_nary",
                  "vspace"},
    "misc": set(), "misc.tracers": {"ConstGraphNode", "FullGraphNode", "Node", "full_graph", "partial",
                                    "repeat", "subvals", "toposort", "trace", "wraps", "const_graph_unary"},
    "misc.fixed_points": {"defvjp", "primitive", "vspace", "make_vjp", "tuple", "fixed_point_vjp"},
    "misc.optimizers": {"wraps", "flatten"}, "misc.flatten": {"make_vjp", "type"},
    "scipy": set(), "scipy.stats": set(),
}


@pytest.mark.parametrize("path", sorted(MODULE_INTERNALS))
def test_every_public_name_of_every_module_path(path):
    """Issue 14 item 7: the listed module paths hold every public name of autograd's."""
    theirs = importlib.import_module("autograd." + path)
    ours = importlib.import_module("chainrule.autograd." + path)
    # the modules autograd imports (numpy, scipy...) are not its API
    foreign = {n for n in public(theirs) if inspect.ismodule(getattr(theirs, n))
               and not getattr(theirs, n).__name__.startswith("autograd")}
    missing = public(theirs) - public(ours) - MODULE_INTERNALS[path] - foreign
    assert not missing, f"chainrule.autograd.{path} lacks {sorted(missing)}"


def test_numpy_submodules_are_autograds_paths():
    """``np.linalg`` of ``chainrule.autograd.numpy`` is ``chainrule.autograd.numpy.linalg`` (which
    has NumPy's names chainrule does not differentiate, as autograd's has), not chainrule.numpy's."""
    import chainrule.autograd.numpy.linalg as cla
    import chainrule.autograd.numpy.random as cra

    assert cnp.linalg is cla and cnp.random is cra
    d = np.diag([1.0, 2.0, 0.0])
    assert cnp.linalg.matrix_rank(d) == anp.linalg.matrix_rank(d) == 2
    np.testing.assert_allclose(cnp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1),
                               anp.linalg.tensorinv(np.eye(4).reshape(4, 2, 2), ind=1))
    with pytest.raises(AttributeError, match="no_such_name"):
        cnp.linalg.no_such_name  # noqa: B018


CONV_CASES = [((3,), (5,), {}), ((5,), (3,), {}), ((4,), (4,), {}), ((2, 3), (4, 5), {}),
              ((4, 5), (2, 3), {}),
              ((3, 2, 4, 4), (2, 3, 2, 2), {"axes": ([2, 3], [2, 3]), "dot_axes": ([1], [0])}),
              ((2, 3, 4), (5, 3), {"axes": ([2], [0]), "dot_axes": ([1], [1])}),
              ((3, 5), (4, 2), {"axes": ([1], [0])})]


@pytest.mark.parametrize("mode", ["full", "valid", "same"])
@pytest.mark.parametrize("k", range(len(CONV_CASES)))
def test_convolve_is_autograds_with_axes_and_dot_axes(k, mode):
    """autograd's ``convolve(A, B, axes, dot_axes, mode)`` (examples/convnet.py's layer): the same
    values as autograd's, and gradients in both inputs equal to autograd's."""
    from autograd.scipy.signal import convolve as theirs

    from chainrule.autograd.scipy.signal import convolve as ours

    sa, sb, kw = CONV_CASES[k]
    r = np.random.default_rng(k)
    A, B = r.standard_normal(sa), r.standard_normal(sb)
    want = theirs(A, B, mode=mode, **kw)
    got = ours(A, B, mode=mode, **kw)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    w = r.standard_normal(want.shape)
    ga = ag.grad(lambda a, b: anp.sum(theirs(a, b, mode=mode, **kw) * w), (0, 1))(A, B)
    gc = ca.grad(lambda a, b: cnp.sum(ours(a, b, mode=mode, **kw) * w), (0, 1))(A, B)
    for a, c in zip(ga, gc, strict=True):
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12)
    if k in (0, 5):
        from chainrule.autograd.test_util import check_grads

        check_grads(lambda a, b: ours(a, b, mode=mode, **kw), argnum=(0, 1))(A, B)


def test_convolve_errors():
    from chainrule.autograd.scipy.signal import convolve

    with pytest.raises(ValueError, match="mode 'wrap' undefined"):
        convolve(np.ones(3), np.ones(2), mode="wrap")
    with pytest.raises(ValueError, match="larger than the other along all"):
        convolve(np.ones((2, 5)), np.ones((3, 4)), mode="valid")


def test_const_graph_and_make_jvp_reversemode():
    from autograd.differential_operators import make_jvp_reversemode as theirs_jvp
    from autograd.misc import const_graph as theirs_cg

    from chainrule.autograd.differential_operators import make_jvp_reversemode
    from chainrule.autograd.misc import const_graph

    def f(x, y, scale=1.0):
        return scale * cnp.sum(cnp.sin(x) * y)

    def f_a(x, y, scale=1.0):
        return scale * anp.sum(anp.sin(x) * y)

    ours, theirs = const_graph(f, scale=2.0), theirs_cg(f_a, scale=2.0)
    for x in (x3, 2 * x3):  # the second call replays the recorded graph in both
        assert ours(x, 1.5) == pytest.approx(theirs(x, 1.5), rel=1e-13)
    np.testing.assert_allclose(ca.grad(ours)(x3, 1.5), ag.grad(f_a)(x3, 1.5, scale=2.0), rtol=1e-13)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(make_jvp_reversemode(lambda x: cnp.tanh(x) * x)(x3)(v),
                               theirs_jvp(lambda x: anp.tanh(x) * x)(x3)(v), rtol=1e-13)


def test_fixed_point_as_autograds():
    """autograd's examples/fixed_points.py: the values and the first and second derivatives in
    ``a`` are autograd's (the implicit function theorem, iterated to the same tolerance); ``a``
    may be a container; a jvp through it raises, as autograd defines no forward rule."""
    from autograd.misc.fixed_points import fixed_point as theirs

    from chainrule.autograd.misc.fixed_points import fixed_point as ours
    from chainrule.autograd.test_util import check_grads

    def sqrt_of(fp, np_):
        return lambda a: fp(lambda a: lambda x: x - 0.05 * (x**2 - a), a, 10.0,
                            lambda x, y: np_.abs(x - y), 1e-4)

    c, a = sqrt_of(ours, cnp), sqrt_of(theirs, anp)
    assert c(2.0) == pytest.approx(a(2.0), rel=1e-14)
    assert ca.grad(c)(2.0) == pytest.approx(ag.grad(a)(2.0), rel=1e-12)
    assert ca.grad(ca.grad(c))(2.0) == pytest.approx(ag.grad(ag.grad(a))(2.0), rel=1e-10)

    def newton(fp, np_):  # a = (scale, vector): x* = sqrt(scale * v) elementwise
        return lambda p: fp(lambda p: lambda x: 0.5 * (x + p[0] * p[1] / x), p, np_.ones(3),
                            lambda x, y: np_.max(np_.abs(x - y)), 1e-13)

    p = (1.5, np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(newton(ours, cnp)(p), np.sqrt(1.5 * p[1]), rtol=1e-12)
    for gc, ga in zip(ca.grad(lambda p: cnp.sum(newton(ours, cnp)(p) ** 2))(p),
                      ag.grad(lambda p: anp.sum(newton(theirs, anp)(p) ** 2))(p), strict=True):
        np.testing.assert_allclose(gc, ga, rtol=1e-10)
    check_grads(lambda s, v: newton(ours, cnp)((s, v)), argnum=(0, 1), modes=["rev"])(1.5, p[1])
    jac = ca.jacobian(lambda v: newton(ours, cnp)((1.5, v)))(p[1])  # batched cotangents
    np.testing.assert_allclose(jac, np.diag(0.5 * np.sqrt(1.5 / p[1])), rtol=1e-8)
    with pytest.raises(NoRuleError, match="fixed_point"):
        ca.deriv(lambda s: newton(ours, cnp)((s, p[1])))(1.5)
    # vmap: the examples iterate together; values and gradients as a loop gives them
    S, V = np.array([1.5, 2.0]), np.array([[1.0, 2.0, 4.0], [3.0, 1.0, 2.0]])
    np.testing.assert_allclose(cr.vmap(lambda s, v: newton(ours, cnp)((s, v)))(S, V), np.sqrt(S[:, None] * V),
                               rtol=1e-13)
    loss = ca.grad(lambda s, v: cnp.sum(newton(ours, cnp)((s, v)) ** 2), (0, 1))
    for got, want in zip(cr.vmap(loss)(S, V), zip(*[loss(S[i], V[i]) for i in range(2)]), strict=True):
        np.testing.assert_allclose(got, np.stack(want), rtol=1e-12)
    shared = ca.grad(lambda s: cnp.sum(cr.vmap(lambda v: newton(ours, cnp)((s, v)))(V)))(1.5)
    one = ca.grad(lambda s, v: cnp.sum(newton(ours, cnp)((s, v))))
    assert shared == pytest.approx(one(1.5, V[0]) + one(1.5, V[1]))


def test_autograd_style_rules_need_not_be_batch_polymorphic():
    """An autograd rule takes one cotangent (tangent) at a time (``np.full(x.shape, g)``);
    chainrule pushes batches through rules for jacobian/hessian/check_grads, so a rule defined
    through ``chainrule.autograd.extend`` is called once per row of a batch."""
    from chainrule.autograd.extend import def_linear, defjvp, defjvp_argnum, defvjp, defvjp_argnum, primitive
    from chainrule.autograd.test_util import check_grads

    A = np.arange(6.0).reshape(2, 3) - 2.0

    def one_at_a_time(g, ndim):
        assert np.ndim(g) == ndim, "the rule saw a batch"
        return g

    @primitive
    def lse(x):
        return np.log(np.sum(np.exp(x)))

    defvjp(lse, lambda ans, x: lambda g: cnp.full(x.shape, one_at_a_time(g, 0)) * cnp.exp(x - ans))
    defjvp(lse, lambda g, ans, x: cnp.sum(one_at_a_time(g, 1) * cnp.exp(x - ans)))
    x = np.array([0.3, -1.0, 2.0])
    want = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(ca.jacobian(lse)(x), want, rtol=1e-13)
    np.testing.assert_allclose(ca.hessian(lse)(x), np.diag(want) - np.outer(want, want), rtol=1e-12,
                               atol=1e-15)
    check_grads(lse)(x)

    @primitive
    def mat(x):
        return A @ x

    defvjp_argnum(mat, lambda argnum, ans, args, kw: lambda g: one_at_a_time(g, 1) @ A)
    defjvp_argnum(mat, lambda argnum, g, ans, args, kw: A @ one_at_a_time(g, 1))
    np.testing.assert_allclose(ca.jacobian(mat)(x), A)
    np.testing.assert_allclose(cr.jacfwd(mat)(x), A)

    @primitive
    def lin(x):
        assert np.ndim(x) == 1, "the primitive saw a batch"
        return A @ x

    def_linear(lin)
    np.testing.assert_allclose(cr.jacfwd(lin)(x), A)


def test_check_grads_recurses_as_autograds():
    """``modes=["rev"]`` checks reverse over reverse only (autograd's recursion), so a primitive
    with a VJP and no JVP passes, as autograd's examples/define_gradient.py needs."""
    from chainrule.autograd.extend import defvjp, primitive
    from chainrule.autograd.test_util import check_grads
    from chainrule.gradcheck import GradCheckError

    @primitive
    def lse(x):
        return np.log(np.sum(np.exp(x)))

    defvjp(lse, lambda ans, x: lambda g: cnp.full(x.shape, g) * cnp.exp(x - cnp.full(x.shape, ans)))
    check_grads(lambda y: cnp.sum(lse(y ** 2)), modes=["rev"])(x3)
    with pytest.raises(NoRuleError, match="lse"):
        check_grads(lambda y: cnp.sum(lse(y ** 2)), modes=["fwd"])(x3)
    with pytest.raises(ValueError, match="unknown mode"):
        check_grads(lse, modes=["bwd"])(x3)

    @primitive
    def wrong_second(x):  # a rule that is right but not differentiable: order 2 catches it
        return np.sin(x)

    defvjp(wrong_second, lambda ans, x: lambda g: g * cr.stop_gradient(cnp.cos(x)))
    check_grads(wrong_second, modes=["rev"], order=1)(0.7)
    with pytest.raises(GradCheckError):
        check_grads(wrong_second, modes=["rev"], order=2)(0.7)


def test_test_util_helpers():
    from chainrule.autograd import test_util as tu
    from chainrule.gradcheck import GradCheckError

    assert tu.scalar_close(1.0, 1.0 + 1e-9) and not tu.scalar_close(1.0, 1.1)
    tu.check_vjp(cnp.tanh, x3)
    tu.check_jvp(cnp.tanh, x3)
    tu.check_equivalent({"a": x3, "b": [1.0]}, {"a": x3 + 1e-12, "b": [1.0]})
    with pytest.raises(AssertionError, match="Value mismatch"):
        tu.check_equivalent(x3, x3 + 1.0)
    seen = []

    def f(x, y, power=1):
        seen.append((np.shape(x), power))
        return cnp.sin(x) ** power * y

    tu.combo_check(f, (0, 1), order=1)([x3, 0.3], [2.0], power=[1, 2])
    assert {(s, p) for s, p in seen} == {((3,), 1), ((3,), 2), ((), 1), ((), 2)}
    wrong = ca.primitive(lambda x: x ** 2)
    wrong.defvjp(lambda g, ans, x: g * 3 * x)
    with pytest.raises(GradCheckError):
        tu.check_vjp(wrong, 1.3)
    with pytest.raises(GradCheckError):
        tu.combo_check(wrong, modes=["rev"], order=1)([1.3])


x3 = np.array([0.3, -1.1, 0.7])


def both(name, *args, **kwargs):
    return getattr(ag, name)(*args, **kwargs), getattr(ca, name)(*args, **kwargs)


def test_operators_agree_with_autograd():
    f_a = lambda x, y: anp.sum(anp.sin(x) * y**2)  # noqa: E731
    f_c = lambda x, y: cnp.sum(cnp.sin(x) * y**2)  # noqa: E731
    y3 = np.array([1.0, 2.0, -0.5])
    for argnum in (0, 1, (0, 1)):
        ga, gc = ag.grad(f_a, argnum)(x3, y3), ca.grad(f_c, argnum)(x3, y3)
        for a, c in zip(
            ga if isinstance(argnum, tuple) else [ga], gc if isinstance(argnum, tuple) else [gc], strict=True
        ):
            np.testing.assert_allclose(c, a, rtol=1e-13)
    np.testing.assert_allclose(ca.deriv(cnp.tanh)(x3), ag.deriv(anp.tanh)(x3), rtol=1e-13)
    hvp_a, g_a = ag.make_hvp(lambda x: anp.sum(x**4))(x3)
    hvp_c, g_c = ca.make_hvp(lambda x: cnp.sum(x**4))(x3)
    np.testing.assert_allclose(g_c, g_a, rtol=1e-13)
    np.testing.assert_allclose(hvp_c(y3), hvp_a(y3), rtol=1e-13)
    np.testing.assert_allclose(
        ca.make_ggnvp(lambda x: cnp.tanh(x) * x)(x3)(y3),
        ag.make_ggnvp(lambda x: anp.tanh(x) * x)(x3)(y3),
        rtol=1e-12,
    )
    np.testing.assert_allclose(ca.grad_named(f_c, "y")(x3, y3), ag.grad_named(f_a, "y")(x3, y3), rtol=1e-13)
    np.testing.assert_allclose(
        ca.hessian_tensor_product(lambda x: cnp.sum(x**3))(x3, y3),
        ag.hessian_tensor_product(lambda x: anp.sum(x**3))(x3, y3),
        rtol=1e-13,
    )


def test_multigrad_dict():
    def f(a, b=2.0, *rest, scale=1.0):
        return scale * a * b**2

    got = ca.multigrad_dict(f)(3.0, 4.0, scale=0.5)
    assert list(got) == ["a", "b", "rest", "scale"]
    assert got["a"] == pytest.approx(0.5 * 16) and got["b"] == pytest.approx(0.5 * 3 * 8)
    assert got["scale"] == pytest.approx(48.0)


@pytest.mark.parametrize("vshape", [(2,), (2, 3)])
def test_tensor_jacobian_product_contraction(vshape):
    """autograd contracts v with the LEADING v.ndim axes of the output, so v may be smaller."""
    v = np.arange(1.0, 1.0 + np.prod(vshape)).reshape(vshape)
    a = ag.tensor_jacobian_product(lambda x: anp.stack([x, x**2]) * 1.5)(
        x3, v[..., :3] if len(vshape) == 2 else v
    )
    c = ca.tensor_jacobian_product(lambda x: cnp.stack([x, x**2]) * 1.5)(
        x3, v[..., :3] if len(vshape) == 2 else v
    )
    np.testing.assert_allclose(c, a, rtol=1e-13)


def test_size_one_output_is_a_scalar_as_in_autograd():
    """autograd's grad accepts an output with one element of any shape (JAX's does not)."""
    x = np.array([0.4])
    np.testing.assert_allclose(ca.grad(lambda x: cnp.sin(x))(x), ag.grad(lambda x: anp.sin(x))(x))
    v_c, g_c = ca.value_and_grad(lambda x: cnp.sin(x) * cnp.ones((1, 1)))(x)
    v_a, g_a = ag.value_and_grad(lambda x: anp.sin(x) * anp.ones((1, 1)))(x)
    assert np.shape(v_c) == np.shape(v_a) == (1, 1)
    np.testing.assert_allclose(g_c, g_a)
    with pytest.raises(TypeError, match="scalar output"):
        ca.grad(lambda x: x * 2)(np.ones(2))


def test_extend_and_test_util():
    from chainrule.autograd.extend import def_linear, notrace_primitive, primitive
    from chainrule.autograd.test_util import check_grads

    @primitive
    def scale(x, a):
        return a * x

    def_linear(scale)
    assert ca.deriv(lambda x: scale(x, 3.0))(2.0) == pytest.approx(3.0)
    assert ca.deriv(lambda a: scale(2.0, a))(3.0) == pytest.approx(2.0)
    shape = notrace_primitive(np.shape)
    np.testing.assert_allclose(ca.grad(lambda x: cnp.sum(x * shape(x)[0]))(x3), 3.0)
    check_grads(lambda x, y: cnp.sin(x) * y, modes=["rev"], order=1)(1.0, 2.0)
    check_grads(lambda x, y: cnp.sin(x) * y, argnum=(0, 1))(1.0, 2.0)
    from chainrule.gradcheck import GradCheckError

    @primitive
    def wrong(x):
        return x**2

    wrong.defvjp(lambda g, ans, x: g * 3 * x)
    with pytest.raises(GradCheckError):
        check_grads(wrong, modes=["rev"], order=1)(1.3)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_optimizers_on_nests(name):
    import autograd.misc.optimizers as ao

    import chainrule.autograd.misc.optimizers as co

    def objective(np_):
        return lambda p, i: np_.sum((p["w"] - 3.0) ** 2) + np_.sum(p["b"][0] ** 2) * (1 + i % 2)

    p0 = {"w": np.array([1.0, 2.0]), "b": [np.array(0.5)]}
    seen = []
    r_c = getattr(co, name)(
        ca.grad(objective(cnp)), p0, num_iters=15, callback=lambda x, i, g: seen.append(i)
    )
    r_a = getattr(ao, name)(ag.grad(objective(anp)), p0, num_iters=15)
    assert seen == list(range(15))
    np.testing.assert_allclose(r_c["w"], r_a["w"], rtol=1e-12)
    np.testing.assert_allclose(r_c["b"][0], r_a["b"][0], rtol=1e-12)


def test_flatten_round_trip_and_meta_gradient():
    from autograd.misc import flatten as aflatten

    from chainrule.autograd.misc import flatten

    nest = {"w": np.arange(6.0).reshape(2, 3), "b": [np.array(0.5), (np.array([1.0, 2.0]),)]}
    flat, unflatten = flatten(nest)
    np.testing.assert_array_equal(flat, aflatten(nest)[0])
    back = unflatten(flat)
    np.testing.assert_array_equal(back["w"], nest["w"])
    np.testing.assert_array_equal(back["b"][1][0], nest["b"][1][0])
    # differentiable through flatten/unflatten (autograd's use for meta-optimisation)
    g = ca.grad(lambda v: cnp.sum(unflatten(v)["w"] ** 2))(flat)
    np.testing.assert_allclose(g, np.concatenate([np.zeros(3), 2 * np.arange(6.0)]))  # autograd's order: b, w
    from chainrule.autograd.misc.flatten import flatten_func

    flat_f, unflat, flat_x = flatten_func(lambda p, k: {"y": p["w"] * k}, nest)
    np.testing.assert_allclose(flat_f(flat_x, 2.0), 2 * np.arange(6.0))


README_TANH = """
import autograd.numpy as np
from autograd import grad, elementwise_grad as egrad

def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)

grad_tanh = grad(tanh)
result = [grad_tanh(1.0), (tanh(1.0001) - tanh(0.9999)) / 0.0002]
x = np.linspace(-7, 7, 50)
result += [egrad(tanh)(x), egrad(egrad(tanh))(x), egrad(egrad(egrad(tanh)))(x)]
"""

TUTORIAL_LOGISTIC = """
import autograd.numpy as np
from autograd import grad

def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.) + 1)

def logistic_predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))

def training_loss(weights):
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))

inputs = np.array([[0.52, 1.12,  0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])
training_gradient_fun = grad(training_loss)
weights = np.array([0.0, 0.0, 0.0])
losses = []
for i in range(100):
    weights -= training_gradient_fun(weights) * 0.01
    losses.append(training_loss(weights))
result = [weights, np.array(losses)]
"""

TUTORIAL_NN = """
import autograd.numpy as np
import autograd.numpy.random as npr
from autograd import grad
from autograd.misc.optimizers import adam
from autograd.scipy.special import logsumexp

def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    return [(scale * rs.randn(m, n), scale * rs.randn(n)) for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]

def neural_net_predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)

def objective(params, iter):
    return -np.sum(neural_net_predict(params, X) * Y)

rs = npr.RandomState(1)
X = rs.randn(20, 4)
Y = np.eye(3)[rs.randint(0, 3, size=20)]
params = init_random_params(0.1, [4, 5, 3])
trained = adam(grad(objective), params, step_size=0.05, num_iters=30)
result = [w for layer in trained for w in layer] + [np.array(objective(trained, 0))]
"""


@pytest.mark.parametrize("program", [README_TANH, TUTORIAL_LOGISTIC, TUTORIAL_NN])
def test_programs_run_unchanged_with_the_import_changed(program):
    theirs, ours = {}, {}
    exec(program, theirs)  # noqa: S102 - autograd's own example programs, verbatim
    exec(program.replace("autograd", "chainrule.autograd"), ours)  # noqa: S102
    for a, c in zip(theirs["result"], ours["result"], strict=True):
        np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-12)


def test_builtins_see_through_traced_values_as_autograd_does():
    import autograd.builtins as ab

    import chainrule.autograd.builtins as cb

    seen = {}

    def probe(b, key):
        def f(x):
            seen[key] = (
                b.isinstance(x, np.ndarray),
                b.type(x),
                b.isinstance(x, float),
                isinstance(x, np.ndarray),
            )
            return b.tuple((x, x))[0].sum() + b.dict(a=x)["a"].sum() + b.list([x])[0].sum()

        return f

    g_a = ag.grad(probe(ab, "autograd"))(np.ones(2))
    g_c = ca.grad(probe(cb, "chainrule"))(np.ones(2))
    np.testing.assert_allclose(g_c, g_a)
    assert seen["chainrule"] == seen["autograd"] == (True, np.ndarray, False, False)
    assert cb.type("K", (), {}).__name__ == "K"
