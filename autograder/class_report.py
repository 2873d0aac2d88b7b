"""The class at a glance: what to revisit in the next lab, as a table, a figure and one HTML page.

Built from the students' ``results.json`` contents, so it needs no grading:

* each check's pass rate **among the students who attempted the function**
  (a notebook left as released does not pull every bar down), with the
  number who did not attempt it beside it;
* which known mistakes the feedback named, and how often;
* the distribution of final scores, and how many notebooks could not be graded.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections import Counter

import pandas as pd

from autograder.mistakes import Mistake

OKABE_ITO_BLUE, OKABE_ITO_ORANGE, OKABE_ITO_GREY = "#0072B2", "#E69F00", "#999999"


def _function_of(test_name: str) -> str:
    return test_name.split(":")[0].strip()


def class_summary(results: list[dict]) -> pd.DataFrame:
    """One row per check: students who attempted its function, how many passed, and who did not attempt it."""
    rows = []
    for data in results:
        extra = data.get("extra_data", {})
        if extra.get("status") != "graded":
            continue
        functions = extra.get("functions", {})
        for test in data.get("tests", []):
            attempted = functions.get(_function_of(test["name"]), {}).get("attempted", True)
            rows.append({"check": test["name"], "function": _function_of(test["name"]), "attempted": attempted,
                         "passed": attempted and test["status"] == "passed"})
    columns = ["check", "function", "attempted", "not_attempted", "passed", "pass_rate"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    summary = frame.groupby(["check", "function"], sort=False).agg(
        attempted=("attempted", "sum"), total=("attempted", "size"), passed=("passed", "sum")).reset_index()
    summary["not_attempted"] = summary["total"] - summary["attempted"]
    summary["pass_rate"] = (summary["passed"] / summary["attempted"].where(summary["attempted"] > 0)).round(4)
    return summary.sort_values(["pass_rate", "attempted"], na_position="last")[columns].reset_index(drop=True)


def hints_fired(results: list[dict], mistakes: dict[str, list[Mistake]]) -> pd.DataFrame:
    """How many students' feedback named each known mistake (once per student and mistake)."""
    counts: Counter = Counter()
    for data in results:
        named = {(_function_of(t["name"]), t.get("extra_data", {}).get("mistake")) for t in data.get("tests", [])}
        counts.update(pair for pair in named if pair[1])
    hints = {(function, m.name): m.hint for function, known in mistakes.items() for m in known}
    rows = [{"function": function, "mistake": name, "students": n, "hint": hints.get((function, name), "")}
            for (function, name), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return pd.DataFrame(rows, columns=["function", "mistake", "students", "hint"])


def scores(results: list[dict]) -> tuple[pd.Series, Counter]:
    """Final scores of the graded notebooks, and the count of every other status."""
    graded, others = [], Counter()
    for data in results:
        status = data.get("extra_data", {}).get("status")
        if status == "graded":
            graded.append(float(data.get("score", 0.0)))
        else:
            others[status] += 1
    return pd.Series(graded, dtype=float, name="score"), others


def plot(summary: pd.DataFrame, final: pd.Series, max_score: float, title: str) -> bytes:
    """Pass rates per check (full names) beside the distribution of scores, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    rows = max(len(summary), 1)
    fig, (bars, histogram) = plt.subplots(1, 2, figsize=(14, max(4.0, 0.42 * rows + 1.6)),
                                          gridspec_kw={"width_ratios": [2.3, 1]}, constrained_layout=True)
    labels = [textwrap.fill(name, 58) + f"\n({int(a)} attempted, {int(n)} not)"
              for name, a, n in zip(summary["check"], summary["attempted"], summary["not_attempted"])]
    bars.barh(labels, summary["pass_rate"].fillna(0) * 100, color=OKABE_ITO_BLUE)
    bars.invert_yaxis()
    bars.set_xlim(0, 100)
    bars.set_xlabel("students passing, of those who attempted the function (%)")
    bars.tick_params(axis="y", labelsize=8)
    bars.grid(axis="x", alpha=0.3)
    bins = [x / 2 for x in range(0, int(max_score * 2) + 2)]
    histogram.hist(final, bins=bins, color=OKABE_ITO_ORANGE, edgecolor="white")
    histogram.set_xlabel(f"final score (of {max_score:g})")
    histogram.set_ylabel("students")
    histogram.yaxis.set_major_locator(MaxNLocator(integer=True))
    histogram.set_title(f"{len(final)} graded notebooks")
    fig.suptitle(title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120, metadata={"Software": None})  # no timestamp: re-runs are identical
    plt.close(fig)
    return buffer.getvalue()


def _table(frame: pd.DataFrame, percent: tuple[str, ...] = ()) -> str:
    cells = frame.copy()
    for column in percent:
        cells[column] = cells[column].map(lambda v: "–" if pd.isna(v) else f"{v:.0%}")
    header = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in cells.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in cells.itertuples(index=False))
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


PAGE_STYLE = """body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
       color: #1a1a1a; background: #fff; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #d0d0d0; padding: 0.35rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
.scroll { overflow-x: auto; }
.note { color: #444; }"""
"""The look shared by the TA's report pages."""


def page(title: str, style: str, body: str) -> str:
    """A self-contained HTML page (no script, no external file) with the shared style and ``style`` added."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{html.escape(title)}</title>
<style>
{PAGE_STYLE}
{style}
</style></head>
<body>
{body}
</body></html>
"""


def html_page(assignment: str, summary: pd.DataFrame, hints: pd.DataFrame, final: pd.Series, others: Counter,
              figure: bytes, isolation: str) -> str:
    """The whole report as one self-contained page (the figure inline; no script, no external file)."""
    image = base64.b64encode(figure).decode("ascii")
    not_graded = ", ".join(f"{n} {html.escape(str(status))}" for status, n in sorted(others.items())) or "none"
    mean = f"{final.mean():.2f}" if len(final) else "–"
    median = f"{final.median():.2f}" if len(final) else "–"
    hint_rows = hints.rename(columns={"students": "students told"})
    style = """img { max-width: 100%; height: auto; }
img.figure { min-width: 52rem; }  /* on a phone the figure scrolls sideways rather than shrinking out of sight */"""
    return page(f"{assignment}: class report", style, f"""<h1>{html.escape(assignment)}: class report</h1>
<p><strong>{len(final) + sum(others.values())} students</strong>: {len(final)} notebooks graded (mean score {mean},
median {median}); not graded: {not_graded}.</p>
<p class="note">Isolation: {html.escape(isolation)}</p>
<div class="scroll"><img class="figure" src="data:image/png;base64,{image}" alt="Bar chart of the share of students
passing each check among those who attempted the function, beside a histogram of the final scores"></div>
<h2>Checks, hardest first</h2>
<p class="note">Pass rates count only the students who attempted the function; a function left as released counts
as not attempted.</p>
<div class="scroll">{_table(summary, percent=("pass_rate",))}</div>
<h2>Misconceptions the feedback named</h2>
<p class="note">How many students' feedback named each known mistake: what to revisit in the next lab.</p>
<div class="scroll">{_table(hint_rows) if len(hints) else "<p>None.</p>"}</div>""")
