"""A traced value written into a plain ndarray, or converted to a plain number or array, raises
chainrule's TracerEscapeError (or InPlaceError for NumPy's in-place functions), never NumPy's
"setting an array element with a sequence" and never a silently dropped derivative; the ways
that keep the value traced (lists, object arrays, chainrule.numpy.stack / at_set) keep it.

NumPy replaces any error raised while it stores a value into a float element (``a[i] = x``,
``a.fill(x)``, ``a[i] += x``) by that ValueError when the value is a C sequence, which every
Python class with ``__getitem__`` is: chainrule.numpy.protocol clears that slot (issue 12
item 19). Every way of writing, every target dtype, 0-d and n-d values, under every transform.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.errors import InPlaceError, TracerEscapeError
from chainrule.core.trace import TracedArray
from chainrule.numpy import protocol

NUMBER_DTYPES = [np.float64, np.float32, np.float16, np.longdouble, np.complex128, np.complex64,
                 np.int64, np.int8, np.uint8]


def _fancy(a, x):
    a[[0, 2]] = x


def _mask(a, x):
    a[a == 0] = x


def _ellipsis(a, x):
    a[...] = x


def _int(a, x):
    a[0] = x


def _negative(a, x):
    a[-1] = x


def _numpy_int(a, x):
    a[np.int64(1)] = x


def _slice(a, x):
    a[1:3] = x


def _augmented(a, x):
    a[0] += x


def _augmented_mul(a, x):
    a[1] *= x


def _fill(a, x):
    a.fill(x)


def _put_method(a, x):
    a.put([0], x)


# every way NumPy offers to store a value into an existing ndarray without dispatching to
# chainrule: (name, writer(a, x)) for a 1-d `a` of 3 elements and a 0-d traced `x`
SCALAR_WRITES = [("a[0] = x", _int), ("a[-1] = x", _negative), ("a[np.int64(1)] = x", _numpy_int),
                 ("a[1:3] = x", _slice), ("a[[0, 2]] = x", _fancy), ("a[a == 0] = x", _mask),
                 ("a[...] = x", _ellipsis), ("a[0] += x", _augmented), ("a[1] *= x", _augmented_mul),
                 ("a.fill(x)", _fill), ("a.put([0], x)", _put_method)]


def _writes_into(dtype, write, shape=(3,)):
    """f(x) that writes x into a fresh ndarray of ``dtype`` and returns a traced scalar of x."""
    def f(x):
        write(np.zeros(shape, dtype=dtype), x)
        return cnp.sum(x * x)
    return f


def test_the_sequence_slot_is_cleared_on_this_interpreter():
    # without it NumPy's ValueError would hide the message; every test below would fail
    assert protocol._SLOT_OK


@pytest.mark.parametrize("dtype", NUMBER_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,write", SCALAR_WRITES, ids=[n for n, _ in SCALAR_WRITES])
def test_a_traced_scalar_written_into_an_ndarray_raises_tracer_escape(name, write, dtype):
    with pytest.raises(TracerEscapeError, match="derivative"):
        cr.grad(_writes_into(dtype, write))(2.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int64],
                         ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("index", [0, (0, 1), slice(0, 2), [0, 1], Ellipsis],
                         ids=["int", "full-int", "slice", "fancy", "ellipsis"])
@pytest.mark.parametrize("xshape", [(), (2,), (3,), (2, 3)], ids=str)
def test_a_traced_array_of_any_rank_written_into_an_ndarray_raises_tracer_escape(
        xshape, index, dtype):
    def f(x):
        a = np.zeros((2, 3), dtype=dtype)
        a[index] = x
        return cnp.sum(x)

    # never "setting an array element with a sequence", nor a shape error before ours
    with pytest.raises(TracerEscapeError, match="derivative"):
        cr.grad(f)(np.full(xshape, 2.0))


@pytest.mark.parametrize("shape", [(), (3,)], ids=str)
def test_an_element_of_a_traced_array_written_into_an_ndarray_raises(shape):
    def f(x):
        buf = np.zeros(3)
        for i in range(3):  # a user loop filling an array with traced scalars
            buf[i] = x[i] if shape else x * i
        return cnp.sum(buf)

    with pytest.raises(TracerEscapeError, match=r"assignment into an ndarray .*chainrule\.numpy\.stack"):
        cr.grad(f)(np.full(shape, 2.0))


@pytest.mark.parametrize("transform", ["grad", "jvp", "grad-of-grad", "vmap", "grad-of-jit",
                                       "jit-of-grad"])
def test_every_transform_refuses_the_write(transform):
    def f(x):
        a = np.zeros(3)
        a[0] = x
        return cnp.sum(x * a.sum())

    with pytest.raises(TracerEscapeError, match="float"), warnings.catch_warnings():
        warnings.simplefilter("ignore", cr.JitFallbackWarning)
        if transform == "grad":
            cr.grad(f)(2.0)
        elif transform == "jvp":
            cr.jvp(f, (2.0,), (1.0,))
        elif transform == "grad-of-grad":
            cr.grad(cr.grad(f))(2.0)
        elif transform == "vmap":
            cr.vmap(f)(np.ones(4))
        elif transform == "grad-of-jit":
            cr.grad(cr.jit(f))(2.0)
        else:
            cr.jit(cr.grad(f))(2.0)


def test_jit_alone_runs_the_write_eagerly_with_the_value():
    # a staged value has no derivative to drop: the signature runs eagerly, with a warning
    def f(x):
        a = np.zeros(3)
        a[0] = x
        a[1:] = x * 2.0
        return cnp.sum(a) + x

    with pytest.warns(cr.JitFallbackWarning):
        assert float(cr.jit(f)(np.float64(2.0))) == 12.0


def test_a_box_class_defined_after_install_is_no_sequence_either():
    class LateBox(TracedArray):  # as vmap's and jit's boxes are (created after chainrule.numpy)
        __slots__ = ()

    box = LateBox()
    box._value, box._trace = np.float64(2.0), None
    with pytest.raises(TracerEscapeError, match="float"):
        np.zeros(3)[0] = box


@pytest.mark.parametrize("fn", [np.copyto, np.put, np.place, np.putmask, np.put_along_axis,
                                np.fill_diagonal], ids=lambda f: f.__name__)
def test_numpy_in_place_functions_refuse_a_traced_value(fn):
    def f(x):
        a = np.zeros((3, 3))
        if fn is np.copyto:
            fn(a, x)
        elif fn is np.put_along_axis:
            fn(a, np.zeros((3, 1), dtype=int), x, axis=1)
        elif fn is np.fill_diagonal:
            fn(a, x)
        else:
            fn(a, a == 0, x) if fn is not np.put else fn(a, [0], x)
        return cnp.sum(x)

    # np.fill_diagonal dispatches on its array alone, so NumPy's own code converts x
    want = ((TracerEscapeError, "assignment into an ndarray") if fn is np.fill_diagonal else
            (InPlaceError, f"numpy.{fn.__name__} writes into an array in place"))
    with pytest.raises(want[0], match=want[1]):
        cr.grad(f)(2.0)


@pytest.mark.parametrize("write", ["a += x", "np.add(a, x, out=a)", "np.multiply(x, a, out=a)"])
def test_in_place_ufuncs_into_an_ndarray_refuse_a_traced_value(write):
    def f(x):
        a = np.ones(3)
        if write == "a += x":
            a += x
        elif write.startswith("np.add"):
            np.add(a, x, out=a)
        else:
            np.multiply(x, a, out=a)
        return cnp.sum(x)

    with pytest.raises(InPlaceError, match="out="):
        cr.grad(f)(np.ones(3))


CONVERSIONS = [
    ("np.array([x, x])", lambda x: np.array([x, x]), "chainrule.numpy.stack"),
    ("np.array([[x], [x]])", lambda x: np.array([[x], [x]]), "chainrule.numpy.stack"),
    ("np.asarray(x)", lambda x: np.asarray(x), "np.asarray"),
    ("np.array(x, dtype=object)", lambda x: np.array([x], dtype=object), "np.array"),
    ("np.float64(x)", lambda x: np.float64(x), "plain NumPy array"),
    ("np.fromiter", lambda x: np.fromiter([x, x], float), "float"),
    ("float(x)", lambda x: float(x), "float"),
    ("int(x)", lambda x: int(x), "int"),
    ("complex(x)", lambda x: complex(x), "complex"),
    ("math.exp(x)", lambda x: math.exp(x), "float"),
    ("x.item()", lambda x: x.item(), "item"),
    ("x.tolist()", lambda x: x.tolist(), "tolist"),
    ("object array .astype(float)", lambda x: _object_array(x).astype(float), "float"),
]


def _object_array(x):
    a = np.empty(2, dtype=object)
    a[0], a[1] = x, 1.0
    return a


@pytest.mark.parametrize("name,convert,named", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_conversions_to_plain_values_raise_and_name_the_problem(name, convert, named):
    with pytest.raises(TracerEscapeError, match=named.replace(".", r"\.").replace("(", r"\(")):
        cr.grad(lambda x: (convert(x), cnp.sum(x))[1])(2.0)


def test_the_ways_that_keep_the_value_traced_keep_the_derivative():
    def f(x):  # x of shape (3,): d/dx_i of the sum below
        parts = list(x)                              # a list of traced scalars
        obj = np.empty(3, dtype=object)              # an object ndarray stores the boxes
        for i, p in enumerate(reversed(x)):
            obj[i] = p * (i + 1.0)
        first, *rest = x                              # unpacking iterates
        stacked = cnp.stack(parts)                    # the way to build an array
        written = cnp.at_set(np.zeros(3), 1, first)   # the way to write into one
        return cnp.sum(stacked ** 2) + np.sum(obj) + cnp.sum(written) * rest[-1]

    x = np.array([1.0, 2.0, 3.0])
    # d/dx: 2x + (3, 2, 1) [obj holds x2*1, x1*2, x0*3] + (x2, 0, x0)
    want = 2 * x + np.array([3.0, 2.0, 1.0]) + np.array([x[2], 0.0, x[0]])
    np.testing.assert_allclose(cr.grad(f)(x), want)
    np.testing.assert_allclose(cr.jvp(f, (x,), (np.ones(3),))[1], want.sum())


def test_a_bool_element_stores_the_truth_of_the_value_as_control_flow_does():
    # bool(x) picks a branch and drops nothing (a comparison's derivative is zero)
    def f(x):
        a = np.zeros(2, dtype=bool)
        a[0] = x
        return x * a[0]

    assert cr.grad(f)(2.0) == 1.0
    assert cr.grad(f)(0.0) == 0.0


def test_a_tensor_traced_by_a_transform_raises_tracer_escape():
    def f(x):
        t = cr.tensor(x)
        np.zeros(3)[0] = t
        return x

    with pytest.raises(TracerEscapeError, match="drop"):
        cr.grad(f)(2.0)


def test_a_tensor_that_requires_grad_follows_pytorch():
    torch = pytest.importorskip("torch")
    t = cr.tensor(2.0, requires_grad=True)
    tt = torch.tensor(2.0, requires_grad=True)
    a, b = np.zeros(3), np.zeros(3)
    a[0] = t                      # PyTorch stores float(t) here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # PyTorch warns about float(t)
        b[0] = tt
    np.testing.assert_array_equal(a, b)
    with pytest.raises(TracerEscapeError, match="requires grad"):
        a[0:1] = t               # as PyTorch's .numpy() refuses
    with pytest.raises(RuntimeError):
        b[0:1] = tt
