"""Helpers that run the real nbgrader on a scratch copy of the course."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.assignments import assignments

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = tuple(assignments())


def nbgrader(course: Path, *args: str, artifacts: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``course``; fail with nbgrader's output if it fails."""
    env = dict(os.environ)
    # nbgrader calls the alembic command of its own environment.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TQDM_DISABLE"] = "1"
    if artifacts is not None:
        env["PHISHLAB_ARTIFACTS"] = str(artifacts)
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), *args],
        cwd=course, env=env, capture_output=True, text=True, timeout=1200,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"nbgrader {' '.join(args)} failed ({completed.returncode}):\n"
            f"{completed.stdout[-3000:]}\n{completed.stderr[-5000:]}"
        )
    return completed


def scratch_course(folder: Path) -> Path:
    """A course directory with this repository's nbgrader config and sources."""
    course = folder / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    # The hidden tests call the graders, which live next to nbgrader_config.py.
    shutil.copytree(ROOT / "autograder", course / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    return course


def execute(path: Path, workdir: Path, allow_errors: bool) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in a fresh kernel."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return notebook


def errors(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell id, exception name) of every cell that raised."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((cell.get("id", "?"), output["ename"]))
    return found
