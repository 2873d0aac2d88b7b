"""The reference solutions agree with established libraries, and never leak to students."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from leaks import find_leaks, leak_candidates
from mlxtend.evaluate import mcnemar_table as mlxtend_mcnemar_table
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as statsmodels_mcnemar
from statsmodels.stats.multitest import multipletests

from autograder.assignments import assignments
from autograder.reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
RANDOM_CASES = 300


@pytest.fixture(scope="module")
def ks():
    return load_reference("ks_drift")


@pytest.fixture(scope="module")
def mcnemar():
    return load_reference("mcnemar")


@pytest.fixture(scope="module")
def canary():
    return load_reference("canary")


def random_samples(rng):
    n, m = rng.integers(1, 120, size=2)
    kind = rng.integers(0, 3)
    if kind == 0:  # counts with many ties, like urgency_words
        return rng.poisson(rng.uniform(0.2, 4), n), rng.poisson(rng.uniform(0.2, 4), m)
    if kind == 1:  # binary flags
        return rng.integers(0, 2, n), rng.integers(0, 2, m)
    return rng.normal(0, 1, n), rng.normal(rng.normal(0, 0.7), rng.uniform(0.5, 2), m)


def test_ks_statistic_equals_scipy_on_random_samples(ks):
    rng = np.random.default_rng(1)
    for _ in range(RANDOM_CASES):
        reference, current = random_samples(rng)
        expected = stats.ks_2samp(reference, current).statistic
        assert ks["ks_statistic"](reference, current) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("correction, method", [("bonferroni", "bonferroni"), ("fdr", "fdr_bh")])
def test_ks_drift_report_flags_agree_with_statsmodels_multipletests(ks, correction, method):
    rng = np.random.default_rng(2)
    for _ in range(RANDOM_CASES // 3):
        m = int(rng.integers(1, 10))
        columns = [f"feature_{i}" for i in range(m)]
        n = int(rng.integers(30, 300))
        reference = pd.DataFrame({c: rng.normal(0, 1, n) for c in columns})
        current = pd.DataFrame({c: rng.normal(rng.choice([0, 0, 0.15, 0.4, 1.0]), 1, n) for c in columns})
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        report = ks["ks_drift_report"](reference, current, alpha=alpha, correction=correction)
        p_values = [stats.ks_2samp(reference[c], current[c]).pvalue for c in columns]
        assert report["p_value"].to_numpy() == pytest.approx(p_values, rel=1e-12)
        assert report["drifted"].tolist() == multipletests(p_values, alpha=alpha, method=method)[0].tolist()


def test_mcnemar_table_equals_mlxtend(mcnemar):
    rng = np.random.default_rng(3)
    for _ in range(RANDOM_CASES):
        n = int(rng.integers(1, 200))
        y, a, b = (rng.integers(0, 2, n) for _ in range(3))
        expected = mlxtend_mcnemar_table(y_target=y, y_model1=a, y_model2=b)
        assert mcnemar["mcnemar_table"](y, a, b).tolist() == expected.tolist()


@pytest.mark.parametrize("exact, correction", [(True, True), (False, True), (False, False), (None, True)])
def test_mcnemar_test_equals_statsmodels(mcnemar, exact, correction):
    rng = np.random.default_rng(4)
    for _ in range(RANDOM_CASES):
        table = rng.integers(0, 80, size=(2, 2))
        if rng.random() < 0.4:
            table[0, 1], table[1, 0] = rng.integers(0, 15, 2)
        n = table[0, 1] + table[1, 0]
        if n == 0:
            assert mcnemar["mcnemar_test"](table, exact, correction) == (0.0, 1.0)
            continue
        mode = bool(n < 25) if exact is None else exact
        expected = statsmodels_mcnemar(table, exact=mode, correction=correction)
        statistic, p_value = mcnemar["mcnemar_test"](table, exact, correction)
        assert statistic == pytest.approx(expected.statistic, rel=1e-12, abs=1e-12)
        assert p_value == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-15)


def test_canary_bucketing_is_identical_in_another_process(canary):
    ids = [f"20241015-{i:04d}" for i in range(500)]
    here = canary["assign_to_canary"](ids, 0.3).tolist()
    script = (
        "import sys, json; sys.path.insert(0, sys.argv[1])\n"
        "from autograder.reference import load_reference\n"
        "ids = [f'20241015-{i:04d}' for i in range(500)]\n"
        "print(json.dumps(load_reference('canary')['assign_to_canary'](ids, 0.3).tolist()))\n"
    )
    other = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}, check=True)
    assert here == json.loads(other.stdout)


# --- solutions never leak -------------------------------------------------------------------------


def student_facing_files():
    """Everything a student receives as source: the releases, the book, the package it imports."""
    for pattern in ("exercises/**/*", "book/**/*", "src/phishlab/**/*.py"):
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and path.suffix in {".ipynb", ".md", ".py", ".txt", ".bib", ".yml"}:
                yield path


def test_no_reference_solution_line_appears_in_student_facing_files():
    assert all(leak_candidates().values()), "no solution lines found: is the leak check reading the sources?"
    assert find_leaks(student_facing_files()) == []


def test_leak_check_finds_a_solution_line_pasted_into_a_page(tmp_path):
    line = sorted(leak_candidates()["mcnemar"])[0]
    page = tmp_path / "page.md"
    page.write_text(f"Some prose.\n\n```python\n    {line}\n```\n", encoding="utf-8")
    assert find_leaks([page]) == [(str(page), "mcnemar", line)]


def test_leak_check_sees_through_syntax_highlighting(tmp_path):
    line = sorted(leak_candidates()["canary"])[0]
    words = re.split(r"(\W)", line)
    highlighted = "".join(f'<span class="n">{w.replace("<", "&lt;").replace(">", "&gt;")}</span>' for w in words)
    page = tmp_path / "page.html"
    page.write_text(f"<pre>{highlighted}</pre>", encoding="utf-8")
    assert find_leaks([page]) == [(str(page), "canary", line)]


def test_package_defines_none_of_the_graded_functions():
    graded = {name for assignment in assignments().values() for name in assignment.functions}
    for path in sorted((ROOT / "src" / "phishlab").glob("*.py")):
        defined = set(re.findall(r"^\s*def (\w+)", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
        assert not defined & graded, f"{path.name} defines graded function(s) {defined & graded}"
