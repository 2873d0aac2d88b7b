"""The TA's command line.

``python -m autograder grade SUBMISSIONS --assignment ID --out OUT [--jobs N] [--force] [--student ID]``
    Grade every ``SUBMISSIONS/<student_id>/<ID>/<ID>.ipynb`` (nbgrader's layout).
    Writes ``OUT/grades.csv``, ``OUT/<student_id>/<ID>/results.json``
    (Gradescope's format) and ``feedback.md`` per student, and a class summary
    (``OUT/summary_<ID>.csv`` and ``.png``). Re-running skips students whose
    results are up to date, so a run that was interrupted resumes.

``python -m autograder grade-one NOTEBOOK --assignment ID --results FILE``
    Grade one notebook (used by the Gradescope bundle).

``python -m autograder gradescope ID [--out DIR]``
    Build a Gradescope autograder bundle (zip) for assignment ID.

Student code runs only in the bubblewrap sandbox. Where it cannot be had, the
commands stop with exit status 2 and one line saying why and how to fix it,
unless ``--allow-weak-isolation`` is given -- then every output says so.

Exit status: 0 when grading ran (whatever the students' scores), 2 for a
problem the TA must fix (unknown assignment, missing folder, no sandbox, a
broken reference notebook), 130 when interrupted; each with one line.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import multiprocessing
import multiprocessing.util
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from autograder import ASSIGNMENTS
from autograder.ledger import RESERVED, Ledger, write_atomically
from autograder.report import class_summary, feedback_text, gradescope_results, plot_class_summary

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "isolation"]


class UsageError(Exception):
    """A problem the TA must fix before anything is graded."""


def fingerprint(assignment: str) -> str:
    """Identifies the graders and reference solution; results from another version are regraded."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.rglob("*.py")):
        digest.update(path.read_bytes())
    from autograder.reference import solution_notebook

    digest.update(solution_notebook(assignment).read_bytes())
    return digest.hexdigest()[:16]


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (a formula) is quoted away."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def display_id(name: str) -> str:
    """A folder name as printable text, whatever its bytes (undecodable bytes and control characters escaped)."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass
class Student:
    """One student folder, read before any student code runs."""

    name: str                      # the folder's name (also the output folder's)
    student_id: str                # as shown in grades.csv
    submission: object = None      # autograder.submission.Submission
    problem: tuple[str, str] | None = None  # (status, message) when it cannot be graded
    note: str = ""
    key: str = ""


def _id_problem(name: str, assignment: str) -> str | None:
    if name in RESERVED or name in (f"summary_{assignment}.csv", f"summary_{assignment}.png"):
        return f"the folder name {name!r} is reserved for the grader's own outputs; rename the folder"
    return None


def discover(submissions: Path, assignment: str) -> list[Student]:
    """Every student folder, its notebook read into memory (never through a link), sorted by id."""
    from autograder.submission import SubmissionProblem, read_submission

    students = []
    for entry in sorted(os.scandir(submissions), key=lambda e: os.fsencode(e.name)):
        if entry.name.startswith("."):
            continue
        student = Student(entry.name, display_id(entry.name))
        problem = _id_problem(entry.name, assignment)
        if entry.is_symlink():
            student.problem = ("not_a_notebook", "the submission folder is a symbolic link, which is not accepted")
        elif not entry.is_dir(follow_symlinks=False):
            continue
        elif problem:
            student.problem = ("invalid_student_id", problem)
        else:
            folder = Path(submissions) / entry.name / assignment
            notebook = folder / f"{assignment}.ipynb"
            if not notebook.exists() and not notebook.is_symlink() and folder.is_dir() and not folder.is_symlink():
                others = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
                if len(others) == 1:
                    notebook = others[0]
                    student.note = f"graded {notebook.name}: the notebook should be named {assignment}.ipynb"
            try:
                student.submission = read_submission(notebook, assignment, below=Path(submissions))
            except SubmissionProblem as error:
                student.problem = (error.status, error.message)
                if error.status == "missing":
                    student.problem = ("missing", "No notebook was found in your submission folder "
                                                  f"(expected {assignment}/{assignment}.ipynb).")
        students.append(student)
    return students


# -- worker processes --------------------------------------------------------------------------------

_GRADER = None
_PLAN = None
_ISOLATION = None


def _init_worker(assignment: str) -> None:
    global _GRADER
    from autograder.grading import Grader

    # Ctrl-C is the parent's to handle; a terminated worker closes its sandboxes on the way out.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _GRADER = Grader(assignment, plan=_PLAN, isolation=_ISOLATION)
    multiprocessing.util.Finalize(_GRADER, _GRADER.close, exitpriority=10)


def _grade_job(job: tuple[str, object]) -> tuple[str, object, dict]:
    name, submission = job
    started = time.monotonic()
    try:
        result = _GRADER.grade_submission(submission)
    except Exception:  # a grader bug on one submission must not stop the run
        print(f"grader error for {display_id(name)}:\n{traceback.format_exc()}", file=sys.stderr)
        result = _GRADER.ungraded("error", "The grader failed on this submission; your TA has the details.")
    # What this submission cost the grading process (its sandboxed children are bounded separately).
    cost = {"seconds": round(time.monotonic() - started, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    return name, result, cost


def _outputs(student: Student, assignment: str, result, extra: dict) -> tuple[dict[str, str], dict]:
    if student.note:
        result.messages.insert(0, student.note)
    folder = f"{student.name}/{assignment}"
    files = {f"{folder}/feedback.md": feedback_text(result),
             f"{folder}/results.json": json.dumps(gradescope_results(result, extra), indent=2) + "\n"}
    row = {"student_id": student.student_id, "assignment": assignment, "score": result.score,
           "max_score": result.max_score, "status": result.status, "isolation": result.isolation}
    return files, row


def grade_command(submissions: Path, assignment: str, out: Path, jobs: int | None, force: bool = False,
                  only: list[str] | None = None, allow_weak: bool = False) -> int:
    if assignment not in ASSIGNMENTS:
        raise UsageError(f"unknown assignment {assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
    if not submissions.is_dir():
        raise UsageError(f"submissions folder {submissions} does not exist")
    from tqdm import tqdm

    from autograder.grading import Plan, ungraded
    from autograder.reference import BrokenReference
    from autograder.sandbox import IsolationUnavailable, check_hidden, isolation

    try:
        level = isolation(allow_weak)
        if level.strong:
            check_hidden([submissions, out])
    except IsolationUnavailable as error:
        raise UsageError(f"cannot grade safely here: {error} (or pass --allow-weak-isolation to grade without "
                         "these guarantees; every output will say so)") from None
    print(f"isolation: {level.note}")
    try:
        plan = Plan(assignment)
    except BrokenReference as error:
        raise UsageError(str(error)) from None
    students = discover(submissions, assignment)
    names = {student.student_id for student in students}
    unknown = sorted(set(only or ()) - names)
    if unknown:
        raise UsageError(f"no submission folder for student(s) {', '.join(unknown)} in {submissions}")

    ledger = Ledger(out)
    stamp = fingerprint(assignment)
    extra = {"fingerprint": stamp}
    rows, todo = {}, []
    for student in students:
        content = student.submission.digest if student.submission is not None else repr(student.problem)
        student.key = hashlib.sha256(f"{content}|{student.note}|{stamp}|{level.note}".encode()).hexdigest()
        regrade = force or student.student_id in (only or ())
        stored = None if regrade else ledger.current(student.name, student.key)
        if stored is not None:
            rows[student.name] = stored["row"]
        elif student.problem is not None and student.problem[0] == "invalid_student_id":
            rows[student.name] = {"student_id": student.student_id, "assignment": assignment, "score": 0.0,
                                  "max_score": plan.max_score, "status": "invalid_student_id",
                                  "isolation": level.note}
            print(f"warning: {student.student_id!r}: {student.problem[1]}", file=sys.stderr)
        elif student.problem is not None:
            files, row = _outputs(student, assignment, ungraded(plan, level, *student.problem), extra)
            ledger.record(student.name, student.key, files, row)
            rows[student.name] = row
        else:
            todo.append(student)
    print(f"{len(students)} submissions, {len(students) - len(todo)} already graded or not gradable, "
          f"{len(todo)} to grade")
    by_name = {student.name: student for student in students}
    global _PLAN, _ISOLATION
    _PLAN, _ISOLATION = plan, level
    jobs = max(1, min(jobs or os.cpu_count() or 1, max(len(todo), 1)))
    done, costs = 0, {}
    if todo:
        context = multiprocessing.get_context("fork")
        pool = context.Pool(jobs, initializer=_init_worker, initargs=(assignment,))
        try:
            work = pool.imap_unordered(_grade_job, [(s.name, s.submission) for s in todo])
            for name, result, cost in tqdm(work, total=len(todo), unit="submission", desc=f"grading {assignment}"):
                files, row = _outputs(by_name[name], assignment, result, extra)
                ledger.record(name, by_name[name].key, files, row)
                rows[name] = row
                costs[by_name[name].student_id] = cost
                done += 1
            pool.close()
        except KeyboardInterrupt:
            pool.terminate()
            pool.join()
            print(f"\ninterrupted: {done} of {len(todo)} graded — run the same command to resume",
                  file=sys.stderr)
            return 130
        pool.join()
    _write_class_outputs(ledger, assignment, [rows[s.name] for s in students if s.name in rows], level)
    _report_costs(out, costs)
    for relative in ledger.verify():
        print(f"warning: {out / relative} was changed during grading; it was rewritten", file=sys.stderr)
    graded = [row for row in rows.values() if row["status"] == "graded"]
    mean = sum(row["score"] for row in graded) / len(graded) if graded else float("nan")
    print(f"wrote {out / 'grades.csv'}: {len(graded)} graded, {len(rows) - len(graded)} not gradable, "
          f"mean score {mean:.2f}")
    return 0


def _report_costs(out: Path, costs: dict[str, dict]) -> None:
    """Say which submission took longest and how much memory the grading processes needed."""
    peak = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    run = {"peak_mb_main": peak, "submissions": costs}
    write_atomically(out / ".autograder" / "run.json", json.dumps(run, indent=1, sort_keys=True) + "\n")
    if costs:
        slowest = max(costs, key=lambda student: costs[student]["seconds"])
        workers = max(cost["peak_mb"] for cost in costs.values())
        print(f"slowest submission: {slowest} ({costs[slowest]['seconds']:.1f} s); peak memory of the grading "
              f"processes: {max(peak, workers):.0f} MB")


def _write_class_outputs(ledger: Ledger, assignment: str, rows: list[dict], level) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GRADES_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in rows)
    ledger.write("grades.csv", buffer.getvalue())
    results = []
    for relative, content in ledger.written.items():
        if relative.endswith(f"/{assignment}/results.json"):
            try:
                results.append(json.loads(content))
            except ValueError:
                continue
    summary = class_summary(results)
    summary["isolation"] = level.note
    ledger.write(f"summary_{assignment}.csv", summary.to_csv(index=False))
    if len(summary):
        title = f"{assignment}: share of students passing each check"
        if not level.strong:
            title += "\nWEAK ISOLATION: these results carry no guarantee"
        ledger.write(f"summary_{assignment}.png", plot_class_summary(summary, title))


def grade_one_command(notebook: Path, assignment: str, results: Path, allow_weak: bool = False) -> int:
    if assignment not in ASSIGNMENTS:
        raise UsageError(f"unknown assignment {assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
    from autograder.grading import Grader, Plan
    from autograder.reference import BrokenReference
    from autograder.sandbox import IsolationUnavailable, isolation

    try:
        level = isolation(allow_weak)
    except IsolationUnavailable as error:
        # Fail closed: the student sees that grading did not happen, not a zero.
        write_atomically(results, json.dumps({
            "score": 0, "output": "Your notebook was not graded: the autograder could not isolate student code "
                                  "on this machine. Your instructor needs to fix the autograder; your submission "
                                  "is kept.", "tests": [], "extra_data": {"status": "not_isolated"}}, indent=2))
        raise UsageError(f"cannot grade safely here: {error}") from None
    try:
        plan = Plan(assignment)
    except BrokenReference as error:
        raise UsageError(str(error)) from None
    with Grader(assignment, plan=plan, isolation=level) as grader:
        result = grader.grade(notebook)
    write_atomically(results, json.dumps(gradescope_results(result), indent=2) + "\n")
    print(f"{assignment}: {result.score:g} / {result.max_score:g} ({result.status})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    weak = {"action": "store_true", "help": "grade even where student code cannot be isolated (every output "
                                            "then says so); never use this for untrusted submissions"}
    grade = commands.add_parser("grade", help="grade a folder of submissions (nbgrader layout)")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("--assignment", required=True)
    grade.add_argument("--out", type=Path, required=True)
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--force", action="store_true", help="regrade every student, even if up to date")
    grade.add_argument("--student", action="append", metavar="ID",
                       help="regrade this student even if up to date (repeatable); the others resume as usual")
    grade.add_argument("--allow-weak-isolation", **weak)
    one = commands.add_parser("grade-one", help="grade one notebook into a results.json")
    one.add_argument("notebook", type=Path)
    one.add_argument("--assignment", required=True)
    one.add_argument("--results", type=Path, required=True)
    one.add_argument("--allow-weak-isolation", **weak)
    bundle = commands.add_parser("gradescope", help="build a Gradescope autograder bundle")
    bundle.add_argument("assignment")
    bundle.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        if args.command == "grade":
            if args.jobs is not None and args.jobs < 1:
                raise UsageError("--jobs must be at least 1")
            return grade_command(args.submissions, args.assignment, args.out, args.jobs, args.force,
                                 args.student, args.allow_weak_isolation)
        if args.command == "grade-one":
            return grade_one_command(args.notebook, args.assignment, args.results, args.allow_weak_isolation)
        from autograder.gradescope import build_bundle

        if args.assignment not in ASSIGNMENTS:
            raise UsageError(f"unknown assignment {args.assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
        path = build_bundle(args.assignment, args.out)
        print(f"wrote {path}")
        return 0
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted — run the same command to resume", file=sys.stderr)
        return 130
