"""Retraining policies over a simulated production timeline.

A retraining *policy* decides when the deployed detector is replaced by a model
trained on recent labelled mail. This module replays months of production
traffic under three policies and counts what each one misses:

* **never** -- the initial model serves every day;
* **schedule** -- retrain on fixed days, e.g. the first of every month
  (:func:`monthly_schedule`);
* **trigger** -- retrain when the monitored true-positive rate falls below a
  share of the serving model's own baseline (:func:`trigger_days`).

The label model is deliberately simple: the true label of an email that arrives
on day ``d`` becomes known on day ``d + label_delay_days`` (user reports and the
analysts' review take about a week), and every email eventually gets one. So
on day ``t`` the monitor knows the labels of the emails of days up to
``t - label_delay_days``, and its rolling TPR is the pooled TPR of the
``monitor_window_days`` days that end there (:func:`known_rolling_tpr`).

A model deployed on day ``s`` is trained on the labelled emails of the
``training_window_days`` days that end ``label_delay_days + 1`` days before
``s`` -- the labels known when it is trained, the morning of ``s`` -- with the
course's scaler -> SMOTE -> random-forest pipeline, and it decides at the
threshold that keeps its false-positive rate on a separate calibration set
within the team's budget (:func:`phishlab.retraining.threshold_for_fpr`).
Retrains depend only on their deployment day, so the timeline caches them and
policies that retrain on the same day share the model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline

from phishlab import course
from phishlab.monitoring import add_rolling_metrics, daily_metrics
from phishlab.registry import ModelRegistry
from phishlab.retraining import threshold_for_fpr
from phishlab.scenarios import MULTI_WAVE_DRIFT, DriftScenario
from phishlab.simulation import FEATURES, generate_training_set
from phishlab.training import check_labelled_frame, predict_proba, train_model

__all__ = [
    "SIMULATION_END",
    "SIMULATION_START",
    "PolicyRun",
    "RetrainingTimeline",
    "ample_data_tpr",
    "course_timeline",
    "fit_retrain",
    "known_rolling_tpr",
    "monthly_schedule",
    "multi_wave_traffic",
    "policy_costs",
    "tpr_between",
    "trigger_days",
]

SIMULATION_START = pd.Timestamp("2024-10-06")
"""First day compared: v2.0 serves all mail once Chapter 5's canary stages end."""

SIMULATION_END = pd.Timestamp("2025-03-31")
"""Last day compared: two months after the February wave."""


def _day(value, name: str) -> pd.Timestamp:
    """``value`` as a midnight Timestamp, with a clear error for anything that is not a day."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date, got {value!r}") from exc
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date, got {value!r}")
    if stamp != stamp.normalize():
        raise ValueError(f"{name} must be a whole day (midnight), got {stamp}")
    return stamp


def _count(value, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def monthly_schedule(start, end) -> list[pd.Timestamp]:
    """The first day of every month from ``start`` to ``end``, both included.

    Parameters
    ----------
    start, end : date, str or Timestamp
        First and last day of the range.

    Returns
    -------
    list of pandas.Timestamp
        In date order; ``start`` itself is included when it is a first of the
        month. Empty when no first of the month lies in the range.
    """
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise ValueError(f"end ({last.date()}) is before start ({first.date()})")
    return list(pd.date_range(first, last, freq="MS"))


def trigger_days(rolling_tpr: pd.Series, threshold: float, cooldown_days: int) -> list[pd.Timestamp]:
    """The days a retraining trigger fires on a monitored TPR series.

    The trigger fires on the first day whose value is strictly below
    ``threshold``. After a trigger on day ``t`` the days ``t + 1`` to
    ``t + cooldown_days`` cannot fire (the new model is being trained and its
    first labels are not in yet); from then on the next day below the
    threshold fires again. A NaN value (no labelled phishing in the window)
    never fires: no evidence is not evidence of a problem.

    Parameters
    ----------
    rolling_tpr : pandas.Series
        Values in [0, 1] or NaN, indexed by increasing days; the cooldown
        counts calendar days, so missing days count too.
    threshold : float
        Fire when the value is below this, in [0, 1].
    cooldown_days : int
        Days after a trigger during which no new trigger fires, >= 0.

    Returns
    -------
    list of pandas.Timestamp
        The trigger days, in date order.
    """
    if not isinstance(rolling_tpr, pd.Series):
        raise ValueError(f"rolling_tpr must be a pandas Series indexed by day, got {type(rolling_tpr).__name__}")
    if not isinstance(rolling_tpr.index, pd.DatetimeIndex):
        raise ValueError("rolling_tpr must be indexed by day (a DatetimeIndex)")
    if not rolling_tpr.index.is_monotonic_increasing or rolling_tpr.index.has_duplicates:
        raise ValueError("rolling_tpr's days must be increasing and unique")
    threshold = _fraction(threshold, "threshold")
    cooldown = pd.Timedelta(days=_count(cooldown_days, "cooldown_days"))
    values = pd.to_numeric(rolling_tpr, errors="coerce").to_numpy(dtype=float)
    known = values[~np.isnan(values)]
    if ((known < 0) | (known > 1)).any():
        raise ValueError("rolling_tpr values must be in [0, 1] (or NaN)")
    fired: list[pd.Timestamp] = []
    blocked_until = None
    for day, value in zip(rolling_tpr.index, values):
        if blocked_until is not None and day <= blocked_until:
            continue
        if not np.isnan(value) and value < threshold:
            fired.append(pd.Timestamp(day))
            blocked_until = day + cooldown
    return fired


def known_rolling_tpr(log: pd.DataFrame, window_days: int, label_delay_days: int) -> pd.Series:
    """The rolling TPR the monitor knows on each day, given the label delay.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log with ``date``, ``prediction`` and ``actual`` (see
        :func:`phishlab.monitoring.daily_metrics`).
    window_days : int
        Days pooled in the rolling window, >= 1.
    label_delay_days : int
        Days until an email's label is known, >= 0.

    Returns
    -------
    pandas.Series
        Named ``tpr_known``, indexed by every day of the log. The value on day
        ``t`` is the pooled TPR of the emails of days ``t - label_delay_days -
        window_days + 1`` to ``t - label_delay_days``; NaN until a full window
        of labels exists, and when the window holds no phishing.
    """
    window = _count(window_days, "window_days", minimum=1)
    delay = _count(label_delay_days, "label_delay_days")
    rolling = add_rolling_metrics(daily_metrics(log), windows=(window,))
    # daily_metrics returns every calendar day, so shifting by rows shifts by days.
    return rolling[f"tpr_{window}d"].shift(delay).rename("tpr_known")


def multi_wave_traffic(start, end, random_state: int, scenario: DriftScenario = MULTI_WAVE_DRIFT) -> pd.DataFrame:
    """Production mail from ``start`` to ``end`` under a multi-wave scenario.

    The course's traffic (about 100 emails a day, 10 % phishing) with
    :data:`phishlab.scenarios.MULTI_WAVE_DRIFT` instead of the single August
    wave. Until the second wave the emails are the ones the course's chapters
    see, since a day's emails depend only on the seed and the date.

    Returns
    -------
    pandas.DataFrame
        Columns of :func:`phishlab.simulation.generate_daily_batches` plus
        ``day`` (the email's date at midnight).
    """
    emails = course.production_traffic(start, end, scenario=scenario, random_state=random_state)
    return emails.assign(day=emails["timestamp"].dt.normalize())


def fit_retrain(
    data: pd.DataFrame,
    calibration: pd.DataFrame,
    max_fpr: float,
    random_state: int = 0,
    smote_ratio: float = 0.15,
    **forest_params,
) -> tuple[Pipeline, float]:
    """Train the retraining pipeline on labelled emails and set its threshold for a false-positive budget.

    Parameters
    ----------
    data : pandas.DataFrame
        Labelled training emails with both classes.
    calibration : pandas.DataFrame
        Labelled emails the model is not trained on; the threshold is the
        lowest whose false-positive rate on their legitimate emails is at
        most ``max_fpr``.
    max_fpr : float
        The false-positive budget, in [0, 1).
    random_state : int, default=0
        Seed of SMOTE and the forest.
    smote_ratio : float, default=0.15
        SMOTE's target ratio of phishing to legitimate emails; data that
        already has more phishing keeps its ratio (SMOTE adds one email).
    **forest_params
        Random-forest settings, by default 100 trees with leaves of at least
        10 emails.

    Returns
    -------
    model : imblearn.pipeline.Pipeline
    threshold : float
    """
    check_labelled_frame(data)
    counts = data["label"].value_counts()
    if len(counts) < 2:
        raise ValueError("the training data must contain both legitimate (0) and phishing (1) emails")
    check_labelled_frame(calibration)
    legitimate = calibration[calibration["label"] == 0]
    if legitimate.empty:
        raise ValueError("calibration holds no legitimate email, so no false-positive rate can be set")
    if isinstance(smote_ratio, bool) or not isinstance(smote_ratio, Real) or not 0 < smote_ratio <= 1:
        raise ValueError(f"smote_ratio must be a number in (0, 1], got {smote_ratio!r}")
    # SMOTE only adds emails, at least one: data already above smote_ratio gets a single synthetic email.
    smote_ratio = max(float(smote_ratio), (counts.min() + 1) / counts.max())
    if smote_ratio > 1:
        raise ValueError(f"the classes are already balanced ({counts.to_dict()}); SMOTE has nothing to add")
    model = train_model(data, random_state=random_state, smote_ratio=smote_ratio,
                        **{"n_estimators": 100, "min_samples_leaf": 10, **forest_params})
    scores = predict_proba(model, legitimate)
    return model, threshold_for_fpr(np.zeros(len(scores), dtype=np.int64), scores, max_fpr)


def ample_data_tpr(
    first,
    last,
    served: Mapping[str, tuple[Pipeline, float]],
    calibration: pd.DataFrame,
    max_fpr: float,
    n_emails: int = 6000,
    random_state: int = 0,
    scenario: DriftScenario = MULTI_WAVE_DRIFT,
    **settings,
) -> dict[str, float]:
    """How much of a period's phishing models catch, against a retrain with ample data.

    Draws ``n_emails`` fresh labelled emails of the days ``first`` to
    ``last`` (10 % phishing) to test on, and as many others to train one
    model with :func:`fit_retrain` -- about two months of traffic, twice a
    retraining window. Its TPR is near the best these features allow at the
    budget: what retraining could recover at most.

    Parameters
    ----------
    first, last : date
        The period.
    served : mapping of str to (model, threshold)
        Models to compare, e.g. ``{"v2.0": (model_v2, threshold_v2)}``.
    calibration, max_fpr
        See :func:`fit_retrain`.
    n_emails : int, default=6000
        Emails to train on and, separately, to test on.
    random_state : int, default=0
        Seed of the emails (training ``random_state``, test
        ``random_state + 1``) and of the model.
    scenario : DriftScenario, default=MULTI_WAVE_DRIFT
        The drift the emails follow.
    **settings
        ``smote_ratio`` and forest settings for :func:`fit_retrain`.

    Returns
    -------
    dict
        The TPR of every model of ``served`` and of ``"ample data"`` on the
        test emails, each at its own threshold.
    """
    start, end = _day(first, "first"), _day(last, "last")
    if end < start:
        raise ValueError(f"last ({end.date()}) is before first ({start.date()})")
    n_emails = _count(n_emails, "n_emails", minimum=100)
    seed = _count(random_state, "random_state")
    train = generate_training_set(n_emails, 0.10, start, end, scenario=scenario, random_state=seed,
                                  id_prefix="ample-")
    test = generate_training_set(n_emails, 0.10, start, end, scenario=scenario, random_state=seed + 1,
                                 id_prefix="check-")
    models = {**served, "ample data": fit_retrain(train, calibration, max_fpr, seed, **settings)}
    phishing = test[test["label"] == 1]
    return {name: float(np.mean(predict_proba(model, phishing) >= threshold))
            for name, (model, threshold) in models.items()}


@dataclass(frozen=True)
class PolicyRun:
    """What one policy did over the timeline.

    Attributes
    ----------
    name : str
        The policy's name.
    decisions : numpy.ndarray
        The served decision (0/1) for every email of the timeline's traffic,
        history included.
    retrains : pandas.DataFrame
        One row per retrain: ``version``, ``trigger_day`` (NaT for a
        scheduled retrain), ``deployed`` (first day it serves), ``trained_from``
        and ``trained_to`` (the days of its training emails), ``threshold``
        and, for the trigger policy, ``baseline_tpr`` (its measured TPR, from
        which its trigger threshold is set).
    monitoring : pandas.DataFrame
        Indexed by every day from start to end: ``tpr_known`` (the monitor's
        rolling TPR), ``alert_threshold`` (the trigger threshold in force,
        NaN for other policies) and ``version`` (the serving model).
    """

    name: str
    decisions: np.ndarray
    retrains: pd.DataFrame
    monitoring: pd.DataFrame

    @property
    def retrain_days(self) -> list[pd.Timestamp]:
        """Deployment days of the retrained models (a trigger too late to deploy has none)."""
        return list(self.retrains["deployed"].dropna())

    @property
    def trigger_days(self) -> list[pd.Timestamp]:
        """Days the trigger fired (empty for a schedule)."""
        return list(self.retrains["trigger_day"].dropna())


_RETRAIN_COLUMNS = ("version", "trigger_day", "deployed", "trained_from", "trained_to", "threshold", "baseline_tpr")


class RetrainingTimeline:
    """A production timeline on which retraining policies are replayed.

    Parameters
    ----------
    traffic : pandas.DataFrame
        Labelled emails with the features, ``label`` and ``day`` (see
        :func:`multi_wave_traffic`), from at least ``label_delay_days +
        max(monitor_window_days, training_window_days)`` days before ``start``
        to ``end``.
    start, end : date
        First and last day the policies are compared on.
    initial_model : fitted pipeline
        The model serving on ``start`` (and on the history before it).
    initial_threshold : float
        Its decision threshold.
    calibration : pandas.DataFrame
        Labelled emails no retrain is trained on; each retrain's threshold is
        the lowest whose false-positive rate on their legitimate emails is at
        most ``max_fpr``. Only the legitimate ones are used.
    max_fpr : float
        The false-positive budget, in [0, 1).
    initial_version : str, default="2.0"
        Name of the initial model; retrains continue the major version
        (``"3.0"``, ``"4.0"``, ...) within each policy.
    label_delay_days : int, default=7
        Days until an email's label is known.
    monitor_window_days : int, default=14
        Days pooled in the monitored rolling TPR.
    training_window_days : int, default=28
        Days of labelled emails each retrain is trained on.
    random_state : int, default=0
        Seed of SMOTE and the forests.
    smote_ratio : float, default=0.15
        SMOTE's target ratio of phishing to legitimate emails (see
        :func:`phishlab.training.build_pipeline`); a window that already has
        more phishing keeps its own ratio. Light oversampling keeps the top
        of the score range clean, where a strict false-positive budget puts
        the threshold.
    **forest_params
        Random-forest settings of the retrains, by default 100 trees with
        leaves of at least 10 emails: small enough to retrain often, smooth
        enough to rank the few phishing emails at the top.
    """

    def __init__(
        self,
        traffic: pd.DataFrame,
        start,
        end,
        initial_model: Pipeline,
        initial_threshold: float,
        calibration: pd.DataFrame,
        max_fpr: float,
        initial_version: str = "2.0",
        label_delay_days: int = 7,
        monitor_window_days: int = 14,
        training_window_days: int = 28,
        random_state: int = 0,
        smote_ratio: float = 0.15,
        **forest_params,
    ) -> None:
        check_labelled_frame(traffic)
        if "day" not in traffic.columns:
            raise ValueError("traffic needs a 'day' column (see multi_wave_traffic)")
        self.start, self.end = _day(start, "start"), _day(end, "end")
        if self.end < self.start:
            raise ValueError(f"end ({self.end.date()}) is before start ({self.start.date()})")
        self.label_delay_days = _count(label_delay_days, "label_delay_days")
        self.monitor_window_days = _count(monitor_window_days, "monitor_window_days", minimum=1)
        self.training_window_days = _count(training_window_days, "training_window_days", minimum=1)
        days = pd.to_datetime(traffic["day"])
        needed = self.start - pd.Timedelta(
            days=self.label_delay_days + max(self.monitor_window_days, self.training_window_days))
        if days.min() > needed or days.max() < self.end:
            raise ValueError(
                f"traffic must cover {needed.date()} to {self.end.date()} (history for the first window "
                f"and retrain), it covers {days.min().date()} to {days.max().date()}"
            )
        if not days.is_monotonic_increasing:
            raise ValueError("traffic must be in time order")
        self.traffic = traffic.reset_index(drop=True)
        self.days = days.to_numpy()
        self.labels = traffic["label"].to_numpy(dtype=np.int64)
        self.in_range = (self.days >= self.start.to_datetime64()) & (self.days <= self.end.to_datetime64())
        check_labelled_frame(calibration)
        legitimate = calibration[calibration["label"] == 0]
        if legitimate.empty:
            raise ValueError("calibration holds no legitimate email, so no false-positive rate can be set")
        self.calibration = legitimate
        if isinstance(max_fpr, bool) or not isinstance(max_fpr, Real) or not 0 <= max_fpr < 1:
            raise ValueError(f"max_fpr must be a number in [0, 1), got {max_fpr!r}")
        self.max_fpr = float(max_fpr)
        if not isinstance(initial_version, str) or not initial_version:
            raise ValueError(f"initial_version must be a non-empty string such as '2.0', got {initial_version!r}")
        try:
            self._first_major = int(float(initial_version)) + 1
        except ValueError as exc:
            raise ValueError(f"initial_version must look like '2.0', got {initial_version!r}") from exc
        self.initial_version = initial_version
        self.initial_threshold = _fraction(initial_threshold, "initial_threshold")
        self.random_state = _count(random_state, "random_state")
        if isinstance(smote_ratio, bool) or not isinstance(smote_ratio, Real) or not 0 < smote_ratio <= 1:
            raise ValueError(f"smote_ratio must be a number in (0, 1], got {smote_ratio!r}")
        self.smote_ratio = float(smote_ratio)
        self.forest_params = dict(forest_params)
        self.initial_decisions = self._decide(initial_model, self.initial_threshold, None)
        self._retrains: dict[pd.Timestamp, tuple[Pipeline, float, np.ndarray]] = {}

    # --- building blocks -------------------------------------------------------------------------

    def _decide(self, model: Pipeline, threshold: float, from_day: pd.Timestamp | None) -> np.ndarray:
        """Decisions of ``model`` on the emails from ``from_day`` on (all if None)."""
        mask = np.ones(len(self.traffic), dtype=bool) if from_day is None else self.days >= from_day.to_datetime64()
        decisions = np.zeros(int(mask.sum()), dtype=np.int64)
        if mask.any():
            # One call for the whole remaining period: scoring day by day would cost ~100 calls a month.
            decisions = (predict_proba(model, self.traffic.loc[mask, list(FEATURES)]) >= threshold).astype(np.int64)
        return decisions

    def training_window(self, deploy_day) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of the emails a model deployed on ``deploy_day`` is trained on."""
        deploy = _day(deploy_day, "deploy_day")
        last = deploy - pd.Timedelta(days=self.label_delay_days + 1)
        return last - pd.Timedelta(days=self.training_window_days - 1), last

    def retrain(self, deploy_day) -> tuple[Pipeline, float]:
        """The model deployed on ``deploy_day`` and its threshold (trained once, then cached)."""
        deploy = _day(deploy_day, "deploy_day")
        if not self.start <= deploy <= self.end:
            raise ValueError(f"deploy_day must be within {self.start.date()} to {self.end.date()}, got {deploy.date()}")
        if deploy not in self._retrains:
            first, last = self.training_window(deploy)
            window = (self.days >= first.to_datetime64()) & (self.days <= last.to_datetime64())
            model, threshold = fit_retrain(self.traffic.loc[window], self.calibration, self.max_fpr,
                                           self.random_state, self.smote_ratio, **self.forest_params)
            self._retrains[deploy] = (model, threshold, self._decide(model, threshold, deploy))
        model, threshold, _ = self._retrains[deploy]
        return model, threshold

    def monitor(self, decisions: np.ndarray) -> pd.Series:
        """The monitor's rolling TPR (:func:`known_rolling_tpr`) for the given served decisions."""
        log = pd.DataFrame({"date": self.days, "prediction": decisions, "actual": self.labels})
        return known_rolling_tpr(log, self.monitor_window_days, self.label_delay_days)

    def _deploy(self, decisions: np.ndarray, deploy: pd.Timestamp) -> float:
        """Serve the retrain of ``deploy`` from that day on (in place); returns its threshold."""
        _, threshold = self.retrain(deploy)
        decisions[self.days >= deploy.to_datetime64()] = self._retrains[deploy][2]
        return threshold

    def _run(self, name: str, decisions: np.ndarray, rows: list[dict], alert: pd.Series | None) -> PolicyRun:
        days = pd.date_range(self.start, self.end, freq="D", name="date")
        version = pd.Series(self.initial_version, index=days, dtype=object)
        for row in rows:
            if not pd.isna(row["deployed"]):
                version[version.index >= row["deployed"]] = row["version"]
        monitoring = pd.DataFrame({
            "tpr_known": self.monitor(decisions).reindex(days),
            "alert_threshold": np.nan if alert is None else alert.reindex(days),
            "version": version,
        })
        retrains = pd.DataFrame(rows, columns=list(_RETRAIN_COLUMNS))
        for column in ("trigger_day", "deployed", "trained_from", "trained_to"):
            retrains[column] = pd.to_datetime(retrains[column])
        retrains["threshold"] = retrains["threshold"].astype(float)
        retrains["baseline_tpr"] = retrains["baseline_tpr"].astype(float)
        return PolicyRun(name, decisions, retrains, monitoring)

    def _row(self, number: int, deploy: pd.Timestamp, threshold: float, trigger=pd.NaT, baseline=np.nan) -> dict:
        first, last = self.training_window(deploy)
        return {"version": f"{self._first_major + number}.0", "trigger_day": trigger, "deployed": deploy,
                "trained_from": first, "trained_to": last, "threshold": threshold, "baseline_tpr": baseline}

    # --- policies --------------------------------------------------------------------------------

    def never(self, name: str = "never retrain") -> PolicyRun:
        """The initial model serves every day."""
        return self._run(name, self.initial_decisions.copy(), [], None)

    def scheduled(self, retrain_days: Sequence, name: str = "schedule") -> PolicyRun:
        """Retrain on each of ``retrain_days``; each model serves from its day until the next.

        Parameters
        ----------
        retrain_days : sequence of dates
            Deployment days, within start to end, e.g. :func:`monthly_schedule`.
        name : str, default="schedule"
            The policy's name.
        """
        if isinstance(retrain_days, (str, dt.date)):
            raise ValueError("retrain_days must be a sequence of dates, not a single date")
        deploys = sorted({_day(day, "retrain day") for day in retrain_days})
        decisions = self.initial_decisions.copy()
        rows = []
        for number, deploy in enumerate(deploys):
            threshold = self._deploy(decisions, deploy)
            rows.append(self._row(number, deploy, threshold))
        return self._run(name, decisions, rows, None)

    def cooldown_days(self, deploy_delay_days: int) -> int:
        """Days after a trigger before the next may fire.

        Long enough for the new model to be deployed ``deploy_delay_days``
        after the trigger and for its first full monitoring window of labels
        to arrive: ``deploy_delay_days + label_delay_days +
        monitor_window_days - 2``.
        """
        return _count(deploy_delay_days, "deploy_delay_days", minimum=1) + \
            self.label_delay_days + self.monitor_window_days - 2

    def triggered(self, ratio: float = 0.65, deploy_delay_days: int = 14, name: str = "trigger") -> PolicyRun:
        """Retrain when the monitored TPR falls below ``ratio`` times the serving model's baseline.

        The initial model's baseline is its monitored TPR on the first day.
        After a trigger on day ``t`` the team keeps collecting labels and
        deploys a model retrained on day ``t + deploy_delay_days``; once that
        model's first full window of labels is known, its TPR there becomes
        the new baseline (so the alert measures *this* model's decline, not the
        distance to a performance the new traffic may no longer allow), and the
        trigger is armed again.

        Parameters
        ----------
        ratio : float, default=0.65
            Fire when the monitored TPR is below ``ratio * baseline``: when
            the model has lost more than a third of its baseline. The rule
            must sit several standard errors below the baseline; a 14-day
            window holds only about 140 phishing emails.
        deploy_delay_days : int, default=14
            Days from the trigger to the new model serving, >= 1; the longer,
            the more labels of the new phishing the retrain sees.
        name : str, default="trigger"
            The policy's name.
        """
        ratio = _fraction(ratio, "ratio")
        cooldown = self.cooldown_days(deploy_delay_days)
        decisions = self.initial_decisions.copy()
        series = self.monitor(decisions)
        baseline = float(series.get(self.start, np.nan))
        if np.isnan(baseline):
            raise ValueError(f"the initial model has no monitored TPR on {self.start.date()}: extend the history")
        armed_from, threshold = self.start, ratio * baseline
        alert = pd.Series(np.nan, index=pd.date_range(self.start, self.end, freq="D"))
        rows: list[dict] = []
        while True:
            alert[alert.index >= armed_from] = threshold
            fired = trigger_days(series[armed_from:self.end], threshold, cooldown)
            if not fired:
                break
            trigger = fired[0]
            deploy = trigger + pd.Timedelta(days=deploy_delay_days)
            if deploy > self.end:
                # Fired, but its model would serve only after the end: recorded, not counted as a retrain.
                rows.append({**dict.fromkeys(_RETRAIN_COLUMNS, np.nan), "trigger_day": trigger, "version": None})
                alert[alert.index > trigger] = np.nan
                break
            model_threshold = self._deploy(decisions, deploy)
            series = self.monitor(decisions)
            armed_from = trigger + pd.Timedelta(days=cooldown + 1)
            baseline = float(series.get(armed_from, np.nan))
            rows.append(self._row(len(rows), deploy, model_threshold, trigger, baseline))
            alert[alert.index > trigger] = np.nan
            if armed_from > self.end or np.isnan(baseline):
                break
            threshold = ratio * baseline
        return self._run(name, decisions, rows, alert)


def policy_costs(
    run: PolicyRun,
    timeline: RetrainingTimeline,
    fn_cost: float,
    fp_cost: float,
    retrain_cost: float,
) -> dict[str, float | int]:
    """Errors and expected cost of a policy from the timeline's start to its end.

    Parameters
    ----------
    run : PolicyRun
        A run of ``timeline``.
    timeline : RetrainingTimeline
        The timeline it ran on.
    fn_cost, fp_cost, retrain_cost : float
        Cost (US$) of a missed phishing email, of a false alarm and of one
        retrain (training, validation, rollout), each >= 0.

    Returns
    -------
    dict
        ``retrains``, ``tp``, ``fn``, ``fp``, ``tpr``, ``fpr`` and ``cost``
        (``fn * fn_cost + fp * fp_cost + retrains * retrain_cost``). A
        trigger that fired too late to deploy a model costs nothing.
    """
    for value, name in ((fn_cost, "fn_cost"), (fp_cost, "fp_cost"), (retrain_cost, "retrain_cost")):
        if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a non-negative number (US$), got {value!r}")
    if len(run.decisions) != len(timeline.traffic):
        raise ValueError("the run does not belong to this timeline: its decisions have another length")
    decided = run.decisions[timeline.in_range]
    truth = timeline.labels[timeline.in_range]
    tp = int(np.sum((decided == 1) & (truth == 1)))
    fn = int(np.sum((decided == 0) & (truth == 1)))
    fp = int(np.sum((decided == 1) & (truth == 0)))
    retrains = int(run.retrains["deployed"].notna().sum())
    return {
        "retrains": retrains,
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tpr": tp / (tp + fn) if tp + fn else float("nan"),
        "fpr": fp / int(np.sum(truth == 0)) if np.any(truth == 0) else float("nan"),
        "cost": fn * float(fn_cost) + fp * float(fp_cost) + retrains * float(retrain_cost),
    }


def tpr_between(run: PolicyRun, timeline: RetrainingTimeline, first, last) -> float:
    """The TPR of a run's served decisions on the emails of days ``first`` to ``last``."""
    first, last = _day(first, "first"), _day(last, "last")
    if last < first:
        raise ValueError(f"last ({last.date()}) is before first ({first.date()})")
    if len(run.decisions) != len(timeline.traffic):
        raise ValueError("the run does not belong to this timeline: its decisions have another length")
    chosen = (timeline.days >= first.to_datetime64()) & (timeline.days <= last.to_datetime64()) & (timeline.labels == 1)
    if not chosen.any():
        raise ValueError(f"no phishing email between {first.date()} and {last.date()}")
    return float(run.decisions[chosen].mean())


def course_timeline(registry: ModelRegistry, random_state: int = course.COURSE_SEED, **settings) -> RetrainingTimeline:
    """The timeline of Challenge 4: v2.0 from 6 October 2024 to 31 March 2025 under three waves.

    Traffic follows :data:`phishlab.scenarios.MULTI_WAVE_DRIFT` from the
    history the first window and retrain need; v2.0 (trained first if the
    registry lacks it) serves at its registered threshold; retrains keep v1.0's
    false-positive budget, as v2.0 did, with thresholds set on the course's
    February--July calibration mail (:func:`phishlab.course.calibration_data`),
    whose legitimate emails are what legitimate mail still looks like: no wave
    moves legitimate mail.

    Parameters
    ----------
    registry : ModelRegistry
        The course's registry; nothing is saved in it.
    random_state : int, default=COURSE_SEED
        Seed of the traffic and the retrains.
    **settings
        Passed to :class:`RetrainingTimeline` (e.g. ``label_delay_days``).
    """
    if not isinstance(registry, ModelRegistry):
        raise ValueError(f"registry must be a ModelRegistry, got {type(registry).__name__}")
    model_v2 = course.ensure_v2(registry)
    label_delay = settings.get("label_delay_days", 7)
    history = label_delay + max(settings.get("monitor_window_days", 14), settings.get("training_window_days", 28))
    traffic = multi_wave_traffic(SIMULATION_START - pd.Timedelta(days=history), SIMULATION_END, random_state)
    return RetrainingTimeline(
        traffic, SIMULATION_START, SIMULATION_END, model_v2, registry.threshold("2.0"), course.calibration_data(),
        max_fpr=float(registry.entry("1.0")["metrics"]["fpr"]), initial_version="2.0",
        random_state=random_state, **settings,
    )
