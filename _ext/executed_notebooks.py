"""Keep the outputs in the executed notebooks a reader downloads, also on a cached rebuild.

Each chapter page offers its executed notebook (``_build/jupyter_execute`` →
``_sources/…ipynb``). When a chapter comes from the execution cache, MyST-NB
(1.x) merges the cached outputs into a *new* notebook object but writes the
original, output-less one to ``jupyter_execute``: the download would have no
outputs after the second build. Copying the merged cells back into the
original object makes both builds write the same executed notebook.
"""

from __future__ import annotations

from myst_nb.core.execute.cache import NotebookClientCache
from sphinx.application import Sphinx

_start_client = NotebookClientCache.start_client


def _start_client_in_place(self: NotebookClientCache) -> None:
    original = self._notebook
    _start_client(self)
    if self._notebook is not original:
        original.cells = self._notebook.cells
        original.metadata = self._notebook.metadata
        self._notebook = original


def setup(app: Sphinx) -> dict:
    NotebookClientCache.start_client = _start_client_in_place
    return {"parallel_read_safe": True, "parallel_write_safe": True}
