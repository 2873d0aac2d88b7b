"""Automated retraining: combine old and new labels, tune, pick an operating point.

Retraining produces two things, not one: a fitted pipeline (the same scaler ->
SMOTE -> random-forest pipeline as the baseline, see
:func:`phishlab.training.build_pipeline`) and the decision threshold it is
deployed with. Neither is chosen on emails the model was fitted on: settings
are compared on out-of-fold predictions of stratified cross-validation (SMOTE
only ever oversamples training folds), and the threshold on held-out mail.

Hyperparameters are chosen by out-of-fold average precision, which judges how
well a setting *ranks* phishing above legitimate mail. The threshold is chosen
afterwards for a false-positive budget: the lowest threshold whose
false-positive rate on a separate calibration set stays within ``max_fpr``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import ParameterGrid, StratifiedKFold, cross_val_predict

from phishlab.simulation import FEATURES
from phishlab.training import build_pipeline, check_labelled_frame, train_model

__all__ = [
    "DEFAULT_GRID",
    "RetrainResult",
    "combine_training_data",
    "out_of_fold_probabilities",
    "retrain",
    "search_settings",
    "threshold_for_fpr",
]

DEFAULT_GRID: Mapping[str, Sequence[Any]] = {
    "smote_ratio": (0.25, 0.5),
    "min_samples_leaf": (3, 10),
}
"""The small search grid: SMOTE's target ratio and the forest's leaf size."""


def combine_training_data(
    original: pd.DataFrame, new: pd.DataFrame, features: Sequence[str] = FEATURES
) -> pd.DataFrame:
    """Stack the original training set and newly labelled emails.

    Parameters
    ----------
    original, new : pandas.DataFrame
        Labelled emails with ``email_id``, ``features`` and ``label``.
    features : sequence of str, default=FEATURES
        Feature columns both frames must have.

    Returns
    -------
    pandas.DataFrame
        ``email_id``, the features, ``label`` and a ``source`` column
        (``"original"`` or ``"new"``), original rows first.
    """
    frames = []
    for name, frame in (("original", original), ("new", new)):
        try:
            check_labelled_frame(frame, features)
        except ValueError as exc:
            raise ValueError(f"the {name} data is not usable: {exc}") from exc
        if "email_id" not in frame.columns:
            raise ValueError(f"the {name} data has no 'email_id' column")
        frames.append(frame[["email_id", *features, "label"]].assign(source=name))
    combined = pd.concat(frames, ignore_index=True)
    duplicated = combined["email_id"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"{int(duplicated.sum())} email_id(s) appear in both data sets, "
            f"e.g. {combined.loc[duplicated, 'email_id'].iloc[0]!r}"
        )
    return combined


def threshold_for_fpr(y_true, scores, max_fpr: float) -> float:
    """The lowest threshold whose false-positive rate is at most ``max_fpr``.

    An email is flagged when its score is at least the threshold. With ``n``
    legitimate emails at most ``floor(max_fpr * n)`` of them may score at or
    above it; the threshold sits just above the next-highest legitimate score.

    Parameters
    ----------
    y_true : array-like of 0/1
        True labels; at least one must be 0.
    scores : array-like of float
        Phishing scores, in [0, 1].
    max_fpr : float
        The budget, in [0, 1).

    Returns
    -------
    float
        A threshold in (0, 1].
    """
    truth, values = np.asarray(y_true), np.asarray(scores, dtype=float)
    if truth.ndim != 1 or truth.shape != values.shape:
        raise ValueError(
            f"y_true and scores must be 1-D of equal length, got {truth.shape} and {values.shape}"
        )
    if not np.isin(truth, [0, 1]).all():
        raise ValueError("y_true must contain only 0 and 1")
    if not np.isfinite(values).all() or values.min(initial=0) < 0 or values.max(initial=0) > 1:
        raise ValueError("scores must be finite numbers in [0, 1]")
    if isinstance(max_fpr, bool) or not isinstance(max_fpr, Real) or not 0 <= max_fpr < 1:
        raise ValueError(f"max_fpr must be a number in [0, 1), got {max_fpr!r}")
    legitimate = np.sort(values[truth == 0])[::-1]
    if legitimate.size == 0:
        raise ValueError("y_true has no legitimate (0) email, so the false-positive rate is undefined")
    allowed = int(np.floor(max_fpr * legitimate.size + 1e-9))
    if allowed >= legitimate.size:
        return float(np.nextafter(0.0, 1.0))
    return float(min(np.nextafter(legitimate[allowed], np.inf), 1.0))


def _check_splits(n_splits: int) -> int:
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise ValueError(f"n_splits must be an int >= 2, got {n_splits!r}")
    return int(n_splits)


def out_of_fold_probabilities(
    data: pd.DataFrame,
    setting: Mapping[str, Any],
    n_splits: int = 4,
    random_state: int = 0,
    features: Sequence[str] = FEATURES,
) -> np.ndarray:
    """Phishing probabilities from stratified cross-validation.

    Each email is scored by the pipeline fitted on the other folds, so the
    scores are as honest as those of unseen mail.

    Parameters
    ----------
    data : pandas.DataFrame
        Labelled emails.
    setting : mapping
        ``smote_ratio`` (optional) and random-forest parameters for
        :func:`phishlab.training.build_pipeline`.
    n_splits : int, default=4
        Number of stratified folds (shuffled with ``random_state``).
    random_state : int, default=0
        Seed of the folds, SMOTE and the forest.
    features : sequence of str, default=FEATURES
        Feature columns.

    Returns
    -------
    numpy.ndarray
        One probability per row of ``data``.
    """
    check_labelled_frame(data, features)
    n_splits = _check_splits(n_splits)
    counts = data["label"].value_counts()
    if len(counts) < 2 or counts.min() < n_splits:
        raise ValueError(f"each class needs at least n_splits={n_splits} emails, got {counts.to_dict()}")
    params = dict(setting)
    smote_ratio = params.pop("smote_ratio", 1.0)
    # Every training fold must give SMOTE k neighbours inside the minority class.
    smallest_fold = int(counts.min() * (n_splits - 1) // n_splits)
    pipeline = build_pipeline(random_state, smote_ratio, min(5, smallest_fold - 1), **params)
    folds = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
    return cross_val_predict(
        pipeline, data[list(features)], data["label"].to_numpy(), cv=folds, method="predict_proba"
    )[:, 1]


def search_settings(
    data: pd.DataFrame,
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
    n_splits: int = 4,
    random_state: int = 0,
    features: Sequence[str] = FEATURES,
    **fixed: Any,
) -> pd.DataFrame:
    """Out-of-fold quality of every setting of ``grid``.

    Settings are ranked by average precision (the area under the
    precision-recall curve), which judges the *ranking* of emails and so does
    not depend on a threshold: the threshold is chosen afterwards, for the
    false-positive budget (see :func:`retrain`).

    Parameters
    ----------
    data : pandas.DataFrame
        Labelled emails.
    grid : mapping of str to sequence, default=DEFAULT_GRID
        Values to try: ``smote_ratio`` and random-forest parameters.
    n_splits, random_state, features
        See :func:`out_of_fold_probabilities`.
    **fixed
        Forest parameters shared by every setting, e.g. ``n_estimators=150``.

    Returns
    -------
    pandas.DataFrame
        One row per setting: its parameters, out-of-fold ``average_precision``
        and ``roc_auc``, and ``tpr``, ``fpr``, ``f1`` at threshold 0.5; sorted
        by ``average_precision`` (best first; ties keep grid order). The
        index, named ``setting``, is the setting's position in
        ``sklearn.model_selection.ParameterGrid(grid)``.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping of parameter names to lists, got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid entry {name!r} must be a non-empty list of values, got {values!r}")
    rows = []
    for setting in ParameterGrid({name: list(values) for name, values in grid.items()}):
        scores = out_of_fold_probabilities(data, {**fixed, **setting}, n_splits, random_state, features)
        truth = data["label"].to_numpy()
        flagged = scores >= 0.5
        tp = int(np.sum(flagged & (truth == 1)))
        fp = int(np.sum(flagged & (truth == 0)))
        fn = int(np.sum(~flagged & (truth == 1)))
        rows.append(
            {
                **setting,
                "average_precision": float(average_precision_score(truth, scores)),
                "roc_auc": float(roc_auc_score(truth, scores)),
                "tpr": tp / (tp + fn),
                "fpr": fp / int(np.sum(truth == 0)),
                "f1": 2 * tp / (2 * tp + fp + fn),
            }
        )
    table = pd.DataFrame(rows).rename_axis("setting")
    return table.sort_values("average_precision", ascending=False, kind="stable")


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` produces.

    Attributes
    ----------
    model : imblearn.pipeline.Pipeline
        The pipeline refitted on all the data with the winning setting.
    threshold : float
        Its decision threshold.
    setting : dict
        The winning ``smote_ratio`` and forest parameters.
    search : pandas.DataFrame
        Every setting's out-of-fold results (:func:`search_settings`).
    """

    model: Pipeline
    threshold: float
    setting: dict
    search: pd.DataFrame


def retrain(
    data: pd.DataFrame,
    calibration: pd.DataFrame,
    max_fpr: float,
    grid: Mapping[str, Sequence[Any]] = DEFAULT_GRID,
    n_splits: int = 4,
    random_state: int = 0,
    features: Sequence[str] = FEATURES,
    **fixed: Any,
) -> RetrainResult:
    """Search ``grid``, refit the best setting on all of ``data``, set its threshold.

    Parameters
    ----------
    data : pandas.DataFrame
        Labelled training emails.
    calibration : pandas.DataFrame
        Labelled emails the model is *not* trained on, with many legitimate
        ones: the threshold is the lowest whose false-positive rate on them
        is at most ``max_fpr`` (:func:`threshold_for_fpr`). A rate of a few
        per thousand needs thousands of legitimate emails to be estimated.
    max_fpr : float
        The false-positive budget.
    grid, n_splits, random_state, features, **fixed
        See :func:`search_settings`.

    Returns
    -------
    RetrainResult
    """
    check_labelled_frame(calibration, features)
    search = search_settings(data, grid, n_splits, random_state, features, **fixed)
    setting = dict(ParameterGrid({name: list(values) for name, values in grid.items()})[search.index[0]])
    params = {**fixed, **setting}
    smote_ratio = params.pop("smote_ratio", 1.0)
    model = train_model(data, features, random_state=random_state, smote_ratio=smote_ratio, **params)
    scores = model.predict_proba(calibration[list(features)])[:, 1]
    threshold = threshold_for_fpr(calibration["label"].to_numpy(), scores, max_fpr)
    return RetrainResult(model, threshold, setting, search)
