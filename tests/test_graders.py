"""The graders against realistic submissions: correct, mistaken, hostile and malformed.

The submissions come from each assignment's folder (``autograder/assignments/<id>/``,
see ``tests/submissions.py``), so a new fixture or mistake is picked up automatically:

* ``fixtures/correct/*.py``: independently written correct solutions in different
  styles; each must get full marks;
* ``mistakes.py``: known mistakes, each the reference with one small edit; each
  must cost points in its function, with feedback that names the mistake;
* ``fixtures/hostile/*.py``: code that attacks the grader; a whole class of them
  is graded at every isolation level in ``test_trust_boundary.py``; here, the
  fixtures are checked for form, and the attacks on processes must leave the
  grader fit for the next student;
* malformed files (invalid JSON, old formats, huge files, ...) built below;
  each must end in a clear status.

No feedback may ever quote the reference solution or the hidden tests.
Every test runs student code in the grader's sandbox: the module is slow.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import functools
import io
import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from xml.etree import ElementTree

import nbformat
import numpy as np
import pandas as pd
import pytest
from submissions import (
    ROOT,
    answer_cell_ids,
    build_submission,
    fixture_files,
    mistake_submission,
    read_fixture,
    reference_submission,
    untouched_submission,
)

from autograder.assignments import assignments
from autograder.mistakes import edited_cell, known_mistakes
from autograder.reference import reference_source, solution_lines

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(assignments())
CORRECT = fixture_files("correct")
HOSTILE = fixture_files("hostile")
MISTAKES = [(assignment, mistake) for assignment in ASSIGNMENTS for mistake in known_mistakes(assignment)]
TOLERANCE = 1e-9
LEAK_MIN_LENGTH = 30

# Misconceptions every assignment's mistakes must cover, with a phrase the feedback must use.
REQUIRED_MISTAKES = {
    "ks_drift": {
        "one_sided": "one-sided", "left_continuous_ecdf": "right-continuous",
        "evaluates_only_reference_points": "both samples", "drops_ties_with_unique": "ties",
        "uses_scipy_ks": "NumPy only",
        "bonferroni_forgotten": "Bonferroni", "bonferroni_multiplies_alpha": "divide",
        "bh_stops_at_first_failure": "largest k", "report_sorted_by_pvalue": "order",
        "fpr_rule_absolute_difference": "relative", "alerts_not_strict": "strict",
        "retrain_at_threshold": "greater than", "drift_score_counts": "share",
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
        "builtin_hash": "hash()", "random_not_sticky": "sticky", "random_per_position": "sticky per id",
        "not_monotone": "monotone",
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
    return f"{path.parents[2].name}/{path.stem}"


@functools.cache
def plans(assignment: str):
    from autograder.plan import Plan

    return Plan(assignment)


def _mistake_id(item) -> str:
    return f"{item[0]}/{item[1].name}"


# --- grading ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grade():
    """``grade(path, assignment)``: one grader (one sandbox) per assignment, reused by every test."""
    from autograder.grading import Grader

    graders: dict = {}

    def run(path: Path, assignment: str):
        if assignment not in graders:
            graders[assignment] = Grader(assignment, plan=plans(assignment))
        return graders[assignment].grade(Path(path))

    yield run
    for grader in graders.values():
        grader.close()


def _assert_failing_inputs_are_code(feedback: str) -> None:
    """Every smallest failing input is a call whose arguments rebuild the input when pasted into a cell."""
    calls = re.findall(r"Smallest failing input:\n\s+(.+)", feedback)
    for call in calls:
        if call.startswith("# too large to print in full"):
            continue
        tree = ast.parse(call, mode="eval").body
        assert isinstance(tree, ast.Call), call
        for argument in [*tree.args, *(keyword.value for keyword in tree.keywords)]:
            eval(compile(ast.Expression(argument), "<failing input>", "eval"), {"np": np, "pd": pd})


def _assert_no_leak(result, assignment: str) -> None:
    feedback = result.feedback
    assert isinstance(feedback, str) and feedback.strip(), "the feedback is empty"
    assert "BEGIN HIDDEN TESTS" not in feedback
    lines = [line for line in solution_lines(assignment) if len(line) >= LEAK_MIN_LENGTH]
    leaked = [line for line in lines if line in feedback]
    assert not leaked, f"the feedback quotes the reference solution: {leaked[:3]}"


# --- the fixtures themselves (no grading) -------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_required_misconception_is_a_known_mistake(assignment):
    mistakes = {mistake.name: mistake for mistake in known_mistakes(assignment)}
    assert len(mistakes) >= 12
    for name, phrase in REQUIRED_MISTAKES[assignment].items():
        assert name in mistakes, f"no known mistake {name!r} in {assignment}/mistakes.py"
        assert phrase.lower() in mistakes[name].hint.lower(), f"the hint of {name} should say {phrase!r}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_has_three_correct_styles(assignment):
    assert len([path for path in CORRECT if path.parents[2].name == assignment]) >= 3


@pytest.mark.parametrize("path", HOSTILE, ids=_name)
def test_hostile_fixture_is_well_formed(path):
    meta = read_fixture(path).meta
    assert "STATUS_MENTIONS" in meta and "MAX_SCORE" in meta
    assert 0.0 <= meta.get("MIN_SCORE", 0.0) <= meta["MAX_SCORE"] <= 10.0


@pytest.mark.parametrize("path", CORRECT + HOSTILE, ids=_name)
def test_builder_writes_a_valid_submission(path, tmp_path):
    fixture = read_fixture(path)
    out = build_submission(fixture.assignment, path, tmp_path / "submission.ipynb")
    notebook = nbformat.read(out, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    text = out.read_text(encoding="utf-8")
    assert "### BEGIN" not in text and "### END" not in text
    cells = {cell["id"]: "".join(cell["source"]) for cell in json.loads(text)["cells"]}
    order = answer_cell_ids(json.loads(text))
    assert order == list(assignments()[fixture.assignment].functions)
    target = fixture.claims[0] if fixture.claims else order[0]
    assert fixture.code.strip() in cells[target]
    for name in ("STATUS_MENTIONS", "MAX_SCORE", "EXTRA_CELLS"):
        assert f"{name} =" not in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_builder_reference_and_untouched(assignment, tmp_path):
    reference = reference_submission(assignment, tmp_path / "reference.ipynb")
    nbformat.validate(nbformat.read(reference, as_version=nbformat.NO_CONVERT))
    assert "### BEGIN SOLUTION" not in reference.read_text(encoding="utf-8")
    untouched = untouched_submission(assignment, tmp_path / "untouched.ipynb")
    assert untouched.read_bytes() == (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()


# --- correct and empty submissions --------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_full_marks(assignment, graded_notebooks):
    _, result = graded_notebooks(assignment)["reference"]
    assert result.status == "graded"
    assert result.max_score == 10.0
    assert result.score == pytest.approx(10.0), result.feedback
    assert list(result.functions) == list(assignments()[assignment].functions)
    for function in result.functions.values():
        assert function.score == pytest.approx(function.max_score), result.feedback
        assert all(check.passed for check in function.checks)
    _assert_no_leak(result, assignment)


@pytest.mark.parametrize("path", CORRECT, ids=_name)
def test_correct_style_scores_full_marks(path, graded_notebooks):
    _, result = graded_notebooks(path.parents[2].name)[f"correct-{path.stem}"]
    assert result.status == "graded"
    assert result.score == pytest.approx(10.0), result.feedback


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero_and_says_not_attempted(assignment, graded_notebooks):
    _, result = graded_notebooks(assignment)["untouched"]
    assert result.status == "graded"
    assert result.max_score == 10.0
    assert result.score == 0.0, result.feedback
    assert result.feedback.count("Not attempted") == len(result.functions), result.feedback
    assert "NotImplementedError" in result.feedback and "Smallest failing input" not in result.feedback
    _assert_no_leak(result, assignment)


# --- mistakes -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_notebooks(tmp_path_factory, grade):
    """``graded_notebooks(assignment)``: every known mistake, correct style, the reference and the untouched
    release of ``assignment`` as notebooks, each graded once: ``{name: (path, result)}``."""
    cache: dict = {}

    def notebooks(assignment: str) -> dict:
        if assignment not in cache:
            folder = tmp_path_factory.mktemp(f"notebooks-{assignment}")
            paths = {mistake.name: mistake_submission(assignment, mistake, folder / f"{mistake.name}.ipynb")
                     for mistake in known_mistakes(assignment)}
            for path in CORRECT:
                if path.parents[2].name == assignment:
                    paths[f"correct-{path.stem}"] = build_submission(assignment, path,
                                                                     folder / f"correct-{path.stem}.ipynb")
            paths["reference"] = reference_submission(assignment, folder / "reference.ipynb")
            paths["untouched"] = untouched_submission(assignment, folder / "untouched.ipynb")
            cache[assignment] = {name: (path, grade(path, assignment)) for name, path in paths.items()}
        return cache[assignment]

    return notebooks


@pytest.mark.parametrize("item", MISTAKES, ids=_mistake_id)
def test_known_mistake_loses_points_and_feedback_names_it(item, graded_notebooks):
    assignment, mistake = item
    _, result = graded_notebooks(assignment)[mistake.name]
    assert result.status == "graded"
    for name in (mistake.function, *mistake.also_loses):
        function = result.functions[name]
        assert function.score < function.max_score - TOLERANCE, f"{name} kept full marks:\n{result.feedback}"
    phrase = REQUIRED_MISTAKES[assignment].get(mistake.name)
    rule = assignments()[assignment].forbidden_reasons.get(mistake.function, "")
    named = (mistake.hint in result.feedback or (phrase and phrase.lower() in result.feedback.lower())
             or (plans(assignment).breaks_a_rule(mistake) and rule in result.feedback))
    assert named, f"the feedback does not name the mistake {mistake.name!r}:\n{result.feedback}"
    _assert_no_leak(result, assignment)
    _assert_failing_inputs_are_code(result.feedback)


@pytest.mark.parametrize("mistake", ["builtin_hash", "random_not_sticky", "random_per_position"])
def test_a_bucketing_that_is_not_sticky_per_id_keeps_less_than_half_the_points(mistake, graded_notebooks):
    _, result = graded_notebooks("canary")[mistake]
    function = result.functions["assign_to_canary"]
    assert function.score < function.max_score / 2, result.feedback


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_known_mistake_is_caught_before_or_after_submission(assignment, graded_notebooks, capsys):
    """A mistake is caught before submission when a visible test in the release fails on it, after
    submission when the hidden checks take points; every one must be caught, and the report says how."""
    rows = []
    for mistake in known_mistakes(assignment):
        _, result = graded_notebooks(assignment)[mistake.name]
        hidden = result.functions[mistake.function].score < result.functions[mistake.function].max_score
        rows.append((mistake.name, visible_test_failing(assignment, mistake), hidden))
    with capsys.disabled():
        print(f"\n{assignment}: {sum(bool(v) for _, v, _ in rows)} of {len(rows)} known mistakes caught by the "
              f"visible tests, {sum(h for _, _, h in rows)} by the hidden checks")
        for name, visible, hidden in rows:
            print(f"    {name:40} visible: {visible or '-':28} hidden: {'yes' if hidden else 'no'}")
    assert all(visible or hidden for _, visible, hidden in rows), rows


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_pytest_gives_the_points_of_the_grade_command(assignment, graded_notebooks, tmp_path):
    """``pytest autograder/assignments/<id> --submission ...`` grades notebooks like ``grade``: the reference,
    the untouched release, every correct style and the first known mistake of each function (every mistake
    with ``GRADERS_EQUALITY=all``, which doubles the time of this module)."""
    firsts = {}
    for mistake in known_mistakes(assignment):
        firsts.setdefault(mistake.function, mistake.name)
    everything = os.environ.get("GRADERS_EQUALITY") == "all"
    notebooks = {name: graded for name, graded in graded_notebooks(assignment).items()
                 if everything or name in firsts.values() or name in ("reference", "untouched")
                 or name.startswith("correct-")}
    points = tmp_path / "points.json"
    command = [sys.executable, "-m", "pytest", str(ROOT / "autograder" / "assignments" / assignment), "-q",
               "-p", "no:cacheprovider", "--points-json", str(points)]
    for path, _ in notebooks.values():
        command += ["--submission", str(path)]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert completed.returncode in (0, 1), completed.stdout[-3000:] + completed.stderr[-3000:]
    through_pytest = json.loads(points.read_text(encoding="utf-8"))
    for name, (path, result) in notebooks.items():
        functions = through_pytest[str(path)]["functions"]
        assert functions == pytest.approx({f.name: f.score for f in result.functions.values()}), name
    assert "Score: 10 / 10" in completed.stdout


def test_pytest_selects_checks_and_writes_junit_xml_with_points(tmp_path):
    """``-k`` and ``--junitxml`` work as for any pytest run; without --submission the reference is graded."""
    report = tmp_path / "junit.xml"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "autograder" / "assignments" / "mcnemar"), "-p",
         "no:cacheprovider", "-k", "p_value or exact_test", f"--junitxml={report}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:]
    cases = ElementTree.parse(report).getroot().iter("testcase")
    points = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in cases}
    assert points == {"test_exact_test": {"points": "1/1"},
                      "test_p_value_equal_to_alpha_is_not_significant": {"points": "0.5/0.5"}}
    assert "Score: 1.5 / 1.5 (of the checks selected; the assignment has 10)" in completed.stdout


def visible_test_failing(assignment: str, mistake) -> str | None:
    """The first visible test of the release that fails when the notebook has ``mistake`` made, if any.

    The notebook's code is the instructor's reference with one edit (trusted), so it runs here.
    """
    code = reference_source(assignment, replace={mistake.function: edited_cell(assignment, mistake)})
    namespace: dict = {"__name__": "__main__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, f"<{assignment} with {mistake.name}>", "exec"), namespace)
    for cell_id, test in visible_tests(assignment):
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(compile(test, f"<visible test {cell_id}>", "exec"), namespace)
        except (Exception, pytest.fail.Exception):  # pytest.raises fails with a BaseException
            return cell_id
    return None


def visible_tests(assignment: str) -> list[tuple[str, str]]:
    """(cell id, code) of the tests a student runs: graded cells without their hidden part, in order."""
    notebook = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    tests = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("grade") or str(meta.get("grade_id", "")).startswith("check_")) \
                and not meta.get("solution"):
            tests.append((cell["id"], "".join(cell["source"])))
    return tests


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
    "nbformat_3_worksheets_upgraded": (_nbformat_3, "ks_drift", "graded"),
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
    if case == "nbformat_3_worksheets_upgraded":  # read as format 4: its ks_statistic is graded (and wrong)
        assert result.functions["ks_statistic"].attempted and result.score < 10.0, result.feedback
    elif status == "graded":
        assert result.score == pytest.approx(10.0), result.feedback
    else:
        assert result.score == 0.0
    _assert_no_leak(result, assignment)
