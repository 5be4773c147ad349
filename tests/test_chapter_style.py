"""The second edition's rules for a chapter's text: its length, and the book's one notation.

The word count follows the maintainers' tool (``../shared/tools/chapter_words.py``): the
markdown cells before a chapter's Exercises heading, a word being a run of letters. The
notation checks look only inside maths (``$...$`` and ``$$...$$``) for the symbols that
``book/appendix_notation.md`` settled, so prose and code are free to use ordinary words.
Chapters join ``REVISED`` as they are brought up to the second edition.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MAIN_WORDS = 3000
REVISED: list[str] = [
    "01_gradient_descent",
    "02_networks_as_distributions",
    "03_kl_divergence",
    "04_fisher_metric",
    "05_natural_step",
    "06_invariance",
    "07_stability",
    "08_practice",
    "09_race",
    "10_second_order",
    "11_first_order_and_bayes",
]

# Each pattern is a use the notation page rules out, with the symbol to use instead.
BANNED_IN_MATHS = {
    r"\\lambda_": "eigenvalues are omega_i, omega_max, omega_min; lambda is only the damping",
    r"\\sigma\s*\(": "the logistic sigmoid is \\operatorname{sigm}; sigma is only a standard deviation",
    r"\bH_n\b|\bH_\{n\}": "the curvature of the loss in the outputs is Lambda_n; H is the Hessian in the parameters",
    r"\bJ_\{?\\varphi": "the Jacobian of a change of coordinates is M; J_n is the output Jacobian",
    r"\b[pqz]_\{?c\}?\b|\b[pqz]_\{?nc\}?\b|\\sum_\{?c\b": "classes are k = 1..K; c is the constant added to every logit",
    r"\bw_\{?[12]\}?\b|\bw\^\\star|\bw_0\b": "chapter 1's parameters are theta",
    r"\bB\s*=\s*F": "B is a mini-batch; the damped Fisher is F_lambda",
    r"\\delta_\{?nk": "delta is only the step; back-propagated factors are gamma_nk",
}


def load(name: str) -> dict:
    return json.loads((ROOT / "book" / f"{name}.ipynb").read_text(encoding="utf-8"))


def main_text_cells(notebook: dict) -> list[str]:
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        if re.search(r"^#+\s*Exercises\b", text, re.M):
            break
        cells.append(text)
    return cells


def maths(text: str) -> list[str]:
    display = re.findall(r"\$\$(.+?)\$\$", text, re.S)
    inline = re.findall(r"(?<!\$)\$(?!\$)([^$]+?)\$", re.sub(r"\$\$.+?\$\$", "", text, flags=re.S))
    return display + inline


def main_words(name: str) -> int:
    return sum(len(re.findall(r"[A-Za-z]+", text)) for text in main_text_cells(load(name)))


def test_word_count_matches_the_maintainers_tool():
    tool = ROOT.parent / "shared" / "tools" / "chapter_words.py"
    if not tool.exists():
        pytest.skip("the maintainers' word counter is not beside this checkout")
    report = subprocess.run([sys.executable, str(tool)], cwd=ROOT, capture_output=True, text=True).stdout
    counted = {Path(line.split()[0]).stem: int(line.split()[1]) for line in report.splitlines() if line.startswith("book/")}
    assert counted, report
    assert counted == {name: main_words(name) for name in counted}


@pytest.mark.parametrize("name", REVISED)
def test_main_text_within_budget(name):
    words = main_words(name)
    assert 0 < words <= MAX_MAIN_WORDS, f"{name}: {words} main-text words, budget {MAX_MAIN_WORDS}"


@pytest.mark.parametrize("name", REVISED)
def test_maths_follows_the_notation_page(name):
    notebook = load(name)
    text = "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    problems = []
    for expression in maths(text):
        for pattern, rule in BANNED_IN_MATHS.items():
            if re.search(pattern, expression):
                problems.append(f"${expression.strip()[:60]}$: {rule}")
    assert not problems, f"{name}:\n" + "\n".join(dict.fromkeys(problems))


def test_the_notation_checks_see_what_they_ban():
    text = r"Eigenvalues $\lambda_{\max}$ and $$\sigma(z) + H_n$$ and $\operatorname{sigm}(z)$."
    found = [pattern for expression in maths(text) for pattern in BANNED_IN_MATHS if re.search(pattern, expression)]
    assert len(found) == 3
