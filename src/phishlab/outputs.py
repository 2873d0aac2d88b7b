"""Label-free monitoring: watch what the model says, not whether it was right.

Labels arrive late and biased (:mod:`phishlab.labels`), but the model's own
outputs are in the prediction log the moment it scores an email. When the mail
changes, they change with it, on the first day:

* the **alert rate** -- the share of emails the model flags;
* the **distribution of its scores** -- compared with a reference period by the
  population stability index (PSI) or the Wasserstein distance.

A change in the outputs is not proof that the model got worse (the mix of mail
may simply have changed), but it is a reason to look -- days before the labels
can say.

:func:`output_monitor` runs all three each day on a sliding window against a
fixed reference period. Each has a threshold set for a stated false-alarm
rate: an exact binomial test for the alert rate, and for PSI and the
Wasserstein distance the ``1 - alpha`` quantile of the statistic over random
reference windows of the same size (so a quiet window crosses it with
probability about ``alpha``).
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

__all__ = [
    "OUTPUT_DETECTORS",
    "output_monitor",
    "population_stability_index",
]

OUTPUT_DETECTORS: tuple[str, ...] = ("alert_rate", "psi", "wasserstein")
"""The label-free detectors of :func:`output_monitor`, by column prefix."""

_PSI_FLOOR = 1e-4  # share given to an empty bin, so that log(0) never occurs


def _scores(values, name: str) -> np.ndarray:
    scores = np.asarray(values, dtype=float).reshape(-1)
    if scores.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(scores)) or scores.min() < 0 or scores.max() > 1:
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    return scores


def population_stability_index(reference, current, bins: int = 10) -> float:
    """PSI between two samples of scores in [0, 1], on ``bins`` equal-width bins.

    ``PSI = sum((c - r) * ln(c / r))`` over the bins' shares ``r`` (reference)
    and ``c`` (current); an empty bin counts as a share of 0.0001. A common
    rule of thumb reads below 0.1 as stable and above 0.25 as a major shift.

    Parameters
    ----------
    reference, current : array-like of float
        Scores (probabilities) of the two periods.
    bins : int, default=10
        Number of equal-width bins over [0, 1]. Equal-width rather than
        quantile bins, because a detector's scores pile up at 0.

    Returns
    -------
    float
        The index, 0 for identical histograms.

    Examples
    --------
    >>> population_stability_index([0.1, 0.2, 0.9, 0.95], [0.1, 0.2, 0.9, 0.95])
    0.0
    >>> round(population_stability_index([0.1, 0.1, 0.9, 0.9], [0.1, 0.1, 0.1, 0.9]), 3)
    0.275
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"bins must be an int >= 2, got {bins!r}")
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    ref = np.histogram(_scores(reference, "reference"), edges)[0] / np.size(reference)
    cur = np.histogram(_scores(current, "current"), edges)[0] / np.size(current)
    ref, cur = np.maximum(ref, _PSI_FLOOR), np.maximum(cur, _PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    return float(wasserstein_distance(reference, current))


def _calibrated_threshold(statistic, reference: np.ndarray, size: int, alpha: float,
                          n_resamples: int, rng: np.random.Generator) -> float:
    """The (1 - alpha) quantile of ``statistic`` over random reference windows of ``size`` emails."""
    values = [statistic(reference, rng.choice(reference, size=size, replace=True)) for _ in range(n_resamples)]
    return float(np.quantile(values, 1 - alpha))


def output_monitor(
    log: pd.DataFrame,
    reference: tuple[str, str],
    start: str,
    end: str,
    window_days: int = 7,
    alpha: float = 0.01,
    n_resamples: int = 1000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Run the label-free detectors each day on the last ``window_days`` days of a prediction log.

    Parameters
    ----------
    log : pandas.DataFrame
        Prediction log with ``date``, ``probability`` and ``prediction``
        (:func:`phishlab.scoring.score_batch`). Labels are not used.
    reference : (str, str)
        First and last day of the fixed reference period, inclusive.
    start, end : str
        First and last day on which the monitor runs; each day's window ends
        with that day.
    window_days : int, default=7
        Days in each window.
    alpha : float, default=0.01
        False-alarm rate of each detector on one quiet window.
    n_resamples : int, default=1000
        Random reference windows used to set the PSI and Wasserstein thresholds.
    random_state : int, default=0
        Seed of those reference windows.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date``: ``n_emails`` in the window; ``alert_rate`` and
        its two-sided exact binomial p-value against the reference rate
        ``alert_rate_p``; ``psi``; ``wasserstein``; a boolean
        ``<detector>_fires`` per detector of :data:`OUTPUT_DETECTORS`. The
        thresholds are in ``result.attrs`` (``reference_alert_rate``,
        ``psi_threshold``, ``wasserstein_threshold``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> days = pd.date_range("2024-06-01", "2024-07-31", freq="D").repeat(100)
    >>> scores = np.where(rng.random(len(days)) < 0.1, 0.9, 0.05)
    >>> scores[(days >= "2024-07-20") & (rng.random(len(days)) < 0.5)] = 0.4  # half the mail looks doubtful
    >>> log = pd.DataFrame({"date": days, "probability": scores, "prediction": (scores >= 0.5).astype(int)})
    >>> monitor = output_monitor(log, ("2024-06-01", "2024-06-30"), "2024-07-07", "2024-07-31")
    >>> monitor["psi_fires"].idxmax().date()
    datetime.date(2024, 7, 20)
    """
    missing = [c for c in ("date", "probability", "prediction") if c not in log.columns]
    if missing:
        raise ValueError(f"the prediction log is missing column(s) {missing}")
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise ValueError(f"window_days must be a positive int, got {window_days!r}")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 10:
        raise ValueError(f"n_resamples must be an int >= 10, got {n_resamples!r}")
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state!r}")
    from scipy.stats import binomtest

    days = pd.to_datetime(log["date"]).dt.normalize()
    ref_start, ref_end = (pd.Timestamp(day) for day in reference)
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if ref_end < ref_start or last < first:
        raise ValueError("each period must end on or after the day it starts")
    in_reference = ((days >= ref_start) & (days <= ref_end)).to_numpy()
    if in_reference.sum() < 2:
        raise ValueError("the reference period holds fewer than 2 emails")
    reference_scores = _scores(log.loc[in_reference, "probability"], "the reference scores")
    reference_rate = float(log.loc[in_reference, "prediction"].mean())
    if not 0 < reference_rate < 1:
        raise ValueError("the reference period has no alerts (or only alerts): its alert rate cannot be tested")

    window = pd.Timedelta(days=int(window_days))
    windows = [(day, ((days > day - window) & (days <= day)).to_numpy())
               for day in pd.date_range(first, last, freq="D", name="date")]
    if any(not rows.any() for _, rows in windows):
        raise ValueError("some window holds no emails")
    # Windows hold about the same number of emails; thresholds are set once, at their median size.
    size = int(np.median([rows.sum() for _, rows in windows]))
    rng = np.random.default_rng(int(random_state))
    thresholds = {
        "psi": _calibrated_threshold(population_stability_index, reference_scores, size, alpha, n_resamples, rng),
        "wasserstein": _calibrated_threshold(_wasserstein, reference_scores, size, alpha, n_resamples, rng),
    }
    rows = []
    for day, in_window in windows:
        scores = log.loc[in_window, "probability"].to_numpy(dtype=float)
        alerts = int(log.loc[in_window, "prediction"].sum())
        rows.append({
            "date": day,
            "n_emails": int(in_window.sum()),
            "alert_rate": alerts / in_window.sum(),
            "alert_rate_p": binomtest(alerts, int(in_window.sum()), reference_rate).pvalue,
            "psi": population_stability_index(reference_scores, scores),
            "wasserstein": _wasserstein(reference_scores, scores),
        })
    result = pd.DataFrame(rows).set_index("date")
    result["alert_rate_fires"] = result["alert_rate_p"] < alpha
    result["psi_fires"] = result["psi"] > thresholds["psi"]
    result["wasserstein_fires"] = result["wasserstein"] > thresholds["wasserstein"]
    result.attrs.update(reference_alert_rate=reference_rate,
                        psi_threshold=thresholds["psi"], wasserstein_threshold=thresholds["wasserstein"])
    return result
