"""One version, one repository, valid citation metadata, and the licences where they belong.

The version lives in ``natgrad.__version__``; pyproject.toml reads it (setuptools' dynamic
version), the book's pages and PDF print it (book/_ext/book_metadata.py), and
CITATION.cff and CHANGELOG.md must repeat it. CITATION.cff is validated against the
Citation File Format 1.2.0 schema (tests/data/cff-1.2.0.schema.json, the schema.json of
the citation-file-format/citation-file-format repository, CC BY 4.0).
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

import natgrad
from tests.site import require_built_site

ROOT = Path(__file__).resolve().parents[1]
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def repository() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["repository"]


def test_version_is_semantic():
    assert SEMVER.match(natgrad.__version__), natgrad.__version__


@pytest.mark.filterwarnings("ignore:Support for `\\[tool.setuptools\\]`")
def test_pyproject_takes_the_version_from_the_package():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "natgrad.__version__"}
    from setuptools.config.pyprojecttoml import read_configuration

    assert read_configuration(ROOT / "pyproject.toml", expand=True)["project"]["version"] == natgrad.__version__


def test_citation_cff_is_valid_and_agrees_with_the_package_and_config():
    schema = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text(encoding="utf-8"))
    data = citation()
    jsonschema.validate(data, schema, format_checker=jsonschema.FormatChecker())
    assert data["version"] == data["preferred-citation"]["version"] == natgrad.__version__
    url = repository()["url"].rstrip("/")
    assert data["repository-code"] == data["preferred-citation"]["repository-code"] == url
    owner, name = url.split("/")[-2:]
    assert data["url"] == data["preferred-citation"]["url"] == f"https://{owner}.github.io/{name}/"
    assert data["preferred-citation"]["edition"] == natgrad.__version__.split(".")[0]


def test_the_schema_rejects_a_broken_citation():
    schema = json.loads((ROOT / "tests" / "data" / "cff-1.2.0.schema.json").read_text(encoding="utf-8"))
    broken = {key: value for key, value in citation().items() if key != "authors"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_changelog_opens_with_this_version_as_the_second_edition():
    headings = re.findall(r"^## (\d+\.\d+\.\d+): (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert headings[0][0] == natgrad.__version__
    assert headings[0][1] == "second edition" and natgrad.__version__.startswith("2.")


def test_licences_code_mit_text_cc_by():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE-CC-BY-4.0.txt").read_text(encoding="utf-8").startswith("Attribution 4.0 International")
    assert set(citation()["license"]) == {"MIT", "CC-BY-4.0"}


def test_built_front_page_states_version_licences_and_citation():
    html = require_built_site()
    front = (html / "book" / "index.html").read_text(encoding="utf-8")
    url = repository()["url"].rstrip("/")
    branch = repository().get("branch", "main")
    assert f"version {natgrad.__version__}" in front
    assert "https://creativecommons.org/licenses/by/4.0/" in front
    for name in ("LICENSE", "LICENSE-CC-BY-4.0.txt", "CITATION.cff", "CHANGELOG.md"):
        assert f'href="{url}/blob/{branch}/{name}"' in front, f"the front page does not link {name}"
        assert (ROOT / name).exists()
    bibtex = front[front.index("<pre>", front.index("highlight-bibtex")) :]
    bibtex = re.sub(r"<[^>]+>", "", bibtex[: bibtex.index("</pre>")])
    assert bibtex.startswith(f"@book{{natgrad{citation()['preferred-citation']['year']},")
    assert f"note    = {{Version {natgrad.__version__}}}" in bibtex
