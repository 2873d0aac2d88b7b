"""Retraining policies: schedules, the trigger rule, the label-delayed monitor, the timeline and its costs.

Hand-made inputs have their answers worked out by hand in the comments. The
timeline tests use a small timeline (small forests, ten weeks of mail) built once.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from phishlab import course
from phishlab.challenges.multi_wave import (
    SIMULATION_END,
    SIMULATION_START,
    PolicyRun,
    RetrainingTimeline,
    ample_data_tpr,
    course_timeline,
    fit_retrain,
    known_rolling_tpr,
    monthly_schedule,
    multi_wave_traffic,
    policy_costs,
    tpr_between,
    trigger_days,
)
from phishlab.registry import ModelRegistry
from phishlab.scenarios import MULTI_WAVE_DRIFT
from phishlab.simulation import FEATURES, generate_training_set
from phishlab.training import predict_proba, train_model

DAYS = pd.date_range("2025-01-01", periods=10, freq="D")
TPR = pd.Series([0.60, 0.55, 0.35, 0.30, 0.50, 0.38, 0.20, 0.60, 0.30, 0.30], index=DAYS)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --- monthly_schedule ----------------------------------------------------------------------------


def test_monthly_schedule_lists_the_firsts_of_the_months_in_the_range():
    assert monthly_schedule("2024-10-06", "2025-03-31") == [
        ts("2024-11-01"), ts("2024-12-01"), ts("2025-01-01"), ts("2025-02-01"), ts("2025-03-01")]


def test_monthly_schedule_includes_both_ends_when_they_are_firsts():
    assert monthly_schedule("2024-11-01", "2024-12-01") == [ts("2024-11-01"), ts("2024-12-01")]
    assert monthly_schedule(dt.date(2025, 1, 1), dt.date(2025, 1, 1)) == [ts("2025-01-01")]


def test_monthly_schedule_is_empty_inside_a_month_and_crosses_the_year():
    assert monthly_schedule("2024-11-02", "2024-11-30") == []
    assert monthly_schedule("2024-12-15", "2025-02-10") == [ts("2025-01-01"), ts("2025-02-01")]


@pytest.mark.parametrize(("start", "end"), [("2025-03-31", "2024-10-06"), ("not a day", "2025-01-01"),
                                            (None, "2025-01-01"), ("2025-01-01 12:00", "2025-02-01")])
def test_monthly_schedule_rejects_bad_ranges(start, end):
    with pytest.raises(ValueError, match=r"start|end"):
        monthly_schedule(start, end)


# --- trigger_days --------------------------------------------------------------------------------


def test_trigger_days_without_cooldown_fires_on_every_day_below_the_threshold():
    assert trigger_days(TPR, 0.40, 0) == [DAYS[2], DAYS[3], DAYS[5], DAYS[6], DAYS[8], DAYS[9]]


def test_trigger_days_blocks_the_cooldown_days_after_each_trigger():
    # Cooldown 2: 2 blocks 3-4, 5 blocks 6-7, 8 fires. Cooldown 3: 2 blocks 3-5, 6 blocks 7-9.
    assert trigger_days(TPR, 0.40, 2) == [DAYS[2], DAYS[5], DAYS[8]]
    assert trigger_days(TPR, 0.40, 3) == [DAYS[2], DAYS[6]]
    assert trigger_days(TPR, 0.40, 100) == [DAYS[2]]


def test_trigger_days_fires_only_strictly_below_the_threshold():
    assert trigger_days(TPR, 0.30, 0) == [DAYS[6]]
    assert trigger_days(TPR, 0.0, 0) == []


def test_trigger_days_never_fires_on_nan_and_counts_nan_days_in_the_cooldown():
    gaps = pd.Series([np.nan, 0.30, np.nan, 0.20], index=DAYS[:4])
    assert trigger_days(gaps, 0.40, 0) == [DAYS[1], DAYS[3]]
    assert trigger_days(gaps, 0.40, 2) == [DAYS[1]]
    assert trigger_days(pd.Series(np.nan, index=DAYS), 0.40, 0) == []
    assert trigger_days(pd.Series([], index=pd.DatetimeIndex([]), dtype=float), 0.40, 0) == []


def test_trigger_days_counts_the_cooldown_in_calendar_days_not_rows():
    sparse = pd.Series(0.1, index=pd.DatetimeIndex(["2025-01-01", "2025-01-02", "2025-01-05", "2025-01-06"]))
    assert trigger_days(sparse, 0.40, 2) == [ts("2025-01-01"), ts("2025-01-05")]


@pytest.mark.parametrize(
    ("series", "threshold", "cooldown", "message"),
    [
        (TPR.to_numpy(), 0.4, 0, "Series"),
        (TPR.reset_index(drop=True), 0.4, 0, "DatetimeIndex"),
        (TPR[::-1], 0.4, 0, "increasing"),
        (pd.concat([TPR, TPR]), 0.4, 0, "unique"),
        (TPR, 1.5, 0, "threshold"),
        (TPR, -0.1, 0, "threshold"),
        (TPR, True, 0, "threshold"),
        (TPR, 0.4, -1, "cooldown_days"),
        (TPR, 0.4, 1.5, "cooldown_days"),
        (TPR, 0.4, True, "cooldown_days"),
        (TPR * 2, 0.4, 0, r"\[0, 1\]"),
    ],
)
def test_trigger_days_rejects_bad_arguments(series, threshold, cooldown, message):
    with pytest.raises(ValueError, match=message):
        trigger_days(series, threshold, cooldown)


# --- known_rolling_tpr ---------------------------------------------------------------------------


def _log(counts: list[tuple[str, int, int]]) -> pd.DataFrame:
    """A prediction log with (day, caught, missed) phishing and one legitimate email a day."""
    rows = []
    for day, caught, missed in counts:
        rows += [(day, 1, 1)] * caught + [(day, 0, 1)] * missed + [(day, 0, 0)]
    return pd.DataFrame(rows, columns=["date", "prediction", "actual"]).assign(date=lambda f: pd.to_datetime(f.date))


def test_known_rolling_tpr_pools_the_window_that_ends_label_delay_days_ago():
    log = _log([("2025-01-01", 1, 1), ("2025-01-02", 3, 1), ("2025-01-03", 0, 0), ("2025-01-04", 0, 4),
                ("2025-01-05", 2, 2)])
    known = known_rolling_tpr(log, window_days=2, label_delay_days=1)
    # Day 3 knows days 1-2: 4 caught of 6. Day 4 knows 2-3: 3 of 4. Day 5 knows 3-4: 0 of 4.
    assert known.name == "tpr_known"
    assert list(known.index) == list(pd.date_range("2025-01-01", "2025-01-05"))
    assert np.isnan(known.iloc[:2]).all()
    np.testing.assert_allclose(known.iloc[2:], [4 / 6, 3 / 4, 0.0])


def test_known_rolling_tpr_without_delay_is_the_rolling_tpr_and_nan_without_phishing():
    log = _log([("2025-01-01", 0, 0), ("2025-01-02", 0, 0), ("2025-01-03", 1, 0)])
    known = known_rolling_tpr(log, window_days=2, label_delay_days=0)
    assert np.isnan(known.iloc[:2]).all() and known.iloc[2] == 1.0


@pytest.mark.parametrize(("window", "delay"), [(0, 1), (2, -1), (2.5, 1), (True, 1)])
def test_known_rolling_tpr_rejects_bad_windows_and_delays(window, delay):
    with pytest.raises(ValueError, match=r"window_days|label_delay_days"):
        known_rolling_tpr(_log([("2025-01-01", 1, 0)]), window, delay)


# --- traffic and fit_retrain ---------------------------------------------------------------------


def test_multi_wave_traffic_is_the_course_traffic_until_the_november_wave():
    ours = multi_wave_traffic("2024-10-01", "2024-10-03", random_state=course.COURSE_SEED)
    theirs = course.production_traffic("2024-10-01", "2024-10-03")
    pd.testing.assert_frame_equal(ours.drop(columns="day"), theirs)
    assert (ours["day"] == ours["timestamp"].dt.normalize()).all()


def test_multi_wave_traffic_follows_the_november_wave():
    before = multi_wave_traffic("2024-10-01", "2024-10-28", random_state=3)
    after = multi_wave_traffic("2024-11-01", "2024-11-28", random_state=3)
    links = {name: frame.loc[frame.label == 1, "num_links"].mean() for name, frame in (("before", before),
                                                                                   ("after", after))}
    assert links["after"] < links["before"] - 1.5  # Poisson mean 4.0 -> 1.8


@pytest.fixture(scope="module")
def calibration() -> pd.DataFrame:
    return generate_training_set(3000, 0.10, "2024-03-01", "2024-06-30", random_state=13, id_prefix="cal-")


def test_fit_retrain_keeps_the_false_positive_budget_on_the_calibration_mail(calibration):
    data = generate_training_set(1500, 0.10, "2024-10-01", "2024-10-31", scenario=MULTI_WAVE_DRIFT, random_state=5)
    model, threshold = fit_retrain(data, calibration, max_fpr=0.01, random_state=0, n_estimators=20)
    legitimate = calibration[calibration.label == 0]
    assert 0 < threshold <= 1
    assert np.mean(predict_proba(model, legitimate) >= threshold) <= 0.01
    assert model.named_steps["model"].n_estimators == 20
    assert model.named_steps["model"].min_samples_leaf == 10  # the default leaf size


def test_fit_retrain_keeps_the_class_ratio_of_data_with_more_phishing_than_smote_ratio(calibration):
    data = generate_training_set(600, 0.30, "2024-10-01", "2024-10-31", random_state=5)
    model, _ = fit_retrain(data, calibration, max_fpr=0.01, smote_ratio=0.15, n_estimators=10)
    # 180 phishing, 420 legitimate: SMOTE adds one email rather than the 0.15 it cannot reach by adding.
    assert model.named_steps["smote"].sampling_strategy == pytest.approx(181 / 420)


def test_fit_retrain_rejects_unusable_data(calibration):
    data = generate_training_set(600, 0.10, "2024-10-01", "2024-10-31", random_state=5)
    with pytest.raises(ValueError, match="both"):
        fit_retrain(data[data.label == 0], calibration, 0.01)
    with pytest.raises(ValueError, match="no legitimate"):
        fit_retrain(data, calibration[calibration.label == 1], 0.01)
    with pytest.raises(ValueError, match="smote_ratio"):
        fit_retrain(data, calibration, 0.01, smote_ratio=0)
    balanced = pd.concat([data[data.label == 1], data[data.label == 0].head(60)])
    with pytest.raises(ValueError, match="balanced"):
        fit_retrain(balanced, calibration, 0.01)


# --- the timeline --------------------------------------------------------------------------------

START, END = ts("2024-10-06"), ts("2024-12-20")


@pytest.fixture(scope="module")
def initial_model():
    august = generate_training_set(1500, 0.10, "2024-08-01", "2024-08-31", scenario=MULTI_WAVE_DRIFT, random_state=12)
    return train_model(august, random_state=0, n_estimators=20, min_samples_leaf=5)


@pytest.fixture(scope="module")
def traffic() -> pd.DataFrame:
    return multi_wave_traffic("2024-08-25", END, random_state=11)


def make_timeline(traffic, initial_model, calibration, **settings) -> RetrainingTimeline:
    return RetrainingTimeline(traffic, START, END, initial_model, 0.5, calibration, max_fpr=0.01,
                              n_estimators=20, **settings)


@pytest.fixture(scope="module")
def timeline(traffic, initial_model, calibration) -> RetrainingTimeline:
    return make_timeline(traffic, initial_model, calibration)


def test_never_serves_the_initial_model_throughout(timeline, traffic, initial_model):
    run = timeline.never()
    expected = (predict_proba(initial_model, traffic) >= 0.5).astype(int)
    np.testing.assert_array_equal(run.decisions, expected)
    assert run.retrains.empty and run.retrain_days == [] and run.trigger_days == []
    assert list(run.monitoring.index) == list(pd.date_range(START, END))
    assert (run.monitoring["version"] == "2.0").all() and run.monitoring["alert_threshold"].isna().all()


def test_a_scheduled_retrain_learns_from_the_labels_known_on_its_morning(timeline):
    run = timeline.scheduled(["2024-12-01", "2024-11-01"], name="two retrains")
    assert run.name == "two retrains"
    assert list(run.retrains["version"]) == ["3.0", "4.0"]
    assert run.retrain_days == [ts("2024-11-01"), ts("2024-12-01")]
    # Labels arrive 7 days late: the morning of 1 November knows the emails up to 24 October.
    first = run.retrains.iloc[0]
    assert first["trained_to"] == ts("2024-10-24") and first["trained_from"] == ts("2024-09-27")
    assert pd.isna(first["trigger_day"]) and np.isnan(first["baseline_tpr"])
    assert run.monitoring.loc["2024-10-31", "version"] == "2.0"
    assert run.monitoring.loc["2024-11-01", "version"] == "3.0"
    assert run.monitoring.loc["2024-12-20", "version"] == "4.0"


def test_a_scheduled_retrain_serves_from_its_day_at_its_threshold(timeline, traffic):
    run = timeline.scheduled(["2024-11-01", "2024-12-01"])
    never = timeline.never()
    before = (traffic["day"] < "2024-11-01").to_numpy()
    np.testing.assert_array_equal(run.decisions[before], never.decisions[before])
    model, threshold = timeline.retrain("2024-12-01")
    december = (traffic["day"] >= "2024-12-01").to_numpy()
    expected = predict_proba(model, traffic.loc[december]) >= threshold
    np.testing.assert_array_equal(run.decisions[december], expected.astype(int))
    assert run.retrains["threshold"].iloc[1] == threshold


def test_retrains_are_cached_by_deployment_day(timeline):
    assert timeline.retrain("2024-11-01")[0] is timeline.retrain(pd.Timestamp("2024-11-01"))[0]


def test_a_schedule_ignores_duplicate_days_and_rejects_days_outside_the_timeline(timeline):
    run = timeline.scheduled(["2024-11-01", "2024-11-01"])
    assert run.retrain_days == [ts("2024-11-01")]
    with pytest.raises(ValueError, match="deploy_day"):
        timeline.scheduled(["2025-01-15"])
    with pytest.raises(ValueError, match="sequence"):
        timeline.scheduled("2024-11-01")


def test_the_trigger_fires_after_the_november_wave_and_retrains(timeline):
    run = timeline.triggered(ratio=0.9, deploy_delay_days=14)
    first = run.retrains.iloc[0]
    # Labels of the wave's mail are known from 8 November; the trigger cannot see it before.
    assert ts("2024-11-08") <= first["trigger_day"] <= ts("2024-11-30")
    assert first["deployed"] == first["trigger_day"] + pd.Timedelta(days=14)
    assert first["version"] == "3.0"
    assert run.monitoring.loc[first["deployed"], "version"] == "3.0"


def test_the_trigger_days_follow_the_rule_on_the_monitored_series(timeline):
    run = timeline.triggered(ratio=0.9, deploy_delay_days=3)
    cooldown = timeline.cooldown_days(3)
    assert cooldown == 3 + 7 + 14 - 2
    armed = run.monitoring.dropna(subset=["alert_threshold"])
    rebuilt = []
    for threshold, segment in armed.groupby("alert_threshold", sort=False):
        rebuilt += trigger_days(segment["tpr_known"], threshold, cooldown)[:1]
    assert rebuilt == run.trigger_days and len(rebuilt) >= 1
    gaps = np.diff(run.trigger_days) / pd.Timedelta(days=1)
    assert (gaps > cooldown).all()


def test_a_new_baseline_is_the_new_models_first_full_window(timeline):
    run = timeline.triggered(ratio=0.9, deploy_delay_days=3)
    row = run.retrains.iloc[0]
    measured = row["trigger_day"] + pd.Timedelta(days=timeline.cooldown_days(3) + 1)
    assert measured <= END
    assert row["baseline_tpr"] == run.monitoring.loc[measured, "tpr_known"]
    assert run.monitoring.loc[measured, "alert_threshold"] == pytest.approx(0.9 * row["baseline_tpr"])
    assert run.monitoring.loc[row["trigger_day"] + pd.Timedelta(days=1):measured - pd.Timedelta(days=1),
                              "alert_threshold"].isna().all()
    # v2.0's threshold is 0.9 x its monitored TPR on the first day.
    assert run.monitoring["alert_threshold"].iloc[0] == pytest.approx(0.9 * run.monitoring["tpr_known"].iloc[0])


def test_a_trigger_of_ratio_zero_never_fires(timeline):
    run = timeline.triggered(ratio=0.0)
    np.testing.assert_array_equal(run.decisions, timeline.never().decisions)
    assert run.retrains.empty


def test_a_trigger_whose_model_would_come_after_the_end_is_recorded_but_not_counted(timeline):
    run = timeline.triggered(ratio=0.65, deploy_delay_days=200)
    assert len(run.retrains) == 1 and pd.isna(run.retrains["deployed"].iloc[0])
    assert run.retrain_days == [] and len(run.trigger_days) == 1
    assert run.monitoring["alert_threshold"][run.trigger_days[0] + pd.Timedelta(days=1):].isna().all()
    assert policy_costs(run, timeline, 10, 1, 1000)["retrains"] == 0
    np.testing.assert_array_equal(run.decisions, timeline.never().decisions)


def test_timelines_are_deterministic(traffic, initial_model, calibration, timeline):
    again = make_timeline(traffic, initial_model, calibration)
    first, second = timeline.triggered(ratio=0.9, deploy_delay_days=3), again.triggered(ratio=0.9,
                                                                                        deploy_delay_days=3)
    np.testing.assert_array_equal(first.decisions, second.decisions)
    pd.testing.assert_frame_equal(first.retrains, second.retrains)
    pd.testing.assert_frame_equal(first.monitoring, second.monitoring)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": "2024-09-01"}, "history"),
        ({"end": "2025-01-31"}, "cover"),
        ({"end": "2024-10-01"}, "before start"),
        ({"max_fpr": 1.0}, "max_fpr"),
        ({"initial_version": "two"}, "initial_version"),
        ({"initial_threshold": 1.5}, "initial_threshold"),
        ({"label_delay_days": -1}, "label_delay_days"),
        ({"monitor_window_days": 0}, "monitor_window_days"),
        ({"training_window_days": 2.5}, "training_window_days"),
        ({"smote_ratio": 1.5}, "smote_ratio"),
        ({"random_state": -1}, "random_state"),
    ],
)
def test_the_timeline_rejects_bad_settings(traffic, initial_model, calibration, change, message):
    arguments = {"traffic": traffic, "start": START, "end": END, "initial_model": initial_model,
                 "initial_threshold": 0.5, "calibration": calibration, "max_fpr": 0.01, **change}
    with pytest.raises(ValueError, match=message):
        RetrainingTimeline(**arguments)


def test_the_timeline_rejects_traffic_without_days_or_out_of_order(traffic, initial_model, calibration):
    with pytest.raises(ValueError, match="'day'"):
        make_timeline(traffic.drop(columns="day"), initial_model, calibration)
    with pytest.raises(ValueError, match="time order"):
        make_timeline(traffic.iloc[::-1], initial_model, calibration)
    with pytest.raises(ValueError, match="no legitimate"):
        make_timeline(traffic, initial_model, calibration[calibration.label == 1])


def test_the_trigger_rejects_bad_ratios_and_delays(timeline):
    with pytest.raises(ValueError, match="ratio"):
        timeline.triggered(ratio=1.2)
    with pytest.raises(ValueError, match="deploy_delay_days"):
        timeline.triggered(deploy_delay_days=0)


# --- costs and period TPR ------------------------------------------------------------------------


def test_policy_costs_count_the_errors_of_the_compared_days_only(timeline, traffic):
    run = timeline.scheduled(["2024-11-01"])
    inside = ((traffic["day"] >= START) & (traffic["day"] <= END)).to_numpy()
    truth, decided = traffic["label"].to_numpy()[inside], run.decisions[inside]
    fn = int(((decided == 0) & (truth == 1)).sum())
    fp = int(((decided == 1) & (truth == 0)).sum())
    costs = policy_costs(run, timeline, fn_cost=100, fp_cost=2, retrain_cost=50)
    assert costs["fn"] == fn and costs["fp"] == fp and costs["retrains"] == 1
    assert costs["tp"] + costs["fn"] == int(truth.sum())
    assert costs["cost"] == 100 * fn + 2 * fp + 50
    assert costs["tpr"] == pytest.approx(costs["tp"] / truth.sum())
    assert costs["fpr"] == pytest.approx(fp / (truth == 0).sum())


def test_policy_costs_reject_negative_prices_and_foreign_runs(timeline):
    run = timeline.never()
    for prices in ((-1, 1, 1), (1, float("nan"), 1), (1, 1, "2000")):
        with pytest.raises(ValueError, match="cost"):
            policy_costs(run, timeline, *prices)
    foreign = PolicyRun("other", run.decisions[:-1], run.retrains, run.monitoring)
    with pytest.raises(ValueError, match="timeline"):
        policy_costs(foreign, timeline, 1, 1, 1)


def test_tpr_between_is_the_share_of_a_periods_phishing_caught(timeline, traffic):
    run = timeline.never()
    october = ((traffic["day"] >= "2024-10-06") & (traffic["day"] <= "2024-10-31") & (traffic["label"] == 1))
    assert tpr_between(run, timeline, "2024-10-06", "2024-10-31") == pytest.approx(
        run.decisions[october.to_numpy()].mean())
    with pytest.raises(ValueError, match="before"):
        tpr_between(run, timeline, "2024-10-31", "2024-10-06")
    with pytest.raises(ValueError, match="no phishing"):
        tpr_between(run, timeline, "2026-01-01", "2026-01-02")


# --- the ample-data check and the course's timeline ----------------------------------------------


def test_ample_data_tpr_compares_served_models_with_a_retrain_on_the_period(calibration, initial_model):
    served = {"initial": (initial_model, 0.5)}
    first = ample_data_tpr("2025-03-01", "2025-03-31", served, calibration, 0.01, n_emails=800, random_state=3,
                           n_estimators=10)
    again = ample_data_tpr("2025-03-01", "2025-03-31", served, calibration, 0.01, n_emails=800, random_state=3,
                           n_estimators=10)
    assert set(first) == {"initial", "ample data"} and first == again
    assert all(0 <= value <= 1 for value in first.values())
    with pytest.raises(ValueError, match="before"):
        ample_data_tpr("2025-03-31", "2025-03-01", served, calibration, 0.01)
    with pytest.raises(ValueError, match="n_emails"):
        ample_data_tpr("2025-03-01", "2025-03-31", served, calibration, 0.01, n_emails=10)


def test_course_timeline_starts_with_v2_at_its_registered_threshold(storyline_artifacts):
    registry = ModelRegistry(storyline_artifacts / "models")
    timeline = course_timeline(registry)
    assert (timeline.start, timeline.end) == (SIMULATION_START, SIMULATION_END)
    assert timeline.initial_version == "2.0"
    assert timeline.initial_threshold == registry.threshold("2.0")
    assert timeline.max_fpr == registry.entry("1.0")["metrics"]["fpr"]
    v2 = registry.load("2.0")
    expected = predict_proba(v2, timeline.traffic[list(FEATURES)]) >= registry.threshold("2.0")
    np.testing.assert_array_equal(timeline.never().decisions, expected.astype(int))
    assert "2.0" in registry and "3.0" not in registry  # nothing is registered
    with pytest.raises(ValueError, match="ModelRegistry"):
        course_timeline(storyline_artifacts)
