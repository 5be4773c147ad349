"""The natgrad API page (book/appendix_api.md) documents the whole package, checked against
the package itself: the modules and their public functions and classes are found by
introspection here, so a new module or function is covered without editing this test."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

import natgrad
from tests.site import require_built_site

ROOT = Path(__file__).resolve().parents[1]


def public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(natgrad.__path__, "natgrad."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def public_objects(module_name: str) -> list[str]:
    """Dotted names of the functions and classes a module defines, or exports by __all__."""
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        if (exported is None and value.__module__ == module_name) or (exported is not None and name in exported):
            found.append(f"{module_name}.{name}")
    return found


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


@pytest.fixture(scope="module")
def page():
    html = require_built_site()
    text = (html / "book" / "appendix_api.html").read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(text)
    return SimpleNamespace(text=text, main=text[text.index("<main") :], ids=parser.ids, links=parser.links)


def test_every_public_module_has_a_section(page):
    for module_name in public_modules():
        assert f"module-{module_name}" in page.ids, f"{module_name} is missing from the API page"


def test_every_public_function_and_class_is_documented_with_its_signature(page):
    objects = [name for module_name in public_modules() for name in public_objects(module_name)]
    assert len(objects) > 100
    missing = [name for name in objects if name not in page.ids]
    assert not missing, f"not documented: {missing}"
    for name in objects:
        start = page.main.index(f'id="{name}"')
        signature = page.main[start : page.main.index("</dt>", start)]
        if _takes_no_arguments(name):
            continue  # a class built without arguments (the likelihoods): Sphinx prints no "()"
        assert 'class="sig-paren"' in signature, f"{name}: no signature"


def _takes_no_arguments(name: str) -> bool:
    module_name, _, attribute = name.rpartition(".")
    value = getattr(importlib.import_module(module_name), attribute)
    return inspect.isclass(value) and not inspect.signature(value).parameters


def test_every_top_level_name_is_listed_and_linked(page):
    for name in natgrad.__all__:
        value = getattr(natgrad, name)
        assert f"ng.{name}</span></code>" in page.main, f"ng.{name} is not in the table of top-level names"
        anchor = f"module-{value.__name__}" if inspect.ismodule(value) else f"{value.__module__}.{value.__qualname__}"
        assert f"#{anchor}" in page.links, f"ng.{name} does not link to its entry"


def test_docstring_formulas_are_rendered_as_maths(page):
    assert ":math:" not in page.main and ".. math::" not in page.main
    n_maths = page.main.count('class="math')
    n_formulas = sum(
        (inspect.getdoc(importlib.import_module(name)) or "").count(":math:")
        for name in public_modules()
    )
    assert n_maths >= n_formulas > 0


def chapter_page(chapters: list[str], number: int) -> str:
    """Chapter ``number``: the number-th of the table of contents, or past its end (while a
    split is under way) the chapter whose file is numbered so."""
    if number <= len(chapters):
        return chapters[number - 1]
    (named,) = [name for name in chapters if name.startswith(f"{number:02d}_")]
    return named


def chapter_pages() -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from reading_time import numbered_chapters
    finally:
        sys.path.pop(0)
    return [Path(entry).name for entry in numbered_chapters()]


def test_modules_link_the_chapters_their_docstrings_name(page):
    chapters = chapter_pages()
    for module_name in public_modules():
        doc = inspect.getdoc(importlib.import_module(module_name)) or ""
        numbers = {int(n) for phrase in re.findall(r"[Cc]hapters? ((?:\d+(?:\s*(?:-|,|and|or)\s*)?)+)", doc) for n in re.findall(r"\d+", phrase)}
        start = page.main.index(f'id="module-{module_name}"')
        end = min([page.main.index(f'id="module-{other}"') for other in public_modules() if page.main.index(f'id="module-{other}"') > start] or [len(page.main)])
        section = page.main[start:end]
        for number in numbers:
            assert f'href="{chapter_page(chapters, number)}.html"' in section, f"{module_name}: chapter {number} is not linked"


def test_chapter_links_follow_the_table_of_contents():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import api_reference
    finally:
        sys.path.pop(0)
    chapters = ["book/01_a", "book/02_b", "book/03_c"]
    part = SimpleNamespace(numbered=True, items=chapters)
    app = SimpleNamespace(config=SimpleNamespace(external_site_map=SimpleNamespace(root=SimpleNamespace(subtrees=[part]))))
    assert api_reference.link_chapters(app, "Chapter 2.") == ":doc:`Chapter 2 </book/02_b>`."
    assert api_reference.link_chapters(app, "(chapters 1 and 3)") == "(chapters :doc:`1 </book/01_a>` and :doc:`3 </book/03_c>`)"
    assert api_reference.link_chapters(app, "chapters 1-2") == "chapters :doc:`1 </book/01_a>`-:doc:`2 </book/02_b>`"
    assert api_reference.link_chapters(app, "no chapter here, 4 of them") == "no chapter here, 4 of them"
    # Past the end of the contents, the chapter whose file carries the number.
    part.items = ["book/01_a", "book/02_b", "book/04_d"]
    assert api_reference.link_chapters(app, "Chapter 4") == ":doc:`Chapter 4 </book/04_d>`"
    assert api_reference.link_chapters(app, "Chapter 3") == ":doc:`Chapter 3 </book/04_d>`"
    # Found neither way: left as text (and a warning fails the -W build).
    assert api_reference.link_chapters(app, "Chapter 7") == "Chapter 7"
