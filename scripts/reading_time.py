"""Write the front page's table of chapters with their reading times (``make execute``).

The table in book/index.md lists every numbered chapter of _toc.yml, in order, with an
estimate of the time to read it once: its main text (the markdown before its Exercises
heading) at 200 words a minute, plus its visible code (code cells not tagged
``hide-input`` or ``remove-input``) at 20 lines a minute, rounded to 5 minutes. Working
the exercises takes longer and is not counted; their number is given instead.
tests/test_front_page.py checks that the committed table is up to date.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "index.md"
WORDS_PER_MINUTE = 200
CODE_LINES_PER_MINUTE = 20
START = "% reading-times: start. Written by scripts/reading_time.py (make execute); do not edit by hand."
END = "% reading-times: end"
HIDDEN_TAGS = {"hide-input", "remove-input", "remove-cell"}


def numbered_chapters() -> list[str]:
    """The chapters of _toc.yml's numbered parts, as paths such as 'book/01_gradient_descent'."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [chapter["file"] for part in toc.get("parts", []) if part.get("numbered") for chapter in part["chapters"]]


def _words(markdown: str) -> int:
    markdown = re.sub(r"\$\$.*?\$\$", " formula ", markdown, flags=re.DOTALL)
    markdown = re.sub(r"\$[^$\n]+\$", " symbol ", markdown)
    kept = []
    for line in markdown.splitlines():
        stripped = line.strip()
        # Directive fences and options, and labels such as (sec-damping)=, are not read.
        if stripped.startswith(("```", ":::")) or re.match(r"^:[a-z-]+:|^\(.*\)=$", stripped):
            continue
        kept.append(re.sub(r"\{[a-z:-]+\}`", "`", line))
    return sum(1 for token in " ".join(kept).split() if re.search(r"[A-Za-z0-9]", token))


def chapter_statistics(path: Path) -> dict:
    """Title, main-text words, visible code lines (main text only) and number of exercises."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    title, words, code_lines, exercises, in_main = "", 0, 0, 0, True
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            if not title:
                heading = re.search(r"^# (.+)$", source, re.MULTILINE)
                title = heading.group(1).strip() if heading else ""
            if re.search(r"^## Exercises\s*$", source, re.MULTILINE):
                in_main = False
            exercises += len(re.findall(r"\{exercise-start\}", source))
            if in_main:
                words += _words(source)
        elif cell["cell_type"] == "code" and in_main:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if not tags & HIDDEN_TAGS:
                code_lines += sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))
    return {"title": title, "words": words, "code_lines": code_lines, "exercises": exercises}


def reading_minutes(words: int, code_lines: int) -> int:
    minutes = words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE
    return max(5, 5 * math.ceil(minutes / 5 - 1e-9))


def render_table() -> str:
    lines = [
        START,
        "| | chapter | reading time | exercises |",
        "| ---: | --- | ---: | ---: |",
    ]
    total = 0
    for number, entry in enumerate(numbered_chapters(), start=1):
        stats = chapter_statistics(ROOT / f"{entry}.ipynb")
        minutes = reading_minutes(stats["words"], stats["code_lines"])
        total += minutes
        lines.append(f"| {number} | {{doc}}`{Path(entry).name}` | {minutes} min | {stats['exercises']} |")
    lines.append(f"| | all chapters | {total // 60} h {total % 60:02d} min | |")
    lines.append(END)
    return "\n".join(lines)


def update(text: str) -> str:
    """The page with its table replaced by the current one."""
    if START not in text or END not in text:
        raise ValueError(f"{PAGE.relative_to(ROOT)} has no reading-time block ({START!r} ... {END!r})")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return before + render_table() + after


def main() -> int:
    PAGE.write_text(update(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the reading times into {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
