"""Writing hidden checks: one pytest test function per sentence of the contract.

A check lives in ``autograder/assignments/<id>/test_<function>.py`` and reads
like the sentence it verifies::

    @check(points=0.5, hint="Significant means p_value < alpha, strictly.")
    def test_p_value_exactly_alpha_is_not_significant(compare_models):
        \"\"\"significant is p_value < alpha: a p-value equal to alpha is not significant.\"\"\"
        five_for_b = ([0] * 20, [1] * 5 + [0] * 15, [0] * 20)  # exact p = 2 * 0.5**5 = 0.0625
        compare_models.agrees_on([
            case(*five_for_b, alpha=0.0625, expect={"significant": False, ...}),
        ])

* ``@check`` gives its points and an optional hint (a string, or a dict from a
  result key such as ``"better"`` to the hint about that key: a hint is shown
  only when it concerns what differs);
* the docstring is the contract sentence, shown when the check fails;
* the parameters are fixtures: each graded function by name (the student's
  function, run in the sandbox), ``reference`` (the reference functions, run
  here), and ``rng`` (a generator seeded by the check's name);
* ``function.agrees_on(cases)`` grades every case against the reference; a
  hand-picked :func:`case` writes its expected answer beside it (a test checks
  the reference agrees) and may say ``why`` it matters, which becomes the hint
  when it is the smallest failing input;
* calling the function, ``function(*args)``, returns the student's answer for
  checks of properties without a single right answer (stickiness), which
  assert like any pytest test; ``function.in_another_process(*args)`` asks a
  second interpreter with another hash seed.

The same function runs under pytest (``pytest autograder/assignments/<id>
--submission NOTEBOOK``, see :mod:`autograder.pytest_plugin`) and under
``python -m autograder grade``, which calls it directly.
"""

from __future__ import annotations

import functools
import importlib
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.compare import Raises, size

__all__ = ["Case", "CheckFailed", "Lend", "Raises", "case", "check", "checks_of"]


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()


@dataclass(frozen=True)
class Case:
    """One call of the graded function, with its written expected answer if hand-picked."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    expect: Any = NOT_GIVEN
    why: str | None = None

    @property
    def size(self) -> int:
        return size(*self.args, *self.kwargs.values())

    @property
    def hand_picked(self) -> bool:
        return self.expect is not NOT_GIVEN


def case(*args, expect: Any = NOT_GIVEN, why: str | None = None, **kwargs) -> Case:
    """A call ``f(*args, **kwargs)``; ``expect`` is its answer as a reader checks it by hand.

    Written floats may be rounded to four significant digits: students are
    graded against the reference's exact answer, and a test confirms that the
    reference agrees with what is written here.

    Examples
    --------
    >>> case([[5, 13], [12, 5]], expect=(12.0, 1.0), why="n = 25: the chi-square test")
    Case(args=([[5, 13], [12, 5]],), kwargs={}, expect=(12.0, 1.0), why='n = 25: the chi-square test')
    """
    return Case(tuple(args), dict(kwargs), expect, why)


@dataclass(frozen=True)
class Lend:
    """A graded callee replaced by the reference's while a check runs (see :mod:`autograder.oracles`).

    ``per_item`` names a parameter answered item by item (the ids of a bucketing
    function), so one call or several get the same answers.
    """

    name: str
    per_item: str | None = None


@dataclass(frozen=True)
class CheckInfo:
    """What ``@check`` records on a test function."""

    points: float
    hint: str | dict[str, str] | None = None
    lend: tuple[Lend, ...] = ()


def check(points: float, hint: str | dict[str, str] | None = None, *, lend: tuple = ()) -> Callable:
    """Mark a test function as a hidden check worth ``points``.

    Parameters
    ----------
    points : float
        Earned when every case passes (and every assertion holds).
    hint : str or dict, optional
        Shown when the check fails and no known mistake or written ``why``
        explains it. A dict maps a key of the result (``"better"``) to the hint
        shown when that key differs.
    lend : tuple of str or Lend
        Graded callees answered by the reference while this check runs, so a
        mistake in a callee is not charged twice.

    Examples
    --------
    >>> @check(points=1.0)
    ... def test_something(drift_score):
    ...     '''drift_score is the share of drifted features.'''
    >>> test_something.check.points
    1.0
    """
    if points < 0:
        raise ValueError(f"points must be non-negative, got {points}")
    lent = tuple(item if isinstance(item, Lend) else Lend(str(item)) for item in lend)

    def decorate(function: Callable) -> Callable:
        function.check = CheckInfo(float(points), hint, lent)
        return function

    return decorate


class CheckFailed(AssertionError):
    """A check found a difference; ``feedback`` says what, for the student.

    ``mistake`` names the known mistake that explains it, ``stub`` says every
    answer was the release's ``NotImplementedError``, ``violation`` names a
    forbidden call the function made.
    """

    def __init__(self, feedback: str, mistake: str | None = None, stub: bool = False,
                 violation: str | None = None) -> None:
        super().__init__(feedback)
        self.feedback, self.mistake, self.stub, self.violation = feedback, mistake, stub, violation


def graded_function(check_function: Callable) -> str:
    """The graded function a check belongs to: ``test_<function>.py`` names it."""
    module = check_function.__module__.rsplit(".", 1)[-1]
    return module.removeprefix("test_")


def assignment_of(check_function: Callable) -> str:
    """The assignment a check belongs to: its module is ``autograder.assignments.<id>.test_<function>``."""
    return check_function.__module__.split(".")[2]


def check_id(check_function: Callable) -> str:
    """A stable name of a check: ``<function>::<test name>``."""
    return f"{graded_function(check_function)}::{check_function.__name__}"


def title(check_function: Callable) -> str:
    """The check's name as students read it: ``test_p_value_at_alpha`` -> ``p value at alpha``."""
    return re.sub(r"^test_", "", check_function.__name__).replace("_", " ")


def contract(check_function: Callable) -> str:
    """The check's docstring on one line."""
    return " ".join((check_function.__doc__ or "").split())


def seed_of(check_function: Callable, seed: int) -> list[int]:
    """Seed of the check's ``rng``: the run's seed and a checksum of the check's name."""
    return [seed, zlib.crc32(check_id(check_function).encode("utf-8"))]


@functools.cache
def checks_of(assignment: str) -> dict[str, list[Callable]]:
    """The checks of each graded function, in notebook order, each in the order it is written."""
    from autograder.assignments import get

    spec = get(assignment)
    found: dict[str, list[Callable]] = {name: [] for name in spec.functions}
    for path in spec.check_modules():
        module = importlib.import_module(f"autograder.assignments.{assignment}.{path.stem}")
        checks = [value for value in vars(module).values()
                  if callable(value) and hasattr(value, "check") and value.__module__ == module.__name__]
        checks.sort(key=lambda function: function.__code__.co_firstlineno)
        found[path.stem.removeprefix("test_")] = checks
    return found
