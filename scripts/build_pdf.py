"""Build the whole book as one PDF through LaTeX (``make pdf``) and print its path.

Steps: jupyter-book's LaTeX builder (``-W -n``: a warning fails the build, as for the
HTML), then xelatex through latexmk in ``_build/latex`` with the Makefile Sphinx writes
there. If the HTML book is built, the PDF is copied next to its front page
(``_build/html/natural-gradient.pdf``), which links to it. TeX comes from Debian's
packages (``.ci/run`` installs them); nothing here downloads anything.

With ``--optional`` (how ``make test`` calls it) a machine without TeX gets a message and
exit status 0, and tests/test_pdf.py then skips; in CI (``CI`` set) a missing TeX is an
error, as it is for ``make pdf`` everywhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LATEX = ROOT / "_build" / "latex"
HTML = ROOT / "_build" / "html"
NAME = "natural-gradient"
PDF = LATEX / f"{NAME}.pdf"
TEX_PROGRAMS = ("xelatex", "latexmk", "makeindex")
INSTALL_HINT = (
    "sudo apt-get install texlive-xetex texlive-latex-recommended texlive-latex-extra "
    "texlive-fonts-recommended latexmk fonts-freefont-otf"
)


def missing_tex() -> list[str]:
    return [program for program in TEX_PROGRAMS if shutil.which(program) is None]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optional", action="store_true", help="without TeX, say so and succeed (not in CI)")
    args = parser.parse_args(argv)

    missing = missing_tex()
    if missing:
        print(f"no PDF: {', '.join(missing)} not found; `{INSTALL_HINT}` enables `make pdf`", flush=True)
        return 0 if args.optional and not os.environ.get("CI") else 1

    start = time.monotonic()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--builder", "latex", "--all", "-W", "-n", "--keep-going"],
        check=True,
        cwd=ROOT,
    )
    PDF.unlink(missing_ok=True)
    subprocess.run(
        ["make", "-C", str(LATEX), "all-pdf", "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error -silent"],
        check=True,
    )
    if not PDF.exists():
        print(f"latexmk finished but wrote no {PDF.relative_to(ROOT)}", flush=True)
        return 1
    if (HTML / "book" / "index.html").exists():
        shutil.copy2(PDF, HTML / PDF.name)
        print(f"copied into {(HTML / PDF.name).relative_to(ROOT)}")
    print(f"built in {time.monotonic() - start:.0f} s")
    print(f"The PDF is at {PDF}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
