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

from autograder.assignments import get

ROOT = Path(__file__).resolve().parents[1]
_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def solution_notebook(assignment: str, root: Path = ROOT) -> Path:
    """Path of the instructor notebook of ``assignment``."""
    get(assignment)
    return root / "solutions" / assignment / f"{assignment}.ipynb"


def _cells(assignment: str, root: Path) -> list[dict]:
    notebook = json.loads(solution_notebook(assignment, root).read_text(encoding="utf-8"))
    return notebook["cells"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def known_grade_ids(root: Path = ROOT) -> dict[str, list[str]]:
    """``solutions/grade_ids.json`` of a bundle: the cell ids of assignments whose reference is absent."""
    path = root / "solutions" / "grade_ids.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def grade_ids(assignment: str, root: Path = ROOT) -> set[str]:
    """The nbgrader cell ids of an assignment, which tell one assignment's notebook from another's.

    Read from the instructor notebook, or, where only one assignment's reference
    is present (a Gradescope bundle), from ``solutions/grade_ids.json``.
    """
    notebook = root / "solutions" / assignment / f"{assignment}.ipynb"
    if notebook.exists():
        cells = _cells(assignment, root)
        return {c["metadata"]["nbgrader"]["grade_id"] for c in cells
                if isinstance(c.get("metadata", {}).get("nbgrader", {}).get("grade_id"), str)}
    return set(known_grade_ids(root)[assignment])


def is_visible_test(nbgrader: dict) -> bool:
    """Read-only cells of visible tests (``check_<function>``) are tests, not code to load."""
    return str(nbgrader.get("grade_id", "")).startswith("check_")


def reference_source(assignment: str, root: Path = ROOT, replace: dict[str, str] | None = None) -> str:
    """The code of the setup and solution cells, with nbgrader's markers removed.

    ``replace`` maps answer-cell ids to code that stands in for their reference
    (how a known mistake is made, see :mod:`autograder.mistakes`).
    """
    replace = replace or {}
    pieces = []
    for cell in _cells(assignment, root):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or meta.get("grade") or is_visible_test(meta):
            continue
        if meta.get("solution") and cell.get("id") in replace:
            pieces.append(replace[cell["id"]])
        elif meta.get("solution") or meta.get("locked"):
            lines = [line for line in _source(cell).splitlines() if not _MARKER.match(line)]
            pieces.append("\n".join(lines))
    return "\n\n\n".join(pieces) + "\n"


def reference_cells(assignment: str, root: Path = ROOT) -> dict[str, str]:
    """The reference code of each answer cell (nbgrader ``solution`` cell), by cell id, markers removed."""
    cells = {}
    for cell in _cells(assignment, root):
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            kept = [line for line in _source(cell).splitlines() if not _MARKER.match(line)]
            cells[cell["id"]] = "\n".join(kept) + "\n"
    return cells


def answered_release(assignment: str, answers: dict[str, str], root: Path = ROOT) -> dict:
    """The student release of ``assignment`` with the answer cells named in ``answers`` filled in.

    Parameters
    ----------
    assignment : str
        The assignment id.
    answers : dict of str to str
        Code by answer cell id (a function's name), e.g. :func:`reference_cells`.

    Returns
    -------
    dict
        The notebook as JSON, as a student would submit it.
    """
    path = root / "exercises" / assignment / f"{assignment}.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell.get("id") in answers and cell["cell_type"] == "code":
            cell["source"] = answers[cell["id"]].splitlines(keepends=True)
            cell["outputs"], cell["execution_count"] = [], None
    return notebook


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


class BrokenReference(Exception):
    """The instructor notebook cannot serve as the reference (a TA's problem, not a student's)."""


def load_reference(assignment: str, root: Path = ROOT) -> dict[str, Callable]:
    """The reference implementations of ``assignment``'s graded functions.

    Raises
    ------
    BrokenReference
        With one line naming the notebook and what is wrong: it is unreadable,
        its solution code fails, or it does not define a graded function.
    """
    notebook = solution_notebook(assignment, root)
    try:
        source = reference_source(assignment, root)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BrokenReference(f"{notebook} cannot be read as a notebook ({type(error).__name__}: {error})") \
            from None
    namespace: dict = {"__name__": f"reference_{assignment}"}
    try:
        exec(compile(source, f"<reference solution of {assignment}>", "exec"), namespace)
    except Exception as error:
        raise BrokenReference(f"the solution code in {notebook} fails: {type(error).__name__}: "
                              f"{str(error).splitlines()[0] if str(error) else ''}") from None
    functions = get(assignment).functions
    for name in functions:
        if not callable(namespace.get(name)):
            raise BrokenReference(f"{notebook} does not define the graded function {name}")
    return {name: namespace[name] for name in functions}
