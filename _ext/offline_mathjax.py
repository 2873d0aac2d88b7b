"""Serve MathJax from the book itself instead of a CDN.

Readers on a train, in an exam room or behind a campus proxy still see
rendered formulas, and the browser tests run offline. The MathJax 3 files come
from the ``django-static-mathjax`` wheel (plain static files; Django is not
needed). Only the combined TeX/MathML component and its web fonts are copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

TARGET = "mathjax"
SCRIPT = "tex-mml-chtml.js"
FONTS = Path("output", "chtml", "fonts", "woff-v2")


def mathjax_es5() -> Path:
    """The folder holding MathJax's ``es5`` build."""
    try:
        import mathjax
    except ImportError as error:
        raise ExtensionError("MathJax is missing: install the book's requirements (django-static-mathjax)") from error
    folder = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (folder / SCRIPT).is_file():
        raise ExtensionError(f"MathJax's {SCRIPT} is not in {folder}")
    return folder


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_es5()
    target = Path(app.outdir) / "_static" / TARGET
    (target / FONTS).mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / SCRIPT, target / SCRIPT)
    for font in (source / FONTS).glob("*.woff"):
        shutil.copy2(font, target / FONTS / font.name)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")


def use_local_mathjax(app: Sphinx, config) -> None:
    mathjax_es5()  # fail at the start of a build, not after it
    # A relative mathjax_path is resolved against _static/ of the built book.
    config.mathjax_path = f"{TARGET}/{SCRIPT}"


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", use_local_mathjax, priority=900)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
