"""The TA's command line: a week of grading, one command a step.

``python -m autograder import SOURCE --assignment ID --to SUBMISSIONS [--roster roster.csv]``
    An LMS download (Canvas, Moodle, Blackboard; zip or folder), nbgrader's
    exchange or a flat folder of ``<student>_<ID>.ipynb`` into nbgrader's layout,
    with each submission's time (see :mod:`autograder.intake`).
``python -m autograder grade SUBMISSIONS --assignment ID --out OUT [--jobs N] [--force] [--student ID]``
    Grade every ``SUBMISSIONS/<student_id>/<ID>/<ID>.ipynb``; write ``OUT/grades.csv``,
    each student's ``results.json`` (Gradescope's format) and ``feedback.md``, and the
    class report (``OUT/summary_<ID>.csv``, ``.png``, ``.html``). The course's
    ``grading.toml`` (due dates, late policy, extensions) and ``overrides.csv`` (TAs'
    corrections) are applied on every run (see :mod:`autograder.policy`); a re-run
    grades only what changed and reports whose score moved, and why.
``python -m autograder similarity SUBMISSIONS --assignment ID --out DIR``
    Pairs of students whose own code is alike (see :mod:`autograder.similarity`).
``python -m autograder export OUT --assignment ID --to canvas|moodle|nbgrader [--roster roster.csv]``
    The final scores in the format of Canvas, Moodle or nbgrader's gradebook.
``python -m autograder grade-one NOTEBOOK --assignment ID --results FILE``
    Grade one notebook (used by the Gradescope bundle).
``python -m autograder gradescope ID [--out DIR]``
    Build a Gradescope autograder bundle (zip) for assignment ID.
``python -m autograder mutants ID --out DIR [--jobs N] [--sample N]``
    Grade every mutant of ID's reference solution (see :mod:`autograder.mutants`);
    write ``DIR/mutants.csv`` and the report ``DIR/mutants.html``. Exit status 1
    when a mutant that is not listed as equivalent keeps full marks, or a listed
    one loses points.

Student code runs only in the bubblewrap sandbox. Where it cannot be had, the
commands stop with exit status 2 and one line saying why and how to fix it,
unless ``--allow-weak-isolation`` is given -- then every output says so.

Exit status: 0 when the command did its work (whatever the students' scores), 2
for a problem the TA must fix (a wrong layout, an unknown assignment, no sandbox,
a broken reference notebook, a policy file that does not read), 130 when
interrupted; each with one line.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import io
import json
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from autograder.assignments import assignments
from autograder.ledger import RESERVED, Ledger, write_atomically
from autograder.pool import grade_in_parallel
from autograder.report import feedback_text, gradescope_results

GRADES_COLUMNS = ["student_id", "assignment", "raw_score", "adjustment", "late_penalty", "score", "max_score",
                  "status", "submitted", "days_late", "overrides", "isolation"]


class UsageError(Exception):
    """A problem the TA must fix before anything is done."""


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


def _check_assignment(assignment: str) -> None:
    if assignment not in assignments():
        raise UsageError(f"unknown assignment {assignment!r}; choose one of {', '.join(assignments())}")


# -- finding the submissions -------------------------------------------------------------------------------


@dataclass
class Student:
    """One student folder, read before any student code runs."""

    name: str                      # the folder's name (also the output folder's)
    student_id: str                # as shown in grades.csv
    submission: object = None      # autograder.submission.Submission
    problem: tuple[str, str] | None = None  # (status, message) when it cannot be graded
    note: str = ""
    key: str = ""
    submitted: object = None       # datetime from timestamp.txt


def _id_problem(name: str, assignment: str) -> str | None:
    if name in RESERVED or name in (f"summary_{assignment}.csv", f"summary_{assignment}.png",
                                    f"summary_{assignment}.html", "changes.csv"):
        return f"the folder name {name!r} is reserved for the grader's own outputs; rename the folder"
    return None


def check_layout(submissions: Path, assignment: str) -> None:
    """Refuse, in one line with the command that fixes it, the layouts people commonly pass by mistake."""
    importing = f"python -m autograder import {submissions} --assignment {assignment} --to submitted"
    if not submissions.exists():
        raise UsageError(f"submissions folder {submissions} does not exist")
    if submissions.is_file():
        kind = "a zip file (an LMS download?)" if submissions.suffix.lower() == ".zip" else "a file, not a folder"
        raise UsageError(f"{submissions} is {kind}; turn it into nbgrader's layout first: {importing}")
    entries = [e for e in os.scandir(submissions) if not e.name.startswith(".")]
    notebooks = [e for e in entries if e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False)]
    folders = [e for e in entries if e.is_dir(follow_symlinks=False)]
    if (Path(submissions) / assignment / f"{assignment}.ipynb").is_file():
        raise UsageError(f"{submissions} looks like one student's folder (it holds {assignment}/{assignment}.ipynb); "
                         f"pass the folder that holds every student's folder: {submissions.parent}")
    if notebooks and len(notebooks) >= len(folders):
        raise UsageError(f"{submissions} holds {len(notebooks)} notebooks directly (a Canvas-style download?); "
                         f"put them in nbgrader's layout first: {importing}")
    flat = [e for e in folders if (Path(e.path) / f"{assignment}.ipynb").is_file()
            and not (Path(e.path) / assignment).is_dir()]
    with_layout = [e for e in folders if (Path(e.path) / assignment).is_dir()]
    if flat and len(flat) >= len(with_layout):
        raise UsageError(f"{len(flat)} student folders hold {assignment}.ipynb without the {assignment}/ folder "
                         f"(e.g. {flat[0].name}/{assignment}.ipynb); put them in nbgrader's layout: {importing}")
    if not with_layout:
        raise UsageError(f"no submission of {assignment} in {submissions} ({len(folders)} folders, none with a "
                         f"{assignment}/ folder); is it the right folder and assignment?")


def discover(submissions: Path, assignment: str, zone=None) -> list[Student]:
    """Every student folder, its notebook read into memory (never through a link), sorted by id."""
    from autograder.intake import read_timestamp
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
                if not folder.is_symlink():
                    student.submitted = read_timestamp(folder, zone) if zone else read_timestamp(folder)
            except SubmissionProblem as error:
                student.problem = (error.status, error.message)
                if error.status == "missing":
                    student.problem = ("missing", "No notebook was found in your submission folder "
                                                  f"(expected {assignment}/{assignment}.ipynb).")
        students.append(student)
    return students


# -- grading -------------------------------------------------------------------------------------------------


def _final(student: Student, raw, assignment: str, policy, overrides) -> tuple[object, list[str]]:
    """The student's result with their overrides and late policy applied, and any override problems."""
    from autograder.policy import apply_overrides

    result = copy.deepcopy(raw)
    if student.note and student.note not in result.messages:
        result.messages.insert(0, student.note)
    mine = [o for o in overrides if o.student == student.student_id and o.assignment == assignment]
    problems = [f"override of {student.student_id}: {problem}" for problem in apply_overrides(result, mine)]
    result.lateness = policy.lateness(student.student_id, assignment, student.submitted)
    if result.lateness.refused and result.status == "graded":
        result.status = "too_late"
    return result, problems


def _outputs(student: Student, assignment: str, result, extra: dict, hide_checks: bool) -> tuple[dict, dict]:
    folder = f"{student.name}/{assignment}"
    files = {f"{folder}/feedback.md": feedback_text(result),
             f"{folder}/results.json": json.dumps(gradescope_results(result, extra, hide_checks), indent=2) + "\n"}
    lateness = result.lateness
    row = {"student_id": student.student_id, "assignment": assignment, "raw_score": result.raw_score,
           "adjustment": round(result.score + result.late_penalty - result.raw_score, 6)
           if result.status == "graded" else 0.0,
           "late_penalty": result.late_penalty, "score": result.score, "max_score": result.max_score,
           "status": result.status,
           "submitted": lateness.submitted.strftime("%Y-%m-%d %H:%M %Z") if lateness and lateness.submitted else "",
           "days_late": lateness.days_late if lateness else 0, "overrides": " | ".join(result.overrides),
           "isolation": result.isolation}
    return files, row


def _changes(previous: dict[str, dict], ledger: Ledger, students: list[Student]) -> list[dict]:
    """Whose final score moved since the last run, by how much, and why."""
    changes = []
    for student in students:
        before, after = previous.get(student.name), ledger.students.get(student.name)
        # A run stopped part-way leaves results without a final row: there is nothing to compare.
        if not before or not after or "score" not in before.get("row", {}) \
                or float(before["row"]["score"]) == float(after["row"]["score"]):
            continue
        why = []
        old, new = before.get("about", {}), after.get("about", {})
        for key, reason in (("digest", "the notebook changed"), ("fingerprint", "the graders changed"),
                            ("isolation", "the isolation changed")):
            if old.get(key) != new.get(key):
                why.append(reason)
        if before["row"].get("overrides") != after["row"].get("overrides"):
            why.append(f"overrides: {after['row'].get('overrides') or 'none now'}")
        if float(before["row"].get("late_penalty", 0)) != float(after["row"].get("late_penalty", 0)):
            why.append(f"late penalty {before['row'].get('late_penalty')} -> {after['row'].get('late_penalty')}")
        change = float(after["row"]["score"]) - float(before["row"]["score"])
        changes.append({"student_id": student.student_id, "previous": before["row"]["score"],
                        "score": after["row"]["score"], "change": round(change, 6),
                        "why": "; ".join(why) or "regraded"})
    return changes


def grade_command(submissions: Path, assignment: str, out: Path, jobs: int | None, force: bool = False,
                  only: list[str] | None = None, allow_weak: bool = False, policy_path: Path | None = None,
                  overrides_path: Path | None = None) -> int:
    _check_assignment(assignment)
    check_layout(submissions, assignment)
    from tqdm import tqdm

    from autograder.grading import Plan, result_from_dict, result_to_dict, ungraded
    from autograder.policy import Policy, PolicyError, read_overrides
    from autograder.reference import BrokenReference
    from autograder.sandbox import IsolationUnavailable, check_hidden, isolation

    try:
        policy = Policy.read(policy_path)
        overrides = [o for o in read_overrides(overrides_path) if o.assignment == assignment]
    except PolicyError as error:
        raise UsageError(str(error)) from None
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
    students = discover(submissions, assignment, policy.zone)
    names = {student.student_id for student in students}
    unknown = sorted(set(only or ()) - names)
    if unknown:
        raise UsageError(f"no submission folder for student(s) {', '.join(unknown)} in {submissions}")
    if not any(student.submission is not None for student in students):
        raise UsageError(f"none of the {len(students)} student folders in {submissions} holds a readable "
                         f"{assignment} notebook: nobody to grade")

    ledger = Ledger(out)
    previous = copy.deepcopy(ledger.students)
    stamp = fingerprint(assignment)
    raw_results, todo = {}, []
    for student in students:
        content = student.submission.digest if student.submission is not None else repr(student.problem)
        student.key = hashlib.sha256(f"{content}|{stamp}|{level.note}".encode()).hexdigest()
        stored = None if force or student.student_id in (only or ()) else ledger.raw(student.name, student.key)
        if stored is not None:
            raw_results[student.name] = result_from_dict(json.loads(stored))
        elif student.problem is not None:
            raw_results[student.name] = ungraded(plan, level, *student.problem)
        else:
            todo.append(student)
    print(f"{len(students)} submissions, {len(students) - len(todo)} already graded or not gradable, "
          f"{len(todo)} to grade")
    by_name = {student.name: student for student in students}
    jobs = max(1, min(jobs or os.cpu_count() or 1, max(len(todo), 1)))
    done, costs = 0, {}
    if todo:
        work = grade_in_parallel(assignment, plan, level, jobs, [(s.name, s.submission) for s in todo])
        try:
            for name, result, cost in tqdm(work, total=len(todo), unit="submission", desc=f"grading {assignment}"):
                raw_results[name] = result
                costs[by_name[name].student_id] = cost
                # Kept at once, so an interrupted run resumes from here.
                ledger.record(name, by_name[name].key, json.dumps(result_to_dict(result)).encode(), {},
                              ledger.students.get(name, {}).get("row", {}), _about(by_name[name], stamp, level))
                ledger.save()
                done += 1
        except KeyboardInterrupt:
            work.close()
            print(f"\ninterrupted: {done} of {len(todo)} graded — run the same command to resume",
                  file=sys.stderr)
            return 130

    extra = {"fingerprint": stamp}
    rows, problems = [], []
    for student in students:
        raw = raw_results[student.name]
        result, trouble = _final(student, raw, assignment, policy, overrides)
        problems += trouble
        files, row = _outputs(student, assignment, result, extra, policy.checks_hidden_until_due(assignment))
        if student.problem and student.problem[0] == "invalid_student_id":
            files = {}  # its folder name is one of the grader's own outputs
        ledger.record(student.name, student.key, json.dumps(result_to_dict(raw)).encode(), files, row,
                      _about(student, stamp, level))
        rows.append(row)
    ledger.save()
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    _write_class_outputs(ledger, assignment, rows, level, plan)
    changes = _changes(previous, ledger, students)
    _write_changes(ledger, changes)
    _report_costs(out, costs)
    for relative in ledger.verify():
        print(f"warning: {out / relative} was changed during grading; it was rewritten", file=sys.stderr)
    graded = [row for row in rows if row["status"] == "graded"]
    mean = sum(row["score"] for row in graded) / len(graded) if graded else float("nan")
    print(f"wrote {out / 'grades.csv'}: {len(graded)} graded, {len(rows) - len(graded)} not gradable, "
          f"mean score {mean:.2f}")
    return 0


def _about(student: Student, stamp: str, level) -> dict:
    digest = student.submission.digest if student.submission is not None else repr(student.problem)
    return {"digest": digest, "fingerprint": stamp, "isolation": level.note}


def _write_changes(ledger: Ledger, changes: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["student_id", "previous", "score", "change", "why"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in changes)
    ledger.write("changes.csv", buffer.getvalue())
    if changes:
        up, down = sum(c["change"] > 0 for c in changes), sum(c["change"] < 0 for c in changes)
        print(f"{len(changes)} scores changed since the last run ({up} up, {down} down; see changes.csv):")
        for change in changes[:10]:
            print(f"  {change['student_id']}: {change['previous']} -> {change['score']} ({change['why']})")


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


def _write_class_outputs(ledger: Ledger, assignment: str, rows: list[dict], level, plan) -> None:
    from autograder import class_report

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
    summary = class_report.class_summary(results)
    hints = class_report.hints_fired(results, {name: [mistake for mistake, _ in known]
                                                        for name, known in plan.mistakes.items()})
    final, others = class_report.scores(results)
    table = summary.assign(isolation=level.note)
    ledger.write(f"summary_{assignment}.csv", table.to_csv(index=False))
    title = f"{assignment}: {len(results)} students"
    if not level.strong:
        title += " — WEAK ISOLATION: these results carry no guarantee"
    figure = class_report.plot(summary, final, plan.max_score, title)
    ledger.write(f"summary_{assignment}.png", figure)
    ledger.write(f"summary_{assignment}.html",
                 class_report.html_page(assignment, summary, hints, final, others, figure, level.note))


# -- the other commands ----------------------------------------------------------------------------------------


def import_command(source: Path, assignment: str, to: Path, roster_path: Path | None,
                   policy_path: Path | None) -> int:
    _check_assignment(assignment)
    from autograder.intake import Roster, import_submissions
    from autograder.policy import Policy, PolicyError

    try:
        roster = Roster.read(roster_path) if roster_path else None
        zone = Policy.read(policy_path).zone
        report = import_submissions(source, assignment, to, roster, zone)
    except (ValueError, OSError, PolicyError) as error:
        raise UsageError(str(error)) from None
    write_atomically(Path(to) / f"import_{assignment}.csv", report.csv())
    print(f"imported {len(report.imported)} submissions of {assignment} into {to} "
          f"(report: {Path(to) / f'import_{assignment}.csv'})")
    for row in report.rows:
        if row["status"] not in ("imported", "older_submission"):
            print(f"could not import {row['found']}: {row['status']} {row['matched_by']}".rstrip(), file=sys.stderr)
    if report.unmatched:
        print(f"{len(report.unmatched)} submissions matched nobody in the roster: add them to it and import "
              "again", file=sys.stderr)
    return 0


def mutants_command(assignment: str, out: Path, jobs: int | None, size: int | None, allow_weak: bool) -> int:
    _check_assignment(assignment)
    from collections import Counter

    from autograder.mutants import equivalent_mutants, generate
    from autograder.mutation_report import kill_rate, run_mutants, sample, summary, write_report
    from autograder.reference import BrokenReference
    from autograder.sandbox import IsolationUnavailable, isolation

    try:
        level = isolation(allow_weak)
    except IsolationUnavailable as error:
        raise UsageError(f"cannot grade safely here: {error} (or pass --allow-weak-isolation)") from None
    try:
        equivalent_mutants(assignment)  # a malformed list stops the run before any grading
        generated = generate(assignment)
        started = time.monotonic()
        outcomes = run_mutants(assignment, sample(generated, size), jobs or os.cpu_count() or 1, level)
    except (BrokenReference, ValueError) as error:
        raise UsageError(str(error)) from None
    seconds = time.monotonic() - started
    try:
        write_report(out, assignment, outcomes, generated, seconds, level.note)
    except OSError as error:
        raise UsageError(f"cannot write the report into {out}: {error.strerror or error}") from None
    counts = summary(outcomes)
    total = sum(counts.values(), Counter())
    print(f"{'function':<22}{'mutants':>8}{'killed':>8}{'timeout':>8}{'equiv.':>8}{'survived':>9}")
    for function, tally in [*counts.items(), ("all", total)]:
        print(f"{function:<22}{sum(tally.values()):>8}{tally['killed']:>8}{tally['timeout']:>8}"
              f"{tally['equivalent']:>8}{tally['survived']:>9}")
    print(f"{assignment}: {kill_rate(total):.1%} of the non-equivalent mutants lost points ({seconds:.0f} s); "
          f"wrote {out / 'mutants.csv'} and {out / 'mutants.html'}")
    wrongly_listed = [item.mutant.key for item in outcomes if item.listed and item.status != "equivalent"]
    for key in wrongly_listed:
        print(f"warning: listed as equivalent but it loses points: {key}", file=sys.stderr)
    return 0 if total["survived"] == 0 and not wrongly_listed else 1


def similarity_command(submissions: Path, assignment: str, out: Path, top: int) -> int:
    _check_assignment(assignment)
    check_layout(submissions, assignment)
    from autograder.reference import ROOT, _cells, _source
    from autograder.similarity import compare, own_code, write_report

    source_cells = _cells(assignment, ROOT)
    release_ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in source_cells
                   if c.get("metadata", {}).get("nbgrader", {}).get("locked")}
    release = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    starter = [_source(c) for c in release["cells"] if c["cell_type"] == "code"]
    codes = {s.student_id: own_code(s.submission.cells, release_ids)
             for s in discover(submissions, assignment) if s.submission is not None}
    started = time.perf_counter()
    comparison = compare(codes, starter)
    index = write_report(comparison, out, top)
    print(f"compared {len(codes)} students ({len(comparison.pairs)} pairs share code) in "
          f"{time.perf_counter() - started:.1f} s; report: {index}")
    for row in comparison.pairs.head(5).itertuples():
        print(f"  {row.rank}. {row.student_a} and {row.student_b}: {row.similarity:.0%}")
    return 0


def export_command(graded: Path, assignment: str, to: str, roster_path: Path | None, dest: Path | None,
                   name: str | None, canvas_id: str, db_url: str) -> int:
    _check_assignment(assignment)
    from autograder import export
    from autograder.intake import Roster

    try:
        if to == "nbgrader":
            missing = export.to_nbgrader(graded, assignment, db_url)
            print(f"wrote {assignment}'s scores into nbgrader's gradebook ({db_url})")
        else:
            if roster_path is None:
                raise UsageError(f"exporting to {to} needs --roster (to find each student's {to} identity)")
            roster, grades = Roster.read(roster_path), export.read_grades(graded)
            text, missing = (export.canvas_csv(grades, roster, name or assignment, canvas_id) if to == "canvas"
                             else export.moodle_csv(grades, roster, name or assignment))
            target = dest or Path(graded) / f"{to}_{assignment}.csv"
            write_atomically(target, text)
            print(f"wrote {target}: {len(grades) - len(missing)} students")
    except (ValueError, OSError) as error:
        raise UsageError(str(error)) from None
    if missing:
        print(f"not exported (not in the roster, or without a {to} identity): {', '.join(missing)}",
              file=sys.stderr)
    return 0


def grade_one_command(notebook: Path, assignment: str, results: Path, allow_weak: bool = False) -> int:
    _check_assignment(assignment)
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


def _course_file(value: Path | None, default: str) -> Path | None:
    """An explicitly given course file, or the default one in the working folder if it exists."""
    if value is not None:
        if not value.is_file():
            raise UsageError(f"{value} does not exist")
        return value
    return Path(default) if Path(default).is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    weak = {"action": "store_true", "help": "grade even where student code cannot be isolated (every output "
                                            "then says so); never use this for untrusted submissions"}
    importing = commands.add_parser("import", help="bring submissions from an LMS or nbgrader into nbgrader's layout")
    importing.add_argument("source", type=Path)
    importing.add_argument("--assignment", required=True)
    importing.add_argument("--to", type=Path, required=True)
    importing.add_argument("--roster", type=Path)
    importing.add_argument("--policy", type=Path, help="grading.toml (its timezone reads the LMS's times)")
    grade = commands.add_parser("grade", help="grade a folder of submissions (nbgrader layout)")
    grade.add_argument("submissions", type=Path)
    grade.add_argument("--assignment", required=True)
    grade.add_argument("--out", type=Path, required=True)
    grade.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    grade.add_argument("--force", action="store_true", help="regrade every student, even if up to date")
    grade.add_argument("--student", action="append", metavar="ID",
                       help="regrade this student even if up to date (repeatable); the others resume as usual")
    grade.add_argument("--policy", type=Path, help="due dates and late policy (default: ./grading.toml)")
    grade.add_argument("--overrides", type=Path, help="TAs' corrections (default: ./overrides.csv)")
    grade.add_argument("--allow-weak-isolation", **weak)
    similar = commands.add_parser("similarity", help="rank pairs of students by how alike their code is")
    similar.add_argument("submissions", type=Path)
    similar.add_argument("--assignment", required=True)
    similar.add_argument("--out", type=Path, required=True)
    similar.add_argument("--top", type=int, default=20, help="pairs shown side by side")
    exporting = commands.add_parser("export", help="write the final scores for Canvas, Moodle or nbgrader")
    exporting.add_argument("graded", type=Path)
    exporting.add_argument("--assignment", required=True)
    exporting.add_argument("--to", choices=("canvas", "moodle", "nbgrader"), required=True)
    exporting.add_argument("--roster", type=Path)
    exporting.add_argument("--dest", type=Path)
    exporting.add_argument("--name", help="the assignment's name in the LMS (default: its id)")
    exporting.add_argument("--canvas-assignment-id", default="", help="Canvas's id of the assignment")
    exporting.add_argument("--db", default="sqlite:///gradebook.db", help="nbgrader's gradebook")
    one = commands.add_parser("grade-one", help="grade one notebook into a results.json")
    one.add_argument("notebook", type=Path)
    one.add_argument("--assignment", required=True)
    one.add_argument("--results", type=Path, required=True)
    one.add_argument("--allow-weak-isolation", **weak)
    mutating = commands.add_parser("mutants", help="measure the graders: grade every mutant of the reference")
    mutating.add_argument("assignment")
    mutating.add_argument("--out", type=Path, required=True)
    mutating.add_argument("--jobs", type=int, default=None, help="parallel graders (default: all cores)")
    mutating.add_argument("--sample", type=int, default=None, metavar="N",
                          help="grade only N mutants, spread evenly over every function")
    mutating.add_argument("--allow-weak-isolation", **weak)
    bundle = commands.add_parser("gradescope", help="build a Gradescope autograder bundle")
    bundle.add_argument("assignment")
    bundle.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return import_command(args.source, args.assignment, args.to, args.roster,
                                  _course_file(args.policy, "grading.toml"))
        if args.command == "grade":
            if args.jobs is not None and args.jobs < 1:
                raise UsageError("--jobs must be at least 1")
            return grade_command(args.submissions, args.assignment, args.out, args.jobs, args.force, args.student,
                                 args.allow_weak_isolation, _course_file(args.policy, "grading.toml"),
                                 _course_file(args.overrides, "overrides.csv"))
        if args.command == "similarity":
            return similarity_command(args.submissions, args.assignment, args.out, args.top)
        if args.command == "export":
            return export_command(args.graded, args.assignment, args.to, args.roster, args.dest, args.name,
                                  args.canvas_assignment_id, args.db)
        if args.command == "grade-one":
            return grade_one_command(args.notebook, args.assignment, args.results, args.allow_weak_isolation)
        if args.command == "mutants":
            for option in ("jobs", "sample"):
                if getattr(args, option) is not None and getattr(args, option) < 1:
                    raise UsageError(f"--{option} must be at least 1")
            return mutants_command(args.assignment, args.out, args.jobs, args.sample, args.allow_weak_isolation)
        from autograder.gradescope import build_bundle

        _check_assignment(args.assignment)
        path = build_bundle(args.assignment, args.out)
        print(f"wrote {path}")
        return 0
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted — run the same command to resume", file=sys.stderr)
        return 130
