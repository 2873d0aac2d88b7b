"""Load the reference solutions from the instructor notebooks.

The solution cells of ``solutions/<id>/<id>.ipynb`` are the one source of
truth for the reference implementations: this module executes them (with the
notebook's read-only setup cells) in a fresh namespace instead of keeping a
copy of the code anywhere else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from autograder import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def solution_notebook(assignment: str, root: Path = ROOT) -> Path:
    """Path of the instructor notebook of ``assignment``."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; expected one of {sorted(ASSIGNMENTS)}")
    return root / "solutions" / assignment / f"{assignment}.ipynb"


def _cells(assignment: str, root: Path) -> list[dict]:
    notebook = json.loads(solution_notebook(assignment, root).read_text(encoding="utf-8"))
    return notebook["cells"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def is_visible_test(nbgrader: dict) -> bool:
    """Read-only cells of visible tests (``check_<function>``) are tests, not code to load."""
    return str(nbgrader.get("grade_id", "")).startswith("check_")


def reference_source(assignment: str, root: Path = ROOT) -> str:
    """The code of the setup and solution cells, with nbgrader's markers removed."""
    pieces = []
    for cell in _cells(assignment, root):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or meta.get("grade") or is_visible_test(meta):
            continue
        if meta.get("solution") or meta.get("locked"):
            lines = [line for line in _source(cell).splitlines() if not _MARKER.match(line)]
            pieces.append("\n".join(lines))
    return "\n\n\n".join(pieces) + "\n"


def solution_lines(assignment: str, root: Path = ROOT) -> list[str]:
    """Every line between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, stripped."""
    lines = []
    for cell in _cells(assignment, root):
        inside = False
        for line in _source(cell).splitlines():
            if re.match(r"^\s*### BEGIN SOLUTION", line):
                inside = True
            elif re.match(r"^\s*### END SOLUTION", line):
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def load_reference(assignment: str, root: Path = ROOT) -> dict[str, Callable]:
    """The reference implementations of ``assignment``'s graded functions."""
    namespace: dict = {"__name__": f"reference_{assignment}"}
    code = compile(reference_source(assignment, root), f"<reference solution of {assignment}>", "exec")
    exec(code, namespace)
    missing = [name for name in ASSIGNMENTS[assignment] if name not in namespace]
    if missing:
        raise ValueError(f"the {assignment} solution notebook does not define {missing}")
    return {name: namespace[name] for name in ASSIGNMENTS[assignment]}
