"""Execute chapters in a fresh kernel and save them with their outputs (``make execute``).

Each notebook first gets (or refreshes) its Colab install cell, derived from the repository
named in ``_config.yml``. It is then cleared, run top to bottom in a new ``python3`` kernel
from the book's folder, and written back without volatile metadata (timings), so that
re-running an unchanged chapter leaves git with nothing to commit (only the
wall-clock cells tagged ``nbval-ignore-output`` in chapter 8 differ from run to run).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
ROOT = Path(__file__).resolve().parents[1]
COLAB_TAG = "colab-install"


def colab_cell_source(config_path: Path = ROOT / "_config.yml") -> str:
    """The first cell of every chapter: installs natgrad on Colab, does nothing elsewhere."""
    repository = yaml.safe_load(config_path.read_text(encoding="utf-8"))["repository"]
    url, branch = repository["url"].rstrip("/"), repository.get("branch", "main")
    return (
        "# On Colab, install natgrad from the book's repository first; elsewhere this does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "natgrad @ git+{url}@{branch}"'
    )


def ensure_colab_cell(notebook) -> None:
    """Insert the Colab install cell at the top, or bring an existing one up to date."""
    source = colab_cell_source()
    first = notebook.cells[0] if notebook.cells else None
    if first is not None and COLAB_TAG in first.metadata.get("tags", []):
        first.source = source
        return
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["hide-input", COLAB_TAG]})
    notebook.cells.insert(0, cell)


def coalesce_streams(cell) -> None:
    """Join consecutive stdout (or stderr) chunks: how output is chunked varies run to run."""
    merged = []
    for output in cell.outputs:
        if merged and output.output_type == "stream" and merged[-1].output_type == "stream" and merged[-1].name == output.name:
            merged[-1].text += output.text
        else:
            merged.append(output)
    cell.outputs = merged


def execute(path: Path, timeout: int) -> None:
    notebook = nbformat.read(path, as_version=4)
    ensure_colab_cell(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            coalesce_streams(cell)
    notebook.metadata.get("language_info", {}).pop("version", None)
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        execute(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
