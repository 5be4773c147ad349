"""The natgrad API reference (book/appendix_api.md), generated from the package at build time.

- The page holds a ``{natgrad-api}`` block. When Sphinx reads the page, the block becomes
  one section per public module of natgrad (found by walking the package, so a new module
  appears without editing anything), each an ``automodule`` with all its public members,
  in the order the book teaches them (the first chapter the module's docstring names).
  Before them comes a table of ``natgrad.__all__``, each name linked to its entry.
- Every docstring's "Chapter N" ("chapters 4 and 5", "chapters 4-5") becomes a link to
  the N-th numbered chapter of _toc.yml, so the links follow the chapters when the book
  is renumbered. While a split is under way the table of contents can have fewer than N
  chapters; then the link goes to the chapter whose file is numbered N (``10_*`` for
  chapter 10), as the book names its files. A docstring that names a chapter found
  neither way is a warning (and so fails the ``-W`` build).
- The page is re-read on every build, since the package may have changed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from sphinx.util import logging

logger = logging.getLogger(__name__)

PAGE = "book/appendix_api"
PLACEHOLDER = re.compile(r"^```\{natgrad-api\}\s*\n```\s*$", re.MULTILINE)
CHAPTER = re.compile(r"\b([Cc]hapters?)(\s+)(\d+(?:(?:\s*(?:-|–|,|and|or)\s*)\d+)*)\b")
NUMBER = re.compile(r"\d+")


def public_modules(package: str = "natgrad") -> list[str]:
    """Every importable module of the package whose dotted path has no part starting with '_'."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def public_members(module_name: str) -> list[str]:
    """The functions and classes the module defines (or lists in ``__all__``), not private ones."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if exported is not None:
            if name in exported:
                names.append(name)
        elif getattr(value, "__module__", None) == module_name:
            names.append(name)
    return sorted(names)


def numbered_chapters(app) -> list[str]:
    """Docnames of the numbered chapters, in the order of _toc.yml."""
    site_map = app.config.external_site_map
    chapters = []
    for part in site_map.root.subtrees:
        if part.numbered:
            chapters += [item for item in part.items if isinstance(item, str)]
    return chapters


def chapter_docname(chapters: list[str], number: int) -> str | None:
    """The docname "Chapter ``number``" refers to: the number-th chapter, or past the end of
    the list the chapter whose file carries the number; None if there is neither."""
    if 1 <= number <= len(chapters):
        return chapters[number - 1]
    named = [docname for docname in chapters if docname.rsplit("/", 1)[-1].startswith(f"{number:02d}_")]
    return named[0] if len(named) == 1 else None


def _first_chapter(module_name: str) -> int:
    doc = importlib.import_module(module_name).__doc__ or ""
    found = [int(number) for match in CHAPTER.finditer(doc) for number in NUMBER.findall(match.group(3))]
    return min(found) if found else 10**6


def _summary(module_name: str) -> str:
    doc = inspect.getdoc(importlib.import_module(module_name)) or ""
    return doc.split("\n\n")[0].replace("\n", " ").strip()


def render_api(app) -> str:
    import natgrad

    modules = [name for name in public_modules() if name != "natgrad"]
    modules.sort(key=lambda name: (_first_chapter(name), name))
    where = {}
    for module_name in modules:
        for member in public_members(module_name):
            where.setdefault(member, f"{module_name}.{member}")
    lines = [
        "## The top-level names",
        "",
        "`import natgrad as ng` gives these names directly; each links to its entry below.",
        "",
        "| name | what it is |",
        "| --- | --- |",
    ]
    for name in sorted(natgrad.__all__, key=str.lower):
        value = getattr(natgrad, name)
        if inspect.ismodule(value):
            lines.append(f"| `ng.{name}` | module {{py:mod}}`{value.__name__}` |")
        else:
            target = f"{value.__module__}.{value.__qualname__}"
            kind = "class" if inspect.isclass(value) else "function"
            lines.append(f"| `ng.{name}` | {kind} {{py:obj}}`{target}` |")
    for module_name in modules:
        lines += [
            "",
            f"## `{module_name}`",
            "",
            "```{eval-rst}",
            f".. automodule:: {module_name}",
            "   :members:",
            "   :undoc-members:",
            "   :show-inheritance:",
            "```",
        ]
    return "\n".join(lines) + "\n"


def _resolve_top_level(app, env, node, contnode):
    """Resolve ``natgrad.NAME`` (a name re-exported at the top) to its documented home."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("natgrad.") or target.count(".") != 1:
        return None
    import natgrad

    value = getattr(natgrad, target.split(".")[1], None)
    if value is None or inspect.ismodule(value) or not hasattr(value, "__module__"):
        return None
    home = f"{value.__module__}.{value.__qualname__}"
    if home == target:
        return None
    node = node.deepcopy()
    node["reftarget"] = home
    return env.get_domain("py").resolve_xref(env, node["refdoc"], app.builder, node["reftype"], home, node, contnode)


def _fill_page(app, docname, source) -> None:
    if docname == PAGE:
        source[0] = PLACEHOLDER.sub(lambda _: render_api(app), source[0])


def _always_reread(app, env, added, changed, removed):
    return [PAGE] if PAGE in env.found_docs else []


def link_chapters(app, text: str, location=None) -> str:
    """Turn "Chapter N" into a :doc: link to the N-th numbered chapter (RST)."""
    chapters = numbered_chapters(app)

    def link(number_match):
        number = int(number_match.group(0))
        docname = chapter_docname(chapters, number)
        if docname is None:
            logger.warning("a docstring names chapter %d, but the book has %d chapters", number, len(chapters), location=location)
            return number_match.group(0)
        return f":doc:`{number} </{docname}>`"

    def replace(match):
        words, space, numbers = match.groups()
        linked = NUMBER.sub(link, numbers)
        if numbers.isdigit() and linked != numbers:
            # One chapter: the whole phrase is the link text.
            return f":doc:`{words}{space}{numbers} </{chapter_docname(chapters, int(numbers))}>`"
        return words + space + linked

    return CHAPTER.sub(replace, text)


def _link_docstring(app, what, name, obj, options, lines) -> None:
    if not name.startswith("natgrad"):
        return
    for index, line in enumerate(lines):
        # Only outside inline literals: an even number of backquotes before the match.
        pieces = re.split(r"(``.*?``|`[^`]*`)", line)
        lines[index] = "".join(piece if piece.startswith("`") else link_chapters(app, piece, location=name) for piece in pieces)


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("source-read", _fill_page)
    app.connect("env-get-outdated", _always_reread)
    app.connect("autodoc-process-docstring", _link_docstring)
    app.connect("missing-reference", _resolve_top_level)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
