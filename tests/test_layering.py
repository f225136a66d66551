"""Imports flow one way: core -> rules -> transforms / front-ends -> nn, viz, cli.

The package's own imports are read with ``ast`` (nothing is imported), resolved to modules,
and checked for
(a) cycles in the module import graph,
(b) an import from ``chainrule.core`` of anything outside it,
(c) an import of a chainrule module placed inside a function (which hides a cycle until the
    function first runs, and costs a dictionary lookup on every call).
Optional third-party dependencies may be imported lazily; chainrule modules may not.

``ENFORCED`` names the subpackages held to all three today. Every offender in the package
is reported in the failure message and in ``offenders_report()``, so widening ``ENFORCED``
to ``("chainrule",)`` is the whole change once the remaining ones are gone.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

ROOT = Path(importlib.util.find_spec("chainrule").submodule_search_locations[0])
PACKAGE = "chainrule"
ENFORCED = ("chainrule",)


def _module_name(path: Path) -> str:
    parts = (PACKAGE,) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _resolve(node, module: str) -> list[str]:
    """The chainrule modules an ``import`` / ``from ... import`` statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
    if node.level:  # relative: ``from ..core import x`` inside chainrule.rules.shape
        base = module.split(".") if _is_package(module) else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return []
    out = []
    for alias in node.names:  # ``from pkg import submodule`` loads the submodule
        sub = f"{target}.{alias.name}"
        out.append(sub if sub in MODULES else target)
    return sorted(set(out))


def _dynamic_target(call):
    """The chainrule module an ``importlib.import_module(...)`` / ``__import__(...)`` call
    loads, ``"<dynamic>"`` when its name is computed, ``None`` for another package's module."""
    f = call.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if name not in ("import_module", "__import__") or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value if arg.value.split(".")[0] in (PACKAGE, "") else None
    return DYNAMIC


DYNAMIC = "<dynamic>"


def _imports(module: str, source: str | None = None):
    """``(imported module, line, inside a function)`` for every chainrule import of ``module``."""
    if source is None:
        source = MODULES[module].read_text()
    tree = ast.parse(source)
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend((t, child.lineno, in_function) for t in _resolve(child, module))
            elif isinstance(child, ast.Call) and _dynamic_target(child) is not None:
                found.append((_dynamic_target(child), child.lineno, in_function))
            visit(child, in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(tree, False)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(graph=None) -> list[list[str]]:
    """Strongly connected components of the module-level import graph with more than one
    module (or a module importing itself): each is an import cycle (Tarjan's algorithm)."""
    graph = GRAPH if graph is None else graph
    edges = {m: sorted({t for t, _, inside in imps if not inside and t in graph})
             for m, imps in graph.items()}
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def strongconnect(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges[v]:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            strongconnect(v)
    return sorted(out)


def _upward_from_core() -> list[str]:
    return [f"{m}:{line} imports {t}" for m in MODULES if _in(m, "chainrule.core")
            for t, line, _ in GRAPH[m] if not _in(t, "chainrule.core")]


def _function_level() -> list[str]:
    return [f"{m}:{line} imports {t} inside a function" for m in MODULES
            for t, line, inside in GRAPH[m] if inside]


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _enforced(text: str) -> bool:
    return any(_in(text.split(":")[0].split(" ")[0], p) for p in ENFORCED)


def offenders_report() -> str:
    """Every offender in the package, enforced or not (``python tests/test_layering.py``)."""
    lines = ["import cycles:"] + [" -> ".join(c) for c in _cycles()]
    lines += ["core importing outside core:"] + _upward_from_core()
    lines += ["imports inside functions:"] + _function_level()
    return "\n  ".join(lines)


def test_the_resolver_sees_the_package():
    # guards the checks below against passing vacuously on a resolver that finds nothing
    assert {"chainrule.core.primitive", "chainrule.rules.linear", "chainrule.rules.shape"} <= set(MODULES)
    shape_imports = {t for t, _, _ in GRAPH["chainrule.rules.shape"]}
    assert {"chainrule.rules.linear", "chainrule.rules.constants", "chainrule.core.primitive"} <= \
        shape_imports
    # ``from . import x`` resolves to the submodule, ``from .x import y`` to the module x
    src = "from . import linear as _l\nfrom .linear import reshape\nfrom ..core import aval\n"
    tree = ast.parse(src)
    got = [_resolve(n, "chainrule.rules.shape") for n in tree.body]
    assert got == [["chainrule.rules.linear"], ["chainrule.rules.linear"], ["chainrule.core.aval"]]


def test_the_checks_detect_what_they_forbid():
    src = ("import numpy\nfrom . import linear\n\n\ndef f():\n    import scipy\n"
           "    from .shape import take\n    return take\n")
    assert _imports("chainrule.rules.special", src) == [
        ("chainrule.rules.linear", 2, False), ("chainrule.rules.shape", 7, True)]
    # a cycle through a module-level import is found; one closed only inside a function is
    # not a cycle of the import graph (that import is reported by the function-level check)
    a, b, c = "chainrule.a", "chainrule.b", "chainrule.c"
    assert _cycles({a: [(b, 1, False)], b: [(c, 1, False)], c: [(a, 1, False)]}) == [[a, b, c]]
    assert _cycles({a: [(b, 1, False)], b: [(a, 1, True)]}) == []
    assert _cycles({a: [(a, 1, False)]}) == [[a]]
    # an import made by importlib inside a function dodges a cycle just the same
    src = ("import importlib\n\n\ndef f(name):\n    importlib.import_module('scipy.linalg')\n"
           "    importlib.import_module('chainrule.nn')\n    return importlib.import_module(name)\n")
    assert _imports("chainrule.cli.main", src) == [("chainrule.nn", 6, True), (DYNAMIC, 7, True)]


def test_no_import_cycle():
    cycles = [c for c in _cycles() if any(_enforced(m) for m in c)]
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles) + \
        "\n\nall offenders:\n  " + offenders_report()


def test_core_imports_only_core():
    bad = [o for o in _upward_from_core() if _enforced(o)]
    assert not bad, "\n".join(bad) + "\n\nall offenders:\n  " + offenders_report()


def test_no_chainrule_import_inside_a_function():
    bad = [o for o in _function_level() if _enforced(o)]
    assert not bad, "\n".join(bad) + "\n\nall offenders:\n  " + offenders_report()


def test_rules_import_only_core_and_rules():
    """rules/ sits right above the core: it never reaches up into transforms or front-ends."""
    bad = [f"{m}:{line} imports {t}" for m in MODULES if _in(m, "chainrule.rules")
           for t, line, _ in GRAPH[m] if not (_in(t, "chainrule.core") or _in(t, "chainrule.rules"))]
    assert not bad, "\n".join(bad)


def test_linear_is_the_bottom_of_rules():
    """The linear primitives (each other's transposes) import nothing else from rules/ but the
    NumPy dispatch tables (rules/dispatch.py, which imports nothing from chainrule)."""
    above = [t for t, _, _ in GRAPH["chainrule.rules.linear"]
             if _in(t, "chainrule.rules") and t != "chainrule.rules.dispatch"]
    assert above == []
    assert GRAPH["chainrule.rules.dispatch"] == []


if __name__ == "__main__":
    print(offenders_report())
