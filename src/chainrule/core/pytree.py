"""Pytrees: nested dicts, lists and tuples (and namedtuples) of array leaves.

Follows JAX's conventions: dict keys are visited in sorted order, ``None`` is an
empty subtree (it holds no leaf), everything else is a leaf.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class TreeDef(NamedTuple):
    """The structure of a pytree with its leaves taken out."""

    kind: Any  # "leaf", "none", dict, list, tuple, or a namedtuple class
    meta: Any  # dict keys for dicts, else None
    children: tuple

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind == "leaf" else sum(c.num_leaves for c in self.children)

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind is dict:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children))
            return "{" + inner + "}"
        inner = ", ".join(repr(c) for c in self.children)
        return f"[{inner}]" if self.kind is list else f"({inner})"


LEAF = TreeDef("leaf", None, ())
_NONE = TreeDef("none", None, ())


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def tree_flatten(tree) -> tuple[list, TreeDef]:
    """Return ``(leaves, treedef)``; leaves in a deterministic order."""
    leaves: list = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves: list) -> TreeDef:
    t = type(tree)
    if t is dict or isinstance(tree, dict):
        keys = sorted(tree)
        return TreeDef(dict, tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    if t is list or t is tuple or _is_namedtuple(tree):
        return TreeDef(t, None, tuple(_flatten(c, leaves) for c in tree))
    if tree is None:
        return _NONE
    leaves.append(tree)
    return LEAF


def tree_unflatten(treedef: TreeDef, leaves) -> Any:
    """Inverse of :func:`tree_flatten`."""
    it = iter(leaves)
    out = _unflatten(treedef, it)
    if next(it, _SENTINEL) is not _SENTINEL:
        raise ValueError(f"too many leaves for tree structure {treedef!r}")
    return out


_SENTINEL = object()


def _unflatten(td: TreeDef, it):
    if td.kind == "leaf":
        try:
            return next(it)
        except StopIteration:
            raise ValueError("too few leaves for tree structure") from None
    if td.kind == "none":
        return None
    children = [_unflatten(c, it) for c in td.children]
    if td.kind is dict:
        return dict(zip(td.meta, children))
    if td.kind is list:
        return children
    if td.kind is tuple:
        return tuple(children)
    return td.kind(*children)  # namedtuple


def tree_map(fn, tree, *rest):
    """Apply ``fn`` leaf-wise over one or more trees of the same structure."""
    leaves, td = tree_flatten(tree)
    others = []
    for r in rest:
        rl, rtd = tree_flatten(r)
        if rtd != td:
            raise ValueError(f"tree structures differ: {td!r} vs {rtd!r}")
        others.append(rl)
    return tree_unflatten(td, [fn(*xs) for xs in zip(leaves, *others)])


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]
