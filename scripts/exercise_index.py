"""Write book/appendix_exercises.md, the index of every exercise in the book.

Run by ``make execute``; tests/test_notebooks.py checks the committed page is up to date.
Each entry links the exercise by its label and gives its title, or quotes its first sentence.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix_exercises.md"
HEADER = """# Index of exercises

Every exercise in the book, chapter by chapter, with its title (and its level: warm-up,
standard or challenge) or, where it has none, its first sentence. Each one has a
worked solution, executed with the book, in a dropdown under the exercise. Exercises marked
"self-check" come with a checker in `natgrad.exercises` that tells you whether your answer
is right.
"""


def _first_sentence(text: str) -> str:
    # An exercise that opens with a list: its first item stands for the whole.
    text = re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", text)
    text = " ".join(text.split())
    match = re.match(r"(.+?[.?!])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if sentence.count("$") % 2 == 0 and sentence.count("`") % 2 == 0 else ""


def entries(notebook_path: Path) -> tuple[str, list[tuple[str, str, bool]]]:
    cells = json.loads(notebook_path.read_text(encoding="utf-8"))["cells"]
    title, found = "", []
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and not title:
            heading = re.search(r"^# (.+)$", source, re.MULTILINE)
            title = heading.group(1).strip() if heading else ""
        label = re.search(r"\{exercise-start\}([^\n]*)\n:label: (\S+)", source)
        if cell["cell_type"] != "markdown" or not label:
            continue
        body = source[source.index("```", source.index("exercise-start")) + 3 :].strip()
        if not body and index + 1 < len(cells):
            body = "".join(cells[index + 1]["source"]).strip()
        solution_code = ""
        for later in cells[index + 1 :]:
            later_source = "".join(later["source"])
            if "{solution-end}" in later_source:
                break
            if later["cell_type"] == "code":
                solution_code += later_source
        summary = label.group(1).strip() or _first_sentence(body)
        found.append((label.group(2), summary, "natgrad.exercises" in solution_code or ".check_" in solution_code))
    return title, found


def render() -> str:
    parts = [HEADER]
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        title, found = entries(path)
        parts.append(f"\n## {{doc}}`{path.stem}`\n")
        for label, sentence, checked in found:
            tag = " (self-check)" if checked else ""
            parts.append(f"- {{ref}}`{label}`{tag}: {sentence}" if sentence else f"- {{ref}}`{label}`{tag}")
    return "\n".join(parts) + "\n"


def main() -> int:
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
