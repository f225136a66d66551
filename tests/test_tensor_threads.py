"""chainrule.Tensor from several threads: no lost ``.grad`` update, no lost record, no double claim."""

import sys
import threading

import numpy as np
import pytest

from chainrule import GraphError, tensor


@pytest.fixture(autouse=True)
def switch_often():
    """Thread switches every microsecond, so a read-add-write race shows up in a short test."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(n, work):
    errors = []

    def target(i):
        try:
            work(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("shape", [(), (3,)])
def test_grad_accumulation_on_a_shared_leaf(shape):
    w = tensor(np.ones(shape), requires_grad=True)
    b = tensor(np.ones(shape), requires_grad=True)

    def work(i):
        for _ in range(400):
            ((w * 2.0) + b).sum().backward()

    assert run_threads(4, work) == []
    np.testing.assert_array_equal(w.grad.numpy(), np.full(shape, 4 * 400 * 2.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full(shape, 4 * 400 * 1.0))


def test_leaf_backward_from_several_threads():
    w = tensor(np.ones(2), requires_grad=True)

    def work(i):
        for _ in range(400):
            w.backward(np.ones(2))

    assert run_threads(4, work) == []
    np.testing.assert_array_equal(w.grad.numpy(), [1600.0, 1600.0])


def test_threads_recording_on_one_shared_graph():
    """A shared intermediate: every thread appends records to its graph and pulls through it."""
    x = tensor(0.3, requires_grad=True)
    h = x.sin()
    locals_ = [tensor(float(i + 1), requires_grad=True) for i in range(4)]

    def work(i):
        for _ in range(150):
            (h * locals_[i] * 1.0).backward(retain_graph=True)

    assert run_threads(4, work) == []
    assert np.isclose(x.grad.item(), 150 * np.cos(0.3) * (1 + 2 + 3 + 4), rtol=1e-12)
    for i, leaf in enumerate(locals_):
        assert np.isclose(leaf.grad.item(), 150 * np.sin(0.3), rtol=1e-12), i


def test_threads_merging_graphs_into_a_shared_one():
    """Each thread's own graph meets the shared one (a merge) while others record on it."""
    x = tensor(0.7, requires_grad=True)
    h = x * 2.0
    vs = [tensor(float(i + 1), requires_grad=True) for i in range(4)]

    def work(i):
        for _ in range(100):
            own = vs[i].exp() * 1.0  # a new graph
            (own * h + h * h).backward(retain_graph=True)  # merged with h's graph

    assert run_threads(4, work) == []
    v = np.arange(1.0, 5.0)
    assert np.isclose(x.grad.item(), 100 * np.sum(2 * np.exp(v) + 8 * 0.7), rtol=1e-12)
    for i, leaf in enumerate(vs):
        assert np.isclose(leaf.grad.item(), 100 * np.exp(v[i]) * 1.4, rtol=1e-12), i


def test_one_graph_released_by_one_backward_only():
    """Two threads backward through one graph without retain_graph: one pass claims it, the
    other raises (never two contributions, never a silent zero)."""
    for _ in range(30):
        x = tensor(1.5, requires_grad=True)
        y = (x * x).exp()
        errors = run_threads(2, lambda i, y=y: y.backward())
        assert len(errors) == 1 and isinstance(errors[0], GraphError)
        assert np.isclose(x.grad.item(), 3.0 * np.exp(2.25), rtol=1e-12)
