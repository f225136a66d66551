"""jit: a staged program must give what the eager call gives, for every input of its signature."""

import gc
import math
import os
import threading
import warnings

import numpy as np
import pytest
from helpers import fuse_everything
from test_random_programs import on_random_programs

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.compile import fusion, staging
from chainrule.core.errors import TracerEscapeError


def rosenbrock(x):
    return cnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def twice(fn, *args, **kwargs):
    """The staging call's result and the program's (the second call runs the program)."""
    return fn(*args, **kwargs), fn(*args, **kwargs)


@on_random_programs(40)
def test_random_programs_jit_gradient_and_hvp_equal_eager(f, xs, steps, rng):
    argnums = tuple(range(len(xs)))
    scalar = lambda *a: cnp.sum(f(*a))  # noqa: E731
    vg = cr.value_and_grad(scalar, argnums=argnums)
    hv = lambda x, v: cr.hvp(lambda t: scalar(*t), x, v)  # noqa: E731
    v = tuple(rng.standard_normal(np.shape(x)) for x in xs)
    want_vg, want_hv = vg(*xs), hv(tuple(xs), v)
    for fuse in (False, True):
        with fuse_everything(), warnings.catch_warnings():
            warnings.simplefilter("error", cr.JitFallbackWarning)
            for got in twice(cr.jit(vg, fuse=fuse), *xs):
                np.testing.assert_allclose(got[0], want_vg[0], rtol=1e-12, atol=1e-14)
                for a, b in zip(got[1], want_vg[1], strict=True):
                    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
            for got in twice(cr.jit(hv, fuse=fuse), tuple(xs), v):
                for a, b in zip(got, want_hv, strict=True):
                    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_rosenbrock_hvp_is_one_fused_loop_and_one_scatter():
    pytest.importorskip("numba")
    rng = np.random.default_rng(0)
    x, v = rng.uniform(-1.5, 1.5, 10_000), rng.standard_normal(10_000)
    hvp = cr.jit(lambda x, v: cr.hvp(rosenbrock, x, v))
    want = cr.hvp(rosenbrock, x, v)
    for got in twice(hvp, x, v):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-10)
    program = hvp.lower(x, v)
    names = [e.prim.name for e in program.eqns]
    assert sum(n.startswith("fused_") for n in names) == 1
    assert names.count("scatter_sum") == 1 and "scatter_add" not in names
    assert len(program.kernels) == 1 and "for i0 in range" in program.kernels[0]
    # a new point of the same signature runs the same program
    x2 = rng.uniform(-1.5, 1.5, 10_000)
    np.testing.assert_allclose(hvp(x2, v), cr.hvp(rosenbrock, x2, v), rtol=1e-13, atol=1e-10)
    assert hvp.cache_info() == {"programs": 1, "eager": 0}


def test_jit_hessian_equals_eager_and_central_differences():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 30)) / 5

    def energy(x):
        return cnp.sum(cnp.tanh(A @ x) ** 2) + 0.25 * cnp.sum(x ** 4)

    x = rng.standard_normal(30)
    H = cr.jit(cr.hessian(energy))
    want = cr.hessian(energy)(x)
    for got in twice(H, x):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    g = cr.grad(energy)
    eps = 1e-6
    fd = np.stack([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(30)], axis=1)
    np.testing.assert_allclose(H(x), fd, rtol=1e-6, atol=1e-7)


def test_value_dependent_control_flow_runs_eagerly_with_a_warning():
    def f(x):
        return x ** 2 if cnp.sum(x) > 0 else -x

    jf = cr.jit(cr.grad(lambda x: cnp.sum(f(x))))
    with pytest.warns(cr.JitFallbackWarning, match="reads the value"):
        g_pos = jf(np.array([1.0, 2.0]))
    np.testing.assert_allclose(g_pos, [2.0, 4.0])
    # same signature, other branch: the eager run picks it, nothing is baked in
    np.testing.assert_allclose(jf(np.array([-1.0, -2.0])), [-1.0, -1.0])
    assert jf.cache_info() == {"programs": 0, "eager": 1}


def test_static_argnums_stage_once_per_value():
    def f(x, n):
        return cnp.sum(x ** n)

    jf = cr.jit(cr.grad(f), static_argnums=1)
    x = np.array([1.0, 2.0, 3.0])
    for n in (2, 3, 2):
        np.testing.assert_allclose(jf(x, n), n * x ** (n - 1))
    assert jf.cache_info()["programs"] == 2
    with pytest.raises(TypeError, match="hashable"):
        jf(x, [2])
    with pytest.raises(TypeError, match="static_argnums"):  # an object is no array leaf
        cr.jit(lambda x, obj: x * 2.0)(x, object())
    with pytest.raises(ValueError, match="out of range"):
        cr.jit(f, static_argnums=5)(x, 2)


def test_pytrees_keywords_and_python_scalars():
    def loss(params, x, scale=1.0):
        return scale * cnp.sum(cnp.tanh(params["W"] @ x + params["b"]) ** 2)

    rng = np.random.default_rng(2)
    params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
    x = rng.standard_normal(4)
    jg = cr.jit(cr.grad(loss))
    want = cr.grad(loss)(params, x, scale=2.5)
    for got in twice(jg, params, x, scale=2.5):
        assert set(got) == {"W", "b"}
        for k in got:
            np.testing.assert_allclose(got[k], want[k], rtol=1e-13)
    # the scalar is an input, not a constant: a new value gives a new result from the same program
    np.testing.assert_allclose(jg(params, x, scale=5.0)["b"], 2 * want["b"], rtol=1e-13)
    assert jg.cache_info()["programs"] == 1
    # another shape is another signature
    jg({"W": rng.standard_normal((2, 4)), "b": rng.standard_normal(2)}, x, scale=1.0)
    assert jg.cache_info()["programs"] == 2


def test_outputs_never_alias_inputs_or_constants():
    table = np.arange(3.0)
    jf = cr.jit(lambda x: (x, table, x * 2.0))
    x = np.ones(3)
    jf(x)
    ident, const, _ = jf(x)
    assert ident is not x and not np.shares_memory(ident, x)
    const[:] = -1.0
    np.testing.assert_array_equal(jf(x)[1], [0.0, 1.0, 2.0])


def test_jit_inside_a_transform_runs_eagerly():
    jf = cr.jit(lambda x: cnp.sin(x) * x)
    x = np.linspace(0.1, 1.0, 5)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(jf(x)))(x), np.cos(x) * x + np.sin(x))
    # a jitted function that closes over a value traced outside it cannot be staged
    with pytest.warns(cr.JitFallbackWarning, match="enclosing transform"):
        g = cr.grad(lambda y: cnp.sum(cr.jit(lambda x: x * y)(x)))(2.0)
    np.testing.assert_allclose(g, x.sum())


def test_shared_subexpressions_keep_signed_zeros_apart():
    jf = cr.jit(lambda x: (x * 0.0, x * -0.0))
    x = np.array([1.0, 2.0])
    for a, b in twice(jf, x):
        assert not np.signbit(a).any() and np.signbit(b).all()


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("literal_first", [False, True])
def test_a_constant_equal_to_a_variable_number_is_another_operand(k, literal_first):
    """Repeated operations run once, keyed by their operands: the literal ``k`` and the
    program's variable number ``k`` are different operands (they once shared a key, and
    jit(grad) of ``abs(maximum(x, x))`` mixed ``x > x`` with ``x > 0``: 3.5 instead of 1.5)."""
    def f(x):
        v = x
        for _ in range(k):  # v is variable k of the program (the input is variable 0)
            v = v + 1.0
        pair = (cnp.multiply(x, k), cnp.multiply(x, v))
        pair = (cnp.multiply(x, v), cnp.multiply(x, k)) if not literal_first else pair
        return pair[0] - 2.0 * pair[1]
    x = np.array([2.0, 3.0])
    want = f(x)
    for got in twice(cr.jit(f, fuse=False), x):
        np.testing.assert_array_equal(got, want)
    h = lambda x: cnp.sum(cnp.abs(cnp.maximum(x, x)) + ((x > 0) & (x < 0.5)))  # noqa: E731
    for got in twice(cr.jit(cr.grad(h), fuse=False), np.array(0.46)):
        assert got == cr.grad(h)(np.array(0.46)) == 1.0


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
def test_steps_on_arrays_call_the_ufunc_their_primitive_calls():
    """A program calls ARRAY_UFUNCS[prim] where an operand is an array of one or more
    dimensions: that must be what the primitive's implementation computes there (values,
    dtypes, weak Python scalars), and a step whose operands may be scalars keeps the
    implementation."""
    rng = np.random.default_rng(0)
    operands = [rng.uniform(1.0, 2.0, 5), rng.uniform(1.0, 2.0, (2, 5)).astype(np.float32),
                np.arange(1, 6), np.array(3.0), 2.5, 3, np.float64(1.5), np.float32(2.0),
                np.array([True, False, True, True, False])]
    for prim, ufunc in staging.ARRAY_UFUNCS.items():
        for x in operands:  # (a bool array divides by zero: both give inf and nan alike)
            for y in operands:
                if np.ndim(x) == 0 and np.ndim(y) == 0:
                    continue
                try:
                    want = prim.impl(x, y)
                except TypeError as err:  # bool subtract: both refuse it alike
                    with pytest.raises(type(err)):
                        ufunc(x, y)
                    continue
                got = ufunc(x, y)
                assert type(got) is type(want) and got.dtype == want.dtype, (prim, x, y)
                np.testing.assert_array_equal(got, want)
    f = cr.jit(lambda x, s: (x * 2.0 + s, s * 2.0), fuse=False)
    x = np.ones(3)
    for got in twice(f, x, np.float64(1.5)):
        np.testing.assert_array_equal(got[0], np.full(3, 3.5))
        assert type(got[1]) is np.float64 and got[1] == 3.0
    source = f.lower(x, np.float64(1.5)).source
    assert "np_multiply(v0, 2.0)" in source and "= multiply(v1, 2.0)" in source


@pytest.mark.parametrize("cuts, joined", [
    ((slice(0, 2), slice(2, 5), slice(5, 8)), True),  # a split: the pieces tile x
    ((slice(5, 8), slice(0, 2), slice(2, 5)), True),  # in any order
    ((slice(0, 2), slice(3, 5), slice(5, 8)), False),  # a gap: x[2] gets no cotangent
    ((slice(0, 4), slice(3, 5), slice(5, 8)), False),  # an overlap: x[3] gets two
    ((slice(0, 2), slice(2, 8, 2), slice(5, 8)), False),  # a strided piece
])
def test_scattered_pieces_that_tile_the_gradient_are_joined(cuts, joined):
    """The cotangents of pieces of one array are scattered into zeros and added; where the
    pieces tile it, the program concatenates them instead (join_tiles), with the eager
    numbers bit for bit: -0.0 becomes 0.0 as when it is added to a zero."""
    def f(x):
        a, b, c = (x[k] for k in cuts)
        return cnp.sum(a * a) + cnp.sum(b * b * -0.0) + cnp.sum(c ** 3)
    x = np.linspace(-1.0, 1.0, 8)
    want = cr.grad(f)(x)
    jf = cr.jit(cr.grad(f))
    for got in twice(jf, x):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert not np.signbit(want[want == 0]).any()  # the -0.0 of b's cotangent, added to a zero
    source = jf.lower(x).source
    assert ("join_tiles" in source) == joined and ("scatter_sum" in source) != joined, source


def test_constants_with_equal_contents_are_one_constant():
    """Code that computes a constant from a constant makes a new array at each use
    (``p.T``); staging keeps one copy per content (type, shape, dtype, bytes), so what is
    computed from them is found repeated: a cost and its gradient share one product. Equal
    bytes of another shape or dtype, or -0.0 against 0.0, stay different constants."""
    p = np.random.default_rng(0).random((50, 3))
    f = lambda c: cnp.sum(cnp.min(c @ p.T, 0))  # noqa: E731
    both = lambda c: (f(c), cr.grad(f)(c))  # noqa: E731
    c = np.random.default_rng(1).random((4, 3))
    jf = cr.jit(both)
    for got in twice(jf, c):
        for g, w in zip(got, both(c), strict=True):
            np.testing.assert_array_equal(g, w)
    # the forward product once (the cost's and the gradient's), the backward one once
    assert jf.lower(c).source.count("matmul(") == 2
    zeros = np.zeros(4)
    g = lambda x: (x + np.array([0.0, 0.0]), x + np.array([-0.0, -0.0]),  # noqa: E731
                   x * zeros[:2], x * zeros.reshape(2, 2), x * zeros.astype(np.float32)[:2])
    x = np.array([-0.0, 1.0])
    jg = cr.jit(g, fuse=False)
    for got in twice(jg, x):
        for a, b in zip(got, g(x), strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype and (np.signbit(a) == np.signbit(b)).all()


def test_rows_columns_and_nan_tests_join_fused_loops():
    """An operand that broadcasts along existing axes (a row, a column, a constant row) is
    read inside the loop at index 0 on its axes of length 1, and isnan/isinf/isfinite fuse:
    the tie mask of a min's gradient over a matrix is one loop, with eager's numbers."""
    pytest.importorskip("numba")
    row = np.linspace(0.5, 1.5, 7)[None, :]

    def f(col, x):
        d = (x - col) * 2.0 + row  # a column and a constant row against a matrix
        m = cnp.min(d, axis=0, keepdims=True)
        mask = (d == m) | (cnp.isnan(d) & cnp.isnan(m)) | cnp.isinf(d * col)
        return cnp.where(mask, d / m, 0.0) + cnp.isfinite(row)
    rng = np.random.default_rng(3)
    col, x = rng.random((5, 1)), rng.random((5, 7))
    x[2, 3] = np.nan
    with fuse_everything():
        jf = cr.jit(f)
        for got in twice(jf, col, x):
            np.testing.assert_array_equal(got, f(col, x))
        program = jf.lower(col, x)
    # the matrix's operations: two loops (the min between them); the row's isnan stays alone
    assert len(program.kernels) == 2 and len(program.eqns) == 4, program
    loops = "".join(program.kernels)
    assert "np.isnan(x0)" in loops and "np.isinf(" in loops
    assert "[0, i1]" in loops and "[i0, 0]" in loops  # a row and a column read in the loop


def test_a_broadcast_row_and_a_transcendental_never_share_a_loop():
    """NumPy's SIMD tanh/exp beat a compiled loop's scalar libm calls about 2x, so a loop that
    reads a broadcast row or column takes no transcendental op (the MLP's tanh(W x + b) under
    jit ran 1.6x slower when it did); same-shape loops with them, and rows with arithmetic,
    still fuse."""
    pytest.importorskip("numba")
    row = np.linspace(0.5, 1.5, 7)[None, :]

    def f(x, y):
        z = (x + row) * 2.0             # a row: one loop
        return np.tanh(z) * y + np.exp(y) * y  # same-shape transcendental arithmetic: another
    rng = np.random.default_rng(4)
    x, y = rng.random((5, 7)), rng.random((5, 7))
    with fuse_everything():
        jf = cr.jit(f)
        for got in twice(jf, x, y):
            np.testing.assert_allclose(got, f(x, y), rtol=1e-15)
        program = jf.lower(x, y)
    assert len(program.kernels) == 2, program
    for loop in program.kernels:
        assert not ("[0, i1]" in loop and ("np.tanh(" in loop or "np.exp(" in loop)), loop
    assert any("[0, i1]" in loop for loop in program.kernels)
    assert any("np.tanh(" in loop and "np.exp(" in loop for loop in program.kernels)


def test_fused_loops_with_comparisons_and_where():
    pytest.importorskip("numba")

    def leaky(x):
        return cnp.sum(cnp.where(x > 0, x, 0.1 * x) ** 2 + cnp.maximum(x, 0.5))

    x = np.linspace(-2.0, 2.0, 50)
    with fuse_everything():
        jg = cr.jit(cr.grad(leaky))
        for got in twice(jg, x):
            np.testing.assert_allclose(got, cr.grad(leaky)(x), rtol=1e-14)
        assert jg.lower(x).kernels


def test_loop_numba_cannot_compile_falls_back_to_numpy(monkeypatch):
    numba = pytest.importorskip("numba")

    def broken_njit(**options):
        def wrap(fn):
            def run(*args):
                raise numba.core.errors.TypingError("refused for this test")
            return run
        return wrap

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(fusion, "_kernels", {})  # the refused loops stay out of the shared table
    f = lambda x: cnp.sum(cnp.exp(x) * x - x)  # noqa: E731
    x = np.linspace(0.0, 1.0, 20)
    with fuse_everything():
        jg = cr.jit(cr.grad(f))
        for got in twice(jg, x):
            np.testing.assert_allclose(got, cr.grad(f)(x), rtol=1e-14)


def test_program_source_is_the_glass_box():
    x = np.linspace(0.0, 1.0, 8)
    program = cr.jit(cr.grad(lambda x: cnp.sum(cnp.tanh(x) ** 2)), fuse=False).lower(x)
    assert program.source.startswith("def program(v0):")
    assert "= tanh(v0)" in program.source and "del " in program.source
    assert not program.kernels
    assert "operations>" in repr(program)


def test_fancy_and_single_element_index_scatters_stay_exact():
    idx = np.array([0, 0, 2])
    f = lambda x: cnp.sum(x[idx] ** 2) + cnp.sum(x[1:] * x[:-1]) + x[3] * x[2] ** 3  # noqa: E731
    x = np.array([1.0, 2.0, 3.0, 4.0])
    with fuse_everything():
        for got in twice(cr.jit(lambda x, v: cr.hvp(f, x, v)), x, np.ones(4)):
            np.testing.assert_allclose(got, cr.hvp(f, x, np.ones(4)), rtol=1e-14)


def _workloads():
    from chainrule.scipy.special import logsumexp

    rng = np.random.default_rng(3)
    X, T = rng.standard_normal((20, 5)), np.eye(3)[rng.integers(0, 3, 20)]
    W1, W2 = rng.standard_normal((5, 8)), rng.standard_normal((8, 3))

    def xent(params):
        z = cnp.tanh(X @ params[0]) @ params[1]
        return cnp.mean(logsumexp(z, axis=1) - cnp.sum(z * T, axis=1))

    spd = lambda a: a @ a.T + np.eye(5)  # noqa: E731
    return {
        "cross-entropy (logsumexp shift)": (cr.grad(xent), ((W1, W2),)),
        "softmax": (cr.grad(lambda z: cnp.sum(cnp.exp(z - logsumexp(z, axis=1, keepdims=True)) ** 2)),
                    (X,)),
        "max/min with ties": (cr.grad(lambda x: cnp.max(cnp.round(x), axis=0).sum() + cnp.min(x)), (X,)),
        "norm (zero test)": (cr.grad(lambda x: cnp.linalg.norm(x) + cnp.linalg.norm(x, axis=1).sum()),
                             (X,)),
        "prod/cumprod (zero test)": (cr.grad(lambda x: cnp.prod(x[:3], axis=0).sum()
                                             + cnp.cumprod(x[0]).sum()), (X,)),
        "zeros_like/ones_like/full_like": (cr.grad(lambda x: cnp.sum(cnp.zeros_like(x) + x * cnp.ones_like(x))
                                                   + cnp.sum(cnp.full_like(x, 2.0) * x)), (X,)),
        "astype": (cr.grad(lambda x: cnp.sum(x.astype(np.float32).astype(float) ** 2)
                           + cnp.sum((x > 0).astype(float) * x)), (X,)),
        "relu/abs/clip": (cr.grad(lambda x: cnp.sum(cnp.maximum(x, 0) + cnp.abs(x)
                                                    + cnp.clip(x, -0.5, 0.5))), (X,)),
        "var/std/mean": (cr.grad(lambda x: cnp.var(x) + cnp.std(x, axis=0).sum() + cnp.mean(x ** 2)),
                         (X,)),
        "stop_gradient": (cr.grad(lambda x: cnp.sum(x * cr.stop_gradient(x))), (X,)),
        "concatenate/stack": (cr.grad(lambda x: cnp.sum(cnp.concatenate([x, x ** 2]))
                                      * cnp.stack([x, x]).sum()), (X,)),
        "slogdet/solve": (cr.grad(lambda a: cnp.linalg.slogdet(spd(a))[1]
                                  + cnp.sum(cnp.linalg.solve(spd(a), np.ones(5)))), (X[:5],)),
        "jacobian": (cr.jacobian(lambda x: cnp.tanh(W1.T @ x)), (X[0],)),
        "nn.softmax_cross_entropy": (cr.grad(lambda z: nn.softmax_cross_entropy(z, T)), (X[:, :3],)),
    }


@pytest.mark.parametrize("name", list(_workloads()))
def test_common_workloads_stage_without_reading_values(name):
    # rules that need only shapes, dtypes or constant masks must not read a staged value:
    # each of these stages (no eager fallback) and equals the eager result
    fn, args = _workloads()[name]
    want = fn(*args)
    jf = cr.jit(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.JitFallbackWarning)
        for got in twice(jf, *args):
            for a, b in zip(cr.tree_leaves(got), cr.tree_leaves(want), strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert jf.cache_info() == {"programs": 1, "eager": 0}


def test_without_numba_jit_replays_unfused(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    x, v = np.linspace(-1.0, 1.0, 5000), np.ones(5000)
    hvp = cr.jit(lambda x, v: cr.hvp(rosenbrock, x, v))
    for got in twice(hvp, x, v):
        np.testing.assert_allclose(got, cr.hvp(rosenbrock, x, v), rtol=1e-13)
    program = hvp.lower(x, v)
    assert not program.kernels and "scatter_sum" in program.source


def test_python_numbers_stay_weakly_typed():
    # NumPy promotes float32 * 2.5 to float32 but float32 * array(2.5) to float64: a Python
    # number argument must reach the program as a Python number
    jf = cr.jit(lambda x, s: x * s + 1.0)
    x = np.ones(3, dtype=np.float32)
    for got in twice(jf, x, 2.5):
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, [3.5, 3.5, 3.5])
    np.testing.assert_array_equal(jf(x, 0.5), [1.5, 1.5, 1.5])
    assert jf.cache_info()["programs"] == 1


def test_a_staged_value_kept_after_its_call_raises():
    kept = []

    def f(x):
        kept.append(x * 2.0)
        return x + 1.0

    cr.jit(f)(np.ones(3))
    with pytest.raises(TracerEscapeError, match="earlier call"):
        kept[0] + 1.0
    with pytest.raises(TracerEscapeError, match="earlier call"):
        bool(kept[0][0] > 0)


def test_integer_cast_of_a_traced_scalar_is_a_constant():
    g = cr.grad(lambda x: (x * 1.0).astype(int) * x)
    assert g(2.5) == 2.0
    for got in twice(cr.jit(g), 2.5):
        assert got == 2.0


@pytest.mark.parametrize("n", [12, 6000])  # unfused and fused (constants become loop literals)
def test_closed_over_arrays_are_constants_copied_at_staging(n):
    # JAX's semantics: the program holds the values its closure had when it was staged; an
    # in-place change afterwards reaches no part of it (operands, all-equal arrays folded into
    # a fused loop, index arrays, returned constants, values computed from them while staging)
    rng = np.random.default_rng(4)
    A, ones, B = rng.standard_normal(n), np.ones(n), rng.standard_normal(n)
    idx = rng.integers(0, n, n)

    def f(x):
        return (x * A + ones * x ** 2 + x[idx] * B + float(np.sum(A)), B)

    x = rng.standard_normal(n)
    want = [np.copy(w) for w in f(x)]  # f returns B itself
    grad_f = cr.grad(lambda x: cnp.sum(f(x)[0]))
    want_g = grad_f(x)
    jf, jg = cr.jit(f), cr.jit(grad_f)
    jf(x), jg(x)  # staged
    A[:], ones[:], B[:], idx[:] = 5.0, 3.0, -1.0, 0
    for got in twice(jf, x):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-13)
    for got in twice(jg, x):
        np.testing.assert_allclose(got, want_g, rtol=1e-13)
    # the changed values are what a new jit (or an argument) sees
    np.testing.assert_allclose(cr.jit(f)(x)[0], f(x)[0], rtol=1e-13)


def _data_reads():
    """Programs that read a staged value as data: a size, an index, a Python number, a plain
    array, a data-dependent shape. Each must run eagerly with a JitFallbackWarning."""
    return {
        "np.ones(n), n an argument": (lambda x, n: x[:n] * np.ones(n), 3),
        "range(n)": (lambda x, n: sum(x[i] for i in range(n)), 3),
        "np.arange(n) and a slice": (lambda x, n: x[:n] * np.arange(n), 3),
        "np.zeros((n, 2))": (lambda x, n: np.zeros((n, 2)) + x[0], 2),
        "reshape(n, -1)": (lambda x, n: x[:6].reshape(n, -1), 3),
        "a list index": (lambda x, n: [1.0, 2.0, 3.0, 4.0][n] * x, 3),
        "a count as a size": (lambda x: np.ones(cnp.sum(x > 0)), None),
        "x[np.where(x > 0)]": (lambda x: x[np.where(x > 0)], None),
        "x[np.nonzero(x)]": (lambda x: x[np.nonzero(x > 0)], None),
        "x[mask]": (lambda x: x[x > 0] * 2.0, None),
        "int()": (lambda x: x * int(cnp.sum(x > 0)), None),
        "float()": (lambda x: x * float(cnp.sum(x)), None),
        "round()": (lambda x: x * round(cnp.sum(x)), None),
        ".item()": (lambda x: x * cnp.sum(x).item(), None),
        ".tolist()": (lambda x: x * len(x.tolist()), None),
        "np.asarray": (lambda x: x * np.asarray(x).sum(), None),
        "a format string": (lambda x: x * len(f"{cnp.sum(x):.3f}"), None),
        "np.array of a list": (lambda x: x * np.array([cnp.sum(x), 1.0]).sum(), None),
        "math.exp": (lambda x: x * math.exp(cnp.sum(x)), None),
        "assignment into an ndarray": (lambda x: _filled(np.zeros(2), cnp.sum(x)), None),
    }


def _filled(a, value):
    a[0] = value
    return a


@pytest.mark.parametrize("name", list(_data_reads()))
def test_reading_a_staged_value_as_data_runs_eagerly_with_a_warning(name):
    f, n = _data_reads()[name]
    args = (np.linspace(-1.0, 1.5, 8),) + (() if n is None else (n,))
    other = (np.linspace(-3.0, 0.5, 8),) + (() if n is None else (n - 1,))
    jf = cr.jit(f)
    with pytest.warns(cr.JitFallbackWarning, match="reads the value") as caught:
        got = jf(*args)
    np.testing.assert_array_equal(got, f(*args))
    # the warning names the line of this file that read it, not a line inside the library
    assert f"{os.path.basename(__file__)}:" in str(caught[0].message), str(caught[0].message)
    # nothing was baked in: another input of the same signature gives its own result
    with warnings.catch_warnings():
        warnings.simplefilter("error", cr.JitFallbackWarning)
        np.testing.assert_array_equal(jf(*other), f(*other))
    assert jf.cache_info()["eager"] == 1


def test_derivative_traces_inside_jit_still_refuse_to_drop_a_derivative():
    # jit reads staged data eagerly; grad's own boxes inside it must still raise, as eagerly
    f = cr.grad(lambda x: int(cnp.sum(x)) * cnp.sum(x))
    with pytest.raises(TracerEscapeError):
        f(np.ones(3))
    with pytest.raises(TracerEscapeError):
        cr.jit(f)(np.ones(3))


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _short_lived(k, n=5000):
    A = np.full(n, float(k))  # other constants, other closures: the same loops
    return cr.jit(cr.grad(lambda x: cnp.sum(cnp.tanh(x * A) ** 2 + k * x)))


def test_identical_fused_loops_share_one_compiled_kernel():
    pytest.importorskip("numba")
    x = np.linspace(-1.0, 1.0, 5000)
    first = _short_lived(0)
    first(x)
    first(x)
    before = len(fusion._kernels)
    for k, n in ((1, 5000), (2.5, 5000), (3, 7000)):  # other constants and another shape
        xs = np.linspace(-1.0, 1.0, n)
        f = _short_lived(k, n)
        want = 2 * np.tanh(xs * k) * (1 - np.tanh(xs * k) ** 2) * k + k
        for got in twice(f, xs):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        assert f.lower(xs).kernels
    assert len(fusion._kernels) == before


def test_memory_stays_flat_while_building_short_lived_jitted_functions():
    pytest.importorskip("numba")
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("reads the resident set size from /proc")
    x = np.linspace(-1.0, 1.0, 5000)
    for k in range(3):  # Numba's own start-up, the first compilation
        f = _short_lived(k)
        f(x), f(x)
    gc.collect()
    start = _rss_mib()
    for k in range(100):
        f = _short_lived(k)
        f(x), f(x)
    del f
    gc.collect()
    # each used to compile its own loops (about 1 MiB each, never freed): ~100 MiB here
    assert _rss_mib() - start < 16


def test_program_cache_is_bounded_per_jitted_function(monkeypatch):
    monkeypatch.setattr(staging, "PROGRAM_CACHE_SIZE", 3)
    jf = cr.jit(lambda x: cnp.sin(x) * 2.0)
    for n in (1, 2, 3, 4, 5, 1):  # the first shape is dropped, then staged again
        x = np.linspace(0.0, 1.0, n)
        for got in twice(jf, x):
            np.testing.assert_allclose(got, np.sin(x) * 2.0, rtol=1e-15)
        assert jf.cache_info()["programs"] <= 3
    assert jf.cache_info()["programs"] == 3


def test_past_the_compiled_loop_limit_loops_run_unfused(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(fusion, "KERNEL_LIMIT", len(fusion._kernels))
    monkeypatch.setattr(fusion, "_limit_warned", [])
    f = lambda x: cnp.cosh(x) * 3.0 - cnp.arcsinh(x) / 7.0  # noqa: E731 (a loop no test compiles)
    x = np.linspace(-1.0, 1.0, 50)
    with fuse_everything():
        jf = cr.jit(f)
        with pytest.warns(RuntimeWarning, match="distinct fused loops"):
            got = twice(jf, x)
        for g in got:
            np.testing.assert_allclose(g, f(x), rtol=1e-15)
        assert not jf.lower(x).kernels


def test_list_operands_stay_outside_fused_loops_and_the_rest_still_fuses():
    pytest.importorskip("numba")
    f = lambda x: (x + [1.0, 2.0, 3.0, 4.0]) * 2.0 + x * 3  # noqa: E731
    x = np.linspace(-1.0, 1.0, 4)
    with fuse_everything():
        jf = cr.jit(f)
        for got in twice(jf, x):
            np.testing.assert_array_equal(got, f(x))
        program = jf.lower(x)
    assert len(program.kernels) == 1 and "= np_add(v0, c" in program.source


def test_when_numba_refuses_a_loop_zero_d_operands_keep_their_dtype(monkeypatch):
    # NumPy: float32 array * 0-d float64 array is float64 (a 0-d array is not weakly typed);
    # the NumPy fallback of a refused loop must see the 0-d array, not a Python float
    numba = pytest.importorskip("numba")

    def broken_njit(**options):
        def wrap(fn):
            def run(*args):
                raise numba.core.errors.TypingError("refused for this test")
            return run
        return wrap

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(fusion, "_kernels", {})
    f = lambda x, s: cnp.sin(x) * s + x  # noqa: E731
    x, s = np.linspace(0.0, 1.0, 20, dtype=np.float32), np.array(2.0)
    with fuse_everything():
        jf = cr.jit(f)
        for got in twice(jf, x, s):
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, f(x, s))


def test_one_jitted_function_called_from_several_threads(monkeypatch):
    # the program cache is shared: evictions and stagings from 4 threads at once never lose or
    # mix a result
    monkeypatch.setattr(staging, "PROGRAM_CACHE_SIZE", 2)
    jf = cr.jit(lambda x: cnp.tanh(x) * 2.0 + x)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(60):
                x = rng.standard_normal(int(rng.integers(1, 6)))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    np.testing.assert_allclose(jf(x), np.tanh(x) * 2.0 + x, rtol=1e-15)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert jf.cache_info()["programs"] <= 2
