"""Model training and evaluation: scaling + SMOTE + random forest.

The whole model is one imbalanced-learn :class:`~imblearn.pipeline.Pipeline`
so that SMOTE only ever sees training folds (it is skipped at prediction time)
and the scaler fitted on the training data travels with the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import StandardScaler

from phishlab.simulation import FEATURES

__all__ = [
    "DEFAULT_FOREST_PARAMS",
    "build_pipeline",
    "check_labelled_frame",
    "evaluate_model",
    "predict_proba",
    "train_model",
]

DEFAULT_FOREST_PARAMS: Mapping[str, Any] = {
    "n_estimators": 200,
    "max_depth": None,
    "min_samples_leaf": 1,
}
"""Random-forest settings of the baseline model v1.0."""


def build_pipeline(
    random_state: int = 0,
    smote_ratio: float = 1.0,
    k_neighbors: int = 5,
    **forest_params: Any,
) -> Pipeline:
    """An unfitted scaler -> SMOTE -> random-forest pipeline.

    Parameters
    ----------
    random_state : int, default=0
        Seed for SMOTE and the forest.
    smote_ratio : float, default=1.0
        Desired ratio of phishing to legitimate emails after oversampling
        (imbalanced-learn's ``sampling_strategy``), in (0, 1].
    k_neighbors : int, default=5
        Neighbours SMOTE interpolates between.
    **forest_params
        Passed to :class:`~sklearn.ensemble.RandomForestClassifier`, over
        :data:`DEFAULT_FOREST_PARAMS`.

    Returns
    -------
    imblearn.pipeline.Pipeline
        Steps ``scaler``, ``smote``, ``model``.
    """
    if not 0 < smote_ratio <= 1:
        raise ValueError(f"smote_ratio must be in (0, 1], got {smote_ratio}")
    if k_neighbors < 1:
        raise ValueError(f"k_neighbors must be >= 1, got {k_neighbors}")
    params = {**DEFAULT_FOREST_PARAMS, **forest_params}
    # One thread: forests trained with n_jobs > 1 give the same trees, but a
    # single thread keeps timings comparable on small teaching machines.
    params.setdefault("n_jobs", 1)
    return Pipeline(
        [
            ("scaler", StandardScaler()),
            (
                "smote",
                SMOTE(
                    sampling_strategy=smote_ratio,
                    k_neighbors=k_neighbors,
                    random_state=random_state,
                ),
            ),
            ("model", RandomForestClassifier(random_state=random_state, **params)),
        ]
    )


def check_labelled_frame(
    data: pd.DataFrame, features: Sequence[str] = FEATURES, need_label: bool = True
) -> None:
    """Raise ``ValueError`` unless ``data`` is a non-empty frame with the columns we need.

    Parameters
    ----------
    data : pandas.DataFrame
        Emails.
    features : sequence of str
        Feature columns that must be present and numeric without NaN.
    need_label : bool, default=True
        Whether a 0/1 ``label`` column is required too.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(data).__name__}")
    if data.empty:
        raise ValueError("the data frame is empty")
    required = list(features) + (["label"] if need_label else [])
    missing = [column for column in required if column not in data.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(data.columns)}")
    for column in features:
        if not pd.api.types.is_numeric_dtype(data[column]):
            raise ValueError(f"feature {column!r} must be numeric, got dtype {data[column].dtype}")
        if data[column].isna().any():
            raise ValueError(f"feature {column!r} contains missing values")
        if np.isinf(data[column].to_numpy(dtype=float)).any():
            raise ValueError(f"feature {column!r} contains infinite values")
    if need_label and not data["label"].isin([0, 1]).all():
        raise ValueError("label must contain only 0 (legitimate) and 1 (phishing)")


def train_model(
    data: pd.DataFrame,
    features: Sequence[str] = FEATURES,
    random_state: int = 0,
    smote_ratio: float = 1.0,
    **forest_params: Any,
) -> Pipeline:
    """Fit :func:`build_pipeline` on labelled emails.

    Parameters
    ----------
    data : pandas.DataFrame
        Must contain ``features`` and a 0/1 ``label`` with both classes.
    features : sequence of str, default=FEATURES
        Feature columns, in the order the model will expect them.
    random_state : int, default=0
        Seed for SMOTE and the forest.
    smote_ratio : float, default=1.0
        See :func:`build_pipeline`.
    **forest_params
        See :func:`build_pipeline`.

    Returns
    -------
    imblearn.pipeline.Pipeline
        The fitted pipeline.
    """
    if isinstance(features, str) or not list(features):
        raise ValueError(f"features must be a non-empty list of column names, got {features!r}")
    check_labelled_frame(data, features)
    counts = data["label"].value_counts()
    if len(counts) < 2:
        raise ValueError("training data must contain both legitimate (0) and phishing (1) emails")
    minority, majority = int(counts.min()), int(counts.max())
    k_neighbors = min(5, minority - 1)
    if k_neighbors < 1:
        raise ValueError(
            f"SMOTE needs at least 2 emails of each class, got {minority} in the smaller class"
        )
    if 0 < smote_ratio < minority / majority:
        # SMOTE only adds emails; imbalanced-learn's own error here does not name smote_ratio.
        raise ValueError(
            f"smote_ratio={smote_ratio} is below the class ratio the training data already has "
            f"({minority}/{majority} = {minority / majority:.3f}); SMOTE only adds emails, so "
            f"smote_ratio must be between {minority / majority:.3f} and 1"
        )
    pipeline = build_pipeline(random_state, smote_ratio, k_neighbors, **forest_params)
    pipeline.fit(data[list(features)], data["label"].to_numpy())
    return pipeline


def predict_proba(model: Pipeline, data: pd.DataFrame) -> np.ndarray:
    """Phishing probability for each row of ``data`` (labels not needed)."""
    features = list(getattr(model, "feature_names_in_", FEATURES))
    check_labelled_frame(data, features, need_label=False)
    return model.predict_proba(data[features])[:, 1]


def evaluate_model(
    model: Pipeline, data: pd.DataFrame, threshold: float = 0.5
) -> dict[str, Any]:
    """Standard metrics of ``model`` on labelled ``data``.

    Parameters
    ----------
    model : fitted pipeline
    data : pandas.DataFrame
        Labelled emails.
    threshold : float, default=0.5
        An email is flagged when its probability is at least ``threshold``.

    Returns
    -------
    dict
        ``roc_auc``, ``precision``, ``recall`` (= TPR), ``fpr``, ``f1`` as
        floats, ``confusion_matrix`` as nested lists ``[[tn, fp], [fn, tp]]``
        and ``n_emails``.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    check_labelled_frame(data, list(getattr(model, "feature_names_in_", FEATURES)))
    y_true = data["label"].to_numpy()
    proba = predict_proba(model, data)
    y_pred = (proba >= threshold).astype(int)
    (tn, fp), (fn, tp) = confusion_matrix(y_true, y_pred, labels=[0, 1])
    both_classes = len(np.unique(y_true)) == 2
    return {
        "roc_auc": float(roc_auc_score(y_true, proba)) if both_classes else float("nan"),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "fpr": float(fp / (fp + tn)) if fp + tn else float("nan"),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "confusion_matrix": [[int(tn), int(fp)], [int(fn), int(tp)]],
        "n_emails": len(data),
    }
