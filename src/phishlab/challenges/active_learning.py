"""Pool-based active learning: which production emails should the analysts label?

After the attackers adapt, the team can label only a few hundred of the month's
emails. *Which* emails it labels decides how much the retrained model learns.
This module compares labelling strategies in the standard pool-based, batch-mode
formulation: label a batch of the pool, retrain on the original training data
plus every label so far, re-score the rest of the pool with the new model, pick
the next batch.

Three strategies are built in (:data:`STRATEGIES`):

* ``"uncertainty"`` -- the emails whose current phishing probability is closest
  to 0.5, where the model is least sure (:func:`uncertainty_sample`);
* ``"random"`` -- a uniform random sample of the unlabelled emails;
* ``"top-confidence"`` -- the highest phishing probabilities, the order in which
  a security operations centre works its alert queue
  (:func:`top_confidence_sample`).

A strategy may also be any function ``sampler(probabilities, n, already_labelled)``
returning the indices of the ``n`` emails to label next.

Every model is judged at a fixed false-positive budget: its threshold is the
lowest whose false-positive rate on held-out legitimate mail stays within
``max_fpr`` (:func:`phishlab.retraining.threshold_for_fpr`), and its TPR and FPR
are then measured on a separate, later validation set (:func:`operating_point`).
Comparing TPRs at one fixed threshold instead would mix two effects, since
labels that add phishing also move every probability up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline

from phishlab.retraining import threshold_for_fpr
from phishlab.simulation import FEATURES
from phishlab.training import check_labelled_frame, predict_proba, train_model

__all__ = [
    "CURVE_COLUMNS",
    "FAST_FOREST",
    "STRATEGIES",
    "labels_to_reach",
    "learning_curves",
    "operating_point",
    "random_sample",
    "run_active_learning",
    "summarise_curves",
    "top_confidence_sample",
    "uncertainty_sample",
]

STRATEGIES: tuple[str, ...] = ("uncertainty", "random", "top-confidence")
"""The built-in labelling strategies."""

FAST_FOREST: Mapping[str, Any] = {"n_estimators": 30, "min_samples_leaf": 3}
"""Forest settings of the many small models an experiment trains.

An experiment retrains dozens of times; 30 trees keep each fit to a fraction of
a second, and leaves of at least 3 emails give smoother probabilities than the
baseline's single-email leaves, which matters when the strategy is "closest to 0.5".
"""

CURVE_COLUMNS: tuple[str, ...] = (
    "strategy",
    "seed",
    "n_labels",
    "tpr",
    "fpr",
    "threshold",
    "phishing_labelled",
    "missed_phishing_labelled",
)
"""Columns of :func:`run_active_learning`'s result: one row per model.

``phishing_labelled`` counts the phishing emails among the labels so far;
``missed_phishing_labelled`` those that the model which chose them did *not*
flag at its threshold -- the model's own errors, the labels that can correct it.
"""

Sampler = Callable[[np.ndarray, int, np.ndarray], np.ndarray]


# --- samplers -------------------------------------------------------------------------------------------


def _check_probabilities(probabilities) -> np.ndarray:
    values = np.asarray(probabilities, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"probabilities must be 1-D, got shape {values.shape}")
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError("probabilities must be finite numbers in [0, 1]")
    return values


def _unlabelled(probabilities, n: int, already_labelled) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate a sampler's arguments; return the probabilities, the unlabelled indices and ``n``."""
    values = _check_probabilities(probabilities)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    labelled = np.asarray([] if already_labelled is None else already_labelled)
    if labelled.size and (labelled.ndim != 1 or not np.issubdtype(labelled.dtype, np.integer)):
        raise ValueError("already_labelled must be a 1-D sequence of integer indices")
    labelled = labelled.astype(np.int64)
    if labelled.size and (labelled.min() < 0 or labelled.max() >= values.size):
        raise ValueError(f"already_labelled holds indices outside 0..{values.size - 1}")
    mask = np.ones(values.size, dtype=bool)
    mask[labelled] = False
    candidates = np.flatnonzero(mask)
    if n > candidates.size:
        raise ValueError(f"cannot choose n={n} emails: only {candidates.size} are unlabelled")
    return values, candidates, int(n)


def uncertainty_sample(probabilities, n: int, already_labelled=None) -> np.ndarray:
    """Indices of the ``n`` unlabelled items whose probability is closest to 0.5.

    Parameters
    ----------
    probabilities : array-like of float, shape (n_items,)
        The current model's phishing probability of every item of the pool.
    n : int
        How many items to choose.
    already_labelled : array-like of int, optional
        Indices of items labelled before; they are never chosen again.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Indices into ``probabilities``, closest to 0.5 first; items equally
        close keep their order in the pool (the lower index comes first).
    """
    values, candidates, n = _unlabelled(probabilities, n, already_labelled)
    order = np.argsort(np.abs(values[candidates] - 0.5), kind="stable")
    return candidates[order[:n]].astype(np.int64)


def top_confidence_sample(probabilities, n: int, already_labelled=None) -> np.ndarray:
    """Indices of the ``n`` unlabelled items with the highest probability, highest first.

    Ties keep pool order. Parameters and result as :func:`uncertainty_sample`.
    """
    values, candidates, n = _unlabelled(probabilities, n, already_labelled)
    order = np.argsort(-values[candidates], kind="stable")
    return candidates[order[:n]].astype(np.int64)


def random_sample(probabilities, n: int, already_labelled=None, random_state: int = 0) -> np.ndarray:
    """Indices of ``n`` unlabelled items drawn uniformly without replacement.

    The probabilities are ignored except for their number. Parameters and
    result as :func:`uncertainty_sample`, plus

    random_state : int or numpy.random.Generator, default=0
        Seed, or a generator to draw from (an experiment passes one so that
        successive batches are different draws).
    """
    _, candidates, n = _unlabelled(probabilities, n, already_labelled)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    return rng.choice(candidates, size=n, replace=False).astype(np.int64)


def _sampler(strategy: str | Sampler, rng: np.random.Generator) -> Sampler:
    if callable(strategy):
        return strategy
    if strategy == "uncertainty":
        return uncertainty_sample
    if strategy == "top-confidence":
        return top_confidence_sample
    if strategy == "random":
        return lambda p, n, labelled: random_sample(p, n, labelled, random_state=rng)
    raise ValueError(f"strategy must be one of {list(STRATEGIES)} or a function, got {strategy!r}")


# --- models and their operating point -------------------------------------------------------------------


def operating_point(
    model: Pipeline, validation: pd.DataFrame, calibration_legitimate: pd.DataFrame, max_fpr: float
) -> dict[str, float]:
    """TPR and FPR on ``validation`` at the threshold that spends the false-positive budget.

    Parameters
    ----------
    model : fitted pipeline
    validation : pandas.DataFrame
        Labelled emails the model has not seen, with both classes.
    calibration_legitimate : pandas.DataFrame
        Legitimate emails the model has not seen, for setting the threshold;
        a budget of a few per cent needs a few thousand of them.
    max_fpr : float
        The false-positive budget, in (0, 1).

    Returns
    -------
    dict
        ``threshold``, ``tpr`` and ``fpr`` (the FPR is measured on
        ``validation``, so it is near, not exactly at, the budget).
    """
    if isinstance(max_fpr, bool) or not isinstance(max_fpr, Real) or not 0 < max_fpr < 1:
        raise ValueError(f"max_fpr must be a number in (0, 1), got {max_fpr!r}")
    check_labelled_frame(validation)
    truth = validation["label"].to_numpy()
    if truth.min() == truth.max():
        raise ValueError("validation must contain both legitimate and phishing emails")
    check_labelled_frame(calibration_legitimate, need_label=False)
    if "label" in calibration_legitimate.columns and calibration_legitimate["label"].any():
        raise ValueError("calibration_legitimate must hold legitimate emails only (label 0)")
    legitimate_scores = predict_proba(model, calibration_legitimate)
    threshold = threshold_for_fpr(np.zeros(legitimate_scores.size, dtype=np.int64), legitimate_scores, max_fpr)
    flagged = predict_proba(model, validation) >= threshold
    return {
        "threshold": float(threshold),
        "tpr": float(flagged[truth == 1].mean()),
        "fpr": float(flagged[truth == 0].mean()),
    }


def _check_budgets(budgets: Sequence[int], pool_size: int) -> list[int]:
    values = list(budgets) if not isinstance(budgets, (str, bytes)) else []
    if not values or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) for b in values):
        raise ValueError(f"budgets must be a non-empty sequence of ints, got {budgets!r}")
    if values[0] < 1 or any(b >= a for a, b in zip(values[1:], values[:-1])):
        raise ValueError(f"budgets must be positive and strictly increasing, got {list(budgets)}")
    if values[-1] > pool_size:
        raise ValueError(f"the largest budget ({values[-1]}) exceeds the pool of {pool_size} emails")
    return [int(b) for b in values]


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seeds must be non-negative ints, got {seed!r}")
    return int(seed)


def run_active_learning(
    base: pd.DataFrame,
    pool: pd.DataFrame,
    validation: pd.DataFrame,
    calibration_legitimate: pd.DataFrame,
    strategies: Sequence[str] | Mapping[str, str | Sampler] = STRATEGIES,
    budgets: Sequence[int] = (25, 50, 100, 200, 400),
    max_fpr: float = 0.01,
    random_state: int = 0,
    base_size: int | None = None,
    **forest_params: Any,
) -> pd.DataFrame:
    """Batch-mode, pool-based active learning with each strategy, from one starting model.

    The starting model is trained on ``base`` alone. Each strategy then
    labels the pool in batches up to each budget: the batch that takes it from
    one budget to the next is chosen by the model trained on ``base`` plus every
    label so far, which is then retrained and judged by :func:`operating_point`.

    Parameters
    ----------
    base : pandas.DataFrame
        The original labelled training set (here: January).
    pool : pandas.DataFrame
        Emails that may be labelled (here: August production mail). Their
        ``label`` plays the analyst: it is only read for the emails chosen.
    validation : pandas.DataFrame
        Later labelled emails the models are judged on (here: September).
    calibration_legitimate : pandas.DataFrame
        Held-out legitimate emails that set each model's threshold.
    strategies : sequence of str or mapping of str to (str or function), default=STRATEGIES
        Built-in strategy names, or ``{name: strategy}`` where a strategy is a
        built-in name or a function ``sampler(probabilities, n, already_labelled)``.
    budgets : sequence of int, default=(25, 50, 100, 200, 400)
        Strictly increasing numbers of labelled emails at which a model is
        trained and judged; the curve also starts at 0 labels.
    max_fpr : float, default=0.01
        The false-positive budget of :func:`operating_point`.
    random_state : int, default=0
        Seed of the subsample of ``base``, of SMOTE and the forests, and of the
        random strategy.
    base_size : int, optional
        Train on a random subsample of this many ``base`` emails (faster, and
        the August labels weigh more); None keeps all of ``base``.
    **forest_params
        Random-forest settings, over :data:`FAST_FOREST`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CURVE_COLUMNS`, one row per strategy and number of
        labels (0 first); ``seed`` is ``random_state``.
    """
    seed = _check_seed(random_state)
    for name, frame in (("base", base), ("pool", pool)):
        try:
            check_labelled_frame(frame)
        except ValueError as exc:
            raise ValueError(f"the {name} data is not usable: {exc}") from exc
    plan = _check_budgets(budgets, len(pool))
    named = dict(strategies) if isinstance(strategies, Mapping) else {s: s for s in strategies}
    if not named:
        raise ValueError("no strategy to run")
    for name, strategy in named.items():
        if not callable(strategy) and strategy not in STRATEGIES:
            raise ValueError(f"strategy {name!r} must be one of {list(STRATEGIES)} or a function, got {strategy!r}")
    if base_size is not None:
        if isinstance(base_size, bool) or not isinstance(base_size, (int, np.integer)) or not 0 < base_size:
            raise ValueError(f"base_size must be a positive int or None, got {base_size!r}")
        if base_size < len(base):
            base = base.sample(int(base_size), random_state=seed)
    params = {**FAST_FOREST, **forest_params}
    features = list(FEATURES)
    base = base[[*features, "label"]]
    pool = pool[[*features, "label"]].reset_index(drop=True)
    truth = pool["label"].to_numpy()

    def fit(labelled: np.ndarray) -> Pipeline:
        return train_model(pd.concat([base, pool.iloc[labelled]], ignore_index=True), random_state=seed, **params)

    start = fit(np.array([], dtype=np.int64))
    start_point = operating_point(start, validation, calibration_legitimate, max_fpr)
    rows = []
    for position, (name, strategy) in enumerate(named.items()):
        rng = np.random.default_rng([seed, position])
        sampler = _sampler(strategy, rng)
        model, point = start, start_point
        labelled = np.array([], dtype=np.int64)
        missed = 0
        rows.append(_row(name, seed, labelled, point, truth, missed))
        for budget in plan:
            probabilities = predict_proba(model, pool)
            batch = np.asarray(sampler(probabilities, budget - labelled.size, labelled), dtype=np.int64)
            if batch.size != budget - labelled.size or np.intersect1d(batch, labelled).size \
                    or np.unique(batch).size != batch.size:
                raise ValueError(f"strategy {name!r} must return {budget - labelled.size} new, distinct indices")
            # The chooser's own errors: phishing it scored below its threshold.
            missed += int(((truth[batch] == 1) & (probabilities[batch] < point["threshold"])).sum())
            labelled = np.concatenate([labelled, batch])
            model = fit(labelled)
            point = operating_point(model, validation, calibration_legitimate, max_fpr)
            rows.append(_row(name, seed, labelled, point, truth, missed))
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def _row(name: str, seed: int, labelled: np.ndarray, point: dict, truth: np.ndarray, missed: int) -> dict:
    return {
        "strategy": name,
        "seed": seed,
        "n_labels": int(labelled.size),
        "tpr": point["tpr"],
        "fpr": point["fpr"],
        "threshold": point["threshold"],
        "phishing_labelled": int(truth[labelled].sum()),
        "missed_phishing_labelled": missed,
    }


def learning_curves(
    base: pd.DataFrame,
    pool: pd.DataFrame,
    validation: pd.DataFrame,
    calibration_legitimate: pd.DataFrame,
    seeds: Sequence[int],
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`run_active_learning` once per seed, stacked.

    Parameters
    ----------
    base, pool, validation, calibration_legitimate
        See :func:`run_active_learning`.
    seeds : sequence of int
        Distinct seeds; each gives another subsample of ``base``, other forests
        and other random batches.
    **kwargs
        Passed to :func:`run_active_learning`.
    """
    chosen = [_check_seed(s) for s in seeds] if not isinstance(seeds, (str, bytes)) else []
    if not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"seeds must be a non-empty sequence of distinct ints, got {seeds!r}")
    runs = [run_active_learning(base, pool, validation, calibration_legitimate, random_state=s, **kwargs)
            for s in chosen]
    return pd.concat(runs, ignore_index=True)


def summarise_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean, minimum and maximum over seeds of each strategy's curve.

    Parameters
    ----------
    curves : pandas.DataFrame
        Output of :func:`learning_curves` (or :func:`run_active_learning`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``strategy`` (in order of appearance) and ``n_labels``;
        columns ``tpr_mean``, ``tpr_min``, ``tpr_max``, ``fpr_mean``,
        ``phishing_labelled_mean``, ``missed_phishing_labelled_mean``, ``n_seeds``.
    """
    missing = [c for c in CURVE_COLUMNS if c not in getattr(curves, "columns", [])]
    if missing:
        raise ValueError(f"curves are missing column(s) {missing}; pass the output of learning_curves")
    if curves.empty:
        raise ValueError("curves are empty")
    order = list(dict.fromkeys(curves["strategy"]))
    grouped = curves.groupby(["strategy", "n_labels"], sort=False)
    summary = pd.DataFrame(
        {
            "tpr_mean": grouped["tpr"].mean(),
            "tpr_min": grouped["tpr"].min(),
            "tpr_max": grouped["tpr"].max(),
            "fpr_mean": grouped["fpr"].mean(),
            "phishing_labelled_mean": grouped["phishing_labelled"].mean(),
            "missed_phishing_labelled_mean": grouped["missed_phishing_labelled"].mean(),
            "n_seeds": grouped["seed"].nunique(),
        }
    )
    return summary.reindex(sorted(summary.index, key=lambda key: (order.index(key[0]), key[1])))


def labels_to_reach(curve, target: float) -> float:
    """The number of labels at which a learning curve first reaches ``target``.

    Between two measured points the curve is taken as a straight line, so the
    answer is interpolated linearly between the last point below the target
    and the first point at or above it.

    Parameters
    ----------
    curve : pandas.Series
        TPR (or any score) indexed by the number of labels, strictly increasing.
    target : float
        The score to reach.

    Returns
    -------
    float
        The interpolated number of labels; the first index if the curve starts
        at or above ``target``; NaN if the curve never reaches it.
    """
    if not isinstance(curve, pd.Series):
        raise ValueError(f"curve must be a pandas Series indexed by the number of labels, got {type(curve).__name__}")
    if curve.empty:
        raise ValueError("curve is empty")
    labels = np.asarray(curve.index, dtype=float)
    scores = curve.to_numpy(dtype=float)
    if not (np.isfinite(labels).all() and np.isfinite(scores).all()):
        raise ValueError("curve must hold finite numbers")
    if (np.diff(labels) <= 0).any():
        raise ValueError("curve's index (number of labels) must be strictly increasing")
    if isinstance(target, bool) or not isinstance(target, Real) or not np.isfinite(target):
        raise ValueError(f"target must be a finite number, got {target!r}")
    reached = np.flatnonzero(scores >= target)
    if reached.size == 0:
        return float("nan")
    first = reached[0]
    if first == 0:
        return float(labels[0])
    n0, n1, s0, s1 = labels[first - 1], labels[first], scores[first - 1], scores[first]
    return float(n0 + (target - s0) * (n1 - n0) / (s1 - s0))
