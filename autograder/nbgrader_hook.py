"""What nbgrader's hidden test cells call, so nbgrader and the TA command agree.

Each hidden test cell of an instructor notebook ends with::

    from autograder.nbgrader_hook import points_for
    points_for("ks_drift", "ks_statistic")

When ``nbgrader autograde`` (or ``validate``) executes a submission, the call
grades the notebook file being executed -- in the sandbox, with the same checks
as ``python -m autograder grade`` -- prints that function's feedback and returns
its points. nbgrader takes a number returned by a test cell as partial credit,
so both tools give the same score. The notebook is graded once per kernel and
the result reused by the other hidden cells.
"""

from __future__ import annotations

from pathlib import Path

_RESULTS: dict[tuple[str, str, float], object] = {}


def _notebook(assignment: str) -> Path:
    path = Path.cwd() / f"{assignment}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(
            f"hidden tests grade the notebook file {path}; run the notebook from its own folder"
        )
    return path


def points_for(assignment: str, function: str) -> float:
    """Grade the executing notebook (once) and return ``function``'s points."""
    from autograder.grading import grade_notebook

    path = _notebook(assignment)
    key = (str(path), assignment, path.stat().st_mtime)
    if key not in _RESULTS:
        _RESULTS[key] = grade_notebook(path, assignment)
    result = _RESULTS[key]
    graded = result.functions[function]
    print(f"{function}: {graded.score:g} / {graded.max_score:g}")
    if graded.problem:
        print(f"  {graded.problem}")
    for check in graded.checks:
        print(f"  {'passed' if check.passed else 'FAILED'}: {check.name}")
        if not check.passed:
            print("    " + check.feedback.replace("\n", "\n    "))
    return float(graded.score)
