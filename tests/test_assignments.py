"""The graded assignments work with the real nbgrader, end to end."""

from __future__ import annotations

import json
import shutil

import pytest
from nbgrader_course import ASSIGNMENTS, ROOT, errors, execute, nbgrader, scratch_course

from autograder.assignments import assignments

pytestmark = pytest.mark.slow


def nbgrader_metadata(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(cell, cell.get("metadata", {}).get("nbgrader", {})) for cell in cells]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """One artifact folder for the module, so the course models are trained once."""
    return tmp_path_factory.mktemp("artifacts")


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A scratch course in which nbgrader generated every assignment from the sources."""
    course = scratch_course(tmp_path_factory.mktemp("generate"))
    for assignment in ASSIGNMENTS:
        nbgrader(course, "generate_assignment", assignment, "--force")
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_is_exactly_what_generate_assignment_produces(generated, assignment):
    produced = generated / "exercises" / assignment / f"{assignment}.ipynb"
    committed = ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert committed.read_bytes() == produced.read_bytes(), (
        f"exercises/{assignment} is out of date: run `nbgrader generate_assignment {assignment} --force` "
        "at the repository root and commit the result"
    )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_contains_no_solution_code_and_no_hidden_tests(assignment):
    text = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_is_worth_ten_points_split_across_its_functions(assignment):
    source = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
    graded = [meta for _, meta in nbgrader_metadata(source) if meta.get("grade")]
    assert sum(meta["points"] for meta in graded) == 10
    tested = {meta["grade_id"].removeprefix("test_") for meta in graded}
    assert tested == set(assignments()[assignment].functions)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_sources_pass_nbgrader_validate(generated, artifacts, assignment):
    result = nbgrader(generated, "validate", f"solutions/{assignment}/{assignment}.ipynb",
                      artifacts=artifacts)
    assert "Success! Your notebook passes all the tests." in result.stdout


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_fails_only_where_the_student_writes_code(tmp_path, artifacts, monkeypatch, assignment,
                                                          student_edition):
    """The release as the students' edition ships it, with that edition's phishlab."""
    monkeypatch.setenv("PHISHLAB_ARTIFACTS", str(artifacts))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("PYTHONPATH", str(student_edition / "src"))
    notebook = execute(student_edition / "exercises" / assignment / f"{assignment}.ipynb", tmp_path,
                       allow_errors=True)
    raised = errors(notebook)
    assert raised, "an untouched release should fail where the student has to write code"
    assert {name for _, name in raised} == {"NotImplementedError"}, raised


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_completed_notebook_runs_in_a_fresh_kernel(tmp_path, artifacts, monkeypatch, assignment):
    monkeypatch.setenv("PHISHLAB_ARTIFACTS", str(artifacts))
    monkeypatch.setenv("TQDM_DISABLE", "1")
    # The hidden cells grade the notebook file in the working folder with the course's graders.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    notebook_path = tmp_path / f"{assignment}.ipynb"
    shutil.copy(ROOT / "solutions" / assignment / f"{assignment}.ipynb", notebook_path)
    notebook = execute(notebook_path, tmp_path, allow_errors=True)
    assert errors(notebook) == []
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )
    assert printed.count("Visible tests passed.") == len(assignments()[assignment].functions)
    graded = [cell for cell in notebook.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade")]
    points = [float(output["data"]["text/plain"]) for cell in graded for output in cell.outputs
              if output.get("output_type") == "execute_result"]
    assert points == [cell.metadata.nbgrader.points for cell in graded]
