"""The whole-book PDF (``make pdf``), read back with poppler's pdftotext, pdfimages and pdfinfo.

What a reader of the PDF needs: every chapter and appendix page, every figure with its
number and caption, the exercises with their solutions, the bibliography, working
cross-references (no "??" in the text, nothing undefined in the LaTeX log), the code cells
and their outputs as in the HTML (hide-input cells show their output only), and the
licence. Everything expected is counted from _toc.yml, the notebooks and references.bib,
so the test follows the book as it grows.

Needs TeX (``.ci/run`` installs it) and poppler-utils; ``make test`` builds the PDF first.
Without them the tests are skipped locally, with a message, and fail in CI.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

import natgrad

ROOT = Path(__file__).resolve().parents[1]
LATEX = ROOT / "_build" / "latex"
PDF = LATEX / "natural-gradient.pdf"
LOG = LATEX / "natural-gradient.log"
HTML_COPY = ROOT / "_build" / "html" / PDF.name
HIDDEN_TAGS = {"hide-input", "remove-input", "remove-cell"}


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module", autouse=True)
def require_pdf():
    missing = [tool for tool in ("pdftotext", "pdfimages", "pdfinfo") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{', '.join(missing)} not found: `sudo apt-get install poppler-utils` enables the PDF checks")
    if shutil.which("xelatex") is None or shutil.which("latexmk") is None:
        _unavailable("TeX not found: see scripts/build_pdf.py for the Debian packages that enable `make pdf`")
    if not PDF.exists():
        _unavailable("the PDF is not built: run `make pdf` (make test builds it before the tests)")


def normalise(text: str) -> str:
    """One line of lower-case words: pdftotext breaks lines, hyphenates and curls quotes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2010", "-").replace("\u2011", "-").replace("\u2212", "-").replace("\ufb01", "fi").replace("\ufb02", "fl")
    text = re.sub(r"-\n", "-", text)
    return " ".join(text.split()).lower()


@lru_cache(maxsize=1)
def pdf_text() -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(PDF), "-"], check=True, capture_output=True, text=True).stdout


@lru_cache(maxsize=1)
def pdf_layout_text() -> str:
    """The text in its printed layout: code and tables keep their lines (plain pdftotext
    takes wide gaps in a printed table for column breaks)."""
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(PDF), "-"], check=True, capture_output=True, text=True).stdout


@lru_cache(maxsize=1)
def pdf_words() -> str:
    return normalise(pdf_text())


def squeezed(text: str) -> str:
    """Without any whitespace: for code, which the PDF wraps and indents its own way.

    Sphinx marks a wrapped code line with a visible space at the break and an arrow at the
    start of its continuation; both go too.
    """
    return re.sub(r"\s+", "", text.replace("\u2423", "").replace("\u21aa", ""))


def nbval_sanitized(text: str) -> str:
    """tests/nbval_sanitize.cfg applied: the build re-runs the chapters, and round-off-level
    values may differ from the committed outputs, as nbval allows."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "tests" / "nbval_sanitize.cfg")
    for section in config.sections():
        text = re.sub(config[section]["regex"], config[section]["replace"], text)
    return text


def toc_entries() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


def notebooks() -> list[dict]:
    return [json.loads((ROOT / f"{entry}.ipynb").read_text(encoding="utf-8")) for entry in toc_entries() if (ROOT / f"{entry}.ipynb").exists()]


def page_title(entry: str) -> str:
    path = ROOT / f"{entry}.ipynb"
    if path.exists():
        sources = ["".join(cell["source"]) for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "markdown"]
    else:
        sources = [(ROOT / f"{entry}.md").read_text(encoding="utf-8")]
    for source in sources:
        heading = re.search(r"^# (.+)$", source, re.MULTILINE)
        if heading:
            return heading.group(1).strip()
    raise AssertionError(f"{entry} has no title")


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code" and "".join(cell["source"]).strip()]


def is_hidden(cell: dict) -> bool:
    return bool(set(cell.get("metadata", {}).get("tags", [])) & HIDDEN_TAGS)


def figure_metadata() -> list[dict]:
    """The mystnb figure options (caption, name) of every figure cell, in book order."""
    found = []
    for notebook in notebooks():
        for cell in code_cells(notebook):
            figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
            if figure and any("image/png" in output.get("data", {}) for output in cell.get("outputs", [])):
                found.append(figure)
    return found


def image_outputs() -> int:
    return sum(
        1
        for notebook in notebooks()
        for cell in code_cells(notebook)
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    )


def plain_prefix(markup: str, n_words: int = 6) -> str:
    """The first words of a MyST text, up to its first maths, role or markup."""
    text = re.split(r"[$`{*\\]", markup, maxsplit=1)[0]
    words = text.split()
    return " ".join(words[:n_words]) if len(words) >= 3 else ""


def exercise_titles() -> list[str]:
    titles = []
    for notebook in notebooks():
        for cell in notebook["cells"]:
            for title in re.findall(r"```\{exercise-start\} ?([^\n]*)\n", "".join(cell["source"])):
                if title.strip():
                    titles.append(title.strip())
    return titles


def test_pdf_has_pages_and_the_books_title():
    info = subprocess.run(["pdfinfo", str(PDF)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    assert pages > 10 * len(notebooks()), f"{pages} pages for {len(notebooks())} chapters"
    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    assert re.search(rf"^Title:\s+{re.escape(title)}$", info, re.MULTILINE), info


def test_every_chapter_and_appendix_title_is_in_the_pdf():
    missing = [page_title(entry) for entry in toc_entries()[1:] if normalise(page_title(entry)) not in pdf_words()]
    assert not missing, f"titles not found in the PDF: {missing}"


def test_chapters_are_numbered_and_the_appendix_lettered():
    text = pdf_words()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    number, letter = 0, 0
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            title = normalise(page_title(chapter["file"]))
            if part.get("numbered"):
                number += 1
                label = str(number)
            else:
                label = chr(ord("a") + letter)
                letter += 1
            assert f"{label} {title}" in text, f"the contents do not list '{label} {title}'"


def test_pdf_embeds_at_least_one_image_per_figure():
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], check=True, capture_output=True, text=True).stdout
    images = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    n_images = sum(1 for row in images if row[2] == "image")
    assert n_images >= image_outputs() >= len(figure_metadata()) > 0, (n_images, image_outputs(), len(figure_metadata()))


def test_every_figure_has_its_number_and_caption():
    numbers = set(re.findall(r"Fig\. (\d+\.\d+): ", pdf_text()))
    figures = figure_metadata()
    assert len(numbers) >= len(figures), f"{len(numbers)} numbered captions for {len(figures)} figures"
    missing = [prefix for prefix in (plain_prefix(figure.get("caption", "")) for figure in figures) if prefix and normalise(prefix) not in pdf_words()]
    assert not missing, f"captions not found in the PDF: {missing}"


def test_no_unresolved_reference_in_text_or_log():
    assert "??" not in pdf_text()
    log = LOG.read_text(encoding="utf-8", errors="replace")
    undefined = re.findall(r"^(?:LaTeX|Package \w+) Warning: .*(?:undefined|Undefined).*$", log, re.MULTILINE)
    assert not undefined, "\n".join(undefined[:20])
    assert "There were undefined references" not in log
    assert "Citation" not in " ".join(re.findall(r"^LaTeX Warning: .*$", log, re.MULTILINE))


def test_exercises_and_their_solutions_are_in_the_pdf():
    titles = exercise_titles()
    assert titles
    missing = [title for title in titles if plain_prefix(title, 5) and normalise(plain_prefix(title, 5)) not in pdf_words()]
    assert not missing, f"exercise titles not found in the PDF: {missing}"
    text = pdf_words()
    assert text.count("solution to exercise") >= len(titles)


def test_cited_works_are_in_the_bibliography():
    sources = [path.read_text(encoding="utf-8") for path in (ROOT / "book").glob("*.ipynb")]
    sources += [path.read_text(encoding="utf-8") for path in (ROOT / "book").glob("*.md")]
    cited = {key.strip() for source in sources for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source) for key in group.split(",")}
    bibtex = (ROOT / "references.bib").read_text(encoding="utf-8")
    titles = dict(re.findall(r"@\w+\{([^,]+),.*?\btitle\s*=\s*\{(.+?)\},?\s*\n", bibtex, re.DOTALL))
    assert cited and cited <= set(titles), cited - set(titles)
    missing = [key for key in cited if normalise(plain_prefix(re.sub(r"[{}]", "", titles[key]), 4)) not in pdf_words()]
    assert not missing, f"cited works missing from the bibliography: {missing}"


def test_code_cells_and_outputs_appear_and_hidden_inputs_do_not():
    text = squeezed(nbval_sanitized(pdf_layout_text()))
    visible, hidden = set(), set()
    for notebook in notebooks():
        for cell in code_cells(notebook):
            lines = [line.strip() for line in "".join(cell["source"]).splitlines() if len(line.strip()) > 12 and not line.strip().startswith("#")]
            (hidden if is_hidden(cell) else visible).update(lines)
    hidden -= visible
    assert visible and hidden
    missing = [line for line in sorted(visible) if squeezed(line) not in text]
    assert len(missing) <= 0.02 * len(visible), f"{len(missing)} of {len(visible)} code lines missing, e.g. {missing[:5]}"
    shown = [line for line in sorted(hidden) if squeezed(line) in text]
    assert not shown, f"hide-input code printed in the PDF: {shown[:5]}"
    outputs = [
        line.strip()
        for notebook in notebooks()
        for cell in code_cells(notebook)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in "".join(output["text"]).splitlines()
    ]
    outputs = [line for line in outputs if len(line) > 12]
    # A printed line can still break across a page ("continues on next page"): allow 2 %.
    missing_outputs = [line for line in outputs if squeezed(nbval_sanitized(line)) not in text]
    assert outputs and len(missing_outputs) <= 0.02 * len(outputs), f"{len(missing_outputs)} of {len(outputs)} printed lines missing, e.g. {missing_outputs[:5]}"


def test_pdf_states_version_licences_and_citation():
    text = pdf_words()
    assert f"version {natgrad.__version__}" in text
    assert "creative commons attribution 4.0 international" in text
    assert "mit licence" in text
    assert "how to cite" in text


def test_the_html_book_links_the_pdf_next_to_it():
    front = ROOT / "_build" / "html" / "book" / "index.html"
    if not front.exists():
        _unavailable("the HTML book is not built: run `make build` (make test builds it first)")
    assert HTML_COPY.read_bytes() == PDF.read_bytes(), "_build/html holds a different PDF: run `make pdf` after the HTML build"
    assert f'href="../{PDF.name}"' in front.read_text(encoding="utf-8")
