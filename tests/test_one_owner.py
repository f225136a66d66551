"""One owner per concept, checked on the source with ``ast``.

* No primitive is looked up by its name string outside the rule families that define it:
  per-primitive data elsewhere (fused kernels, gate symbols, the formula language, the
  operator table) is keyed by the Primitive object.
* The tape is walked in one module (``chainrule.core.tape``): nothing else iterates a
  tape or decodes a record's outputs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import chainrule
from chainrule.core.primitive import Primitive

ROOT = Path(importlib.util.find_spec("chainrule").submodule_search_locations[0])


def _primitive_names() -> set[str]:
    names = set()
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if ".cli" in info.name or info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        names.update(v.name for v in vars(mod).values() if isinstance(v, Primitive))
    return names


PRIMITIVE_NAMES = _primitive_names()


def _sources(exclude=()):
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not any(rel.startswith(e) for e in exclude):
            yield rel, ast.parse(path.read_text())


def _is_prim_name(node) -> bool:
    """``prim.name`` or ``<anything>.prim.name``: a primitive's name string."""
    return (isinstance(node, ast.Attribute) and node.attr == "name"
            and ((isinstance(node.value, ast.Name) and node.value.id in ("prim", "primitive", "p"))
                 or (isinstance(node.value, ast.Attribute) and node.value.attr in ("prim", "primitive"))))


def _str_consts(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [s for e in node.elts for s in _str_consts(e)]
    return []


_MODULE_NAMES = {p.stem for p in ROOT.rglob("*.py")} | {p.name for p in ROOT.rglob("*") if p.is_dir()}


def _module_aliases(tree) -> set[str]:
    """Local names bound to chainrule modules (``from .. import numpy as cnp``)."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("chainrule")):
            aliases.update(a.asname or a.name for a in node.names if a.name in _MODULE_NAMES)
        elif isinstance(node, ast.Import):
            aliases.update(a.asname for a in node.names if a.name.startswith("chainrule.") and a.asname)
    return aliases


def name_lookups(sources=None) -> list[str]:
    found = []
    for rel, tree in sources if sources is not None else _sources(exclude=("rules/",)):
        modules = _module_aliases(tree)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', '?')}"
            # getattr(namespace, "tanh") / getattr(namespace, name)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2):
                # a namespace searched for a function by name (duck-typing probes such as
                # hasattr(c, "astype") on a value are not lookups of a primitive)
                consts = _str_consts(node.args[1])
                if isinstance(node.args[0], ast.Name) and node.args[0].id in modules:
                    name = consts[0] if consts else "<a name>"
                    found.append(f"{where}: getattr({node.args[0].id}, {name!r})")
                elif any(c.startswith("method_") for c in consts):
                    found.append(f"{where}: getattr(..., {consts[0]!r})")
            # prim.name == "scatter_add", prim.name in (...)
            if isinstance(node, ast.Compare) and (
                    _is_prim_name(node.left) or any(_is_prim_name(c) for c in node.comparators)):
                found.append(f"{where}: a comparison with a primitive's name")
            # table[prim.name], table.get(prim.name)
            if isinstance(node, ast.Subscript) and _is_prim_name(node.slice):
                found.append(f"{where}: a table indexed by a primitive's name")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("get", "pop", "setdefault") and node.args
                    and _is_prim_name(node.args[0])):
                found.append(f"{where}: a table looked up by a primitive's name")
            # {"add": "+", "tanh": "math.tanh"}: per-primitive data keyed by primitive names. A
            # vocabulary that maps a user-facing word to a function object (the formula
            # language's `relu`, PyTorch's method names) names functions, not primitives.
            if isinstance(node, ast.Dict):
                keys = [k.value for k, v in zip(node.keys, node.values, strict=True)
                        if isinstance(k, ast.Constant) and isinstance(k.value, str)
                        and not isinstance(v, (ast.Name, ast.Attribute, ast.Lambda))]
                if sum(k in PRIMITIVE_NAMES for k in keys) >= 2:
                    found.append(f"{where}: a dict of data keyed by primitive names {keys[:4]}...")
    return found


def test_primitives_are_found():
    assert {"add", "tanh", "getitem"} & PRIMITIVE_NAMES


def test_no_primitive_is_looked_up_by_its_name_string():
    found = name_lookups()
    assert not found, "per-primitive data keyed by name strings:\n" + "\n".join(found)


def tape_walks(sources=None) -> list[str]:
    """Iterations over a tape, and decodings of a record's outputs, outside core/tape.py."""
    found = []
    for rel, tree in sources if sources is not None else _sources(exclude=("core/tape.py",)):
        for node in ast.walk(tree):
            it = None
            if isinstance(node, (ast.For, ast.comprehension)):
                it = node.iter
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("reversed", "enumerate", "iter", "list", "sorted") and node.args):
                it = node.args[0]
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "merge" and node.args):  # heapq.merge(a.tape, b.tape)
                it = node.args[0]
            while isinstance(it, ast.Subscript):  # tape[:n] is the tape too
                it = it.value
            if it is not None and isinstance(it, ast.Attribute) and it.attr == "tape":
                found.append(f"{rel}:{node.lineno if hasattr(node, 'lineno') else it.lineno}: "
                             f"iterates .tape")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "type"
                    and node.args and isinstance(node.args[0], ast.Attribute)
                    and node.args[0].attr == "out"):
                found.append(f"{rel}:{node.lineno}: decodes a record's outputs by type")
    return found


def test_the_tape_is_walked_in_one_module():
    found = tape_walks()
    assert not found, "tape sweeps outside chainrule.core.tape:\n" + "\n".join(found)


SEPARATE_COPIES = {  # each was in the tree before the tape and the tables had one owner
    "getattr(cnp, name)": "from .. import numpy as cnp\ndef _np(name):\n    return getattr(cnp, name)\n",
    "getattr(cnp, 'tanh')": "import chainrule.numpy as cnp\nf = getattr(cnp, 'tanh')\n",
    "a gate-symbol table": 'SYMBOLS = {"add": "+", "multiply": "*", "tanh": "tanh"}\n',
    "a name comparison": 'def f(e):\n    return e.prim.name == "scatter_add"\n',
    "a table indexed by name": "def f(rec, T):\n    return T[rec.prim.name]\n",
}


@pytest.mark.parametrize("what", sorted(SEPARATE_COPIES))
def test_the_name_check_sees_each_kind_of_lookup(what):
    assert name_lookups([("example.py", ast.parse(SEPARATE_COPIES[what]))])


def test_the_tape_check_sees_a_sweep():
    src = ("def f(trace):\n    for rec in reversed(trace.tape):\n"
           "        out = rec.out if type(rec.out) is tuple else (rec.out,)\n")
    assert len(tape_walks([("example.py", ast.parse(src))])) == 2
