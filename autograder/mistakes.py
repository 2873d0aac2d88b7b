"""Known mistakes: small edits of the reference solution, each naming one misconception.

A mistake is written once, in its assignment's ``mistakes.py``, as text
replacements in the reference code of one graded function::

    Mistake(
        "table_transposed", "mcnemar_table",
        "Wrong orientation: table[0][1] counts A correct and B wrong, table[1][0] A wrong and B correct.",
        replace={"[np.sum(a_right & b_right), np.sum(a_right & ~b_right)]":
                 "[np.sum(a_right & b_right), np.sum(~a_right & b_right)]", ...},
    )

From that one entry

* the graders diagnose a failing answer: when the edited reference gives the
  student's answers on the failing inputs, the feedback shows the mistake's hint;
* the tests build a wrong-answer submission (the reference notebook with the
  edit) that must lose points in ``function`` with feedback containing the hint.

The replacements apply to the solution cell of ``function`` in
``solutions/<id>/<id>.ipynb``; each ``old`` text must occur there exactly once,
so a mistake that no longer fits the reference fails loudly instead of
silently testing nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.reference import ROOT, reference_cells, reference_source


@dataclass(frozen=True)
class Mistake:
    """One misconception, as an edit of the reference.

    Parameters
    ----------
    name : str
        Short identifier, e.g. ``"table_transposed"`` (also the fixture's name).
    function : str
        The graded function the edit is made in (and that must lose points).
    hint : str
        What the student should learn, shown when this mistake explains a failure.
    replace : dict of str to str
        ``{old: new}`` texts in the function's reference solution cell.
    also_loses : tuple of str
        Other graded functions that call ``function`` and so lose points too.
    """

    name: str
    function: str
    hint: str
    replace: dict[str, str] = field(default_factory=dict)
    also_loses: tuple[str, ...] = ()


class MistakeDoesNotApply(ValueError):
    """A mistake's ``old`` text is not found exactly once in the reference."""


def edited_cell(assignment: str, mistake: Mistake, root: Path = ROOT) -> str:
    """The reference solution cell of ``mistake.function`` with the mistake made.

    Raises
    ------
    MistakeDoesNotApply
        If an ``old`` text does not occur exactly once, or the edit changes nothing.
    """
    cells = reference_cells(assignment, root)
    if mistake.function not in cells:
        raise MistakeDoesNotApply(f"{assignment}/{mistake.name}: no answer cell {mistake.function!r}")
    source = cells[mistake.function]
    if not mistake.replace:
        raise MistakeDoesNotApply(f"{assignment}/{mistake.name}: replace is empty")
    for old, new in mistake.replace.items():
        count = source.count(old)
        if count != 1:
            raise MistakeDoesNotApply(f"{assignment}/{mistake.name}: {old!r} occurs {count} times in the "
                                      f"reference of {mistake.function}, not once")
        source = source.replace(old, new)
    return source


def implementation(assignment: str, mistake: Mistake, root: Path = ROOT, function: str | None = None) -> Callable:
    """The mistaken function, run in the trusted process (it is instructor code).

    The other graded functions are the reference's, so a mistake in one
    function does not hide behind another. ``function`` picks another graded
    function of the same edited code (one that calls the mistaken one).
    """
    code = reference_source(assignment, root, replace={mistake.function: edited_cell(assignment, mistake, root)})
    namespace: dict = {"__name__": f"mistake_{assignment}_{mistake.name}"}
    exec(compile(code, f"<mistake {assignment}/{mistake.name}>", "exec"), namespace)
    return namespace[function or mistake.function]


def known_mistakes(assignment: str) -> list[Mistake]:
    """``MISTAKES`` of ``autograder/assignments/<assignment>/mistakes.py`` (empty without the file)."""
    from autograder.assignments import get

    path = get(assignment).folder / "mistakes.py"
    if not path.exists():
        return []
    mistakes = list(importlib.import_module(f"autograder.assignments.{assignment}.mistakes").MISTAKES)
    names = [m.name for m in mistakes]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{path}: mistake names {duplicated} are used twice")
    return mistakes
