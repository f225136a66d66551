"""MkDocs hooks for the chainrule site (mkdocs.yml: ``hooks``).

``<!-- names: chainrule.numpy -->`` in a page is replaced by the sorted names that module
defines itself, differentiable (the names it passes through unchanged from the module it
mirrors -- ``numpy`` for ``chainrule.numpy`` -- such as dtypes and constructors, are left
out). The list is generated from the package when the site is built, so it cannot go stale.
"""

from __future__ import annotations

import importlib
import re
import types

MARKER = re.compile(r"<!--\s*names:\s*(?P<module>[\w.]+)\s*-->")


def own_names(module_name: str) -> list[str]:
    """Public functions of a chainrule namespace that are not its mirror's own objects."""
    module = importlib.import_module(module_name)
    try:
        mirror = importlib.import_module(module_name.removeprefix("chainrule."))
    except ImportError:
        mirror = None
    public = getattr(module, "__all__", None)
    if public is None:
        public = [n for n in vars(module) if not n.startswith("_")]
    own = {n for n in public
           if not isinstance(getattr(module, n), types.ModuleType)
           and (mirror is None or getattr(mirror, n, None) is not getattr(module, n))}
    return sorted(own, key=str.lower)


def listing(module_name: str) -> str:
    found = own_names(module_name)
    return f"{len(found)} functions: " + ", ".join(f"`{n}`" for n in found)


def on_page_markdown(markdown: str, **kwargs) -> str:
    return MARKER.sub(lambda m: listing(m["module"]), markdown)
