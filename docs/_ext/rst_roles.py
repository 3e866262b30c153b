r"""Griffe extension for the documentation site: the package's reST markup, rendered by Markdown.

The docstrings are numpydoc, written for Sphinx: they use the roles ``:math:`...```, ``:func:`...```,
``:class:`...``` (and ``mod``, ``meth``, ``attr``, ``data``, ``exc``, ``obj``) and the ``.. math::``
directive. mkdocstrings renders docstrings as Markdown, where these would show as literal text. This
extension rewrites them when griffe has loaded a package, before any docstring is parsed:

- ``:math:`x``` becomes ``\(x\)`` and a ``.. math::`` block becomes a ``$$ ... $$`` block
  (``pymdownx.arithmatex``, typeset by MathJax); a block with ``&`` or ``\\`` is wrapped in
  ``aligned``, as Sphinx wraps it in ``split``;
- nested bullet lists get Markdown's 4-space indentation per level (reST indents them by 2);
- ``text::`` before a literal block becomes ``text:`` (the indented block is Markdown code already);
- a cross-reference role becomes an *optional* autoref to the object it names, resolved like Sphinx
  resolves it (in the scope of the documented object; ``~`` shows the last component only). A target
  that is not rendered on the site (a private helper, the standard library) is shown as code without a
  link instead of failing the strict build.

A class whose constructor griffe cannot see (the SymPy nodes build in ``__new__``, the printers
inherit SymPy's ``__init__``) gets the signature of the imported class, so its Parameters section is
checked against the real signature and the page shows it.

A docstring with a placeholder line that the package fills in when it is imported (``<objective
options>`` in ``solve`` and ``loss``, the expected failed checks of ``KernelSSL``) is replaced by the
imported object's docstring, so the site shows what ``help()`` shows. Otherwise the line count of
every docstring is kept, so griffe's warnings still point at the right source line.
Used by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import html
import importlib
import inspect
import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(func|class|mod|meth|attr|data|exc|obj|const):`([^`]+)`")
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_BULLET = re.compile(r"^\s*[-*+] ")
_LITERAL = re.compile(r"(?<=[^\s:])::$", re.MULTILINE)
_MATH_DIRECTIVE = re.compile(r"^(?P<indent>\s*)\.\. math::\s*(?P<arg>.*)$")
# A line that is only a placeholder, such as ``<objective options>``, which the package fills in at
# import time (kssl_theory.kernel_regime.objectives.document_options, the KernelSSL docstring).
_PLACEHOLDER = re.compile(r"^\s*<[a-z][a-z ]*>\s*$", re.MULTILINE)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _math_blocks(text: str) -> str:
    """Replace each ``.. math::`` directive with a ``$$`` block spanning the same number of lines."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = _MATH_DIRECTIVE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, start = match["indent"], i
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            i += 1
        while i > start + 1 and not lines[i - 1].strip():  # trailing blank lines stay paragraph breaks
            i -= 1
        body = [line.strip() for line in [match["arg"], *lines[start + 1 : i]] if line.strip()]
        if not body:  # an empty directive: leave it as it is
            out += lines[start:i]
            continue
        if any("&" in line or "\\\\" in line for line in body) and not any("\\begin" in line for line in body):
            body[0], body[-1] = "\\begin{aligned}" + body[0], body[-1] + "\\end{aligned}"
        body[0], body[-1] = "$$" + body[0], body[-1] + "$$"
        # Blank lines first (a $$ block must start a Markdown block), so later lines keep their numbers.
        out += [""] * (i - start - len(body)) + [indent + line for line in body]
    return "\n".join(out)


def _definition_lists(text: str, title: str = "Modules") -> str:
    """Turn a ``Modules`` section (a reST definition list of modules) into a Markdown definition list.

    numpydoc reads such a section as name/description pairs, which fails on the roles and the prose
    the package's sections hold; as a bold title over a Markdown definition list (``def_list``) it
    renders as written.
    """
    source = text.split("\n")
    lines = list(source)
    for i in range(len(source) - 1):
        if source[i] == title and re.fullmatch(r"-{3,}", source[i + 1]):
            lines[i], lines[i + 1] = f"**{title}**", ""
            j = i + 2
            while j < len(source) and not (j + 1 < len(source) and re.fullmatch(r"-{3,}", source[j + 1])):
                if source[j].strip() and _indent(source[j]) > 0 and source[j - 1].strip():
                    first = _indent(source[j - 1]) == 0  # the line after the term starts the definition
                    lines[j] = (":   " if first else "    ") + source[j].strip()
                j += 1
    return "\n".join(lines)


def _lists(text: str) -> str:
    """Indent nested bullet lists the Markdown way.

    reST nests a list, and continues an item, at the column of the item's text (2 for ``- ``);
    Python-Markdown needs 4 spaces per level. Inside a list (from a bullet to the next line less
    indented than it, or as indented but not a bullet), every extra space of indentation is doubled.
    """
    out: list[str] = []
    base: int | None = None  # indentation of the current list's bullets
    for line in text.split("\n"):
        indent = _indent(line)
        if line.strip():
            bullet = _BULLET.match(line) is not None
            if base is not None and (indent < base or (indent == base and not bullet)):
                base = None
            if base is None and bullet:
                base = indent
        if base is not None and line.strip() and indent > base:
            line = " " * (base + 2 * (indent - base)) + line.lstrip()
        out.append(line)
    return "\n".join(out)


def _target(obj: griffe.Object, name: str, index: dict[str, set[str]]) -> str:
    """The full path Sphinx would link ``name`` to from ``obj``'s docstring (best effort).

    ``name`` is resolved in the scope of ``obj`` (a full path resolves as itself) and re-exports are
    followed to the object's own, rendered, path. A name that does not resolve so (one the package
    loads lazily, such as ``KernelSSL`` or ``prove_all``) links to the only public object of the
    package with that last component, if there is exactly one (``index``).
    """
    head, _, tail = name.partition(".")
    scope = obj if obj.is_module or obj.is_class else obj.parent
    path = name
    if scope is not None:
        try:
            base = scope.resolve(head)
            path = f"{base}.{tail}" if tail else base
        except Exception:  # not in scope: a full path already, or a name outside the package
            pass
    try:  # follow re-exports to the object's own (rendered) path
        found = obj.modules_collection[path]
        return found.final_target.path if found.is_alias else found.path
    except Exception:
        candidates = index.get(name.rsplit(".", 1)[-1], set())
        return next(iter(candidates)) if len(candidates) == 1 else path


def _index(obj: griffe.Object, index: dict[str, set[str]]) -> dict[str, set[str]]:
    """Last component -> full paths of the public objects under ``obj`` (aliases not followed)."""
    index.setdefault(obj.name, set()).add(obj.path)
    for member in obj.members.values():
        if not member.is_alias and not member.name.startswith("_") and isinstance(member, griffe.Object):
            _index(member, index)
    return index


def _runtime(obj: griffe.Object) -> Any:
    """The imported object ``obj`` describes (``None`` if it cannot be imported)."""
    try:
        runtime: Any = importlib.import_module(obj.module.path)
        for name in obj.path[len(obj.module.path) + 1 :].split(".") if obj.path != obj.module.path else []:
            runtime = getattr(runtime, name)
    except Exception:
        return None
    return runtime


def _runtime_docstring(obj: griffe.Object) -> str | None:
    """The docstring of ``obj`` as the imported package has it (placeholders filled in)."""
    doc = inspect.getdoc(_runtime(obj))
    return doc if doc and not _PLACEHOLDER.search(doc) else None


_PARAMETERS = re.compile(r"^Parameters\n-{3,}$", re.MULTILINE)
_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _constructor(cls: griffe.Class) -> None:
    """Give griffe the constructor signature of a class whose ``__init__`` it cannot see.

    Griffe takes a class's parameters from ``__init__`` only, found among its own or inherited
    members. The SymPy classes of :mod:`kssl_theory.symbolic` construct through ``__new__`` or
    inherit SymPy's ``__init__`` (SymPy is not loaded), so griffe sees no parameters and reports
    every documented one as "not in the signature". Their real signature is taken from the
    imported class (:func:`inspect.signature`) and added as ``__init__``, so the Parameters
    sections are checked against it like any other and the page shows the signature.
    """
    try:
        if "__init__" in cls.all_members:
            return
    except Exception:
        pass
    runtime = _runtime(cls)
    try:
        signature = inspect.signature(runtime)
    except (TypeError, ValueError):
        return
    parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for p in signature.parameters.values():
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        parameters.append(griffe.Parameter(p.name, kind=_KINDS[p.kind], default=default))
    init = griffe.Function("__init__", parameters=griffe.Parameters(*parameters), lineno=cls.lineno)
    cls.set_member("__init__", init)


def _rewrite(obj: griffe.Object, text: str, index: dict[str, set[str]]) -> str:
    text = _definition_lists(_math_blocks(text))
    # A reST literal block: "text::" shows "text:", and the indented block after it is a Markdown
    # code block already.
    text = _lists(_LITERAL.sub(":", text))
    text = _MATH_ROLE.sub(lambda m: "\\(" + m[1].strip() + "\\)", text)

    def role(match: re.Match[str]) -> str:
        kind, content = match[1], match[2].strip()
        explicit = re.fullmatch(r"(.*?)\s*<([^>]+)>", content, flags=re.DOTALL)
        if explicit:
            title, name = explicit[1], explicit[2]
        else:
            name = content.lstrip("~!")
            title = name.rsplit(".", 1)[-1] if content.startswith("~") else name
        name = name.lstrip(".")
        if kind in ("func", "meth") and not title.endswith(")"):
            title += "()"
        identifier = html.escape(_target(obj, name, index), quote=True)
        return f'<autoref identifier="{identifier}" optional><code>{html.escape(title)}</code></autoref>'

    return _ROLE.sub(role, text)


def _walk(obj: griffe.Object, seen: set[str], index: dict[str, set[str]]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    if isinstance(obj, griffe.Class) and obj.docstring is not None and _PARAMETERS.search(obj.docstring.value):
        _constructor(obj)
    if obj.docstring is not None:
        if _PLACEHOLDER.search(obj.docstring.value):
            obj.docstring.value = _runtime_docstring(obj) or obj.docstring.value
        obj.docstring.value = _rewrite(obj, obj.docstring.value, index)
    for member in obj.members.values():
        if not member.is_alias and isinstance(member, griffe.Object):
            _walk(member, seen, index)


class RstRoles(griffe.Extension):
    """Rewrite the reST roles and math directives of every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, set(), _index(pkg, {}))
