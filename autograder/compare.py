"""Comparing a student's answer with the reference's, and showing values in feedback.

Answers arrive from the sandbox as plain data (:mod:`autograder.plain`), so the
comparison here sees only values, never a student's objects. A comparison
returns ``None`` when the answers agree and otherwise one line saying what
differs; a difference inside a dict starts with the key in brackets
(``"['better']: wrong value"``), which is how a check's hint knows whether it
concerns what failed.

:func:`as_code` writes an input as Python a student can paste into a cell to
reproduce a failure.
"""

from __future__ import annotations

import math
import re
import reprlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from autograder.plain import Opaque


@dataclass(frozen=True)
class Raises:
    """The expected outcome of a call that must raise ``error`` (an exception class or its name)."""

    error: str | type = "ValueError"

    @property
    def name(self) -> str:
        return self.error if isinstance(self.error, str) else self.error.__name__


@dataclass(frozen=True)
class Raised:
    """What a student's call raised (exception class names, most specific first)."""

    types: tuple[str, ...]
    message: str = ""


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
        if isinstance(actual, Raised) and expected.name in actual.types:
            return None
        got = f"raised {actual.types[0]}" if isinstance(actual, Raised) else f"returned {show(actual)}"
        return f"should raise {expected.name}, but {got}"
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


def _kinds(values) -> str:
    """The types found in an object column, e.g. ``"float and str values"``."""
    return " and ".join(sorted({type(v).__name__ for v in values})) + " values"


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
            # astype(float) would read the text "nan" or "0.5" as a number; text is not a number.
            if got.dtype == object and not all(v is None or _is_real(v) for v in got):
                return f"column {column!r} should be numeric, got {_kinds(got)}"
            try:
                numbers = got.astype(float)
            except (TypeError, ValueError):
                return f"column {column!r} should be numeric, got {got.dtype}"
            if not np.allclose(wanted.astype(float), numbers, rtol=REL, atol=ABS, equal_nan=True):
                return f"column {column!r} has wrong values"
        elif [str(v) for v in wanted] != [str(v) for v in got]:
            return f"column {column!r} has wrong values"
    return None


# --- showing values in feedback ---------------------------------------------------------------------

_repr = reprlib.Repr()
_repr.maxlist = _repr.maxtuple = 12
_repr.maxstring = 80
_repr.maxother = 200
_repr.maxdict = 8


def show(value) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, Raises):
        return f"raises {value.name}"
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


# --- inputs as code a student can run --------------------------------------------------------------

MAX_CODE = 6000
"""Longest input printed as code; a longer one is described instead."""


def as_code(value) -> str:
    """``value`` as a Python expression (using ``np`` and ``pd``) that rebuilds it.

    Examples
    --------
    >>> as_code(pd.Series([1.5, 2.0], name="score"))
    "pd.Series([1.5, 2.0], name='score')"
    >>> as_code(np.array([True, False]))
    'np.array([True, False])'
    """
    if value is None or isinstance(value, (bool, str)):
        return repr(value)
    if isinstance(value, np.bool_):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return f'float("{number}")' if math.isnan(number) or math.isinf(number) else repr(number)
    if isinstance(value, pd.Timestamp):
        return f'pd.Timestamp("{value.isoformat()}")'
    if isinstance(value, pd.DataFrame):
        columns = ", ".join(f"{column!r}: {_values(value[column])}" for column in value.columns)
        return f"pd.DataFrame({{{columns}}}{_index(value.index)})"
    if isinstance(value, pd.Series):
        name = f", name={value.name!r}" if value.name is not None else ""
        return f"pd.Series({_values(value)}{_index(value.index)}{name})"
    if isinstance(value, np.ndarray):
        dtype = "" if value.dtype.kind in "bfU" or value.dtype == np.int64 else f", dtype=np.{value.dtype.name}"
        if value.dtype.kind == "M" and value.ndim == 1:
            return f"{_values(pd.Series(value))}.to_numpy()"
        return f"np.array({as_code(value.tolist())}{dtype})"
    if isinstance(value, list):
        return _list_code(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(as_code(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{as_code(k)}: {as_code(v)}" for k, v in value.items()) + "}"
    return repr(value)


SHORT_LIST = 20
"""Lists up to this long are written item by item; longer ones compress their runs."""

MIN_RUN = 4
"""Shortest run written as a run; shorter ones stay item by item."""

_NUMBERED = re.compile(r"^(.*?)(\d+)$", re.DOTALL)


def _list_code(items: list) -> str:
    """A list as code; a long one as a sum of runs, so a 1,000-row day stays one line.

    Examples
    --------
    >>> _list_code([0] * 30 + [1, 2])
    '[0] * 30 + [1, 2]'
    >>> _list_code([f"d-l{i}" for i in range(25)])
    "[f'd-l{i}' for i in range(0, 25)]"
    """
    codes = [as_code(item) for item in items]
    if len(items) <= SHORT_LIST:
        return "[" + ", ".join(codes) + "]"
    parts, loose, start = [], [], 0
    while start < len(items):
        end = _run_end(items, codes, start)
        if end - start < MIN_RUN:
            loose.append(codes[start])
            start += 1
            continue
        if loose:
            parts.append("[" + ", ".join(loose) + "]")
            loose = []
        parts.append(_run_code(items, codes, start, end))
        start = end
    if loose:
        parts.append("[" + ", ".join(loose) + "]")
    return " + ".join(parts)


def _run_end(items: list, codes: list[str], start: int) -> int:
    """End of the longest run from ``start``: equal items, or strings numbered one after another."""
    end = start + 1
    while end < len(items) and codes[end] == codes[start]:
        end += 1
    numbered = isinstance(items[start], str) and _NUMBERED.match(items[start])
    if end - start > 1 or not numbered or str(int(numbered.group(2))) != numbered.group(2):
        return end
    prefix, first = numbered.group(1), int(numbered.group(2))
    while end < len(items) and items[end] == f"{prefix}{first + end - start}":
        end += 1
    return end


def _run_code(items: list, codes: list[str], start: int, end: int) -> str:
    if codes[start] == codes[end - 1]:
        return f"[{codes[start]}] * {end - start}"
    prefix, first = _NUMBERED.match(items[start]).groups()
    literal = repr(prefix.replace("{", "{{").replace("}", "}}"))
    return f"[f{literal[:-1]}{{i}}{literal[-1]} for i in range({first}, {int(first) + end - start})]"


def _values(column: pd.Series) -> str:
    if column.dtype.kind == "M":
        days = [value.strftime("%Y-%m-%d") if value == value.normalize() else value.isoformat()
                for value in column]
        return f"pd.to_datetime({_list_code(days)})"
    return as_code(column.tolist())


def _index(index: pd.Index) -> str:
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None:
        return ""
    name = f", name={index.name!r}" if index.name is not None else ""
    return f", index=pd.Index({as_code(index.tolist())}{name})"


def call_as_code(function: str, args: tuple, kwargs: dict) -> str:
    """The call ``function(*args, **kwargs)`` as code, or a description when it is too long to print."""
    parts = [as_code(value) for value in args] + [f"{name}={as_code(value)}" for name, value in kwargs.items()]
    code = f"{function}({', '.join(parts)})"
    if len(code) <= MAX_CODE:
        return code
    described = [show(value) for value in args] + [f"{name}={show(value)}" for name, value in kwargs.items()]
    return f"# too large to print in full; abridged:\n    {function}({', '.join(described)})"


def size(*values) -> int:
    """Number of scalars in the arguments, to find the smallest failing input."""
    total = 0
    for value in values:
        if isinstance(value, (pd.DataFrame, pd.Series, np.ndarray)):
            total += int(np.size(value))
        elif isinstance(value, (list, tuple)):
            total += size(*value)
        elif isinstance(value, dict):
            total += size(*value.values())
        else:
            total += 1
    return total


def matches_written(expected, written) -> bool:
    """Whether the reference's answer agrees with an answer written beside a hand-picked case.

    Written floats may be rounded to four significant digits; NaN matches NaN.
    """
    if isinstance(written, Raises) or isinstance(expected, Raises):
        return isinstance(written, Raises) and isinstance(expected, Raises) and written.name == expected.name
    if isinstance(expected, np.ndarray):
        expected = expected.tolist()
    if isinstance(written, (bool, np.bool_)) or written is None or isinstance(written, str):
        return type(expected) in (bool, np.bool_) and bool(expected) == written if isinstance(
            written, (bool, np.bool_)) else expected == written
    if _is_real(written):
        if not _is_real(expected):
            return False
        if math.isnan(float(written)) or math.isnan(float(expected)):
            return math.isnan(float(written)) and math.isnan(float(expected))
        return math.isclose(float(expected), float(written), rel_tol=5e-4, abs_tol=1e-9)
    if isinstance(written, (list, tuple)):
        return isinstance(expected, (list, tuple)) and len(expected) == len(written) and all(
            matches_written(e, w) for e, w in zip(expected, written))
    if isinstance(written, dict):
        return isinstance(expected, dict) and set(expected) == set(written) and all(
            matches_written(expected[key], written[key]) for key in written)
    if isinstance(written, pd.DataFrame):
        return same_frame(written, expected) is None
    return expected == written
