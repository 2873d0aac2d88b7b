"""The sandbox and the grade command's promises: strong by default, refusing clearly, resuming honestly.

The attacks themselves are in ``test_trust_boundary.py``; here are the
mechanisms they rely on, each checked directly.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from submissions import ROOT, build_submission, reference_submission, sandbox_processes, untouched_submission

from autograder.sandbox import Sandbox, isolation

pytestmark = pytest.mark.slow

USER_NAMESPACE = {"AUTOGRADER_USER_NAMESPACE": "1"}


def run_command(*args: str, env: dict | None = None, python: str = sys.executable,
                cwd: Path = ROOT) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TQDM_DISABLE": "1", **(env or {})}
    return subprocess.run([python, "-m", "autograder", *args], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=900)


def one_line(completed: subprocess.CompletedProcess) -> str:
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{completed.stderr}"
    return lines[0]


def small_class(folder: Path, assignment: str = "mcnemar", students: tuple[str, ...] = ("alice", "bob")) -> Path:
    submissions = folder / "submitted"
    for number, student in enumerate(students):
        target = submissions / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        make = reference_submission if number % 2 == 0 else untouched_submission
        make(assignment, target)
    return submissions


def read_grades(out: Path) -> dict[str, dict]:
    with (out / "grades.csv").open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


# --- the sandbox itself ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["unprivileged uid", "user namespace", "user namespace of a non-root grader"])
def test_children_see_nothing_and_share_nothing(mode, monkeypatch):
    """Each child: process 1 of its own namespace, no network, no privilege, a /tmp of its own."""
    from autograder.sandbox import Isolation

    level = Isolation("bubblewrap", user_namespace=mode != "unprivileged uid")
    if mode == "user namespace of a non-root grader":
        monkeypatch.setattr(os, "geteuid", lambda: 1000)  # as a TA's own account sets it up
    with Sandbox(level) as sandbox:
        first, second = sandbox.fork(), sandbox.fork()
        report = first.request({"op": "probe", "paths": [str(ROOT), str(ROOT / "solutions"), "/tmp/left-behind"]},
                               timeout=30)
        assert report["processes"] == [1] and report["capabilities"] == 0
        assert set(report["interfaces"]) <= {"lo"} and report["writable"] == [] and report["visible"] == []
        assert report["imports"] == "ok" and report["cwd"] == "/tmp"
        assert (report["uid"] == 0) == (mode == "user namespace of a non-root grader")
        leave = {"id": "leave", "source": "open('/tmp/left-behind', 'w').write('loot')"}
        assert [m["status"] for m in first.load([leave], 5, time.monotonic() + 30)] == ["ok"]
        assert first.request({"op": "probe", "paths": ["/tmp/left-behind"]}, 30)["visible"] == ["/tmp/left-behind"]
        assert second.request({"op": "probe", "paths": ["/tmp/left-behind"]}, 30)["visible"] == []
        first.kill()
        third = sandbox.fork()
        assert third.request({"op": "probe", "paths": ["/tmp/left-behind"]}, 30)["visible"] == []


def _statuses(child, *sources: str) -> list[str]:
    cells = [{"id": f"cell-{number}", "source": source} for number, source in enumerate(sources)]
    return [message["status"] for message in child.load(cells, 5, time.monotonic() + 30)]


HUB = "import socket\nhub = socket.socket(socket.AF_UNIX)\nhub.bind('\\0autograder-test-hub')\nhub.listen()"
KNOCK = "import socket\nsocket.socket(socket.AF_UNIX).connect('\\0autograder-test-hub')"
ADD_KEY = ("import ctypes, os\n"
           "number = {'x86_64': 248, 'aarch64': 217}[os.uname().machine]\n"
           "libc = ctypes.CDLL(None, use_errno=True)\n"
           "if libc.syscall(number, b'user', b'loot', b'answers', 7, -4) == -1:\n"  # -4: the user keyring
           "    raise OSError(ctypes.get_errno(), 'add_key refused')")


@pytest.mark.parametrize("mode", ["unprivileged uid", "user namespace"])
def test_children_cannot_meet_keep_keys_or_start_processes(mode):
    """No channel between two children (an abstract socket, a key in a keyring), no second process."""
    from autograder.sandbox import Isolation

    with Sandbox(Isolation("bubblewrap", user_namespace=mode == "user namespace")) as sandbox:
        first, second = sandbox.fork(), sandbox.fork()
        report = first.request({"op": "probe", "paths": []}, timeout=30)
        assert report["seccomp"] == 2 and report["keyring"] is True and report["fork"] is True
        # A child reaches its own abstract socket, never another child's.
        assert _statuses(first, HUB, KNOCK) == ["ok", "ok"]
        assert _statuses(second, KNOCK) == ["exception"]
        assert _statuses(first, ADD_KEY) == ["exception"]
        assert _statuses(first, "import subprocess\nsubprocess.run(['/usr/bin/true'])") == ["exception"]
        assert _statuses(first, "import threading\nthreading.Thread(target=print).start()") == ["exception"]
        assert _statuses(first, "x = sum(range(10))") == ["ok"]


def test_package_folders_the_sandbox_does_not_use_are_empty():
    """A second SciPy (the base installation's, the system's) would be a copy of ks_2samp the tripwires miss."""
    import sys

    from autograder.sandbox import Isolation, sandbox_layout

    layout, base = sandbox_layout(), Path(sys.base_prefix).resolve()
    inside = []
    for folder in layout.covered:
        host = base / Path(folder).relative_to("/sandbox/python") if folder.startswith("/sandbox/python/") \
            else Path(folder)
        inside += [f"{folder}/{entry.name}" for entry in sorted(host.iterdir())[:5]]
    if not inside:
        pytest.skip("no unused package folder holds anything on this machine")
    with Sandbox(Isolation("bubblewrap", user_namespace=False)) as sandbox:
        report = sandbox.fork().request({"op": "probe", "paths": inside}, timeout=30)
    assert report["visible"] == [] and report["writable"] == []


def test_the_strong_level_is_chosen_and_checked_by_default():
    level = isolation()
    assert level.strong and "bubblewrap" in level.note


def test_oracle_answers_do_not_outlive_the_student_who_asked(tmp_path):
    """The same hostile submission graded twice in one sandbox: nothing it stole the first time is there the second."""
    from submissions import read_fixture

    from autograder.grading import Grader

    path = ROOT / "autograder" / "assignments" / "ks_drift" / "fixtures" / "hostile" / "records_oracle_answers.py"
    notebook = build_submission("ks_drift", path, tmp_path / "loot.ipynb")
    with Grader("ks_drift") as grader:
        scores = [grader.grade(notebook).score for _ in range(2)]
    assert max(scores) <= read_fixture(path).meta["MAX_SCORE"]


def test_lent_functions_answer_only_what_the_reference_asked():
    from autograder import plain
    from autograder.grading import Plan

    plan = Plan("mcnemar")
    planned = next(call for calls in plan.calls.values() for call in calls
                   if call.function == "compare_models" and call.lender.names)
    index = next(i for i, table in enumerate(planned.oracles) if table.calls)
    table, case, lender = planned.oracles[index], planned.cases[index], planned.lender
    # The same values, passed as lists and by keyword, get the reference's answer.
    y_true, pred_a, pred_b = (list(map(int, values)) for values in case.args[:3])
    answer = lender.answer(table, {}, "mcnemar_table", *_encoded([y_true], {"pred_a": pred_a, "pred_b": pred_b}))
    assert answer == plain.encode(plan.reference["mcnemar_table"](*case.args[:3]))
    with pytest.raises(LookupError, match="only the calls the reference makes"):
        lender.answer(table, {}, "mcnemar_test", *_encoded([[[1, 2], [3, 4]]], {}))
    with pytest.raises(LookupError, match="not lent"):
        lender.answer(table, {}, "compare_models", *_encoded([], {}))
    spent: dict = {}
    with pytest.raises(LookupError):
        for _ in range(10_000):
            lender.answer(table, spent, "mcnemar_table", *_encoded(case.args, {}))


def _encoded(args, kwargs):
    from autograder import plain

    return plain.encode(list(args)), plain.encode(kwargs)


# --- refusing, or saying so --------------------------------------------------------------------------------


def test_a_venv_reached_through_a_symbolic_link_gets_the_strong_level(tmp_path):
    link = tmp_path / "shared-course-env"
    link.symlink_to(Path(sys.prefix), target_is_directory=True)
    submissions, out = small_class(tmp_path), tmp_path / "out"
    completed = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out),
                            python=str(link / "bin" / "python"))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("isolation: bubblewrap")
    assert read_grades(out)["alice"]["score"] == "10.0"


def _without_bubblewrap(tmp_path: Path) -> dict:
    """PATH without bwrap: a machine where no sandbox can be had."""
    empty = tmp_path / "bin"
    empty.mkdir()
    return {"PATH": str(empty)}


def test_without_isolation_the_command_refuses_in_one_line(tmp_path):
    submissions = small_class(tmp_path)
    completed = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(tmp_path / "out"),
                            env=_without_bubblewrap(tmp_path))
    assert completed.returncode == 2
    line = one_line(completed)
    assert line.startswith("error: cannot grade safely here: bubblewrap (bwrap) is not installed")
    assert "apt-get install bubblewrap" in line and "--allow-weak-isolation" in line
    assert not (tmp_path / "out").exists()


def test_weak_isolation_is_opt_in_and_every_output_says_so(tmp_path):
    submissions, out = small_class(tmp_path), tmp_path / "out"
    completed = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out),
                            "--allow-weak-isolation", env=_without_bubblewrap(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert "WEAK ISOLATION" in completed.stdout.splitlines()[0]
    grades = read_grades(out)
    assert grades["alice"]["score"] == "10.0"
    for student in grades:
        assert grades[student]["isolation"].startswith("WEAK ISOLATION")
        folder = out / student / "mcnemar"
        assert "WEAK ISOLATION" in (folder / "feedback.md").read_text(encoding="utf-8")
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        assert results["extra_data"]["isolation"].startswith("WEAK ISOLATION")
        assert "WEAK ISOLATION" in results["output"]
    assert "WEAK ISOLATION" in (out / "summary_mcnemar.csv").read_text(encoding="utf-8")
    assert not list(Path("/tmp").glob("autograder-scratch-*"))


def test_a_folder_the_sandbox_could_see_is_refused(tmp_path):
    """Submissions inside a folder bound into the sandbox (here: the installed packages) would be readable."""
    import site

    inside = Path(site.getsitepackages()[0]) / "autograder-test-submissions"
    try:
        small_class(inside)
        completed = run_command("grade", str(inside / "submitted"), "--assignment", "mcnemar",
                                "--out", str(tmp_path / "out"))
    finally:
        shutil.rmtree(inside, ignore_errors=True)
    assert completed.returncode == 2
    assert "the sandbox would see" in one_line(completed)


def _course_copy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "autograder", course / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", course / "solutions")
    return course


def test_modules_planted_in_the_working_folder_are_never_imported(tmp_path):
    course = _course_copy(tmp_path)
    for name in ("matplotlib.py", "tqdm.py", "pandas.py"):
        (course / name).write_text("raise SystemExit('a planted module was imported')\n", encoding="utf-8")
    out = tmp_path / "out"
    completed = run_command("grade", str(small_class(tmp_path)), "--assignment", "mcnemar", "--out", str(out),
                            cwd=course)
    assert completed.returncode == 0, completed.stderr
    assert (out / "summary_mcnemar.png").stat().st_size > 1000


def test_a_broken_reference_notebook_is_named_in_one_line(tmp_path):
    course = _course_copy(tmp_path)
    notebook = course / "solutions" / "mcnemar" / "mcnemar.ipynb"
    notebook.write_text(notebook.read_text(encoding="utf-8").replace("def compare_models(", "def compare_model("),
                        encoding="utf-8")
    completed = run_command("grade", str(small_class(tmp_path)), "--assignment", "mcnemar",
                            "--out", str(tmp_path / "out"), cwd=course)
    assert completed.returncode == 2
    assert one_line(completed) == f"error: {notebook} does not define the graded function compare_models"


# --- resuming and interrupting --------------------------------------------------------------------------------


def test_resume_trusts_content_and_the_ledger_not_timestamps(tmp_path):
    submissions, out = small_class(tmp_path, students=("alice", "bob", "carol")), tmp_path / "out"
    assert run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out)).returncode == 0
    assert read_grades(out)["bob"]["score"] == "0.0"
    # bob's notebook replaced by a complete one that carries an older timestamp (as unzip or cp -p leave it)
    bob = submissions / "bob" / "mcnemar" / "mcnemar.ipynb"
    shutil.copy2(submissions / "alice" / "mcnemar" / "mcnemar.ipynb", bob)
    os.utime(bob, (0, 0))
    # carol's stored grading result, and her results.json, forged by hand
    stored = out / ".autograder" / "raw" / "carol.json"
    stored.write_text(stored.read_text(encoding="utf-8").replace('"score": 1.0', '"score": 0.0', 1), encoding="utf-8")
    forged = out / "carol" / "mcnemar" / "results.json"
    forged.write_text(forged.read_text(encoding="utf-8").replace('"score": 10.0', '"score": 0.0', 1),
                      encoding="utf-8")
    completed = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out))
    assert "1 already graded or not gradable, 2 to grade" in completed.stdout
    grades = read_grades(out)
    assert grades["bob"]["score"] == "10.0" and grades["carol"]["score"] == "10.0"
    assert json.loads(forged.read_text(encoding="utf-8"))["score"] == 10.0
    # An output edited by hand alone is rewritten without grading again.
    forged.write_text("{}", encoding="utf-8")
    rerun = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out))
    assert "3 already graded or not gradable, 0 to grade" in rerun.stdout
    assert json.loads(forged.read_text(encoding="utf-8"))["score"] == 10.0
    again = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out), "--student", "alice")
    assert "2 already graded or not gradable, 1 to grade" in again.stdout
    forced = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out), "--force")
    assert "0 already graded or not gradable, 3 to grade" in forced.stdout
    unknown = run_command("grade", str(submissions), "--assignment", "mcnemar", "--out", str(out), "--student", "zoe")
    assert unknown.returncode == 2 and "zoe" in one_line(unknown)


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path):
    submissions = small_class(tmp_path, "ks_drift", ("a1", "a2"))
    for name in ("slow1", "slow2"):
        build_submission("ks_drift", ROOT / "autograder" / "assignments" / "ks_drift" / "fixtures" / "hostile"
                         / "swallows_timeout.py",
                         submissions / name / "ks_drift" / "ks_drift.ipynb")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--assignment", "ks_drift",
               "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "TQDM_DISABLE": "1"}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (out / ".autograder" / "ledger.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: ") and "run the same command to resume" in lines[0]
    deadline = time.monotonic() + 10  # SIGKILL takes effect asynchronously
    while (leftovers := sandbox_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert leftovers == []
    resumed = run_command("grade", str(submissions), "--assignment", "ks_drift", "--out", str(out))
    assert resumed.returncode == 0
    assert " 0 to grade" not in resumed.stdout and len(read_grades(out)) == 4
