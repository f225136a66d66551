"""chainrule.Tensor on the core's protocols: the Trace protocol, the one tape module, the one
operator table, and records with several outputs."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import GraphError, Tensor, nn, tensor
from chainrule.core.trace import ReverseTrace, Trace, new_level

RNG = np.random.default_rng(1)


def close(a, b, tol=1e-10):
    a = a.numpy() if isinstance(a, Tensor) else a
    b = b.numpy() if isinstance(b, Tensor) else b
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_frontend_and_eager_graphs_implement_the_trace_protocol():
    frontend = Tensor._trace
    assert isinstance(frontend, Trace) and frontend.level == math.inf
    leaf = frontend.new_input(np.array([1.0, 2.0]))
    assert isinstance(leaf, Tensor) and leaf.is_leaf and leaf.requires_grad

    before = new_level()
    y = leaf * 2.0
    after = new_level()
    graph = y.graph
    assert isinstance(graph, ReverseTrace) and isinstance(graph, Trace)
    assert before < graph.level < after  # the graph's level came from new_level()
    box = graph.new_input(np.array(3.0))
    assert box._trace is graph


def _sym(x):
    return x + x.T


@pytest.mark.parametrize("name,fn", [
    ("eigh", lambda a: (lambda r: r[0].sum() + (r[1] ** 2 * np.arange(1.0, 4.0)).sum())(
        np.linalg.eigh(_sym(a)))),
    ("slogdet", lambda a: np.linalg.slogdet(_sym(a) + 6 * np.eye(3))[1]),
])
def test_records_with_several_outputs(name, fn):
    """A primitive with several results is one record whose ``out`` holds every node."""
    av = RNG.normal(size=(3, 3))
    x = tensor(av, requires_grad=True)
    y = fn(x)
    assert isinstance(y, Tensor) and y.requires_grad
    assert any(len(r.out) > 1 for r in y.graph.tape)
    y.backward()
    close(x.grad, cr.grad(fn)(av), 1e-8)
    with pytest.raises(GraphError, match="freed"):  # every output of the released record is freed
        y.backward()


def test_graph_merge_with_a_record_of_several_outputs():
    av = RNG.normal(size=(3, 3))
    x = tensor(av, requires_grad=True)
    w, v = np.linalg.eigh(_sym(x))  # graph 1: a two-output record
    other = (x * 3.0).sin().sum()  # graph 2
    assert w.graph is not other.graph
    total = w.sum() * other + (v[:, 0] ** 2).sum()
    total.backward()

    def f(a):
        w, v = np.linalg.eigh(_sym(a))
        return cnp.sum(w) * cnp.sum(cnp.sin(a * 3.0)) + cnp.sum(v[:, 0] ** 2)

    close(x.grad, cr.grad(f)(av), 1e-8)


# ------------------------------------------------------------------ the one operator table
from chainrule.numpy.operators import METHODS, OPERATORS, PROPERTIES, REFLECTED  # noqa: E402

XV = RNG.uniform(0.5, 1.5, size=(3, 4)) * np.array([1, -1, 1, -1])
YV = RNG.uniform(0.5, 1.5, size=(3, 4))
W = RNG.normal(size=64)
ARGS = {  # what each entry is called with after the array itself (default: nothing)
    "__getitem__": ((slice(1, None), [0, 2, 2]),), "__pow__": (3,), "__rpow__": (1.5,),
    "__matmul__": (YV.T,), "__rmatmul__": (YV.T,), "dot": (YV.T,),
    "reshape": (4, 3), "swapaxes": (0, 1), "repeat": (2,), "take": ([0, 5, 5],),
    "astype": (np.float32,), "clip": (-0.7, 0.8), "transpose": (1, 0),
}
BINARY = {"__add__", "__sub__", "__mul__", "__truediv__", "__mod__", "__floordiv__", "__lt__",
          "__le__", "__gt__", "__ge__", "__eq__", "__ne__"} | set(REFLECTED) - {"__rpow__",
                                                                              "__rmatmul__"}
INTEGER = {"__and__", "__or__", "__xor__", "__invert__", "__rand__", "__ror__", "__rxor__"}
IN_PLACE = {"sort"}  # ndarray.sort sorts in place: tested on its own
ENTRIES = ([(n, False) for n in (*OPERATORS, *REFLECTED, *METHODS) if n not in IN_PLACE]
           + [(n, True) for n in PROPERTIES])


def _call(obj, name, is_property):
    if is_property:
        return getattr(obj, name)
    if name in INTEGER:
        args = () if name == "__invert__" else (6,)
    else:
        args = ARGS.get(name, (YV,) if name in BINARY else ())
    return getattr(obj, name)(*args)


def _floats(out):
    return isinstance(out, (Tensor, cr.core.primitive.Box)) and np.issubdtype(out.dtype, np.floating)


@pytest.mark.parametrize("name,is_property", ENTRIES, ids=[n for n, _ in ENTRIES])
def test_every_table_entry_means_the_same_on_a_tensor(name, is_property):
    """Tensor's operators, methods and properties are the operator table's: the same value
    and the same gradient as on a traced array under ``grad``."""
    if name in INTEGER:
        xi = np.array([[3, 5], [6, 9]])
        want = _call(xi, name, False)
        got = _call(tensor(xi), name, False)
        np.testing.assert_array_equal(got.numpy() if isinstance(got, Tensor) else got, want)
        return
    x = tensor(XV, requires_grad=True)
    out = _call(x, name, is_property)
    values = []

    def f(v):
        r = _call(v, name, is_property)
        values.append(r)
        if not _floats(r):
            return cnp.sum(v) * 0.0
        return cnp.sum(cnp.ravel(r) * W[: np.size(cr.core.primitive.unbox_all(r))])

    g = cr.grad(f)(XV)
    want = cr.core.primitive.unbox_all(values[0])
    if not _floats(values[0]):  # a constant under grad (a comparison, an index, .imag of reals)
        assert not isinstance(out, Tensor) or not out.requires_grad
        got = out.numpy() if isinstance(out, Tensor) else out
        if isinstance(want, tuple):
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_array_equal(got, want)
        return
    assert isinstance(out, Tensor) and out.requires_grad
    close(out, want, 1e-12)
    (out.ravel() * W[: out.size]).sum().backward()
    close(x.grad, g, 1e-12)


def test_sort_sorts_the_tensor_in_place():
    xv = RNG.normal(size=(3, 4))
    x = tensor(xv, requires_grad=True)
    t = x * 1.0
    assert t.sort(axis=0) is None
    close(t, np.sort(xv, axis=0), 0)
    (t[0] * np.arange(4.0)).sum().backward()  # the gradient goes to each column's minimum
    want = np.zeros((3, 4))
    want[np.argmin(xv, axis=0), np.arange(4)] = np.arange(4.0)
    close(x.grad, want, 0)
    with pytest.raises(cr.core.errors.InPlaceError, match="leaf"):
        x.sort()


def test_pytorch_keywords_are_numpys():
    xv = RNG.normal(size=(2, 3, 4))
    x = tensor(xv)
    for name in ("sum", "mean", "max", "min", "prod", "var", "std", "cumsum", "argmax", "argmin"):
        got = getattr(x, name)(dim=1)
        want = getattr(xv, name)(axis=1)
        close(got.numpy() if isinstance(got, Tensor) else got, want, 1e-12)
    close(x.sum(dim=(0, 2), keepdim=True), xv.sum(axis=(0, 2), keepdims=True), 1e-12)
    close(x.var(dim=1, ddof=1), xv.var(axis=1, ddof=1), 1e-12)
    close(x[:1].squeeze(dim=0), xv[0], 0)
    with pytest.raises(TypeError, match="not both"):
        x.sum(axis=0, dim=1)


@pytest.mark.parametrize("make", [lambda t: t.copy(), lambda t: t.astype(t.dtype),
                                  lambda t: t.reshape(t.shape), lambda t: +t, lambda t: t.clone()],
                         ids=["copy", "astype", "reshape", "pos", "clone"])
@pytest.mark.parametrize("kind", ["leaf", "intermediate"])
def test_a_copy_is_a_new_tensor(make, kind):
    """NumPy's copying methods give a new Tensor: an in-place update of one leaves the other."""
    x = tensor([1.0, 2.0], requires_grad=True)
    t = x * 1.0 if kind == "intermediate" else tensor([1.0, 2.0])
    c = make(t)
    assert c is not t
    t += 10.0
    close(c, [1.0, 2.0])
    if kind == "intermediate":
        (c * c).sum().backward()
        close(x.grad, [2.0, 4.0])


@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu"])
def test_activations_are_the_one_definition(name):
    """Tensor's activations are chainrule.nn's functions: same values, same derivative at kinks."""
    xv = np.array([-1.5, -0.0, 0.0, 0.3, 2.0])
    x = tensor(xv, requires_grad=True)
    y = getattr(x, name)()
    y.sum().backward()
    fn = getattr(nn, name)
    close(y, fn(xv), 0)
    close(x.grad, cr.grad(lambda v: cnp.sum(fn(v)))(xv), 0)
    if name == "relu":
        close(x.grad, [0.0, 0.0, 0.0, 1.0, 1.0], 0)  # relu'(0) = 0
