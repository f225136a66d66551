"""chainrule.Tensor on the core's protocols: the Trace protocol, the one tape module, the one
operator table, and records with several outputs."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import GraphError, Tensor, tensor
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
