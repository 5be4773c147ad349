"""The book's PDF (``make pdf``): its LaTeX class, and labels the PDF would otherwise miss.

sphinx-jupyterbook-latex (on by default in jupyter-book 1.x) turns the table of contents'
parts into ``\\part``, keeps only the outputs of hide-input cells and collects the
bibliography at the end. It also forces its own LaTeX class, which needs bbm.sty from
texlive-fonts-extra. This extension keeps the first three and swaps the class for
``book/_ext/latex/natgradbook.cls``, which loads only what the book uses.

Two post-transforms fix the structure: the parts of _toc.yml that are not numbered (the
appendix) start with ``\\appendix``, so their chapters are lettered A, B, ...; and the
bibliography, which Sphinx gathers at the very end of the document, goes back to the page
that holds the ``{bibliography}`` directive, under that page's heading.

sphinx-exercise labels an exercise in LaTeX as ``exercise:<label>`` only, which serves
references from the same page; a ``{ref}`` from another page (the index of exercises, a
later chapter) points at ``<docname>:<label>`` and came out as "??". The exercise's LaTeX
visitor here adds that second label, carrying the exercise's number.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.builders.latex import LaTeXBuilder
from sphinx.builders.latex.nodes import thebibliography
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset_file

logger = logging.getLogger(__name__)

CLASS_FILE = Path(__file__).parent / "latex" / "natgradbook.cls"


def _visit_exercise(self, node) -> None:
    # sphinx-exercise's own visitor, with the second label between its label and the box.
    from sphinx_exercise.latex import LaTeXMarkup

    env = self.builder.env
    label = node["label"]
    docname = env.sphinx_exercise_registry[label]["docname"]
    number = env.toc_fignumbers.get(docname, {}).get("exercise", {}).get(node["ids"][0], ())
    if not number:
        logger.warning("exercise %s has no number: references to it would print ??", label, location=node)
    self.body.append("\\phantomsection \\label{exercise:%s}\n" % label)
    self.body.append("\\natgradlabel{%s}{%s}\n" % (".".join(map(str, number)), self.idescape(f"{docname}:{label}")))
    self.body.append(LaTeXMarkup().visit_admonition())


class LetterTheAppendix(SphinxPostTransform):
    """Put ``\\appendix`` before the first unnumbered part that follows a numbered one."""

    default_priority = 710  # after sphinx-jupyterbook-latex made the parts (700)
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        site_map = getattr(self.config, "external_site_map", None)
        if site_map is None or not getattr(self.env, "jblatex_captions_to_parts", False):
            return
        numbered_seen = False
        for part in site_map.root.subtrees:
            if part.numbered:
                numbered_seen = True
                continue
            if not numbered_seen:
                continue
            for section in self.document.findall(nodes.section):
                if section.get("docname") == part.caption and isinstance(section.parent.parent, nodes.compound):
                    wrapper = section.parent.parent
                    wrapper.parent.insert(wrapper.parent.index(wrapper), nodes.raw("", "\\appendix\n", format="latex"))
                    return


class MarkBibliographyPlace(SphinxPostTransform):
    """Remember where the first ``{bibliography}`` directive put its citations."""

    default_priority = 740  # before Sphinx gathers the citations at the end (750)
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for citation in self.document.findall(nodes.citation):
            citation.parent["natgrad-bibliography"] = True
            return


class MoveBibliographyBack(SphinxPostTransform):
    """Move the gathered bibliography into the place MarkBibliographyPlace marked."""

    default_priority = 760
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        places = [node for node in self.document.findall(nodes.Element) if node.get("natgrad-bibliography")]
        bibliographies = list(self.document.findall(thebibliography))
        if places and bibliographies:
            for bibliography in bibliographies:
                bibliography.parent.remove(bibliography)
                places[0].append(bibliography)


class SpellOutExecutionStatus(SphinxPostTransform):
    """The execution table's status marks, as words: the PDF's fonts have no emoji."""

    default_priority = 9  # after myst-nb writes the table (8)
    formats = ("latex",)
    WORDS = {"\u2705": "succeeded", "\u274c": "failed"}

    def run(self, **kwargs) -> None:
        for text in list(self.document.findall(nodes.Text)):
            if text.astext() in self.WORDS:
                text.parent.replace(text, nodes.Text(self.WORDS[text.astext()]))


def _use_book_class(app, config) -> None:
    # Runs after sphinx-jupyterbook-latex's own config-inited handler, which sets
    # latex_theme to "jupyterBook".
    config.latex_theme = CLASS_FILE.stem


def _copy_book_class(app) -> None:
    if isinstance(app.builder, LaTeXBuilder):
        copy_asset_file(str(CLASS_FILE), app.outdir)


def setup(app):
    app.setup_extension("sphinx_exercise")
    from sphinx_exercise.nodes import depart_exercise_enumerable_node, exercise_enumerable_node

    app.add_node(exercise_enumerable_node, override=True, latex=(_visit_exercise, depart_exercise_enumerable_node))
    app.add_post_transform(LetterTheAppendix)
    app.add_post_transform(SpellOutExecutionStatus)
    app.add_post_transform(MarkBibliographyPlace)
    app.add_post_transform(MoveBibliographyBack)
    app.connect("config-inited", _use_book_class, priority=900)
    app.connect("builder-inited", _copy_book_class, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
