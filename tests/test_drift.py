"""The feature-drift monitor of Chapter 3: per-kind tests, effect sizes, sliding windows."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from phishlab import drift
from phishlab.drift import MIN_EFFECT, drift_report, feature_drift_test, sliding_drift_monitor


def test_docstring_examples_run():
    result = doctest.testmod(drift, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


def test_continuous_features_get_the_ks_test():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=500), rng.normal(0.3, size=400)
    test, effect, p_value = feature_drift_test(a, b, "continuous")
    expected = stats.ks_2samp(a, b)
    assert test == "KS"
    assert effect == pytest.approx(expected.statistic)
    assert p_value == pytest.approx(expected.pvalue)


def test_a_flag_gets_chi_square_and_its_effect_is_the_difference_in_proportions():
    reference = np.array([1] * 30 + [0] * 70)
    current = np.array([1] * 50 + [0] * 50)
    test, effect, p_value = feature_drift_test(reference, current, "binary")
    assert test == "chi-square"
    assert effect == pytest.approx(0.20)
    expected = stats.chi2_contingency([[30, 70], [50, 50]], correction=False)[1]
    assert p_value == pytest.approx(expected)


def test_rare_count_values_are_pooled_until_every_expected_count_is_at_least_5():
    rng = np.random.default_rng(2)
    reference, current = rng.poisson(0.5, 300), rng.poisson(0.5, 300)
    table = drift._contingency(reference.astype(float), current.astype(float))
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    assert table.sum() == 600 and expected.min() >= 5


def test_a_flag_that_never_varies_has_no_drift():
    assert feature_drift_test(np.zeros(50), np.zeros(40), "binary") == ("chi-square", 0.0, 1.0)


def test_chi_square_holds_its_level_on_counts_where_ks_is_conservative():
    rng = np.random.default_rng(3)
    p_values = [feature_drift_test(rng.poisson(0.5, 300), rng.poisson(0.5, 300), "count")[2]
                for _ in range(300)]
    rejections = np.mean(np.array(p_values) < 0.05)
    # KS rejects well under 1 % of such pairs; an honest test near 5 %.
    assert 0.02 <= rejections <= 0.09


def test_a_significant_but_tiny_shift_is_not_flagged():
    rng = np.random.default_rng(4)
    before = pd.DataFrame({"x": rng.beta(7.0, 2.0, 200_000)})
    after = pd.DataFrame({"x": rng.beta(7.3, 2.0, 200_000)})
    report = drift_report(before, after, {"x": "continuous"})
    assert report.loc["x", "p_bonferroni"] < 1e-6
    assert report.loc["x", "effect"] < MIN_EFFECT
    assert not report.loc["x", "drifted"]


def test_bonferroni_multiplies_by_the_number_of_features():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({name: rng.normal(size=200) for name in "abc"})
    other = pd.DataFrame({name: rng.normal(size=200) for name in "abc"})
    report = drift_report(frame, other, dict.fromkeys("abc", "continuous"))
    assert np.allclose(report["p_bonferroni"], np.minimum(1, 3 * report["p_value"]))


def _traffic(shift_from: str, shift: float = 3.0) -> pd.DataFrame:
    rng = np.random.default_rng(6)
    days = pd.date_range("2024-06-01", "2024-07-31", freq="D").repeat(60)
    moved = np.where(days >= pd.Timestamp(shift_from), shift, 0.0)
    return pd.DataFrame({"timestamp": days, "x": rng.normal(moved), "k": rng.poisson(1.0, days.size)})


def test_the_sliding_monitor_fires_on_the_first_day_of_a_large_shift_and_not_before():
    monitor = sliding_drift_monitor(_traffic("2024-07-20"), {"x": "continuous", "k": "count"},
                                    ("2024-06-01", "2024-06-30"), "2024-07-07", "2024-07-31")
    assert monitor.index[0] == pd.Timestamp("2024-07-07")
    assert monitor["fires"].idxmax() == pd.Timestamp("2024-07-20")
    assert not monitor.loc[:"2024-07-19", "fires"].any()
    assert (monitor["n_emails"] == 7 * 60).all()
    assert {"effect_x", "p_k"} <= set(monitor.columns)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2024-07-03"}, "overlaps the reference"),
        ({"window": 0}, "positive int"),
        ({"window": True}, "positive int"),
        ({"features": {"x": "ordinal"}}, "kind"),
        ({"features": {}}, "no feature"),
        ({"time_column": "when"}, "time column"),
        ({"end": "2024-07-01"}, "end on or after"),
    ],
)
def test_the_sliding_monitor_rejects_bad_arguments(kwargs, message):
    arguments = {"emails": _traffic("2024-07-20"), "features": {"x": "continuous"},
                 "reference": ("2024-06-01", "2024-06-30"), "start": "2024-07-07",
                 "end": "2024-07-31", **kwargs}
    with pytest.raises(ValueError, match=message):
        sliding_drift_monitor(**arguments)


@pytest.mark.parametrize(
    ("reference", "current", "kind", "message"),
    [
        ([1.0, 2.0], [1.0, 2.0], "ordinal", "kind"),
        ([[1.0, 2.0]], [1.0, 2.0], "continuous", "one-dimensional"),
        ([1.0], [1.0, 2.0], "continuous", "at least 2"),
        ([1.0, np.nan], [1.0, 2.0], "count", "NaN"),
    ],
)
def test_feature_drift_test_rejects_bad_samples(reference, current, kind, message):
    with pytest.raises(ValueError, match=message):
        feature_drift_test(reference, current, kind)


def test_drift_report_rejects_bad_levels_and_missing_columns():
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ValueError, match="alpha"):
        drift_report(frame, frame, {"x": "continuous"}, alpha=1.5)
    with pytest.raises(ValueError, match="min_effect"):
        drift_report(frame, frame, {"x": "continuous"}, min_effect=-0.1)
    with pytest.raises(ValueError, match="lacks"):
        drift_report(frame, frame, {"y": "continuous"})
