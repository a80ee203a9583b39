"""A griffe extension: mlpzero's docstrings, written with reStructuredText roles, as Markdown.

The docstrings say ``:math:`x^2``` and ``.. math::`` for formulas and ``:func:`name``` for
cross-references, which read well in a terminal and in ``help()``. The documentation site
renders Markdown, so before mkdocstrings sees a docstring this extension rewrites

- ``:math:`...``` into ``\\(...\\)`` and a ``.. math::`` block into ``$$ ... $$``, which
  pymdownx.arithmatex hands to MathJax;
- ``:func:`~a.b```, ``:class:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:data:``,
  ``:exc:`` and ``:obj:`` into inline code (``b`` with the ``~``, ``a.b`` without).

A docstring that is a template filled in at import time (a line such as
``{parameters}``) is replaced by the filled one the imported object carries, the text
``help()`` shows. Only the text given to the site changes; the source is left as it is.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_PLACEHOLDER = re.compile(r"^\s*\{[a-z_]+\}\s*$", re.MULTILINE)
_NAME_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")


def _name(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _math_blocks(text: str) -> str:
    """Each ``.. math::`` directive (its own line plus indented lines) as a ``$$`` block."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if not stripped.startswith(".. math::"):
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        body = [stripped[len(".. math::") :].strip()]
        i += 1
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
        ):
            body.append(lines[i].strip())
            i += 1
        formula = "\n".join(part for part in body if part).rstrip(",.")
        out += ["", f"{indent}$$", *(f"{indent}{part}" for part in formula.splitlines())]
        out += [f"{indent}$$", ""]
    return "\n".join(out)


def rewrite(text: str) -> str:
    """The docstring ``text`` with its roles and math directives in Markdown."""
    text = _math_blocks(text)
    text = _MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    return _NAME_ROLE.sub(_name, text)


class RstRoles(griffe.Extension):
    """Rewrites every docstring once the object tree is complete."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        if _PLACEHOLDER.search(obj.docstring.value):
            obj.docstring.value = _imported_docstring(obj)
        obj.docstring.value = rewrite(obj.docstring.value)


def _imported_docstring(obj: griffe.Object) -> str:
    """The docstring of ``obj`` as the imported module holds it."""
    qualname = obj.path[len(obj.module.path) + 1 :]
    target: Any = importlib.import_module(obj.module.path)
    for part in qualname.split("."):
        target = getattr(target, part)
    return inspect.cleandoc(target.__doc__ or "")
