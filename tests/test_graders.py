"""The graders against realistic submissions: correct, mistaken, hostile and malformed.

The submissions are built from the fixture files in ``tests/fixtures`` (see
``tests/submissions.py``), so a new fixture file is picked up automatically:

* ``wrong/<assignment>/*.py``: one plausible mistake each; it must cost points
  in the functions it names, and the feedback must name the mistake;
* ``hostile/<assignment>/*.py``: code that attacks the grader; a whole class of
  them is graded at every isolation level in ``test_trust_boundary.py``; here,
  the fixtures are checked for form, and the attacks on processes must leave the
  grader fit for the next student;
* malformed files (invalid JSON, old formats, huge files, ...) built below;
  each must end in a clear status.

No feedback may ever quote the reference solution or the hidden tests.
Every test runs student code in the grader's sandbox: the module is slow.
"""

from __future__ import annotations

import copy
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from submissions import (
    ROOT,
    answer_cell_ids,
    build_submission,
    fixture_files,
    read_fixture,
    reference_submission,
    untouched_submission,
)

from autograder import ASSIGNMENTS
from autograder.reference import solution_lines

pytestmark = pytest.mark.slow

WRONG = fixture_files("wrong")
HOSTILE = fixture_files("hostile")
TOLERANCE = 1e-9
LEAK_MIN_LENGTH = 30

# The mistakes every assignment's fixtures must cover, with the phrase the feedback must use.
REQUIRED_MISTAKES = {
    "ks_drift": {
        "one_sided": "one-sided", "left_continuous_ecdf": "right-continuous",
        "evaluates_only_reference_points": "both samples", "drops_ties_with_unique": "ties",
        "returns_pvalue_not_statistic": "p-value", "uses_scipy_ks": "NumPy only",
        "bonferroni_forgotten": "Bonferroni", "bonferroni_multiplies_alpha": "divide",
        "bh_stops_at_first_failure": "largest k", "report_sorted_by_pvalue": "order",
        "default_features_not_numeric_only": "numeric columns", "fpr_rule_absolute_difference": "relative",
        "alerts_not_strict": "strict", "retrain_at_threshold": "greater than", "drift_score_counts": "share",
    },
    "mcnemar": {
        "table_transposed": "orientation", "table_counts_predictions": "correct",
        "exact_not_doubled": "two-sided", "exact_not_capped": "capped at 1",
        "continuity_ignored": "continuity", "exact_threshold_inclusive": "n < 25",
        "uses_diagonal": "discordant", "zero_discordant_divides": "no discordant",
        "chi2_wrong_df": "chi-square", "better_reversed": "better",
        "significant_not_strict": "strictly", "accepts_negative_counts": "negative",
    },
    "canary": {
        "builtin_hash": "hash()", "random_not_sticky": "sticky", "not_monotone": "monotone",
        "ignores_salt": "salt", "decision_not_strict": "strictly",
        "min_negatives_counts_all_emails": "negatives",
        "compares_fp_counts_not_rates": "rate", "zero_control_fpr_healthy": "FPR of 0",
        "rollout_unsorted_dates": "date order", "hold_counts_as_healthy": "hold",
        "totals_not_reset": "fresh totals", "advances_same_day": "next day",
        "rollback_keeps_stage": "rolled_back", "decides_on_daily_counts": "running totals",
    },
}

# Hostile fixtures that attack processes rather than scores: after each, the
# reference graded in the same process must still get full marks.
PROCESS_ATTACKS = ("kill_parent", "kill_all_processes", "fork_bomb", "os_exit_in_function",
                   "monkeypatch_top_level", "forged_protocol_messages", "memory_bomb")

def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


# --- grading ------------------------------------------------------------------------------------------


def _engine():
    try:
        from autograder import grading
    except ModuleNotFoundError as error:
        if error.name != "autograder.grading":
            raise
        pytest.skip("the grading engine (autograder.grading) is not available yet")
    return grading


@pytest.fixture(scope="module")
def grade():
    """``grade(path, assignment)``: one grader (one sandbox) per assignment, reused by every test."""
    grading = _engine()
    graders: dict = {}

    def run(path: Path, assignment: str):
        if not hasattr(grading, "Grader"):
            return grading.grade_notebook(Path(path), assignment)
        if assignment not in graders:
            graders[assignment] = grading.Grader(assignment)
        return graders[assignment].grade(Path(path))

    yield run
    for grader in graders.values():
        grader.close()


def _assert_no_leak(result, assignment: str) -> None:
    feedback = result.feedback
    assert isinstance(feedback, str) and feedback.strip(), "the feedback is empty"
    assert "BEGIN HIDDEN TESTS" not in feedback
    lines = [line for line in solution_lines(assignment) if len(line) >= LEAK_MIN_LENGTH]
    leaked = [line for line in lines if line in feedback]
    assert not leaked, f"the feedback quotes the reference solution: {leaked[:3]}"


def _assert_mentions(feedback: str, phrases, where: str) -> None:
    missing = [phrase for phrase in phrases if phrase.lower() not in feedback.lower()]
    assert not missing, f"the feedback for {where} does not mention {missing}:\n{feedback}"


# --- the fixtures themselves (no grading) -------------------------------------------------------------


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_every_required_mistake_has_a_fixture(assignment):
    fixtures = {path.stem: read_fixture(path) for path in WRONG if path.parent.name == assignment}
    assert len(fixtures) >= 12
    for mistake, phrase in REQUIRED_MISTAKES[assignment].items():
        assert mistake in fixtures, f"no fixture wrong/{assignment}/{mistake}.py"
        assert phrase in fixtures[mistake].meta.get("FEEDBACK_MENTIONS", []), mistake


@pytest.mark.parametrize("path", WRONG, ids=_name)
def test_wrong_fixture_is_well_formed(path):
    fixture = read_fixture(path)
    assert fixture.defines, "a wrong fixture must define the graded function(s) with the mistake"
    assert fixture.meta.get("FEEDBACK_MENTIONS"), "FEEDBACK_MENTIONS is missing or empty"
    assert set(fixture.meta.get("LOSES_POINTS_IN", ())) <= set(fixture.defines), \
        "LOSES_POINTS_IN names a function the fixture does not define"
    assert fixture.meta.get("LOSES_POINTS_IN"), "LOSES_POINTS_IN is missing or empty"


@pytest.mark.parametrize("path", HOSTILE, ids=_name)
def test_hostile_fixture_is_well_formed(path):
    meta = read_fixture(path).meta
    assert "STATUS_MENTIONS" in meta and "MAX_SCORE" in meta
    assert 0.0 <= meta.get("MIN_SCORE", 0.0) <= meta["MAX_SCORE"] <= 10.0


@pytest.mark.parametrize("path", WRONG + HOSTILE, ids=_name)
def test_builder_writes_a_valid_submission(path, tmp_path):
    fixture = read_fixture(path)
    out = build_submission(fixture.assignment, path, tmp_path / "submission.ipynb")
    notebook = nbformat.read(out, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    text = out.read_text(encoding="utf-8")
    assert "### BEGIN" not in text and "### END" not in text
    cells = {cell["id"]: "".join(cell["source"]) for cell in json.loads(text)["cells"]}
    order = answer_cell_ids(json.loads(text))
    assert order == list(ASSIGNMENTS[fixture.assignment])
    target = fixture.claims[0] if fixture.claims else order[0]
    assert fixture.code.strip() in cells[target]
    for name in ("FEEDBACK_MENTIONS", "STATUS_MENTIONS", "MAX_SCORE", "EXTRA_CELLS"):
        assert f"{name} =" not in text


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_builder_reference_and_untouched(assignment, tmp_path):
    reference = reference_submission(assignment, tmp_path / "reference.ipynb")
    nbformat.validate(nbformat.read(reference, as_version=nbformat.NO_CONVERT))
    assert "### BEGIN SOLUTION" not in reference.read_text(encoding="utf-8")
    untouched = untouched_submission(assignment, tmp_path / "untouched.ipynb")
    assert untouched.read_bytes() == (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()


# --- correct and empty submissions --------------------------------------------------------------------


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_reference_scores_full_marks(assignment, tmp_path):
    notebook = reference_submission(assignment, tmp_path / "reference.ipynb")
    result = _engine().grade_notebook(notebook, assignment)
    assert result.status == "graded"
    assert result.max_score == 10.0
    assert result.score == pytest.approx(10.0), result.feedback
    assert list(result.functions) == list(ASSIGNMENTS[assignment])
    for function in result.functions.values():
        assert function.score == pytest.approx(function.max_score), result.feedback
        assert all(check.passed for check in function.checks)
    _assert_no_leak(result, assignment)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_untouched_release_scores_zero(assignment, tmp_path, grade):
    result = grade(untouched_submission(assignment, tmp_path / "untouched.ipynb"), assignment)
    assert result.status == "graded"
    assert result.max_score == 10.0
    assert result.score == 0.0, result.feedback
    _assert_no_leak(result, assignment)


# --- mistakes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", WRONG, ids=_name)
def test_wrong_submission_loses_points_and_names_the_mistake(path, tmp_path, grade):
    fixture = read_fixture(path)
    notebook = build_submission(fixture.assignment, path, tmp_path / "submission.ipynb")
    result = grade(notebook, fixture.assignment)
    assert result.status == "graded"
    assert result.max_score == 10.0
    assert result.score < result.max_score - TOLERANCE, result.feedback
    for name in fixture.meta["LOSES_POINTS_IN"]:
        function = result.functions[name]
        assert function.score < function.max_score - TOLERANCE, f"{name} kept full marks:\n{result.feedback}"
    _assert_mentions(result.feedback, fixture.meta["FEEDBACK_MENTIONS"], fixture.name)
    _assert_no_leak(result, fixture.assignment)


# --- hostile code -----------------------------------------------------------------------------------------


def _sandbox_processes() -> set[int]:
    """Live processes below this one that run as another user: the sandbox's unprivileged children.

    Only root's sandbox drops privileges, so for anyone else this is empty.
    """
    me, uid = os.getpid(), os.getuid()
    if uid != 0:
        return set()
    parents, foreign = {}, set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if entry.stat().st_uid != uid:
                foreign.add(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue

    def below_me(pid: int) -> bool:
        for _ in range(64):
            pid = parents.get(pid, 0)
            if pid == me:
                return True
            if pid <= 1:
                return False
        return False

    return {pid for pid in foreign if below_me(pid)}


@pytest.mark.parametrize("path", [p for p in HOSTILE if p.stem in PROCESS_ATTACKS], ids=_name)
def test_reference_after_hostile_in_the_same_process_scores_full_marks(path, tmp_path, grade):
    fixture = read_fixture(path)
    reference = reference_submission(fixture.assignment, tmp_path / "reference.ipynb")
    grade(reference, fixture.assignment)  # the grader and its sandbox are running
    before = _sandbox_processes()
    grade(build_submission(fixture.assignment, path, tmp_path / "hostile.ipynb"), fixture.assignment)
    left_behind = _sandbox_processes() - before
    result = grade(reference, fixture.assignment)
    assert result.status == "graded"
    assert result.score == pytest.approx(10.0), f"after {fixture.name}:\n{result.feedback}"
    deadline = time.monotonic() + 5  # SIGKILL takes effect asynchronously
    while (survivors := left_behind & _sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not survivors, f"{len(survivors)} processes of {fixture.name} outlived the next submission"


# --- malformed files --------------------------------------------------------------------------------------


def _reference_json(assignment: str, tmp_path: Path) -> dict:
    path = reference_submission(assignment, tmp_path / f"{assignment}-reference.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))


def _with_output(notebook: dict, megabytes: int) -> dict:
    notebook = copy.deepcopy(notebook)
    line = "x" * 99 + "\n"
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    first["outputs"] = [{"output_type": "stream", "name": "stdout", "text": [line] * (megabytes * 10_000)}]
    return notebook


def _write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def _invalid_json(tmp_path):
    path = tmp_path / "truncated.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source": ["def ks_statistic(', encoding="utf-8")
    return path


def _empty_file(tmp_path):
    path = tmp_path / "empty.ipynb"
    path.write_bytes(b"")
    return path


def _json_list(tmp_path):
    return _write_json(tmp_path / "list.ipynb", [{"cell_type": "code", "source": "x = 1"}])


def _json_without_cells(tmp_path):
    return _write_json(tmp_path / "object.ipynb", {"metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _nbformat_3(tmp_path):
    return _write_json(tmp_path / "v3.ipynb", {
        "metadata": {"name": "ks_drift"}, "nbformat": 3, "nbformat_minor": 0,
        "worksheets": [{"metadata": {}, "cells": [
            {"cell_type": "code", "collapsed": False, "input": ["def ks_statistic(reference, current):\n",
                                                                "    return 0.0\n"],
             "language": "python", "metadata": {}, "outputs": []}]}],
    })


def _latin1(tmp_path):
    notebook = _reference_json("ks_drift", tmp_path)
    notebook["cells"].append({"cell_type": "markdown", "id": "notes", "metadata": {},
                              "source": ["Grüße aus Köln: my café-bar drift notes, ½ done."]})
    path = tmp_path / "latin1.ipynb"
    path.write_bytes(json.dumps(notebook, indent=1, ensure_ascii=False).encode("latin-1", errors="replace"))
    return path


def _huge_outputs(tmp_path):
    notebook = _with_output(_reference_json("mcnemar", tmp_path), 30)
    return _write_json(tmp_path / "huge-outputs.ipynb", notebook)


def _oversized(tmp_path):
    return _write_json(tmp_path / "oversized.ipynb", _with_output(_reference_json("ks_drift", tmp_path), 80))


def _cells_without_ids(tmp_path):
    notebook = _reference_json("mcnemar", tmp_path)
    notebook["nbformat_minor"] = 4
    for cell in notebook["cells"]:
        cell.pop("id", None)
    return _write_json(tmp_path / "nbformat-4.4.ipynb", notebook)


def _mcnemar_as_ks_drift(tmp_path):
    return reference_submission("mcnemar", tmp_path / "ks_drift.ipynb")


def _canary_as_mcnemar(tmp_path):
    return reference_submission("canary", tmp_path / "mcnemar.ipynb")


# (builder, assignment it is submitted for, expected status)
FILE_CASES = {
    "invalid_json": (_invalid_json, "ks_drift", "invalid_json"),
    "empty_file": (_empty_file, "ks_drift", "invalid_json"),
    "json_list": (_json_list, "ks_drift", "not_a_notebook"),
    "json_object_without_cells": (_json_without_cells, "mcnemar", "not_a_notebook"),
    "nbformat_3_worksheets": (_nbformat_3, "ks_drift", "unsupported_nbformat"),
    "latin1_bytes": (_latin1, "ks_drift", "not_utf8"),
    "oversized_80_mb": (_oversized, "ks_drift", "too_large"),
    "mcnemar_submitted_as_ks_drift": (_mcnemar_as_ks_drift, "ks_drift", "wrong_assignment"),
    "canary_submitted_as_mcnemar": (_canary_as_mcnemar, "mcnemar", "wrong_assignment"),
    "huge_outputs_30_mb": (_huge_outputs, "mcnemar", "graded"),
    "nbformat_4_4_without_cell_ids": (_cells_without_ids, "mcnemar", "graded"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
def test_malformed_file_gets_a_clear_status(case, tmp_path, grade):
    build, assignment, status = FILE_CASES[case]
    result = grade(build(tmp_path), assignment)
    assert result.status == status, result.feedback
    assert result.max_score == 10.0
    if status == "graded":
        assert result.score == pytest.approx(10.0), result.feedback
    else:
        assert result.score == 0.0
    _assert_no_leak(result, assignment)
