"""The chapters' animated figures (issue 12): at least three, each with a still frame and alt text.

natgrad.animation's own tests check the player; tests/test_browser.py works each player on the
built pages. This test checks that the chapters use them: an executed cell whose output is an
animated figure (text/plain "<animated figure: N frames, ...>") with its player (text/html), a
still PNG for the PDF, and a caption (the cell's mystnb figure metadata).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def animated_cells():
    for path in CHAPTERS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if str(data.get("text/plain", "")).startswith("<animated figure:"):
                    yield path.stem, cell, data


def test_the_book_has_at_least_three_animated_figures_in_two_chapters_or_more():
    found = list(animated_cells())
    assert len(found) >= 3, f"animated figures in the chapters: {[name for name, _, _ in found]}"
    assert len({name for name, _, _ in found}) >= 2


def test_each_animated_figure_has_a_player_a_still_frame_and_a_caption():
    for name, cell, data in animated_cells():
        assert 'class="animation"' in data["text/html"], f"{name}: no player"
        assert data.get("image/png"), f"{name}: no still frame for the PDF"
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        assert figure.get("caption", "").strip(), f"{name}: an animated figure without a caption"
        assert figure.get("name", "").startswith("fig-"), f"{name}: an animated figure without a fig- name"
        n_frames = int(data["text/plain"].split()[2])
        assert n_frames >= 2
