"""Grade every mutant of an assignment and report what the graders kill.

``python -m autograder mutants ID --out DIR`` writes

* ``DIR/mutants.csv`` -- one row per mutant: ``function``, ``mutant`` (its key),
  ``operator``, ``line``, ``status``, the ``score`` it kept and the checks it failed;
* ``DIR/mutants.html`` -- per function a bar of killed / timeout / equivalent /
  survived, then each survivor's diff and each equivalent mutant's reason.

A mutant is *killed* when it loses at least one point, *timeout* when it loses
points because it ran out of time, *equivalent* when it keeps full marks and is
in the reviewed list, *survived* otherwise. Timeouts lose points, so they count
as detected; only survivors are gaps.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from autograder.class_report import page
from autograder.mutants import Equivalent, Mutant, equivalent_mutants

STATUSES = ("killed", "timeout", "equivalent", "survived")
COLUMNS = ["function", "mutant", "operator", "line", "status", "score", "max_score", "failed_checks"]
_COLOURS = {"killed": "#0072B2", "timeout": "#E69F00", "equivalent": "#999999", "survived": "#D55E00"}
_LOST = 1e-9


@dataclass(frozen=True)
class Outcome:
    """What the graders made of one mutant."""

    mutant: Mutant
    status: str
    score: float
    max_score: float
    failed_checks: tuple[str, ...]
    reason: str | None = None
    """Why the reviewed list calls the mutant equivalent; None when it is not listed."""

    @property
    def listed(self) -> bool:
        """In the list of equivalent mutants (a listed mutant that loses points shows the list is wrong)."""
        return self.reason is not None


def sample(mutants: list[Mutant], size: int | None) -> list[Mutant]:
    """``size`` mutants spread evenly over the list (so over every function), or all of them.

    Examples
    --------
    >>> sample(list("abcdefghij"), 3)
    ['a', 'e', 'j']
    """
    if size is None or size >= len(mutants):
        return list(mutants)
    if size < 1:
        raise ValueError(f"the sample size must be at least 1, got {size}")
    if size == 1:
        return [mutants[0]]
    return [mutants[i * (len(mutants) - 1) // (size - 1)] for i in range(size)]


def outcome(mutant: Mutant, result, reason: str | None) -> Outcome:
    """The status of ``mutant`` from its grading ``result``; ``reason`` is its entry in the equivalent list."""
    failed = tuple(f"{name}: {check.name}" for name, function in result.functions.items()
                   for check in function.checks if not check.passed)
    if result.status != "graded" or result.score < result.max_score - _LOST:
        feedback = " ".join(check.feedback for function in result.functions.values() for check in function.checks)
        timed_out = "time limit" in feedback or "timed out" in feedback or "time limit" in " ".join(result.messages)
        status = "timeout" if timed_out else "killed"
    else:
        status = "survived" if reason is None else "equivalent"
    return Outcome(mutant, status, float(result.score), float(result.max_score), failed, reason)


def run_mutants(assignment: str, mutants: list[Mutant], jobs: int, isolation=None) -> list[Outcome]:
    """Grade ``mutants`` of ``assignment`` in the sandbox, ``jobs`` at a time, each as a submission.

    Parameters
    ----------
    assignment : str
        The assignment id.
    mutants : list of Mutant
        From :func:`autograder.mutants.generate`, all or a :func:`sample`.
    jobs : int
        Parallel graders.
    isolation : Isolation, optional
        Defaults to the strong sandbox (refused where it cannot be had).

    Returns
    -------
    list of Outcome
        In the order of ``mutants``.
    """
    from autograder.grading import Plan
    from autograder.pool import grade_in_parallel
    from autograder.reference import answered_release, reference_cells
    from autograder.sandbox import isolation as strongest_isolation
    from autograder.submission import parse_submission

    level = isolation or strongest_isolation()
    listed = equivalent_mutants(assignment)
    answers = reference_cells(assignment)
    work = []
    for number, mutant in enumerate(mutants):
        notebook = answered_release(assignment, {**answers, mutant.function: mutant.source})
        work.append((str(number), parse_submission(json.dumps(notebook).encode(), assignment)))
    results = {int(name): result
               for name, result, _ in grade_in_parallel(assignment, Plan(assignment), level, jobs, work)}
    return [outcome(mutant, results[number], next((e.reason for e in listed if e.covers(mutant)), None))
            for number, mutant in enumerate(mutants)]


def stale_equivalents(assignment: str, mutants: list[Mutant]) -> list[Equivalent]:
    """Listed equivalent mutants that none of ``mutants`` (all the generator makes) matches: the list is behind."""
    return [entry for entry in equivalent_mutants(assignment) if not any(entry.covers(m) for m in mutants)]


def csv_text(outcomes: list[Outcome]) -> str:
    """The outcomes as ``mutants.csv``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in outcomes:
        writer.writerow({"function": item.mutant.function, "mutant": item.mutant.key,
                         "operator": item.mutant.operator, "line": item.mutant.line, "status": item.status,
                         "score": round(item.score, 4), "max_score": item.max_score,
                         "failed_checks": "; ".join(item.failed_checks)})
    return buffer.getvalue()


def summary(outcomes: list[Outcome]) -> dict[str, Counter]:
    """Counts of each status per function, in notebook order (add them up for the assignment)."""
    counts: dict[str, Counter] = {}
    for item in outcomes:
        counts.setdefault(item.mutant.function, Counter())[item.status] += 1
    return counts


def kill_rate(counts: Counter) -> float:
    """Share of the non-equivalent mutants that lost points (killed or timed out)."""
    detected = counts["killed"] + counts["timeout"]
    return detected / (detected + counts["survived"]) if detected + counts["survived"] else 1.0


def html_page(assignment: str, outcomes: list[Outcome], generated: list[Mutant], seconds: float,
              isolation: str) -> str:
    """The report as one self-contained page (no script, no external file).

    ``generated`` is every mutant the generator makes (``outcomes`` may grade a sample of them).
    """
    counts = summary(outcomes)
    rows = "\n".join(_bar_row(name, tally) for name, tally in counts.items())
    total = sum(counts.values(), Counter())
    graded, made = len(outcomes), len(generated)
    scope = f"all {made} mutants" if graded == made else f"a sample of {graded} of the {made} mutants"
    survivors = [item for item in outcomes if item.status == "survived"]
    equivalents = [item for item in outcomes if item.status == "equivalent"]
    stale = stale_equivalents(assignment, generated)
    wrongly_listed = [item for item in outcomes if item.listed and item.status != "equivalent"]
    legend = " ".join(f'<span class="item"><span class="swatch" style="background:{_COLOURS[status]}"></span>'
                      f"{status}</span>" for status in STATUSES)
    style = """td { vertical-align: middle; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: flex; height: 1.1rem; min-width: 10rem; border: 1px solid #666; }
.bar span { display: block; height: 100%; }
.legend .item { white-space: nowrap; margin-right: 1rem; }
.legend .swatch { display: inline-block; width: 0.9rem; height: 0.9rem; margin-right: 0.3rem; vertical-align: middle; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
p, h3, li { overflow-wrap: anywhere; }  /* long paths and keys wrap on a phone */"""
    return page(f"{assignment}: mutation report", style, f"""<h1>{html.escape(assignment)}: mutation report</h1>
<p>The hidden graders were run on {scope} of the reference solution; each mutant is one slip
(a comparison made strict, an operator swapped, a constant nudged, a validation removed...).
<strong>{kill_rate(total):.1%}</strong> of the non-equivalent mutants lost points:
{total['killed']} killed, {total['timeout']} timed out, {total['equivalent']} equivalent,
{total['survived']} survived ({seconds:.0f} s).</p>
<p class="note">Isolation: {html.escape(isolation)}. Reproduce with
<code>python -m autograder mutants {html.escape(assignment)} --out DIR</code>.</p>
<p class="legend">{legend}</p>
<div class="scroll"><table>
<thead><tr><th>function</th><th>mutants</th><th>killed</th><th>timeout</th><th>equivalent</th><th>survived</th>
<th>kill rate</th><th style="width:40%">share</th></tr></thead>
<tbody>
{rows}
</tbody></table></div>
<h2 id="survivors">Survivors</h2>
{_mutant_list(survivors, lambda item: "") if survivors else "<p>None: every non-equivalent mutant lost points.</p>"}
<h2 id="equivalent">Equivalent mutants</h2>
<p class="note">Each computes what the reference computes, so no check can tell it apart; the reason is the
reviewed entry in <code>autograder/assignments/{html.escape(assignment)}/equivalent_mutants.toml</code>.</p>
{_mutant_list(equivalents, lambda item: item.reason) if equivalents
 else "<p>None.</p>"}
{_wrongly_listed_section(wrongly_listed)}
{_stale_section(stale)}""")


def _bar_row(function: str, counts: Counter) -> str:
    total = sum(counts.values())
    segments = "".join(f'<span class="{status}" style="width:{100 * counts[status] / total:.3f}%;'
                       f'background:{_COLOURS[status]}" title="{status}: {counts[status]}"></span>'
                       for status in STATUSES if counts[status])
    numbers = "".join(f'<td class="number">{counts[status]}</td>' for status in STATUSES)
    return (f'<tr data-function="{html.escape(function)}"><td><code>{html.escape(function)}</code></td>'
            f'<td class="number">{total}</td>{numbers}<td class="number">{kill_rate(counts):.0%}</td>'
            f'<td><div class="bar" role="img" aria-label="{html.escape(_describe(counts))}">{segments}</div></td></tr>')


def _describe(counts: Counter) -> str:
    return ", ".join(f"{counts[status]} {status}" for status in STATUSES)


def _mutant_list(items: list[Outcome], reason) -> str:
    parts = []
    for item in items:
        why = reason(item)
        parts.append(f"<h3><code>{html.escape(item.mutant.function)}</code> — {html.escape(item.mutant.operator)}, "
                     f"line {item.mutant.line}</h3>"
                     + (f"<p>{html.escape(why)}</p>" if why else "")
                     + f"<pre>{html.escape(item.mutant.diff())}</pre>")
    return "\n".join(parts)


def _wrongly_listed_section(items: list[Outcome]) -> str:
    if not items:
        return ""
    return ("<h2>Listed as equivalent, but they lose points</h2><p>The graders tell these apart from the "
            "reference, so they are not equivalent: remove them from the list.</p>"
            + _mutant_list(items, lambda item: "; ".join(item.failed_checks)))


def _stale_section(stale: list[Equivalent]) -> str:
    if not stale:
        return ""
    items = "".join(f"<li><code>{html.escape(e.function)}</code>: {html.escape(e.mutant or e.line)}</li>"
                    for e in stale)
    return ("<h2>Listed but no longer generated</h2><p>These entries of the equivalent list match no mutant of "
            f"the current reference; remove them.</p><ul>{items}</ul>")


def write_report(out: Path, assignment: str, outcomes: list[Outcome], generated: list[Mutant], seconds: float,
                 isolation: str) -> None:
    """Write ``mutants.csv`` and ``mutants.html`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutants.csv").write_text(csv_text(outcomes), encoding="utf-8")
    (out / "mutants.html").write_text(html_page(assignment, outcomes, generated, seconds, isolation),
                                      encoding="utf-8")
