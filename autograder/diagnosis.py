"""Diagnosis: what a failing check tells the student.

When a student's answers differ from the reference's, the feedback shows

* how many inputs failed, and the smallest one as a call the student can paste
  into a cell (:func:`autograder.compare.call_as_code`), shrunk to the fewest
  rows that still fail;
* the expected answer, the student's, and what differs;
* a hint, only when one concerns what failed: the hint of a known mistake
  that reproduces the student's answers on the failing inputs, else the
  ``why`` written beside a failing hand-picked case, else the check's hint
  if it is about the part that differs (a dict hint is keyed by the result's
  key). Otherwise no hint: what differs is the whole story.

A function left as the release's stub (``NotImplementedError`` everywhere) is
reported as not attempted, once, instead of once per input.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from autograder.check import Case, CheckFailed
from autograder.compare import Raised, Raises, call_as_code, same, show
from autograder.plan import PlannedCall, solve

if TYPE_CHECKING:
    from autograder.run import Session

DIAGNOSED_FAILURES = 5
"""A known mistake must reproduce the student's answers on this many smallest failures."""
SHRINK_CALLS = 40
SHRINK_SECONDS = 3.0


def evaluate(session: Session, function: str, planned: PlannedCall, answers: list) -> None:
    """Compare the student's answers with the plan's, counting the valid inputs that agree in the check.

    Raises
    ------
    CheckFailed
        With the feedback described in the module docstring.
    """
    compare = planned.compare or same
    failures, agreed = [], 0
    for index, (expected, actual) in enumerate(zip(planned.expected, answers)):
        problem = _compare(compare, expected, actual)
        if problem:
            failures.append((index, problem))
        elif not isinstance(expected, Raises):
            agreed += 1
    session.current.agreed += agreed
    if not failures:
        return
    if all(isinstance(a, Raised) and a.types[0] == "NotImplementedError" for a in answers):
        raise CheckFailed(f"{function} is not attempted yet: it still raises NotImplementedError.", stub=True)
    # The smallest input that really ran: a skipped case explains nothing.
    failures.sort(key=lambda f: (_not_run(answers[f[0]]), planned.cases[f[0]].size))
    smallest = [(planned.cases[i], answers[i]) for i, _ in failures[:DIAGNOSED_FAILURES]]
    mistake = diagnose(session.plan.mistakes[function], smallest, compare)
    index, problem = failures[0]
    case, expected, actual = planned.cases[index], planned.expected[index], answers[index]
    if not case.hand_picked and not _skipped(actual):
        case, expected, actual, problem = shrink(session, function, planned, case, expected, actual, problem)
    why = None if is_about_form(problem) else case.why
    hint = mistake.hint if mistake else (why or relevant_hint(session.current.check_function.check.hint, problem))
    text = (f"Your answer differs from the reference on {len(failures)} of {len(planned.cases)} inputs. "
            f"Smallest failing input:\n    {call_as_code(function, case.args, case.kwargs)}\n"
            f"Expected: {show(expected)}\nGot:      {show(actual)}\nWhat differs: {problem}")
    if hint:
        text += f"\nHint:     {hint}"
    raise CheckFailed(text, mistake=mistake.name if mistake else None)


def _compare(compare: Callable, expected, actual) -> str | None:
    try:
        return compare(expected, actual)
    except Exception as error:  # a value the comparison cannot handle is not the expected one
        return f"the answer could not be compared with the expected one ({type(error).__name__})"


def _not_run(answer) -> bool:
    return isinstance(answer, Raised) and answer.types[0] == "Skipped"


def _skipped(answer) -> bool:
    """No answer to learn from: not run, timed out or crashed."""
    return isinstance(answer, Raised) and answer.types[0] in ("Skipped", "Timeout", "Crashed")


FORM_PROBLEMS = ("should return", "dtype", "should hold", "should be numeric", "columns should", "index should",
                 "rows should", "shape should", "keys should", "not a plain value", "could not be compared")


def is_about_form(problem: str) -> bool:
    """Whether ``problem`` is about the answer's type or shape, which a case's ``why`` does not explain."""
    return any(phrase in problem for phrase in FORM_PROBLEMS)


def relevant_hint(hint: str | dict[str, str] | None, problem: str) -> str | None:
    """The check's hint if it concerns ``problem``: never for an unexpected exception, and a dict
    hint only for the key that differs (``"['better']: ..."``)."""
    if hint is None or problem.startswith("raised "):
        return None
    if isinstance(hint, str):
        return hint
    for key, text in hint.items():
        if problem.startswith(f"[{key!r}]"):
            return text
    return None


def diagnose(mistakes: list, failures: list[tuple[Case, object]], compare: Callable = same):
    """The first known mistake that reproduces the student's answers on every one of ``failures``.

    Parameters
    ----------
    mistakes : list of (Mistake, callable)
        The function's known mistakes and their implementations.
    failures : list of (Case, answer)
        The smallest failing inputs and the student's answers.

    Returns
    -------
    Mistake or None
        None when no mistake explains them all (the same values, or the same
        exceptions), so a coincidence on one input does not name the wrong
        misconception.
    """
    if any(_skipped(actual) for _, actual in failures):
        return None
    for mistake, wrong in mistakes:
        if all(_reproduces(wrong, case, actual, compare) for case, actual in failures):
            return mistake
    return None


def _reproduces(wrong: Callable, case: Case, actual, compare: Callable) -> bool:
    """Whether the mistaken function gives the student's answer: the same value, or the same exception."""
    try:
        with warnings.catch_warnings():  # a mistake's own warnings (dividing by zero) are no news
            warnings.simplefilter("ignore")
            answer = wrong(*case.args, **case.kwargs)
    except Exception as error:
        return isinstance(actual, Raised) and type(error).__name__ == actual.types[0]
    return not isinstance(actual, Raised) and _compare(compare, answer, actual) is None


# -- shrinking ----------------------------------------------------------------------------------------


def _length(value) -> int | None:
    if isinstance(value, (list, pd.Series, pd.DataFrame)) or (isinstance(value, np.ndarray) and value.ndim >= 1):
        return len(value)
    return None


def _take(value, keep: np.ndarray):
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value.iloc[keep]
    if isinstance(value, np.ndarray):
        return value[keep]
    return [value[i] for i in keep]


def smaller(case: Case):
    """Inputs like ``case`` with rows removed: arguments of the longest length lose the same rows,
    in blocks from half the rows down to one."""
    values = list(case.args) + list(case.kwargs.values())
    lengths = [_length(v) for v in values]
    longest = max((n for n in lengths if n), default=0)
    block = longest // 2
    while block >= 1:
        for start in range(0, longest, block):
            keep = np.array([i for i in range(longest) if not start <= i < start + block])
            if keep.size == 0:
                continue
            shrunk = [_take(v, keep) if n == longest else v for v, n in zip(values, lengths)]
            yield Case(tuple(shrunk[:len(case.args)]), dict(zip(case.kwargs, shrunk[len(case.args):])))
        block //= 2


def shrink(session: Session, function: str, planned: PlannedCall, case: Case, expected, actual, problem: str):
    """The failing input with as few rows as still fail (a few dozen sandbox calls at most)."""
    compare = planned.compare or same
    deadline, calls = time.monotonic() + SHRINK_SECONDS, 0
    improved = True
    while improved and calls < SHRINK_CALLS and time.monotonic() < deadline:
        improved = False
        for candidate in smaller(case):
            if calls >= SHRINK_CALLS or time.monotonic() >= deadline:
                break
            wanted, table = planned.lender.record(functools.partial(solve, session.plan.reference, function,
                                                                    candidate))
            if isinstance(wanted, Raises) != isinstance(expected, Raises):
                continue
            calls += 1
            trial = PlannedCall(function, [candidate], [wanted], [table], planned.lender, planned.compare)
            answers, violation = session.children.answers(function, trial, session.forbidden())
            answer = answers[0]
            if violation or _skipped(answer):
                return case, expected, actual, problem
            difference = _compare(compare, wanted, answer)
            if difference:
                case, expected, actual, problem, improved = candidate, wanted, answer, difference, True
                break
    return case, expected, actual, problem
