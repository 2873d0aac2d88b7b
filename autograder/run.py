"""Running a submission's code: sandboxed children, and the graded functions as checks call them.

The trusted side of the protocol described in :mod:`autograder.sandbox`. A
:class:`Session` grades one submission: it loads the notebook's cells into
fresh sandboxed children, hands each check the student's functions as
:class:`SubmittedFunction` objects, and turns what the check finds into a
:class:`~autograder.scoring.CheckResult`. Whatever the student's code does to
itself (a lying ``__eq__``, patched NumPy, "all tests passed" printed), only
plain-data answers reach this process, and they are compared here.

Costs are bounded per submission: each call has :data:`CALL_TIMEOUT`, each
cell :data:`CELL_TIMEOUT`, the whole submission :data:`SUBMISSION_SECONDS` and
:data:`SUBMISSION_BYTES`; a function that times out, crashes or runs out of
memory :data:`MAX_FAILURES` times has its remaining inputs skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from autograder import plain
from autograder.check import NOT_GIVEN, Case, CheckFailed, check_id, contract, graded_function, title
from autograder.compare import Raised, Raises, call_as_code, show
from autograder.diagnosis import evaluate
from autograder.oracles import CaseOracles, Lender
from autograder.plan import Plan, PlannedCall, fixtures, solve
from autograder.sandbox import Budget, BudgetExhausted, Sandbox, SandboxError
from autograder.scoring import CheckResult, SubmissionResult

CALL_TIMEOUT = 5.0        # seconds per call of a student function
CELL_TIMEOUT = 10.0       # seconds per notebook cell
SUBMISSION_SECONDS = 40.0  # wall-clock budget for everything one submission runs
# Answers one submission may send back, in all: a reference sends under 2 MB, and what the grading process
# holds of them is bounded by a small multiple of this.
SUBMISSION_BYTES = 32 * 1024**2
MAX_FAILURES = 2          # time-outs, crashes or memory errors of one function before its other cases are skipped
RESOURCE_ERRORS = {"Timeout", "Crashed", "MemoryError", "RecursionError"}


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



_PENDING = object()


def _skipped(reason: str) -> Raised:
    return Raised(("Skipped",), reason)



def signature_problem(name: str, parameters, reference) -> tuple[str | None, str | None]:
    """(reason the function cannot be graded, or a note about its signature)."""
    wanted = f"def {name}{inspect.signature(reference)}"
    if not isinstance(parameters, list) or not all(
            isinstance(p, list) and len(p) == 3 and isinstance(p[0], str) and isinstance(p[1], str)
            for p in parameters):
        return f"{name} is not defined: keep the function name exactly as given ({wanted})", None
    reference_parameters = list(inspect.signature(reference).parameters.values())
    required = sum(p.default is inspect.Parameter.empty for p in reference_parameters)
    optional = [p.name for p in reference_parameters if p.default is not inspect.Parameter.empty]
    positional = [name for name, kind, _ in parameters if kind in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    star_args = any(kind == "VAR_POSITIONAL" for _, kind, _ in parameters)
    star_kwargs = any(kind == "VAR_KEYWORD" for _, kind, _ in parameters)
    if len(positional) < required and not star_args:
        return (f"{name} takes {len(positional)} positional parameters but is called with {required}; "
                f"keep the signature as given ({wanted})"), None
    extra_required = [name[:40] for name, kind, has_default in parameters[required:]
                      if kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY") and not has_default]
    if extra_required:
        return f"{name} has extra required parameters {extra_required} in its signature ({wanted})", None
    names = {name for name, _, _ in parameters}
    missing = [name for name in optional if name not in names]
    if missing and not star_kwargs:
        return None, (f"the signature of {name} lacks the parameter(s) {missing}: calls that pass them by "
                      f"name fail. Keep the signature as given ({wanted})")
    return None, None



class _Children:
    """The sandboxed processes of one submission, within one time and data budget.

    A child is restarted after a crash or a time-out (reloading the cells), a
    cell that hangs or kills its process is left out of later loads, and a
    function that keeps failing for lack of resources has its remaining cases
    skipped.
    """

    def __init__(self, sandbox: Sandbox, other: Sandbox, cells: list[dict], result: SubmissionResult) -> None:
        self.sandbox, self.other, self.cells, self.result = sandbox, other, cells, result
        self.active: dict[tuple[bool, bool], Any] = {}
        self.budget = Budget(SUBMISSION_SECONDS, SUBMISSION_BYTES)
        self.excluded: dict[int, str] = {}  # cells that hung or stopped their process
        self.reported = False
        self.failures: dict[str, int] = {}

    def _child(self, forbid: tuple[str, ...], other: bool):
        key = (forbid, other)
        child = self.active.get(key)
        if child is not None and not child.dead:
            return child
        for _attempt in range(MAX_FAILURES):
            sandbox = self.other if other else self.sandbox
            child = sandbox.fork(forbid=forbid)
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
            reply = self._child((), False).request({"op": "signatures", "names": names}, timeout=30)
            signatures = reply.get("signatures", {})
            return signatures if isinstance(signatures, dict) else {}
        except (SandboxError, TimeoutError, OSError):
            self.result.messages.append("The notebook's cells did not finish running (time or memory limit, "
                                        "or the process exited); no function could be graded.")
            return {}

    def answers(self, function: str, planned: PlannedCall, forbid: tuple[str, ...] = (),
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
                child = self._child(forbid, other)
                cases = [planned.encoded[i] for i in pending]
                for message in child.call(function, cases, CALL_TIMEOUT, self.budget.deadline,
                                          _Loan(planned, pending), planned.lender.names):
                    if message.get("case") != received:
                        raise SandboxError("the submission broke the grading protocol")
                    answer = _answer(message)
                    answers[pending[received]] = answer
                    received += 1
                    if message.get("violation") is not None:
                        named: dict[str, str] = {}
                        for name in forbid:  # the first dotted name of a function names it
                            named.setdefault(name.rsplit(".", 1)[-1], name)
                        violation = violation or named.get(message["violation"], forbid[0] if forbid else "?")
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
                child = self.active.get((forbid, other))
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

    def __init__(self, planned: PlannedCall, pending: list[int]) -> None:
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




class UnplannedCall(RuntimeError):
    """A check asked for comparisons its plan does not hold (a mistake in the check, for its author)."""


class SubmittedFunction:
    """A student's graded function as a check sees it: called in the sandbox, answering plain data."""

    def __init__(self, session: Session, name: str) -> None:
        self.session, self.name = session, name

    def agrees_on(self, cases: list[Case], compare: Callable | None = None) -> None:
        """Every case must get the reference's answer (compared by ``compare``, default
        :func:`autograder.compare.same`); raises :class:`CheckFailed` saying what differs."""
        self.session.agrees_on(self.name, cases)  # the plan holds these cases and ``compare``

    def __call__(self, *args, **kwargs):
        """The student's answer to one call; raises :class:`CheckFailed` if the call raised."""
        return self.session.call(self.name, args, kwargs, other=False)

    def in_another_process(self, *args, **kwargs):
        """The answer of the same function in a second interpreter started with another hash seed."""
        return self.session.call(self.name, args, kwargs, other=True)

    def __repr__(self) -> str:
        return f"<the submitted {self.name}>"


class _Current:
    """The check being run: its planned calls in order and what it has found so far."""

    def __init__(self, check_function: Callable, plan: Plan) -> None:
        self.check_function = check_function
        self.function = graded_function(check_function)
        self.planned = iter(plan.calls[check_id(check_function)])
        self.agreed = 0
        calls = plan.calls[check_id(check_function)]
        self.validation = bool(calls) and all(isinstance(e, Raises) for call in calls for e in call.expected)


class Session:
    """Grading one submission: its sandboxed children, the check being run, the result so far.

    Parameters
    ----------
    plan : Plan
        The assignment's planned checks.
    sandbox, other : Sandbox
        The fork servers (``other`` runs with another hash seed).
    cells : list of dict
        The submission's code cells.
    result : SubmissionResult
        Filled in as checks finish.
    """

    def __init__(self, plan: Plan, sandbox: Sandbox, other: Sandbox, cells: list[dict],
                 result: SubmissionResult) -> None:
        self.plan, self.result = plan, result
        self.children = _Children(sandbox, other, cells, result)
        self.current: _Current | None = None
        self.problems: dict[str, str | None] = {}

    # -- the whole submission --------------------------------------------------------------------------

    def check_signatures(self) -> None:
        """Find each graded function's signature problem (not defined, wrong parameters) once."""
        signatures = self.children.signatures(list(self.plan.spec.functions))
        for name in self.plan.spec.functions:
            problem, note = signature_problem(name, signatures.get(name), self.plan.reference[name])
            self.problems[name] = problem
            self.result.functions[name].problem = problem
            if note:
                self.result.functions[name].notes.append(note)

    def finish(self) -> None:
        """Close the children and note what the budget or broken cells cost."""
        self.children.close()
        self.result.messages += [f"{reason} and was skipped." for reason in self.children.excluded.values()]
        for name, count in self.children.failures.items():
            if count >= MAX_FAILURES:
                self.result.functions[name].notes.append(
                    f"{name} timed out, crashed or ran out of memory {MAX_FAILURES} times, so its remaining "
                    "inputs were not run.")
        budget = self.children.budget
        if budget.exhausted():
            limit = (f"the {budget.bytes / 1024**2:g} MB of answers one submission may send"
                     if budget.received > budget.bytes
                     else f"the time budget of {SUBMISSION_SECONDS:g} s per submission")
            self.result.messages.append(f"Grading stopped after {limit}; whatever had not run by then scores 0.")

    # -- one check -------------------------------------------------------------------------------------

    def function(self, name: str) -> SubmittedFunction:
        return SubmittedFunction(self, name)

    def arguments(self, check_function: Callable) -> dict[str, Any]:
        """The fixtures ``check_function`` asks for, bound to this submission."""
        return fixtures(check_function, self.function, self.plan.reference, self.plan.seed)

    def begin(self, check_function: Callable) -> None:
        self.current = _Current(check_function, self.plan)

    def end(self, error: BaseException | None) -> CheckResult:
        """The check's result, given what its body raised (None if it returned)."""
        current, self.current = self.current, None
        check_function = current.check_function
        info = check_function.check
        result = CheckResult(title(check_function), error is None, info.points if error is None else 0.0,
                             info.points, contract=contract(check_function), agreed=current.agreed,
                             validation=current.validation)
        if isinstance(error, CheckFailed):
            result.feedback, result.mistake, result.stub = error.feedback, error.mistake, error.stub
            result.violation = error.violation is not None
        elif isinstance(error, AssertionError):  # a property check's own assert
            hint = info.hint if isinstance(info.hint, str) else None
            result.feedback = str(error) + (f"\nHint:     {hint}" if hint else "")
        elif error is not None:  # the answers did not have the shape the check needs
            result.feedback = (f"The answers could not be checked ({type(error).__name__}: {str(error)[:200]}); "
                               "check the type of what your function returns.")
        return result

    def run(self, check_function: Callable) -> CheckResult:
        """Run one check directly (what ``python -m autograder grade`` does for each check).

        A check that only compares with the reference is replayed from the plan:
        the same calls with the same cases, without building its inputs again.
        """
        self.begin(check_function)
        try:
            if check_id(check_function) in self.plan.comparing_only:
                for planned in self.plan.calls[check_id(check_function)]:
                    self.agrees_on(planned.function, planned.cases)
            else:
                check_function(**self.arguments(check_function))
        except UnplannedCall:
            raise  # the check's fault, not the student's
        except Exception as error:
            return self.end(error)
        return self.end(None)

    def forbidden(self) -> tuple[str, ...]:
        """The calls the function under check may not make (its assignment's ``[forbidden_calls]``)."""
        return self.plan.spec.forbidden_calls.get(self.current.function, ())

    def _refuse_undefined(self, name: str) -> None:
        problem = self.problems.get(name)
        if problem:
            raise CheckFailed(problem)

    def agrees_on(self, name: str, cases: list[Case]) -> None:
        self._refuse_undefined(name)
        try:
            planned = next(self.current.planned)
        except StopIteration:
            raise UnplannedCall(f"{check_id(self.current.check_function)} made more agrees_on calls than were "
                                "planned: a check makes the same calls for every submission, and its agrees_on "
                                "calls come before its direct calls") from None
        answers, violation = self.children.answers(name, planned, self.forbidden())
        if violation:
            raise CheckFailed(self._violation_text(violation), violation=violation)
        evaluate(self, name, planned, answers)

    def call(self, name: str, args: tuple, kwargs: dict, other: bool):
        self._refuse_undefined(name)
        case = Case(tuple(args), dict(kwargs), NOT_GIVEN)
        lender = Lender(self.plan.reference, self.current.check_function.check.lend)
        # Only a lending check needs the reference here: to record what it asks its callees.
        expected, table = (lender.record(lambda: solve(self.plan.reference, name, case)) if lender.names
                           else (None, CaseOracles()))
        planned = PlannedCall(name, [case], [expected], [table], lender)
        answers, violation = self.children.answers(name, planned, self.forbidden(), other=other)
        if violation:
            raise CheckFailed(self._violation_text(violation), violation=violation)
        answer = answers[0]
        code = call_as_code(name, case.args, case.kwargs)
        if isinstance(answer, Raised):
            stub = answer.types[0] == "NotImplementedError"
            raise CheckFailed(f"{code}\nraised {answer.types[0]}: {answer.message[:300]}", stub=stub)
        if isinstance(answer, plain.Opaque):
            raise CheckFailed(f"{code}\nreturned {show(answer)}, which is not a plain value")
        return answer

    def _violation_text(self, violation: str) -> str:
        reason = self.plan.spec.forbidden_reasons.get(self.current.function, "")
        return f"{self.current.function} called {violation}, which the assignment forbids here. {reason}".strip()

