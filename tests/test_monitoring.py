"""Monitoring: daily counts and rates, pooled rolling windows and alert thresholds.

The expected numbers in this file are worked out by hand from the small log
built by :func:`hand_log`, not recomputed with the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from phishlab.monitoring import (
    DEFAULT_THRESHOLDS,
    METRICS,
    AlertThresholds,
    add_rolling_metrics,
    check_thresholds,
    confusion_counts,
    daily_metrics,
    rates_from_counts,
    wilson_interval,
)

NAN = float("nan")

# (day, tp, fp, tn, fn). 3 March has no traffic at all.
HAND_COUNTS = [
    ("2024-03-01", 2, 1, 6, 1),
    ("2024-03-02", 0, 0, 5, 0),  # no phishing: TPR and precision undefined
    ("2024-03-04", 9, 2, 18, 1),
    ("2024-03-05", 1, 0, 8, 1),
]


def hand_log() -> pd.DataFrame:
    """A prediction log with the counts of HAND_COUNTS, rows shuffled, times within the day."""
    rows = []
    for day, tp, fp, tn, fn in HAND_COUNTS:
        pairs = [(1, 1)] * tp + [(0, 1)] * fp + [(0, 0)] * tn + [(1, 0)] * fn
        for i, (actual, prediction) in enumerate(pairs):
            rows.append(
                {
                    "date": pd.Timestamp(day) + pd.Timedelta(minutes=37 * i),
                    "email_id": f"{day}-{i}",
                    "probability": 0.9 if prediction else 0.1,
                    "prediction": prediction,
                    "actual": actual,
                    "model_version": "1.0",
                    "inference_ms": 1.0,
                }
            )
    return pd.DataFrame(rows).sample(frac=1, random_state=0).reset_index(drop=True)


@pytest.fixture
def daily() -> pd.DataFrame:
    return daily_metrics(hand_log())


def _row(frame: pd.DataFrame, day: str) -> pd.Series:
    return frame.loc[pd.Timestamp(day)]


# --- daily metrics ----------------------------------------------------------------------------------


def test_daily_metrics_has_one_row_per_calendar_day_with_the_documented_columns(daily):
    assert list(daily.index) == list(pd.date_range("2024-03-01", "2024-03-05", freq="D"))
    assert daily.index.name == "date"
    assert list(daily.columns) == [
        "n_emails", "n_phishing", "tp", "fp", "tn", "fn", "tpr", "fpr", "precision", "f1"
    ]


def test_daily_counts_match_the_hand_built_log(daily):
    expected = {
        "2024-03-01": (10, 3, 2, 1, 6, 1),
        "2024-03-02": (5, 0, 0, 0, 5, 0),
        "2024-03-03": (0, 0, 0, 0, 0, 0),
        "2024-03-04": (30, 10, 9, 2, 18, 1),
        "2024-03-05": (10, 2, 1, 0, 8, 1),
    }
    for day, counts in expected.items():
        assert tuple(_row(daily, day)[["n_emails", "n_phishing", "tp", "fp", "tn", "fn"]]) == counts, day
    assert (daily[["n_emails", "n_phishing", "tp", "fp", "tn", "fn"]].dtypes == np.int64).all()


def test_daily_rates_match_hand_computed_values(daily):
    first = _row(daily, "2024-03-01")  # tp=2, fp=1, tn=6, fn=1
    assert first["tpr"] == pytest.approx(2 / 3)
    assert first["fpr"] == pytest.approx(1 / 7)
    assert first["precision"] == pytest.approx(2 / 3)
    assert first["f1"] == pytest.approx(4 / 6)

    fourth = _row(daily, "2024-03-04")  # tp=9, fp=2, tn=18, fn=1
    assert fourth["tpr"] == 0.9
    assert fourth["fpr"] == 0.1
    assert fourth["precision"] == pytest.approx(9 / 11)
    assert fourth["f1"] == pytest.approx(18 / 21)

    fifth = _row(daily, "2024-03-05")  # tp=1, fp=0, tn=8, fn=1
    assert (fifth["tpr"], fifth["fpr"], fifth["precision"]) == (0.5, 0.0, 1.0)
    assert fifth["f1"] == pytest.approx(2 / 3)


def test_a_day_without_phishing_has_nan_tpr_not_zero(daily):
    quiet = _row(daily, "2024-03-02")
    assert math.isnan(quiet["tpr"])
    assert math.isnan(quiet["precision"])  # nothing flagged either
    assert math.isnan(quiet["f1"])
    assert quiet["fpr"] == 0.0  # five legitimate emails, none flagged: a real 0


def test_a_day_without_traffic_appears_with_zero_counts_and_undefined_rates(daily):
    empty = _row(daily, "2024-03-03")
    assert empty["n_emails"] == 0
    for metric in METRICS:
        assert math.isnan(empty[metric]), metric


def test_daily_metrics_accepts_dates_as_text():
    log = pd.DataFrame({"date": ["2024-03-01", "2024-03-01", "2024-03-02"],
                        "prediction": [1, 0, 0], "actual": [1, 1, 0]})
    daily = daily_metrics(log)
    assert list(daily["n_emails"]) == [2, 1]
    assert _row(daily, "2024-03-01")["tpr"] == 0.5


# --- rolling metrics ------------------------------------------------------------------------------


def test_rolling_rates_pool_the_counts_of_the_window(daily):
    rolled = add_rolling_metrics(daily, windows=(2,))
    # 4 + 5 March: tp = 9 + 1, fn = 1 + 1, fp = 2 + 0, tn = 18 + 8.
    last = _row(rolled, "2024-03-05")
    assert last["tpr_2d"] == pytest.approx(10 / 12)
    assert last["fpr_2d"] == pytest.approx(2 / 28)
    assert last["precision_2d"] == pytest.approx(10 / 12)
    assert last["f1_2d"] == pytest.approx(20 / 24)
    # Not the mean of the daily rates, which would be (0.9 + 0.5) / 2 and (0.1 + 0) / 2.
    assert last["tpr_2d"] != pytest.approx(0.7)
    assert last["fpr_2d"] != pytest.approx(0.05)

    # 1 + 2 March: tp=2, fp=1, tn=11, fn=1. The mean of daily FPRs would be (1/7 + 0) / 2.
    second = _row(rolled, "2024-03-02")
    assert second["tpr_2d"] == pytest.approx(2 / 3)
    assert second["fpr_2d"] == pytest.approx(1 / 12)

    # 3 + 4 March: the empty day adds nothing, so the window equals 4 March alone.
    assert _row(rolled, "2024-03-04")["tpr_2d"] == 0.9


def test_rolling_rates_are_nan_until_the_window_is_full(daily):
    rolled = add_rolling_metrics(daily, windows=(2, 4))
    for metric in METRICS:
        assert math.isnan(_row(rolled, "2024-03-01")[f"{metric}_2d"]), metric
        assert rolled[f"{metric}_4d"].iloc[:3].isna().all(), metric
    assert not math.isnan(_row(rolled, "2024-03-02")["tpr_2d"])
    # Four days 2-5 March pooled: tp=10, fn=2, fp=2, tn=31.
    assert _row(rolled, "2024-03-05")["tpr_4d"] == pytest.approx(10 / 12)
    assert _row(rolled, "2024-03-05")["fpr_4d"] == pytest.approx(2 / 33)


def test_a_window_without_phishing_gives_nan_rolling_tpr(daily):
    rolled = add_rolling_metrics(daily, windows=(2,))
    quiet = _row(rolled, "2024-03-03")  # 2 + 3 March: no phishing
    assert math.isnan(quiet["tpr_2d"])
    assert quiet["fpr_2d"] == 0.0


def test_a_one_day_window_reproduces_the_daily_rates(daily):
    rolled = add_rolling_metrics(daily, windows=(1,))
    for metric in METRICS:
        pd.testing.assert_series_equal(rolled[f"{metric}_1d"], daily[metric], check_names=False)


def test_add_rolling_metrics_returns_a_copy_with_the_default_windows(daily):
    original = daily.copy()
    rolled = add_rolling_metrics(daily)
    pd.testing.assert_frame_equal(daily, original)
    for metric in METRICS:
        assert f"{metric}_7d" in rolled.columns
        assert f"{metric}_30d" in rolled.columns
    # Five days are fewer than a 7-day window.
    assert rolled["tpr_7d"].isna().all()


# --- thresholds --------------------------------------------------------------------------------------


def _rates(rows):
    return pd.DataFrame(rows, columns=["tpr", "fpr", "precision"])


def test_values_exactly_at_the_thresholds_raise_alerts():
    alerts = check_thresholds(_rates([(0.90, 0.05, 0.75)]))
    assert alerts.loc[0].tolist() == [True, True, True, True]


def test_values_better_than_the_thresholds_raise_no_alert():
    alerts = check_thresholds(_rates([(0.91, 0.049, 0.76), (1.0, 0.0, 1.0)]))
    assert not alerts.to_numpy().any()


def test_each_breach_raises_its_own_alert_and_any_alert():
    alerts = check_thresholds(_rates([(0.5, 0.0, 1.0), (1.0, 0.2, 1.0), (1.0, 0.0, 0.5)]))
    assert alerts.columns.tolist() == ["tpr_alert", "fpr_alert", "precision_alert", "any_alert"]
    assert alerts["tpr_alert"].tolist() == [True, False, False]
    assert alerts["fpr_alert"].tolist() == [False, True, False]
    assert alerts["precision_alert"].tolist() == [False, False, True]
    assert alerts["any_alert"].tolist() == [True, True, True]
    assert all(dtype == np.dtype(bool) for dtype in alerts.dtypes)


def test_nan_rates_never_raise_alerts():
    alerts = check_thresholds(_rates([(NAN, NAN, NAN), (NAN, 0.0, NAN)]))
    assert not alerts.to_numpy().any()


def test_alerts_on_the_hand_built_log(daily):
    alerts = check_thresholds(daily)
    assert list(alerts.index) == list(daily.index)
    assert alerts["tpr_alert"].tolist() == [True, False, False, True, True]  # 2/3, nan, nan, 0.9, 0.5
    assert alerts["fpr_alert"].tolist() == [True, False, False, True, False]  # 1/7, 0, nan, 0.1, 0
    assert alerts["precision_alert"].tolist() == [True, False, False, False, False]  # 2/3, ..., 9/11, 1


def test_custom_thresholds_are_honoured(daily):
    lenient = AlertThresholds(min_tpr=0.5, max_fpr=0.15, min_precision=0.6)
    alerts = check_thresholds(daily, lenient)
    assert alerts["tpr_alert"].tolist() == [False, False, False, False, True]  # 0.5 <= 0.5
    assert alerts["fpr_alert"].tolist() == [False] * 5
    assert alerts["precision_alert"].tolist() == [False] * 5


def test_thresholds_can_check_a_rolling_window(daily):
    rolled = add_rolling_metrics(daily, windows=(2,))
    alerts = check_thresholds(rolled, suffix="_2d")
    # 5 March pooled: tpr 10/12 <= 0.9, fpr 2/28 >= 0.05, precision 10/12 > 0.75.
    assert alerts.loc[pd.Timestamp("2024-03-05")].tolist() == [True, True, False, True]
    assert not alerts.loc[pd.Timestamp("2024-03-01")].any()  # no full window yet


def test_check_thresholds_names_a_missing_column(daily):
    with pytest.raises(ValueError, match=r"missing column 'tpr_7d'"):
        check_thresholds(daily, suffix="_7d")


def test_default_thresholds_are_the_course_targets():
    assert (DEFAULT_THRESHOLDS.min_tpr, DEFAULT_THRESHOLDS.max_fpr, DEFAULT_THRESHOLDS.min_precision) == (
        0.90, 0.05, 0.75
    )
    assert DEFAULT_THRESHOLDS.target_of("tpr") == (">", 0.90)
    assert DEFAULT_THRESHOLDS.target_of("fpr") == ("<", 0.05)
    assert DEFAULT_THRESHOLDS.target_of("precision") == (">", 0.75)
    with pytest.raises(ValueError, match=r"no threshold for 'f1'"):
        DEFAULT_THRESHOLDS.target_of("f1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_tpr": 1.5}, r"min_tpr must be in \[0, 1\], got 1.5"),
        ({"max_fpr": -0.01}, r"max_fpr must be in \[0, 1\], got -0.01"),
        ({"min_precision": 75}, r"min_precision must be in \[0, 1\], got 75"),
        ({"min_tpr": NAN}, r"min_tpr must be in \[0, 1\], got nan"),
    ],
)
def test_alert_thresholds_reject_values_outside_zero_one(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AlertThresholds(**kwargs)


def test_alert_thresholds_accept_the_bounds():
    assert AlertThresholds(min_tpr=0, max_fpr=1, min_precision=1).max_fpr == 1


# --- counts and rates ---------------------------------------------------------------------------------


def test_confusion_counts_of_labels_and_predictions():
    counts = confusion_counts([1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 1, 0, 0, 0])
    assert counts == {"tp": 2, "fp": 1, "tn": 3, "fn": 1}
    assert all(type(value) is int for value in counts.values())


def test_rates_from_scalar_counts_are_floats():
    rates = rates_from_counts(tp=2, fp=1, tn=6, fn=1)
    assert rates == pytest.approx({"tpr": 2 / 3, "fpr": 1 / 7, "precision": 2 / 3, "f1": 4 / 6})
    assert all(type(value) is float for value in rates.values())


def test_rates_with_a_zero_denominator_are_nan():
    rates = rates_from_counts(tp=0, fp=0, tn=5, fn=0)
    assert math.isnan(rates["tpr"]) and math.isnan(rates["precision"]) and math.isnan(rates["f1"])
    assert rates["fpr"] == 0.0
    assert math.isnan(rates_from_counts(0, 0, 0, 0)["fpr"])


def test_rates_from_array_counts_are_arrays():
    rates = rates_from_counts(tp=[1, 0], fp=[0, 0], tn=[1, 1], fn=[1, 0])
    np.testing.assert_array_equal(rates["tpr"], [0.5, NAN])
    np.testing.assert_array_equal(rates["fpr"], [0.0, 0.0])


@given(counts=st.tuples(*[st.integers(min_value=0, max_value=10_000)] * 4))
def test_rates_are_proportions_and_f1_is_the_harmonic_mean(counts):
    tp, fp, tn, fn = counts
    rates = rates_from_counts(tp, fp, tn, fn)
    for name, value in rates.items():
        assert math.isnan(value) or 0 <= value <= 1, name
    if tp > 0:
        precision, recall = rates["precision"], rates["tpr"]
        assert rates["f1"] == pytest.approx(2 * precision * recall / (precision + recall))


@pytest.mark.parametrize("counts", [(-1, 0, 0, 0), (0, 0, 0, -3), ([1, -1], [0, 0], [0, 0], [0, 0])])
def test_negative_counts_are_rejected(counts):
    with pytest.raises(ValueError, match=r"counts must be non-negative"):
        rates_from_counts(*counts)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        ([1, 0], [1], r"y_true and y_pred differ in length: 2 vs 1"),
        ([1, 2], [1, 0], r"y_true must contain only 0 and 1"),
        ([1, 0], [0.5, 0], r"y_pred must contain only 0 and 1"),
        ([[1, 0]], [[1, 0]], r"y_true must be one-dimensional"),
    ],
)
def test_confusion_counts_reject_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        confusion_counts(y_true, y_pred)


# --- bad logs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda log: log.drop(columns="actual"), r"missing column\(s\) \['actual'\]"),
        (lambda log: log.drop(columns=["date", "prediction"]),
         r"missing column\(s\) \['date', 'prediction'\]"),
        (lambda log: log.iloc[:0], r"the prediction log is empty"),
        (lambda log: log.assign(actual=log["actual"] * 2), r"actual must contain only 0 and 1"),
        (lambda log: log.assign(prediction=log["probability"]), r"prediction must contain only 0 and 1"),
        (lambda log: log.assign(actual=log["actual"].where(log.index > 0)),
         r"actual must contain only 0 and 1"),
        (lambda log: log.assign(date=log["date"].where(log.index > 0)), r"column 'date' has 1 missing value"),
        (lambda log: log.assign(date="someday"), r"column 'date' must hold dates"),
        (lambda log: log.to_dict("list"), r"expected a pandas DataFrame, got dict"),
    ],
    ids=["no-actual", "no-date-prediction", "empty", "actual-2", "prediction-proba", "actual-nan",
         "date-missing", "date-text", "not-a-frame"],
)
def test_daily_metrics_rejects_bad_logs(change, message):
    with pytest.raises(ValueError, match=message):
        daily_metrics(change(hand_log()))


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ((0,), r"windows must be .*positive ints.*got \(0,\)"),
        ((7, -1), r"positive ints"),
        ((1.5,), r"positive ints"),
        ((True,), r"positive ints"),
        (7, r"windows must be a tuple of positive ints"),
    ],
)
def test_add_rolling_metrics_rejects_bad_windows(daily, windows, message):
    with pytest.raises(ValueError, match=message):
        add_rolling_metrics(daily, windows=windows)


def test_add_rolling_metrics_rejects_frames_that_are_not_daily_metrics(daily):
    with pytest.raises(ValueError, match=r"daily metrics are missing count column\(s\) \['tp', 'fp'\]"):
        add_rolling_metrics(daily.drop(columns=["tp", "fp"]))
    with pytest.raises(ValueError, match=r"the daily metrics are empty"):
        add_rolling_metrics(daily.iloc[:0])


# --- Wilson intervals -------------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_formula():
    successes, trials, z = 9, 13, 1.959963984540054
    p = successes / trials
    centre = (p + z**2 / (2 * trials)) / (1 + z**2 / trials)
    half = z / (1 + z**2 / trials) * math.sqrt(p * (1 - p) / trials + z**2 / (4 * trials**2))
    low, high = wilson_interval(successes, trials)
    assert low == pytest.approx(centre - half) and high == pytest.approx(centre + half)


def test_wilson_interval_does_not_collapse_when_nothing_was_seen():
    interval = wilson_interval(0, 25)
    assert interval.low == 0 and 0.1 < interval.high < 0.15
    assert wilson_interval(25, 25).high == pytest.approx(1)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_observed_rate(counts):
    successes, trials = counts
    low, high = wilson_interval(successes, trials)
    assert 0 <= low <= successes / trials <= high <= 1


def test_a_wider_confidence_gives_a_wider_interval():
    narrow, wide = wilson_interval(30, 200, 0.9), wilson_interval(30, 200, 0.99)
    assert wide.low < narrow.low and narrow.high < wide.high


@pytest.mark.parametrize(("successes", "trials", "level", "message"), [
    (3, 0, 0.95, "trials must be at least 1"),
    (5, 4, 0.95, r"successes must be between 0 and trials \(4\)"),
    (-1, 4, 0.95, "successes must be between"),
    (1.5, 4, 0.95, "whole numbers"),
    (1, 4, 95, r"confidence_level must be in \(0, 1\)"),
])
def test_wilson_interval_refuses_impossible_counts(successes, trials, level, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, trials, level)
