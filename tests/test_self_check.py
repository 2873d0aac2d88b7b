"""``nbgrader validate`` tells students the truth about their notebook.

Each graded function's visible tests sit in its graded test cell (an nbgrader
grade cell), above the hidden tests, so the real ``nbgrader validate`` fails a
release whose answers are missing and passes one whose answers are right. It is
run once, in one scratch course, on three versions of each assignment's release:

* ``untouched``: the release as students get it;
* ``half``: the first answer cell holds the reference code, the others are untouched;
* ``complete``: every answer cell holds the reference code.

The fast tests below check the cells themselves: where the visible tests are,
that they keep their names to themselves (they run in the student's namespace),
and that every assert says what went wrong.
"""

from __future__ import annotations

import ast
import json
import re

import pytest
from nbgrader_course import ASSIGNMENTS, ROOT, nbgrader, scratch_course

from autograder.reference import answered_release, reference_cells

STATES = ("untouched", "half", "complete")
HIDDEN = "### BEGIN HIDDEN TESTS"
_VERDICT = re.compile(r"^(?:Success! Your notebook passes all the tests\.|VALIDATION FAILED ON (\d+) CELL\(S\)!)",
                      re.MULTILINE)


def cells(folder: str, assignment: str) -> list[dict]:
    return json.loads((ROOT / folder / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))["cells"]


def text(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(assignment: str) -> list[dict]:
    """The graded test cells of the instructor source, in notebook order."""
    return [cell for cell in cells("solutions", assignment)
            if cell["cell_type"] == "code" and nbgrader_meta(cell).get("grade")]


def release_version(assignment: str, state: str) -> dict:
    """The release with none, the first or every answer cell filled with the reference code."""
    answers = reference_cells(assignment)
    release = answered_release(assignment, {})
    answer_ids = [cell["id"] for cell in release["cells"] if nbgrader_meta(cell).get("solution")]
    assert answer_ids == list(answers), "the release's answer cells are not the source's"
    to_fill = {"untouched": [], "half": answer_ids[:1], "complete": answer_ids}[state]
    return answered_release(assignment, {cell_id: answers[cell_id] for cell_id in to_fill})


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[tuple[str, str], str]:
    """nbgrader validate's report on every version of every release, from one run in one scratch course."""
    course = scratch_course(tmp_path_factory.mktemp("self-check"))
    artifacts = tmp_path_factory.mktemp("self-check-artifacts")
    order, paths = [], []
    for assignment in ASSIGNMENTS:
        for state in STATES:
            folder = course / "students" / f"{assignment}-{state}"
            folder.mkdir(parents=True)
            path = folder / f"{assignment}.ipynb"
            path.write_text(json.dumps(release_version(assignment, state), indent=1, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            order.append((assignment, state))
            paths.append(str(path.relative_to(course)))
    completed = nbgrader(course, "validate", *paths, artifacts=artifacts)  # fails unless the exit status is 0
    starts = [match.start() for match in _VERDICT.finditer(completed.stdout)]
    assert len(starts) == len(paths), f"expected one verdict per notebook:\n{completed.stdout[-5000:]}"
    reports = [completed.stdout[start:end] for start, end in zip(starts, [*starts[1:], None])]
    return dict(zip(order, reports))


def exceptions(report: str) -> list[str]:
    """The exception each failed cell ended with, in order (the last line of each traceback)."""
    found = []
    for section in report.split("The following cell failed:")[1:]:
        error = section.partition("The error was:")[2]
        names = re.findall(r"^\s*([A-Za-z_]\w*(?:Error|Exception)):", error, flags=re.MULTILINE)
        found.append(names[-1] if names else error.strip()[:200])
    return found


def failed_cells(report: str) -> int:
    """How many cells nbgrader says failed (0 for its success message)."""
    match = _VERDICT.match(report)
    return int(match.group(1)) if match.group(1) else 0


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_fails_the_untouched_release_in_every_graded_cell(verdicts, assignment):
    report = verdicts[(assignment, "untouched")]
    graded = len(graded_cells(assignment))
    assert "Success!" not in report
    assert failed_cells(report) == graded, report[:3000]
    assert exceptions(report) == ["NotImplementedError"] * graded, report[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_fails_a_half_done_release_in_the_cells_still_to_do(verdicts, assignment):
    report = verdicts[(assignment, "half")]
    graded = len(graded_cells(assignment))
    assert "Success!" not in report
    assert failed_cells(report) == graded - 1, report[:3000]
    # The answered function passes its visible tests; the others are still to write.
    assert exceptions(report) == ["NotImplementedError"] * (graded - 1), report[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes_the_release_completed_with_the_reference_code(verdicts, assignment):
    report = verdicts[(assignment, "complete")]
    assert report.startswith("Success! Your notebook passes all the tests."), report[:5000]
    assert failed_cells(report) == 0


# --- the cells themselves (fast) ------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_tests_sit_in_the_graded_cells_above_the_hidden_tests(assignment):
    source = cells("solutions", assignment)
    assert not [nbgrader_meta(cell).get("grade_id") for cell in source
                if str(nbgrader_meta(cell).get("grade_id", "")).startswith("check_")], \
        "visible tests belong in the graded cell of their function, not in a separate check_ cell"
    for cell in graded_cells(assignment):
        visible, _, hidden = cell["source"].partition(HIDDEN)
        assert hidden, f"{nbgrader_meta(cell)['grade_id']} has no hidden tests"
        assert "assert " in visible and visible.rstrip().endswith('print("Visible tests passed.")'), \
            f"{nbgrader_meta(cell)['grade_id']}: visible tests, then the hidden ones"
    release = {nbgrader_meta(cell).get("grade_id"): text(cell) for cell in cells("exercises", assignment)}
    for cell in graded_cells(assignment):
        grade_id = nbgrader_meta(cell)["grade_id"]
        assert release[grade_id].strip() == cell["source"].partition(HIDDEN)[0].strip(), \
            f"the release's {grade_id} should hold the visible tests only"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_tests_leave_the_students_names_alone(assignment):
    """They run in the student's namespace: a test variable named like a student's helper would replace it."""
    for cell in graded_cells(assignment):
        tree = ast.parse(cell["source"].partition(HIDDEN)[0])
        bound = {target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AugAssign, ast.For))
                 for target in ast.walk(node.targets[0] if isinstance(node, ast.Assign) else node.target)
                 if isinstance(target, ast.Name)}
        bound |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        assert bound <= {"visible_tests"}, f"{nbgrader_meta(cell)['grade_id']} binds {sorted(bound)} at the top level"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_visible_assert_says_what_went_wrong(assignment):
    for cell in graded_cells(assignment):
        visible = cell["source"].partition(HIDDEN)[0]
        silent = [node.lineno for node in ast.walk(ast.parse(visible))
                  if isinstance(node, ast.Assert) and node.msg is None]
        assert not silent, f"{nbgrader_meta(cell)['grade_id']}: asserts without a message on lines {silent}"
