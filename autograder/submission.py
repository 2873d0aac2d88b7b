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
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from autograder.assignments import assignments, get
from autograder.reference import ROOT, _cells, _source, grade_ids, is_visible_test, known_grade_ids

MAX_BYTES = 50 * 1024 * 1024
MAX_CODE_BYTES = 2 * 1024 * 1024
"""Code (not outputs) one notebook may hold."""
MAX_CODE_CELLS = 1000


class SubmissionProblem(Exception):
    """A submission that cannot be graded at all."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Submission:
    """The code of a readable submission, and the SHA-256 of the file it came from."""

    cells: list[dict]
    messages: list[str] = field(default_factory=list)
    digest: str = ""


def read_file(path: Path, below: Path | None = None) -> bytes:
    """The bytes of a submitted file, read once, never through a symbolic link.

    Parameters
    ----------
    path : Path
        The file.
    below : Path, optional
        The submissions folder ``path`` lies in: no folder between the two may
        be a link either (a link could lead to the solutions or to another
        student's work).

    Raises
    ------
    SubmissionProblem
        ``missing``, ``not_a_notebook`` (a link, a folder, a pipe...) or ``too_large``.
    """
    path = Path(path)
    links = "the submission is reached through a symbolic link, which is not accepted: submit the notebook itself"
    if below is not None:
        current = Path(below)
        for part in path.relative_to(below).parts:
            current = current / part
            if current.is_symlink():
                raise SubmissionProblem("not_a_notebook", links)
    if not path.exists() and not path.is_symlink():
        raise SubmissionProblem("missing", f"no notebook at {path.name}")
    try:
        # No link, and no waiting on a pipe someone put in place of the notebook.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise SubmissionProblem("not_a_notebook", links if path.is_symlink() else
                                "the submission is not a readable file") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionProblem("not_a_notebook", "the submission is not a regular file")
        if info.st_size > MAX_BYTES:
            raise SubmissionProblem("too_large", _too_large(info.st_size))
        raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise SubmissionProblem("too_large", _too_large(len(raw)))
    return raw


def _too_large(size: int) -> str:
    return (f"the notebook is {size / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB. Clear the outputs "
            "(Kernel > Restart & Clear Output) and submit again.")


def _grade_ids(cells: list) -> set[str]:
    ids = set()
    for cell in cells:
        meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
        nbgrader = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
        if isinstance(nbgrader, dict) and isinstance(nbgrader.get("grade_id"), str):
            ids.add(nbgrader["grade_id"])
    return ids


def _upgrade(notebook: dict) -> dict:
    """A format-3 notebook in format 4, as nbformat converts it (losslessly for code and metadata)."""
    import nbformat

    try:
        upgraded = nbformat.convert(nbformat.from_dict(notebook), 4)
    except Exception:  # whatever nbformat cannot read is refused below as an unsupported format
        return notebook
    return json.loads(json.dumps(upgraded))


def _load_json(raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionProblem("not_utf8", f"the file is not UTF-8 text (byte {error.start} is invalid); "
                                "save the notebook from Jupyter and submit that file") from None
    if not text.strip():
        raise SubmissionProblem("invalid_json", "the file is empty")
    if raw.count(b'"cell_type"') > 5 * MAX_CODE_CELLS:  # refused before parsing: millions of objects cost gigabytes
        raise SubmissionProblem("too_large", f"the notebook has more than {5 * MAX_CODE_CELLS} cells; remove the "
                                "cells you added for experiments")
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionProblem("invalid_json", f"the file is not valid JSON (line {error.lineno}, "
                                f"column {error.colno}: {error.msg}); was it edited by hand or "
                                "cut short?") from None
    except (RecursionError, ValueError):
        raise SubmissionProblem("invalid_json", "the file is JSON nested too deeply (or with numbers too long) "
                                "to be a notebook") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", notebook.get("worksheets")), list):
        raise SubmissionProblem("not_a_notebook", "the file is JSON but not a Jupyter notebook")
    if notebook.get("nbformat") == 3:
        notebook = _upgrade(notebook)
    if notebook.get("nbformat") != 4 or "cells" not in notebook:
        raise SubmissionProblem("unsupported_nbformat", f"the notebook is in format version "
                                f"{notebook.get('nbformat')!r}; open it in a current Jupyter and save it "
                                "(format 4) before submitting")
    return notebook


def read_submission(path: Path, assignment: str, root: Path = ROOT, below: Path | None = None) -> Submission:
    """Read ``path`` once (see :func:`read_file`) and choose the cells to run for ``assignment``."""
    return parse_submission(read_file(path, below), assignment, root)


def parse_submission(raw: bytes, assignment: str, root: Path = ROOT) -> Submission:
    """Parse a notebook's bytes and choose the cells to run for ``assignment``."""
    functions = get(assignment).functions
    notebook = _load_json(raw)
    source_cells = _cells(assignment, root)
    expected_ids = _grade_ids(source_cells)
    submitted_ids = _grade_ids(notebook["cells"])
    for other in sorted(set(assignments()) | set(known_grade_ids(root))):
        if other == assignment:
            continue
        other_all = grade_ids(other, root)
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
        # Ids are the student's data: only short strings are taken as ids.
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader.get("grade_id"), str) else None
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        if nbgrader.get("grade") or is_visible_test({"grade_id": grade_id or ""}):
            continue
        if grade_id in setup:
            cells.append({"id": grade_id, "source": setup[grade_id]})
            seen_setup.add(grade_id)
            continue
        if cell_id in skipped_ids and not nbgrader:
            continue
        source = cell.get("source", "")
        source = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        cells.append({"id": (grade_id or cell_id or f"cell-{index + 1}")[:80], "source": source})
    # A setup cell the student deleted still runs, first.
    missing_setup = [{"id": grade_id, "source": code} for grade_id, code in setup.items()
                     if grade_id not in seen_setup]
    cells = missing_setup + cells
    code_bytes = sum(len(cell["source"]) for cell in cells)
    if len(cells) > MAX_CODE_CELLS or code_bytes > MAX_CODE_BYTES:
        raise SubmissionProblem("too_large", f"the notebook holds {len(cells)} code cells and {code_bytes / 1e6:.1f} "
                                f"MB of code; the limits are {MAX_CODE_CELLS} cells and "
                                f"{MAX_CODE_BYTES / 1e6:.0f} MB. Remove the cells you added for experiments.")
    messages += duplicate_definitions(cells, functions)
    return Submission(cells, messages, hashlib.sha256(raw).hexdigest())


def duplicate_definitions(cells: list[dict], names: tuple[str, ...]) -> list[str]:
    """A message for every graded function defined in more than one place."""
    where: dict[str, list[str]] = {}
    for cell in cells:
        try:
            tree = ast.parse(cell["source"])
        except Exception:  # the sandbox reports the syntax error; here it only means "no definitions"
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
                where.setdefault(node.name, []).append(cell["id"])
    return [f"{name} is defined more than once (cells {', '.join(ids)}); the last definition is graded"
            for name, ids in where.items() if len(ids) > 1]
