"""What a graded submission scored, and the rules that turn check outcomes into points.

Plain dataclasses, kept by the ledger as plain data (:func:`result_to_dict`),
so a re-run need not grade a submission again. The rules:

* a check earns its points only when all of its cases pass;
* a function that calls what its assignment forbids scores 0;
* raising ``ValueError`` for bad input earns its points only from a function
  that answers at least one valid input correctly (a function that raises for
  everything has not validated anything);
* a TA's override or adjustment, then the late penalty, come last.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


def clamp(value: float, maximum: float) -> float:
    return round(min(max(value, 0.0), maximum), 6)


@dataclass
class CheckResult:
    """The outcome of one check.

    ``contract`` is the check's sentence; ``agreed`` counts the valid inputs
    (those not meant to raise) the function answered correctly;
    ``validation`` marks a check whose every case must raise; ``mistake``
    names the known mistake that explains a failure; ``stub`` says that every
    answer was the release's ``NotImplementedError``.
    """

    name: str
    passed: bool
    score: float
    max_score: float
    feedback: str = ""
    violation: bool = False
    mistake: str | None = None
    stub: bool = False
    contract: str = ""
    agreed: int = 0
    validation: bool = False


@dataclass
class FunctionResult:
    """The outcome of one graded function; ``override``/``adjustment`` are a TA's corrections."""

    name: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    override: float | None = None
    adjustment: float = 0.0

    @property
    def score(self) -> float:
        graded = 0.0 if self.problem else sum(c.score for c in self.checks)
        return clamp((graded if self.override is None else self.override) + self.adjustment, self.max_score)

    @property
    def attempted(self) -> bool:
        """False for a function left as the release's stub (or not defined at all)."""
        if self.problem and "is not defined" in self.problem:
            return False
        return not self.checks or not all(check.stub for check in self.checks)


def settle(function: FunctionResult) -> None:
    """Apply the rules that look at a function's checks together (see the module docstring)."""
    violation = next((check for check in function.checks if check.violation), None)
    if violation is not None and not function.problem:
        function.problem = f"scores 0: {violation.feedback.splitlines()[0]}"
    answers_something = any(check.agreed for check in function.checks if not check.validation)
    if answers_something:
        return
    for check in function.checks:
        if check.validation and check.passed:
            check.passed, check.score = False, 0.0
            check.feedback = ("Raising ValueError for bad input earns these points once the function also "
                              "answers some valid input correctly; it answered none.")


@dataclass
class SubmissionResult:
    """Everything known about one graded submission.

    ``raw_score`` is what the checks gave; ``score`` adds the TA's overrides and
    subtracts the late penalty (``lateness``, see :mod:`autograder.policy`).
    """

    assignment: str
    status: str
    max_score: float
    functions: dict[str, FunctionResult] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    isolation: str = ""
    raw_score: float = 0.0
    overrides: list[str] = field(default_factory=list)
    total_override: float | None = None
    total_adjustment: float = 0.0
    lateness: Any = None

    @property
    def late_penalty(self) -> float:
        if self.lateness is None or self.status != "graded":
            return 0.0
        return round(self.max_score * self.lateness.penalty_share, 6)

    @property
    def score(self) -> float:
        total = sum(f.score for f in self.functions.values())
        total = self.total_override if self.total_override is not None else total + self.total_adjustment
        if self.lateness is not None and self.lateness.refused:
            return 0.0
        return clamp(total - self.late_penalty, self.max_score)

    @property
    def feedback(self) -> str:
        from autograder.report import feedback_text

        return feedback_text(self)


def ungraded(assignment, isolation_note: str, status: str, message: str) -> SubmissionResult:
    """A zero result for a submission that could not be graded at all, saying why.

    ``assignment`` is an :class:`autograder.assignments.Assignment`.
    """
    result = SubmissionResult(assignment.id, status, assignment.max_score, messages=[message],
                              isolation=isolation_note)
    for name, points in assignment.points.items():
        result.functions[name] = FunctionResult(name, points, problem="not graded")
    return result


def result_to_dict(result: SubmissionResult) -> dict:
    """A submission's result as plain data (kept by the ledger, so a re-run need not grade it again)."""
    data = dataclasses.asdict(result)
    data["lateness"] = None
    return data


def result_from_dict(data: dict) -> SubmissionResult:
    """The inverse of :func:`result_to_dict`."""
    functions = {name: FunctionResult(**{**function, "checks": [CheckResult(**c) for c in function["checks"]]})
                 for name, function in data["functions"].items()}
    return SubmissionResult(**{**data, "functions": functions})
