"""Read a submitted notebook defensively and pick the code to run.

Nothing in a submission is trusted: the file may not be UTF-8, not JSON, not
a notebook, an old format, enormous, or a notebook of another assignment.
Each of these ends in a :class:`SubmissionProblem` with a status and a message
a student can act on. A readable notebook yields the code cells to execute:

* read-only setup cells are taken from the instructor source, so a student who
  edited them cannot change what the graded code imports;
* test cells (nbgrader ``grade`` cells and the read-only ``check_*`` cells of
  visible tests) are never run -- a student's copy of a test proves nothing;
* the course-data demo cells at the end (ids of ungraded cells of the source)
  are skipped: they are slow and not graded;
* every other code cell -- the answers and any cell the student added -- runs
  in notebook order.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder import ASSIGNMENTS
from autograder.reference import ROOT, _cells, _source, is_visible_test

MAX_BYTES = 50 * 1024 * 1024


class SubmissionProblem(Exception):
    """A submission that cannot be graded at all."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Submission:
    """The code of a readable submission."""

    cells: list[dict]
    messages: list[str] = field(default_factory=list)


def _grade_ids(cells: list) -> set[str]:
    ids = set()
    for cell in cells:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        if isinstance(nbgrader, dict) and isinstance(nbgrader.get("grade_id"), str):
            ids.add(nbgrader["grade_id"])
    return ids


def _load_json(path: Path) -> dict:
    if not path.exists() and not path.is_symlink():
        raise SubmissionProblem("missing", f"no notebook at {path.name}")
    if path.is_symlink() or not path.is_file():
        # A link could point at anything the grader can read, the solutions included.
        raise SubmissionProblem("not_a_notebook", "the submission is not a regular file (links are not accepted)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SubmissionProblem("too_large", f"the notebook is {size / 1e6:.0f} MB; the limit is "
                                f"{MAX_BYTES / 1e6:.0f} MB. Clear the outputs (Kernel > Restart & Clear "
                                "Output) and submit again.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionProblem("not_utf8", f"the file is not UTF-8 text (byte {error.start} is invalid); "
                                "save the notebook from Jupyter and submit that file") from None
    if not text.strip():
        raise SubmissionProblem("invalid_json", "the file is empty")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem("invalid_json", f"the file is not valid JSON (line {error.lineno}, "
                                f"column {error.colno}: {error.msg}); was it edited by hand or "
                                "cut short?") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", notebook.get("worksheets")), list):
        raise SubmissionProblem("not_a_notebook", "the file is JSON but not a Jupyter notebook")
    if notebook.get("nbformat") != 4 or "cells" not in notebook:
        raise SubmissionProblem("unsupported_nbformat", f"the notebook is in format version "
                                f"{notebook.get('nbformat')!r}; open it in a current Jupyter and save it "
                                "(format 4) before submitting")
    return notebook


def read_submission(path: Path, assignment: str, root: Path = ROOT) -> Submission:
    """Parse ``path`` and choose the cells to run for ``assignment``."""
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}")
    notebook = _load_json(Path(path))
    source_cells = _cells(assignment, root)
    expected_ids = _grade_ids(source_cells)
    submitted_ids = _grade_ids(notebook["cells"])
    for other in ASSIGNMENTS:
        if other == assignment:
            continue
        other_all = _grade_ids(_cells(other, root))
        theirs, ours = other_all - expected_ids, expected_ids - other_all
        if submitted_ids & theirs and not submitted_ids & ours:
            raise SubmissionProblem("wrong_assignment", f"this looks like the {other!r} notebook, "
                                    f"not {assignment!r}; submit {assignment}.ipynb")

    setup = {cell.get("metadata", {}).get("nbgrader", {}).get("grade_id"): _source(cell)
             for cell in source_cells
             if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("locked")
             and not cell["metadata"]["nbgrader"].get("grade") and not is_visible_test(cell["metadata"]["nbgrader"])}
    skipped_ids = {cell.get("id") for cell in source_cells
                   if cell["cell_type"] == "code" and "nbgrader" not in cell.get("metadata", {})}

    cells, messages, seen_setup = [], [], set()
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        grade_id = nbgrader.get("grade_id")
        if nbgrader.get("grade") or is_visible_test(nbgrader):
            continue
        if grade_id in setup:
            cells.append({"id": str(grade_id), "source": setup[grade_id]})
            seen_setup.add(grade_id)
            continue
        if cell.get("id") in skipped_ids and not nbgrader:
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        cells.append({"id": str(grade_id or cell.get("id") or f"cell-{index + 1}"), "source": source})
    # A setup cell the student deleted still runs, first.
    missing_setup = [{"id": grade_id, "source": code} for grade_id, code in setup.items()
                     if grade_id not in seen_setup]
    cells = missing_setup + cells
    messages += duplicate_definitions(cells, ASSIGNMENTS[assignment])
    return Submission(cells, messages)


def duplicate_definitions(cells: list[dict], names: tuple[str, ...]) -> list[str]:
    """A message for every graded function defined in more than one place."""
    where: dict[str, list[str]] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell["source"])
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
                where.setdefault(node.name, []).append(cell["id"])
    return [f"{name} is defined more than once (cells {', '.join(ids)}); the last definition is graded"
            for name, ids in where.items() if len(ids) > 1]
