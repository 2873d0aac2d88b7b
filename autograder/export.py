"""Grades out, in the formats TAs upload.

``python -m autograder export GRADED --assignment ID --to canvas|moodle|nbgrader [--roster roster.csv] [--dest FILE]``
reads ``GRADED/grades.csv`` (the final scores: overrides and late penalties included) and writes:

``canvas``
    Canvas's gradebook CSV: ``Student, ID, SIS User ID, SIS Login ID, Section`` and one
    column for the assignment (named ``<name> (<Canvas assignment id>)`` when the id
    is given, so Canvas updates that assignment), after Canvas's "Points Possible" row.
    Students are matched by the roster's ``canvas_id``.
``moodle``
    Moodle's grade import CSV: ``Email address, ID number``, the grade item's column and
    a feedback column; in Moodle, map "Email address" to the user's email.
``nbgrader``
    The scores into nbgrader's gradebook (``gradebook.db``), function by function on the
    hidden test cells, so formgrader shows what the students' feedback says.

A student the roster does not know is reported, not guessed.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from autograder.intake import Roster

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["Email address", "ID number"]


def read_grades(graded: Path) -> list[dict[str, str]]:
    """The rows of ``graded/grades.csv``."""
    path = Path(graded) / "grades.csv"
    if not path.is_file():
        raise ValueError(f"{path} does not exist: grade the assignment first")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _student_id(row: dict[str, str]) -> str:
    # grades.csv quotes ids that a spreadsheet would read as formulas.
    value = row["student_id"]
    return value[1:] if value[:2] in ("'=", "'+", "'-", "'@") else value


def _roster_rows(roster: Roster) -> dict[str, dict[str, str]]:
    return {row["student_id"].strip(): row for row in roster.rows}


def canvas_csv(grades: list[dict[str, str]], roster: Roster, assignment_name: str,
               canvas_assignment_id: str = "") -> tuple[str, list[str]]:
    """Canvas's gradebook import CSV, and the students it could not place."""
    column = f"{assignment_name} ({canvas_assignment_id})" if canvas_assignment_id else assignment_name
    people, missing = _roster_rows(roster), []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*CANVAS_COLUMNS, column])
    writer.writerow(["    Points Possible", "", "", "", "", grades[0]["max_score"] if grades else ""])
    for row in grades:
        person = people.get(_student_id(row))
        if person is None or not (person.get("canvas_id") or person.get("sis_user_id")):
            missing.append(_student_id(row))
            continue
        writer.writerow([person.get("name", ""), person.get("canvas_id", ""), person.get("sis_user_id", ""),
                         person.get("sis_login_id", ""), person.get("section", ""), row["score"]])
    return buffer.getvalue(), missing


def moodle_csv(grades: list[dict[str, str]], roster: Roster, item_name: str) -> tuple[str, list[str]]:
    """Moodle's grade import CSV (identified by email), and the students it could not place."""
    people, missing = _roster_rows(roster), []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*MOODLE_COLUMNS, item_name, f"Feedback for {item_name}"])
    for row in grades:
        person = people.get(_student_id(row))
        if person is None or not person.get("email"):
            missing.append(_student_id(row))
            continue
        note = "" if row["status"] == "graded" else f"not graded: {row['status']}"
        writer.writerow([person["email"], person.get("sis_user_id", ""), row["score"], note])
    return buffer.getvalue(), missing


def to_nbgrader(graded: Path, assignment: str, db_url: str) -> list[str]:
    """Write every student's points into nbgrader's gradebook; return the students it could not place.

    Each hidden test cell ``test_<function>`` gets that function's points as its
    autograder score (the students' and the TA's overrides included); a late
    penalty goes to the notebook's late penalty. nbgrader must know the
    assignment (``nbgrader generate_assignment`` puts it in the gradebook).
    """
    import json

    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(db_url) as gradebook:
        try:
            known = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(f"nbgrader's gradebook ({db_url}) has no assignment {assignment!r}: run "
                             f"nbgrader generate_assignment {assignment} first") from None
        if not known.notebooks:
            raise ValueError(f"nbgrader's gradebook knows no notebook of {assignment!r}")
        for row in read_grades(graded):
            student = _student_id(row)
            results = Path(graded) / student / assignment / "results.json"
            if not results.is_file():
                missing.append(student)
                continue
            data = json.loads(results.read_text(encoding="utf-8"))
            gradebook.update_or_create_student(student)
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                submission = gradebook.add_submission(assignment, student)
            extra = data.get("extra_data", {})
            functions = extra.get("functions", {})
            late = float(extra.get("late_penalty", 0.0))
            # A TA's override of the total rides on the first cell as extra credit, so the totals agree.
            difference = float(data["score"]) + late - sum(float(f["score"]) for f in functions.values())
            for notebook_submission in submission.notebooks:
                for number, grade in enumerate(notebook_submission.grades):
                    function = grade.name.removeprefix("test_")
                    if function in functions:
                        grade.auto_score = float(functions[function]["score"])
                        grade.needs_manual_grade = False
                    grade.extra_credit = round(difference, 6) if number == 0 and abs(difference) > 1e-9 else None
                notebook_submission.late_submission_penalty = late or None
        gradebook.db.commit()
    return missing
