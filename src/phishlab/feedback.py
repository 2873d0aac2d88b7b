"""Analyst feedback: where the labels of production mail come from.

A deployed detector learns nothing from the emails it scores unless someone
tells it which decisions were wrong. This module simulates the three ways the
security team gets labels, each from a prediction log (see
:mod:`phishlab.scoring`):

* **alert review** -- analysts open the emails the model flagged, most
  suspicious first. This reveals false positives, never a missed phishing email;
* **user reports** -- users report phishing that reached their inbox (missed
  phishing, the false negatives) and, now and then, legitimate mail they
  mistrust; an analyst labels every report;
* **quality-control sample** -- analysts label a uniform random sample of the
  mail the model let through, the only unbiased view of what it misses.

Every review becomes one row of a feedback table (:data:`FEEDBACK_COLUMNS`).
In the simulation the analysts' label is the true label; their confidence is
drawn at random and is used, as in a real team, to order the work and to leave
doubtful labels out of training.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from phishlab.training import check_labelled_frame

__all__ = [
    "FEEDBACK_COLUMNS",
    "SOURCES",
    "apply_feedback",
    "collect_feedback",
    "prioritise",
    "review_alerts",
    "review_unflagged_sample",
    "review_user_reports",
]

FEEDBACK_COLUMNS: tuple[str, ...] = (
    "sample_id",
    "original_label",
    "corrected_label",
    "analyst_confidence",
    "source",
)
"""Columns of a feedback table: the email, the model's decision, the analyst's
label, how sure the analyst is (0.5 to 1) and how the email reached them."""

SOURCES: tuple[str, ...] = ("alert review", "user report", "quality-control sample")
"""The ways an email reaches an analyst, in order of precedence."""

_LOG_COLUMNS = ("email_id", "probability", "prediction", "actual")


def _check_log(log: pd.DataFrame) -> None:
    if not isinstance(log, pd.DataFrame):
        raise ValueError(f"expected a prediction log (pandas DataFrame), got {type(log).__name__}")
    missing = [c for c in _LOG_COLUMNS if c not in log.columns]
    if missing:
        raise ValueError(f"the prediction log is missing column(s) {missing}; it has {list(log.columns)}")
    for column in ("prediction", "actual"):
        if not log[column].isin([0, 1]).all():
            raise ValueError(f"log column {column!r} must contain only 0 and 1")
    if log["email_id"].duplicated().any():
        raise ValueError("the prediction log has duplicate email_id values")


def _check_count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def _check_probability(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _rng(random_state: int) -> np.random.Generator:
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state!r}")
    return np.random.default_rng(int(random_state))


def _analyst_confidence(rng: np.random.Generator, size: int) -> np.ndarray:
    """How sure analysts are: between 0.5 and 1, most reviews above 0.8."""
    return np.round(0.5 + 0.5 * rng.beta(5.0, 1.5, size=size), 3)


def _feedback_rows(rows: pd.DataFrame, confidence: np.ndarray, source: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": rows["email_id"].to_numpy(dtype=object),
            "original_label": rows["prediction"].to_numpy(dtype=np.int64),
            "corrected_label": rows["actual"].to_numpy(dtype=np.int64),
            "analyst_confidence": confidence.astype(float),
            "source": source,
        },
        columns=list(FEEDBACK_COLUMNS),
    )


def review_alerts(log: pd.DataFrame, n_alerts: int = 100, random_state: int = 0) -> pd.DataFrame:
    """Analysts review the ``n_alerts`` flagged emails the model is most sure about.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log with ``email_id``, ``probability``, ``prediction`` and
        ``actual`` (the label the analyst will find).
    n_alerts : int, default=100
        How many alerts the team reviews; fewer if fewer were raised.
    random_state : int, default=0
        Seed of the analysts' confidence.

    Returns
    -------
    pandas.DataFrame
        Feedback rows (:data:`FEEDBACK_COLUMNS`), highest probability first;
        ties are broken by ``email_id`` so the order is reproducible.
    """
    _check_log(log)
    n_alerts = _check_count(n_alerts, "n_alerts")
    alerts = log[log["prediction"] == 1].sort_values(
        ["probability", "email_id"], ascending=[False, True], kind="stable"
    )
    reviewed = alerts.head(n_alerts)
    return _feedback_rows(reviewed, _analyst_confidence(_rng(random_state), len(reviewed)), SOURCES[0])


def review_user_reports(
    log: pd.DataFrame,
    report_rate: float = 0.6,
    false_report_rate: float = 0.002,
    random_state: int = 0,
) -> pd.DataFrame:
    """Users report unflagged emails; an analyst labels every report.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log (see :func:`review_alerts`).
    report_rate : float, default=0.6
        Probability that a user reports a phishing email the model missed.
    false_report_rate : float, default=0.002
        Probability that a user reports an unflagged legitimate email.
    random_state : int, default=0
        Seed of who reports what and of the analysts' confidence.

    Returns
    -------
    pandas.DataFrame
        Feedback rows (:data:`FEEDBACK_COLUMNS`) in log order.
    """
    _check_log(log)
    report_rate = _check_probability(report_rate, "report_rate")
    false_report_rate = _check_probability(false_report_rate, "false_report_rate")
    rng = _rng(random_state)
    unflagged = log[log["prediction"] == 0]
    chance = np.where(unflagged["actual"].to_numpy() == 1, report_rate, false_report_rate)
    reported = unflagged[rng.random(len(unflagged)) < chance]
    return _feedback_rows(reported, _analyst_confidence(rng, len(reported)), SOURCES[1])


def review_unflagged_sample(log: pd.DataFrame, n_samples: int = 1000, random_state: int = 0) -> pd.DataFrame:
    """Analysts label a uniform random sample of the emails the model let through.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log (see :func:`review_alerts`).
    n_samples : int, default=1000
        Sample size; all unflagged emails if there are fewer.
    random_state : int, default=0
        Seed of the sample and of the analysts' confidence.

    Returns
    -------
    pandas.DataFrame
        Feedback rows (:data:`FEEDBACK_COLUMNS`) in log order.
    """
    _check_log(log)
    n_samples = _check_count(n_samples, "n_samples")
    rng = _rng(random_state)
    unflagged = log[log["prediction"] == 0]
    chosen = np.sort(rng.choice(len(unflagged), size=min(n_samples, len(unflagged)), replace=False))
    sample = unflagged.iloc[chosen]
    return _feedback_rows(sample, _analyst_confidence(rng, len(sample)), SOURCES[2])


def collect_feedback(
    log: pd.DataFrame,
    n_alerts: int = 100,
    report_rate: float = 0.6,
    false_report_rate: float = 0.002,
    n_samples: int = 1000,
    random_state: int = 0,
) -> pd.DataFrame:
    """All three feedback sources for one prediction log, each email reviewed once.

    An email that reaches analysts twice (a reported email also drawn for the
    quality-control sample) keeps the review of the first source in
    :data:`SOURCES`.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log with ``email_id``, ``probability``, ``prediction``, ``actual``.
    n_alerts, report_rate, false_report_rate, n_samples
        See :func:`review_alerts`, :func:`review_user_reports` and
        :func:`review_unflagged_sample`.
    random_state : int, default=0
        Seed; each source draws from its own stream derived from it.

    Returns
    -------
    pandas.DataFrame
        Feedback table (:data:`FEEDBACK_COLUMNS`), one row per reviewed email.
    """
    _check_log(log)
    seeds = np.random.SeedSequence(_check_count(random_state, "random_state")).generate_state(3)
    parts = [
        review_alerts(log, n_alerts, int(seeds[0])),
        review_user_reports(log, report_rate, false_report_rate, int(seeds[1])),
        review_unflagged_sample(log, n_samples, int(seeds[2])),
    ]
    feedback = pd.concat([part for part in parts if len(part)] or parts[:1], ignore_index=True)
    return feedback.drop_duplicates("sample_id", keep="first").reset_index(drop=True)


def prioritise(feedback: pd.DataFrame) -> pd.DataFrame:
    """Order a feedback table for use: model errors first, most confident analysts first.

    A corrected error teaches the next model the most, and a confident label
    is the safest to learn from; confirmations of correct decisions follow.

    Returns
    -------
    pandas.DataFrame
        A copy with a boolean ``model_error`` column, sorted by ``model_error``
        (True first), then ``analyst_confidence`` (high first), then ``sample_id``.
    """
    _check_feedback(feedback)
    ordered = feedback.assign(model_error=feedback["original_label"] != feedback["corrected_label"])
    return ordered.sort_values(
        ["model_error", "analyst_confidence", "sample_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def _check_feedback(feedback: pd.DataFrame) -> None:
    if not isinstance(feedback, pd.DataFrame):
        raise ValueError(f"expected a feedback table (pandas DataFrame), got {type(feedback).__name__}")
    missing = [c for c in FEEDBACK_COLUMNS if c not in feedback.columns]
    if missing:
        raise ValueError(f"the feedback table is missing column(s) {missing}")
    if not feedback["corrected_label"].isin([0, 1]).all():
        raise ValueError("corrected_label must contain only 0 and 1")
    if feedback["sample_id"].duplicated().any():
        raise ValueError("the feedback table reviews some sample_id more than once")


def apply_feedback(emails: pd.DataFrame, feedback: pd.DataFrame, min_confidence: float = 0.0) -> pd.DataFrame:
    """The reviewed emails, labelled by the analysts.

    Parameters
    ----------
    emails : pandas.DataFrame
        The scored emails with ``email_id`` and the features. A ``label``
        column, if present, is replaced: in production the analysts' label is
        the only one there is.
    feedback : pandas.DataFrame
        Feedback table (:data:`FEEDBACK_COLUMNS`).
    min_confidence : float, default=0.0
        Leave out reviews whose ``analyst_confidence`` is below this.

    Returns
    -------
    pandas.DataFrame
        The emails that have a (confident enough) review, in ``emails`` order,
        with ``label`` set to ``corrected_label`` and a ``feedback_source``
        column.
    """
    _check_feedback(feedback)
    min_confidence = _check_probability(min_confidence, "min_confidence")
    check_labelled_frame(emails, [], need_label=False)
    if "email_id" not in emails.columns:
        raise ValueError(f"emails need an 'email_id' column; they have {list(emails.columns)}")
    unknown = set(feedback["sample_id"]) - set(emails["email_id"])
    if unknown:
        raise ValueError(
            f"{len(unknown)} feedback sample_id(s) are not among the emails, e.g. {min(unknown)!r}"
        )
    kept = feedback[feedback["analyst_confidence"] >= min_confidence]
    labels = kept.set_index("sample_id")
    reviewed = emails[emails["email_id"].isin(labels.index)].copy()
    reviewed["label"] = labels.loc[reviewed["email_id"], "corrected_label"].to_numpy(dtype=np.int64)
    reviewed["feedback_source"] = labels.loc[reviewed["email_id"], "source"].to_numpy(dtype=object)
    return reviewed.reset_index(drop=True)
