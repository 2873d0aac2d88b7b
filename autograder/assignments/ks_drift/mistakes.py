"""Known mistakes of the ``ks_drift`` assignment, as edits of the reference solution.

Each entry names one misconception a student's answer can show; see
:mod:`autograder.mistakes` for how the graders and the tests use them.

Not listed, because they are not mistakes: ECDFs evaluated with
``side="left"`` in *both* samples (the left limits at every sample value give
the same largest gap), and the performance rules written as ratios
(``current / baseline < 1 - tpr_drop``).
"""

from autograder.assignments import get
from autograder.mistakes import Mistake

# The sandbox's rule catches this one, so its hint is the rule's own words.
NUMPY_ONLY = get("ks_drift").forbidden_reasons["ks_statistic"]

MISTAKES = [
    # --- ks_statistic ------------------------------------------------------------------------------
    Mistake(
        "drops_ties_with_unique", "ks_statistic",
        "Repeated values (ties) must count: an ECDF jumps by k/n at a value that occurs k times. "
        "Sort the samples with np.sort; do not reduce them to their unique values.",
        replace={"samples.append(np.sort(array))": "samples.append(np.unique(array))"},
    ),
    Mistake(
        "evaluates_only_reference_points", "ks_statistic",
        "Evaluate both ECDFs at every value of both samples, not only at the reference values: "
        "the largest gap can sit at a value of the current sample.",
        replace={"evaluation_points = np.concatenate([ref_sorted, cur_sorted])": "evaluation_points = ref_sorted"},
    ),
    Mistake(
        "ecdf_on_fixed_grid", "ks_statistic",
        "Evaluate both ECDFs at every value of both samples, not on a fixed grid such as "
        "np.linspace(min, max, 100): the ECDFs jump at the sample values, and a grid misses the largest gap.",
        replace={"evaluation_points = np.concatenate([ref_sorted, cur_sorted])":
                 "evaluation_points = np.linspace(min(ref_sorted[0], cur_sorted[0]),\n"
                 "                                    max(ref_sorted[-1], cur_sorted[-1]), 100)"},
    ),
    Mistake(
        "left_continuous_ecdf", "ks_statistic",
        "The reference ECDF counts values strictly below x (searchsorted's default side='left') while the "
        "current one counts values <= x. Both ECDFs are right-continuous: use side='right' for both.",
        replace={'np.searchsorted(ref_sorted, evaluation_points, side="right")':
                 "np.searchsorted(ref_sorted, evaluation_points)"},
    ),
    Mistake(
        "left_continuous_current_ecdf", "ks_statistic",
        "The current ECDF counts values strictly below x (searchsorted's default side='left') while the "
        "reference one counts values <= x. Both ECDFs are right-continuous: use side='right' for both.",
        replace={'np.searchsorted(cur_sorted, evaluation_points, side="right")':
                 'np.searchsorted(cur_sorted, evaluation_points, side="left")'},
    ),
    Mistake(
        "nan_not_rejected", "ks_statistic",
        "Raise a ValueError when either sample contains NaN (check np.isnan(...).any()), "
        "not only when a sample is empty.",
        replace={'        if np.isnan(array).any():\n            raise ValueError(f"the {name} sample contains NaN")\n':
                 ""},
    ),
    Mistake(
        "one_sided", "ks_statistic",
        "This is the one-sided statistic max(F_ref - F_cur). D is two-sided: take the largest absolute "
        "difference |F_ref - F_cur|.",
        replace={"np.max(np.abs(ecdf_ref - ecdf_cur))": "np.max(ecdf_ref - ecdf_cur)"},
    ),
    Mistake(
        "returns_pvalue_not_statistic", "ks_statistic",
        "You returned the KS test's p-value; return the statistic D, the largest gap between the two ECDFs, "
        "computed with NumPy (no SciPy KS function).",
        replace={"np.max(np.abs(ecdf_ref - ecdf_cur))": "stats.ks_2samp(reference, current).pvalue"},
    ),
    Mistake(
        "uses_scipy_ks", "ks_statistic", NUMPY_ONLY,
        replace={"np.max(np.abs(ecdf_ref - ecdf_cur))": "stats.ks_2samp(reference, current).statistic"},
    ),
    # --- ks_drift_report ---------------------------------------------------------------------------
    Mistake(
        "bh_stops_at_first_failure", "ks_drift_report",
        "Benjamini-Hochberg uses the largest k with p(k) < k*alpha/m, even when a smaller k fails; "
        "do not stop at the first k that fails.",
        replace={"below_line = ordered < np.arange(1, n_tests + 1) * alpha / n_tests":
                 "below_line = np.logical_and.accumulate(ordered < np.arange(1, n_tests + 1) * alpha / n_tests)"},
    ),
    Mistake(
        "bh_not_strict", "ks_drift_report",
        "Benjamini-Hochberg's limit is strict, like the other two: k qualifies only if p(k) < k*alpha/m, "
        "so a p-value exactly on its limit does not pass it. Use <, not <=.",
        replace={"below_line = ordered < np.arange(1, n_tests + 1) * alpha / n_tests":
                 "below_line = ordered <= np.arange(1, n_tests + 1) * alpha / n_tests"},
    ),
    Mistake(
        "bonferroni_forgotten", "ks_drift_report",
        "With correction='bonferroni' a feature drifts only if p < alpha / m (m = number of features): "
        "the Bonferroni correction divides alpha by m.",
        replace={"drifted = p_values < alpha / n_tests": "drifted = p_values < alpha"},
    ),
    Mistake(
        "bonferroni_multiplies_alpha", "ks_drift_report",
        "Bonferroni makes each test stricter: divide alpha by the number of features (p < alpha / m), "
        "do not multiply it.",
        replace={"p_values < alpha / n_tests": "p_values < alpha * n_tests"},
    ),
    Mistake(
        "default_features_not_numeric_only", "ks_drift_report",
        "When features is None, use only the numeric columns of reference "
        "(reference.select_dtypes(include='number')), in column order.",
        replace={'features = reference.select_dtypes(include="number").columns': "features = reference.columns"},
    ),
    Mistake(
        "boolean_columns_as_features", "ks_drift_report",
        "Boolean columns are not features here: with features=None use reference.select_dtypes(include='number'), "
        "which leaves them out (pd.api.types.is_numeric_dtype counts bool as numeric).",
        replace={'features = reference.select_dtypes(include="number").columns':
                 "features = [name for name in reference.columns\n"
                 "                    if pd.api.types.is_numeric_dtype(reference[name])]"},
    ),
    Mistake(
        "default_features_not_checked", "ks_drift_report",
        "With features=None, a numeric column of reference that current lacks raises a ValueError too "
        "(not KeyError): check the default features as you check requested ones.",
        replace={"    if features is None:\n        features = reference":
                 "    requested = features is not None\n    if features is None:\n        features = reference",
                 "        if absent:": "        if absent and requested:"},
    ),
    Mistake(
        "report_sorted_by_pvalue", "ks_drift_report",
        "Keep one row per feature in the order of features (or of the numeric columns); "
        "do not sort the report by p-value.",
        replace={'index=pd.Index(features, name="feature"),\n    )':
                 'index=pd.Index(features, name="feature"),\n    ).sort_values("p_value")'},
    ),
    # --- drift_score -------------------------------------------------------------------------------
    Mistake(
        "drift_score_counts", "drift_score",
        "The drift score is the share of features that drifted (a float between 0 and 1), not their count: "
        "divide by the number of features.",
        replace={'np.mean(report["drifted"].astype(bool))': 'np.sum(report["drifted"].astype(bool))'},
    ),
    Mistake(
        "empty_report_returns_zero", "drift_score",
        "A report with no features has no drift score: raise a ValueError instead of returning 0.0.",
        replace={'raise ValueError("the drift report has no features")': "return 0.0"},
    ),
    Mistake(
        "empty_report_not_checked", "drift_score",
        "A report with no features has no drift score (the mean of nothing is NaN): check len(report) == 0 "
        "and raise a ValueError.",
        replace={'    if len(report) == 0:\n        raise ValueError("the drift report has no features")\n': ""},
    ),
    # --- performance_alerts ------------------------------------------------------------------------
    Mistake(
        "alerts_not_strict", "performance_alerts",
        "The rules are strict: a metric exactly on its limit does not alert. Use < and >, not <= and >=.",
        replace={'current["tpr"] < baseline': 'current["tpr"] <= baseline',
                 'current["fpr"] > baseline': 'current["fpr"] >= baseline',
                 'current["precision"] < baseline': 'current["precision"] <= baseline'},
    ),
    Mistake(
        "fpr_rule_absolute_difference", "performance_alerts",
        "The FPR rule is relative: alert when current FPR > baseline FPR * (1 + fpr_rise), "
        "not when it exceeds the baseline by fpr_rise.",
        replace={'baseline["fpr"] * (1 + fpr_rise)': 'baseline["fpr"] + fpr_rise'},
    ),
    Mistake(
        "tpr_rule_absolute_difference", "performance_alerts",
        "The TPR rule is relative: alert when current TPR < baseline TPR * (1 - tpr_drop), "
        "not when it falls below the baseline minus tpr_drop.",
        replace={'baseline["tpr"] * (1 - tpr_drop)': 'baseline["tpr"] - tpr_drop'},
    ),
    # --- should_retrain ----------------------------------------------------------------------------
    Mistake(
        "retrain_at_threshold", "should_retrain",
        "Retrain only when the drift score is strictly greater than score_threshold; "
        "a score equal to the threshold does not trigger retraining.",
        replace={"drift_score(report) > score_threshold": "drift_score(report) >= score_threshold"},
    ),
    Mistake(
        "retrain_ignores_alerts", "should_retrain",
        "A performance alert alone must trigger retraining, whatever the drift score: "
        "also return True when any of the alerts is true.",
        replace={" or any(alerts.values())": ""},
    ),
]
