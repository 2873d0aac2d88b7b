"""The TA's command line.

``python -m autograder grade SUBMISSIONS --assignment ID --out OUT [--jobs N]``
    Grade every ``SUBMISSIONS/<student_id>/<ID>/<ID>.ipynb`` (nbgrader's layout).
    Writes ``OUT/grades.csv``, ``OUT/<student_id>/<ID>/results.json``
    (Gradescope's format) and ``feedback.md`` per student, and a class summary
    (``OUT/summary_<ID>.csv`` and ``.png``). Re-running skips submissions whose
    results are up to date, so a run that was interrupted resumes.

``python -m autograder grade-one NOTEBOOK --assignment ID --results FILE``
    Grade one notebook (used by the Gradescope bundle).

``python -m autograder gradescope ID [--out DIR]``
    Build a Gradescope autograder bundle (zip) for assignment ID.

Exit status: 0 when grading ran (whatever the students' scores), 2 for a TA
mistake (unknown assignment, missing folder), with a one-line explanation.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import multiprocessing
import os
import sys
import traceback
from pathlib import Path

from autograder import ASSIGNMENTS
from autograder.report import (
    class_summary,
    gradescope_results,
    plot_class_summary,
    write_atomically,
    write_result,
)

GRADES_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "isolation"]


class UsageError(Exception):
    """A mistake in how the command was called."""


def fingerprint(assignment: str) -> str:
    """Identifies the graders and reference solution; results from another version are regraded."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.rglob("*.py")):
        digest.update(path.read_bytes())
    from autograder.reference import solution_notebook

    digest.update(solution_notebook(assignment).read_bytes())
    return digest.hexdigest()[:16]


def discover(submissions: Path, assignment: str) -> list[tuple[str, Path | None, str]]:
    """(student_id, notebook or None, note) for every student folder, sorted by id."""
    found = []
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith(".")):
        expected = folder / assignment / f"{assignment}.ipynb"
        if expected.exists() or expected.is_symlink():
            found.append((folder.name, expected, ""))
            continue
        others = sorted((folder / assignment).glob("*.ipynb")) if (folder / assignment).is_dir() else []
        if len(others) == 1:
            found.append((folder.name, others[0], f"graded {others[0].name}: the notebook should be named "
                                                  f"{assignment}.ipynb"))
        else:
            found.append((folder.name, None, f"no {assignment}/{assignment}.ipynb in the submission folder"))
    return found


# -- worker processes --------------------------------------------------------------------------------

_GRADER = None
_PLAN = None


def _init_worker(assignment: str) -> None:
    global _GRADER
    from autograder.grading import Grader

    # The plan (inputs and reference answers) was built once, before the fork.
    _GRADER = Grader(assignment, plan=_PLAN)


def _grade_job(job: tuple[str, str | None, str, str, str]) -> dict:
    student, notebook, note, out, stamp = job
    grader = _GRADER
    try:
        if notebook is None:
            result = grader.ungraded("missing", "No notebook was found in your submission folder.")
        else:
            result = grader.grade(Path(notebook))
    except Exception:  # one broken submission must not stop the run
        result = grader.ungraded("error", "The grader failed on this submission; your TA has the details.")
        print(f"grader error for {student}:\n{traceback.format_exc()}", file=sys.stderr)
    if note:
        result.messages.insert(0, note)
    write_result(Path(out), student, result, extra={"fingerprint": stamp})
    return {"student_id": student, "assignment": result.assignment, "score": result.score,
            "max_score": result.max_score, "status": result.status, "isolation": result.isolation}


def _previous(out: Path, student: str, assignment: str, notebook: Path | None, stamp: str) -> dict | None:
    """The stored row of a student whose results are complete and up to date."""
    path = out / student / assignment / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    extra = data.get("extra_data", {})
    if extra.get("fingerprint") != stamp:
        return None
    if notebook is not None and notebook.exists() and notebook.stat().st_mtime > path.stat().st_mtime:
        return None
    return {"student_id": student, "assignment": assignment, "score": data.get("score"),
            "max_score": data.get("max_score"), "status": extra.get("status"), "isolation": extra.get("isolation")}


def grade_command(submissions: Path, assignment: str, out: Path, jobs: int | None) -> int:
    if assignment not in ASSIGNMENTS:
        raise UsageError(f"unknown assignment {assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
    if not submissions.is_dir():
        raise UsageError(f"submissions folder {submissions} does not exist")
    from tqdm import tqdm

    from autograder.sandbox import isolation_level, isolation_note

    out.mkdir(parents=True, exist_ok=True)
    stamp = fingerprint(assignment)
    students = discover(submissions, assignment)
    rows, todo = [], []
    for student, notebook, note in students:
        previous = _previous(out, student, assignment, notebook, stamp)
        if previous is not None:
            rows.append(previous)
        else:
            todo.append((student, str(notebook) if notebook else None, note, str(out), stamp))
    level = isolation_level()
    print(f"isolation: {isolation_note(level)}")
    print(f"{len(students)} submissions, {len(rows)} already graded, {len(todo)} to grade")
    jobs = max(1, min(jobs or os.cpu_count() or 1, max(len(todo), 1)))
    if todo:
        global _PLAN
        from autograder.grading import Plan

        _PLAN = Plan(assignment)
        context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with context.Pool(jobs, initializer=_init_worker, initargs=(assignment,)) as pool:
            for row in tqdm(pool.imap_unordered(_grade_job, todo), total=len(todo), unit="submission",
                            desc=f"grading {assignment}"):
                rows.append(row)
    rows.sort(key=lambda row: row["student_id"])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=GRADES_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(out / "grades.csv", buffer.getvalue())
    _write_summary(out, assignment, [row["student_id"] for row in rows])
    graded = [row for row in rows if row["status"] == "graded"]
    mean = sum(row["score"] for row in graded) / len(graded) if graded else float("nan")
    print(f"wrote {out / 'grades.csv'}: {len(graded)} graded, {len(rows) - len(graded)} not gradable, "
          f"mean score {mean:.2f}")
    return 0


def _write_summary(out: Path, assignment: str, students: list[str]) -> None:
    results = []
    for student in students:
        try:
            results.append(json.loads((out / student / assignment / "results.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    summary = class_summary(results)
    write_atomically(out / f"summary_{assignment}.csv", summary.to_csv(index=False))
    if len(summary):
        plot_class_summary(summary, out / f"summary_{assignment}.png",
                           f"{assignment}: share of students passing each check")


def grade_one_command(notebook: Path, assignment: str, results: Path) -> int:
    if assignment not in ASSIGNMENTS:
        raise UsageError(f"unknown assignment {assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
    from autograder.grading import grade_notebook

    result = grade_notebook(notebook, assignment)
    write_atomically(results, json.dumps(gradescope_results(result), indent=2) + "\n")
    print(f"{assignment}: {result.score:g} / {result.max_score:g} ({result.status})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a folder of submissions (nbgrader layout)")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("--assignment", required=True)
    grade.add_argument("--out", type=Path, required=True)
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    one = commands.add_parser("grade-one", help="grade one notebook into a results.json")
    one.add_argument("notebook", type=Path)
    one.add_argument("--assignment", required=True)
    one.add_argument("--results", type=Path, required=True)
    bundle = commands.add_parser("gradescope", help="build a Gradescope autograder bundle")
    bundle.add_argument("assignment")
    bundle.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        if args.command == "grade":
            if args.jobs is not None and args.jobs < 1:
                raise UsageError("--jobs must be at least 1")
            return grade_command(args.submissions, args.assignment, args.out, args.jobs)
        if args.command == "grade-one":
            return grade_one_command(args.notebook, args.assignment, args.results)
        from autograder.gradescope import build_bundle

        if args.assignment not in ASSIGNMENTS:
            raise UsageError(f"unknown assignment {args.assignment!r}; choose one of {', '.join(ASSIGNMENTS)}")
        path = build_bundle(args.assignment, args.out)
        print(f"wrote {path}")
        return 0
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
