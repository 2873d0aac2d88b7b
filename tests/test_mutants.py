"""The graders' own strength: every plausible slip in a reference solution loses points.

The full run of every mutant is ``benchmarks/mutants.py`` (minutes); here the
generator is checked, the reviewed list of equivalent mutants is kept in step
with it, and CI grades an even sample of each assignment's mutants, all of
which must be killed.
"""

from __future__ import annotations

import ast
import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from autograder.assignments import assignments
from autograder.mutants import OPERATORS, equivalent_mutants, generate
from autograder.mutation_report import COLUMNS, Outcome, html_page, kill_rate, outcome, sample, stale_equivalents
from autograder.reference import ROOT, reference_cells
from autograder.scoring import CheckResult, FunctionResult, SubmissionResult

ASSIGNMENTS = sorted(assignments())
CI_SAMPLE = 12
"""Mutants graded per assignment in CI, spread evenly over every function."""


@pytest.fixture(scope="module")
def mutants() -> dict:
    return {assignment: generate(assignment) for assignment in ASSIGNMENTS}


# -- the generator --------------------------------------------------------------------------------------------


def test_every_assignment_has_at_least_100_mutants(mutants):
    for assignment in ASSIGNMENTS:
        assert len(mutants[assignment]) >= 100, assignment
        assert {m.function for m in mutants[assignment]} == set(reference_cells(assignment)), assignment


def test_every_kind_of_slip_is_made_somewhere(mutants):
    made = Counter(m.operator for generated in mutants.values() for m in generated)
    assert set(made) == set(OPERATORS), f"never made: {set(OPERATORS) - set(made)}"


def test_a_mutant_is_one_small_edit_of_the_reference_that_compiles(mutants):
    for assignment in ASSIGNMENTS:
        keys = set()
        for mutant in mutants[assignment]:
            assert mutant.original == reference_cells(assignment)[mutant.function]
            assert mutant.source != mutant.original
            ast.parse(mutant.source)
            assert mutant.diff().count("\n@@ ") == 1, f"not one edit:\n{mutant.diff()}"
            assert (mutant.function, mutant.key) not in keys
            keys.add((mutant.function, mutant.key))


def test_the_same_reference_gives_the_same_mutants():
    assert [m.key for m in generate("mcnemar")] == [m.key for m in generate("mcnemar")]


def test_the_classic_slips_are_among_the_mutants(mutants):
    keys = {(m.function, m.key) for generated in mutants.values() for m in generated}
    for function, before, after in [
        ("ks_statistic", 'side="right"', 'side="left"'),                       # ECDF on the wrong side of a tie
        ("ks_statistic", "np.abs(ecdf_ref - ecdf_cur)", "(ecdf_ref - ecdf_cur)"),  # abs dropped
        ("mcnemar_test", "discordant < 25", "discordant <= 25"),               # the cut-off made non-strict
        ("run_canary_rollout", "totals[arm][key] += value", "totals[arm][key] = value"),
        ("run_canary_rollout", 'raise ValueError(f"traffic lacks column(s) {absent}")', "pass"),
    ]:
        assert any(f == function and before in key.split(" → ")[0] and after in key.split(" → ")[1]
                   for f, key in keys), (function, before, after)


def test_error_messages_and_docstrings_are_left_alone(mutants):
    for generated in mutants.values():
        for mutant in generated:
            before, after = mutant.key.split(" → ")
            assert '"""' not in before
            if before.startswith("raise "):
                assert after == "pass", mutant.key


def test_a_sample_is_spread_evenly_and_keeps_the_order():
    assert sample(list("abcdefghij"), 3) == ["a", "e", "j"]
    assert sample(list("abc"), 10) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="at least 1"):
        sample(list("abc"), 0)


# -- the reviewed list of equivalent mutants ------------------------------------------------------------------


def test_every_equivalent_mutant_is_generated_and_has_its_reason(mutants):
    for assignment in ASSIGNMENTS:
        listed = equivalent_mutants(assignment)
        assert stale_equivalents(assignment, mutants[assignment]) == [], assignment
        assert len(set(listed)) == len(listed), f"{assignment}: listed twice"
        for entry in listed:
            assert len(entry.reason.split()) >= 8, f"{assignment}: give {entry.mutant or entry.line!r} a real reason"
        for mutant in mutants[assignment]:
            assert sum(entry.covers(mutant) for entry in listed) <= 1, f"{assignment}: {mutant.key} listed twice"
        # A short list: equivalence is the exception, each one reviewed.
        assert len(listed) <= 0.15 * len(mutants[assignment]), assignment


@pytest.mark.parametrize("entry, problem", [
    ('function = "mcnemar_test"\nmutant = "x → y"', "lacks reason"),
    ('function = "mcnemar_test"\nreason = "the same value either way, for every input"', "either one mutant"),
    ('function = "mcnemar_test"\nmutant = "x → y"\nline = "x"\nreason = "both named"', "either one mutant"),
])
def test_an_equivalent_list_entry_must_name_its_mutant_and_give_its_reason(tmp_path, monkeypatch, entry, problem):
    from types import SimpleNamespace

    from autograder import assignments as discovery

    (tmp_path / "equivalent_mutants.toml").write_text(f"[[equivalent]]\n{entry}\n", encoding="utf-8")
    monkeypatch.setattr(discovery, "get", lambda assignment: SimpleNamespace(folder=tmp_path))
    with pytest.raises(ValueError, match=problem):
        equivalent_mutants("mcnemar")


def test_a_broken_equivalent_list_stops_the_command_with_one_line(tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from autograder import assignments as discovery
    from autograder.cli import main

    (tmp_path / "equivalent_mutants.toml").write_text("[[equivalent]]\nfunction = \"x\"\n", encoding="utf-8")
    monkeypatch.setattr(discovery, "get", lambda assignment: SimpleNamespace(folder=tmp_path))
    assert main(["mutants", "mcnemar", "--out", str(tmp_path / "out"), "--allow-weak-isolation"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "lacks reason" in error and "\n" not in error
    assert not (tmp_path / "out").exists()


# -- statuses and the report ----------------------------------------------------------------------------------


def _result(score: float, feedback: str = "") -> SubmissionResult:
    result = SubmissionResult("mcnemar", "graded", 10.0)
    check = CheckResult("a check", passed=score == 10.0, score=score, max_score=10.0, feedback=feedback)
    result.functions["mcnemar_test"] = FunctionResult("mcnemar_test", 10.0, checks=[check])
    return result


def test_a_mutant_that_loses_points_is_killed_and_one_that_ran_out_of_time_is_a_timeout(mutants):
    mutant = mutants["mcnemar"][0]
    reason = "min is symmetric: the smaller of b and c is the same in either order."
    assert outcome(mutant, _result(9.5), reason=None).status == "killed"
    timed_out = _result(9.5, "raised Timeout: did not finish within the time limit of 10 s")
    assert outcome(mutant, timed_out, reason=None).status == "timeout"
    assert outcome(mutant, _result(10.0), reason=None).status == "survived"
    assert outcome(mutant, _result(10.0), reason=reason).status == "equivalent"
    # A listed mutant that loses points is reported as killed, so the list can be corrected.
    wrong = outcome(mutant, _result(9.0), reason=reason)
    assert wrong.status == "killed" and wrong.listed


def test_the_report_shows_a_bar_per_function_and_every_survivors_diff(mutants):
    generated = mutants["mcnemar"]
    outcomes = [Outcome(m, "survived" if i == 3 else "killed", 10.0, 10.0, ()) for i, m in enumerate(generated)]
    page = html_page("mcnemar", outcomes, generated, 12.0, "bubblewrap")
    assert page.count('<tr data-function="') == len(reference_cells("mcnemar"))
    assert "Survivors" in page and f"mutant/{generated[3].function}" in page
    assert kill_rate(Counter(o.status for o in outcomes)) == pytest.approx(1 - 1 / len(generated))


# -- CI's sample, graded for real -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sampled(tmp_path_factory) -> dict[str, Path]:
    """``python -m autograder mutants ID --sample N`` for every assignment, as a TA runs it."""
    out = tmp_path_factory.mktemp("mutants")
    folders = {}
    for assignment in ASSIGNMENTS:
        folder = out / assignment
        completed = subprocess.run([sys.executable, "-m", "autograder", "mutants", assignment, "--out", str(folder),
                                    "--sample", str(CI_SAMPLE), "--jobs", "2"],
                                   cwd=ROOT, capture_output=True, text=True, timeout=1200)
        assert completed.returncode in (0, 1), completed.stderr
        folders[assignment] = folder
    return folders


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_sampled_mutant_that_is_not_equivalent_loses_points(sampled, assignment):
    rows = list(csv.DictReader((sampled[assignment] / "mutants.csv").open(encoding="utf-8")))
    assert list(rows[0]) == COLUMNS
    assert len(rows) == CI_SAMPLE
    listed = equivalent_mutants(assignment)
    survivors = [f"{row['function']}: {row['mutant']}" for row in rows if row["status"] == "survived"]
    assert survivors == [], "mutants the graders do not notice:\n" + "\n".join(survivors)
    for row in rows:
        assert row["status"] in ("killed", "timeout", "equivalent")
        covered = any(e.function == row["function"] and (e.mutant == row["mutant"] or e.line == before(row["mutant"]))
                      for e in listed)
        assert (row["status"] == "equivalent") == covered, f"{row['status']} but listed: {row['mutant']}"


def before(key: str) -> str:
    """The reference's line(s) of a mutant key ``before → after``."""
    return key.split(" → ")[0]


@pytest.mark.slow
def test_the_mutation_report_reads_well_in_a_browser(sampled, browser):
    from browser import open_page, screenshot_dir, serve

    for width in (1280, 400):
        page = browser.new_page(viewport={"width": width, "height": 900})
        with serve(sampled["canary"]) as site:
            report = open_page(page, site + "mutants.html")
        assert report.problems() == []
        bars = page.locator(".bar")
        assert bars.count() == len(reference_cells("canary"))
        for i in range(bars.count()):
            widths = bars.nth(i).evaluate("bar => Array.from(bar.children).map(s => s.getBoundingClientRect().width)")
            total = bars.nth(i).evaluate("bar => bar.clientWidth")
            assert sum(widths) == pytest.approx(total, abs=2) and min(widths) > 0
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshot_dir() / f"mutation-report-{width}.png"), full_page=True)
        page.close()
