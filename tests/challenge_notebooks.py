"""Run the practice-challenge notebooks, shared by the challenge tests.

The challenge notebooks are ungraded: a student checks an answer with the
visible test cells. These helpers execute a notebook in a fresh kernel, and
run its cells in-process with one function swapped for a deliberately wrong
version, to show that the visible tests catch that mistake.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions" / "challenges"
EXERCISES = ROOT / "exercises" / "challenges"


def challenge_notebooks() -> list[str]:
    """File names of the challenge notebooks, e.g. ``["01_ensemble.ipynb", ...]``."""
    return sorted(path.name for path in SOLUTIONS.glob("*.ipynb"))


def execute(path: Path, artifacts: Path, package: Path | None = None) -> nbformat.NotebookNode:
    """Execute a notebook in a fresh kernel, errors recorded in the outputs rather than raised.

    The kernel runs in a scratch working directory with its own artifact folder,
    as on a student's machine where the book has not run; ``package`` is a
    folder whose ``phishlab`` the kernel imports (an edition's ``src``).
    """
    notebook = nbformat.read(path, as_version=4)
    names = ("PHISHLAB_ARTIFACTS", "TQDM_DISABLE", "MPLBACKEND", "PYTHONPATH")
    env_before = {name: os.environ.get(name) for name in names}
    os.environ.update(PHISHLAB_ARTIFACTS=str(artifacts), TQDM_DISABLE="1", MPLBACKEND="Agg")
    if package is not None:
        os.environ["PYTHONPATH"] = str(package)
    try:
        workdir = artifacts.parent
        NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        for name, value in env_before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return notebook


def errors(notebook: nbformat.NotebookNode) -> dict[int, str]:
    """``{cell index: exception name}`` for every code cell that raised."""
    return {index: output["ename"]
            for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == "error"}


def stderr_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the notebook wrote to stderr (warnings a student would see)."""
    return "".join(output.get("text", "")
                   for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.get("name") == "stderr")


def run_with_replacement(path: Path, function: str, wrong_source: str, artifacts: Path) -> Exception | None:
    """Run a solution notebook's code in-process with ``function`` replaced; return the first error.

    ``wrong_source`` defines ``function`` anew (a plausible student mistake); it
    is executed right after the cell that defines the real one, so every later
    cell -- the visible tests above all -- sees the wrong version. Returns the
    first exception a cell raised, or None if every cell ran.
    """
    notebook = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "__challenge__"}
    previous = os.environ.get("PHISHLAB_ARTIFACTS")
    os.environ["PHISHLAB_ARTIFACTS"] = str(artifacts)
    replaced = False
    try:
        import matplotlib

        matplotlib.use("Agg")
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                exec(compile(source, f"<{path.name}>", "exec"), namespace)  # our own notebook, run as the student would
                if not replaced and f"def {function}(" in source:
                    exec(compile(wrong_source, "<wrong version>", "exec"), namespace)
                    replaced = True
            except Exception as error:  # the first failure is the answer
                return error
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
        if previous is None:
            os.environ.pop("PHISHLAB_ARTIFACTS", None)
        else:
            os.environ["PHISHLAB_ARTIFACTS"] = previous
        sys.modules.pop("__challenge__", None)
    if not replaced:
        raise ValueError(f"{path.name} defines no function {function!r}")
    return None
