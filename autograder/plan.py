"""Planning: every check's inputs and the reference's answers, computed once per assignment.

The checks are run once against the reference (here, in the trusted process):
each ``agrees_on(cases)`` records its cases, the reference's answers and what
the reference asked the callees a check lends (:mod:`autograder.oracles`).
A check's direct calls (``function(*args)``) assert properties of the
student's answers; they come after its ``agrees_on`` calls, and planning stops
at the first of them.
Grading a submission then replays the same calls -- the same check code,
seeded the same way -- against the recorded answers, so the reference is not
run again for every submission.

Planning also makes sure every known mistake is caught: a mistake that no
planned input exposes is looked for in further seeded batches of the random
inputs, and a few inputs that expose it join the check's cases.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder import plain
from autograder.assignments import get
from autograder.check import Case, assignment_of, check_id, checks_of, seed_of
from autograder.compare import Raises, call_as_code, matches_written, same, show
from autograder.mistakes import Mistake, edited_cell, implementation, known_mistakes
from autograder.oracles import CaseOracles, Lender
from autograder.reference import BrokenReference, load_reference

SEED = 20241127
MINING_BATCHES = 6
KEEP_PER_MISTAKE = 3


@dataclass
class PlannedCall:
    """One ``agrees_on`` call of a check: its cases and the reference's answers."""

    function: str
    cases: list[Case]
    expected: list[Any]
    oracles: list[CaseOracles]
    lender: Lender
    compare: Callable | None = None
    encoded: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.encoded = [encode(case) for case in self.cases]

    def add(self, case: Case, expected, table: CaseOracles) -> None:
        self.cases.append(case)
        self.expected.append(expected)
        self.oracles.append(table)
        self.encoded.append(encode(case))


def encode(case: Case) -> dict:
    return {"args": plain.encode(list(case.args)), "kwargs": plain.encode(case.kwargs)}


def solve(reference: dict[str, Callable], function: str, case: Case):
    """The reference's answer to ``case``, or :class:`Raises` naming what it raised."""
    try:
        with warnings.catch_warnings():  # SciPy's notes on its own methods are not for the TA
            warnings.simplefilter("ignore", RuntimeWarning)
            return reference[function](*case.args, **case.kwargs)
    except Exception as error:
        return Raises(type(error).__name__)


def fixtures(check_function: Callable, graded: Callable[[str], Any], reference, seed: int) -> dict[str, Any]:
    """The arguments a check asks for: graded functions by name, ``reference`` and ``rng``."""
    functions = get(assignment_of(check_function)).functions
    arguments = {}
    for name in inspect.signature(check_function).parameters:
        if name in functions:
            arguments[name] = graded(name)
        elif name == "reference":
            arguments[name] = reference
        elif name == "rng":
            arguments[name] = np.random.default_rng(seed_of(check_function, seed))
        else:
            raise TypeError(f"{check_id(check_function)} asks for {name!r}, which is neither a graded function "
                            "nor 'reference' or 'rng'")
    return arguments


class _Recorder:
    """The graded functions as a check sees them while planning: the reference answers."""

    def __init__(self, plan: Plan, on_cases: Callable) -> None:
        self.plan, self.on_cases = plan, on_cases

    def function(self, name: str) -> _PlannedFunction:
        return _PlannedFunction(self, name)


class _PlannedFunction:
    def __init__(self, recorder: _Recorder, name: str) -> None:
        self.recorder, self.name = recorder, name

    def agrees_on(self, cases: list[Case], compare: Callable | None = None) -> None:
        self.recorder.on_cases(self.name, list(cases), compare)

    def __call__(self, *args, **kwargs):
        raise _PropertiesFollow  # nothing after this needs the reference's answers

    in_another_process = __call__


class _PropertiesFollow(Exception):
    """Planning stops at a check's first direct call: from there on it asserts properties of the
    student's answers, which need no reference answers (the reference's own full marks test them)."""


class Plan:
    """Inputs and reference answers of every check of an assignment.

    Parameters
    ----------
    assignment : str
        The assignment id.
    seed : int
        Seeds every check's ``rng``.

    Raises
    ------
    BrokenReference
        When the instructor notebook does not load, lacks a graded function, or
        fails one of the checks itself.
    """

    def __init__(self, assignment: str, seed: int = SEED) -> None:
        self.spec = get(assignment)
        self.assignment, self.seed = assignment, seed
        self.reference = load_reference(assignment)
        self.checks = checks_of(assignment)
        self.mistakes: dict[str, list[tuple[Mistake, Callable]]] = {name: [] for name in self.spec.functions}
        for mistake in known_mistakes(assignment):
            for name in (mistake.function, *mistake.also_loses):
                self.mistakes[name].append((mistake, implementation(assignment, mistake, function=name)))
        self.calls: dict[str, list[PlannedCall]] = {}
        self.comparing_only: set[str] = set()  # checks whose every step is a planned agrees_on
        self.disagreements: list[str] = []
        for name, checks in self.checks.items():
            for check_function in checks:
                self.calls[check_id(check_function)] = self._plan(check_function)
            self._mine(name)

    @property
    def max_score(self) -> float:
        return self.spec.max_score

    def points(self, function: str) -> float:
        return sum(check_function.check.points for check_function in self.checks[function])

    def _run(self, check_function: Callable, on_cases: Callable, seed: int) -> bool:
        """Run a check against the reference; True when it only compares (no properties follow)."""
        recorder = _Recorder(self, on_cases)
        try:
            check_function(**fixtures(check_function, recorder.function, self.reference, seed))
        except _PropertiesFollow:
            return False
        except Exception as error:
            raise BrokenReference(f"the reference solution fails the check {check_id(check_function)}: "
                                  f"{type(error).__name__}: {error}") from None
        return True

    def _plan(self, check_function: Callable) -> list[PlannedCall]:
        planned: list[PlannedCall] = []
        lender = Lender(self.reference, check_function.check.lend)

        def on_cases(function: str, cases: list[Case], compare: Callable | None) -> None:
            solved = [lender.record(functools.partial(solve, self.reference, function, case)) for case in cases]
            for case, (expected, _) in zip(cases, solved):
                if case.hand_picked and not matches_written(expected, case.expect):
                    call = call_as_code(function, case.args, case.kwargs)[:300]
                    self.disagreements.append(f"{check_id(check_function)}: {call} is written as {case.expect!r}, "
                                              f"the reference answers {show(expected)}")
            planned.append(PlannedCall(function, cases, [e for e, _ in solved], [t for _, t in solved],
                                       lender, compare))

        if self._run(check_function, on_cases, self.seed):
            self.comparing_only.add(check_id(check_function))
        return planned

    def _mine(self, function: str) -> None:
        """Add inputs that expose each known mistake no planned input exposes (see the module docstring)."""
        value_calls = [call for check_function in self.checks[function]
                       for call in self.calls[check_id(check_function)] if call.function == function]
        for index, (mistake, wrong) in enumerate(self.mistakes[function]):
            if self.breaks_a_rule(mistake):
                continue  # the sandbox's rule catches it, whatever its answers
            if any(exposes(wrong, call, case, expected)
                   for call in value_calls for case, expected in zip(call.cases, call.expected)):
                continue
            for call, case in self._search(function, wrong, self.seed + 1000 * (index + 1)):
                call.add(case, *call.lender.record(functools.partial(solve, self.reference, function, case)))

    def breaks_a_rule(self, mistake: Mistake) -> bool:
        """Whether the mistake makes a call its function may not make (``[forbidden_calls]``)."""
        forbidden = [name.rsplit(".", 1)[-1] for name in self.spec.forbidden_calls.get(mistake.function, ())]
        return any(f"{name}(" in edited_cell(self.assignment, mistake) for name in forbidden)

    def _search(self, function: str, wrong: Callable, seed: int) -> list[tuple[PlannedCall, Case]]:
        """Random inputs of ``function``'s checks, from further seeds, on which ``wrong`` is exposed."""
        found: list[tuple[PlannedCall, Case]] = []
        random_checks = [check_function for check_function in self.checks[function]
                         if any(call.function == function and not all(case.hand_picked for case in call.cases)
                                for call in self.calls[check_id(check_function)])]
        for batch in range(MINING_BATCHES if random_checks else 0):
            for check_function in random_checks:
                calls = iter(self.calls[check_id(check_function)])

                def on_cases(name, cases, compare, calls=calls):
                    call = next(calls)
                    for case in cases:
                        if name == function and not case.hand_picked and len(found) < KEEP_PER_MISTAKE \
                                and exposes(wrong, call, case, solve(self.reference, name, case)):
                            found.append((call, case))

                self._run(check_function, on_cases, seed + batch)
            if len(found) >= KEEP_PER_MISTAKE:
                break
        return found


def exposes(wrong: Callable, call: PlannedCall, case: Case, expected) -> bool:
    """Whether the mistaken function ``wrong`` answers ``case`` differently from the reference."""
    try:
        with warnings.catch_warnings():  # a mistake's own warnings (dividing by zero) are no news
            warnings.simplefilter("ignore")
            answer = wrong(*case.args, **case.kwargs)
    except Exception as error:  # a mistake that crashes here is exposed too, unless it should
        return not (isinstance(expected, Raises) and type(error).__name__ == expected.name)
    if isinstance(expected, Raises):
        return True
    try:
        return (call.compare or same)(expected, plain.decode(plain.encode(answer))) is not None
    except Exception:
        return True
