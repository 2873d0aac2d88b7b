"""Analyst feedback: alert review, user reports, the quality-control sample and their use."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phishlab.feedback import (
    FEEDBACK_COLUMNS,
    SOURCES,
    apply_feedback,
    collect_feedback,
    prioritise,
    review_alerts,
    review_unflagged_sample,
    review_user_reports,
)


def make_log(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A prediction log of ``n`` emails: 10 % phishing, half of it missed, a few false alarms."""
    rng = np.random.default_rng(seed)
    actual = (np.arange(n) % 10 == 0).astype(np.int64)
    probability = np.where(actual == 1, rng.uniform(0.2, 1.0, n), rng.uniform(0.0, 0.6, n))
    return pd.DataFrame(
        {
            "date": pd.Timestamp("2024-08-01"),
            "email_id": [f"e{i:04d}" for i in range(n)],
            "probability": probability,
            "prediction": (probability >= 0.5).astype(np.int64),
            "actual": actual,
        }
    )


@pytest.fixture
def log() -> pd.DataFrame:
    return make_log()


def emails_for(log: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"email_id": log["email_id"], "urgency_words": np.arange(len(log)),
                         "label": 1 - log["actual"]})  # a wrong label the analysts must override


# --- the three sources ------------------------------------------------------------------------------


def test_alert_review_takes_the_most_suspicious_flagged_emails_first(log):
    reviewed = review_alerts(log, n_alerts=10)
    assert list(reviewed.columns) == list(FEEDBACK_COLUMNS)
    assert len(reviewed) == 10
    flagged = log[log.prediction == 1].sort_values("probability", ascending=False)
    assert list(reviewed["sample_id"]) == list(flagged["email_id"].head(10))
    assert (reviewed["original_label"] == 1).all()
    assert (reviewed["source"] == "alert review").all()


def test_alert_review_records_the_true_label_as_the_correction(log):
    reviewed = review_alerts(log, n_alerts=1000)
    truth = log.set_index("email_id").loc[reviewed["sample_id"], "actual"].to_numpy()
    np.testing.assert_array_equal(reviewed["corrected_label"], truth)
    assert len(reviewed) == int(log.prediction.sum())  # fewer alerts than asked for


def test_alerts_alone_never_reveal_a_missed_phishing_email(log):
    reviewed = review_alerts(log, n_alerts=1000)
    errors = reviewed[reviewed.original_label != reviewed.corrected_label]
    assert (errors["corrected_label"] == 0).all()  # only false positives


def test_alert_review_breaks_probability_ties_by_email_id():
    log = make_log(50)
    log["probability"] = 0.9
    log["prediction"] = 1
    assert list(review_alerts(log, n_alerts=5)["sample_id"]) == [f"e{i:04d}" for i in range(5)]


def test_user_reports_come_from_unflagged_mail_and_find_missed_phishing(log):
    reports = review_user_reports(log, report_rate=1.0, false_report_rate=0.0)
    missed = log[(log.prediction == 0) & (log.actual == 1)]
    assert set(reports["sample_id"]) == set(missed["email_id"])
    assert (reports["original_label"] == 0).all() and (reports["corrected_label"] == 1).all()
    assert (reports["source"] == "user report").all()


def test_users_also_report_legitimate_mail_at_the_false_report_rate(log):
    reports = review_user_reports(log, report_rate=0.0, false_report_rate=1.0)
    assert len(reports) == int(((log.prediction == 0) & (log.actual == 0)).sum())
    assert (reports["corrected_label"] == 0).all()


def test_the_quality_control_sample_is_a_random_subset_of_unflagged_mail(log):
    sample = review_unflagged_sample(log, n_samples=50, random_state=3)
    unflagged = set(log.loc[log.prediction == 0, "email_id"])
    assert len(sample) == 50 and set(sample["sample_id"]) <= unflagged
    assert not sample["sample_id"].duplicated().any()
    assert len(review_unflagged_sample(log, n_samples=10_000)) == len(unflagged)


def test_analyst_confidence_lies_between_one_half_and_one(log):
    feedback = collect_feedback(log, n_samples=200)
    assert feedback["analyst_confidence"].between(0.5, 1.0).all()


def test_collect_feedback_reviews_each_email_once_keeping_the_first_source(log):
    feedback = collect_feedback(log, n_alerts=20, report_rate=1.0, n_samples=10_000, random_state=1)
    assert not feedback["sample_id"].duplicated().any()
    assert set(feedback["source"]) == set(SOURCES)
    missed = set(log.loc[(log.prediction == 0) & (log.actual == 1), "email_id"])
    assert set(feedback.loc[feedback.source == "user report", "sample_id"]) == missed


def test_collect_feedback_is_reproducible_and_depends_on_the_seed(log):
    first, again = collect_feedback(log, random_state=5), collect_feedback(log, random_state=5)
    pd.testing.assert_frame_equal(first, again)
    assert not collect_feedback(log, n_samples=50, random_state=5).equals(
        collect_feedback(log, n_samples=50, random_state=6)
    )


# --- using the feedback ---------------------------------------------------------------------------------


def test_prioritise_puts_model_errors_first_then_confident_reviews(log):
    ordered = prioritise(collect_feedback(log, n_samples=100))
    errors = ordered["model_error"].to_numpy()
    assert errors[: errors.sum()].all() and not errors[errors.sum():].any()
    head = ordered.loc[ordered.model_error, "analyst_confidence"].to_numpy()
    assert (np.diff(head) <= 0).all()


def test_apply_feedback_labels_the_reviewed_emails_with_the_analysts_label(log):
    feedback = collect_feedback(log, n_samples=100)
    labelled = apply_feedback(emails_for(log), feedback)
    assert len(labelled) == len(feedback)
    truth = log.set_index("email_id").loc[labelled["email_id"], "actual"].to_numpy()
    np.testing.assert_array_equal(labelled["label"], truth)
    assert set(labelled["feedback_source"]) <= set(SOURCES)


def test_apply_feedback_leaves_out_doubtful_reviews(log):
    feedback = collect_feedback(log, n_samples=100)
    labelled = apply_feedback(emails_for(log), feedback, min_confidence=0.9)
    assert len(labelled) == int((feedback["analyst_confidence"] >= 0.9).sum())


# --- bad input ------------------------------------------------------------------------------------------


def test_a_log_without_probabilities_is_rejected(log):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['probability'\]"):
        review_alerts(log.drop(columns="probability"))


def test_a_log_with_duplicate_ids_is_rejected(log):
    with pytest.raises(ValueError, match="duplicate email_id"):
        collect_feedback(pd.concat([log, log.head(1)]))


@pytest.mark.parametrize("n_alerts", [-1, 2.5, True, "100"])
def test_a_bad_number_of_alerts_is_rejected(log, n_alerts):
    with pytest.raises(ValueError, match="n_alerts must be a non-negative int"):
        review_alerts(log, n_alerts=n_alerts)


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5", None])
def test_a_report_rate_outside_zero_one_is_rejected(log, rate):
    with pytest.raises(ValueError, match=r"report_rate must be a number in \[0, 1\]"):
        review_user_reports(log, report_rate=rate)


def test_a_negative_seed_is_rejected(log):
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        review_unflagged_sample(log, random_state=-1)


def test_feedback_about_unknown_emails_is_rejected(log):
    feedback = collect_feedback(log, n_samples=10)
    with pytest.raises(ValueError, match="not among the emails"):
        apply_feedback(emails_for(log).iloc[5:], feedback)


def test_a_feedback_table_with_a_label_other_than_zero_or_one_is_rejected(log):
    feedback = collect_feedback(log, n_samples=10)
    feedback.loc[0, "corrected_label"] = 2
    with pytest.raises(ValueError, match="corrected_label must contain only 0 and 1"):
        prioritise(feedback)
