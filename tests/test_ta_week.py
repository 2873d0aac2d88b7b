"""A TA's week: submissions in from an LMS, late policy and overrides, a similarity report, grades out.

Each command is run as a TA runs it (``python -m autograder ...``) on realistic
fixtures: a Canvas zip with Canvas's file names, a Moodle folder, an nbgrader
exchange, a roster with a name it cannot match, a late submission, an
extension, an override, planted copies among independent solutions.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from submissions import (
    ROOT,
    build_submission,
    mistake_submission,
    read_fixture,
    reference_submission,
    untouched_submission,
)

from autograder.mistakes import known_mistakes

pytestmark = pytest.mark.slow

CORRECT = ROOT / "autograder" / "assignments" / "mcnemar" / "fixtures" / "correct"
ROSTER = """student_id,name,email,canvas_id,moodle_id,sis_user_id,section
s001,Jane Doe,jane.doe@uni.example,12345,901,SIS-1,A
s002,Li Wei,li.wei@uni.example,12346,902,SIS-2,A
s003,Ana María López,ana.lopez@uni.example,12347,903,SIS-3,B
s004,Omar Haddad,omar.haddad@uni.example,12348,904,SIS-4,B
"""


def autograder(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}, timeout=900)


def one_line(completed: subprocess.CompletedProcess) -> str:
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    return lines[0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def notebook_bytes(kind: str, tmp: Path, assignment: str = "mcnemar") -> bytes:
    target = tmp / f"{kind}.ipynb"
    if kind == "reference":
        reference_submission(assignment, target)
    elif kind == "untouched":
        untouched_submission(assignment, target)
    else:
        build_submission(assignment, CORRECT / f"{kind}.py", target)
    return target.read_bytes()


def canvas_zip(path: Path, tmp: Path, entries: list[tuple[str, str, dt.datetime]]) -> Path:
    """A Canvas "Download Submissions" zip: (file name, kind of notebook, submission time)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, kind, when in entries:
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            archive.writestr(info, notebook_bytes(kind, tmp))
    return path


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER, encoding="utf-8")
    return path


# --- import -------------------------------------------------------------------------------------------------


def test_a_canvas_zip_is_imported_with_its_names_times_and_resubmissions(tmp_path, roster):
    source = canvas_zip(tmp_path / "submissions.zip", tmp_path, [
        ("doejane_12345_777001_mcnemar.ipynb", "untouched", dt.datetime(2024, 10, 1, 9, 0)),
        ("doejane_12345_777002_mcnemar-1.ipynb", "reference", dt.datetime(2024, 10, 1, 21, 30)),
        ("weili_late_12346_777003_mcnemar.ipynb", "vectorised", dt.datetime(2024, 10, 3, 8, 0)),
        ("lopezanamaria_12347_777004_my_notebook.ipynb", "loops", dt.datetime(2024, 10, 1, 12, 0)),
        ("smithbob_99999_777005_mcnemar.ipynb", "loops", dt.datetime(2024, 10, 1, 12, 0)),
    ])
    completed = autograder("import", str(source), "--assignment", "mcnemar", "--to", str(tmp_path / "in"),
                           "--roster", str(roster))
    assert completed.returncode == 0, completed.stderr
    assert "imported 3 submissions" in completed.stdout
    assert "smithbob_99999_777005_mcnemar.ipynb: unmatched" in completed.stderr
    folder = tmp_path / "in"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["s001", "s002", "s003"]
    # Jane's resubmission (the later one) is the one kept, with its time.
    assert (folder / "s001" / "mcnemar" / "mcnemar.ipynb").read_bytes() == notebook_bytes("reference", tmp_path)
    assert (folder / "s001" / "mcnemar" / "timestamp.txt").read_text().startswith("2024-10-01 21:30:00")
    report = {row["found"]: row for row in read_csv(folder / "import_mcnemar.csv")}
    assert report["doejane_12345_777001_mcnemar.ipynb"]["status"] == "older_submission"
    assert report["lopezanamaria_12347_777004_my_notebook.ipynb"]["matched_by"] == "canvas_id"
    assert report["smithbob_99999_777005_mcnemar.ipynb"]["status"] == "unmatched"


def test_a_moodle_download_is_matched_by_name(tmp_path, roster):
    source = tmp_path / "moodle"
    (source / "Jane Doe_901_assignsubmission_file_").mkdir(parents=True)
    (source / "Jane Doe_901_assignsubmission_file_" / "mcnemar.ipynb").write_bytes(notebook_bytes("loops", tmp_path))
    (source / "Omar Haddad_555_assignsubmission_file_mcnemar.ipynb").write_bytes(notebook_bytes("reference",
                                                                                               tmp_path))
    completed = autograder("import", str(source), "--assignment", "mcnemar", "--to", str(tmp_path / "in"),
                           "--roster", str(roster))
    assert completed.returncode == 0, completed.stderr
    report = {row["student_id"]: row for row in read_csv(tmp_path / "in" / "import_mcnemar.csv")}
    assert report["s001"]["matched_by"] == "moodle_id" and report["s004"]["matched_by"] == "name"


def test_nbgrader_exchange_and_blackboard_names_keep_their_times(tmp_path):
    inbound = tmp_path / "exchange" / "course" / "inbound"
    for folder, kind in (("alice+mcnemar+2024-10-01 10:00:00.000000 UTC+abc", "untouched"),
                         ("alice+mcnemar+2024-10-02 11:00:00.000000 UTC+def", "reference"),
                         ("bob+mcnemar+2024-10-01 09:00:00.000000 UTC+ghi", "loops"),
                         ("bob+ks_drift+2024-10-01 09:00:00.000000 UTC+jkl", "loops")):
        (inbound / folder).mkdir(parents=True)
        (inbound / folder / "mcnemar.ipynb").write_bytes(notebook_bytes(kind, tmp_path))
    board = tmp_path / "blackboard"
    board.mkdir()
    (board / "Lab 3_carol_attempt_2024-10-01-23-58-03_mcnemar.ipynb").write_bytes(notebook_bytes("reference",
                                                                                                  tmp_path))
    for source in (inbound.parent.parent, board):
        assert autograder("import", str(source), "--assignment", "mcnemar", "--to", str(tmp_path / "in")) \
            .returncode == 0
    folder = tmp_path / "in"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["alice", "bob", "carol"]
    assert (folder / "alice" / "mcnemar" / "timestamp.txt").read_text().startswith("2024-10-02 11:00:00")
    assert (folder / "carol" / "mcnemar" / "timestamp.txt").read_text().startswith("2024-10-01 23:58:03")


# --- the grade command refuses wrong layouts ------------------------------------------------------------------


@pytest.mark.parametrize("layout, message", [
    ("flat", "holds 2 notebooks directly"),
    ("no_inner_folder", "without the mcnemar/ folder"),
    ("one_level_too_deep", "looks like one student's folder"),
    ("zip_file", "is a zip file"),
    ("nobody", "no submission of mcnemar"),
])
def test_a_wrong_layout_is_named_in_one_line_with_the_command_that_fixes_it(tmp_path, layout, message):
    folder = tmp_path / "submitted"
    folder.mkdir()
    content = notebook_bytes("reference", tmp_path)
    target = folder
    if layout == "flat":
        for name in ("alice_mcnemar.ipynb", "bob_mcnemar.ipynb"):
            (folder / name).write_bytes(content)
    elif layout == "no_inner_folder":
        for name in ("alice", "bob"):
            (folder / name).mkdir()
            (folder / name / "mcnemar.ipynb").write_bytes(content)
    elif layout == "one_level_too_deep":
        (folder / "alice" / "mcnemar").mkdir(parents=True)
        (folder / "alice" / "mcnemar" / "mcnemar.ipynb").write_bytes(content)
        target = folder / "alice"
    elif layout == "zip_file":
        target = canvas_zip(tmp_path / "download.zip", tmp_path,
                            [("doejane_1_2_mcnemar.ipynb", "reference", dt.datetime(2024, 10, 1))])
    else:
        (folder / "alice").mkdir()
    completed = autograder("grade", str(target), "--assignment", "mcnemar", "--out", str(tmp_path / "out"))
    assert completed.returncode == 2
    line = one_line(completed)
    assert message in line
    if layout in ("flat", "no_inner_folder", "zip_file"):
        assert "python -m autograder import" in line
    assert not (tmp_path / "out").exists()


# --- policy, overrides, changes -------------------------------------------------------------------------------


POLICY = """[course]
timezone = "UTC"

[late]
grace_minutes = 10
penalty_per_day = 0.1
max_penalty = 0.3
refuse_after_days = 7

[assignments.mcnemar]
due = "2024-10-01 23:59"
show_checks_before_due = false

[extensions]
late_with_extension = { mcnemar = "2024-10-05 23:59" }
"""


def _class_with_times(folder: Path, tmp: Path) -> Path:
    submissions = folder / "submitted"
    times = {"on_time": "2024-10-01 23:00:00.000000 UTC", "in_grace": "2024-10-02 00:05:00.000000 UTC",
             "two_days_late": "2024-10-03 12:00:00.000000 UTC", "very_late": "2024-10-20 12:00:00.000000 UTC",
             "late_with_extension": "2024-10-04 12:00:00.000000 UTC",
             "five_days_late": "2024-10-06 09:00:00.000000 UTC"}
    for student, stamp in times.items():
        target = submissions / student / "mcnemar"
        target.mkdir(parents=True)
        (target / "mcnemar.ipynb").write_bytes(notebook_bytes("reference", tmp))
        (target / "timestamp.txt").write_text(stamp, encoding="utf-8")
    return submissions


def test_late_penalties_extensions_and_refusals_follow_the_policy(tmp_path):
    submissions = _class_with_times(tmp_path, tmp_path)
    (tmp_path / "grading.toml").write_text(POLICY, encoding="utf-8")
    out = tmp_path / "out"
    completed = autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out),
                           "--policy", str(tmp_path / "grading.toml"))
    assert completed.returncode == 0, completed.stderr
    rows = {row["student_id"]: row for row in read_csv(out / "grades.csv")}
    expected = {"on_time": (0.0, 10.0), "in_grace": (0.0, 10.0), "two_days_late": (2.0, 8.0),
                "five_days_late": (3.0, 7.0), "late_with_extension": (0.0, 10.0), "very_late": (0.0, 0.0)}
    for student, (penalty, score) in expected.items():
        assert (float(rows[student]["late_penalty"]), float(rows[student]["score"])) == (penalty, score), student
        assert float(rows[student]["raw_score"]) == 10.0
    assert rows["very_late"]["status"] == "too_late" and rows["two_days_late"]["days_late"] == "2"
    feedback = (out / "two_days_late" / "mcnemar" / "feedback.md").read_text(encoding="utf-8")
    assert "2 day(s) after 2024-10-01 23:59 UTC" in feedback and "late penalty of 20%" in feedback
    extended = (out / "late_with_extension" / "mcnemar" / "feedback.md").read_text(encoding="utf-8")
    assert "on time" in extended and "extended due date" in extended
    results = json.loads((out / "on_time" / "mcnemar" / "results.json").read_text(encoding="utf-8"))
    assert {test["visibility"] for test in results["tests"]} == {"after_due_date"}


def test_overrides_survive_regrades_show_in_the_feedback_and_changes_are_reported(tmp_path):
    submissions = tmp_path / "submitted"
    for student, kind in (("alice", "vectorised"), ("bob", "untouched"), ("carol", "loops")):
        target = submissions / student / "mcnemar"
        target.mkdir(parents=True)
        (target / "mcnemar.ipynb").write_bytes(notebook_bytes(kind, tmp_path))
    out = tmp_path / "out"
    assert autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out)).returncode == 0
    overrides = tmp_path / "overrides.csv"
    overrides.write_text(
        "student,assignment,target,points,adjustment,comment,who\n"
        "bob,mcnemar,*,4,,\"Agreed after office hours: a typo in the submitted file\",Prof. Lee\n"
        "carol,mcnemar,mcnemar_test,,-1,\"Hard-coded p-values found on review\",TA Kim\n"
        "carol,ks_drift,*,0,,\"another assignment: ignored here\",TA Kim\n", encoding="utf-8")
    completed = autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out),
                           "--overrides", str(overrides))
    assert completed.returncode == 0, completed.stderr
    assert "0 to grade" in completed.stdout  # overrides need no regrading
    assert "2 scores changed since the last run (1 up, 1 down" in completed.stdout
    rows = {row["student_id"]: row for row in read_csv(out / "grades.csv")}
    assert (rows["bob"]["raw_score"], rows["bob"]["score"]) == ("0.0", "4.0")
    assert (rows["carol"]["raw_score"], rows["carol"]["score"]) == ("10.0", "9.0")
    assert "Prof. Lee" in rows["bob"]["overrides"] and "Hard-coded p-values" in rows["carol"]["overrides"]
    feedback = (out / "carol" / "mcnemar" / "feedback.md").read_text(encoding="utf-8")
    assert "Adjusted by your teaching team" in feedback and "mcnemar_test: -1 points by TA Kim" in feedback
    changes = {row["student_id"]: row for row in read_csv(out / "changes.csv")}
    assert changes["bob"]["change"] == "4.0" and "Agreed after office hours" in changes["bob"]["why"]
    again = autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out),
                       "--overrides", str(overrides))
    assert "scores changed" not in again.stdout and read_csv(out / "changes.csv") == []


def test_an_override_file_that_does_not_read_is_named_in_one_line(tmp_path):
    submissions = _class_with_times(tmp_path, tmp_path)
    bad = tmp_path / "overrides.csv"
    bad.write_text("student,assignment,target,points,adjustment,comment,who\nalice,mcnemar,*,5,+1,both,TA\n",
                   encoding="utf-8")
    completed = autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(tmp_path / "out"),
                           "--overrides", str(bad))
    assert completed.returncode == 2
    assert one_line(completed) == f"error: {bad}, line 2: give either points or adjustment, not both"


# --- similarity ---------------------------------------------------------------------------------------------------


def _planted(code: str) -> dict[str, str]:
    """Copies of one student's code, disguised the ways students disguise them."""
    renamed = code
    for old, new in {"truth": "labels", "first": "preds_one", "second": "preds_two", "counts": "grid",
                     "rows": "cells", "label": "gold", "b": "only_a", "c": "only_b", "n": "total", "k": "low",
                     "tail": "mass", "difference": "gap", "statistic": "stat", "winner": "best"}.items():
        renamed = re.sub(rf"\b{old}\b", new, renamed)
    header, *functions = re.split(r"\n(?=def )", code)
    reordered = header + "\n" + "\n".join(reversed(functions))
    commented = "\n".join(f"{line}  # checked" if line.strip().startswith(("if ", "return ")) else line
                          for line in code.splitlines()).replace("2x2 counts of", "The four counts of")
    return {"verbatim": code, "renamed": renamed, "reordered": reordered, "recommented": commented}


def test_planted_copies_rank_above_independent_solutions(tmp_path):
    submissions = tmp_path / "submitted"
    original = read_fixture(CORRECT / "loops.py").code
    students = {"original": original, **{f"copy_{how}": text for how, text in _planted(original).items()}}
    for name, text in students.items():
        fixture = tmp_path / "mcnemar" / "fixtures" / "correct" / f"{name}.py"
        fixture.parent.mkdir(parents=True, exist_ok=True)
        fixture.write_text(text, encoding="utf-8")
        build_submission("mcnemar", fixture, submissions / name / "mcnemar" / "mcnemar.ipynb")
    for style in ("vectorised", "pandas_crosstab"):
        build_submission("mcnemar", CORRECT / f"{style}.py", submissions / style / "mcnemar" / "mcnemar.ipynb")
    reference_submission("mcnemar", submissions / "reference_like" / "mcnemar" / "mcnemar.ipynb")
    untouched_submission("mcnemar", submissions / "did_nothing" / "mcnemar" / "mcnemar.ipynb")
    out = tmp_path / "report"
    completed = autograder("similarity", str(submissions), "--assignment", "mcnemar", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    pairs = read_csv(out / "similarity.csv")
    copied = set(students)
    planted = [float(p["similarity"]) for p in pairs if {p["student_a"], p["student_b"]} <= copied]
    others = [float(p["similarity"]) for p in pairs if not {p["student_a"], p["student_b"]} <= copied]
    assert len(planted) == 10 and min(planted) > 0.8
    assert max(others) < 0.5 and min(planted) > max(others)
    assert "did_nothing" not in {p["student_a"] for p in pairs} | {p["student_b"] for p in pairs}
    page = (out / "pairs" / "001.html").read_text(encoding="utf-8")
    assert 'class="match"' in page and (out / "similarity.png").stat().st_size > 5000
    assert "index.html" in completed.stdout


# --- grades out ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graded-class")
    submissions = folder / "submitted"
    for student, kind in (("s001", "reference"), ("s002", "vectorised"), ("s003", "untouched"),
                          ("s004", "loops"), ("stranger", "loops")):
        target = submissions / student / "mcnemar"
        target.mkdir(parents=True)
        (target / "mcnemar.ipynb").write_bytes(notebook_bytes(kind, folder))
    # And one who makes a known mistake: the exact p-value not doubled.
    one_tail = next(mistake for mistake in known_mistakes("mcnemar") if mistake.name == "exact_not_doubled")
    mistake_submission("mcnemar", one_tail, submissions / "one_tail" / "mcnemar" / "mcnemar.ipynb")
    out = folder / "out"
    completed = autograder("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    return folder, out


def test_canvas_export_has_canvas_gradebook_columns(graded_class):
    folder, out = graded_class
    completed = autograder("export", str(out), "--assignment", "mcnemar", "--to", "canvas", "--roster",
                           str(folder / "roster.csv"), "--name", "Assignment 2: McNemar",
                           "--canvas-assignment-id", "4242")
    assert completed.returncode == 0, completed.stderr
    assert "not exported (not in the roster, or without a canvas identity): one_tail, stranger" in completed.stderr
    with (out / "canvas_mcnemar.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 2: McNemar (4242)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5] == "10.0"
    scores = {row[1]: row[5] for row in rows[2:]}
    assert scores == {"12345": "10.0", "12346": "10.0", "12347": "0.0", "12348": "10.0"}


def test_moodle_export_has_moodle_import_columns(graded_class):
    folder, out = graded_class
    completed = autograder("export", str(out), "--assignment", "mcnemar", "--to", "moodle", "--roster",
                           str(folder / "roster.csv"), "--dest", str(folder / "moodle.csv"))
    assert completed.returncode == 0, completed.stderr
    rows = read_csv(folder / "moodle.csv")
    assert list(rows[0]) == ["Email address", "ID number", "mcnemar", "Feedback for mcnemar"]
    assert {row["Email address"]: row["mcnemar"] for row in rows}["li.wei@uni.example"] == "10.0"


def test_nbgrader_gradebook_gets_the_same_scores(graded_class, tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader_course import nbgrader, scratch_course

    _, out = graded_class
    course = scratch_course(tmp_path)
    nbgrader(course, "generate_assignment", "mcnemar", "--force")
    completed = autograder("export", str(out), "--assignment", "mcnemar", "--to", "nbgrader", "--db",
                           f"sqlite:///{course / 'gradebook.db'}")
    assert completed.returncode == 0, completed.stderr
    grades = {row["student_id"]: float(row["score"]) for row in read_csv(out / "grades.csv")}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, score in grades.items():
            assert gradebook.find_submission("mcnemar", student).score == pytest.approx(score), student


# --- the class report --------------------------------------------------------------------------------------------


def test_the_class_report_separates_the_untouched_and_counts_the_hints(graded_class):
    _, out = graded_class
    summary = read_csv(out / "summary_mcnemar.csv")
    assert all(row["not_attempted"] == "1" for row in summary)  # s003 left the release as it was
    rates = {row["check"]: float(row["pass_rate"]) for row in summary}
    assert rates["mcnemar_table: value error for different lengths or empty input"] == 1.0
    assert rates["mcnemar_test: exact test"] == 0.8  # one of the five who tried leaves the p-value one-tailed
    page = (out / "summary_mcnemar.html").read_text(encoding="utf-8")
    assert "6 students" in page and "not attempted" in page.lower()
    assert "not_doubled" in page and "two-sided" in page


def test_the_class_report_page_reads_well_in_a_browser(graded_class, browser):
    from browser import open_page, screenshot_dir, serve

    _, out = graded_class
    for width in (1280, 400):
        page = browser.new_page(viewport={"width": width, "height": 900})
        with serve(out) as site:
            report = open_page(page, site + "summary_mcnemar.html")
        assert report.problems() == []
        assert page.locator("img").first.evaluate("img => img.naturalWidth > 500")
        assert page.locator("table").count() == 2
        # Nothing wider than the screen but the tables' own scrolling boxes.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir() / f"class-report-{width}.png"), full_page=True)
        page.close()


# --- the week, end to end, from a fresh clone ----------------------------------------------------------------


def test_a_week_from_a_fresh_clone(tmp_path, roster):
    clone = tmp_path / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    download = canvas_zip(tmp_path / "canvas.zip", tmp_path, [
        ("doejane_12345_1_mcnemar.ipynb", "reference", dt.datetime(2024, 10, 1, 20, 0)),
        ("weili_12346_2_mcnemar.ipynb", "untouched", dt.datetime(2024, 10, 1, 21, 0)),
        ("lopezanamaria_late_12347_3_mcnemar.ipynb", "pandas_crosstab", dt.datetime(2024, 10, 3, 9, 0)),
        ("haddadomar_12348_4_mcnemar.ipynb", "vectorised", dt.datetime(2024, 10, 1, 22, 0)),
    ])
    (clone / "grading.toml").write_text(POLICY, encoding="utf-8")

    def step(*args):
        completed = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=clone, capture_output=True,
                                   text=True, env={**os.environ, "TQDM_DISABLE": "1"}, timeout=900)
        assert completed.returncode == 0, f"{args[0]}: {completed.stderr}"
        return completed

    step("import", str(download), "--assignment", "mcnemar", "--to", "submitted", "--roster", str(roster))
    step("grade", "submitted", "--assignment", "mcnemar", "--out", "graded/mcnemar")
    (clone / "overrides.csv").write_text("student,assignment,target,points,adjustment,comment,who\n"
                                         "s002,mcnemar,*,3,,\"Partial credit for the written reasoning\",TA Kim\n",
                                         encoding="utf-8")
    regrade = step("grade", "submitted", "--assignment", "mcnemar", "--out", "graded/mcnemar")
    assert "s002: 0.0 -> 3.0" in regrade.stdout
    step("export", "graded/mcnemar", "--assignment", "mcnemar", "--to", "canvas", "--roster", str(roster))
    with (clone / "graded" / "mcnemar" / "canvas_mcnemar.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    scores = {row[1]: float(row[5]) for row in rows[2:]}
    assert scores == {"12345": 10.0, "12346": 3.0, "12347": 8.0, "12348": 10.0}
    # Grades stay out of the repository: git sees none of what the week wrote.
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone,
                            capture_output=True, text=True, check=True).stdout
    assert [line for line in status.splitlines() if "grading.toml" not in line] == []
    shutil.rmtree(clone)
