"""Griffe extension: Sphinx roles in emmc's docstrings as Markdown code.

The docstrings cross-reference with reST roles (``:class:`mc.case.Case```,
``:func:`...```, ``:data:`...```); Markdown would show the role markup as
text.  This turns each into inline code (the object's dotted name), once,
when griffe loads the object.  Loaded by mkdocstrings (``mkdocs.yml``,
``handlers.python.options.extensions``); nothing is imported or executed.
"""

from __future__ import annotations

import re

from griffe import Extension

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):`~?([^`]+)`")


class SphinxRoles(Extension):
    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)
