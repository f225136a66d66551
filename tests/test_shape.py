"""Shape and indexing ops, the array builder, constants and traced-array methods."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_batched

import chainrule
import chainrule.numpy as cnp
from chainrule.core.errors import InPlaceError, TracerEscapeError
from chainrule.gradcheck import check_grads
from chainrule.rules import constants


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def value(f, *args):
    return chainrule.vjp(f, *args)[0]


def assert_same(got, want):
    """Equal values and structure (lists/tuples of arrays allowed)."""
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert_same(a, b)
    else:
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


C = np.arange(6.0).reshape(2, 3) / 7  # a constant operand


# Each case is written once against a module ``M``: run with M=chainrule.numpy it is
# gradient-checked; with M=numpy on plain inputs it gives the reference values; and with
# M=numpy on traced inputs it exercises NumPy's dispatch.
CASES = {
    # joining
    "concatenate0": (lambda M, x, y: M.concatenate([x, C, y], axis=0), [(2, 3), (1, 3)]),
    "concatenate-1": (lambda M, x, y: M.concatenate([x, y], axis=-1), [(2, 3), (2, 2)]),
    "concatenate_none": (lambda M, x, y: M.concatenate([x, y], axis=None), [(2, 3), (4,)]),
    "concatenate_broadcast": (lambda M, x, y: M.concatenate([x * y, y], axis=1), [(2, 1), (2, 1)]),
    "stack0": (lambda M, x, y: M.stack([x, y, C]), [(2, 3), (2, 3)]),
    "stack-1": (lambda M, x, y: M.stack([x, y], axis=-1), [(2, 3), (2, 3)]),
    "stack1": (lambda M, x, y: M.stack((x, y), axis=1), [(2, 3), (2, 3)]),
    "hstack1d": (lambda M, x, y: M.hstack([x, y]), [(3,), (2,)]),
    "hstack2d": (lambda M, x, y: M.hstack([x, y]), [(2, 3), (2, 1)]),
    "vstack": (lambda M, x, y: M.vstack([x, y, C]), [(3,), (2, 3)]),
    "dstack": (lambda M, x, y: M.dstack([x, y]), [(2, 3), (2, 3)]),
    "column_stack": (lambda M, x, y: M.column_stack([x, y]), [(2,), (2, 3)]),
    "append": (lambda M, x, y: M.append(x, y), [(2, 3), (2,)]),
    "append_axis": (lambda M, x, y: M.append(x, y, axis=0), [(2, 3), (1, 3)]),
    "broadcast_arrays": (lambda M, x, y: M.broadcast_arrays(x, y), [(2, 1), (1, 3)]),
    # splitting
    "split": (lambda M, x: M.split(x, 2, axis=1), [(3, 4)]),
    "split_indices": (lambda M, x: M.split(x, [1, 3], axis=-1), [(3, 4)]),
    "array_split": (lambda M, x: M.array_split(x, 3, axis=1), [(2, 5)]),
    "hsplit": (lambda M, x: M.hsplit(x, 2), [(3, 4)]),
    "vsplit": (lambda M, x: M.vsplit(x, [1]), [(3, 4)]),
    # gathers
    "take_flat": (lambda M, x: M.take(x, [0, 5, 5, -1]), [(2, 3)]),
    "take_axis": (lambda M, x: M.take(x, [[0, 2], [2, 2]], axis=1), [(2, 3)]),
    "take_scalar": (lambda M, x: M.take(x, 1, axis=0), [(2, 3)]),
    "take_wrap": (lambda M, x: M.take(x, [4, -5], axis=1, mode="wrap"), [(2, 3)]),
    "take_clip": (lambda M, x: M.take(x, [4, -5], axis=1, mode="clip"), [(2, 3)]),
    "take_along_axis": (lambda M, x: M.take_along_axis(x, np.array([[0, 0, 1], [1, 0, 1]]), axis=0),
                        [(2, 3)]),
    "take_along_axis-1": (lambda M, x: M.take_along_axis(x, np.array([[2, 2], [0, 1]]), axis=-1),
                          [(2, 3)]),
    "take_along_axis_bcast": (lambda M, x: M.take_along_axis(x, np.array([[1, 0]]), axis=1),
                              [(3, 4)]),
    "take_along_axis_none": (lambda M, x: M.take_along_axis(x, np.array([5, 0, 0]), axis=None),
                             [(2, 3)]),
    "repeat": (lambda M, x: M.repeat(x, 2), [(2, 3)]),
    "repeat_axis": (lambda M, x: M.repeat(x, [1, 0, 3], axis=1), [(2, 3)]),
    "repeat_axis0": (lambda M, x: M.repeat(x, 3, axis=-2), [(2, 3)]),
    "tile": (lambda M, x: M.tile(x, 2), [(2, 3)]),
    "tile_tuple": (lambda M, x: M.tile(x, (2, 1, 3)), [(2, 3)]),
    "tile_short": (lambda M, x: M.tile(x, (2,)), [(2, 1, 3)]),
    # padding
    "pad_int": (lambda M, x: M.pad(x, 1), [(2, 3)]),
    "pad_pairs": (lambda M, x: M.pad(x, ((0, 2), (1, 0))), [(2, 3)]),
    "pad_constant": (lambda M, x: M.pad(x, ((1, 1), (2, 0)), constant_values=((1.0, 2.0), (3.0, 4.0))),
                     [(2, 3)]),
    "pad_edge": (lambda M, x: M.pad(x, ((2, 1), (0, 3)), mode="edge"), [(2, 3)]),
    "pad_reflect": (lambda M, x: M.pad(x, ((4, 5), (1, 2)), mode="reflect"), [(2, 3)]),
    "pad_symmetric": (lambda M, x: M.pad(x, 4, mode="symmetric"), [(2, 3)]),
    "pad_wrap": (lambda M, x: M.pad(x, ((3, 7),), mode="wrap"), [(3,)]),
    # reordering
    "flip": (lambda M, x: M.flip(x), [(2, 3, 2)]),
    "flip_axis": (lambda M, x: M.flip(x, axis=1), [(2, 3, 2)]),
    "flip_axes": (lambda M, x: M.flip(x, axis=(0, -1)), [(2, 3, 2)]),
    "fliplr": (lambda M, x: M.fliplr(x), [(2, 3)]),
    "flipud": (lambda M, x: M.flipud(x), [(2, 3)]),
    "rot90": (lambda M, x: M.rot90(x), [(2, 3)]),
    "rot90_k2": (lambda M, x: M.rot90(x, 2), [(2, 3)]),
    "rot90_k3_axes": (lambda M, x: M.rot90(x, -1, axes=(2, 0)), [(2, 3, 4)]),
    "roll": (lambda M, x: M.roll(x, 2), [(2, 3)]),
    "roll_axis": (lambda M, x: M.roll(x, -1, axis=1), [(2, 3)]),
    "roll_axes": (lambda M, x: M.roll(x, (1, 5), axis=(0, 1)), [(2, 3)]),
    "sort": (lambda M, x: M.sort(x), [(3, 4)]),
    "sort_axis0": (lambda M, x: M.sort(x, axis=0), [(3, 4)]),
    "sort_none": (lambda M, x: M.sort(x, axis=None), [(3, 4)]),
    "diff": (lambda M, x: M.diff(x), [(3, 4)]),
    "diff_n2_axis0": (lambda M, x: M.diff(x, n=2, axis=0), [(4, 3)]),
    "diff_pre_app": (lambda M, x, y: M.diff(x, prepend=0.5, append=y), [(2, 3), (2, 1)]),
    # diagonals and triangles
    "diagonal": (lambda M, x: M.diagonal(x), [(3, 4)]),
    "diagonal_offset": (lambda M, x: M.diagonal(x, 1), [(3, 4)]),
    "diagonal_negative": (lambda M, x: M.diagonal(x, -2), [(3, 4)]),
    "diagonal_axes": (lambda M, x: M.diagonal(x, 1, axis1=2, axis2=0), [(3, 2, 4)]),
    "diagonal_batched": (lambda M, x: M.diagonal(x, axis1=-2, axis2=-1), [(2, 3, 3)]),
    "diagonal_empty": (lambda M, x: M.diagonal(x, 5), [(3, 4)]),
    "tril": (lambda M, x: M.tril(x), [(3, 4)]),
    "triu": (lambda M, x: M.triu(x, 1), [(3, 4)]),
    "tril_k-1_stack": (lambda M, x: M.tril(x, -1), [(2, 3, 3)]),
    "triu_1d": (lambda M, x: M.triu(x), [(3,)]),
    # dimensions
    "atleast_1d": (lambda M, x: M.atleast_1d(x), [()]),
    "atleast_2d": (lambda M, x, y: M.atleast_2d(x, y), [(), (3,)]),
    "atleast_3d": (lambda M, x, y: M.atleast_3d(x, y), [(3,), (2, 3)]),
    "atleast_3d_0d": (lambda M, x: M.atleast_3d(x), [()]),
    "ravel": (lambda M, x: M.ravel(x), [(2, 3)]),
    "reshape": (lambda M, x: M.reshape(x, (3, -1)), [(2, 3)]),
    "transpose": (lambda M, x: M.transpose(x, (1, 2, 0)), [(2, 3, 4)]),
    "moveaxis": (lambda M, x: M.moveaxis(x, (0, -1), (-1, 1)), [(2, 3, 4)]),
    "swapaxes": (lambda M, x: M.swapaxes(x, 0, -1), [(2, 3, 4)]),
    "expand_dims": (lambda M, x: M.expand_dims(x, (0, -1)), [(2, 3)]),
    "squeeze": (lambda M, x: M.squeeze(x, axis=-1), [(2, 1, 1)]),
    "broadcast_to": (lambda M, x: M.broadcast_to(x, (4, 2, 3)), [(2, 1)]),
}


def _args(shapes, seed=0):
    return [rand(*s, seed=seed + i) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_shape_op(name):
    f, shapes = CASES[name]
    args = _args(shapes)
    want = f(np, *args)
    assert_same(value(lambda *a: f(cnp, *a), *args), want)
    assert_same(value(lambda *a: f(np, *a), *args), want)  # NumPy dispatch on traced arrays
    check_grads(lambda *a: f(cnp, *a), modes=("fwd", "rev"), order=2)(*args)


@pytest.mark.parametrize("name", ["concatenate0", "stack-1", "hstack2d", "take_axis", "repeat_axis",
                                  "tile_tuple", "pad_constant", "pad_reflect", "flip_axes", "roll_axes",
                                  "sort_axis0", "diagonal_axes", "tril_k-1_stack", "diff_pre_app",
                                  "take_along_axis_bcast", "split_indices", "transpose", "broadcast_to"])
def test_shape_op_batched(name):
    f, shapes = CASES[name]
    check_batched(lambda *a: f(cnp, *a), *_args(shapes, seed=3))


def test_pad_modes_match_numpy_large_widths():
    x = rand(3, 2, seed=4)
    for mode in ("edge", "reflect", "symmetric", "wrap", "constant"):
        for pw in (0, 5, ((7, 1), (0, 4)), ((2, 2),)):
            assert_same(value(lambda x, pw=pw, mode=mode: cnp.pad(x, pw, mode=mode), x),
                        np.pad(x, pw, mode=mode))


def test_pad_traced_constant_value():
    x, c = rand(2, 2), np.array(0.7)
    f = lambda x, c: cnp.pad(x, 1, constant_values=c)
    assert_same(value(f, x, c), np.pad(x, 1, constant_values=0.7))
    check_grads(f, order=2)(x, c)


# ---------------------------------------------------------------- indexing
INDEX_CASES = {
    "int": (1,),
    "negative_int": (-1, 2),
    "slice": (slice(None), slice(1, None)),
    "negative_step": (slice(None, None, -1), slice(None, None, -2)),
    "negative_step_partial": (slice(2, 0, -1),),
    "none": (None, slice(None), None, 0),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_none": (0, Ellipsis, None),
    "fancy": (np.array([0, 2, 2]),),
    "fancy_list": ([1, 0],),
    "fancy_2d": (np.array([[0, 1], [2, 2]]), slice(None)),
    "fancy_pair": (np.array([0, 2, 0]), np.array([1, 1, 1])),
    "fancy_separated": (np.array([0, 0]), slice(None), np.array([1, -1])),
    "bool": (np.array([True, False, True]),),
    "bool_2d": (np.array([[True, False, True, True], [False] * 4, [True] * 4]),),
    "bool_and_int": (np.array([True, False, True]), np.array([3, 3])),
    "mixed": (slice(None, None, -1), np.array([1, 1, 0])),
}


@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_getitem(name):
    key = INDEX_CASES[name]
    x = rand(3, 4, seed=5) if name not in ("fancy_separated", "mixed", "none", "ellipsis_none") else \
        rand(3, 2, 4, seed=5)
    if name == "mixed":
        key = key + (slice(None),)
    f = lambda x: x[key]
    assert_same(value(f, x), x[key])
    check_grads(f, order=2)(x)
    check_batched(f, x)


def test_repeated_indices_accumulate():
    x = np.arange(4.0)
    g = chainrule.grad(lambda x: cnp.sum(x[[0, 0, 2, 0, -1]] * np.array([1.0, 2.0, 3.0, 4.0, 5.0])))(x)
    np.testing.assert_array_equal(g, [7.0, 0.0, 3.0, 5.0])
    g = chainrule.grad(lambda x: cnp.sum(cnp.take(x, [1, 1, 1])))(x)
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0, 0.0])
    g = chainrule.grad(lambda x: cnp.sum(cnp.repeat(x, [0, 1, 2, 3])))(x)
    np.testing.assert_array_equal(g, [0.0, 1.0, 2.0, 3.0])
    g = chainrule.grad(lambda x: cnp.sum(cnp.pad(x, 3, mode="edge")))(x)
    np.testing.assert_array_equal(g, [4.0, 1.0, 1.0, 4.0])
    g = chainrule.grad(lambda x: cnp.sum(cnp.tile(x, 3)))(x)
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0, 3.0])
    # forward mode: a tangent is gathered the same way
    _, t = chainrule.jvp(lambda x: x[[3, 3, 0]], (x,), (np.array([1.0, 2.0, 3.0, 4.0]),))
    np.testing.assert_array_equal(t, [4.0, 4.0, 1.0])


def test_traced_index_and_iteration():
    x = rand(3, 2, seed=6)
    f = lambda x: x[np.argmax(x[:, 0])] + sum(row for row in x)
    assert_same(value(f, x), x[np.argmax(x[:, 0])] + x.sum(0))
    check_grads(f, order=2)(x)
    g = chainrule.grad(lambda x: cnp.sum(x[x > 0] ** 2))(x)
    np.testing.assert_allclose(g, 2 * x * (x > 0))


def test_at_add_at_set():
    x = rand(4, seed=7)
    v = rand(3, seed=8)
    f = lambda x, v: cnp.at_add(x, [0, 0, 3], v)
    want = x.copy()
    np.add.at(want, [0, 0, 3], v)
    assert_same(value(f, x, v), want)
    check_grads(f, order=2)(x, v)
    f = lambda x, v: cnp.at_set(x, [1, 2], v[:2])
    want = x.copy()
    want[[1, 2]] = v[:2]
    assert_same(value(f, x, v), want)
    check_grads(f, order=2)(x, v)
    # the overwritten entries must not leak (an inf there used to give nan)
    y = np.array([np.inf, 1.0, 2.0])
    assert_same(cnp.at_set(y, 0, 5.0), np.array([5.0, 1.0, 2.0]))
    assert_same(cnp.scatter_add(np.array([1.0, 2.0]), [1, 1], (3,)), np.array([0.0, 3.0, 0.0]))


# ---------------------------------------------------------------- building arrays
def test_array_builder():
    x, y = np.array(1.5), np.array(-0.5)
    f = lambda x, y: cnp.array([x, y, x * y])
    assert_same(value(f, x, y), np.array([1.5, -0.5, -0.75]))
    check_grads(f, order=2)(x, y)
    check_batched(f, x, y)
    g = lambda x, y: cnp.array([[x, 1.0], [np.sin(y), x * y]])
    assert_same(value(g, x, y), np.array([[1.5, 1.0], [np.sin(-0.5), -0.75]]))
    check_grads(g, order=2)(x, y)
    v = rand(3, seed=9)
    h = lambda v: cnp.array([v, 2 * v, np.ones(3)], ndmin=3)
    assert value(h, v).shape == (1, 3, 3)
    check_grads(h, order=2)(v)
    # no traced value: plain NumPy
    a = cnp.array([[1, 2], [3, 4]])
    assert isinstance(a, np.ndarray) and a.dtype.kind == "i"
    assert cnp.asarray(a) is a
    check_grads(lambda v: cnp.asarray([v[0], v[2]]) * cnp.asarray(v[1:]), order=2)(v)
    with pytest.raises(ValueError):
        chainrule.grad(lambda v: cnp.sum(cnp.array([v, v[:2]])))(v)


def test_plain_np_array_of_traced_values_raises():
    with pytest.raises(TracerEscapeError):
        chainrule.grad(lambda x: np.sum(np.array([x, x])))(np.array(1.0))


def test_like_constructors():
    x = rand(2, 3, seed=10)

    def f(x):
        for fn in (np.zeros_like, np.ones_like, np.empty_like, cnp.zeros_like, cnp.ones_like):
            r = fn(x)
            assert type(r) is np.ndarray and r.shape == (2, 3)
        assert type(np.full_like(x, 2.0)) is np.ndarray
        return x * np.ones_like(x) + np.zeros_like(x)

    check_grads(f, order=2)(x)
    # a traced fill value stays traced
    f = lambda x, c: np.full_like(x, c) * x
    assert_same(value(f, x, np.array(0.5)), 0.5 * x)
    check_grads(f, order=2)(x, np.array(0.5))


def test_constants_on_traced_arrays():
    x = rand(3, 4, seed=11)
    seen = {}

    def f(x):
        seen["argmax"] = np.argmax(x, axis=1)
        seen["argmin"] = np.argmin(x)
        seen["argsort"] = np.argsort(x, axis=0)
        seen["nonzero"] = np.nonzero(x > 0)
        seen["shape"] = np.shape(x)
        seen["ndim"] = np.ndim(x)
        seen["size"] = np.size(x)
        seen["result_type"] = np.result_type(x, np.float32)
        seen["isclose"] = np.isclose(x, x + 1e-12)
        seen["allclose"] = np.allclose(x, x)
        seen["count_nonzero"] = np.count_nonzero(x > 0, axis=0)
        seen["searchsorted"] = np.searchsorted(np.sort(x[0]), x[1])
        seen["any"] = np.any(x > 1)
        seen["all"] = np.all(x < 10, axis=1)
        seen["array_equal"] = np.array_equal(x, x)
        seen["argwhere"] = np.argwhere(x > 0)
        return cnp.sum(x)

    chainrule.grad(f)(x)
    ref = {"argmax": np.argmax(x, axis=1), "argmin": np.argmin(x), "argsort": np.argsort(x, axis=0),
           "nonzero": np.nonzero(x > 0), "shape": (3, 4), "ndim": 2, "size": 12,
           "result_type": np.float64, "isclose": np.ones((3, 4), bool), "allclose": True,
           "count_nonzero": np.count_nonzero(x > 0, axis=0),
           "searchsorted": np.searchsorted(np.sort(x[0]), x[1]),
           "any": np.any(x > 1), "all": np.all(x < 10, axis=1), "array_equal": True,
           "argwhere": np.argwhere(x > 0)}
    for k, want in ref.items():
        got = seen[k]
        for leaf in got if isinstance(got, tuple) else (got,):
            assert not isinstance(leaf, chainrule.core.primitive.Box), k
        if isinstance(want, tuple) and k != "shape":
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(got, want, err_msg=k)
    for name in constants.__all__:
        assert callable(getattr(constants, name))


# ---------------------------------------------------------------- traced-array methods
def test_methods():
    x = rand(3, 4, seed=12)
    cases = [
        lambda x: x.repeat(2, axis=0), lambda x: x.repeat(2), lambda x: x.take([0, 0, 5]),
        lambda x: x.take([2, 1], axis=1), lambda x: x.diagonal(1), lambda x: x.flatten(),
        lambda x: x.ravel(), lambda x: x.squeeze(), lambda x: x.swapaxes(0, 1), lambda x: x.T,
        lambda x: x.reshape(2, 6), lambda x: x.reshape((4, 3)), lambda x: x.transpose(1, 0),
        lambda x: x.copy(), lambda x: x.conj(), lambda x: x.astype(np.float64),
    ]
    for f in cases:
        assert_same(value(f, x), f(x))
        check_grads(f, order=2)(x)


def test_method_astype_copy_conj_sort():
    x = rand(3, seed=13)

    def f(x):
        assert x.copy() is x and x.conj() is x and np.conjugate(x) is x and np.real(x) is x
        i = x.astype(int)
        assert type(i) is np.ndarray and i.dtype == int
        assert type(np.imag(x)) is np.ndarray
        assert type(x.argmax()) is not chainrule.core.primitive.Box
        assert type(x.argsort()) is np.ndarray and type(x.nonzero()) is tuple
        assert x.any() == np.any(x) and x.all() == np.all(x)
        return x.astype(float) * 2.0

    np.testing.assert_array_equal(chainrule.grad(lambda x: cnp.sum(f(x)))(x), [2.0, 2.0, 2.0])
    with pytest.raises(InPlaceError, match="sort"):
        chainrule.grad(lambda x: x.sort())(x)
    # a float32 cast stays traced and the gradient comes back in the input's dtype
    g = chainrule.grad(lambda x: cnp.sum(x.astype(np.float32) ** 2))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x.astype(np.float32), rtol=1e-6)
    check_batched(lambda x: cnp.astype(x, np.float32) * 3.0, x, atol=1e-6)
    # a complex cast stays traced: a complex output needs holomorphic=True or a real part
    with pytest.raises(TypeError, match="holomorphic=True"):
        chainrule.grad(lambda x: cnp.sum(x.astype(complex)))(x)
    g = chainrule.grad(lambda x: cnp.sum(cnp.real(x.astype(complex) * (2 - 1j))))(x)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2.0)


def test_in_place_functions_raise():
    x = rand(3, seed=14)
    for f in (lambda x: np.put(x, [0], 1.0), lambda x: np.copyto(x, 1.0),
              lambda x: np.fill_diagonal(x, 0.0), lambda x: np.place(x, x > 0, 1.0)):
        with pytest.raises(InPlaceError):
            chainrule.grad(f)(x)
    with pytest.raises(InPlaceError):
        chainrule.grad(lambda x: x.__setitem__(0, 1.0))(x)


# ---------------------------------------------------------------- bad input
def test_bad_input_errors():
    x = rand(2, 3, seed=15)

    def run(f):
        return chainrule.grad(lambda x: cnp.sum(f(x)))(x)

    with pytest.raises(ValueError, match="cannot reshape"):
        run(lambda x: cnp.reshape(x, (4, -1)))
    with pytest.raises(ValueError, match="cannot reshape"):
        run(lambda x: x.reshape(5))
    with pytest.raises(ValueError, match="one -1"):
        run(lambda x: x.reshape(-1, -1))
    with pytest.raises(np.exceptions.AxisError):
        run(lambda x: cnp.concatenate([x, x], axis=2))
    with pytest.raises(ValueError, match="same number of dimensions"):
        run(lambda x: cnp.concatenate([x, x[0]]))
    with pytest.raises(ValueError):
        run(lambda x: cnp.concatenate([x, x[:, :2]], axis=0))
    with pytest.raises(ValueError, match="same shape"):
        run(lambda x: cnp.stack([x, x[:1]]))
    with pytest.raises(np.exceptions.AxisError):
        run(lambda x: cnp.expand_dims(x, 3))
    with pytest.raises(np.exceptions.AxisError):
        run(lambda x: cnp.transpose(x, (0, 2)))
    with pytest.raises(ValueError, match="repeated axis"):
        run(lambda x: cnp.transpose(x, (0, 0)))
    with pytest.raises(np.exceptions.AxisError):
        run(lambda x: cnp.flip(x, 2))
    with pytest.raises(IndexError):
        run(lambda x: cnp.take(x, [7]))
    with pytest.raises(IndexError):
        run(lambda x: x[np.array([0.5])])
    with pytest.raises(ValueError, match="equal division"):
        run(lambda x: cnp.split(x, 2, axis=1)[0])
    with pytest.raises(ValueError, match="cannot be the same"):
        run(lambda x: cnp.diagonal(x, axis1=1, axis2=-1))
    with pytest.raises(ValueError, match="mode 'ramp' is not supported"):
        run(lambda x: cnp.pad(x, 1, mode="ramp"))
    with pytest.raises(ValueError, match="negative"):
        run(lambda x: cnp.pad(x, -1))
    with pytest.raises(ValueError, match="cannot select an axis to squeeze"):
        run(lambda x: cnp.squeeze(x, 0))


@pytest.mark.parametrize("name", ["concatenate-1", "take_axis", "pad_reflect", "sort", "diagonal_offset",
                                  "roll_axes", "tile_tuple", "split"])
def test_batched_second_order(name):
    # The rules recorded while differentiating must batch too (Hessians in one pass).
    f, shapes = CASES[name]
    args = _args(shapes, seed=7)

    def loss(*a):
        out = f(cnp, *a)
        outs = out if isinstance(out, (list, tuple)) else [out]
        return sum(cnp.sum(np.cos(o) * o) for o in outs)

    check_batched(lambda *a: chainrule.grad(loss, argnums=tuple(range(len(a))))(*a), *args)


# ---------------------------------------------------------------- values picked from the input
# Set routines, sort and partition return input values (a subset or a rearrangement): they
# are gathers whose derivative flows to the picked elements, never constants (issue 12 item 5).
R = np.array([[3.0, 1.0, 2.0], [1.0, 5.0, 3.0]])          # repeats: 1 and 3 occur twice
S = np.array([5.0, 7.0, 3.0, 7.0])


def _first(x, values):
    """NumPy's own answer: where each of ``values`` first occurs in ``x`` (flattened)."""
    u, first = np.unique(x, return_index=True)
    return first[np.searchsorted(u, values)]


def _scatter(n, idx, w):
    out = np.zeros(n)
    np.add.at(out, idx, w)
    return out


SET_CASES = {
    # name: (fn on (M, x, y), expected output values from NumPy, the sources' concatenation)
    "unique": (lambda M, x, y: M.unique(x), lambda: np.unique(R)),
    "unique_values": (lambda M, x, y: M.unique_values(x), lambda: np.unique_values(R)),
    "unique_counts": (lambda M, x, y: M.unique_counts(x).values, lambda: np.unique_counts(R).values),
    "unique_inverse": (lambda M, x, y: M.unique_inverse(x).values,
                       lambda: np.unique_inverse(R).values),
    "unique_all": (lambda M, x, y: M.unique_all(x).values, lambda: np.unique_all(R).values),
    "union1d": (lambda M, x, y: M.union1d(x, y), lambda: np.union1d(R, S)),
    "intersect1d": (lambda M, x, y: M.intersect1d(x, y), lambda: np.intersect1d(R, S)),
    "setdiff1d": (lambda M, x, y: M.setdiff1d(x, y), lambda: np.setdiff1d(R, S)),
    "setxor1d": (lambda M, x, y: M.setxor1d(x, y), lambda: np.setxor1d(R, S)),
}


@pytest.mark.parametrize("name", sorted(SET_CASES))
@pytest.mark.parametrize("M", [cnp, np], ids=["chainrule.numpy", "numpy-dispatch"])
def test_set_routines_differentiate_the_picked_values(name, M):
    fn, numpy_values = SET_CASES[name]
    want = numpy_values()
    out, f_vjp = chainrule.vjp(lambda x, y: fn(M, x, y), R, S)
    np.testing.assert_array_equal(out, want)
    # the gradient of sum(w * out) goes to the first occurrence of each value in (R, S)
    w = np.arange(1.0, len(want) + 1)
    flat = np.concatenate([R.ravel(), S])
    want_g = _scatter(flat.size, _first(flat, want), w)
    gx, gy = f_vjp(w)
    np.testing.assert_array_equal(gx, want_g[:R.size].reshape(R.shape))
    np.testing.assert_array_equal(gy, want_g[R.size:])
    assert np.any(want_g != 0)  # not the zero gradient a constant gives
    check_batched(lambda x, y: fn(M, x, y), R, S)
    # central differences need inputs whose perturbations keep the same values apart and the
    # same values together (a tie split by eps changes the output's length)
    distinct = R + np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    check_grads(lambda x, y: fn(M, x, y), order=2, eps=1e-7)(distinct, np.array([5.05, 7.05, 3.05, 8.05]))


def test_unique_outputs_match_numpy_and_only_values_are_traced():
    for kw in [{}, dict(return_index=True), dict(return_inverse=True, return_counts=True),
               dict(return_index=True, return_inverse=True, return_counts=True, sorted=False)]:
        res = value(lambda x, kw=kw: cnp.unique(x, **kw), R)
        g = chainrule.grad(lambda x, kw=kw: cnp.sum(cnp.unique(x, **kw)[0] if kw else cnp.unique(x)))(R)
        want = np.unique(R, **kw)
        assert type(res) is type(want)
        for a, b in zip(res if isinstance(res, tuple) else (res,),
                        want if isinstance(want, tuple) else (want,), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(g, _scatter(R.size, _first(R, np.unique(R)), 1.0).reshape(R.shape))
    for fn in (cnp.unique_counts, cnp.unique_inverse, cnp.unique_all):
        got, want = fn(np.array(R)), getattr(np, fn.__name__)(R)
        assert type(got) is type(want)
        res = value(lambda x, fn=fn: fn(x), R)
        assert type(res) is type(want)
        for a, b in zip(res, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_unique_along_an_axis_and_with_nans():
    x = np.array([[1.0, 2.0], [0.5, 0.5], [1.0, 2.0]])
    out, f_vjp = chainrule.vjp(lambda a: cnp.unique(a, axis=0), x)
    np.testing.assert_array_equal(out, np.unique(x, axis=0))
    np.testing.assert_array_equal(f_vjp(np.array([[1.0, 2.0], [3.0, 4.0]]))[0],
                                  [[3.0, 4.0], [1.0, 2.0], [0.0, 0.0]])
    n = np.array([np.nan, 2.0, np.nan, 1.0, 2.0])
    for fn, want_g in [(lambda a: cnp.unique(a), [1, 1, 0, 1, 0]),           # one NaN
                       (lambda a: cnp.unique(a, equal_nan=False), [1, 1, 1, 1, 0]),
                       (cnp.unique_values, [1, 1, 1, 1, 0])]:            # NaNs are distinct
        out, f_vjp = chainrule.vjp(fn, n)
        np.testing.assert_array_equal(out, (fn(n.copy())))
        np.testing.assert_array_equal(f_vjp(np.ones(np.shape(out)))[0], want_g)


def test_intersect1d_indices_and_setdiff1d_assume_unique():
    a, b = np.array([4.0, 1.0, 3.0, 9.0]), np.array([3.0, 4.0, 8.0])
    want = np.intersect1d(a, b, return_indices=True)
    for got, w in zip(value(lambda x, y: cnp.intersect1d(x, y, return_indices=True), a, b), want,
                      strict=True):
        np.testing.assert_array_equal(got, w)
    v, f_vjp = chainrule.vjp(lambda x, y: cnp.intersect1d(x, y, return_indices=True)[0], a, b)
    ga, gb = f_vjp(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(ga, [2.0, 0.0, 1.0, 0.0])  # 3.0 and 4.0, from a
    np.testing.assert_array_equal(gb, 0.0)
    # assume_unique keeps ar1's order and repeats: each repeat is its own element
    c = np.array([2.0, 7.0, 2.0])
    out, f_vjp = chainrule.vjp(lambda x: cnp.setdiff1d(x, [7.0], assume_unique=True), c)
    np.testing.assert_array_equal(out, np.setdiff1d(c, [7.0], assume_unique=True))
    np.testing.assert_array_equal(f_vjp(np.array([1.0, 10.0]))[0], [1.0, 0.0, 10.0])


def test_partition_is_a_gather():
    x = np.array([[5.0, 1.0, 4.0, 1.0], [2.0, 8.0, 0.5, 3.0]])
    for axis, kth in [(-1, 1), (0, 0), (None, 3), (-1, [0, 2])]:
        out, f_vjp = chainrule.vjp(lambda a, axis=axis, kth=kth: cnp.partition(a, kth, axis=axis), x)
        np.testing.assert_array_equal(out, np.partition(x, kth, axis=axis))
        w = np.arange(1.0, out.size + 1).reshape(out.shape)
        g = f_vjp(w)[0]
        # a rearrangement: every weight lands once, on an input equal to its output
        np.testing.assert_allclose(np.sort(g.ravel()), np.sort(w.ravel()))
        check_grads(lambda a, axis=axis, kth=kth: np.partition(a, kth, axis=axis),
                    order=2)(x + 0.01 * rand(2, 4))
    check_batched(lambda a: np.partition(a, 1, axis=-1), rand(2, 4))


def test_no_constant_returns_input_values():
    """Audit of the constants table: on a traced input with values no computation would produce
    by chance, no constant's floating-point result contains one of the input's values."""
    x = 1000.25 + np.arange(12.0).reshape(3, 4) / 8
    calls = {
        "argmax": lambda v: constants.argmax(v), "argmin": lambda v: constants.argmin(v),
        "argsort": lambda v: constants.argsort(v), "argpartition": lambda v: constants.argpartition(v, 1),
        "lexsort": lambda v: constants.lexsort(v), "argwhere": lambda v: constants.argwhere(v),
        "nonzero": lambda v: constants.nonzero(v), "flatnonzero": lambda v: constants.flatnonzero(v),
        "searchsorted": lambda v: constants.searchsorted(v[0], v[1]),
        "digitize": lambda v: constants.digitize(v, [1000.5, 1001.0]),
        "shape": lambda v: constants.shape(v), "ndim": lambda v: constants.ndim(v),
        "size": lambda v: constants.size(v), "result_type": lambda v: constants.result_type(v),
        "iscomplexobj": lambda v: constants.iscomplexobj(v), "isrealobj": lambda v: constants.isrealobj(v),
        "iscomplex": lambda v: constants.iscomplex(v), "isreal": lambda v: constants.isreal(v),
        "isclose": lambda v: constants.isclose(v, v), "allclose": lambda v: constants.allclose(v, v),
        "array_equal": lambda v: constants.array_equal(v, v),
        "array_equiv": lambda v: constants.array_equiv(v, v),
        "count_nonzero": lambda v: constants.count_nonzero(v), "any": lambda v: constants.any(v),
        "all": lambda v: constants.all(v), "isin": lambda v: constants.isin(v, [1000.25]),
        "zeros_like": lambda v: constants.zeros_like(v), "ones_like": lambda v: constants.ones_like(v),
        "full_like": lambda v: constants.full_like(v, 3.0), "full": lambda v: constants.full(v.shape, 3.0),
        "bincount": lambda v: constants.bincount(np.array([0, 2, 2])),
    }
    # empty_like's contents are unspecified (whatever memory held), so it is not probed
    assert set(calls) | {"empty_like"} == set(constants.__all__), \
        "a new constant must be added to this audit"
    seen = {}

    def f(v):
        for name, call in calls.items():
            seen[name] = call(v)
        return cnp.sum(v)

    chainrule.grad(f)(x)
    for name, res in seen.items():
        for leaf in res if isinstance(res, tuple) else (res,):
            assert not isinstance(leaf, chainrule.core.primitive.Box), name
            leaf = np.asarray(leaf)
            if leaf.dtype.kind == "f":
                assert not np.isin(leaf, x).any(), f"{name} returns input values as a constant"
