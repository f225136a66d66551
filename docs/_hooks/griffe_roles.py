"""A griffe extension for the API reference: Sphinx roles in docstrings become inline code.

chainrule's docstrings cross-reference with Sphinx roles (``:func:`jacobian```,
``:class:`~chainrule.core.primitive.Primitive```), which Markdown would print verbatim. They
are shown as code naming the object (the last dotted part when the target starts with ``~``).
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const):"
                  r"`(?P<tilde>~?)(?P<target>[^`]+)`")


def plain(text: str) -> str:
    def code(m: re.Match) -> str:
        target = m["target"]
        return f"`{target.rsplit('.', 1)[-1] if m['tilde'] else target}`"
    return ROLE.sub(code, text)


class SphinxRoles(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
