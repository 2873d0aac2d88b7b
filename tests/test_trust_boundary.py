"""The grader's trust boundary, tried as an attacker would.

A class is made of every hostile fixture (``autograder/assignments/<id>/fixtures/hostile/*.py``,
one student each), the folder-level attacks of
``tests/fixtures/hostile/layouts.py`` and a few honest students, and graded
with the TA's command at every isolation level the grader agrees to run on
(an unprivileged uid per child, as when the grader is root; and a user
namespace without capabilities, as for any other user). Then:

* no hostile submission gains a point, and honest students keep full marks;
* every submission is byte-identical afterwards, every output is what the
  grader wrote, and nothing the attacks plant appears outside their scratch space;
* no process is left, no connection reached the host, and no submission cost
  the grading process more than 60 s or 1 GB.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from submissions import (
    ROOT,
    build_submission,
    fixture_files,
    read_fixture,
    reference_submission,
    sandbox_processes,
)

from autograder.assignments import assignments
from autograder.reference import solution_lines

pytestmark = pytest.mark.slow

HOSTILE = fixture_files("hostile")
sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "hostile"))
from layouts import LAYOUTS  # noqa: E402

LEVELS = {"unprivileged uid": {}, "user namespace": {"AUTOGRADER_USER_NAMESPACE": "1"}}
HONEST = ("honest_1", "honest_2", "honest_3")
NETWORK_PORT = 47831  # ks_drift's hostile fixture network_access.py knocks here
ASSIGNMENTS = sorted(assignments())
PLANTED_NAMES = {"conftest.py", "sitecustomize.py", "usercustomize.py", "matplotlib.py", "PLANTED-BY-MALLORY",
                 "loot-inputs.json", "loot-answers.json"}
MAX_SECONDS, MAX_MEGABYTES = 60.0, 1024.0
TOLERANCE = 1e-9


def _tree(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (links not followed) with its SHA-256."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path)] = f"link to {os.readlink(path)}"
        elif path.is_file():
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif not path.is_dir():
            found[str(path)] = "special file"
    return found


def _planted() -> set[str]:
    """Files with the attacks' names in the places they aim at: the shared temporary folders and the repository."""
    found = set()
    for folder in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), ROOT, ROOT.parent, Path.cwd()):
        if folder.is_dir():
            found |= {str(folder / name) for name in PLANTED_NAMES if (folder / name).exists()}
    return found


def _repository() -> dict[str, str]:
    """The repository's files (solutions, graders, releases...) with their SHA-256."""
    skip = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "_build", "artifacts"}
    files = {}
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in names:
            path = Path(folder) / name
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "other"
    return files


class Listener:
    """A TCP server on the grading machine's loopback that counts who connects."""

    def __init__(self, port: int) -> None:
        self.server = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.server.settimeout(0.2)
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


def _build_class(folder: Path, assignment: str) -> Path:
    submissions = folder / "submitted"
    submissions.mkdir(parents=True)
    for path in HOSTILE:
        if path.parents[2].name == assignment:
            build_submission(assignment, path, submissions / path.stem / assignment / f"{assignment}.ipynb")
    reference = reference_submission(assignment, folder / "reference.ipynb")
    for name in HONEST:
        target = submissions / name / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.write_bytes(reference.read_bytes())
    for name, (build, _status, _score) in LAYOUTS.items():
        build(submissions / name, assignment, reference.read_bytes(), ROOT)
    return submissions


@pytest.fixture(scope="module", params=sorted(LEVELS))
def graded_class(request, tmp_path_factory):
    """Every assignment's hostile class, graded with the TA's command at one isolation level."""
    level = request.param
    folder = tmp_path_factory.mktemp(f"hostile-{level.replace(' ', '-')}")
    classes = {assignment: _build_class(folder / assignment, assignment) for assignment in ASSIGNMENTS}
    before = {"submissions": {a: _tree(s) for a, s in classes.items()}, "planted": _planted(),
              "repository": _repository(), "processes": sandbox_processes()}
    listener = Listener(NETWORK_PORT)
    runs, processes = {}, {}
    try:
        # The three classes side by side: most attacks wait on a time limit rather than use the CPU.
        for assignment, submissions in classes.items():
            out = folder / assignment / "graded"
            env = {**os.environ, "TQDM_DISABLE": "1", **LEVELS[level]}
            processes[assignment] = subprocess.Popen(
                [sys.executable, "-m", "autograder", "grade", str(submissions), "--assignment", assignment,
                 "--out", str(out), "--jobs", "3"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True)
            runs[assignment] = {"out": out, "submissions": submissions}
        for assignment, process in processes.items():
            stdout, stderr = process.communicate(timeout=1800)
            runs[assignment]["completed"] = subprocess.CompletedProcess(process.args, process.returncode, stdout,
                                                                        stderr)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
        listener.close()
    deadline = time.monotonic() + 10  # SIGKILL takes effect asynchronously
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    after = {"submissions": {a: _tree(s) for a, s in classes.items()}, "planted": _planted(),
             "repository": _repository(), "processes": sandbox_processes()}
    return {"level": level, "runs": runs, "before": before, "after": after, "connections": listener.connections}


def _results(run: dict, student: str) -> tuple[dict, dict, str]:
    """(grades.csv row, results.json, feedback.md) of one student."""
    with (run["out"] / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    folder = run["out"] / student / run["out"].parent.name
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return rows[student], results, (folder / "feedback.md").read_text(encoding="utf-8")


def _function_scores(results: dict) -> dict[str, tuple[float, float]]:
    scores: dict[str, list[float]] = {}
    for test in results["tests"]:
        function = test["name"].split(":")[0]
        score = scores.setdefault(function, [0.0, 0.0])
        score[0] += test["score"]
        score[1] += test["max_score"]
    return {name: (score, maximum) for name, (score, maximum) in scores.items()}


def test_the_grade_command_ran_at_the_requested_level(graded_class):
    for assignment, run in graded_class["runs"].items():
        completed = run["completed"]
        assert completed.returncode == 0, f"{assignment}:\n{completed.stdout}\n{completed.stderr[-3000:]}"
        expected = "user namespace" if graded_class["level"] == "user namespace" else "unprivileged uid"
        assert completed.stdout.startswith("isolation: bubblewrap") and expected in completed.stdout.splitlines()[0]
        assert "was changed during grading" not in completed.stderr


@pytest.mark.parametrize("path", HOSTILE, ids=lambda p: f"{p.parents[2].name}/{p.stem}")
def test_hostile_submission_gains_nothing(graded_class, path):
    fixture = read_fixture(path)
    row, results, feedback = _results(graded_class["runs"][fixture.assignment], path.stem)
    meta = fixture.meta
    scored = f"{fixture.name} scored {row['score']} ({graded_class['level']}):\n{feedback}"
    assert row["status"] == "graded", scored
    assert float(row["score"]) <= meta["MAX_SCORE"] + TOLERANCE, scored
    assert float(row["score"]) >= meta.get("MIN_SCORE", 0.0) - TOLERANCE, scored
    functions = _function_scores(results)
    for name in meta.get("LOSES_POINTS_IN", ()):
        assert functions[name][0] < functions[name][1] - TOLERANCE, scored
    missing = [phrase for phrase in meta["STATUS_MENTIONS"] if phrase.lower() not in feedback.lower()]
    assert not missing, f"the feedback does not mention {missing}:\n{feedback}"
    present = [phrase for phrase in meta.get("NOT_MENTIONS", ()) if phrase.lower() in feedback.lower()]
    assert not present, f"the feedback repeats the submission's fake output {present}"
    leaked = [line for line in solution_lines(fixture.assignment) if len(line) >= 30 and line in feedback]
    assert not leaked, f"the feedback quotes the reference solution: {leaked[:3]}"
    assert len(feedback) < 100_000 and len(json.dumps(results)) < 200_000, "the feedback is not size-limited"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_honest_students_in_a_hostile_class_keep_full_marks(graded_class, assignment):
    for student in HONEST:
        row, _, feedback = _results(graded_class["runs"][assignment], student)
        assert (row["status"], float(row["score"])) == ("graded", 10.0), feedback


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_attacks_on_the_submissions_folder_get_a_clear_status(graded_class, name):
    _, status, score = LAYOUTS[name]
    for assignment, run in graded_class["runs"].items():
        with (run["out"] / "grades.csv").open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        shown = os.fsencode(name).decode("utf-8", "backslashreplace")
        shown = "'" + shown if shown[:1] in "=+-@" else shown
        matching = [row for row in rows if row["student_id"] == shown]
        assert len(matching) == 1, f"{assignment}: no single row for {shown!r} in {[r['student_id'] for r in rows]}"
        assert (matching[0]["status"], float(matching[0]["score"])) == (status, score), (assignment, matching[0])


def test_every_submission_is_byte_identical_after_grading(graded_class):
    assert graded_class["after"]["submissions"] == graded_class["before"]["submissions"]


def test_every_output_is_what_the_grader_wrote(graded_class):
    for run in graded_class["runs"].values():
        ledger = json.loads((run["out"] / ".autograder" / "ledger.json").read_text(encoding="utf-8"))
        for entry in ledger["students"].values():
            for relative, digest in entry["files"].items():
                assert hashlib.sha256((run["out"] / relative).read_bytes()).hexdigest() == digest, relative
        with (run["out"] / "grades.csv").open(newline="", encoding="utf-8") as handle:
            text = handle.read()
        assert "graded,forged" not in text


def test_nothing_is_planted_outside_the_scratch_space(graded_class):
    assert graded_class["after"]["planted"] == graded_class["before"]["planted"]
    assert graded_class["after"]["repository"] == graded_class["before"]["repository"]


def test_no_process_is_left_behind(graded_class):
    assert graded_class["after"]["processes"] == [], graded_class["after"]["processes"]


def test_no_submission_reached_the_grading_machine_over_the_network(graded_class):
    assert graded_class["connections"] == 0


def test_no_submission_costs_more_than_60_s_or_1_gb(graded_class):
    for assignment, run in graded_class["runs"].items():
        costs = json.loads((run["out"] / ".autograder" / "run.json").read_text(encoding="utf-8"))
        slowest = max(costs["submissions"].items(), key=lambda item: item[1]["seconds"])
        assert slowest[1]["seconds"] <= MAX_SECONDS, f"{assignment}: {slowest}"
        peak = max([costs["peak_mb_main"]] + [cost["peak_mb"] for cost in costs["submissions"].values()])
        assert peak <= MAX_MEGABYTES, f"{assignment}: the grading processes peaked at {peak} MB"
