"""Classes of failure found by running HIPS/autograd's example programs against
chainrule.autograd (issue 14 item 7), each checked in our own words.

- ``autograd.tracer.trace`` with a program's ``Node`` subclass: autograd's user-extensible
  tracer (its examples print an evaluation trace and draw the computation graph with it).
- Integer parameters (a count of samples, a diagonal offset, a size in a shape, an FFT length)
  follow Python's index protocol as NumPy's do: a float is a TypeError, not silently truncated
  (older versions of the examples pass ``num=n_data / 2`` to ``linspace``, which NumPy refuses).
"""

import itertools
import warnings

import numpy as onp
import pytest

import chainrule
import chainrule.autograd.numpy as anp
import chainrule.numpy as cnp
from chainrule.autograd import elementwise_grad, grad
from chainrule.autograd.tracer import Node, trace

autograd = pytest.importorskip("autograd")
import autograd.numpy as rnp  # noqa: E402
import autograd.tracer as rtracer  # noqa: E402


def _recording_node(base):
    """A node type (subclass of ``base``) that appends ``(id, fun name, parent ids by argnum,
    value)`` to ``log`` and numbers nodes in creation order."""
    log = []
    ids = itertools.count()

    class Rec(base):
        def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
            self.id = next(ids)
            self.parents = parents
            log.append((self.id, fun.__name__, {i: p.id for i, p in zip(parent_argnums, parents)},
                        onp.asarray(value, dtype=float)))
            assert len(args) > max(parent_argnums) and isinstance(kwargs, dict)

        def initialize_root(self, x):
            self.id = next(ids)
            self.parents = ()
            log.append((self.id, "root", {}, onp.asarray(x, dtype=float)))

    return Rec, log


def _program(np):
    def f(x):
        y = np.tanh(x * x)
        return np.sum(np.exp(y) - 3.0 * y)
    return f


@pytest.mark.parametrize("x", [0.7, onp.array([0.3, -1.2, 2.0])])
def test_trace_records_each_primitive_as_autograd_does(x):
    ours, log = _recording_node(Node)
    theirs, rlog = _recording_node(rtracer.Node)
    end_value, end_node = trace(ours.new_root(x), _program(anp), x)
    r_value, r_node = rtracer.trace(theirs.new_root(x), _program(rnp), x)
    onp.testing.assert_allclose(end_value, r_value, rtol=1e-14)
    assert end_node.id == log[-1][0]
    # same graph: operation names, which argument came from which node, and the values
    assert [(n, p) for _, n, p, _ in log] == [(n, p) for _, n, p, _ in rlog]
    for a, b in zip(log, rlog):
        onp.testing.assert_allclose(a[3], b[3], rtol=1e-14)


def test_trace_nests_over_a_derivative_and_records_the_backward_pass():
    Rec, log = _recording_node(Node)
    f = lambda x: anp.sin(x + x) * 0.5  # noqa: E731
    value, node = trace(Rec.new_root(1.1), grad(f), 1.1)
    assert onp.isclose(value, onp.cos(2.2))  # d/dx sin(2x)/2
    names = [n for _, n, _, _ in log]
    assert "cos" in names  # the VJP of sin, computed on traced values, is recorded
    # the end node reaches the root through its parents
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n.id not in seen:
            seen.add(n.id)
            stack.extend(n.parents)
    assert 0 in seen


def test_trace_of_elementwise_grad_returns_the_traced_derivative():
    Rec, log = _recording_node(Node)
    x = onp.array([0.2, 0.4])
    value, node = trace(Rec.new_root(x), elementwise_grad(anp.exp), x)
    onp.testing.assert_allclose(value, onp.exp(x))
    assert node is not None and node.id == log[-1][0]
    assert "exp" in [n for _, n, _, _ in log]


def test_trace_of_an_output_independent_of_the_input_warns_and_returns_no_node():
    Rec, log = _recording_node(Node)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        value, node = trace(Rec.new_root(2.0), lambda x: anp.ones(3), 2.0)
    assert node is None and onp.array_equal(value, onp.ones(3))
    assert any("independent" in str(m.message) for m in w)
    assert [n for _, n, _, _ in log] == ["root"]


def test_node_base_class_requires_the_subclass_methods():
    with pytest.raises(NotImplementedError, match="initialize_root"):
        Node.new_root(1.0)
    with pytest.raises(NotImplementedError, match="parent_argnums"):
        trace(type("NoInit", (Node,), {"initialize_root": lambda self, x: None}).new_root(1.0),
              anp.sin, 1.0)


# -- integer parameters: NumPy's index protocol ------------------------------------------------

INTEGER_PARAMETERS = {  # name: f(np, x, integer) with the integer in an integer-only position
    "linspace num": lambda np, x, i: np.linspace(0.0, x[0, 0], num=i),
    "logspace num": lambda np, x, i: np.logspace(0.0, x[0, 0], num=i),
    "geomspace num": lambda np, x, i: np.geomspace(1.0, x[0, 0], num=i),
    "diagonal offset": lambda np, x, i: np.diagonal(x, i),
    "diag k (2-D)": lambda np, x, i: np.diag(x, i),
    "diag k (1-D)": lambda np, x, i: np.diag(x[0], i),
    "trace offset": lambda np, x, i: np.trace(x, i),
    "reshape size": lambda np, x, i: np.reshape(x, (i + 2, 3)),
    "method reshape size": lambda np, x, i: x.reshape((i + 2, 3)),
    "fft n": lambda np, x, i: np.real(np.fft.fft(x, n=i + 1)),
    "rfft n": lambda np, x, i: np.fft.irfft(np.fft.rfft(x, n=i + 1), n=i + 1),
    "fftn s": lambda np, x, i: np.real(np.fft.fftn(x, s=(i + 1, 2), axes=(0, 1))),
}


def _traced(f):
    """``f`` evaluated on a traced argument (inside a reverse pass), its value returned."""
    def loss(a):
        y = f(a)
        return cnp.sum(cnp.asarray(y) ** 2), y

    return chainrule.grad(loss, has_aux=True)(X_INT)[1]


X_INT = onp.arange(1.0, 13.0).reshape(3, 4)


@pytest.mark.parametrize("name", sorted(INTEGER_PARAMETERS))
@pytest.mark.parametrize("bad", [2.0, onp.float64(2.0), 2.5])
def test_a_float_in_an_integer_parameter_is_refused_as_numpy_refuses_it(name, bad):
    f = INTEGER_PARAMETERS[name]
    with pytest.raises(TypeError, match="integer"):
        f(onp, X_INT, bad)  # the contract
    with pytest.raises(TypeError, match="integer"):
        f(cnp, X_INT, bad)
    with pytest.raises(TypeError, match="integer"):
        _traced(lambda a: f(cnp, a, bad))


@pytest.mark.parametrize("name", sorted(INTEGER_PARAMETERS))
@pytest.mark.parametrize("good", [2, onp.int32(2), onp.int64(2)])
def test_integers_of_any_kind_give_numpys_values(name, good):
    f = INTEGER_PARAMETERS[name]
    want = f(onp, X_INT, good)
    onp.testing.assert_allclose(f(cnp, X_INT, good), want, rtol=1e-12, atol=1e-12)
    onp.testing.assert_allclose(_traced(lambda a: f(cnp, a, good)), want, rtol=1e-12, atol=1e-12)
