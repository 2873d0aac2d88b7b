"""Turn one student's grading result into what the student reads.

* :func:`feedback_text` -- the student's feedback, readable as Markdown;
* :func:`gradescope_results` -- Gradescope's ``results.json`` format.

The class-level report is :mod:`autograder.class_report`.
"""

from __future__ import annotations

import re

STATUS_MESSAGES = {
    "graded": "graded",
    "invalid_json": "not graded: the file is not a valid notebook (invalid JSON)",
    "not_a_notebook": "not graded: the file is not a Jupyter notebook",
    "unsupported_nbformat": "not graded: old notebook format",
    "not_utf8": "not graded: the file is not UTF-8 text",
    "too_large": "not graded: the file is too large",
    "wrong_assignment": "not graded: the notebook belongs to another assignment",
    "missing": "not graded: no notebook was found in the submission folder",
    "error": "not graded: the grader failed on this submission (tell your TA)",
    "too_late": "not graded: submitted later than the course accepts",
    "invalid_student_id": "not graded: the submission folder's name is not a usable student id",
}


def feedback_text(result) -> str:
    """The complete feedback of one submission, as Markdown."""
    lines = [f"# Feedback: {result.assignment}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**"
             + ("" if result.status == "graded" else f" ({STATUS_MESSAGES.get(result.status, result.status)})"),
             ""]
    if result.overrides or result.late_penalty or (result.lateness is not None and result.lateness.refused):
        lines += [f"The checks gave {result.raw_score:g}; " + "; ".join(
            [*(["your teaching team adjusted it (below)"] if result.overrides else []),
             *([f"the late penalty is {result.late_penalty:g}"] if result.late_penalty else [])]) + ".", ""]
    if result.lateness is not None and result.lateness.describe():
        lines += ["## Submission time", "", result.lateness.describe(), ""]
    if result.overrides:
        lines += ["## Adjusted by your teaching team", ""] + [f"- {text}" for text in result.overrides] + [""]
    if result.messages:
        lines += ["## About your notebook", ""] + [f"- {message}" for message in result.messages] + [""]
    for function in result.functions.values():
        lines += [f"## `{function.name}`: {function.score:g} / {function.max_score:g}", ""]
        if function.problem:
            lines += [f"{function.name} {function.problem}" if not function.problem.startswith(function.name)
                      else function.problem, ""]
        lines += [f"Note: {note}" for note in function.notes] + ([""] if function.notes else [])
        if function.checks and not function.attempted:
            lines += [f"Not attempted: {function.name} still raises NotImplementedError, so none of its "
                      f"{len(function.checks)} checks passed.", ""]
            continue
        for check in function.checks:
            mark = "passed" if check.passed else "FAILED"
            lines.append(f"- {mark} ({check.score:g}/{check.max_score:g}): {check.name}")
            if not check.passed and check.feedback:
                text = (f"Checks that: {check.contract}\n" if check.contract else "") + check.feedback
                fence = _fence(text)
                lines += ["", f"  {fence}text"] + [f"  {line}" for line in text.splitlines()] \
                    + [f"  {fence}", ""]
        lines.append("")
    lines += ["---", f"Graded in isolation ({result.isolation}). Your code ran in a separate process; "
              "its printed output is not part of the grade."]
    return "\n".join(lines).rstrip() + "\n"


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text`` (which may quote a student's strings)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def gradescope_results(result, extra: dict | None = None, hide_checks: bool = False) -> dict:
    """Gradescope's results.json: overall score plus one test per check.

    ``hide_checks`` shows the checks to students only after the due date.
    """
    visibility = "after_due_date" if hide_checks else "visible"
    tests = []
    for function in result.functions.values():
        if function.problem or not function.checks:
            tests.append({"name": f"{function.name}", "score": function.score, "max_score": function.max_score,
                          "status": "failed", "output": function.problem or "not graded",
                          "visibility": visibility})
            continue
        for check in function.checks:
            test = {"name": f"{function.name}: {check.name}", "score": check.score,
                    "max_score": check.max_score, "status": "passed" if check.passed else "failed",
                    "output": check.feedback, "visibility": visibility}
            if check.mistake:
                test["extra_data"] = {"mistake": check.mistake}
            tests.append(test)
    output = [*result.messages]
    if result.lateness is not None and result.lateness.describe():
        output.insert(0, result.lateness.describe())
    output[:0] = [f"Adjusted by your teaching team: {text}" for text in result.overrides]
    if result.isolation.startswith("WEAK"):
        output.insert(0, result.isolation)
    functions = {name: {"score": f.score, "max_score": f.max_score, "attempted": f.attempted}
                 for name, f in result.functions.items()}
    return {"score": result.score, "max_score": result.max_score, "output": "\n".join(output),
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": result.status, "isolation": result.isolation, "raw_score": result.raw_score,
                           "late_penalty": result.late_penalty, "overrides": result.overrides,
                           "functions": functions, **(extra or {})}}
