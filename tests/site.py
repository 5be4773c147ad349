"""Shared helpers for the checks of the built site in ``_build/html``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"


def require_built_site() -> Path:
    """The built site, or a skip (locally) / failure (in CI) that says how to build it."""
    if (HTML / "book" / "index.html").exists():
        return HTML
    message = "the book is not built: run `make build` (make test builds it before the tests)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def book_pages() -> list[Path]:
    """Every page built from _toc.yml (chapters, front and back matter)."""
    return sorted((HTML / "book").glob("*.html"))
