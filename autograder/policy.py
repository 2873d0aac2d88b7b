"""The course's grading policy as configuration: due dates, late penalties, extensions, overrides.

``grading.toml`` (in the folder the grader runs from, or ``--policy FILE``)::

    [course]
    timezone = "Europe/Zurich"          # how dates without an offset are read (default UTC)

    [late]
    grace_minutes = 15                  # submissions this late count as on time
    penalty_per_day = 0.10              # of the maximum score, per started day late
    max_penalty = 0.50                  # the penalty never exceeds this share
    refuse_after_days = 7               # later than this: not graded, 0 (leave out to accept all)

    [assignments.ks_drift]
    due = "2024-10-01 23:59"
    show_checks_before_due = false      # Gradescope shows check names only after the due date

    [extensions]
    alice = { ks_drift = "2024-10-03 23:59" }

``overrides.csv`` (likewise; ``--overrides FILE``) holds the TAs' hand corrections,
applied on every run and shown in the feedback with their comment::

    student,assignment,target,points,adjustment,comment,who
    alice,ks_drift,ks_statistic,,+0.5,"ties handled correctly; the check was ambiguous",Kim
    bob,mcnemar,*,8,,"regraded after office hours",Lee

``target`` is a graded function, ``function: check name``, or ``*`` for the
total; ``points`` sets the score, ``adjustment`` adds to it (one of the two).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from autograder.intake import parse_timestamp

OVERRIDE_COLUMNS = ("student", "assignment", "target", "points", "adjustment", "comment", "who")


class PolicyError(ValueError):
    """The policy or the overrides file is not usable (one line naming the file and the problem)."""


@dataclass(frozen=True)
class Lateness:
    """How late one submission was, and what it costs."""

    due: dt.datetime | None = None
    submitted: dt.datetime | None = None
    days_late: int = 0
    penalty_share: float = 0.0
    refused: bool = False
    extended: bool = False

    def describe(self) -> str:
        if self.due is None or self.submitted is None:
            return ""
        due = f"{'the extended due date, ' if self.extended else ''}{self.due:%Y-%m-%d %H:%M %Z}"
        if not self.days_late:
            return f"Submitted {self.submitted:%Y-%m-%d %H:%M %Z}, on time (due {due})."
        text = (f"Submitted {self.submitted:%Y-%m-%d %H:%M %Z}, {self.days_late} day(s) after {due}")
        if self.refused:
            return text + ": later than the course accepts, so it is not graded."
        return text + f": a late penalty of {self.penalty_share:.0%} of the maximum score."


@dataclass
class Policy:
    """Due dates, the late rule and extensions, read from ``grading.toml``."""

    zone: dt.tzinfo = dt.UTC
    grace: dt.timedelta = dt.timedelta(0)
    penalty_per_day: float = 0.0
    max_penalty: float = 1.0
    refuse_after_days: float | None = None
    due: dict[str, dt.datetime] = field(default_factory=dict)
    checks_before_due: dict[str, bool] = field(default_factory=dict)
    extensions: dict[tuple[str, str], dt.datetime] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path | None) -> Policy:
        """The policy in ``path``; no file means no due dates (and so no late penalties)."""
        if path is None or not Path(path).is_file():
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            zone = zoneinfo.ZoneInfo(data.get("course", {}).get("timezone", "UTC"))
            late = data.get("late", {})
            policy = cls(zone=zone, grace=dt.timedelta(minutes=float(late.get("grace_minutes", 0))),
                         penalty_per_day=float(late.get("penalty_per_day", 0.0)),
                         max_penalty=float(late.get("max_penalty", 1.0)),
                         refuse_after_days=(float(late["refuse_after_days"]) if "refuse_after_days" in late
                                            else None))
            for assignment, settings in data.get("assignments", {}).items():
                if "due" in settings:
                    policy.due[assignment] = policy._date(settings["due"], f"assignments.{assignment}.due")
                policy.checks_before_due[assignment] = bool(settings.get("show_checks_before_due", True))
            for student, dates in data.get("extensions", {}).items():
                for assignment, when in dates.items():
                    policy.extensions[(str(student), assignment)] = policy._date(
                        when, f"extensions.{student}.{assignment}")
        except (tomllib.TOMLDecodeError, zoneinfo.ZoneInfoNotFoundError, TypeError, ValueError, AttributeError) \
                as error:
            raise PolicyError(f"{path}: {error}") from None
        if not 0 <= policy.penalty_per_day <= 1 or not 0 <= policy.max_penalty <= 1:
            raise PolicyError(f"{path}: penalty_per_day and max_penalty are shares between 0 and 1")
        return policy

    def _date(self, value, where: str) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=self.zone)
        when = parse_timestamp(str(value).replace("T", " ") + (":00" if str(value).count(":") == 1 else ""),
                               self.zone)
        if when is None:
            raise ValueError(f"{where} = {value!r} is not a date and time (write e.g. \"2024-10-01 23:59\")")
        return when

    def lateness(self, student: str, assignment: str, submitted: dt.datetime | None) -> Lateness:
        """How late ``student``'s submission was, under the due date or their extension."""
        extended = (student, assignment) in self.extensions
        due = self.extensions.get((student, assignment), self.due.get(assignment))
        if due is None or submitted is None:
            return Lateness(due, submitted, extended=extended)
        late = submitted - due - self.grace
        if late <= dt.timedelta(0):
            return Lateness(due, submitted, extended=extended)
        days = math.ceil(late / dt.timedelta(days=1))
        refused = self.refuse_after_days is not None and late > dt.timedelta(days=self.refuse_after_days)
        share = 1.0 if refused else min(self.max_penalty, days * self.penalty_per_day)
        return Lateness(due, submitted, days, share, refused, extended)

    def checks_hidden_until_due(self, assignment: str) -> bool:
        return assignment in self.due and not self.checks_before_due.get(assignment, True)


@dataclass(frozen=True)
class Override:
    """A TA's hand correction of one student's score."""

    student: str
    assignment: str
    target: str
    points: float | None
    adjustment: float | None
    comment: str
    who: str

    def describe(self) -> str:
        change = f"set to {self.points:g}" if self.points is not None else f"{self.adjustment:+g} points"
        target = "total score" if self.target == "*" else self.target
        return f"{target}: {change} by {self.who or 'your TA'} — {self.comment}"


def read_overrides(path: Path | None) -> list[Override]:
    """The overrides in ``path`` (none if there is no such file)."""
    if path is None or not Path(path).is_file():
        return []
    with Path(path).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("student", "assignment", "target") if c not in (reader.fieldnames or [])]
        if missing:
            raise PolicyError(f"{path}: missing column(s) {missing}; the columns are {', '.join(OVERRIDE_COLUMNS)}")
        overrides = []
        for line, row in enumerate(reader, start=2):
            points, adjustment = (row.get("points") or "").strip(), (row.get("adjustment") or "").strip()
            if bool(points) == bool(adjustment):
                raise PolicyError(f"{path}, line {line}: give either points or adjustment, not "
                                  f"{'both' if points else 'neither'}")
            try:
                value = float(points or adjustment)
            except ValueError:
                raise PolicyError(f"{path}, line {line}: {points or adjustment!r} is not a number") from None
            if not math.isfinite(value):
                raise PolicyError(f"{path}, line {line}: {points or adjustment!r} is not a number")
            overrides.append(Override(row["student"].strip(), row["assignment"].strip(), row["target"].strip(),
                                      value if points else None, value if adjustment else None,
                                      (row.get("comment") or "").strip(), (row.get("who") or "").strip()))
    return overrides


def apply_overrides(result, overrides: list[Override]) -> list[str]:
    """Apply one student's overrides to ``result`` in place; return the problems (unknown targets)."""
    problems = []
    for override in overrides:
        function_name, _, check_name = override.target.partition(":")
        function = result.functions.get(function_name.strip())
        if override.target == "*":
            if override.points is not None:
                result.total_override = override.points
            else:
                result.total_adjustment += override.adjustment
        elif function is not None and not check_name:
            if override.points is not None:
                function.override = override.points
            else:
                function.adjustment += override.adjustment
        elif function is not None:
            check = next((c for c in function.checks if c.name == check_name.strip()), None)
            if check is None:
                problems.append(f"no check {check_name.strip()!r} in {function.name}")
                continue
            check.score = override.points if override.points is not None else check.score + override.adjustment
            check.score = min(max(check.score, 0.0), check.max_score)
            check.passed = check.score >= check.max_score
        else:
            problems.append(f"no graded function {function_name.strip()!r}")
            continue
        result.overrides.append(override.describe())
    return problems
