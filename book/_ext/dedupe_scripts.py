"""Drop repeated inline scripts from each page.

jupyter-book 1.0.4 fires sphinx-thebe's and sphinx-togglebutton's set-up events twice, so
every page declares ``const THEBE_JS_URL`` twice and the browser reports a SyntaxError.
Keeping the first copy of each identical inline script removes the error and changes
nothing else (tests/test_browser.py checks the console stays clean).
"""

from __future__ import annotations


def _drop_repeated_inline_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    kept = []
    for script in context.get("script_files", []):
        body = getattr(script, "attributes", {}).get("body")
        if body and not getattr(script, "filename", None):
            if body in seen:
                continue
            seen.add(body)
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _drop_repeated_inline_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
