"""The book's version, edition, licence and citation, from their single sources.

- The version is ``natgrad.__version__`` (pyproject.toml reads it too); its major number
  is the edition. Both become Sphinx's ``version``/``release`` and the MyST substitutions
  ``{{ version }}`` and ``{{ edition }}`` for the pages.
- How to cite comes from CITATION.cff: the substitution ``{{ citation }}`` gives it as a
  sentence, and the directive ``citation-bibtex`` as a BibTeX entry.
- Links to files of the repository (``{{ license_file }}``, ``{{ cc_by_file }}``,
  ``{{ citation_file }}``, ``{{ changelog_file }}``, ``{{ repository_link }}``) are built
  from ``repository:`` in _config.yml, the one place that names the repository.
- The PDF's title page shows the edition and version; its back carries the copyright,
  the licences and the citation.
- The directive ``pinned-environment`` tables the Python version and, for every pin of
  requirements.txt, the version the build ran with; a difference is a warning, so the
  ``-W`` build fails unless the book was built in the pinned environment.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import yaml
from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
ORDINALS = ("zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
TEXT_LICENCE = "CC BY 4.0"
TEXT_LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"


def package_version() -> str:
    import natgrad

    return natgrad.__version__


def edition(version: str) -> str:
    """'second edition' for version 2.x.y: the major number is the edition."""
    return f"{ORDINALS[int(version.split('.')[0])]} edition"


def citation_metadata() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))["preferred-citation"]


def _authors(entry: dict) -> str:
    names = [author.get("name") or f"{author['given-names']} {author['family-names']}" for author in entry["authors"]]
    return " and ".join(names)


def citation_sentence(version: str) -> str:
    entry = citation_metadata()
    return (
        f"{_authors(entry)} ({entry['year']}). *{entry['title']}*, {edition(version)}, "
        f"version {version}. {entry['url']}"
    )


def citation_bibtex(version: str) -> str:
    entry = citation_metadata()
    return "\n".join(
        [
            "@book{natgrad" + str(entry["year"]) + ",",
            f"  author  = {{{{{_authors(entry)}}}}},",
            f"  title   = {{{entry['title']}}},",
            f"  edition = {{{edition(version).split()[0].capitalize()}}},",
            f"  year    = {{{entry['year']}}},",
            f"  note    = {{Version {version}}},",
            f"  url     = {{{entry['url']}}}",
            "}",
        ]
    )


class CitationBibtex(SphinxDirective):
    """The book's BibTeX entry, from CITATION.cff (a code block on the page)."""

    def run(self):
        self.env.note_dependency(str(ROOT / "CITATION.cff"))
        text = citation_bibtex(self.config.release)
        block = nodes.literal_block(text, text, language="bibtex")
        return [block]


def pins() -> list[tuple[str, str]]:
    """(package, version) for each exact pin of requirements.txt, in its order."""
    found = []
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            found.append((name.strip(), version.strip()))
    return found


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    for target, cells in [(head, header)] + [(body, row) for row in rows]:
        row = nodes.row()
        for cell in cells:
            row += nodes.entry("", nodes.paragraph(text=cell))
        target += row
    return table


class PinnedEnvironment(SphinxDirective):
    """Python and the pinned packages, as this build ran them."""

    def run(self):
        self.env.note_dependency(str(ROOT / "requirements.txt"))
        rows = []
        for name, pinned in pins():
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = "not installed"
            if installed != pinned:
                logger.warning("%s is pinned to %s but the build ran %s", name, pinned, installed, location=self.get_location())
            rows.append([name, pinned, installed])
        python = nodes.paragraph(
            text=f"Python {platform.python_version()} ({platform.python_implementation()}) on "
            f"{platform.system()} {platform.machine()}, natgrad {package_version()}."
        )
        return [python, _table(["package", "pinned in requirements.txt", "used by this build"], rows)]


def _latex_escape(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("&", r"\&").replace("%", r"\%").replace("_", r"\_").replace("#", r"\#")


REPOSITORY_FILES = {
    "license_file": "LICENSE",
    "cc_by_file": "LICENSE-CC-BY-4.0.txt",
    "citation_file": "CITATION.cff",
    "changelog_file": "CHANGELOG.md",
}


def repository_links(url: str, branch: str) -> dict[str, str]:
    """Markdown links to the repository and to its licence, citation and changelog files."""
    url = url.rstrip("/")
    links = {key: f"[`{name}`]({url}/blob/{branch}/{name})" for key, name in REPOSITORY_FILES.items()}
    links["repository_link"] = f"[{url}]({url})"
    return links


def _set_metadata(app, config) -> None:
    version = package_version()
    config.version = config.release = version
    substitutions = dict(config.myst_substitutions or {})
    theme = config.html_theme_options or {}
    substitutions.update(
        version=version,
        edition=edition(version),
        citation=citation_sentence(version),
        **repository_links(theme["repository_url"], theme.get("repository_branch", "main")),
    )
    config.myst_substitutions = substitutions

    entry = citation_metadata()
    citation = _latex_escape(citation_sentence(version)).replace("*", "")
    back_of_title = rf"""
\newcommand{{\sphinxbackoftitlepage}}{{%
  \thispagestyle{{empty}}\null\vfill
  \begin{{flushleft}}\small
  \textbf{{{_latex_escape(entry['title'])}}}, {edition(version)}, version {version}.\par\medskip
  \copyright\ {entry['year']} {_latex_escape(_authors(entry))}.\par\medskip
  The text and figures of this book are licensed under the Creative Commons Attribution 4.0
  International licence ({TEXT_LICENCE}, \url{{{TEXT_LICENCE_URL}}}). The code (the natgrad
  package and the code cells of the chapters) is licensed under the MIT licence (the file
  LICENSE in the repository).\par\medskip
  How to cite: {citation}\par\medskip
  Source, the HTML edition and this PDF: \url{{{entry['repository-code']}}}.
  \end{{flushleft}}
  \clearpage}}
"""
    elements = dict(config.latex_elements or {})
    elements["preamble"] = elements.get("preamble", "") + back_of_title
    elements["releasename"] = edition(version).capitalize() + ", version"
    config.latex_elements = elements


def setup(app):
    app.connect("config-inited", _set_metadata, priority=910)
    app.add_directive("citation-bibtex", CitationBibtex)
    app.add_directive("pinned-environment", PinnedEnvironment)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
