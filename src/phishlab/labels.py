"""When the truth about a production email becomes known.

A deployed detector's prediction log has no labels. Each one arrives later, by
one of three roads, and only for some emails:

* **alert review** -- analysts open the emails the model flagged and find out
  whether each alert was right;
* **user reports** -- a user who receives a phishing email the model let
  through may report it, some days later. Obvious phishing (urgent wording, a
  display name that does not match the sender, many links) is reported often;
  phishing that reads like ordinary business mail rarely is. Now and then a
  user reports legitimate mail;
* **quality-control sample** -- analysts spend the time left over each day on a
  random sample of the previous day's unflagged mail: the only unbiased view of
  what the model misses.

Analysts have a daily capacity. Reports come first, then alerts (most
suspicious first), then the quality-control sample; what does not fit waits
for the next day. An email's label is known from the day an analyst reviews
it. Phishing nobody reports and nobody samples is never known.

:func:`simulate_label_arrival` draws these events for a prediction log;
:func:`known_rolling_metrics` computes the rolling rates a team's dashboard
shows on each day from the labels that have arrived by then, and
:func:`feedback_known_by` the feedback table a retraining can use on a given
day. Every draw for an email comes from a generator seeded by the run's
``random_state`` and the email's day, so one day's events do not depend on the
range simulated, as long as the analysts have time to spare (when they do not,
the reports of earlier days take some of a day's capacity).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from numbers import Real

import numpy as np
import pandas as pd

from phishlab.feedback import FEEDBACK_COLUMNS, SOURCES
from phishlab.monitoring import METRICS, rates_from_counts

__all__ = [
    "LABEL_EVENT_COLUMNS",
    "LabelArrival",
    "feedback_known_by",
    "known_rolling_metrics",
    "report_probability",
    "simulate_label_arrival",
]

LABEL_EVENT_COLUMNS: tuple[str, ...] = (
    "email_id",
    "date",
    "prediction",
    "actual",
    "reported_on",
    "source",
    "known_on",
    "analyst_confidence",
)
"""Columns of a label-event table: the email, its day, the model's decision, the
true label (known to the simulation only), the day a user reported it (NaT if
nobody did), how it reached an analyst (``""`` if it never did), the day its
label became known (NaT if never) and the analyst's confidence."""

_ALERT_REVIEW, _USER_REPORT, _QC_SAMPLE = SOURCES
# Random streams drawn for each email of a day, in this order; adding a stream
# at the end keeps every earlier draw unchanged.
_STREAMS = ("report", "delay", "sample", "confidence")


@dataclass(frozen=True)
class LabelArrival:
    """How and when the labels of production mail arrive.

    Parameters
    ----------
    report_rate : float, default=0.6
        Chance that a user reports a phishing email the model missed, if it is
        as obvious as phishing gets; stealthier phishing is reported less
        (see :func:`report_probability`).
    false_report_rate : float, default=0.002
        Chance that a user reports an unflagged legitimate email.
    report_delay_median_days : float, default=2.0
        Median days between an email's arrival and its report.
    report_delay_sigma : float, default=1.0
        Spread of the (lognormal) report delay; a long tail of late reports.
    analyst_capacity : int, default=40
        Emails the analysts review a day, reports and alerts first.
    max_sample_per_day : int, default=30
        Most emails of the quality-control sample drawn from one day's
        unflagged mail.
    """

    report_rate: float = 0.6
    false_report_rate: float = 0.002
    report_delay_median_days: float = 2.0
    report_delay_sigma: float = 1.0
    analyst_capacity: int = 40
    max_sample_per_day: int = 30

    def __post_init__(self) -> None:
        for name in ("report_rate", "false_report_rate"):
            _check_real(getattr(self, name), name, low=0.0, high=1.0)
        for name in ("report_delay_median_days", "report_delay_sigma"):
            if _check_real(getattr(self, name), name, low=0.0) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("analyst_capacity", "max_sample_per_day"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")

    def describe(self) -> dict[str, float]:
        """The parameters as a plain dict, for a table."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _check_real(value, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _check_seed(random_state) -> int:
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state!r}")
    return int(random_state)


# How much each cue a user can see adds to the odds that a phishing email is
# recognised: the wording, a display name that does not match the sender, the links.
_CUES = {"urgency_words": 0.6, "domain_mismatch": 1.2, "num_links": 0.15}
_CUE_INTERCEPT = -2.0


def report_probability(emails: pd.DataFrame, arrival: LabelArrival | None = None) -> np.ndarray:
    """Chance that a user reports each email, were it to reach the inbox.

    A phishing email is reported with probability ``report_rate`` times how
    obvious it looks: a logistic function of the cues a user can see
    (urgency words, a mismatched display name, links). Legitimate mail is
    reported with probability ``false_report_rate``.

    Parameters
    ----------
    emails : pandas.DataFrame
        Emails with ``label`` and the features ``urgency_words``,
        ``domain_mismatch`` and ``num_links``.
    arrival : LabelArrival, optional
        Parameters; the defaults if omitted.

    Returns
    -------
    numpy.ndarray
        One probability per email, in ``emails`` order.

    Examples
    --------
    >>> import pandas as pd
    >>> emails = pd.DataFrame({"label": [1, 1, 0], "urgency_words": [6, 0, 0],
    ...                        "domain_mismatch": [1, 0, 0], "num_links": [5, 1, 2]})
    >>> report_probability(emails).round(3).tolist()
    [0.583, 0.082, 0.002]
    """
    arrival = LabelArrival() if arrival is None else arrival
    missing = [c for c in ("label", *_CUES) if c not in emails.columns]
    if missing:
        raise ValueError(f"emails are missing column(s) {missing}; they have {list(emails.columns)}")
    odds = _CUE_INTERCEPT + sum(weight * emails[cue].to_numpy(dtype=float) for cue, weight in _CUES.items())
    obvious = 1.0 / (1.0 + np.exp(-odds))
    phishing = emails["label"].to_numpy() == 1
    return np.where(phishing, arrival.report_rate * obvious, arrival.false_report_rate)


def _day_draws(days: np.ndarray, random_state: int) -> dict[str, np.ndarray]:
    """Uniform draws per email and stream, from a generator seeded by (random_state, day)."""
    draws = {stream: np.empty(len(days)) for stream in _STREAMS}
    for day in np.unique(days):
        rows = np.flatnonzero(days == day)
        ordinal = pd.Timestamp(day).date().toordinal()
        rng = np.random.default_rng(np.random.SeedSequence([random_state, ordinal, 7]))
        for stream in _STREAMS:
            draws[stream][rows] = rng.random(len(rows))
    return draws


def simulate_label_arrival(
    emails: pd.DataFrame,
    log: pd.DataFrame,
    arrival: LabelArrival | None = None,
    random_state: int = 0,
) -> pd.DataFrame:
    """Draw when (and whether) the label of each logged email becomes known.

    Parameters
    ----------
    emails : pandas.DataFrame
        The scored emails: ``email_id``, ``label`` and the features
        :func:`report_probability` reads.
    log : pandas.DataFrame
        Their prediction log (:func:`phishlab.scoring.score_batch`):
        ``email_id``, ``date``, ``probability``, ``prediction``, ``actual``.
    arrival : LabelArrival, optional
        Parameters of the reports and the analysts; the defaults if omitted.
    random_state : int, default=0
        Seed of who reports what, when, the sample and the analysts' confidence.

    Returns
    -------
    pandas.DataFrame
        One row per logged email, in log order, with :data:`LABEL_EVENT_COLUMNS`.

    Examples
    --------
    >>> from phishlab.simulation import generate_daily_batches
    >>> emails = generate_daily_batches("2024-03-01", "2024-03-14", emails_per_day=100, random_state=0)
    >>> log = emails.assign(date=emails["timestamp"].dt.normalize(), actual=emails["label"],
    ...                     probability=0.2 + 0.6 * emails["label"], prediction=emails["label"])
    >>> events = simulate_label_arrival(emails, log)
    >>> events.groupby("source")["actual"].agg(["size", "sum"])  # doctest: +NORMALIZE_WHITESPACE
                            size  sum
    source
                             825    0
    alert review             137  137
    quality-control sample   401    0
    user report                1    0

    A perfect detector: every phishing email is an alert, and users report only
    legitimate mail they mistrust.
    """
    arrival = LabelArrival() if arrival is None else arrival
    seed = _check_seed(random_state)
    missing = [c for c in ("email_id", "date", "probability", "prediction", "actual") if c not in log.columns]
    if missing:
        raise ValueError(f"the prediction log is missing column(s) {missing}")
    if log.empty:
        raise ValueError("the prediction log is empty")
    if "email_id" not in emails.columns:
        raise ValueError(f"emails need an 'email_id' column; they have {list(emails.columns)}")
    by_id = emails.set_index("email_id")
    absent = ~log["email_id"].isin(by_id.index)
    if absent.any():
        raise ValueError(f"{int(absent.sum())} logged email(s) are not among the emails, "
                         f"e.g. {log.loc[absent, 'email_id'].iloc[0]!r}")
    matched = by_id.loc[log["email_id"]].reset_index()
    if not np.array_equal(matched["label"].to_numpy(), log["actual"].to_numpy()):
        raise ValueError("the emails' labels disagree with the log's 'actual' column")

    days = pd.to_datetime(log["date"]).dt.normalize().to_numpy()
    draws = _day_draws(days, seed)
    flagged = log["prediction"].to_numpy() == 1
    # A flagged email is quarantined: no user sees it, so only an analyst can label it.
    reported = ~flagged & (draws["report"] < report_probability(matched, arrival))
    delay = np.ceil(np.exp(np.log(arrival.report_delay_median_days)
                           + arrival.report_delay_sigma * _normal(draws["delay"])))
    reported_on = np.where(reported, days + delay.astype("timedelta64[D]"), np.datetime64("NaT"))

    known_on, source = _review(days, flagged, reported, reported_on,
                               log["probability"].to_numpy(dtype=float), draws["sample"], arrival)
    confidence = np.round(0.5 + 0.5 * _beta_from_uniform(draws["confidence"]), 3)
    return pd.DataFrame(
        {
            "email_id": log["email_id"].to_numpy(dtype=object),
            "date": days,
            "prediction": log["prediction"].to_numpy(dtype=np.int64),
            "actual": log["actual"].to_numpy(dtype=np.int64),
            "reported_on": pd.to_datetime(reported_on),
            "source": source,
            "known_on": pd.to_datetime(known_on),
            "analyst_confidence": np.where(source != "", confidence, np.nan),
        },
        columns=list(LABEL_EVENT_COLUMNS),
    )


def _normal(uniform: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(np.clip(uniform, 1e-12, 1 - 1e-12))


def _beta_from_uniform(uniform: np.ndarray) -> np.ndarray:
    """Analysts' confidence shape: Beta(5, 1.5), most reviews sure of themselves."""
    from scipy.special import betaincinv

    return betaincinv(5.0, 1.5, uniform)


def _review(
    days: np.ndarray,
    flagged: np.ndarray,
    reported: np.ndarray,
    reported_on: np.ndarray,
    probability: np.ndarray,
    sample_draw: np.ndarray,
    arrival: LabelArrival,
) -> tuple[np.ndarray, np.ndarray]:
    """The analysts' days: reports, then alerts, then the sample, within the daily capacity."""
    known_on = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[ns]")
    source = np.full(len(days), "", dtype=object)
    # Queue keys: (class, then an order within it). Reports wait oldest first,
    # alerts most suspicious first.
    first = days.min()
    # One day past the last email, so that its quality-control sample is drawn.
    last = max(days.max() + np.timedelta64(1, "D"), reported_on[reported].max() if reported.any() else first)
    waiting_reports = np.flatnonzero(reported)
    waiting_alerts = np.flatnonzero(flagged)
    for today in np.arange(first, last + np.timedelta64(1, "D"), np.timedelta64(1, "D")):
        capacity = arrival.analyst_capacity
        due = waiting_reports[reported_on[waiting_reports] <= today]
        due = due[np.lexsort((due, reported_on[due]))][:capacity]
        known_on[due], source[due] = today, _USER_REPORT
        waiting_reports = np.setdiff1d(waiting_reports, due, assume_unique=True)
        capacity -= len(due)

        raised = waiting_alerts[days[waiting_alerts] <= today]
        raised = raised[np.lexsort((raised, -probability[raised]))][:capacity]
        known_on[raised], source[raised] = today, _ALERT_REVIEW
        waiting_alerts = np.setdiff1d(waiting_alerts, raised, assume_unique=True)
        capacity -= len(raised)

        # The sample is drawn from yesterday's unflagged mail that nobody has labelled yet.
        pool = np.flatnonzero((days == today - np.timedelta64(1, "D")) & ~flagged & (source == ""))
        chosen = pool[np.argsort(sample_draw[pool], kind="stable")][:min(capacity, arrival.max_sample_per_day)]
        known_on[chosen], source[chosen] = today, _QC_SAMPLE
        # A sampled email that a user reports later is already labelled.
        waiting_reports = np.setdiff1d(waiting_reports, chosen, assume_unique=True)
    return known_on, source


def _check_events(events: pd.DataFrame) -> None:
    if not isinstance(events, pd.DataFrame):
        raise ValueError(f"expected a label-event table (pandas DataFrame), got {type(events).__name__}")
    missing = [c for c in LABEL_EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"the label-event table is missing column(s) {missing}; "
                         "make it with simulate_label_arrival")


def _day(value, name: str) -> np.datetime64:
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date, got {value!r}") from exc
    if pd.isna(day):
        raise ValueError(f"{name} must be a date, got {value!r}")
    return day.normalize().to_datetime64()


def known_rolling_metrics(
    events: pd.DataFrame, window_days: int = 7, as_of: dt.date | str | None = None
) -> pd.DataFrame:
    """The pooled rolling rates a dashboard shows, from the labels known at the time.

    On each day ``t`` the team pools the emails of the last ``window_days``
    days. An alert counts once an analyst has reviewed it (a true or a false
    positive); an unflagged email counts as a miss once its phishing label is
    known, and as correctly let through otherwise -- the team cannot tell
    unreported phishing from legitimate mail. Alerts still waiting for review
    are left out.

    Parameters
    ----------
    events : pandas.DataFrame
        Output of :func:`simulate_label_arrival`.
    window_days : int, default=7
        Length of the trailing window.
    as_of : date or str, optional
        Use the labels known on this one day for every window (e.g. the
        labels eventually known: a day after the last report). By default
        each day's window uses the labels known on that day.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date`` (every day of the events), columns ``tp``, ``fp``,
        ``tn``, ``fn`` (pooled) and ``tpr_{w}d``, ``fpr_{w}d``,
        ``precision_{w}d``, ``f1_{w}d``; NaN until a full window has passed.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "email_id": ["a", "b", "c"], "date": pd.to_datetime(["2024-03-01"] * 3),
    ...     "prediction": [1, 0, 0], "actual": [1, 1, 1],
    ...     "reported_on": pd.to_datetime([None, "2024-03-03", None]),
    ...     "source": ["alert review", "user report", ""],
    ...     "known_on": pd.to_datetime(["2024-03-01", "2024-03-03", None]),
    ...     "analyst_confidence": [0.9, 0.9, float("nan")]})
    >>> known_rolling_metrics(events, window_days=1, as_of="2024-03-05")["tpr_1d"].tolist()
    [0.5]
    """
    _check_events(events)
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise ValueError(f"window_days must be a positive int, got {window_days!r}")
    if events.empty:
        raise ValueError("the label-event table is empty")
    dates = pd.to_datetime(events["date"]).dt.normalize().to_numpy()
    known_on = pd.to_datetime(events["known_on"]).to_numpy()
    fixed = None if as_of is None else _day(as_of, "as_of")
    flagged = events["prediction"].to_numpy() == 1
    phishing = events["actual"].to_numpy() == 1
    index = pd.date_range(dates.min(), dates.max(), freq="D", name="date")
    counts = np.zeros((len(index), 4), dtype=np.int64)
    window = np.timedelta64(int(window_days) - 1, "D")
    for row, day in enumerate(index.to_numpy()):
        horizon = day if fixed is None else fixed
        in_window = (dates >= day - window) & (dates <= day)
        known = ~np.isnat(known_on) & (known_on <= horizon)
        reviewed = in_window & flagged & known
        unflagged = in_window & ~flagged
        counts[row] = (
            np.sum(reviewed & phishing),
            np.sum(reviewed & ~phishing),
            np.sum(unflagged & ~(known & phishing)),
            np.sum(unflagged & known & phishing),
        )
    result = pd.DataFrame(counts, index=index, columns=["tp", "fp", "tn", "fn"])
    rates = rates_from_counts(*(result[c] for c in ("tp", "fp", "tn", "fn")))
    complete = index >= index[0] + pd.Timedelta(days=int(window_days) - 1)
    for name in METRICS:
        values = np.asarray(rates[name], dtype=float)
        values[~complete] = np.nan
        result[f"{name}_{window_days}d"] = values
    return result


def feedback_known_by(events: pd.DataFrame, day: dt.date | str) -> pd.DataFrame:
    """The feedback table a team has on ``day``: every email an analyst has labelled by then.

    Parameters
    ----------
    events : pandas.DataFrame
        Output of :func:`simulate_label_arrival`.
    day : date or str
        The last day whose reviews count (e.g. the day a retraining starts).

    Returns
    -------
    pandas.DataFrame
        A feedback table (:data:`phishlab.feedback.FEEDBACK_COLUMNS`) in
        event order, ready for :func:`phishlab.feedback.apply_feedback`.
    """
    _check_events(events)
    horizon = _day(day, "day")
    known_on = pd.to_datetime(events["known_on"])
    known = events[known_on.notna() & (known_on <= horizon)]
    return pd.DataFrame(
        {
            "sample_id": known["email_id"].to_numpy(dtype=object),
            "original_label": known["prediction"].to_numpy(dtype=np.int64),
            "corrected_label": known["actual"].to_numpy(dtype=np.int64),
            "analyst_confidence": known["analyst_confidence"].to_numpy(dtype=float),
            "source": known["source"].to_numpy(dtype=object),
        },
        columns=list(FEEDBACK_COLUMNS),
    ).reset_index(drop=True)
