"""Grade one submission: run it in the sandbox, compare with the reference, explain.

The trusted side of the protocol described in :mod:`autograder.sandbox`:

1. :class:`Plan` builds every check's inputs from a fixed seed and computes the
   reference's answers here, once per assignment (not once per submission);
2. :class:`Grader` runs a submission's cells in a fresh sandboxed child and asks
   it for the student's answers to the same inputs -- plain data only;
3. the answers are compared here, so nothing the student's code does to
   itself (lying ``__eq__``, patched NumPy, printed "all tests passed") can
   change a score.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import ASSIGNMENTS, plain
from autograder.checks import Case, Check, FunctionSpec, Raised, Raises, same, show, show_case
from autograder.reference import load_reference
from autograder.sandbox import Sandbox, SandboxError, isolation_note
from autograder.submission import SubmissionProblem, read_submission

SEED = 20241127
CALL_TIMEOUT = 5.0     # seconds per call of a student function
CELL_TIMEOUT = 10.0    # seconds per notebook cell


@dataclass
class CheckResult:
    """The outcome of one check group."""

    name: str
    passed: bool
    score: float
    max_score: float
    feedback: str = ""
    violation: bool = False


@dataclass
class FunctionResult:
    """The outcome of one graded function."""

    name: str
    max_score: float
    checks: list[CheckResult] = field(default_factory=list)
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return 0.0 if self.problem else round(sum(c.score for c in self.checks), 6)


@dataclass
class SubmissionResult:
    """Everything known about one graded submission."""

    assignment: str
    status: str
    max_score: float
    functions: dict[str, FunctionResult] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    isolation: str = ""

    @property
    def score(self) -> float:
        return round(sum(f.score for f in self.functions.values()), 6)

    @property
    def feedback(self) -> str:
        from autograder.report import feedback_text

        return feedback_text(self)


@dataclass
class PlannedCheck:
    check: Check
    cases: list[Case]
    encoded: list[dict]
    expected: list[Any]


class Plan:
    """Inputs and reference answers of every check of an assignment."""

    def __init__(self, assignment: str, seed: int = SEED) -> None:
        if assignment not in ASSIGNMENTS:
            raise ValueError(f"unknown assignment {assignment!r}; expected one of {sorted(ASSIGNMENTS)}")
        self.assignment = assignment
        self.reference = load_reference(assignment)
        module = importlib.import_module(f"autograder.checks.{assignment}")
        self.functions: list[FunctionSpec] = module.FUNCTIONS
        factories = getattr(module, "MISTAKE_FACTORIES", {})
        self.mistakes = {spec.name: [*spec.mistakes, *factories.get(spec.name, lambda _: [])(self.reference)]
                         for spec in self.functions}
        self.checks: dict[str, list[PlannedCheck]] = {}
        for number, spec in enumerate(self.functions):
            planned = []
            for index, check in enumerate(spec.checks):
                rng = np.random.default_rng([seed, number, index])
                cases = check.cases(rng)
                expected = [self._expect(spec, check, case) for case in cases]
                encoded = [{"args": plain.encode(list(case.args)), "kwargs": plain.encode(case.kwargs)}
                           for case in cases]
                planned.append(PlannedCheck(check, cases, encoded, expected))
            self.checks[spec.name] = planned
            self._mine(spec, number, seed)

    @property
    def max_score(self) -> float:
        return sum(spec.points for spec in self.functions)

    def _mine(self, spec: FunctionSpec, number: int, seed: int, batches: int = 6, keep: int = 3) -> None:
        """Make sure every known mistake fails at least one case of the random check.

        Some mistakes show only on rare inputs (Benjamini-Hochberg stopping at the
        first failing rank needs a particular pattern of p-values). Further seeded
        batches of the random check are searched for inputs that expose each
        mistake still unexposed, and a few are added to that check.
        """
        value_checks = [p for p in self.checks[spec.name]
                        if p.check.property_check is None and p.check.expect is None]
        if not value_checks or not self.mistakes[spec.name]:
            return
        target = max(value_checks, key=lambda p: len(p.cases))
        for index, mistake in enumerate(self.mistakes[spec.name]):
            if any(_exposes(mistake, c, e) for p in value_checks for c, e in zip(p.cases, p.expected)):
                continue
            rng = np.random.default_rng([seed, number, 1000 + index])
            found = []
            for _ in range(batches):
                for case in target.check.cases(rng):
                    expected = self._expect(spec, target.check, case)
                    if _exposes(mistake, case, expected):
                        found.append((case, expected))
                if len(found) >= keep:
                    break
            for case, expected in found[:keep]:
                target.cases.append(case)
                target.expected.append(expected)
                target.encoded.append({"args": plain.encode(list(case.args)), "kwargs": plain.encode(case.kwargs)})

    def _expect(self, spec: FunctionSpec, check: Check, case: Case):
        if check.property_check is not None:
            return None
        if check.expect is not None:
            return check.expect(self.reference, case)
        try:
            return self.reference[spec.name](*case.args, **case.kwargs)
        except Exception as error:
            return Raises(type(error).__name__)

    def oracles(self, check: Check) -> dict:
        return {name: self.reference[name] for name in check.oracles}


def _credit_validation_only_when_working(function: FunctionResult, planned: list[PlannedCheck]) -> None:
    """A function that raises ValueError for everything must not collect the bad-input points."""
    is_error_check = [bool(p.expected) and all(isinstance(e, Raises) for e in p.expected) for p in planned]
    works = any(result.passed and result.max_score > 0 and not error
                for result, error in zip(function.checks, is_error_check))
    if works:
        return
    for result, error in zip(function.checks, is_error_check):
        if error and result.passed:
            result.passed, result.score = False, 0.0
            result.feedback = ("Raising ValueError for bad input earns these points only once the function also "
                               "answers correctly on valid input, and it fails every other check.")


def _exposes(mistake, case: Case, expected) -> bool:
    """Whether ``mistake`` gives a wrong answer on ``case``."""
    if isinstance(expected, Raises):
        return False
    try:
        return same(expected, mistake.implementation(*case.args, **case.kwargs)) is not None
    except Exception:  # a mistake that crashes here is exposed too
        return True


def _answer(message: dict):
    if "value" in message:
        try:
            return plain.decode(message["value"])
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError):
            return plain.Opaque("malformed value")
    if "timeout" in message:
        return Raised(("Timeout",), f"did not finish within {message['timeout']:g} s")
    error = message.get("error", {})
    types = error.get("types") or [str(error.get("type", "Error"))]
    return Raised(tuple(str(t) for t in types), str(error.get("message", "")))


class Grader:
    """Grades submissions of one assignment; reuse it for many submissions."""

    def __init__(self, assignment: str, plan: Plan | None = None) -> None:
        self.plan = plan or Plan(assignment)
        self.assignment = assignment
        self.sandbox = Sandbox()
        self.other = Sandbox(hash_seed=1)

    def close(self) -> None:
        self.sandbox.close()
        self.other.close()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one submission ------------------------------------------------------------------------

    def ungraded(self, status: str, message: str, isolation: str = "not run") -> SubmissionResult:
        """A zero result for a submission that could not be graded at all, saying why."""
        result = SubmissionResult(self.assignment, status, self.plan.max_score, messages=[message],
                                  isolation=isolation)
        for spec in self.plan.functions:
            result.functions[spec.name] = FunctionResult(spec.name, spec.points, problem="not graded")
        return result

    def grade(self, path: Path) -> SubmissionResult:
        try:
            submission = read_submission(Path(path), self.assignment)
        except SubmissionProblem as problem:
            return self.ungraded(problem.status, problem.message, isolation_note(self.sandbox.level))
        result = SubmissionResult(self.assignment, "graded", self.plan.max_score,
                                  isolation=isolation_note(self.sandbox.level))
        for spec in self.plan.functions:
            result.functions[spec.name] = FunctionResult(spec.name, spec.points)
        result.messages += submission.messages
        self.sandbox.reset()
        self.other.reset()
        children = _Children(self, submission.cells, result)
        try:
            signatures = children.signatures([spec.name for spec in self.plan.functions])
            for spec in self.plan.functions:
                function = result.functions[spec.name]
                function.problem, note = _signature_problem(spec, signatures.get(spec.name),
                                                            self.plan.reference[spec.name])
                if note:
                    function.notes.append(note)
                if function.problem:
                    continue
                for planned in self.plan.checks[spec.name]:
                    function.checks.append(self._run_check(spec, planned, children))
                _credit_validation_only_when_working(function, self.plan.checks[spec.name])
                if any(check.violation for check in function.checks):
                    function.problem = ("scores 0: it must use NumPy only, and the NumPy-only check "
                                        "failed (see below)")
        finally:
            children.close()
        return result

    def _run_check(self, spec: FunctionSpec, planned: PlannedCheck, children: _Children) -> CheckResult:
        check = planned.check
        answers, violation = children.answers(spec.name, planned, numpy_only=check.numpy_only)
        if check.other_process:
            other_answers, _ = children.answers(spec.name, planned, other=True)
            problem = check.property_check(answers, other_answers, planned.cases)
            return self._property_result(check, problem)
        if violation:
            return CheckResult(check.name, False, 0.0, check.points,
                               f"Your function called scipy.stats.{violation}. {check.hint}", violation=True)
        if check.property_check is not None:
            return self._property_result(check, check.property_check(answers, planned.cases))
        compare = check.compare or same
        failures = []
        for case, expected, actual in zip(planned.cases, planned.expected, answers):
            problem = compare(expected, actual)
            if problem:
                failures.append((case, expected, actual, problem))
        if not failures:
            return CheckResult(check.name, True, check.points, check.points)
        failures.sort(key=lambda f: f[0].size)
        case, expected, actual, problem = failures[0]
        hint = _diagnose(self.plan.mistakes[spec.name], failures[:5]) or check.hint
        text = (f"Your answer does not match the reference on {len(failures)} of {len(planned.cases)} inputs. "
                "Smallest failing input:\n"
                f"    {spec.name}({show_case(case, spec.parameters)})\n"
                f"Expected: {show(expected)}\nGot:      {show(actual)}\nProblem:  {problem}\nHint:     {hint}")
        return CheckResult(check.name, False, 0.0, check.points, text)

    @staticmethod
    def _property_result(check: Check, problem: str | None) -> CheckResult:
        if problem is None:
            return CheckResult(check.name, True, check.points, check.points)
        return CheckResult(check.name, False, 0.0, check.points, f"{problem}\nHint:     {check.hint}")


def _diagnose(mistakes: list, failures: list) -> str | None:
    """The hint of the first known mistake that reproduces the student's answers on the failing inputs.

    A mistake must explain every one of the (up to five smallest) failures, so a
    coincidence on one input does not name the wrong misconception.
    """
    if any(isinstance(expected, Raises) or isinstance(actual, Raised) for _, expected, actual, _ in failures):
        return None
    for mistake in mistakes:
        try:
            explained = all(same(mistake.implementation(*case.args, **case.kwargs), actual) is None
                            for case, _, actual, _ in failures)
        except Exception:  # a mistake that fails on these inputs explains nothing
            continue
        if explained:
            return mistake.hint
    return None


def _signature_problem(spec: FunctionSpec, parameters, reference) -> tuple[str | None, str | None]:
    """(reason the function cannot be graded, or a note about its signature)."""
    wanted = f"def {spec.name}({', '.join(spec.parameters)}...)"
    if parameters is None:
        return f"{spec.name} is not defined: keep the function name exactly as given ({wanted})", None
    reference_parameters = list(inspect.signature(reference).parameters.values())
    required = sum(p.default is inspect.Parameter.empty for p in reference_parameters)
    optional = [p.name for p in reference_parameters if p.default is not inspect.Parameter.empty]
    positional = [name for name, kind, _ in parameters if kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    star_args = any(kind == "VAR_POSITIONAL" for _, kind, _ in parameters)
    star_kwargs = any(kind == "VAR_KEYWORD" for _, kind, _ in parameters)
    if len(positional) < required and not star_args:
        return (f"{spec.name} takes {len(positional)} positional parameters but is called with {required}; "
                f"keep the signature as given ({wanted})"), None
    extra_required = [name for name, kind, has_default in parameters[required:]
                      if kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY") and not has_default]
    if extra_required:
        return f"{spec.name} has extra required parameters {extra_required} in its signature ({wanted})", None
    names = {name for name, _, _ in parameters}
    missing = [name for name in optional if name not in names]
    if missing and not star_kwargs:
        return None, (f"the signature of {spec.name} lacks the parameter(s) {missing}: calls that pass them by "
                      f"name fail. Keep the signature as given ({wanted})")
    return None, None


class _Children:
    """The sandboxed processes of one submission, restarted after a crash."""

    def __init__(self, grader: Grader, cells: list[dict], result: SubmissionResult) -> None:
        self.grader, self.cells, self.result = grader, cells, result
        self.active: dict[tuple[bool, bool], Any] = {}
        self.reported = False

    def _child(self, numpy_only: bool, other: bool):
        key = (numpy_only, other)
        child = self.active.get(key)
        if child is not None and not child.dead:
            return child
        sandbox = self.grader.other if other else self.grader.sandbox
        child = sandbox.fork(numpy_only=numpy_only)
        reply = child.request({"op": "load", "cells": self.cells, "timeout": CELL_TIMEOUT},
                              timeout=CELL_TIMEOUT * max(len(self.cells), 1) + 10)
        if not self.reported:
            self.reported = True
            self.result.messages += _cell_messages(reply.get("cells", []))
        self.active[key] = child
        return child

    def signatures(self, names: list[str]) -> dict:
        try:
            reply = self._child(False, False).request({"op": "signatures", "names": names}, timeout=30)
            return reply.get("signatures", {})
        except (SandboxError, TimeoutError, OSError):
            self.result.messages.append("The notebook's cells did not finish running (time or memory limit, "
                                        "or the process exited); no function could be graded.")
            return {}

    def answers(self, function: str, planned: PlannedCheck, numpy_only: bool = False,
                other: bool = False) -> tuple[list, str | None]:
        """The student's answers to every case; a crash costs only the unanswered cases."""
        answers: list = [None] * len(planned.cases)
        violation = None
        for _attempt in range(2):  # one retry protects against an interrupted child
            pending = [i for i, a in enumerate(answers) if a is None]
            if not pending:
                break
            try:
                child = self._child(numpy_only, other)
                cases = [planned.encoded[i] for i in pending]
                for message in child.call(function, cases, CALL_TIMEOUT,
                                          self.grader.plan.oracles(planned.check)):
                    number = message.get("case")
                    if type(number) is not int or not 0 <= number < len(pending):
                        raise SandboxError("the submission broke the grading protocol")
                    index = pending[number]
                    answers[index] = _answer(message)
                    violation = violation or message.get("violation")
                    if "timeout" in message:
                        child.kill()  # the student's code may ignore the alarm next time
                        break
            except (SandboxError, TimeoutError, OSError, KeyError, ValueError, TypeError, RecursionError):
                child = self.active.get((numpy_only, other))
                if child is not None:
                    child.kill()
        lost = Raised(("Crashed",), "the process running your code stopped (time limit, memory limit "
                      "or exit) before answering")
        return [lost if a is None else a for a in answers], violation

    def close(self) -> None:
        for child in self.active.values():
            child.kill()


def _cell_messages(cells: list[dict]) -> list[str]:
    messages = []
    for cell in cells:
        status = cell.get("status")
        if status == "syntax_error":
            messages.append(f"Cell {cell['id']!r} has a syntax error ({cell.get('error')}); it was skipped, "
                            "so nothing it defines exists.")
        elif status == "exception":
            error = cell.get("error", {})
            messages.append(f"Cell {cell['id']!r} raised {error.get('type')} at the top level "
                            f"({error.get('message', '')[:200]}); the rest of that cell did not run.")
        elif status == "timeout":
            messages.append(f"Cell {cell['id']!r} ran longer than {CELL_TIMEOUT:g} s and was stopped.")
    return messages


def grade_notebook(path: Path, assignment: str) -> SubmissionResult:
    """Grade one notebook (convenience for tests and scripts; reuse a Grader for many)."""
    with Grader(assignment) as grader:
        return grader.grade(Path(path))


__all__ = ["CheckResult", "FunctionResult", "Grader", "Plan", "SubmissionResult", "grade_notebook"]
