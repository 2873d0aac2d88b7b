"""Grade one submission: run it in the sandbox, compare with the reference, explain.

The trusted side of the protocol described in :mod:`autograder.sandbox`:

1. :class:`Plan` builds every check's inputs from a fixed seed and computes the
   reference's answers here, once per assignment (not once per submission),
   recording what the reference asks the callees it lends (:mod:`autograder.oracles`);
2. :class:`Grader` runs a submission's cells in fresh sandboxed children and
   asks them for the student's answers to the same inputs -- plain data only,
   each within its time limit, the whole submission within one budget;
3. the answers are compared here, so nothing the student's code does to
   itself (lying ``__eq__``, patched NumPy, printed "all tests passed") can
   change a score.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import ASSIGNMENTS, plain
from autograder.checks import Case, Check, FunctionSpec, Raised, Raises, same, show, show_case
from autograder.oracles import CaseOracles, Lender
from autograder.reference import BrokenReference, load_reference
from autograder.sandbox import Budget, BudgetExhausted, Isolation, Sandbox, SandboxError
from autograder.sandbox import isolation as strongest_isolation
from autograder.submission import Submission, SubmissionProblem, read_submission

SEED = 20241127
CALL_TIMEOUT = 5.0        # seconds per call of a student function
CELL_TIMEOUT = 10.0       # seconds per notebook cell
SUBMISSION_SECONDS = 40.0  # wall-clock budget for everything one submission runs
SUBMISSION_BYTES = 256 * 1024**2  # data one submission may send back, in all
MAX_FAILURES = 2          # time-outs, crashes or memory errors of one function before its other cases are skipped
RESOURCE_ERRORS = {"Timeout", "Crashed", "MemoryError", "RecursionError"}
VIOLATIONS = {"ks_2samp", "kstest", "ks_1samp", "ks_twosamp"}


@dataclass
class CheckResult:
    """The outcome of one check group.

    ``mistake`` names the known mistake that explains a failure, if one does;
    ``stub`` says that every answer was the release's ``NotImplementedError``.
    """

    name: str
    passed: bool
    score: float
    max_score: float
    feedback: str = ""
    violation: bool = False
    mistake: str | None = None
    stub: bool = False


def _clamp(value: float, maximum: float) -> float:
    return round(min(max(value, 0.0), maximum), 6)


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
        return _clamp((graded if self.override is None else self.override) + self.adjustment, self.max_score)

    @property
    def attempted(self) -> bool:
        """False for a function left as the release's stub (or not defined at all)."""
        if self.problem and "is not defined" in self.problem:
            return False
        return not self.checks or not all(check.stub for check in self.checks)


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
        return _clamp(total - self.late_penalty, self.max_score)

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
    oracles: list[CaseOracles]
    lender: Lender


class Plan:
    """Inputs and reference answers of every check of an assignment.

    Raises
    ------
    BrokenReference
        When the instructor notebook does not load or lacks a graded function.
    """

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
                lender = Lender(self.reference, check.oracles)
                solved = [lender.record(functools.partial(self._expect, spec, check, case)) for case in cases]
                planned.append(PlannedCheck(check, cases, [_encode(case) for case in cases],
                                            [expected for expected, _ in solved], [table for _, table in solved],
                                            lender))
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
                    expected, table = target.lender.record(functools.partial(self._expect, spec, target.check, case))
                    if _exposes(mistake, case, expected):
                        found.append((case, expected, table))
                if len(found) >= keep:
                    break
            for case, expected, table in found[:keep]:
                target.cases.append(case)
                target.expected.append(expected)
                target.oracles.append(table)
                target.encoded.append(_encode(case))

    def _expect(self, spec: FunctionSpec, check: Check, case: Case):
        if check.property_check is not None:
            return None
        if check.expect is not None:
            return check.expect(self.reference, case)
        try:
            return self.reference[spec.name](*case.args, **case.kwargs)
        except Exception as error:
            return Raises(type(error).__name__)


def _encode(case: Case) -> dict:
    return {"args": plain.encode(list(case.args)), "kwargs": plain.encode(case.kwargs)}


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
    """The student's answer in a reply from the sandbox; anything malformed becomes opaque."""
    try:
        if "value" in message:
            return plain.decode(message["value"])
        if "timeout" in message:
            return Raised(("Timeout",), f"did not finish within the time limit of {CALL_TIMEOUT:g} s")
        error = message.get("error")
        error = error if isinstance(error, dict) else {}
        types = error.get("types")
        if not isinstance(types, list) or not types:
            types = [error.get("type", "Error")]
        return Raised(tuple(str(t)[:80] for t in types[:8]), str(error.get("message", ""))[:500])
    except Exception:  # whatever a hostile child sends, it is only a wrong answer
        return plain.Opaque("malformed value")


def _compare(compare, expected, actual) -> str | None:
    try:
        return compare(expected, actual)
    except Exception as error:  # a value the comparison cannot handle is not the expected one
        return f"the answer could not be compared with the expected one ({type(error).__name__})"


_PENDING = object()


def _skipped(reason: str) -> Raised:
    return Raised(("Skipped",), reason)


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

    def grade_submission(self, submission: Submission) -> SubmissionResult:
        """Grade a submission already read into memory."""
        result = SubmissionResult(self.assignment, "graded", self.plan.max_score, isolation=self.isolation.note)
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
                if children.failures.get(spec.name, 0) >= MAX_FAILURES:
                    function.notes.append(f"{spec.name} timed out, crashed or ran out of memory {MAX_FAILURES} "
                                          "times, so its remaining inputs were not run.")
        finally:
            children.close()
            self.sandbox.reset()
            self.other.reset()
        result.messages += [f"{reason} and was skipped." for reason in children.excluded.values()]
        result.raw_score = result.score
        if children.budget.exhausted():
            result.messages.append(f"Grading stopped after the time budget of {SUBMISSION_SECONDS:g} s per "
                                   "submission; whatever had not run by then scores 0.")
        return result

    def _run_check(self, spec: FunctionSpec, planned: PlannedCheck, children: _Children) -> CheckResult:
        check = planned.check
        numpy_only = check.numpy_only or spec.numpy_only
        answers, violation = children.answers(spec.name, planned, numpy_only=numpy_only)
        if violation:
            rule = next((c.hint for c in spec.checks if c.numpy_only), check.hint)
            return CheckResult(check.name, False, 0.0, check.points,
                               f"Your function called scipy.stats.{violation}. {rule}", violation=True)
        stub = bool(answers) and all(isinstance(a, Raised) and a.types[0] == "NotImplementedError" for a in answers)
        if check.other_process:
            other_answers, _ = children.answers(spec.name, planned, numpy_only=numpy_only, other=True)
            return self._property_result(check, _compare(lambda a, b: check.property_check(a, b, planned.cases),
                                                         answers, other_answers), stub)
        if check.property_check is not None:
            return self._property_result(check, _compare(lambda a, _: check.property_check(a, planned.cases),
                                                         answers, None), stub)
        compare = check.compare or same
        failures = []
        for case, expected, actual in zip(planned.cases, planned.expected, answers):
            problem = _compare(compare, expected, actual)
            if problem:
                failures.append((case, expected, actual, problem))
        if not failures:
            return CheckResult(check.name, True, check.points, check.points)
        # The smallest input that really ran: a skipped case explains nothing.
        failures.sort(key=lambda f: (isinstance(f[2], Raised) and f[2].types[0] == "Skipped", f[0].size))
        case, expected, actual, problem = failures[0]
        mistake = _diagnose(self.plan.mistakes[spec.name], failures[:5])
        hint = mistake.hint if mistake else check.hint
        text = (f"Your answer does not match the reference on {len(failures)} of {len(planned.cases)} inputs. "
                "Smallest failing input:\n"
                f"    {spec.name}({show_case(case, spec.parameters)})\n"
                f"Expected: {show(expected)}\nGot:      {show(actual)}\nProblem:  {problem}\nHint:     {hint}")
        return CheckResult(check.name, False, 0.0, check.points, text, mistake=mistake.name if mistake else None,
                           stub=stub)

    @staticmethod
    def _property_result(check: Check, problem: str | None, stub: bool = False) -> CheckResult:
        if problem is None:
            return CheckResult(check.name, True, check.points, check.points)
        return CheckResult(check.name, False, 0.0, check.points, f"{problem}\nHint:     {check.hint}", stub=stub)


def ungraded(plan: Plan, isolation: Isolation, status: str, message: str) -> SubmissionResult:
    """A zero result for a submission that could not be graded at all, saying why."""
    result = SubmissionResult(plan.assignment, status, plan.max_score, messages=[message], isolation=isolation.note)
    for spec in plan.functions:
        result.functions[spec.name] = FunctionResult(spec.name, spec.points, problem="not graded")
    return result


def _diagnose(mistakes: list, failures: list):
    """The first known mistake that reproduces the student's answers on the failing inputs, if any.

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
            return mistake
    return None


def _signature_problem(spec: FunctionSpec, parameters, reference) -> tuple[str | None, str | None]:
    """(reason the function cannot be graded, or a note about its signature)."""
    wanted = f"def {spec.name}({', '.join(spec.parameters)}...)"
    if not isinstance(parameters, list) or not all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], str)
            for p in parameters):
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
    extra_required = [name[:40] for name, kind, has_default in parameters[required:]
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
    """The sandboxed processes of one submission, within one time and data budget.

    A child is restarted after a crash or a time-out (reloading the cells), a
    cell that hangs or kills its process is left out of later loads, and a
    function that keeps failing for lack of resources has its remaining cases
    skipped.
    """

    def __init__(self, grader: Grader, cells: list[dict], result: SubmissionResult) -> None:
        self.grader, self.cells, self.result = grader, cells, result
        self.active: dict[tuple[bool, bool], Any] = {}
        self.budget = Budget(SUBMISSION_SECONDS, SUBMISSION_BYTES)
        self.excluded: dict[int, str] = {}  # cells that hung or stopped their process
        self.reported = False
        self.failures: dict[str, int] = {}

    def _child(self, numpy_only: bool, other: bool):
        key = (numpy_only, other)
        child = self.active.get(key)
        if child is not None and not child.dead:
            return child
        for _attempt in range(MAX_FAILURES):
            sandbox = self.grader.other if other else self.grader.sandbox
            child = sandbox.fork(numpy_only=numpy_only)
            child.budget = self.budget
            cells = [(i, cell) for i, cell in enumerate(self.cells) if i not in self.excluded]
            statuses = []
            try:
                for message in child.load([cell for _, cell in cells], CELL_TIMEOUT, self.budget.deadline):
                    if message.get("cell") != len(statuses):
                        raise SandboxError("the submission broke the grading protocol")
                    statuses.append(message)
            except BudgetExhausted:
                raise
            except (SandboxError, TimeoutError, OSError) as error:
                if len(statuses) >= len(cells):
                    raise SandboxError("the submission broke the grading protocol") from None
                index, cell = cells[len(statuses)]
                self.excluded[index] = (f"Cell {cell['id']!r} ran longer than {CELL_TIMEOUT:g} s"
                                        if isinstance(error, TimeoutError) else
                                        f"Cell {cell['id']!r} stopped the process running it")
                continue
            if not self.reported:
                self.reported = True
                self.result.messages += _cell_messages(statuses, [cell for _, cell in cells])
            self.active[key] = child
            return child
        raise SandboxError("the notebook's cells keep stopping the process running them")

    def signatures(self, names: list[str]) -> dict:
        try:
            reply = self._child(False, False).request({"op": "signatures", "names": names}, timeout=30)
            signatures = reply.get("signatures", {})
            return signatures if isinstance(signatures, dict) else {}
        except (SandboxError, TimeoutError, OSError):
            self.result.messages.append("The notebook's cells did not finish running (time or memory limit, "
                                        "or the process exited); no function could be graded.")
            return {}

    def answers(self, function: str, planned: PlannedCheck, numpy_only: bool = False,
                other: bool = False) -> tuple[list, str | None]:
        """The student's answers to every case; a crash or hang costs only the case it happened on."""
        answers: list = [_PENDING] * len(planned.cases)  # None is an answer a student may give
        violation = None
        while True:
            pending = [i for i, a in enumerate(answers) if a is _PENDING]
            if not pending or self.budget.exhausted() or self.failures.get(function, 0) >= MAX_FAILURES:
                break
            received = 0
            try:
                child = self._child(numpy_only, other)
                cases = [planned.encoded[i] for i in pending]
                for message in child.call(function, cases, CALL_TIMEOUT, self.budget.deadline,
                                          _Loan(planned, pending), planned.lender.names):
                    if message.get("case") != received:
                        raise SandboxError("the submission broke the grading protocol")
                    answer = _answer(message)
                    answers[pending[received]] = answer
                    received += 1
                    if message.get("violation") is not None:
                        violation = violation or (message["violation"] if message["violation"] in VIOLATIONS
                                                  else "ks_2samp")
                    if isinstance(answer, Raised) and answer.types[0] in RESOURCE_ERRORS:
                        self.failures[function] = self.failures.get(function, 0) + 1
                        if answer.types[0] == "Timeout":
                            child.kill()  # it may ignore the alarm next time
                            break
                        if self.failures[function] >= MAX_FAILURES:
                            child.kill()
                            break
            except BudgetExhausted:
                break
            except (SandboxError, TimeoutError, OSError, KeyError, ValueError, TypeError, RecursionError) as error:
                child = self.active.get((numpy_only, other))
                if child is not None:
                    child.kill()
                if received < len(pending) and not self.budget.exhausted():
                    timed_out = isinstance(error, TimeoutError)
                    answers[pending[received]] = Raised(
                        ("Timeout",) if timed_out else ("Crashed",),
                        f"did not finish within the time limit of {CALL_TIMEOUT:g} s" if timed_out else
                        "the process running your code stopped (memory limit, exit or a broken reply) "
                        "before answering")
                    self.failures[function] = self.failures.get(function, 0) + 1
        if self.budget.exhausted():
            reason = f"not run: the submission used up its grading budget of {SUBMISSION_SECONDS:g} s"
        else:
            reason = f"not run: {function} timed out, crashed or ran out of memory {MAX_FAILURES} times"
        return [_skipped(reason) if a is _PENDING else a for a in answers], violation

    def close(self) -> None:
        for child in self.active.values():
            child.kill()


class _Loan:
    """Answers the lent callees during one call of the child: each case from its own table and allowance."""

    def __init__(self, planned: PlannedCheck, pending: list[int]) -> None:
        self.planned, self.pending = planned, pending
        self.case, self.spent = -1, {}

    def __call__(self, local: int, name: str, args, kwargs):
        if local != self.case:
            self.case, self.spent = local, {}
        index = self.pending[min(max(local, 0), len(self.pending) - 1)]
        return self.planned.lender.answer(self.planned.oracles[index], self.spent, name, args, kwargs)


def _cell_messages(statuses: list[dict], cells: list[dict]) -> list[str]:
    messages = []
    for status, cell in zip(statuses, cells):
        kind = status.get("status")
        name = repr(str(cell["id"])[:80])
        if kind == "syntax_error":
            messages.append(f"Cell {name} has a syntax error ({str(status.get('error'))[:200]}); it was skipped, "
                            "so nothing it defines exists.")
        elif kind == "exception":
            error = status.get("error") if isinstance(status.get("error"), dict) else {}
            messages.append(f"Cell {name} raised {str(error.get('type'))[:80]} at the top level "
                            f"({str(error.get('message', ''))[:200]}); the rest of that cell did not run.")
        elif kind == "timeout":
            messages.append(f"Cell {name} ran longer than {CELL_TIMEOUT:g} s and was stopped.")
    return messages


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


def grade_notebook(path: Path, assignment: str) -> SubmissionResult:
    """Grade one notebook (convenience for tests and scripts; reuse a Grader for many)."""
    with Grader(assignment) as grader:
        return grader.grade(Path(path))


__all__ = ["BrokenReference", "CheckResult", "FunctionResult", "Grader", "Plan", "SubmissionResult",
           "grade_notebook", "result_from_dict", "result_to_dict", "ungraded"]
