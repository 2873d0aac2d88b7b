"""Grade one submission: read it, run every check in the sandbox, score it.

The pieces, each in its own module:

* :mod:`autograder.plan` -- inputs and reference answers, once per assignment;
* :mod:`autograder.run` -- the sandboxed children and the student's functions
  as the checks call them;
* :mod:`autograder.diagnosis` -- what a failure tells the student;
* :mod:`autograder.scoring` -- results and the rules that make them points.

:class:`Grader` runs the checks directly, in notebook order; the pytest plugin
(:mod:`autograder.pytest_plugin`) runs the same check functions through pytest
with the same :class:`~autograder.run.Session`, so both give the same points.
"""

from __future__ import annotations

from pathlib import Path

from autograder.plan import SEED, Plan
from autograder.reference import BrokenReference
from autograder.run import CALL_TIMEOUT, CELL_TIMEOUT, MAX_FAILURES, SUBMISSION_BYTES, SUBMISSION_SECONDS, Session
from autograder.sandbox import Isolation, Sandbox
from autograder.sandbox import isolation as strongest_isolation
from autograder.scoring import (
    CheckResult,
    FunctionResult,
    SubmissionResult,
    result_from_dict,
    result_to_dict,
    settle,
)
from autograder.scoring import ungraded as _ungraded
from autograder.submission import Submission, SubmissionProblem, read_submission


class Grader:
    """Grades submissions of one assignment; reuse it for many submissions.

    Parameters
    ----------
    assignment : str
        The assignment id.
    plan : Plan, optional
        Built once and shared (the CLI builds it before forking its workers).
    isolation : Isolation, optional
        Defaults to :func:`autograder.sandbox.isolation`, which refuses to run
        without the strong sandbox.

    Examples
    --------
    >>> with Grader("mcnemar") as grader:                      # doctest: +SKIP
    ...     print(grader.grade(Path("alice/mcnemar.ipynb")).score)
    10.0
    """

    def __init__(self, assignment: str, plan: Plan | None = None, isolation: Isolation | None = None) -> None:
        self.plan = plan or Plan(assignment)
        self.assignment = assignment
        self.isolation = isolation or strongest_isolation()
        self.sandbox = Sandbox(self.isolation)
        self.other = Sandbox(self.isolation, hash_seed=1)

    def close(self) -> None:
        self.sandbox.close()
        self.other.close()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ungraded(self, status: str, message: str) -> SubmissionResult:
        """A zero result for a submission that could not be graded at all, saying why."""
        return ungraded(self.plan, self.isolation, status, message)

    def grade(self, path: Path) -> SubmissionResult:
        """Read and grade one notebook file."""
        try:
            return self.grade_submission(read_submission(Path(path), self.assignment))
        except SubmissionProblem as problem:
            return self.ungraded(problem.status, problem.message)

    def session(self, submission: Submission) -> Session:
        """A fresh session for ``submission``, with its cells loaded and signatures checked."""
        result = SubmissionResult(self.assignment, "graded", self.plan.max_score, isolation=self.isolation.note)
        for name, points in self.plan.spec.points.items():
            result.functions[name] = FunctionResult(name, points)
        result.messages += submission.messages
        self.sandbox.reset()
        self.other.reset()
        session = Session(self.plan, self.sandbox, self.other, submission.cells, result)
        session.check_signatures()
        return session

    def grade_submission(self, submission: Submission) -> SubmissionResult:
        """Grade a submission already read into memory: every check, in notebook order."""
        session = self.session(submission)
        try:
            for name, checks in self.plan.checks.items():
                function = session.result.functions[name]
                if not function.problem:
                    function.checks = [session.run(check_function) for check_function in checks]
                settle(function)
        finally:
            session.finish()
            self.sandbox.reset()
            self.other.reset()
        session.result.raw_score = session.result.score
        return session.result


def ungraded(plan: Plan, isolation: Isolation, status: str, message: str) -> SubmissionResult:
    """A zero result for a submission that could not be graded at all, saying why."""
    return _ungraded(plan.spec, isolation.note, status, message)


def grade_notebook(path: Path, assignment: str) -> SubmissionResult:
    """Grade one notebook (convenience for tests and scripts; reuse a Grader for many)."""
    with Grader(assignment) as grader:
        return grader.grade(Path(path))


__all__ = ["CALL_TIMEOUT", "CELL_TIMEOUT", "MAX_FAILURES", "SEED", "SUBMISSION_BYTES", "SUBMISSION_SECONDS",
           "BrokenReference", "CheckResult", "FunctionResult", "Grader", "Plan", "SubmissionResult",
           "grade_notebook", "result_from_dict", "result_to_dict", "ungraded"]
