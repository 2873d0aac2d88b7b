"""Practice-challenge notebooks: solutions pass their visible tests, releases fail only at the student's code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from challenge_notebooks import EXERCISES, ROOT, SOLUTIONS, challenge_notebooks, errors, execute, stderr_text

pytestmark = pytest.mark.slow

NOTEBOOKS = challenge_notebooks()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """One artifact folder for every notebook run: v1.0 and v2.0 are trained once, by the first."""
    return tmp_path_factory.mktemp("challenge-artifacts") / "artifacts"


def test_there_is_one_notebook_per_challenge():
    assert NOTEBOOKS == sorted(path.name for path in EXERCISES.glob("*.ipynb"))
    assert len(NOTEBOOKS) == 5


def test_student_versions_are_generated_from_the_solutions():
    result = subprocess.run([sys.executable, str(SOLUTIONS / "release.py"), "--check"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_challenge_notebooks_are_practice_not_graded(name):
    for notebook in (SOLUTIONS / name, EXERCISES / name):
        text = notebook.read_text(encoding="utf-8")
        assert "HIDDEN TESTS" not in text
        assert '"nbgrader"' not in text, f"{notebook} carries nbgrader metadata"
        cells = json.loads(text)["cells"]
        assert all(not cell.get("outputs") for cell in cells if cell["cell_type"] == "code"), \
            f"{notebook} is committed with outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_version_passes_its_visible_tests_in_a_fresh_kernel(name, artifacts, student_edition):
    """A completed notebook runs on the phishlab the students' edition ships."""
    notebook = execute(SOLUTIONS / name, artifacts, package=student_edition / "src")
    assert errors(notebook) == {}
    assert "Warning" not in stderr_text(notebook), stderr_text(notebook)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_version_fails_only_where_the_student_writes_code(name, artifacts, student_edition):
    notebook = execute(student_edition / "exercises" / "challenges" / name, artifacts,
                       package=student_edition / "src")
    failed = errors(notebook)
    assert failed, "the untouched release passes its tests: they test nothing"
    assert set(failed.values()) == {"NotImplementedError"}, failed
    stubs = [index for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source]
    assert stubs, "the release has no place for the student's code"
    # Cells before the first stub (imports, data) must run for the student as they are.
    assert min(failed) > stubs[0], failed


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "error: solutions/challenges/broken.ipynb"),
    (json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "marks no student code"),
])
def test_release_script_names_the_notebook_it_cannot_release(tmp_path, content, message):
    folder = tmp_path / "solutions" / "challenges"
    folder.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "release.py", folder)
    (folder / "broken.ipynb").write_text(content, encoding="utf-8")
    result = subprocess.run([sys.executable, str(folder / "release.py")], capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "exercises").exists()
