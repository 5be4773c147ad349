"""The pip pins (requirements.txt) and the conda/Binder pins (environment.yml) agree."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def environment_pip_lines() -> list[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert len(pip_sections) == 1
    return [line.strip() for line in pip_sections[0]]


def test_requirements_are_exact_pins():
    for line in requirement_lines():
        assert "==" in line, f"{line}: pin an exact version"


def test_jupyter_book_is_the_sphinx_based_1x_line():
    assert "jupyter-book==1.0.4.post1" in requirement_lines()


def test_environment_yml_repeats_requirements_txt():
    assert sorted(environment_pip_lines(), key=str.lower) == sorted(requirement_lines(), key=str.lower)


def test_environment_yml_python_matches_pyproject():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert "python=3.11" in environment["dependencies"]
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
