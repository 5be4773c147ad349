"""The wheel that pyproject.toml builds holds the natgrad package and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_natgrad_alone(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path)],
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
