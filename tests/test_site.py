"""Internal links and anchors of the built site all resolve (no network needed)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

from tests.site import book_pages, require_built_site


class _LinksAndIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        for key in ("href", "src"):
            if attributes.get(key) and (tag in ("a", "img", "script") or (tag == "link" and key == "href")):
                self.links.append(attributes[key])


def parse(path: Path) -> _LinksAndIds:
    parser = _LinksAndIds()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_every_internal_link_and_anchor_resolves():
    html = require_built_site()
    pages = book_pages() + [html / "genindex.html", html / "search.html"]
    parsed: dict[Path, _LinksAndIds] = {}
    broken = []
    for page in pages:
        for link in parse(page).links:
            if urlparse(link).scheme or link.startswith(("//", "mailto:", "javascript:")):
                continue
            target, anchor = urldefrag(link)
            if target.endswith(".pdf"):
                continue  # the whole-book PDF exists only where TeX does: tests/test_pdf.py checks it
            target_path = (page.parent / unquote(target.split("?")[0])).resolve() if target else page
            if target_path.is_dir():
                target_path = target_path / "index.html"
            if not target_path.exists():
                broken.append(f"{page.relative_to(html)}: {link} (no such file)")
                continue
            if anchor and target_path.suffix == ".html":
                if target_path not in parsed:  # parse each page once (setdefault would parse every time)
                    parsed[target_path] = parse(target_path)
                ids = parsed[target_path].ids
                if unquote(anchor) not in ids:
                    broken.append(f"{page.relative_to(html)}: {link} (no anchor #{anchor})")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_every_chapter_has_launch_and_download_buttons():
    require_built_site()
    for page in book_pages():
        if not page.stem[:2].isdigit():
            continue
        text = page.read_text(encoding="utf-8")
        assert "https://mybinder.org/v2/gh/" in text, f"{page.name}: no Binder button"
        assert "https://colab.research.google.com/github/" in text, f"{page.name}: no Colab button"
        assert f"_sources/book/{page.stem}.ipynb" in text, f"{page.name}: no .ipynb download"
