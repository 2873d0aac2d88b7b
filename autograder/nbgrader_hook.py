"""nbgrader's side of the graders: scores computed on the trusted side, never by the notebook.

``nbgrader autograde`` normally executes the submission in a Jupyter kernel and
reads each hidden test cell's output as its score -- so the notebook's own code
could patch the grading function and award itself full marks. This course's
``nbgrader_config.py`` replaces nbgrader's ``Execute`` step with
:class:`SandboxedAutograde`: the submission is graded in the sandbox, with the
same checks as ``python -m autograder grade``, and each hidden test cell gets
an output written here, in nbgrader's process: the function's feedback and its
points, which nbgrader records as partial credit. The notebook's code never
runs in a kernel during ``autograde``.

:func:`points_for` is what the hidden test cells themselves call, for
``nbgrader validate`` on an instructor notebook (trusted code) and for setups
that keep nbgrader's kernel execution.
"""

from __future__ import annotations

import ast
import atexit
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

_GRADERS: dict[str, object] = {}
_RESULTS: dict[tuple[str, str, float], object] = {}


def _grader(assignment: str):
    from autograder.grading import Grader

    if assignment not in _GRADERS:
        _GRADERS[assignment] = Grader(assignment)
        atexit.register(_GRADERS[assignment].close)
    return _GRADERS[assignment]


def graded_function(source: str) -> tuple[str, str] | None:
    """``(assignment, function)`` of a hidden test cell's ``points_for(...)`` call, if it has one."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "points_for" \
                and len(node.args) == 2 and all(isinstance(a, ast.Constant) and isinstance(a.value, str)
                                                for a in node.args):
            return node.args[0].value, node.args[1].value
    return None


def function_report(result, function: str) -> str:
    """The feedback of one graded function, as a hidden test cell prints it."""
    graded = result.functions[function]
    lines = [f"{function}: {graded.score:g} / {graded.max_score:g}"]
    if graded.problem:
        lines.append(f"  {graded.problem}")
    for check in graded.checks:
        lines.append(f"  {'passed' if check.passed else 'FAILED'}: {check.name}")
        if not check.passed:
            lines.append("    " + check.feedback.replace("\n", "\n    "))
    return "\n".join(lines) + "\n"


class SandboxedAutograde(Preprocessor):
    """nbgrader's autograde step with the submission run in the sandbox instead of a kernel.

    Reads the sanitized notebook (nbgrader has already restored the read-only
    and hidden test cells from its database), grades it, and writes each hidden
    test cell's outputs: the feedback on stdout and the points as the cell's
    result. Whatever the notebook's cells contain, they are only ever run in
    the sandbox. Refuses, like the TA command, where the sandbox is unavailable.
    """

    enabled = Bool(True)  # nbconvert runs only the preprocessors that are enabled

    def preprocess(self, nb, resources):
        from autograder.grading import ungraded
        from autograder.submission import SubmissionProblem, parse_submission

        assignment = resources["nbgrader"]["assignment"]
        grader = _grader(assignment)
        try:
            result = grader.grade_submission(parse_submission(nbformat.writes(nb).encode("utf-8"), assignment))
        except SubmissionProblem as problem:
            result = ungraded(grader.plan, grader.isolation, problem.status, problem.message)
        count = 0
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            target = graded_function(cell.source)
            count += 1
            cell.execution_count = count
            if target is None or target[0] != assignment or target[1] not in result.functions:
                # nbgrader would give an empty output full marks: refuse instead of guessing.
                raise ValueError(f"graded cell {meta.get('grade_id')!r} of {assignment} does not call "
                                 f"points_for({assignment!r}, <graded function>)")
            score = result.functions[target[1]].score
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text=function_report(result, target[1])),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(score))},
                                       execution_count=count),
            ]
        return nb, resources


def _notebook(assignment: str) -> Path:
    path = Path.cwd() / f"{assignment}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(
            f"hidden tests grade the notebook file {path}; run the notebook from its own folder"
        )
    return path


def points_for(assignment: str, function: str) -> float:
    """Grade the executing notebook's file (once) in the sandbox and return ``function``'s points."""
    path = _notebook(assignment)
    key = (str(path), assignment, path.stat().st_mtime)
    if key not in _RESULTS:
        _RESULTS[key] = _grader(assignment).grade(path)
    result = _RESULTS[key]
    print(function_report(result, function), end="")
    return float(result.functions[function].score)
