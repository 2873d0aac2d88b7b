"""Include each script of a page once.

sphinx-thebe (loaded by Jupyter Book even with Thebe switched off) registers
its inline configuration script twice; the second copy re-declares a
``const`` and every page logs "Identifier 'THEBE_JS_URL' has already been
declared" in the reader's console. Dropping exact duplicates fixes that
without touching what each script does.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        # Same file and attributes (an inline script's body is an attribute, its filename None or "").
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    # After the other extensions have added their per-page scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
