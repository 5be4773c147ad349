"""Per-module mutation score from mutmut's results, with the equivalent mutants set aside.

Run after ``mutmut run`` (``make mutation`` does both). Reads mutmut's per-file records in
``mutants/natgrad/**/*.py.meta`` and the equivalent mutants listed in ``tests/MUTATION.md``
(list items ``- `natgrad.module.x_function__mutmut_N`, ...: reason``), prints one row per module and
the total, lists every surviving mutant that is not listed as equivalent, and exits
non-zero if fewer than ``THRESHOLD`` of the non-equivalent mutants were killed, or if a
mutant listed as equivalent was in fact killed (the list is stale).

A timeout counts as killed (the mutant broke the tests' running time); a mutant that no
test reaches ("no tests") counts as a survivor.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THRESHOLD = 0.97
KILLED = {1, 3, 24, -24, 152, 255, 36, -9, -11, 37}
SURVIVED = {0, 5, 33}
NAME = re.compile(r"`(natgrad\.[^`]+__mutmut_\d+)`")


def equivalent_mutants(path: Path = ROOT / "tests" / "MUTATION.md") -> set[str]:
    """The mutant names listed as equivalent in MUTATION.md: every `natgrad...__mutmut_N` on a line starting "- "."""
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {name for line in lines if line.startswith("- ") for name in NAME.findall(line)}


def results(mutants_dir: Path = ROOT / "mutants") -> dict[str, dict[str, int | None]]:
    """{module path: {mutant name: exit code}} from mutmut's .meta files."""
    out = {}
    for meta in sorted((mutants_dir / "natgrad").rglob("*.py.meta")):
        module = str(meta.relative_to(mutants_dir))[: -len(".meta")]
        out[module] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return out


def main() -> int:
    by_module = results()
    if not by_module:
        print("no mutmut results in mutants/: run `mutmut run` (or `make mutation`) first")
        return 1
    equivalent = equivalent_mutants()
    rows, totals, survivors, stale, unchecked = [], Counter(), [], [], []
    for module, codes in by_module.items():
        count = Counter()
        for name, code in codes.items():
            count["mutants"] += 1
            if code is None:
                unchecked.append(name)
            elif code in KILLED:
                count["killed"] += 1
                if name in equivalent:
                    stale.append(name)
            elif name in equivalent:
                count["equivalent"] += 1
            else:
                count["survived"] += 1
                survivors.append((name, code))
        if count["mutants"]:
            rows.append((module, count))
            totals.update(count)

    def score(count: Counter) -> str:
        relevant = count["killed"] + count["survived"]
        return f"{100.0 * count['killed'] / relevant:.1f} %" if relevant else "-"

    print("| module | mutants | killed | equivalent | survived | score (non-equivalent) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for module, count in rows + [("**all of natgrad**", totals)]:
        print(f"| {module} | {count['mutants']} | {count['killed']} | {count['equivalent']} | {count['survived']} | {score(count)} |")
    for name, code in survivors:
        print(f"survivor ({'no tests' if code in (5, 33) else 'survived'}): {name}")
    for name in stale:
        print(f"listed as equivalent in tests/MUTATION.md but killed: {name}")
    if unchecked:
        print(f"{len(unchecked)} mutants not checked yet (an interrupted run?)")
    relevant = totals["killed"] + totals["survived"]
    passed = relevant > 0 and totals["killed"] / relevant >= THRESHOLD and not stale and not unchecked
    print(f"{'PASS' if passed else 'FAIL'}: {score(totals)} of the non-equivalent mutants killed (goal {THRESHOLD:.0%})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
