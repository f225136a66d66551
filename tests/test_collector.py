"""The cyclic garbage collector is paused while a transform records and runs its backward
pass (recording makes no cycles, but the collector's passes over the growing tape cost a third
of an LSTM gradient), and is left exactly as the caller had it afterwards."""

import gc

import numpy as np
import pytest

import chainrule as cr


def _seen_inside(transform):
    seen = []

    def f(x):
        seen.append(gc.isenabled())
        return np.sum(np.tanh(x) ** 2)
    transform(f)
    return seen


@pytest.mark.parametrize("transform", [
    lambda f: cr.grad(f)(np.ones(3)),
    lambda f: cr.value_and_grad(f)(np.ones(3)),
    lambda f: cr.jvp(f, (np.ones(3),), (np.ones(3),)),
    lambda f: cr.hessian(f)(np.ones(3)),
    lambda f: cr.grad(cr.grad(lambda x: f(x) * 1.0))(1.0),
])
def test_paused_while_recording_and_restored_after(transform):
    assert gc.isenabled()
    assert _seen_inside(transform) and not any(_seen_inside(transform))
    assert gc.isenabled()


def test_a_caller_who_disabled_it_keeps_it_disabled():
    gc.disable()
    try:
        cr.grad(lambda x: np.sum(x ** 2))(np.ones(3))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_restored_when_the_function_raises():
    def f(x):
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        cr.grad(f)(1.0)
    assert gc.isenabled()


def test_cycles_made_inside_are_collected_afterwards():
    class Node:
        pass

    def f(x):
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle the function drops
        return x * 2.0

    gc.collect()
    before = sum(type(o) is Node for o in gc.get_objects())
    cr.grad(f)(1.0)
    gc.collect()
    assert sum(type(o) is Node for o in gc.get_objects()) == before
