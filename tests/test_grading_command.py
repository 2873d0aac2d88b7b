"""The TA's grading command, the Gradescope bundle, and agreement with nbgrader."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from nbgrader_course import ROOT, nbgrader, scratch_course

pytestmark = pytest.mark.slow

GRADESCOPE_TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}

# Honest but wrong answers, one per assignment: (function cell, code).
PARTLY_WRONG = {
    "ks_drift": ("ks_statistic", '''
def ks_statistic(reference, current):
    reference, current = np.sort(np.asarray(reference, float)), np.sort(np.asarray(current, float))
    if reference.size == 0 or current.size == 0 or np.isnan(reference).any() or np.isnan(current).any():
        raise ValueError("empty sample or NaN")
    points = np.concatenate([reference, current])
    gap = np.searchsorted(reference, points, "right") / reference.size \\
        - np.searchsorted(current, points, "right") / current.size
    return float(gap.max())
'''),
    "mcnemar": ("mcnemar_test", '''
def mcnemar_test(table, exact=None, correction=True):
    table = np.asarray(table)
    if table.shape != (2, 2) or (table < 0).any() or (table != np.round(table)).any():
        raise ValueError("bad table")
    b, c = int(table[0, 1]), int(table[1, 0])
    n = b + c
    if n == 0:
        return 0.0, 1.0
    if (n < 25 if exact is None else exact):
        return float(min(b, c)), float(stats.binom.cdf(min(b, c), n, 0.5))
    statistic = (abs(b - c) - (1 if correction else 0)) ** 2 / n
    return float(statistic), float(stats.chi2.sf(statistic, 1))
'''),
    "canary": ("canary_decision", '''
def canary_decision(control, canary, max_fpr_ratio=1.5, min_negatives=50):
    negatives = [arm["fp"] + arm["tn"] for arm in (control, canary)]
    if min(negatives) < min_negatives:
        return "hold"
    if canary["fp"] / negatives[1] >= max_fpr_ratio * control["fp"] / negatives[0]:
        return "rollback"
    return "healthy"
'''),
}


# An answer cell that tries to award itself the points in nbgrader's kernel.
PATCH_THE_HOOK = """import autograder.nbgrader_hook
autograder.nbgrader_hook.points_for = lambda *args, **kwargs: None
"""


def submission(kind: str, assignment: str, target: Path) -> Path:
    """Write a reference, untouched, partly wrong or hook-patching notebook for ``assignment`` to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "untouched":
        shutil.copy(ROOT / "exercises" / assignment / f"{assignment}.ipynb", target)
        return target
    if kind == "patches_the_hook":
        notebook = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
        first = next(c for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution"))
        first["source"] = PATCH_THE_HOOK + "".join(first["source"])
        target.write_text(json.dumps(notebook), encoding="utf-8")
        return target
    notebook = json.loads((ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    if kind == "partly_wrong":
        function, code = PARTLY_WRONG[assignment]
        cell = next(c for c in notebook["cells"] if c.get("id") == function)
        cell["source"] = code.strip("\n")
    target.write_text(json.dumps(notebook), encoding="utf-8")
    return target


def run_command(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "TQDM_DISABLE": "1"}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A class of five, graded once with two parallel graders."""
    folder = tmp_path_factory.mktemp("class")
    submissions, out = folder / "submitted", folder / "out"
    submission("reference", "ks_drift", submissions / "alice" / "ks_drift" / "ks_drift.ipynb")
    submission("untouched", "ks_drift", submissions / "bob" / "ks_drift" / "ks_drift.ipynb")
    submission("partly_wrong", "ks_drift", submissions / "erin" / "ks_drift" / "my_drift.ipynb")
    (submissions / "carol" / "ks_drift").mkdir(parents=True)
    (submissions / "carol" / "ks_drift" / "ks_drift.ipynb").write_text("{not json", encoding="utf-8")
    (submissions / "dave").mkdir()
    completed = run_command("grade", str(submissions), "--assignment", "ks_drift", "--out", str(out), "--jobs", "2")
    return submissions, out, completed


def read_grades(out: Path) -> dict[str, dict]:
    with (out / "grades.csv").open(newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_grade_command_writes_grades_for_every_student(graded):
    _, out, completed = graded
    assert completed.returncode == 0, completed.stderr
    assert "isolation:" in completed.stdout
    grades = read_grades(out)
    assert list(next(iter(grades.values()))) == ["student_id", "assignment", "raw_score", "adjustment",
                                                 "late_penalty", "score", "max_score", "status", "submitted",
                                                 "days_late", "overrides", "isolation"]
    # erin's one-sided ks_statistic fails every check whose samples differ in both directions, and keeps
    # the bad-input and input-type checks (0.75 of 3): 10 - 2.25.
    assert {s: (float(g["score"]), g["status"]) for s, g in grades.items()} == {
        "alice": (10.0, "graded"), "bob": (0.0, "graded"), "carol": (0.0, "invalid_json"),
        "dave": (0.0, "missing"), "erin": (7.75, "graded"),
    }


def test_each_student_gets_gradescope_results_and_readable_feedback(graded):
    _, out, _ = graded
    for student in ("alice", "bob", "carol", "dave", "erin"):
        results = json.loads((out / student / "ks_drift" / "results.json").read_text(encoding="utf-8"))
        assert {"score", "max_score", "tests"} <= set(results)
        assert results["max_score"] == 10.0
        assert all(GRADESCOPE_TEST_KEYS <= set(test) for test in results["tests"])
        assert sum(test["score"] for test in results["tests"]) == pytest.approx(results["score"])
        assert (out / student / "ks_drift" / "feedback.md").read_text(encoding="utf-8").startswith("# Feedback")
    erin = (out / "erin" / "ks_drift" / "feedback.md").read_text(encoding="utf-8")
    assert "one-sided" in erin and "should be named ks_drift.ipynb" in erin
    assert "not valid JSON" in (out / "carol" / "ks_drift" / "feedback.md").read_text(encoding="utf-8")


def test_class_summary_lists_the_checks_most_students_fail(graded):
    _, out, _ = graded
    with (out / "summary_ks_drift.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rates = [float(row["pass_rate"]) for row in rows]
    assert rates == sorted(rates) and rates[0] < 1.0
    assert (out / "summary_ks_drift.png").stat().st_size > 1000
    assert "<h1>ks_drift: class report</h1>" in (out / "summary_ks_drift.html").read_text(encoding="utf-8")


def test_rerun_is_identical_and_resumes_only_what_is_missing(graded):
    submissions, out, _ = graded
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "run.json" not in p.name}
    # As if the run had stopped before erin was graded: neither her result nor her outputs exist.
    (out / ".autograder" / "raw" / "erin.json").unlink()
    (out / "erin" / "ks_drift" / "results.json").unlink()
    completed = run_command("grade", str(submissions), "--assignment", "ks_drift", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    assert "4 already graded or not gradable, 1 to grade" in completed.stdout
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "run.json" not in p.name}
    assert after == before


@pytest.mark.parametrize("args, message", [
    (["--assignment", "ks_drfit"], "unknown assignment 'ks_drfit'; choose one of canary, ks_drift, mcnemar"),
    (["--assignment", "ks_drift", "--jobs", "0"], "--jobs must be at least 1"),
])
def test_ta_mistakes_exit_2_with_a_one_line_explanation(graded, tmp_path, args, message):
    submissions, _, _ = graded
    completed = run_command("grade", str(submissions), *args, "--out", str(tmp_path / "out"))
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [f"error: {message}"]


def test_missing_submissions_folder_is_a_ta_mistake(tmp_path):
    completed = run_command("grade", str(tmp_path / "nowhere"), "--assignment", "mcnemar", "--out", str(tmp_path))
    assert completed.returncode == 2
    assert "does not exist" in completed.stderr


def test_gradescope_bundle_grades_a_submission_laid_out_as_gradescope_does(tmp_path):
    completed = run_command("gradescope", "mcnemar", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "gradescope_mcnemar.zip") as bundle:
        names = set(bundle.namelist())
        bundle.extractall(root / "source")
    assert {"setup.sh", "run_autograder", "requirements.txt", "solutions/mcnemar/mcnemar.ipynb",
            "solutions/grade_ids.json", "autograder/grading.py"} <= names
    # Only this assignment's reference, and readable by its owner alone.
    assert not any(name.startswith(("solutions/ks_drift", "solutions/canary")) for name in names)
    with zipfile.ZipFile(tmp_path / "gradescope_mcnemar.zip") as bundle:
        assert bundle.getinfo("solutions/mcnemar/mcnemar.ipynb").external_attr >> 16 == 0o600
    submission("partly_wrong", "mcnemar", root / "submission" / "mcnemar.ipynb")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    direct = run_command("grade-one", str(root / "submission" / "mcnemar.ipynb"), "--assignment", "mcnemar",
                         "--results", str(tmp_path / "direct.json"))
    assert direct.returncode == 0
    assert results["score"] == json.loads((tmp_path / "direct.json").read_text())["score"]
    assert 0 < results["score"] < 10


# Looks for the instructor notebook wherever a Gradescope container might keep it, and grades with it.
STEAL_FROM_GRADESCOPE = '''
import glob, json, os

def _stolen():
    places = ["/autograder/source/solutions/mcnemar/mcnemar.ipynb", "../source/solutions/mcnemar/mcnemar.ipynb"]
    places += glob.glob("/proc/*/cwd/solutions/mcnemar/mcnemar.ipynb")
    places += glob.glob("/tmp/**/source/solutions/mcnemar/mcnemar.ipynb", recursive=True)
    for place in places:
        try:
            cells = json.load(open(place))["cells"]
        except (OSError, ValueError):
            continue
        namespace = {}
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] == "code" and (meta.get("solution") or meta.get("locked")) and not meta.get("grade"):
                exec("".join(cell["source"]), namespace)
        return namespace
    raise FileNotFoundError("no reference found")

def mcnemar_table(y_true, pred_a, pred_b):
    return _stolen()["mcnemar_table"](y_true, pred_a, pred_b)

def mcnemar_test(table, exact=None, correction=True):
    return _stolen()["mcnemar_test"](table, exact, correction)

def compare_models(y_true, pred_a, pred_b, alpha=0.05):
    return _stolen()["compare_models"](y_true, pred_a, pred_b, alpha)
'''


def test_gradescope_bundle_keeps_its_reference_from_a_hostile_submission(tmp_path):
    assert run_command("gradescope", "mcnemar", "--out", str(tmp_path)).returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(tmp_path / "gradescope_mcnemar.zip") as bundle:
        bundle.extractall(root / "source")
    target = submission("untouched", "mcnemar", root / "submission" / "mcnemar.ipynb")
    notebook = json.loads(target.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell["source"] = STEAL_FROM_GRADESCOPE if cell["id"] == "mcnemar_table" else "# moved above"
    target.write_text(json.dumps(notebook), encoding="utf-8")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0.0, results
    assert "no reference found" in json.dumps(results)


def _setup_script(tmp_path: Path) -> Path:
    assert run_command("gradescope", "canary", "--out", str(tmp_path)).returncode == 0
    with zipfile.ZipFile(tmp_path / "gradescope_canary.zip") as bundle:
        script = tmp_path / "setup.sh"
        script.write_bytes(bundle.read("setup.sh"))
    return script


def _fake_commands(folder: Path, commands: dict[str, str]) -> Path:
    folder.mkdir()
    for name, body in commands.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (folder / name).chmod(0o755)
    return folder


def test_gradescope_setup_stops_at_once_on_an_image_without_python_3_11(tmp_path):
    script = _setup_script(tmp_path)
    # An image whose python3 is 3.10 and whose package manager has no python3.11 (nor anything else).
    fake = _fake_commands(tmp_path / "bin", {"apt-get": "exit 0", "python3": "exit 1"})
    run = subprocess.run(["/bin/bash", str(script)], env={"PATH": str(fake), "AUTOGRADER_ROOT": str(tmp_path)},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "needs Python 3.11 or newer" in run.stderr and "Ubuntu 22.04" in run.stderr
    assert not (tmp_path / "venv").exists()


def test_gradescope_setup_prefers_the_newest_python_of_the_image(tmp_path):
    script = _setup_script(tmp_path).read_text(encoding="utf-8")
    newest = script[script.index("newest() {"):script.index("PYTHON=")]
    fake = _fake_commands(tmp_path / "bin", {"python3": "exit 1", "python3.12": f'exec {sys.executable} "$@"'})
    run = subprocess.run(["/bin/bash", "-c", newest + "newest"], env={"PATH": f"{fake}:/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "python3.12"


def test_nbgrader_autograde_and_the_command_agree_on_honest_submissions(tmp_path):
    course = scratch_course(tmp_path)
    out = tmp_path / "out"
    kinds = ("reference", "untouched", "partly_wrong", "patches_the_hook")
    for assignment in ("ks_drift", "mcnemar", "canary"):
        nbgrader(course, "generate_assignment", assignment, "--force")
        for kind in kinds:
            submission(kind, assignment, course / "submitted" / kind / assignment / f"{assignment}.ipynb")
        nbgrader(course, "autograde", assignment, "--force", artifacts=tmp_path / "artifacts")
        completed = run_command("grade", str(course / "submitted"), "--assignment", assignment,
                                "--out", str(out / assignment))
        assert completed.returncode == 0, completed.stderr
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with (course / "grades.csv").open(newline="") as handle:
        by_nbgrader = {(row["assignment"], row["student_id"]): float(row["score"]) for row in csv.DictReader(handle)}
    for assignment in ("ks_drift", "mcnemar", "canary"):
        ours = read_grades(out / assignment)
        for kind in kinds:
            assert by_nbgrader[(assignment, kind)] == pytest.approx(float(ours[kind]["score"])), (assignment, kind)
        assert 0 < float(ours["partly_wrong"]["score"]) < 10
        assert by_nbgrader[(assignment, "reference")] == 10.0 and by_nbgrader[(assignment, "untouched")] == 0.0
        # Patching the hidden tests' grading function in the notebook gets no point through nbgrader.
        assert by_nbgrader[(assignment, "patches_the_hook")] == 0.0
