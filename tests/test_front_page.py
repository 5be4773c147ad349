"""The front page: its reading times are current, and it links what a reader looks for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

from tests.site import require_built_site

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import reading_time  # noqa: E402

sys.path.pop(0)


def test_reading_times_are_current():
    text = (ROOT / "book" / "index.md").read_text(encoding="utf-8")
    assert reading_time.update(text) == text, "the reading times are stale: run `make execute` (or scripts/reading_time.py)"


def test_reading_time_table_lists_every_numbered_chapter():
    table = reading_time.render_table()
    chapters = reading_time.numbered_chapters()
    assert len(chapters) >= 9
    for number, entry in enumerate(chapters, start=1):
        assert f"| {number} | {{doc}}`{Path(entry).name}` |" in table


def test_reading_time_counts_main_text_and_visible_code(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# A title\n\n" + "word " * 400 + "\n\n$$\nx = 1\n$$\n\n(sec-label)=\n```{note}\n:class: x\n```"),
        nbformat.v4.new_code_cell("a = 1\n\n# a comment\nb = 2"),
        nbformat.v4.new_code_cell("hidden = 3", metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_markdown_cell("## Exercises\n\n```{exercise-start} One (warm-up)\n:label: ex-one\n```\n" + "word " * 1000),
        nbformat.v4.new_code_cell("exercise_code = 4"),
    ]
    path = tmp_path / "01_test.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    stats = reading_time.chapter_statistics(path)
    # 2 title words + 400 words + one formula; the label and the directive lines are not read.
    assert stats == {"title": "A title", "words": 403, "code_lines": 2, "exercises": 1}
    assert reading_time.reading_minutes(403, 2) == 5
    assert reading_time.reading_minutes(1001, 0) == 10
    assert reading_time.reading_minutes(0, 201) == 15


def test_front_page_links_pdf_api_status_licence_and_citation():
    html = require_built_site()
    front = (html / "book" / "index.html").read_text(encoding="utf-8")
    for target in ('href="../natural-gradient.pdf"', 'href="appendix_api.html"', 'href="appendix_status.html"', "/LICENSE\"", "/CITATION.cff\""):
        assert target in front, f"the front page has no link {target}"
    for tool in ("kfac-jax", "curvlinops", "BackPACK", "NNGeometry"):
        assert tool in front
    for entry in reading_time.numbered_chapters():
        assert f'href="{Path(entry).name}.html"' in front


def test_status_page_tables_executions_and_the_pinned_environment():
    html = require_built_site()
    status = (html / "book" / "appendix_status.html").read_text(encoding="utf-8")
    for entry in reading_time.numbered_chapters():
        assert f"{entry}" in status or Path(entry).name in status, f"{entry} is not in the execution table"
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            assert f"<p>{name}</p>" in status and f"<p>{version}</p>" in status, f"{name} is not in the environment table"
