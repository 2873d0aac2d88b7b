"""Reference functions lent to a student's function, answering only what the reference itself asks.

While ``run_canary_rollout`` is graded, its callees ``assign_to_canary`` and
``canary_decision`` are replaced by the reference's, so a mistake in a callee
is not charged twice. A lent function is a lookup table, not the reference:

* when the plan is built, the reference solves each case with its callees
  wrapped, and every call it makes is recorded with its answer;
* while grading, a call from the student's function is answered only if the
  reference made the same call (same values, however they are typed or
  passed) for the case being graded; anything else is refused, and the child
  answers it with the student's own function, so a student's different (or
  mistaken) use of a callee gets the answer their own code gives;
* an :class:`~autograder.checks.Oracle` with ``per_item`` answers item by item
  over one parameter (the ids of ``assign_to_canary``), so bucketing a day's
  emails in one call or in several gets the same answers;
* each case may ask at most a few times what the reference asked.

So a lent function can neither be used to compute reference answers for other
inputs (a later check, another student) nor make the grading process do
unbounded work.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from autograder import plain

CALLS_PER_RECORDED = 4
"""A case may ask this many times what the reference asked, plus :data:`SPARE_CALLS`."""
SPARE_CALLS = 64


def canonical(value, depth: int = 0):
    """A JSON-ready form of ``value`` in which equal data compare equal, whatever its container."""
    if depth > 16:
        raise ValueError("nested too deeply")
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return ["b", bool(value)]
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            number = float(value)
        except OverflowError:
            return ["n", str(value)[:64]]
        return ["n", "nan" if math.isnan(number) else repr(number)]
    if isinstance(value, pd.Timestamp):
        return ["t", value.isoformat()]
    if isinstance(value, pd.DataFrame):
        return ["frame", [[str(column), canonical(value[column], depth + 1)] for column in value.columns]]
    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy()
    if isinstance(value, (list, tuple)) and value and all(_is_number(item) for item in value):
        value = np.asarray(value, dtype=float)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "M":
            return ["seq", [["t", str(v)] for v in value.ravel()]]
        if value.dtype.kind in "iuf" and value.ndim == 1:
            # Numbers as one digest: a lent call with a long sample is answered without a walk per item.
            numbers = np.where(value == 0, 0.0, value.astype(float))  # -0.0 is 0.0
            return ["numbers", hashlib.sha256(numbers.tobytes()).hexdigest()]
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return ["seq", [canonical(item, depth + 1) for item in value]]
    if isinstance(value, dict):
        return ["dict", sorted([str(key), canonical(item, depth + 1)] for key, item in value.items())]
    return ["?", type(value).__name__]


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode("utf-8")).hexdigest()


def _bound(function: Callable, args, kwargs) -> inspect.BoundArguments:
    bound = inspect.signature(function).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound


@dataclass
class CaseOracles:
    """What the reference asked its callees while solving one case, and the answers."""

    exact: dict[tuple[str, str], Any] = field(default_factory=dict)
    items: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    calls: int = 0
    recorded_items: int = 0

    def allowance(self) -> tuple[int, int]:
        """How many calls, and how many items over all per-item calls, one case may ask for."""
        items = CALLS_PER_RECORDED * self.recorded_items + SPARE_CALLS
        return CALLS_PER_RECORDED * self.calls + items, items


class Lender:
    """Lends the reference's callees of one check; builds and answers from per-case tables."""

    def __init__(self, reference: dict[str, Callable], oracles: tuple) -> None:
        self.reference = reference
        self.per_item = {o if isinstance(o, str) else o.name: (None if isinstance(o, str) else o.per_item)
                         for o in oracles}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.per_item)

    def record(self, solve: Callable[[], Any]) -> tuple[Any, CaseOracles]:
        """Run ``solve()`` with the callees wrapped; return its result and what they were asked."""
        table = CaseOracles()
        if not self.per_item:
            return solve(), table
        namespace = next(iter(self.reference.values())).__globals__
        originals = {name: namespace[name] for name in self.per_item}

        def wrap(name):
            def recorded_call(*args, **kwargs):
                answer = originals[name](*args, **kwargs)
                self._remember(table, name, args, kwargs, answer)
                return answer
            return recorded_call

        try:
            namespace.update({name: wrap(name) for name in self.per_item})
            return solve(), table
        finally:
            namespace.update(originals)

    def _remember(self, table: CaseOracles, name: str, args, kwargs, answer) -> None:
        bound = _bound(self.reference[name], args, kwargs)
        item_parameter = self.per_item[name]
        table.calls += 1
        if item_parameter is None:
            table.exact[(name, _digest([canonical(v) for v in bound.arguments.values()]))] = answer
            return
        others = _digest([canonical(v) for k, v in bound.arguments.items() if k != item_parameter])
        answers = np.asarray(answer)
        table.dtypes[name] = answers.dtype.name
        table.recorded_items += answers.size
        for item, value in zip(list(bound.arguments[item_parameter]), answers.tolist()):
            table.items[(name, others, _digest(canonical(item)))] = value

    def answer(self, table: CaseOracles, spent: dict[str, int], name: str, args, kwargs):
        """The plain-encoded answer to one call from the child, or ``LookupError`` to refuse it.

        ``spent`` counts the calls and items this case has asked for so far.
        """
        if name not in self.per_item:
            raise LookupError(f"{name} is not lent to this function")
        refusal = LookupError(f"the lent {name} answers only the calls the reference makes for this input; "
                              "check the arguments you pass to it")
        calls, items = table.allowance()
        spent["calls"] = spent.get("calls", 0) + 1
        if spent["calls"] > calls:
            raise refusal
        try:
            args, kwargs = plain.decode(args), plain.decode(kwargs)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError
            bound = _bound(self.reference[name], args, kwargs)
        except Exception:
            raise LookupError(f"{name} was called with arguments it does not accept") from None
        item_parameter = self.per_item[name]
        try:
            if item_parameter is None:
                return plain.encode(table.exact[(name, _digest([canonical(v) for v in bound.arguments.values()]))])
            asked = bound.arguments[item_parameter]
            asked = asked.tolist() if isinstance(asked, (np.ndarray, pd.Series, pd.Index)) else list(asked)
            spent["items"] = spent.get("items", 0) + len(asked)
            if spent["items"] > items:
                raise refusal
            others = _digest([canonical(v) for k, v in bound.arguments.items() if k != item_parameter])
            values = [table.items[(name, others, _digest(canonical(item)))] for item in asked]
            return plain.encode(np.asarray(values, dtype=table.dtypes.get(name, "bool")))
        except (KeyError, TypeError, ValueError, RecursionError):
            raise refusal from None
