"""Hygiene and structure of the executed chapters in book/.

nbval re-runs each notebook and compares outputs, but it silently passes cells that were
never executed; these checks close that gap and hold every chapter to the book's bar.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(notebook: dict) -> list[dict]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def markdown(notebook: dict) -> str:
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ holds no executed chapters"


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    listed = toc_files()
    for path in NOTEBOOKS:
        assert f"book/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".ipynb", ".md")), f"{entry} is in _toc.yml but not on disk"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cells_ran_once_in_order_without_errors_or_stderr(path):
    notebook = load(path)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = [cell for cell in code_cells(notebook) if "".join(cell["source"]).strip()]
    assert all(not "".join(cell["source"]).strip() == "" for cell in code_cells(notebook)), "empty code cell"
    counts = [cell["execution_count"] for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"execution counts {counts}: run `make execute`"
    for index, cell in enumerate(cells, start=1):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"cell {index} raised"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), f"cell {index} wrote to stderr"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_timings_or_unseeded_randomness(path):
    for cell in code_cells(load(path)):
        source = "".join(cell["source"])
        timing_allowed = "nbval-ignore-output" in cell["metadata"].get("tags", [])
        assert "np.random.seed" not in source and not re.search(r"np\.random\.(rand|randn|normal|uniform)\(", source), (
            "use a seeded np.random.default_rng(seed)"
        )
        assert "default_rng()" not in source, "seed every generator"
        if not timing_allowed:
            assert not re.search(r"perf_counter|timeit\.|%time|time\.time\(", source), "no timing in strict cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_structure(path):
    notebook = load(path)
    text = markdown(notebook)
    assert re.search(r"learning goals", text, re.IGNORECASE), "a chapter opens with its learning goals"
    assert re.search(r"^#+ Summary", text, re.MULTILINE), "a chapter closes with a summary"
    exercises = re.findall(r"\{exercise-start\}", text)
    solutions = re.findall(r"\{solution-start\}[^\n]*\n:class: dropdown", text)
    assert len(exercises) >= 3, "at least three exercises"
    assert len(solutions) == len(exercises), "each exercise has a solution in a dropdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_have_caption_name_alt_text_and_end_with_show(path):
    figures = 0
    for cell in code_cells(load(path)):
        if not any("image/png" in output.get("data", {}) for output in cell["outputs"]):
            continue
        figures += 1
        meta = cell["metadata"].get("mystnb", {})
        assert meta.get("figure", {}).get("caption", "").strip(), "figure without caption"
        assert meta.get("figure", {}).get("name", "").startswith("fig-"), "figure without a fig- name"
        assert meta.get("image", {}).get("alt", "").strip(), "figure without alt text"
        animated = any(str(output.get("data", {}).get("text/plain", "")).startswith("<animated figure") for output in cell["outputs"])
        if not animated:  # an animated figure's cell ends by displaying the player, which closes its figure
            assert "".join(cell["source"]).rstrip().endswith("plt.show()"), "plot cells end with plt.show()"
    if path.stem != "index":
        assert figures >= 2, "at least two figures per chapter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_cross_references_resolve_within_the_chapter(path):
    notebook = load(path)
    text = markdown(notebook)
    names = {cell["metadata"].get("mystnb", {}).get("figure", {}).get("name") for cell in code_cells(notebook)}
    for ref in re.findall(r"\{numref\}`(fig-[^`<]+)`", text):
        assert ref in names, f"{{numref}} to unknown figure {ref}"
    for name in names - {None}:
        assert name in text, f"figure {name} is never referred to from the prose"


def _colab_cell_source() -> str:
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.colab_cell_source()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_installs_natgrad_on_colab_from_the_configured_repository(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "code"
    assert {"hide-input", "colab-install"} <= set(first["metadata"].get("tags", []))
    assert "".join(first["source"]) == _colab_cell_source(), "run `make execute` to refresh the Colab cell"
    assert first["outputs"] == [], "the Colab cell does nothing outside Colab"
    repository = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]["url"]
    assert f"git+{repository}@" in "".join(first["source"])


def test_exercise_index_lists_every_exercise_and_is_up_to_date():
    spec = importlib.util.spec_from_file_location("exercise_index", ROOT / "scripts" / "exercise_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = module.PAGE.read_text(encoding="utf-8")
    assert committed == module.render(), "run `make execute` (or scripts/exercise_index.py) to refresh the index"
    for path in NOTEBOOKS:
        for label in re.findall(r"\{exercise-start\}[^\n]*\n:label: (\S+)", markdown(load(path))):
            assert f"{{ref}}`{label}`" in committed, f"{label} is missing from the exercise index"


def test_chapters_are_cross_referenced_with_doc_never_by_bare_file_name():
    pages = {path.name: markdown(load(path)) for path in NOTEBOOKS}
    pages.update({path.name: path.read_text(encoding="utf-8") for path in (ROOT / "book").glob("*.md")})
    for name, text in pages.items():
        without_links = re.sub(r"\{doc\}`[^`]*`", "", text)
        bare = re.findall(r"\b\d\d_[a-z][a-z_]*(?:\.ipynb|\.md)?\b", without_links)
        assert not bare, f"{name}: refer to chapters with {{doc}}, not {bare}"
