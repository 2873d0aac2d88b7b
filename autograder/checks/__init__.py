"""What the graders check: cases, comparisons and hints, per graded function.

A function's points are split across :class:`Check` groups. A group passes when
the student's function gives the reference's answer on **every** one of its
cases -- named edge cases or hundreds of seeded random inputs -- so a mistake
cannot hide between a few lucky examples. Expected answers are computed in the
trusted process from the reference solution; the student's answers come back
from the sandbox as plain data.

When a group fails, the feedback shows the smallest failing input, the
expected and the actual answer, and a hint. The hint comes from the first
:class:`Mistake` whose (deliberately wrong) implementation reproduces the
student's answer on that input, or else from the group's generic hint.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from autograder.plain import Opaque


@dataclass(frozen=True)
class Case:
    """One call: positional and keyword arguments, and a size for ordering."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = ""
    size: int = 0


@dataclass(frozen=True)
class Raises:
    """The expected outcome of a call that must raise ``error`` (a class name)."""

    error: str = "ValueError"


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation, used only to name a student's misconception."""

    name: str
    implementation: Callable[..., Any]
    hint: str


@dataclass(frozen=True)
class Oracle:
    """A graded callee lent to the student's function during a check (see :mod:`autograder.oracles`).

    Parameters
    ----------
    name : str
        The callee, e.g. ``"assign_to_canary"``.
    per_item : str, optional
        A parameter over which calls are answered item by item (the ids of a
        bucketing function), so one call or several give the same answers.
    """

    name: str
    per_item: str | None = None


@dataclass
class Check:
    """A group of cases worth ``points`` of one function.

    Parameters
    ----------
    name : str
        Shown to students, e.g. ``"random samples with ties"``.
    points : float
        Points earned when every case passes.
    cases : callable
        ``cases(rng) -> list[Case]``, called once per grading run with a seeded
        ``numpy.random.Generator``.
    hint : str
        Shown when the group fails and no known mistake explains the answer.
    compare : callable, optional
        ``compare(expected, actual) -> str | None``: None when they agree,
        otherwise what differs. Defaults to :func:`same`.
    expect : callable, optional
        ``expect(reference, case) -> expected``; default calls the reference.
    property_check : callable, optional
        ``property_check(answers, cases) -> str | None`` for checks without a
        single right output (sticky bucketing): receives the student's answers.
    oracles : tuple of str or Oracle
        Graded callees replaced by the reference during this check; they
        answer only the calls the reference makes for the case being graded.
    numpy_only : bool
        Run in a child where SciPy's KS functions are tripwires (see also
        :attr:`FunctionSpec.numpy_only`).
    other_process : bool
        Also run the cases in a second, independently started interpreter and
        pass both answer lists to ``property_check``.
    """

    name: str
    points: float
    cases: Callable[[np.random.Generator], list[Case]]
    hint: str
    compare: Callable[[Any, Any], str | None] | None = None
    expect: Callable[[Callable, Case], Any] | None = None
    property_check: Callable[..., str | None] | None = None
    oracles: tuple[str | Oracle, ...] = ()
    numpy_only: bool = False
    other_process: bool = False


@dataclass
class FunctionSpec:
    """The grading plan of one graded function.

    ``numpy_only``: every check of the function runs with SciPy's KS functions
    disarmed, so a function that detects the tripwire gains nothing by it.
    """

    name: str
    parameters: tuple[str, ...]
    checks: list[Check]
    mistakes: list[Mistake] = field(default_factory=list)
    numpy_only: bool = False

    @property
    def points(self) -> float:
        return sum(check.points for check in self.checks)


# --- comparisons -----------------------------------------------------------------------------------

REL, ABS = 1e-9, 1e-12


def _is_real(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def close(expected: float, actual: float) -> bool:
    """Equal up to floating-point noise; NaN equals NaN."""
    if not _is_real(actual):
        return False
    expected, actual = float(expected), float(actual)
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return math.isclose(expected, actual, rel_tol=REL, abs_tol=ABS)


def same(expected, actual) -> str | None:
    """Structural comparison of plain values; None when they agree."""
    if isinstance(actual, Opaque):
        return f"returned {actual!r}, which is not a plain value"
    if isinstance(expected, Raises):
        if isinstance(actual, Raised) and expected.error in actual.types:
            return None
        got = f"raised {actual.types[0]}" if isinstance(actual, Raised) else f"returned {show(actual)}"
        return f"should raise {expected.error}, but {got}"
    if isinstance(actual, Raised):
        return f"raised {actual.types[0]}: {actual.message}"
    if isinstance(expected, (bool, np.bool_)):
        if not isinstance(actual, (bool, np.bool_)):
            return f"should return a bool, got {type(actual).__name__}"
        return None if bool(expected) == bool(actual) else "wrong truth value"
    if _is_real(expected):
        if isinstance(expected, (float, np.floating)) and not isinstance(actual, (float, np.floating)):
            if not (_is_real(actual) and float(actual).is_integer() and float(expected).is_integer()):
                return f"should return a float, got {type(actual).__name__}"
        return None if close(expected, actual) else "wrong value"
    if expected is None or isinstance(expected, str):
        return None if actual == expected and type(actual) is type(expected) else "wrong value"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"should return a dict, got {type(actual).__name__}"
        if set(actual) != set(expected):
            return f"dict keys should be {sorted(map(str, expected))}, got {sorted(map(str, actual))}"
        for key in expected:
            problem = same(expected[key], actual[key])
            if problem:
                return f"[{key!r}]: {problem}"
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            return f"should return a {type(expected).__name__} of length {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            problem = same(e, a)
            if problem:
                return f"item {i}: {problem}"
        return None
    if isinstance(expected, np.ndarray):
        return same_array(expected, actual)
    if isinstance(expected, pd.DataFrame):
        return same_frame(expected, actual)
    return None if expected == actual else "wrong value"


def same_array(expected: np.ndarray, actual, dtype_kind: str | None = None) -> str | None:
    if not isinstance(actual, np.ndarray):
        return f"should return a NumPy array, got {type(actual).__name__}"
    if actual.shape != expected.shape:
        return f"shape should be {expected.shape}, got {actual.shape}"
    kind = dtype_kind or expected.dtype.kind
    if kind == "b" and actual.dtype.kind != "b":
        return f"dtype should be bool, got {actual.dtype}"
    if kind in "iu" and actual.dtype.kind not in "iu":
        return f"dtype should be an integer type, got {actual.dtype}"
    if expected.dtype.kind == "f" and actual.dtype.kind in "fiu":
        return None if np.allclose(expected, actual.astype(float), rtol=REL, atol=ABS, equal_nan=True) \
            else "wrong values"
    return None if np.array_equal(expected, actual) else "wrong values"


def same_frame(expected: pd.DataFrame, actual) -> str | None:
    if not isinstance(actual, pd.DataFrame):
        return f"should return a pandas DataFrame, got {type(actual).__name__}"
    if list(actual.columns) != list(expected.columns):
        return f"columns should be exactly {list(expected.columns)}, got {list(actual.columns)}"
    if actual.index.name != expected.index.name:
        return f"the index should be named {expected.index.name!r}, got {actual.index.name!r}"
    if list(actual.index) != list(expected.index):
        return f"rows should be {show(list(expected.index))} in this order, got {show(list(actual.index))}"
    for column in expected.columns:
        wanted, got = expected[column].to_numpy(), actual[column].to_numpy()
        if wanted.dtype.kind == "b":
            if got.dtype.kind != "b" and not (got.dtype == object and all(isinstance(v, bool) for v in got)):
                return f"column {column!r} should hold booleans, got {got.dtype}"
            if [bool(v) for v in wanted] != [bool(v) for v in got]:
                return f"column {column!r} has wrong values"
        elif wanted.dtype.kind == "M":
            if not np.array_equal(pd.to_datetime(pd.Series(got)).to_numpy(), wanted):
                return f"column {column!r} has wrong dates"
        elif wanted.dtype.kind in "fiu":
            try:
                numbers = got.astype(float)
            except (TypeError, ValueError):
                return f"column {column!r} should be numeric, got {got.dtype}"
            if not np.allclose(wanted.astype(float), numbers, rtol=REL, atol=ABS, equal_nan=True):
                return f"column {column!r} has wrong values"
        elif [str(v) for v in wanted] != [str(v) for v in got]:
            return f"column {column!r} has wrong values"
    return None


@dataclass(frozen=True)
class Raised:
    """What a student's call raised (exception class names, most specific first)."""

    types: tuple[str, ...]
    message: str = ""


# --- showing values in feedback ---------------------------------------------------------------------

_repr = reprlib.Repr()
_repr.maxlist = _repr.maxtuple = 12
_repr.maxstring = 80
_repr.maxother = 200


def show(value) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, Raises):
        return f"raises {value.error}"
    if isinstance(value, Raised):
        return f"raised {value.types[0]}: {value.message[:200]}"
    if isinstance(value, pd.DataFrame):
        with pd.option_context("display.max_rows", 12, "display.max_columns", 8, "display.width", 100):
            text = value.to_string(max_rows=12)
        return "DataFrame:\n" + "\n".join("    " + line for line in text.splitlines())
    if isinstance(value, np.ndarray):
        if value.size <= 40:
            return f"array({value.tolist()!r}, dtype={value.dtype})"
        return f"array of shape {value.shape}, dtype {value.dtype}: {_repr.repr(value.ravel()[:12].tolist())}..."
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return _repr.repr(value)


def show_case(case: Case, parameters: Sequence[str]) -> str:
    parts = []
    for name, value in zip(parameters, case.args):
        parts.append(f"{name}={show(value)}")
    parts += [f"{name}={show(value)}" for name, value in case.kwargs.items()]
    return ", ".join(parts)


def case_size(*values) -> int:
    """Number of scalars in the arguments, to find the smallest failing input."""
    total = 0
    for value in values:
        if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
            total += int(np.size(value))
        elif isinstance(value, (list, tuple)):
            total += case_size(*value)
        elif isinstance(value, dict):
            total += case_size(*value.values())
        else:
            total += 1
    return total
