"""The graded assignments, one folder each, found by looking.

An assignment is a folder ``autograder/assignments/<id>/`` holding

``assignment.toml``
    the graded functions in notebook order with their points, and rules the
    sandbox applies (``[forbidden_calls.<function>]``: the ``calls`` a graded
    function may not make, and the ``reason`` a student is told);
``test_<function>.py``
    the hidden checks of one graded function (pytest test functions, see
    :mod:`autograder.check`);
``mistakes.py``
    the known mistakes: small edits of the reference solution that name a
    misconception, diagnose a student's answer and become wrong-answer fixtures;
``fixtures/correct/``, ``fixtures/hostile/``
    independently written correct solutions and hostile submissions,

plus its two notebooks, ``solutions/<id>/<id>.ipynb`` (the instructor source
with the reference) and ``exercises/<id>/<id>.ipynb`` (the student release).
Nothing else keeps a list of assignments: everything that needs one calls
:func:`assignments`.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Assignment:
    """What ``assignment.toml`` says about one assignment.

    Attributes
    ----------
    id : str
        The folder's name, also the notebooks' names and nbgrader's assignment id.
    points : dict of str to float
        Points of each graded function, in the order the notebook asks for them.
    forbidden_calls : dict of str to tuple of str
        Dotted names (``"scipy.stats.ks_2samp"``) each graded function may not call.
    forbidden_reasons : dict of str to str
        Why, in the words a student is shown.
    folder : Path
        ``autograder/assignments/<id>``.
    """

    id: str
    points: dict[str, float]
    forbidden_calls: dict[str, tuple[str, ...]]
    forbidden_reasons: dict[str, str]
    folder: Path

    @property
    def functions(self) -> tuple[str, ...]:
        """The graded functions, in notebook order."""
        return tuple(self.points)

    @property
    def max_score(self) -> float:
        return float(sum(self.points.values()))

    def check_modules(self) -> list[Path]:
        """``test_<function>.py`` of each graded function that has checks, in notebook order."""
        return [self.folder / f"test_{name}.py" for name in self.functions
                if (self.folder / f"test_{name}.py").exists()]


def _read(folder: Path) -> Assignment:
    with open(folder / "assignment.toml", "rb") as file:
        spec = tomllib.load(file)
    points = {str(name): float(value) for name, value in spec.get("functions", {}).items()}
    if not points:
        raise ValueError(f"{folder / 'assignment.toml'} lists no graded [functions]")
    rules = spec.get("forbidden_calls", {})
    unknown = sorted(set(rules) - set(points))
    if unknown:
        raise ValueError(f"{folder / 'assignment.toml'}: [forbidden_calls] names {unknown}, which are not graded")
    forbidden = {str(name): tuple(map(str, rule.get("calls", ()))) for name, rule in rules.items()}
    reasons = {str(name): str(rule.get("reason", "")) for name, rule in rules.items()}
    return Assignment(folder.name, points, forbidden, reasons, folder)


@functools.cache
def assignments() -> dict[str, Assignment]:
    """Every assignment folder, by id, sorted by id."""
    return {folder.name: _read(folder)
            for folder in sorted(HERE.iterdir()) if (folder / "assignment.toml").is_file()}


def get(assignment: str) -> Assignment:
    """The assignment ``assignment``.

    Raises
    ------
    ValueError
        If there is no such assignment, naming the ones there are.
    """
    known = assignments()
    if assignment not in known:
        raise ValueError(f"unknown assignment {assignment!r}; choose one of {', '.join(known)}")
    return known[assignment]


def forbidden_calls() -> tuple[str, ...]:
    """Every call any assignment forbids (the sandbox finds these once, when it starts)."""
    return tuple(sorted({name for a in assignments().values() for calls in a.forbidden_calls.values()
                         for name in calls}))
