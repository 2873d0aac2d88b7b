"""Weighted voting of two detectors: soft and hard votes, and a sweep of the weight.

Two models that score the same emails can be combined without retraining:

* a **soft vote** averages their phishing probabilities,
  ``p = (1 - w) * p_v1 + w * p_v2``, and flags an email when ``p`` reaches a
  threshold (:func:`weighted_soft_vote`);
* a **hard vote** weighs their 0/1 decisions the same way and flags an email
  when the weight voting "phishing" is over one half
  (:func:`weighted_hard_vote`). With two voters this is always one of four
  rules: v1.0 alone (``w < 0.5``), v2.0 alone (``w > 0.5``), and at
  ``w = 0.5`` their AND or their OR, depending on how a tie is broken.

The threshold of a soft vote is a choice of its own. :func:`interpolated_threshold`
blends the two models' thresholds like their probabilities;
:func:`budget_thresholds` instead picks, for every weight, the lowest threshold
that keeps the false-positive rate on separate calibration mail within a
budget -- the rule v2.0's own threshold was set with -- so that every weight
is compared at the same false-alarm cost.

:func:`sweep_weights` evaluates a grid of weights, :func:`best_weight` reads
the best one off a sweep, and :func:`november_test_data` draws labelled emails
from the November 2024 wave of :data:`phishlab.scenarios.MULTI_WAVE_DRIFT`,
drift neither model has seen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import stats

from phishlab.monitoring import confusion_counts, rates_from_counts
from phishlab.retraining import threshold_for_fpr
from phishlab.scenarios import MULTI_WAVE_DRIFT
from phishlab.simulation import generate_training_set

__all__ = [
    "METRICS",
    "NOVEMBER_END",
    "NOVEMBER_START",
    "NOVEMBER_TEST_SEED",
    "TIE_RULES",
    "best_weight",
    "budget_thresholds",
    "decision_metrics",
    "interpolated_threshold",
    "november_test_data",
    "paired_comparison",
    "sweep_weights",
    "weighted_hard_vote",
    "weighted_soft_vote",
]

METRICS: tuple[str, ...] = ("tpr", "fpr", "precision", "f1")
"""The metrics of a sweep, as :func:`phishlab.monitoring.rates_from_counts` names them."""

TIE_RULES: tuple[str, ...] = ("legitimate", "phishing")
"""How a hard vote breaks a tie: the email is let through, or flagged."""

NOVEMBER_START = dt.date(2024, 11, 1)
NOVEMBER_END = dt.date(2024, 11, 30)
NOVEMBER_TEST_SEED = 2024 + 11
"""Seed of :func:`november_test_data`: the course seed plus the month, apart from every other set's."""

# Scores within this distance of a tie are a tie: (1 - w) + w * 0 must equal
# 0.5 at w = 0.5 however the weight was computed (0.1 * 5, 1 / 2, ...).
_TIE_TOLERANCE = 1e-9


def _check_weight(weight) -> float:
    if isinstance(weight, bool) or not isinstance(weight, Real) or not 0 <= weight <= 1:
        raise ValueError(f"weight must be a number in [0, 1], got {weight!r}")
    return float(weight)


def _check_probabilities(p_v1, p_v2) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in (("p_v1", p_v1), ("p_v2", p_v2)):
        try:
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numbers in [0, 1]") from exc
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
        if not np.isfinite(array).all() or array.min(initial=0) < 0 or array.max(initial=0) > 1:
            raise ValueError(f"{name} must contain probabilities in [0, 1] (no NaN)")
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"p_v1 and p_v2 differ in length: {arrays[0].size} vs {arrays[1].size}")
    return arrays[0], arrays[1]


def _check_decisions(first, second, names=("pred_v1", "pred_v2")) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in zip(names, (first, second), strict=True):
        array = np.asarray(values)
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
        if not np.isin(array, [0, 1]).all():
            raise ValueError(f"{name} must contain only 0 and 1 decisions")
        arrays.append(array.astype(np.int64))
    if arrays[0].shape != arrays[1].shape:
        raise ValueError(f"{names[0]} and {names[1]} differ in length: {arrays[0].size} vs {arrays[1].size}")
    return arrays[0], arrays[1]


def _check_threshold(threshold, name: str = "threshold") -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, Real) or not 0 < threshold <= 1:
        raise ValueError(f"{name} must be a number in (0, 1], got {threshold!r}")
    return float(threshold)


def _check_weights(weights) -> np.ndarray:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, (Sequence, np.ndarray, pd.Index, pd.Series)):
        raise ValueError(f"weights must be a sequence of numbers in [0, 1], got {weights!r}")
    values = [_check_weight(w.item() if isinstance(w, np.generic) else w) for w in weights]
    if not values:
        raise ValueError("weights is empty")
    if len(set(values)) != len(values):
        raise ValueError("weights contains the same weight twice")
    return np.asarray(values, dtype=float)


def weighted_soft_vote(p_v1, p_v2, weight: float) -> np.ndarray:
    """The weighted average of two models' phishing probabilities.

    Parameters
    ----------
    p_v1, p_v2 : array-like of float, shape (n_emails,)
        Each model's probability that an email is phishing, in [0, 1].
    weight : float
        The weight of v2.0, in [0, 1]: 0 is v1.0 alone, 1 is v2.0 alone.

    Returns
    -------
    numpy.ndarray of float, shape (n_emails,)
        ``(1 - weight) * p_v1 + weight * p_v2``, in [0, 1].
    """
    w = _check_weight(weight)
    first, second = _check_probabilities(p_v1, p_v2)
    # Clipping guards the endpoints against rounding (0.7 * 1 + 0.3 * 1 can be 1 + 1e-16).
    return np.clip((1 - w) * first + w * second, 0.0, 1.0)


def weighted_hard_vote(pred_v1, pred_v2, weight: float, tie: str = "legitimate") -> np.ndarray:
    """Weighted majority vote of two models' 0/1 decisions.

    An email is flagged when the weight voting "phishing",
    ``(1 - weight) * pred_v1 + weight * pred_v2``, is over one half. Exactly
    one half -- the two models disagree at ``weight = 0.5`` -- is a tie,
    settled by ``tie``. So ``weight < 0.5`` gives v1.0's decisions,
    ``weight > 0.5`` v2.0's, and ``weight = 0.5`` their AND
    (``tie="legitimate"``) or their OR (``tie="phishing"``).

    Parameters
    ----------
    pred_v1, pred_v2 : array-like of 0/1, shape (n_emails,)
        Each model's decision (1 = flagged as phishing).
    weight : float
        The weight of v2.0's vote, in [0, 1].
    tie : {"legitimate", "phishing"}, default="legitimate"
        The decision when the votes weigh exactly one half each.

    Returns
    -------
    numpy.ndarray of int64, shape (n_emails,)
        The ensemble's 0/1 decisions.
    """
    w = _check_weight(weight)
    if tie not in TIE_RULES:
        raise ValueError(f"tie must be one of {list(TIE_RULES)}, got {tie!r}")
    first, second = _check_decisions(pred_v1, pred_v2)
    score = (1 - w) * first + w * second
    is_tie = np.abs(score - 0.5) <= _TIE_TOLERANCE
    flagged = (score > 0.5) & ~is_tie
    if tie == "phishing":
        flagged |= is_tie
    return flagged.astype(np.int64)


def interpolated_threshold(weight: float, threshold_v1: float, threshold_v2: float) -> float:
    """The two models' thresholds blended with the same weight as their probabilities.

    ``(1 - weight) * threshold_v1 + weight * threshold_v2``: at the ends it is
    each model's own threshold, so weight 0 is exactly v1.0 and weight 1
    exactly v2.0. In between it promises nothing about the false-positive rate.
    """
    w = _check_weight(weight)
    low = _check_threshold(threshold_v1, "threshold_v1")
    high = _check_threshold(threshold_v2, "threshold_v2")
    return (1 - w) * low + w * high


def budget_thresholds(y_true, p_v1, p_v2, weights, max_fpr: float) -> np.ndarray:
    """For every weight, the lowest soft-vote threshold within a false-positive budget.

    The thresholds are set on *calibration* emails, never on the test set:
    :func:`phishlab.retraining.threshold_for_fpr` of each weight's soft vote.

    Parameters
    ----------
    y_true : array-like of 0/1, shape (n_emails,)
        Labels of the calibration emails (only the legitimate ones matter).
    p_v1, p_v2 : array-like of float, shape (n_emails,)
        The models' probabilities on the calibration emails.
    weights : sequence of float
        Weights of v2.0, each in [0, 1], no repeats.
    max_fpr : float
        The budget, in [0, 1).

    Returns
    -------
    numpy.ndarray of float, shape (len(weights),)
    """
    grid = _check_weights(weights)
    first, second = _check_probabilities(p_v1, p_v2)
    truth = np.asarray(y_true)
    if truth.shape != first.shape:
        raise ValueError(f"y_true and the probabilities differ in shape: {truth.shape} vs {first.shape}")
    return np.array([threshold_for_fpr(truth, weighted_soft_vote(first, second, w), max_fpr) for w in grid])


def decision_metrics(y_true, decisions: Mapping[str, Sequence[int]]) -> pd.DataFrame:
    """TPR, FPR, precision and F1 of several sets of 0/1 decisions on the same emails.

    Parameters
    ----------
    y_true : array-like of 0/1
        True labels.
    decisions : mapping of str to array-like of 0/1
        ``{rule name: decisions}``, each as long as ``y_true``.

    Returns
    -------
    pandas.DataFrame
        One row per rule (in the mapping's order), columns :data:`METRICS`.
    """
    if not isinstance(decisions, Mapping) or not decisions:
        raise ValueError("decisions must be a non-empty mapping of rule name to 0/1 decisions")
    rows = {name: rates_from_counts(**confusion_counts(y_true, pred)) for name, pred in decisions.items()}
    return pd.DataFrame.from_dict(rows, orient="index")[list(METRICS)]


def paired_comparison(y_true, pred_a, pred_b) -> dict[str, float | int]:
    """McNemar's exact test of two sets of decisions on the same emails.

    Only the discordant emails -- one rule right, the other wrong -- carry
    evidence; under "equally good" each is a fair coin (Chapter 5).

    Parameters
    ----------
    y_true : array-like of 0/1
        True labels.
    pred_a, pred_b : array-like of 0/1
        The two rules' decisions on the same emails.

    Returns
    -------
    dict
        ``only_a_right`` and ``only_b_right`` (int) and the two-sided exact
        ``p_value`` (1.0 when the rules never disagree on correctness).
    """
    truth, first = _check_decisions(y_true, pred_a, ("y_true", "pred_a"))
    _, second = _check_decisions(y_true, pred_b, ("y_true", "pred_b"))
    right_a, right_b = first == truth, second == truth
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    p_value = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return {"only_a_right": only_a, "only_b_right": only_b, "p_value": p_value}


def sweep_weights(y_true, p_v1, p_v2, weights, thresholds) -> pd.DataFrame:
    """Metrics of the soft vote for every weight of a grid.

    Parameters
    ----------
    y_true : array-like of 0/1, shape (n_emails,)
        True labels of the test emails.
    p_v1, p_v2 : array-like of float, shape (n_emails,)
        The models' probabilities on the same emails.
    weights : sequence of float
        Weights of v2.0, each in [0, 1], no repeats.
    thresholds : float or sequence of float
        One threshold for every weight, or one per weight (same order); an
        email is flagged when its soft vote is at least the threshold.

    Returns
    -------
    pandas.DataFrame
        One row per weight in the given order: ``weight``, ``threshold`` and
        :data:`METRICS`.
    """
    grid = _check_weights(weights)
    first, second = _check_probabilities(p_v1, p_v2)
    if isinstance(thresholds, Real) and not isinstance(thresholds, bool):
        cuts = [_check_threshold(thresholds)] * grid.size
    else:
        if isinstance(thresholds, (str, bytes)) or not isinstance(
                thresholds, (Sequence, np.ndarray, pd.Index, pd.Series)):
            raise ValueError(f"thresholds must be a number or a sequence of numbers, got {thresholds!r}")
        if len(thresholds) != grid.size:
            raise ValueError(f"thresholds has {len(thresholds)} values for {grid.size} weights")
        cuts = [_check_threshold(t.item() if isinstance(t, np.generic) else t) for t in thresholds]
    rows = []
    for weight, cut in zip(grid, cuts, strict=True):
        flagged = (weighted_soft_vote(first, second, weight) >= cut).astype(np.int64)
        rows.append({"weight": float(weight), "threshold": cut,
                     **rates_from_counts(**confusion_counts(y_true, flagged))})
    return pd.DataFrame(rows, columns=["weight", "threshold", *METRICS])


def best_weight(sweep: pd.DataFrame, metric: str = "f1") -> float:
    """The weight of a sweep with the highest ``metric``.

    Ties go to the weight nearest an end of the grid -- a single model where
    possible, since one model is cheaper to run, monitor and explain than two
    -- and between equally near weights to the one nearer v2.0, the newer model.

    Parameters
    ----------
    sweep : pandas.DataFrame
        Output of :func:`sweep_weights`.
    metric : str, default="f1"
        One of :data:`METRICS` except ``fpr`` (lower is better there).

    Returns
    -------
    float
    """
    if metric not in METRICS or metric == "fpr":
        raise ValueError(f"metric must be one of {[m for m in METRICS if m != 'fpr']}, got {metric!r}")
    if not isinstance(sweep, pd.DataFrame) or sweep.empty or not {"weight", metric} <= set(sweep.columns):
        raise ValueError(f"sweep must be a non-empty output of sweep_weights with a {metric!r} column")
    values = sweep[metric].to_numpy(dtype=float)
    if np.isnan(values).all():
        raise ValueError(f"every {metric} of the sweep is NaN")
    weights = sweep["weight"].to_numpy(dtype=float)
    best = np.flatnonzero(values == np.nanmax(values))
    # Sort the tied weights by distance to the nearer end, then nearer v2.0 first.
    order = np.lexsort((-weights[best], np.minimum(weights[best], 1 - weights[best])))
    return float(weights[best][order[0]])


def november_test_data(n_emails: int = 2000, random_state: int = NOVEMBER_TEST_SEED) -> pd.DataFrame:
    """Labelled November 2024 emails (10 % phishing) under :data:`~phishlab.scenarios.MULTI_WAVE_DRIFT`.

    The August adaptation and the November wave (link and domain obfuscation)
    are in effect: drift v2.0, trained on August, has never seen. Ids start
    with ``nov-``.

    Parameters
    ----------
    n_emails : int, default=2000
        Number of emails.
    random_state : int, default=NOVEMBER_TEST_SEED
        Seed; the same seed gives the same emails.
    """
    if isinstance(n_emails, bool) or not isinstance(n_emails, Integral) or n_emails < 20:
        raise ValueError(f"n_emails must be an int of at least 20 (so both classes occur), got {n_emails!r}")
    return generate_training_set(
        n_emails=int(n_emails), phishing_rate=0.10, start=NOVEMBER_START, end=NOVEMBER_END,
        scenario=MULTI_WAVE_DRIFT, random_state=random_state, id_prefix="nov-",
    )
