"""Checks of the ``ks_drift`` assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from autograder.checks import Case, Check, FunctionSpec, Mistake, Raised, case_size

# --- inputs ----------------------------------------------------------------------------------------


def _sample_pair(rng: np.random.Generator):
    n, m = (int(v) for v in rng.integers(1, 80, size=2))
    kind = rng.integers(0, 4)
    if kind == 0:  # counts with many ties
        return rng.poisson(rng.uniform(0.2, 4), n), rng.poisson(rng.uniform(0.2, 4), m)
    if kind == 1:  # binary flags
        return rng.integers(0, 2, n), rng.integers(0, 2, m)
    if kind == 2:  # scores rounded to two decimals: ties between and within samples
        return rng.beta(2, 5, n).round(2), rng.beta(rng.uniform(1, 4), 5, m).round(2)
    return rng.normal(0, 1, n), rng.normal(rng.normal(0, 0.7), rng.uniform(0.5, 2), m)


def _as(kind: int, values):
    values = np.asarray(values)
    return values.tolist() if kind == 0 else (pd.Series(values) if kind == 1 else values)


def statistic_examples(rng) -> list[Case]:
    pairs = [
        ([1, 2, 2, 3], [2, 3, 4]), ([3, 1, 2], [1, 2, 3]), ([1, 2, 3], [10, 11]), ([7], [7]), ([1], [2]),
        ([2, 2, 2], [2, 2, 3]), ([5, 5, 5], [5, 5]), ([0, 0, 1, 1], [1, 1, 1, 0]), ([-3.5, 2.0, -1.0], [0.0]),
        ([9, 1, 5, 3, 7], [2, 8, 4, 6]), (list(range(100)), [50]), ([1e9, -1e9], [0.0, 1e9]),
        ([0.1, 0.2, 0.3], [0.3, 0.2, 0.1, 0.4]), ([1, 1, 1, 1, 1, 2], [2, 2, 2, 2, 2, 1]),
    ]
    cases = []
    for i, (a, b) in enumerate(pairs):
        kind = i % 3
        # Both orders: a one-sided statistic is right for only one of them.
        cases.append(Case((_as(kind, a), _as(kind, b)), size=case_size(a, b)))
        cases.append(Case((_as(kind, b), _as(kind, a)), size=case_size(a, b)))
    return cases


def numpy_only(answers, cases) -> str | None:
    """Passes when every call returned a number (the tripwires on SciPy's KS functions stayed silent).

    Whether the numbers are right is the other checks' business.
    """
    for case, answer in zip(cases, answers):
        if isinstance(answer, Raised):
            return f"ks_statistic{case.args!r} raised {answer.types[0]}: {answer.message}"
        if not isinstance(answer, (int, float, np.integer, np.floating)) or isinstance(answer, bool):
            return f"ks_statistic{case.args!r} returned {answer!r}, not a number"
    return None


def statistic_random(rng) -> list[Case]:
    cases = []
    for i in range(300):
        a, b = _sample_pair(rng)
        cases.append(Case((_as(i % 3, a), _as((i + 1) % 3, b)), size=case_size(a, b)))
    return cases


def statistic_bad_input(rng) -> list[Case]:
    bad = [([], [1.0, 2.0]), ([1.0, 2.0], []), ([], []), ([1.0, np.nan], [1.0]), ([1.0], [np.nan, 2.0]),
           (np.array([np.nan]), np.array([np.nan]))]
    return [Case((a, b), size=case_size(a, b)) for a, b in bad]


def _frame(rng, columns, n, shifts):
    return pd.DataFrame({c: rng.normal(s, 1, n).round(3) for c, s in zip(columns, shifts)})


def report_layout(rng) -> list[Case]:
    cases = []
    for _ in range(8):
        m = int(rng.integers(2, 7))
        columns = [f"feature_{i}" for i in range(m)]
        n = int(rng.integers(20, 80))
        reference = _frame(rng, columns, n, np.zeros(m))
        current = _frame(rng, columns, n + 5, rng.choice([0, 0.5, 2], m))
        # Columns a report must skip when it picks the numeric ones itself.
        reference["sender"] = [f"user{i}@example.com" for i in range(n)]
        reference["flagged"] = rng.integers(0, 2, n).astype(bool)
        reference["timestamp"] = pd.date_range("2024-07-01", periods=n, freq="h")
        reference.insert(int(rng.integers(0, m)), "count", rng.poisson(2, n))
        current["count"] = rng.poisson(2, n + 5)
        order = list(rng.permutation([*columns, "count"]))
        cases.append(Case((reference, current), {}, size=case_size(reference, current)))
        cases.append(Case((reference, current), {"features": order}, size=case_size(reference, current)))
    return cases


def report_random(rng) -> list[Case]:
    cases = []
    for i in range(80):
        m = int(rng.integers(1, 6))
        columns = [f"x{j}" for j in range(m)]
        n = int(rng.integers(10, 30))
        reference = _frame(rng, columns, n, np.zeros(m))
        current = _frame(rng, columns, n + int(rng.integers(0, 30)), rng.choice([0, 0, 0.15, 0.3, 0.6, 1.5], m))
        kwargs = {"alpha": float(rng.choice([0.01, 0.05, 0.1, 0.2])),
                  "correction": ("none", "bonferroni", "fdr")[i % 3]}
        if rng.random() < 0.5:
            kwargs["features"] = list(rng.permutation(columns))
        cases.append(Case((reference, current), kwargs, size=case_size(reference, current)))
    return cases


def report_bad_input(rng) -> list[Case]:
    reference = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    current = pd.DataFrame({"a": [2.0, 3.0, 4.0], "b": [1.0, 1.0, 0.0]})
    only_a = current[["a"]]
    calls = [({"correction": "holm"}, current), ({"correction": "BONFERRONI"}, current), ({"alpha": 0.0}, current),
             ({"alpha": 1.0}, current), ({"alpha": -0.05}, current), ({"alpha": 1.5}, current),
             ({"features": ["a", "c"]}, current), ({"features": ["b"]}, only_a), ({}, only_a)]
    return [Case((reference, other), kwargs, size=5) for kwargs, other in calls]


def _report(flags, features):
    return pd.DataFrame({"statistic": np.linspace(0.05, 0.5, len(flags)), "p_value": np.linspace(0.9, 1e-6, len(flags)),
                         "drifted": np.asarray(flags, dtype=bool)},
                        index=pd.Index(features, name="feature"))


def score_cases(rng) -> list[Case]:
    cases = []
    for flags in ([True], [False], [True, False], [True, True, True], [False] * 8, [True] * 3 + [False] * 5):
        cases.append(Case((_report(flags, [f"f{i}" for i in range(len(flags))]),), size=len(flags)))
    for _ in range(60):
        flags = list(rng.random(int(rng.integers(1, 12))) < rng.uniform(0, 1))
        cases.append(Case((_report(flags, [f"g{i}" for i in range(len(flags))]),), size=len(flags)))
    return cases


_METRICS = ("tpr", "fpr", "precision")


def alert_boundaries(rng) -> list[Case]:
    base = {"tpr": 0.5, "fpr": 0.25, "precision": 0.5}
    on_limit = {"tpr": 0.375, "fpr": 0.375, "precision": 0.25}  # exact in binary
    thresholds = {"tpr_drop": 0.25, "fpr_rise": 0.5, "precision_drop": 0.5}
    just_over = {"tpr": 0.374, "fpr": 0.376, "precision": 0.249}
    zero_fpr = {"tpr": 0.9, "fpr": 0.0, "precision": 1.0}
    cases = [
        Case((base, on_limit), thresholds), Case((base, just_over), thresholds),
        Case((base, dict(base))), Case((zero_fpr, {"tpr": 0.9, "fpr": 0.001, "precision": 1.0})),
        Case((zero_fpr, dict(zero_fpr))), Case(({"tpr": 0.95, "fpr": 0.02, "precision": 0.9},
                                                {"tpr": 0.9, "fpr": 0.02, "precision": 0.9})),
        Case(({"tpr": 0.95, "fpr": 0.02, "precision": 0.9}, {"tpr": 0.95, "fpr": 0.05, "precision": 0.7})),
        Case(({"tpr": 0.95, "fpr": 0.02, "precision": 0.9}, {"tpr": 0.99, "fpr": 0.01, "precision": 0.99})),
        Case(({"tpr": 1.0, "fpr": 0.5, "precision": 1.0}, {"tpr": 0.0, "fpr": 1.0, "precision": 0.0}),
             {"tpr_drop": 0.0, "fpr_rise": 0.0, "precision_drop": 0.0}),
    ]
    return cases


def alert_random(rng) -> list[Case]:
    cases = []
    for _ in range(300):
        baseline = {k: float(v) for k, v in zip(_METRICS, rng.uniform(0, 1, 3))}
        current = {k: float(v) for k, v in zip(_METRICS, rng.uniform(0, 1, 3))}
        if rng.random() < 0.3:
            baseline["fpr"] = float(rng.uniform(0, 0.05))
            current["fpr"] = float(baseline["fpr"] + rng.uniform(0, 0.05))
        kwargs = {}
        if rng.random() < 0.7:
            kwargs = {name: float(v) for name, v in
                      zip(("tpr_drop", "fpr_rise", "precision_drop"), rng.uniform(0, 0.8, 3))}
        cases.append(Case((baseline, current), kwargs, size=6))
    return cases


def retrain_boundaries(rng) -> list[Case]:
    quiet = dict.fromkeys(_METRICS, False)
    one_of_four = _report([True, False, False, False], ["a", "b", "c", "d"])
    cases = [
        Case((one_of_four, quiet), {"score_threshold": 0.25}), Case((one_of_four, quiet), {"score_threshold": 0.2}),
        Case((one_of_four, quiet)), Case((one_of_four, {**quiet, "fpr": True})),
        Case((_report([True, True, False, False], list("abcd")), quiet)),
        Case((_report([False] * 5, list("abcde")), quiet), {"score_threshold": 0.0}),
        Case((_report([True] * 2, list("ab")), quiet), {"score_threshold": 1.0}),
    ]
    return cases


def retrain_random(rng) -> list[Case]:
    cases = []
    for _ in range(80):
        flags = list(rng.random(int(rng.integers(1, 10))) < 0.35)
        alerts = {k: bool(v) for k, v in zip(_METRICS, rng.random(3) < 0.15)}
        threshold = float(rng.choice([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0]))
        cases.append(Case((_report(flags, [f"f{i}" for i in range(len(flags))]), alerts),
                          {"score_threshold": threshold}, size=len(flags) + 3))
    return cases


# --- known mistakes --------------------------------------------------------------------------------


def _ecdf_gap(reference, current, side="right", points="both", unique=False, signed=0, current_side=None):
    a = np.sort(np.asarray(reference, dtype=float))
    b = np.sort(np.asarray(current, dtype=float))
    if unique:
        a, b = np.unique(a), np.unique(b)
    grid = {"both": np.concatenate([a, b]), "reference": a}[points]
    gap = (np.searchsorted(a, grid, side=side) / a.size
           - np.searchsorted(b, grid, side=current_side or side) / b.size)
    if signed:
        return float(np.max(signed * gap))
    return float(np.max(np.abs(gap)))


KS_STATISTIC_MISTAKES = [
    Mistake("one_sided", lambda r, c: _ecdf_gap(r, c, signed=1),
            "This is the one-sided statistic max(F_ref - F_cur). Take the absolute difference |F_ref - F_cur|."),
    Mistake("one_sided_reversed", lambda r, c: _ecdf_gap(r, c, signed=-1),
            "This is the one-sided statistic max(F_cur - F_ref). Take the absolute difference |F_ref - F_cur|."),
    Mistake("mixed_sides", lambda r, c: _ecdf_gap(r, c, side="left", current_side="right"),
            "One ECDF counts values strictly below x, the other values <= x. Both ECDFs are right-continuous: "
            "F(x) counts values <= x."),
    Mistake("mixed_sides_reversed", lambda r, c: _ecdf_gap(r, c, side="right", current_side="left"),
            "One ECDF counts values strictly below x, the other values <= x. Both ECDFs are right-continuous: "
            "F(x) counts values <= x."),
    Mistake("reference_points_only", lambda r, c: _ecdf_gap(r, c, points="reference"),
            "Evaluate both ECDFs at every value of both samples, not only at the reference values."),
    Mistake("unique_values", lambda r, c: _ecdf_gap(r, c, unique=True),
            "Repeated values (ties) must count: an ECDF jumps by k/n at a value that occurs k times. "
            "Do not reduce the samples to their unique values."),
    Mistake("p_value", lambda r, c: float(stats.ks_2samp(r, c).pvalue),
            "You returned the p-value; return the statistic D."),
]


def _flags(p_values, alpha, correction, bh="largest", strict=True, bonferroni="divide"):
    p = np.asarray(p_values, dtype=float)
    m = p.size
    below = (lambda x, limit: x < limit) if strict else (lambda x, limit: x <= limit)
    if correction == "none":
        return below(p, alpha)
    if correction == "bonferroni":
        limit = {"divide": alpha / m, "none": alpha, "multiply": alpha * m}[bonferroni]
        return below(p, limit)
    ordered = np.sort(p)
    passing = below(ordered, np.arange(1, m + 1) * alpha / m)
    if not passing.any():
        return np.zeros(m, dtype=bool)
    if bh == "largest":
        k = np.flatnonzero(passing)[-1]
    else:  # stops at the first failure
        failures = np.flatnonzero(~passing)
        if failures.size and failures[0] == 0:
            return np.zeros(m, dtype=bool)
        k = (failures[0] - 1) if failures.size else m - 1
    return p <= ordered[k]


def _report_variant(order="given", default="numeric", **flag_options):
    def report(reference, current, features=None, alpha=0.05, correction="bonferroni"):
        if features is None:
            frame = reference.select_dtypes(include="number") if default == "numeric" else reference
            features = list(frame.columns)
        features = list(features)
        statistics = [float(stats.ks_2samp(reference[f], current[f]).statistic) for f in features]
        p_values = [float(stats.ks_2samp(reference[f], current[f]).pvalue) for f in features]
        frame = pd.DataFrame({"statistic": statistics, "p_value": p_values,
                              "drifted": _flags(p_values, alpha, correction, **flag_options)},
                             index=pd.Index(features, name="feature"))
        return frame.sort_values("p_value") if order == "p_value" else frame
    return report


KS_REPORT_MISTAKES = [
    Mistake("bonferroni_forgotten", _report_variant(bonferroni="none"),
            "With correction='bonferroni' a feature drifts only if p < alpha / m (m features): "
            "the Bonferroni correction was not applied."),
    Mistake("bonferroni_multiplies", _report_variant(bonferroni="multiply"),
            "Bonferroni makes the test stricter: divide alpha by the number of features, do not multiply."),
    Mistake("bh_first_failure", _report_variant(bh="first"),
            "Benjamini-Hochberg uses the largest k with p(k) < k*alpha/m; do not stop at the first k that fails."),
    # Not listed: a non-strict p-value comparison, which random KS p-values cannot expose.
    Mistake("sorted_by_p", _report_variant(order="p_value"),
            "Keep the rows in the order of `features` (or of the columns); do not sort them by p-value."),
    Mistake("all_columns", _report_variant(default="all"),
            "When features is None, use only the numeric columns of `reference` (select_dtypes), in column order."),
]


def _alerts_variant(fpr="relative", strict=True, tpr="relative"):
    def alerts(baseline, current, tpr_drop=0.05, fpr_rise=0.50, precision_drop=0.10):
        def less(a, b):
            return a < b if strict else a <= b
        tpr_limit = baseline["tpr"] * (1 - tpr_drop) if tpr == "relative" else baseline["tpr"] - tpr_drop
        fpr_limit = baseline["fpr"] * (1 + fpr_rise) if fpr == "relative" else baseline["fpr"] + fpr_rise
        return {"tpr": bool(less(current["tpr"], tpr_limit)), "fpr": bool(less(fpr_limit, current["fpr"])),
                "precision": bool(less(current["precision"], baseline["precision"] * (1 - precision_drop)))}
    return alerts


ALERT_MISTAKES = [
    Mistake("fpr_absolute", _alerts_variant(fpr="absolute"),
            "The FPR rule is relative: alert when current FPR > baseline FPR * (1 + fpr_rise), "
            "not when it exceeds the baseline by fpr_rise percentage points."),
    Mistake("tpr_absolute", _alerts_variant(tpr="absolute"),
            "The TPR rule is relative: alert when current TPR < baseline TPR * (1 - tpr_drop)."),
    Mistake("not_strict", _alerts_variant(strict=False),
            "The rules are strict: a metric exactly on its limit does not alert."),
]


def _reference_score(report):
    return float(np.mean(np.asarray(report["drifted"], dtype=bool)))


RETRAIN_MISTAKES = [
    Mistake("at_threshold", lambda report, alerts, score_threshold=0.3:
            bool(_reference_score(report) >= score_threshold or any(alerts.values())),
            "Retrain when the drift score is strictly greater than the threshold, not when it equals it."),
    Mistake("ignores_alerts", lambda report, alerts, score_threshold=0.3:
            bool(_reference_score(report) > score_threshold),
            "A performance alert alone must trigger retraining, whatever the drift score."),
]

SCORE_MISTAKES = [
    Mistake("count", lambda report: float(np.sum(np.asarray(report["drifted"], dtype=bool))),
            "The drift score is the share of features that drifted (between 0 and 1), not their count."),
]

# --- the plan --------------------------------------------------------------------------------------

FUNCTIONS = [
    FunctionSpec(
        "ks_statistic", ("reference", "current"),
        [
            Check("worked examples and edge cases (ties, single values, no overlap)", 1.25, statistic_examples,
                  "Check the worked example by hand, then ties and samples of size 1."),
            Check("300 random sample pairs (counts with ties, flags, scores)", 1.25, statistic_random,
                  "Compare with scipy.stats.ks_2samp(reference, current).statistic on the input shown. Both ECDFs "
                  "are right-continuous (F(x) counts values <= x) and are evaluated at every value of both samples."),
            Check("ValueError for an empty sample or NaN", 0.5, statistic_bad_input,
                  "Raise ValueError when either sample is empty or contains NaN."),
            # A rule, not a skill: worth no points of its own, but breaking it costs the whole function.
            Check("NumPy only (no SciPy KS function)", 0.0, statistic_examples,
                  "Compute the statistic with NumPy only: the assignment forbids scipy.stats.ks_2samp and kstest "
                  "in ks_statistic. D is the largest gap between the two ECDFs (np.sort and np.searchsorted "
                  "give them), not the test's p-value.", numpy_only=True, property_check=numpy_only),
        ],
        KS_STATISTIC_MISTAKES,
        numpy_only=True,
    ),
    FunctionSpec(
        "ks_drift_report", ("reference", "current", "features", "alpha", "correction"),
        [
            Check("layout: columns, index name, row order, numeric columns by default", 0.75, report_layout,
                  "One row per feature in the order of `features` (default: numeric columns of `reference`), "
                  "index named 'feature', columns exactly statistic, p_value, drifted.",
                  oracles=("ks_statistic",)),
            Check("80 random reports with corrections none / bonferroni / fdr", 1.5, report_random,
                  "Check the drifted flags for each correction rule.", oracles=("ks_statistic",)),
            Check("ValueError for a bad correction, alpha or feature", 0.75, report_bad_input,
                  "Raise ValueError for an unknown correction, alpha outside (0, 1), or a feature missing "
                  "from either frame.", oracles=("ks_statistic",)),
        ],
        KS_REPORT_MISTAKES,
    ),
    FunctionSpec(
        "drift_score", ("report",),
        [Check("share of drifted features", 1.0, score_cases,
               "Return the fraction of rows whose 'drifted' flag is True, as a float.")],
        SCORE_MISTAKES,
    ),
    FunctionSpec(
        "performance_alerts", ("baseline", "current", "tpr_drop", "fpr_rise", "precision_drop"),
        [
            Check("worked examples and values exactly on each limit", 1.0, alert_boundaries,
                  "Each rule is relative to the baseline and strict; note a baseline FPR of 0."),
            Check("300 random metrics and thresholds", 1.0, alert_random,
                  "Apply the three relative rules as stated, returning Python bools."),
        ],
        ALERT_MISTAKES,
    ),
    FunctionSpec(
        "should_retrain", ("report", "alerts", "score_threshold"),
        [
            Check("drift score exactly at the threshold, alerts alone", 0.5, retrain_boundaries,
                  "True iff drift_score(report) > score_threshold or any alert is True.", oracles=("drift_score",)),
            Check("80 random reports and alerts", 0.5, retrain_random,
                  "True iff drift_score(report) > score_threshold or any alert is True.", oracles=("drift_score",)),
        ],
        RETRAIN_MISTAKES,
    ),
]
