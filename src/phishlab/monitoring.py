"""Monitoring metrics: daily TPR, FPR, precision and F1, rolling windows, alerts.

Rolling metrics are *pooled*: the 7-day TPR is the sum of true positives over
the last 7 days divided by the sum of phishing emails over those days. On days
with only ten phishing emails a daily TPR jumps in steps of 10 %, and pooling
weights each day by how much evidence it holds, which a plain mean of daily
rates would not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_THRESHOLDS",
    "METRICS",
    "AlertThresholds",
    "RateInterval",
    "add_rolling_metrics",
    "check_thresholds",
    "confusion_counts",
    "daily_metrics",
    "rates_from_counts",
    "wilson_interval",
]

METRICS: tuple[str, ...] = ("tpr", "fpr", "precision", "f1")
"""The monitored rates."""

_COUNTS = ("tp", "fp", "tn", "fn")


@dataclass(frozen=True)
class AlertThresholds:
    """Targets the deployed detector must meet.

    Parameters
    ----------
    min_tpr : float, default=0.90
        Alert when the true-positive rate (recall) falls to or below this.
    max_fpr : float, default=0.05
        Alert when the false-positive rate rises to or above this.
    min_precision : float, default=0.75
        Alert when precision falls to or below this.
    """

    min_tpr: float = 0.90
    max_fpr: float = 0.05
    min_precision: float = 0.75

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {value}")

    def target_of(self, metric: str) -> tuple[str, float]:
        """``(">" or "<", value)`` for ``metric`` in tpr/fpr/precision."""
        targets = {"tpr": (">", self.min_tpr), "fpr": ("<", self.max_fpr),
                   "precision": (">", self.min_precision)}
        if metric not in targets:
            raise ValueError(f"no threshold for {metric!r}; expected one of {sorted(targets)}")
        return targets[metric]


DEFAULT_THRESHOLDS = AlertThresholds()
"""TPR > 90 %, FPR < 5 %, precision > 75 %."""


def _binary(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.isin(array, [0, 1]).all():
        raise ValueError(f"{name} must contain only 0 and 1")
    return array.astype(np.int64)


def confusion_counts(y_true, y_pred) -> dict[str, int]:
    """Counts ``tp``, ``fp``, ``tn``, ``fn`` of 0/1 labels and predictions."""
    truth, pred = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if truth.shape != pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {truth.size} vs {pred.size}")
    return {
        "tp": int(np.sum((truth == 1) & (pred == 1))),
        "fp": int(np.sum((truth == 0) & (pred == 1))),
        "tn": int(np.sum((truth == 0) & (pred == 0))),
        "fn": int(np.sum((truth == 1) & (pred == 0))),
    }


def _ratio(numerator, denominator):
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def rates_from_counts(tp, fp, tn, fn) -> dict[str, np.ndarray | float]:
    """TPR, FPR, precision and F1 from counts (scalars or arrays).

    A rate whose denominator is 0 is NaN: with no phishing email that day the
    TPR is undefined, not 0 or 1.
    """
    arrays = [np.asarray(v, dtype=float) for v in (tp, fp, tn, fn)]
    if any((a < 0).any() for a in arrays):
        raise ValueError("counts must be non-negative")
    tp, fp, tn, fn = arrays
    rates = {
        "tpr": _ratio(tp, tp + fn),
        "fpr": _ratio(fp, fp + tn),
        "precision": _ratio(tp, tp + fp),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }
    if all(a.ndim == 0 for a in arrays):
        return {name: float(value) for name, value in rates.items()}
    return rates


def daily_metrics(log: pd.DataFrame) -> pd.DataFrame:
    """One row per day of a prediction log with counts and rates.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log with columns ``date``, ``prediction`` and ``actual``
        (see :mod:`phishlab.scoring`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date`` (every calendar day between the first and last,
        days without traffic having zero counts), with columns ``n_emails``,
        ``n_phishing``, ``tp``, ``fp``, ``tn``, ``fn``, ``tpr``, ``fpr``,
        ``precision``, ``f1``.
    """
    if not isinstance(log, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(log).__name__}")
    missing = [c for c in ("date", "prediction", "actual") if c not in log.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the log has {list(log.columns)}")
    if log.empty:
        raise ValueError("the prediction log is empty")
    truth = _binary(log["actual"], "actual")
    pred = _binary(log["prediction"], "prediction")
    try:
        dates = pd.to_datetime(log["date"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column 'date' must hold dates: {exc}") from exc
    if dates.isna().any():
        # groupby would silently drop these rows from every count.
        raise ValueError(f"column 'date' has {int(dates.isna().sum())} missing value(s)")
    frame = pd.DataFrame(
        {
            "date": dates.dt.normalize(),
            "tp": (truth == 1) & (pred == 1),
            "fp": (truth == 0) & (pred == 1),
            "tn": (truth == 0) & (pred == 0),
            "fn": (truth == 1) & (pred == 0),
        }
    )
    counts = frame.groupby("date")[list(_COUNTS)].sum().astype(np.int64)
    days = pd.date_range(counts.index.min(), counts.index.max(), freq="D", name="date")
    counts = counts.reindex(days, fill_value=0)
    counts.insert(0, "n_phishing", counts["tp"] + counts["fn"])
    counts.insert(0, "n_emails", counts[list(_COUNTS)].sum(axis=1))
    rates = rates_from_counts(*(counts[c] for c in _COUNTS))
    for name in METRICS:
        counts[name] = rates[name]
    return counts


def add_rolling_metrics(daily: pd.DataFrame, windows: tuple[int, ...] = (7, 30)) -> pd.DataFrame:
    """Add pooled rolling rates over trailing windows of calendar days.

    Parameters
    ----------
    daily : pandas.DataFrame
        Output of :func:`daily_metrics`.
    windows : tuple of int, default=(7, 30)
        Window lengths in days. Each adds columns ``tpr_7d``, ``fpr_7d``,
        ``precision_7d``, ``f1_7d`` (for 7). The first ``window - 1`` days
        have no full window and are NaN.

    Returns
    -------
    pandas.DataFrame
        A copy of ``daily`` with the new columns.
    """
    missing = [c for c in _COUNTS if c not in daily.columns]
    if missing:
        raise ValueError(f"daily metrics are missing count column(s) {missing}")
    if daily.empty:
        raise ValueError("the daily metrics are empty")
    if isinstance(windows, (int, np.integer)) or any(
        isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w < 1 for w in windows
    ):
        raise ValueError(f"windows must be a tuple of positive ints such as (7, 30), got {windows!r}")
    result = daily.copy()
    for window in windows:
        sums = daily[list(_COUNTS)].rolling(window, min_periods=window).sum()
        rates = rates_from_counts(*(sums[c].fillna(0) for c in _COUNTS))
        incomplete = sums["tp"].isna().to_numpy()
        for name in METRICS:
            values = np.asarray(rates[name], dtype=float)
            values[incomplete] = np.nan
            result[f"{name}_{window}d"] = values
    return result


def check_thresholds(
    metrics: pd.DataFrame,
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
    suffix: str = "",
) -> pd.DataFrame:
    """Which days breach which target.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Output of :func:`daily_metrics` or :func:`add_rolling_metrics`.
    thresholds : AlertThresholds
        Targets.
    suffix : str, default=""
        Check the daily rates (``""``) or a rolling window (``"_7d"``).

    Returns
    -------
    pandas.DataFrame
        Boolean columns ``tpr_alert``, ``fpr_alert``, ``precision_alert`` and
        ``any_alert``. An undefined (NaN) rate never raises an alert.
    """
    alerts = pd.DataFrame(index=metrics.index)
    for metric in ("tpr", "fpr", "precision"):
        column = f"{metric}{suffix}"
        if column not in metrics.columns:
            raise ValueError(f"missing column {column!r}; the frame has {list(metrics.columns)}")
        direction, target = thresholds.target_of(metric)
        values = metrics[column]
        breach = values <= target if direction == ">" else values >= target
        alerts[f"{metric}_alert"] = breach.fillna(False).astype(bool)
    alerts["any_alert"] = alerts.any(axis=1)
    return alerts


class RateInterval(NamedTuple):
    """A confidence interval of a rate: unpack it as ``low, high`` or read ``.low`` and ``.high``."""

    low: float
    high: float


def wilson_interval(successes: int, trials: int, confidence_level: float = 0.95) -> RateInterval:
    """Wilson score interval of a rate of ``successes`` in ``trials``.

    Unlike the textbook normal interval it stays inside [0, 1] and does not
    collapse to a point when nothing (or everything) was seen, which is what a
    rate resting on a few emails needs.

    Parameters
    ----------
    successes : int
        Events counted, e.g. phishing emails caught.
    trials : int
        Opportunities, e.g. phishing emails seen; at least 1.
    confidence_level : float, default=0.95
        Coverage of the interval, in (0, 1).

    Returns
    -------
    RateInterval
        ``(low, high)``, both in [0, 1].

    Examples
    --------
    >>> low, high = wilson_interval(9, 13)
    >>> print(f"{low:.2f}-{high:.2f}")
    0.42-0.87
    >>> wilson_interval(0, 25).low
    0.0
    """
    if int(trials) != trials or int(successes) != successes:
        raise ValueError(f"successes and trials must be whole numbers, got {successes} and {trials}")
    if trials < 1:
        raise ValueError(f"trials must be at least 1, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials ({trials}), got {successes}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level must be in (0, 1), got {confidence_level}")
    # Imported here: SciPy's statistics take seconds to import, and the graded
    # notebooks that import this module for its rates never need an interval.
    from scipy import stats

    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level, method="wilson")
    return RateInterval(float(interval.low), float(interval.high))
