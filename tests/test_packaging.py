"""The wheel that pyproject.toml builds holds the natgrad package and nothing else."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_natgrad_alone(tmp_path):
    # Build from a copy holding only what the wheel is built from: an in-tree build would reuse a
    # stale build/ directory, and its leftovers (a module since moved) would end up in the wheel.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "natgrad", source / "natgrad", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("natgrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"natgrad", wheel.name.split("-py3")[0] + ".dist-info"}, top_level
    modules = {name for name in names if name.endswith(".py")}
    expected = {str(path.relative_to(ROOT)) for path in (ROOT / "natgrad").rglob("*.py")}
    assert modules == expected
