"""The package's imports run one way: submodules never import the top-level package.

``natgrad/__init__.py`` imports every submodule; a submodule (an exercise checker, say) that
imported ``natgrad`` itself would depend on the package that depends on it, and would break as
soon as the order of those imports changed.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "natgrad"


def top_level_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name == "natgrad"]
        elif isinstance(node, ast.ImportFrom) and node.module == "natgrad" and node.level == 0:
            found.append(f"from natgrad import {', '.join(alias.name for alias in node.names)}")
    return found


def test_submodules_import_the_modules_they_need_not_the_package():
    offenders = {
        str(path.relative_to(PACKAGE.parent)): imports
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "__init__.py" and (imports := top_level_imports(path))
    }
    assert not offenders, offenders


def test_the_check_sees_both_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import natgrad as ng\nfrom natgrad import fisher\nfrom natgrad.models import Model\n")
    assert top_level_imports(sample) == ["natgrad", "from natgrad import fisher"]
