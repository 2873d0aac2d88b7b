"""Turn grading results into what students and TAs read.

* :func:`feedback_text` -- the student's feedback, readable as Markdown;
* :func:`gradescope_results` -- Gradescope's ``results.json`` format;
* :func:`class_summary` -- per-check pass rates over a class, as a table and a figure.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pandas as pd

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
}


def feedback_text(result) -> str:
    """The complete feedback of one submission, as Markdown."""
    lines = [f"# Feedback: {result.assignment}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**"
             + ("" if result.status == "graded" else f" ({STATUS_MESSAGES.get(result.status, result.status)})"),
             ""]
    if result.messages:
        lines += ["## About your notebook", ""] + [f"- {message}" for message in result.messages] + [""]
    for function in result.functions.values():
        lines += [f"## `{function.name}`: {function.score:g} / {function.max_score:g}", ""]
        if function.problem:
            lines += [f"{function.name} {function.problem}" if not function.problem.startswith(function.name)
                      else function.problem, ""]
        lines += [f"Note: {note}" for note in function.notes] + ([""] if function.notes else [])
        for check in function.checks:
            mark = "passed" if check.passed else "FAILED"
            lines.append(f"- {mark} ({check.score:g}/{check.max_score:g}): {check.name}")
            if not check.passed and check.feedback:
                fence = _fence(check.feedback)
                lines += ["", f"  {fence}text"] + [f"  {line}" for line in check.feedback.splitlines()] \
                    + [f"  {fence}", ""]
        lines.append("")
    lines += ["---", f"Graded in isolation ({result.isolation}). Your code ran in a separate process; "
              "its printed output is not part of the grade."]
    return "\n".join(lines).rstrip() + "\n"


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in ``text`` (which may quote a student's strings)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def gradescope_results(result, extra: dict | None = None) -> dict:
    """Gradescope's results.json: overall score plus one test per check."""
    tests = []
    for function in result.functions.values():
        if function.problem or not function.checks:
            tests.append({"name": f"{function.name}", "score": 0.0, "max_score": function.max_score,
                          "status": "failed", "output": function.problem or "not graded",
                          "visibility": "visible"})
            continue
        for check in function.checks:
            tests.append({"name": f"{function.name}: {check.name}", "score": check.score,
                          "max_score": check.max_score, "status": "passed" if check.passed else "failed",
                          "output": check.feedback, "visibility": "visible"})
    output = "\n".join(result.messages)
    if result.isolation.startswith("WEAK"):
        output = f"{result.isolation}\n{output}".rstrip()
    return {"score": result.score, "max_score": result.max_score, "output": output,
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests,
            "extra_data": {"status": result.status, "isolation": result.isolation, **(extra or {})}}


def class_summary(results: Iterable[dict]) -> pd.DataFrame:
    """Share of students passing each check, worst first, from results.json contents."""
    rows = []
    for data in results:
        for test in data.get("tests", []):
            rows.append({"check": test["name"], "passed": test["status"] == "passed"})
    if not rows:
        return pd.DataFrame(columns=["students", "passed", "pass_rate"])
    frame = pd.DataFrame(rows)
    summary = frame.groupby("check")["passed"].agg(students="size", passed="sum")
    summary["pass_rate"] = summary["passed"] / summary["students"]
    return summary.sort_values(["pass_rate", "students"]).reset_index()


def plot_class_summary(summary: pd.DataFrame, title: str) -> bytes:
    """A horizontal bar chart of pass rates per check, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    height = max(3.0, 0.35 * len(summary) + 1.2)
    fig, ax = plt.subplots(figsize=(10, height), constrained_layout=True)
    labels = [name if len(name) <= 70 else name[:67] + "..." for name in summary["check"]]
    ax.barh(labels, summary["pass_rate"] * 100, color="#0072B2")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students passing the check (%)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    buffer = io.BytesIO()
    # No timestamp in the file: a re-run writes identical bytes.
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
