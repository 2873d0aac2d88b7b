"""Hidden checks of ``ks_drift_report(reference, current, features=None, alpha=0.05, correction="bonferroni")``
(3 points).

While these run, the reference's ks_statistic stands in for the student's, so a mistake there is not
charged twice.

The notebook settles what could have been read two ways, and the checks hold students to it: with
``features=None`` boolean columns are not features (``select_dtypes("number")``), and a default feature
missing from ``current`` raises ``ValueError`` like a requested one; all three limits are strict, each
checked with a p-value exactly on it. Where the notebook leaves a choice, no check depends on it:
Bonferroni's p < alpha / m may be written as p * m < alpha (the random cases keep clear of every limit),
and the report's values may be NumPy or Python numbers.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats

from autograder.check import Raises, case, check
from autograder.compare import same, same_frame

LENT = ("ks_statistic",)
NUMBERS = {
    "statistic": "statistic is ks_statistic(reference[f], current[f]) for each feature f.",
    "p_value": "p_value is scipy.stats.ks_2samp(reference[f], current[f]).pvalue with the default settings.",
}
DEFAULT_FEATURES = ("With features=None the features are the numeric columns of reference, in its column order "
                    "(numbers only: reference.select_dtypes('number') leaves out text, dates and booleans).")
ORDER = "One row per feature in the order of features (do not sort the rows by p-value)."


def verdict(expected, actual):
    """same_frame, except that a difference in one column starts with the column's name in brackets."""
    if not isinstance(expected, pd.DataFrame) or not isinstance(actual, pd.DataFrame):
        return same(expected, actual)
    problem = same_frame(expected, actual)
    for column in expected.columns:
        prefix = f"column {column!r} "
        if problem and problem.startswith(prefix):
            return f"[{column!r}]: {problem.removeprefix(prefix).removeprefix('has ')}"
    return problem


def report(features, statistic, p_value, drifted):
    """The report as a reader writes it: one row per feature, the index named 'feature'."""
    return pd.DataFrame({"statistic": [float(d) for d in statistic], "p_value": [float(p) for p in p_value],
                         "drifted": [bool(flag) for flag in drifted]}, index=pd.Index(features, name="feature"))


def pvalue(reference, current):
    """The contract's p-value: scipy.stats.ks_2samp with its default settings."""
    return float(stats.ks_2samp(reference, current).pvalue)


def apart(n, m):
    """The p-value of two samples of sizes n and m that do not overlap: 2 / C(n + m, n)."""
    return 2 / math.comb(n + m, n)


# Twelve values 0, ..., 11 per feature, and the same values shifted by s: D = s / 12 and p = P[s]
# (P[9] ~ 0.0015, P[7] ~ 0.0314, P[6] ~ 0.0995, P[5] ~ 0.2558, P[0] = 1).
X = np.arange(12.0)
P = {s: pvalue(X, X + s) for s in range(12)}


def shifted(*shifts):
    """Frames whose features x1, x2, ... are X before and X + shift after."""
    names = [f"x{i}" for i in range(1, len(shifts) + 1)]
    return (pd.DataFrame(dict.fromkeys(names, X)),
            pd.DataFrame({name: X + s for name, s in zip(names, shifts)}))


def shifted_report(shifts, drifted, features=None):
    """The report of shifted(*shifts), rows in the order of features (default x1, x2, ...)."""
    by_name = {f"x{i}": s for i, s in enumerate(shifts, 1)}
    features = features or list(by_name)
    return report(features, [by_name[f] / 12 for f in features], [P[by_name[f]] for f in features], drifted)


@check(points=0.25, hint=ORDER, lend=LENT)
def test_one_row_per_feature_in_the_order_of_features(ks_drift_report, rng):
    """The report has one row per feature in the order of features, an index named 'feature', and exactly
    the columns statistic, p_value and drifted (bool)."""
    before, after = shifted(9, 0, 11, 0)  # p ~ 0.0015, 1, 1.6e-6, 1: drifted or not under every correction
    ks_drift_report.agrees_on([
        case(before, after, features=["x4", "x2", "x1", "x3"],
             expect=shifted_report((9, 0, 11, 0), [False, False, True, True], ["x4", "x2", "x1", "x3"]),
             why="Keep the rows in the order of features, whatever their p-values (do not sort by p-value)."),
        case(before, after, features=["x2", "x1"], expect=shifted_report((9, 0, 11, 0), [False, True], ["x2", "x1"])),
        case(before, after, features=["x3"], expect=shifted_report((9, 0, 11, 0), [True], ["x3"])),
        *random_frames_with_text_and_date_columns(rng, 8, features_in_random_order=True),
    ], compare=verdict)


@check(points=0.25, hint=DEFAULT_FEATURES, lend=LENT)
def test_default_features_are_the_numeric_columns_in_column_order(ks_drift_report, rng):
    """With features=None the features are the numeric columns of reference, in its column order; boolean
    columns are not features."""
    visible_ref = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6, 7, 8], "name": list("abcdefgh"),
                                "b": [0, 0, 1, 1, 0, 1, 0, 1]})
    visible_cur = pd.DataFrame({"a": [11.0, 12, 13, 14, 15, 16, 17, 18], "b": [0, 1, 1, 0, 0, 1, 1, 0]})
    emails_ref = pd.DataFrame({
        "sender": ["ann@example.com", "bob@example.com", "cy@example.com", "di@example.com", "ed@example.com",
                   "flo@example.com"],
        "count": [1, 1, 1, 2, 2, 2],
        "received": pd.date_range("2024-07-01", periods=6, freq="D"),
        "score": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        "links": [3, 4, 5, 6, 7, 8],
    })
    emails_cur = pd.DataFrame({"score": [0.9, 0.95, 0.8, 0.85], "replies": [0, 1, 0, 2], "links": [0, 1, 2, 2],
                               "count": [1, 2, 2, 1]})
    flagged_ref = pd.DataFrame({"urgent": [True, False, True, False, True, False], "links": [1, 2, 3, 4, 5, 6],
                                "subject": list("uvwxyz"), "from_contact": [False, False, True, True, False, True]})
    flagged_cur = pd.DataFrame({"urgent": [True, True, True, True], "links": [7, 8, 9, 10],
                                "from_contact": [False, False, False, False]})
    ks_drift_report.agrees_on([
        case(visible_ref, visible_cur, correction="none",
             expect=report(["a", "b"], [1.0, 0.0], [apart(8, 8), 1.0], [True, False]),
             why="With features=None the features are the numeric columns of reference: 'a' and 'b', "
                 "not the text column 'name'."),
        case(emails_ref, emails_cur,
             expect=report(["count", "score", "links"], [0.0, 1.0, 1.0], [1.0, apart(6, 4), apart(6, 4)],
                           [False, True, True]),
             why="With features=None the features are the numeric columns of reference in its column order "
                 "(count, score, links): not the text in 'sender' or the dates in 'received', and not "
                 "'replies', a column of current only."),
        case(flagged_ref, flagged_cur, expect=report(["links"], [1.0], [apart(6, 4)], [True]),
             why="Boolean columns are not features here: reference.select_dtypes('number') leaves out 'urgent' "
                 "and 'from_contact' (and the text in 'subject'), so the only feature is 'links'."),
        *random_frames_with_text_and_date_columns(rng, 8, features_in_random_order=False),
    ], compare=verdict)


@check(points=0.25, hint=NUMBERS, lend=LENT)
def test_statistic_and_p_value_of_each_feature(ks_drift_report):
    """statistic is ks_statistic's D and p_value is scipy.stats.ks_2samp(ref, cur).pvalue with its default
    settings, for each feature, the frames having any lengths."""
    ks_drift_report.agrees_on([
        case(pd.DataFrame({"worked": [1, 2, 2, 3], "apart": [1.0, 2.0, 3.0, 4.0]}),
             pd.DataFrame({"worked": [2, 3, 4], "apart": [10.0, 11.0, 12.0]}), correction="none", alpha=0.1,
             expect=report(["worked", "apart"], [5 / 12, 1.0], [pvalue([1, 2, 2, 3], [2, 3, 4]), apart(4, 3)],
                           [False, True])),
        case(pd.DataFrame({"same": [1, 1, 2, 2], "ties": [0, 0, 0, 1]}),
             pd.DataFrame({"same": [2, 1], "ties": [1, 1]}), correction="none",
             expect=report(["same", "ties"], [0.0, 0.75], [1.0, pvalue([0, 0, 0, 1], [1, 1])], [False, False])),
    ], compare=verdict)


@check(points=0.25, hint={"drifted": "correction='none': a feature has drifted iff p < alpha, strictly."}, lend=LENT)
def test_no_correction_flags_p_below_alpha(ks_drift_report):
    """With correction='none' a feature has drifted iff p < alpha: a p-value equal to alpha has not."""
    before, after = shifted(9, 7, 7, 0)
    ks_drift_report.agrees_on([
        case(before, after, correction="none", expect=shifted_report((9, 7, 7, 0), [True, True, True, False])),
        case(before, after, correction="none", alpha=0.01,
             expect=shifted_report((9, 7, 7, 0), [True, False, False, False])),
        case(before, after, correction="none", alpha=P[7],
             expect=shifted_report((9, 7, 7, 0), [True, False, False, False]),
             why="alpha is exactly the p-value of x2 and x3: drifted means p < alpha, strictly."),
        case(*shifted(5, 6), correction="none", alpha=0.3, expect=shifted_report((5, 6), [True, True])),
    ], compare=verdict)


@check(points=0.25, hint={"drifted": "correction='bonferroni': a feature has drifted iff p < alpha / m, "
                                     "m being the number of features (divide alpha, do not multiply)."},
       lend=LENT)
def test_bonferroni_flags_p_below_alpha_over_m(ks_drift_report):
    """With correction='bonferroni' (the default) a feature has drifted iff p < alpha / m, m features."""
    before, after = shifted(9, 7, 7, 0)
    ks_drift_report.agrees_on([
        case(before, after, expect=shifted_report((9, 7, 7, 0), [True, False, False, False]),
             why="Bonferroni with m = 4: only p < 0.05 / 4 = 0.0125 has drifted, so x2 and x3 (p ~ 0.0314) "
                 "have not; divide alpha by m."),
        case(before, after, correction="bonferroni", alpha=0.2,
             expect=shifted_report((9, 7, 7, 0), [True, True, True, False])),
        case(*shifted(7, 7, 0), correction="bonferroni", alpha=0.1,
             expect=shifted_report((7, 7, 0), [True, True, False])),
        case(*shifted(7), expect=shifted_report((7,), [True])),
        case(*shifted(6, 6), alpha=2 * P[6], expect=shifted_report((6, 6), [False, False]),
             why="alpha / m is exactly the p-value of both features: drifted means p < alpha / m, strictly."),
    ], compare=verdict)


@check(points=0.5, hint={"drifted": "Benjamini-Hochberg: find the largest k with p_(k) < k * alpha / m "
                                    "(even when a smaller k fails); every feature with p <= p_(k) has drifted."},
       lend=LENT)
def test_benjamini_hochberg_flags_up_to_the_largest_qualifying_k(ks_drift_report):
    """With correction='fdr', k* is the largest k with p_(k) < k * alpha / m, and every feature with
    p <= p_(k*) has drifted; if no k qualifies, none has."""
    ks_drift_report.agrees_on([
        case(*shifted(9, 7, 7, 0), correction="fdr", expect=shifted_report((9, 7, 7, 0), [True, True, True, False]),
             why="The limits k * 0.05 / 4 are 0.0125, 0.025, 0.0375, 0.05. Rank 2 (p ~ 0.0314) fails its limit "
                 "but rank 3 (p ~ 0.0314 again) is under 0.0375: the largest k is 3, so x1, x2 and x3 drifted."),
        case(*shifted(9, 6, 7, 5), correction="fdr", expect=shifted_report((9, 6, 7, 5), [True, False, False, False]),
             why="The worked example's situation: sorted, only rank 1 is under its limit (0.0015 < 0.0125; "
                 "0.0314 >= 0.025, 0.0995 >= 0.0375, 0.2558 >= 0.05), so only x1 has drifted."),
        case(*shifted(9, 6, 7, 5), correction="fdr", alpha=0.1,
             expect=shifted_report((9, 6, 7, 5), [True, False, True, False])),
        case(*shifted(9, 7, 9), correction="fdr", expect=shifted_report((9, 7, 9), [True, True, True])),
        case(*shifted(6, 5, 0), correction="fdr", expect=shifted_report((6, 5, 0), [False, False, False]),
             why="No k has p_(k) < k * alpha / m, so no feature has drifted."),
        case(*shifted(6, 6), correction="fdr", alpha=P[6], expect=shifted_report((6, 6), [False, False]),
             why="Rank 2's limit 2 * alpha / 2 is exactly its p-value: p_(k) < k * alpha / m is strict."),
    ], compare=verdict)


@check(points=0.75, hint={**NUMBERS, "drifted": "Check the drifted flags against the rule of the correction used "
                                                "(none: p < alpha; bonferroni: p < alpha / m; fdr: "
                                                "Benjamini-Hochberg's largest k)."}, lend=LENT)
def test_random_reports_with_each_correction(ks_drift_report, rng):
    """100 random reports, the three corrections in turn, with alpha from 0.01 to 0.2, agree with the reference."""
    ks_drift_report.agrees_on(random_shifted_features(rng, 100), compare=verdict)


@check(points=0.5, hint="Raise ValueError for an unknown correction, for alpha outside (0, 1) (both ends excluded), "
                        "or when a feature is missing from either frame: a requested one, or with features=None "
                        "a numeric column of reference that current lacks.", lend=LENT)
def test_value_error_for_a_bad_correction_alpha_or_missing_feature(ks_drift_report):
    """An unknown correction, alpha outside (0, 1), or a feature missing from either frame (a requested one,
    or with features=None a numeric column of reference) raises ValueError."""
    reference = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]})
    current = pd.DataFrame({"a": [2.0, 3.0, 4.0], "b": [1.0, 1.0, 0.0]})
    ks_drift_report.agrees_on([
        case(reference, current, correction="holm", expect=Raises(ValueError)),
        case(reference, current, correction="fdr_bh", expect=Raises(ValueError)),
        case(reference, current, alpha=0.0, expect=Raises(ValueError)),
        case(reference, current, alpha=1.0, expect=Raises(ValueError),
             why="alpha must lie strictly between 0 and 1: alpha = 1 raises ValueError."),
        case(reference, current, alpha=-0.05, expect=Raises(ValueError)),
        case(reference, current, alpha=1.5, expect=Raises(ValueError)),
        case(reference, current, features=["a", "c"], expect=Raises(ValueError),
             why="The requested feature 'c' is in neither frame: raise ValueError (not KeyError)."),
        case(reference, current[["a"]], features=["b"], expect=Raises(ValueError),
             why="The requested feature 'b' is missing from current: raise ValueError."),
        case(reference, current.assign(c=[1.0, 2.0, 3.0]), features=["a", "c"], expect=Raises(ValueError),
             why="The requested feature 'c' is missing from reference: raise ValueError."),
        case(reference, current[["a"]], expect=Raises(ValueError),
             why="With features=None, 'b' is a numeric column of reference that current lacks: raise ValueError "
                 "(not KeyError), as for a requested feature."),
    ])


def random_frames_with_text_and_date_columns(rng, count, features_in_random_order):
    """2 to 6 normal features of 20 to 80 rows and an integer count column at a random place, beside a text
    and a date column (no features); current, 5 rows longer, has the numeric columns only, some shifted far.
    With features_in_random_order the features are requested in a random order, else features=None.
    Every feature has drifted or not under every correction (p < alpha / m or p >= alpha * m), so only the
    layout is at stake."""
    cases = []
    while len(cases) < count:
        m, n = int(rng.integers(2, 7)), int(rng.integers(20, 80))
        columns = [f"feature_{i}" for i in range(m)]
        reference = _normal_frame(rng, columns, n, np.zeros(m))
        current = _normal_frame(rng, columns, n + 5, rng.choice([0, 2], m))
        reference["sender"] = [f"user{i}@example.com" for i in range(n)]
        reference["received"] = pd.date_range("2024-07-01", periods=n, freq="h")
        reference.insert(int(rng.integers(0, m)), "count", rng.poisson(2, n))
        current["count"] = rng.poisson(2, n + 5)
        features = [*columns, "count"]
        if not _same_under_every_correction(reference, current, features, alpha=0.05):
            continue
        if features_in_random_order:
            cases.append(case(reference, current, features=[str(f) for f in rng.permutation(features)]))
        else:
            cases.append(case(reference, current))
    return cases


def random_shifted_features(rng, count):
    """1 to 8 features of 10 to 40 values (normal scores rounded to 2 decimals, or Poisson counts), each
    shifted at random or not; alpha from 0.01 to 0.2; the corrections none, bonferroni and fdr in turn;
    half the cases request the features in a random order. No p-value lies on a limit (see the module)."""
    cases = []
    while len(cases) < count:
        m, n = int(rng.integers(1, 9)), int(rng.integers(10, 40))
        columns = [f"x{j}" for j in range(m)]
        shifts = rng.choice([0, 0, 0, 0.15, 0.3, 0.6, 1.5], m)
        length = n + int(rng.integers(0, 30))
        if rng.random() < 0.3:
            reference = pd.DataFrame({c: rng.poisson(2, n) for c in columns})
            current = pd.DataFrame({c: rng.poisson(2 + 2 * s, length) for c, s in zip(columns, shifts)})
        else:
            reference = pd.DataFrame({c: rng.normal(0, 1, n).round(2) for c in columns})
            current = pd.DataFrame({c: rng.normal(s, 1, length).round(2) for c, s in zip(columns, shifts)})
        kwargs = {"alpha": float(rng.choice([0.01, 0.05, 0.1, 0.2])),
                  "correction": ("none", "bonferroni", "fdr")[len(cases) % 3]}
        if rng.random() < 0.5:
            kwargs["features"] = [str(c) for c in rng.permutation(columns)]
        if _clear_of_limits(reference, current, columns, kwargs["alpha"]):
            cases.append(case(reference, current, **kwargs))
    return cases


def _normal_frame(rng, columns, n, shifts):
    return pd.DataFrame({c: rng.normal(s, 1, n).round(3) for c, s in zip(columns, shifts)})


def _same_under_every_correction(reference, current, features, alpha):
    """Whether each p-value is below alpha / m or at least alpha * m, where every correction agrees."""
    p_values = np.array([pvalue(reference[f], current[f]) for f in features])
    m = len(features)
    return bool(np.all((p_values < alpha / m) | (p_values >= alpha * m)))


def _clear_of_limits(reference, current, features, alpha, rel=1e-6):
    """Whether every p-value is clear of every limit a correction may use: alpha, alpha / m, k * alpha / m."""
    p_values = np.array([pvalue(reference[f], current[f]) for f in features])
    m = len(features)
    limits = np.concatenate([[alpha], np.arange(1, m + 1) * alpha / m])
    return bool(np.all(np.abs(p_values[:, None] - limits[None, :]) > rel * limits[None, :]))
