"""The label-arrival model: who reports what, when, and what analysts can label in a day."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import phishlab.labels
from phishlab.feedback import FEEDBACK_COLUMNS, apply_feedback
from phishlab.labels import (
    LABEL_EVENT_COLUMNS,
    LabelArrival,
    feedback_known_by,
    known_rolling_metrics,
    report_probability,
    simulate_label_arrival,
)
from phishlab.monitoring import add_rolling_metrics, daily_metrics
from phishlab.simulation import generate_daily_batches


def traffic(start="2024-03-01", end="2024-04-30", per_day=200, seed=5):
    return generate_daily_batches(start, end, emails_per_day=per_day, phishing_rate=0.2, random_state=seed)


def fake_log(emails, miss_share=0.4, seed=1):
    """A detector that misses ``miss_share`` of phishing and flags 1 % of legitimate mail."""
    rng = np.random.default_rng(seed)
    phishing = emails["label"].to_numpy() == 1
    flagged = np.where(phishing, rng.random(len(emails)) >= miss_share, rng.random(len(emails)) < 0.01)
    probability = np.where(flagged, rng.uniform(0.5, 1, len(emails)), rng.uniform(0, 0.5, len(emails)))
    return pd.DataFrame({
        "date": emails["timestamp"].dt.normalize(), "email_id": emails["email_id"],
        "probability": probability, "prediction": flagged.astype(np.int64),
        "actual": emails["label"].to_numpy(dtype=np.int64),
    })


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(phishlab.labels).failed == 0


@pytest.fixture(scope="module")
def emails():
    return traffic()


@pytest.fixture(scope="module")
def log(emails):
    return fake_log(emails)


@pytest.fixture(scope="module")
def events(emails, log):
    return simulate_label_arrival(emails, log, random_state=3)


def test_every_logged_email_gets_one_row_in_log_order(events, log):
    assert list(events.columns) == list(LABEL_EVENT_COLUMNS)
    assert events["email_id"].tolist() == log["email_id"].tolist()


def test_the_same_seed_draws_the_same_events_and_another_seed_other_ones(emails, log, events):
    pd.testing.assert_frame_equal(events, simulate_label_arrival(emails, log, random_state=3))
    other = simulate_label_arrival(emails, log, random_state=4)
    assert not other["reported_on"].equals(events["reported_on"])


def test_a_days_events_do_not_depend_on_the_range_simulated_while_analysts_have_time_to_spare(emails, log):
    ample = LabelArrival(analyst_capacity=500)
    events = simulate_label_arrival(emails, log, ample, random_state=3)
    later = (log["date"] >= "2024-04-01").to_numpy()
    part = simulate_label_arrival(emails[later], log[later].reset_index(drop=True), ample, random_state=3)
    columns = ["reported_on", "source", "known_on", "analyst_confidence"]
    pd.testing.assert_frame_equal(part[columns], events.loc[later, columns].reset_index(drop=True))


def test_reports_come_after_the_email_with_the_median_delay_asked_for(emails, log):
    for median in (1.0, 4.0):
        events = simulate_label_arrival(emails, log, LabelArrival(report_delay_median_days=median,
                                                                  report_delay_sigma=0.5), random_state=0)
        delay = (events["reported_on"] - events["date"]).dt.days.dropna()
        assert len(delay) > 50 and delay.min() >= 1
        # Delays are rounded up to whole days: the median lies within a day above the one asked for.
        assert median <= delay.median() <= median + 1


def test_quarantined_alerts_are_never_reported(events):
    assert events.loc[events["prediction"] == 1, "reported_on"].isna().all()


def test_missed_phishing_is_reported_far_more_often_than_legitimate_mail(events):
    unflagged = events[events["prediction"] == 0]
    reported = unflagged["reported_on"].notna()
    phishing = unflagged["actual"] == 1
    assert reported[phishing].mean() > 0.1 > 0.01 > reported[~phishing].mean()


def test_stealthier_phishing_is_reported_less():
    obvious = {"label": 1, "urgency_words": 6, "domain_mismatch": 1, "num_links": 6}
    stealthy = {"label": 1, "urgency_words": 0, "domain_mismatch": 0, "num_links": 1}
    chance = report_probability(pd.DataFrame([obvious, stealthy]))
    assert chance[0] > 3 * chance[1] and chance[0] <= LabelArrival().report_rate


def test_the_report_rates_are_the_ones_asked_for():
    emails = pd.DataFrame({"label": [1, 0], "urgency_words": [50, 0], "domain_mismatch": [1, 0], "num_links": [9, 0]})
    chance = report_probability(emails, LabelArrival(report_rate=0.8, false_report_rate=0.01))
    assert chance == pytest.approx([0.8, 0.01], abs=1e-6)


def test_analysts_never_review_more_than_their_daily_capacity(emails, log):
    arrival = LabelArrival(analyst_capacity=12)
    events = simulate_label_arrival(emails, log, arrival, random_state=0)
    assert events["known_on"].value_counts().max() <= 12
    # Each day's alerts alone exceed the capacity: a backlog builds and the sample gets nothing.
    assert (events["known_on"] > events["date"]).loc[events["prediction"] == 1].any()
    assert (events["source"] == "quality-control sample").sum() == 0


def test_reports_come_before_alerts_and_the_most_suspicious_alerts_first(emails, log):
    # About 7 reports and 27 alerts a day: the reports fit, the alerts back up.
    events = simulate_label_arrival(emails, log, LabelArrival(analyst_capacity=25), random_state=0)
    reports = events[events["source"] == "user report"]
    assert len(reports) and ((reports["known_on"] - reports["reported_on"]).dt.days == 0).all()
    day = events[(events["prediction"] == 1) & (events["date"] == "2024-03-01")]
    probability = log.loc[day.index, "probability"]
    first_reviewed = day["known_on"] == day["known_on"].min()
    assert probability[first_reviewed].min() >= probability[~first_reviewed].max()


def test_without_analysts_nothing_is_ever_known(emails, log):
    events = simulate_label_arrival(emails, log, LabelArrival(analyst_capacity=0), random_state=0)
    assert events["known_on"].isna().all() and (events["source"] == "").all()


def test_the_quality_control_sample_labels_yesterdays_unflagged_mail_up_to_its_size(events):
    sample = events[events["source"] == "quality-control sample"]
    assert (sample["prediction"] == 0).all()
    assert ((sample["known_on"] - sample["date"]).dt.days == 1).all()
    assert sample.groupby("date").size().max() <= LabelArrival().max_sample_per_day
    # The only unbiased view of what the model misses: it finds some missed phishing.
    assert (sample["actual"] == 1).any()


def test_every_known_label_has_a_source_and_a_confidence(events):
    known = events["known_on"].notna()
    assert (events.loc[known, "source"] != "").all() and (events.loc[~known, "source"] == "").all()
    assert events.loc[known, "analyst_confidence"].between(0.5, 1).all()
    assert events.loc[~known, "analyst_confidence"].isna().all()
    assert (events.loc[known, "known_on"] >= events.loc[known, "date"]).all()


def test_the_tpr_known_at_the_time_is_higher_than_the_truth(log, events):
    truth = add_rolling_metrics(daily_metrics(log), (7,))["tpr_7d"]
    known = known_rolling_metrics(events, 7)["tpr_7d"]
    eventual = known_rolling_metrics(events, 7, as_of="2024-12-31")["tpr_7d"]
    both = truth.notna()
    # Unreported misses count as correctly let through, so the known TPR is biased upwards...
    assert (eventual[both] >= truth[both] - 1e-12).all() and eventual[both].mean() > truth[both].mean() + 0.05
    # ...and more so on the day itself, before the late reports arrive.
    assert known[both].mean() >= eventual[both].mean()


def test_with_every_label_known_at_once_the_known_rates_are_the_truth(log):
    events = pd.DataFrame({
        "email_id": log["email_id"], "date": log["date"], "prediction": log["prediction"],
        "actual": log["actual"], "reported_on": pd.NaT, "source": "quality-control sample",
        "known_on": log["date"], "analyst_confidence": 1.0,
    })
    truth = add_rolling_metrics(daily_metrics(log), (7,))
    known = known_rolling_metrics(events, 7)
    pd.testing.assert_series_equal(known["tpr_7d"], truth["tpr_7d"], check_names=False)
    pd.testing.assert_series_equal(known["fpr_7d"], truth["fpr_7d"], check_names=False)


def test_the_feedback_known_by_a_day_holds_only_reviews_done_by_then(emails, events):
    feedback = feedback_known_by(events, "2024-03-31")
    assert list(feedback.columns) == list(FEEDBACK_COLUMNS)
    known = events.set_index("email_id").loc[feedback["sample_id"]]
    assert (known["known_on"] <= "2024-03-31").all()
    assert len(feedback) == int((events["known_on"] <= "2024-03-31").sum())
    labelled = apply_feedback(emails, feedback)
    assert (labelled["label"].to_numpy() == known["actual"].to_numpy()).all()


@pytest.mark.parametrize("arrival", [
    {"report_rate": 1.5}, {"false_report_rate": -0.1}, {"report_delay_median_days": 0},
    {"report_delay_sigma": float("nan")}, {"analyst_capacity": -1}, {"max_sample_per_day": 2.5},
])
def test_impossible_parameters_are_refused(arrival):
    with pytest.raises(ValueError):
        LabelArrival(**arrival)


def test_a_log_that_does_not_match_its_emails_is_refused(emails, log):
    with pytest.raises(ValueError, match="not among the emails"):
        simulate_label_arrival(emails.iloc[:10], log)
    wrong = log.assign(actual=1 - log["actual"])
    with pytest.raises(ValueError, match="disagree"):
        simulate_label_arrival(emails, wrong)
    with pytest.raises(ValueError, match="random_state"):
        simulate_label_arrival(emails, log, random_state=-1)
    with pytest.raises(ValueError, match="window_days"):
        known_rolling_metrics(simulate_label_arrival(emails.iloc[:50], log.iloc[:50]), 0)
