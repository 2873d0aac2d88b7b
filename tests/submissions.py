"""Build student submissions for the grader tests from fixture files.

A *fixture* is a Python file in an assignment's folder,
``autograder/assignments/<assignment>/fixtures/{correct,hostile}/``, holding the
code of one (correct or hostile) student, plus a few upper-case constants that
describe what the grader should make of it::

    STATUS_MENTIONS     phrases the feedback must contain (hostile submissions)
    LOSES_POINTS_IN     graded functions that must score below full marks (optional)
    MAX_SCORE           the most points a hostile submission may get
    MIN_SCORE           the fewest points it must still get (optional)
    EXTRA_CELLS         sources of code cells appended to the notebook (optional;
                        for code that is not valid Python, such as a syntax error)
    REPLACES            graded functions whose answer cells the fixture takes over
                        without defining them (optional; e.g. a renamed function)
    NOT_MENTIONS        phrases the feedback must not contain (optional)

The constants are read with :mod:`ast`, never by importing the file: hostile
fixtures must only ever run inside the grader's sandbox.

Wrong submissions are not hand-written: each known mistake of an assignment
(``autograder/assignments/<id>/mistakes.py``) is the reference notebook with
one small edit, built by :func:`mistake_submission`.

A submission is the student release ``exercises/<id>/<id>.ipynb`` with its
answer cells (nbgrader ``solution`` cells, whose id is the function's name)
filled in:

* the whole fixture (minus its docstring and constants) goes into the first
  answer cell whose function it defines or replaces; if it defines none, it
  goes at the top of the first answer cell, before that cell's reference code,
  so its module-level statements run before anything else is defined;
* other answer cells of functions the fixture defines or replaces hold only a
  comment, so the fixture's definition is the one graded;
* every remaining answer cell gets the reference code of the instructor source
  ``solutions/<id>/<id>.ipynb``, without nbgrader's solution markers.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.assignments import assignments
from autograder.mistakes import Mistake, edited_cell
from autograder.reference import answered_release, reference_cells

ROOT = Path(__file__).resolve().parents[1]
CONSTANTS = ("STATUS_MENTIONS", "MAX_SCORE", "MIN_SCORE", "LOSES_POINTS_IN", "EXTRA_CELLS", "REPLACES",
             "NOT_MENTIONS")


@dataclass(frozen=True)
class Fixture:
    """A parsed fixture file.

    Attributes
    ----------
    path : Path
        The fixture file.
    assignment : str
        The assignment id (the name of the fixture's folder).
    code : str
        The student's code: the file without its docstring and constants.
    defines : tuple of str
        Graded functions of the assignment defined at the top level of the file.
    meta : dict
        The constants, by name (absent constants are absent keys).
    """

    path: Path
    assignment: str
    code: str
    defines: tuple[str, ...]
    meta: dict

    @property
    def name(self) -> str:
        """``<assignment>/<file stem>``, for test ids and messages."""
        return f"{self.assignment}/{self.path.stem}"

    @property
    def claims(self) -> tuple[str, ...]:
        """Graded functions whose answer cells the fixture takes over, in notebook order."""
        claimed = set(self.defines) | set(self.meta.get("REPLACES", ()))
        return tuple(name for name in assignments()[self.assignment].functions if name in claimed)


def read_fixture(path: Path) -> Fixture:
    """Parse a fixture file without executing it.

    Parameters
    ----------
    path : Path
        ``autograder/assignments/<assignment>/fixtures/<kind>/<name>.py``.

    Returns
    -------
    Fixture
        Its code, the graded functions it defines and its constants.

    Raises
    ------
    ValueError
        If the folder is not an assignment id, a constant is not a literal, or
        ``REPLACES``/``LOSES_POINTS_IN`` name a function the assignment does not grade.
    """
    path = Path(path)
    assignment = path.parents[2].name
    if assignment not in assignments():
        raise ValueError(f"{path}: the folder {assignment!r} is not an assignment id")
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    lines = text.splitlines()
    drop: set[int] = set()
    meta: dict = {}
    for index, node in enumerate(tree.body):
        docstring = (index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                     and isinstance(node.value.value, str))
        constant = (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id in CONSTANTS)
        if constant:
            try:
                meta[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError as error:
                raise ValueError(f"{path}: {node.targets[0].id} must be a literal") from error
        if docstring or constant:
            drop.update(range(node.lineno - 1, node.end_lineno))
    graded = assignments()[assignment].functions
    for key in ("REPLACES", "LOSES_POINTS_IN"):
        unknown = [name for name in meta.get(key, ()) if name not in graded]
        if unknown:
            raise ValueError(f"{path}: {key} names {unknown}, which {assignment} does not grade")
    defines = tuple(node.name for node in tree.body
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in graded)
    kept = [line for number, line in enumerate(lines) if number not in drop]
    code = re.sub(r"\n{4,}", "\n\n\n", "\n".join(kept).strip("\n")) + "\n"
    return Fixture(path, assignment, code, tuple(dict.fromkeys(defines)), meta)


def fixture_files(kind: str) -> list[Path]:
    """Every fixture file of ``kind`` (``"correct"`` or ``"hostile"``) of every assignment, sorted."""
    return sorted(path for assignment in assignments().values()
                  for path in (assignment.folder / "fixtures" / kind).glob("*.py"))


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def release_notebook(assignment: str, root: Path = ROOT) -> dict:
    """The student release of ``assignment`` as a JSON dictionary."""
    return answered_release(assignment, {}, root)


def answer_cell_ids(notebook: dict) -> list[str]:
    """Ids of the answer cells (nbgrader ``solution`` code cells) in notebook order."""
    return [cell["id"] for cell in notebook["cells"]
            if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("solution")]


def _write(notebook: dict, out_path: Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out_path


def _fill(assignment: str, answers: dict[str, str], extra_cells: tuple[str, ...] = ()) -> dict:
    notebook = answered_release(assignment, answers)
    for number, source in enumerate(extra_cells, start=1):
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": f"extra-{number}",
                                  "metadata": {}, "outputs": [], "source": _lines(source)})
    return notebook


def build_submission(assignment: str, fixture_path: Path, out_path: Path) -> Path:
    """Write the notebook a student with the fixture's code would submit.

    Parameters
    ----------
    assignment : str
        The assignment id; must be the fixture's folder name.
    fixture_path : Path
        The fixture file (see the module docstring for the placement rules).
    out_path : Path
        Where to write the ``.ipynb`` file (parent folders are created).

    Returns
    -------
    Path
        ``out_path``.
    """
    fixture = read_fixture(fixture_path)
    if fixture.assignment != assignment:
        raise ValueError(f"{fixture_path} is a fixture of {fixture.assignment!r}, not {assignment!r}")
    reference = reference_cells(assignment)
    order = answer_cell_ids(release_notebook(assignment))
    claims = fixture.claims
    target = claims[0] if claims else order[0]
    answers = {}
    for cell_id in order:
        if cell_id == target:
            own = "" if cell_id in claims else f"\n\n{reference[cell_id]}"
            answers[cell_id] = fixture.code + own
        elif cell_id in claims:
            answers[cell_id] = f"# My {cell_id} is in the {target} cell above.\n"
        else:
            answers[cell_id] = reference[cell_id]
    return _write(_fill(assignment, answers, tuple(fixture.meta.get("EXTRA_CELLS", ()))), out_path)


def mistake_submission(assignment: str, mistake: Mistake, out_path: Path) -> Path:
    """Like :func:`reference_submission`, but the answer cell of ``mistake.function`` has the mistake made."""
    answers = {**reference_cells(assignment), mistake.function: edited_cell(assignment, mistake)}
    return _write(_fill(assignment, answers), out_path)


def reference_submission(assignment: str, out_path: Path) -> Path:
    """Write the release with every answer cell holding the reference code.

    Parameters
    ----------
    assignment : str
        The assignment id.
    out_path : Path
        Where to write the ``.ipynb`` file.

    Returns
    -------
    Path
        ``out_path``.
    """
    return _write(_fill(assignment, reference_cells(assignment)), out_path)


def untouched_submission(assignment: str, out_path: Path, root: Path = ROOT) -> Path:
    """Write the student release exactly as distributed (every answer a stub).

    Parameters
    ----------
    assignment : str
        The assignment id.
    out_path : Path
        Where to write the ``.ipynb`` file.
    root : Path
        The repository root.

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "exercises" / assignment / f"{assignment}.ipynb", out_path)
    return out_path


def sandbox_processes() -> list[str]:
    """Live processes of a grader's sandbox: bubblewrap, a fork server, or a child with a sandbox uid."""
    from autograder.sandbox import UNPRIVILEGED_UIDS

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = entry.stat().st_uid
        except (OSError, IndexError):
            continue
        if state == "Z":  # already dead, waiting to be reaped
            continue
        if "bwrap" in command.split(" ")[0] or "autograder_worker" in command \
                or UNPRIVILEGED_UIDS[0] <= uid < UNPRIVILEGED_UIDS[1]:
            found.append(f"{entry.name}: {command[:80]}")
    return found
