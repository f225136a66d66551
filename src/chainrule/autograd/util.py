"""``autograd.util``: the small helpers autograd's programs import from it.

``func(f)`` is ``f`` (autograd uses it to name an unbound method as a primitive);
``subval``/``subvals`` replace positional arguments in a tuple; ``toposort`` walks a graph
from its end node, children before parents; ``quick_grad_check`` is autograd's deprecated
first-order reverse-mode check, which warns and calls :func:`check_grads`.
"""

from __future__ import annotations

import operator
import warnings

from .test_util import check_grads

__all__ = ["func", "quick_grad_check", "subval", "subvals", "toposort"]


def subvals(x, ivs):
    """``tuple(x)`` with ``x[i] = v`` for each ``(i, v)`` in ``ivs``."""
    x_ = list(x)
    for i, v in ivs:
        x_[i] = v
    return tuple(x_)


def subval(x, i, v):
    """``tuple(x)`` with ``x[i] = v``."""
    return subvals(x, [(i, v)])


def func(f):
    """``f`` itself (autograd spells an unbound method ``func(Class.method)``)."""
    return f


def toposort(end_node, parents=operator.attrgetter("parents")):
    """The nodes that ``end_node`` depends on, each after every node that depends on it
    (a node is yielded once all of its children have been)."""
    child_counts = {}
    stack = [end_node]
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(parents(node))
    childless = [end_node]
    while childless:
        node = childless.pop()
        yield node
        for parent in parents(node):
            if child_counts[parent] == 1:
                childless.append(parent)
            else:
                child_counts[parent] -= 1


def quick_grad_check(fun, arg0, extra_args=(), kwargs=None, verbose=True, eps=1e-4, rtol=1e-4,
                     atol=1e-6, rs=None):
    """autograd's deprecated check: ``fun(arg0, *extra_args, **kwargs)``'s reverse-mode
    gradient in ``arg0`` against central differences (first order); raises if they differ.
    ``verbose``, ``eps``, ``rtol``, ``atol`` and ``rs`` are accepted and unused, as in autograd."""
    warnings.warn("quick_grad_check is deprecated (as in autograd): use test_util.check_grads",
                  DeprecationWarning, stacklevel=2)
    kwargs = kwargs or {}
    check_grads(lambda a: fun(a, *extra_args, **kwargs), modes=["rev"], order=1)(arg0)
