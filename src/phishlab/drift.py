"""A feature-drift monitor that uses a test fit for each kind of feature.

Chapter 3 shows why the two-sample Kolmogorov--Smirnov test is the wrong tool
for counts and 0/1 flags (with ties it rejects far less often than its level
says) and why a p-value alone is the wrong criterion on large samples. This
module applies both lessons:

- continuous features get the two-sample KS test, effect size its statistic
  :math:`D`;
- counts and flags get a chi-square test of homogeneity on their value counts
  (rare values pooled so every expected count is at least 5), effect size the
  total-variation distance between the two shares of each value -- the
  largest difference in share of emails over any set of values, of which the
  KS :math:`D` (over the sets "at most t") is the special case;
- a feature is flagged only when its p-value survives a Bonferroni correction
  over the features **and** its effect size reaches a minimum;
- :func:`sliding_drift_monitor` runs the test every day on the last ``window``
  days against a fixed reference period.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "FEATURE_KINDS",
    "MIN_EFFECT",
    "drift_report",
    "feature_drift_test",
    "sliding_drift_monitor",
]

FEATURE_KINDS: tuple[str, ...] = ("continuous", "count", "binary")
"""The kinds of feature the monitor knows (as in :class:`phishlab.simulation.FeatureSpec`)."""

MIN_EFFECT: float = 0.05
"""Smallest effect size worth an alarm: 5 points of share of all emails.

Phishing is one email in ten. A change in the look of phishing that moves half
of the phishing emails (a phishing-only effect of 0.5) moves the mixture by
0.05; a smaller shift in the inputs is left to the performance rules and the
per-class tests once labels arrive.
"""

_MIN_EXPECTED = 5.0
# Quantile bins of the reference for counts with many values (e.g. a length in
# words): few bins keep every expected count large and the test powerful.
_MAX_BINS = 10


def _sample(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size < 2:
        raise ValueError(f"{name} needs at least 2 values, got {array.size}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _contingency(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """2 x k table of value counts; rare categories merged into their neighbour."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, _MAX_BINS + 1)[1:-1]))
    table = np.stack([
        np.bincount(np.searchsorted(edges, sample, side="left"), minlength=edges.size + 1)
        for sample in (reference, current)
    ]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    while table.shape[1] > 1:
        expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
        smallest = int(np.argmin(expected.min(axis=0)))
        if expected[:, smallest].min() >= _MIN_EXPECTED:
            break
        # Merge with the neighbour on the side of the larger column: categories are ordered values.
        neighbour = smallest - 1 if smallest == table.shape[1] - 1 else smallest + 1
        if 0 < smallest < table.shape[1] - 1 and table[:, smallest - 1].sum() < table[:, smallest + 1].sum():
            neighbour = smallest - 1
        low, high = sorted((smallest, neighbour))
        table[:, low] += table[:, high]
        table = np.delete(table, high, axis=1)
    return table


def feature_drift_test(reference, current, kind: str) -> tuple[str, float, float]:
    """Test whether one feature's distribution differs between two samples.

    Parameters
    ----------
    reference, current : array-like of shape (n_samples,)
        The feature's values in the reference period and in the window tested.
    kind : {"continuous", "count", "binary"}
        Continuous features get the two-sample KS test; counts and flags, whose
        ties make KS conservative, a chi-square test of homogeneity.

    Returns
    -------
    test : str
        ``"KS"`` or ``"chi-square"``.
    effect : float
        KS statistic :math:`D`, or the total-variation distance between the
        two samples' shares of each (pooled) value; both lie in [0, 1], 0
        meaning identical distributions.
    p_value : float
        p-value of the test (1.0 when a flag never varies in either sample).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> test, effect, p = feature_drift_test(rng.poisson(0.5, 2000), rng.poisson(1.5, 2000), "count")
    >>> test, bool(effect > 0.3), bool(p < 1e-10)
    ('chi-square', True, True)
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"kind must be one of {FEATURE_KINDS}, got {kind!r}")
    reference = _sample(reference, "reference")
    current = _sample(current, "current")
    if kind == "continuous":
        result = stats.ks_2samp(reference, current)
        return "KS", float(result.statistic), float(result.pvalue)
    table = _contingency(reference, current)
    if table.shape[1] < 2:
        return "chi-square", 0.0, 1.0
    _, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    shares = table / table.sum(axis=1, keepdims=True)
    return "chi-square", float(0.5 * np.abs(shares[0] - shares[1]).sum()), float(p_value)


def _kinds(features: Mapping[str, str]) -> dict[str, str]:
    if not features:
        raise ValueError("no feature to test")
    for name, kind in features.items():
        if kind not in FEATURE_KINDS:
            raise ValueError(f"feature {name!r} has kind {kind!r}; expected one of {FEATURE_KINDS}")
    return dict(features)


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Mapping[str, str],
    alpha: float = 0.05,
    min_effect: float = MIN_EFFECT,
) -> pd.DataFrame:
    """Per-feature tests, Bonferroni-corrected, with a minimum effect size.

    Parameters
    ----------
    reference, current : pandas.DataFrame
        Samples holding a column per feature.
    features : mapping of str to str
        Feature name to kind (``"continuous"``, ``"count"`` or ``"binary"``).
    alpha : float, default=0.05
        Family-wise significance level over the features.
    min_effect : float, default=MIN_EFFECT
        Smallest effect size (KS :math:`D` or total-variation distance) that
        flags a feature.

    Returns
    -------
    pandas.DataFrame
        Indexed by feature, columns ``test``, ``effect``, ``p_value``,
        ``p_bonferroni`` and ``drifted`` (significant after the correction
        *and* an effect of at least ``min_effect``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> before = pd.DataFrame({"x": rng.normal(size=1000), "k": rng.poisson(1.0, 1000)})
    >>> after = pd.DataFrame({"x": rng.normal(0.5, size=1000), "k": rng.poisson(1.0, 1000)})
    >>> drift_report(before, after, {"x": "continuous", "k": "count"})["drifted"].tolist()
    [True, False]
    """
    kinds = _kinds(features)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 <= min_effect <= 1:
        raise ValueError(f"min_effect must be in [0, 1], got {min_effect}")
    for frame, label in ((reference, "reference"), (current, "current")):
        missing = [name for name in kinds if name not in frame.columns]
        if missing:
            raise ValueError(f"{label} lacks feature column(s) {missing}")
    rows = {}
    for name, kind in kinds.items():
        test, effect, p_value = feature_drift_test(reference[name], current[name], kind)
        rows[name] = {"test": test, "effect": effect, "p_value": p_value}
    report = pd.DataFrame.from_dict(rows, orient="index")
    report.index.name = "feature"
    report["p_bonferroni"] = np.minimum(1.0, report["p_value"] * len(kinds))
    report["drifted"] = (report["p_bonferroni"] < alpha) & (report["effect"] >= min_effect)
    return report


def sliding_drift_monitor(
    emails: pd.DataFrame,
    features: Mapping[str, str],
    reference: tuple[str, str],
    start: str,
    end: str,
    window: int = 7,
    alpha: float = 0.05,
    min_effect: float = MIN_EFFECT,
    time_column: str = "timestamp",
) -> pd.DataFrame:
    """Run :func:`drift_report` each day on the last ``window`` days.

    Parameters
    ----------
    emails : pandas.DataFrame
        Emails with a time column and a column per feature.
    features : mapping of str to str
        Feature name to kind.
    reference : (str, str)
        First and last day of the fixed reference period, inclusive.
    start, end : str
        First and last day on which the monitor runs; each day's window ends
        with that day (inclusive).
    window : int, default=7
        Days in each window.
    alpha, min_effect : float
        As in :func:`drift_report`.
    time_column : str, default="timestamp"
        Column holding each email's time.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``date``: ``n_emails`` in the window, ``n_drifted``
        features flagged, ``fires`` (at least one flagged), and one column of
        effect sizes and one of Bonferroni p-values per feature
        (``effect_<name>``, ``p_<name>``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> days = pd.date_range("2024-06-01", "2024-07-31", freq="D").repeat(50)
    >>> shift = np.where(days >= "2024-07-15", 3.0, 0.0)
    >>> emails = pd.DataFrame({"timestamp": days, "x": rng.normal(shift)})
    >>> monitor = sliding_drift_monitor(emails, {"x": "continuous"}, ("2024-06-01", "2024-06-30"),
    ...                                 "2024-07-07", "2024-07-31")
    >>> monitor["fires"].idxmax().date()
    datetime.date(2024, 7, 15)
    """
    kinds = _kinds(features)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}")
    if time_column not in emails.columns:
        raise ValueError(f"emails lack the time column {time_column!r}")
    days = pd.to_datetime(emails[time_column]).dt.normalize()
    ref_start, ref_end = (pd.Timestamp(day) for day in reference)
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if ref_end < ref_start or last < first:
        raise ValueError("each period must end on or after the day it starts")
    if first - pd.Timedelta(days=window - 1) <= ref_end:
        raise ValueError("the first window overlaps the reference period; start later")
    reference_emails = emails[(days >= ref_start) & (days <= ref_end)]
    if len(reference_emails) < 2:
        raise ValueError("the reference period holds fewer than 2 emails")
    rows = []
    for day in pd.date_range(first, last, freq="D", name="date"):
        current = emails[(days > day - pd.Timedelta(days=window)) & (days <= day)]
        report = drift_report(reference_emails, current, kinds, alpha, min_effect)
        rows.append({
            "date": day, "n_emails": len(current), "n_drifted": int(report["drifted"].sum()),
            **{f"effect_{name}": report.loc[name, "effect"] for name in kinds},
            **{f"p_{name}": report.loc[name, "p_bonferroni"] for name in kinds},
        })
    result = pd.DataFrame(rows).set_index("date")
    result.insert(2, "fires", result["n_drifted"] > 0)
    return result
