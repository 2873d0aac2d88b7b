"""Training and evaluation: the pipeline's shape, the baseline's quality and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler

from phishlab import course
from phishlab.simulation import FEATURES
from phishlab.training import (
    DEFAULT_FOREST_PARAMS,
    build_pipeline,
    evaluate_model,
    predict_proba,
    train_model,
)

METRIC_KEYS = {"roc_auc", "precision", "recall", "fpr", "f1", "confusion_matrix", "n_emails"}
FAST = {"n_estimators": 20}  # small forests where the size of the model does not matter


@pytest.fixture(scope="module")
def test_data() -> pd.DataFrame:
    return course.baseline_test_data()


# --- the pipeline ---------------------------------------------------------------------------------


def test_train_model_returns_a_fitted_scaler_smote_forest_pipeline(baseline_model):
    assert list(baseline_model.named_steps) == ["scaler", "smote", "model"]
    assert isinstance(baseline_model.named_steps["scaler"], StandardScaler)
    assert isinstance(baseline_model.named_steps["smote"], SMOTE)
    forest = baseline_model.named_steps["model"]
    assert isinstance(forest, RandomForestClassifier)
    assert list(forest.classes_) == [0, 1]
    assert forest.n_estimators == DEFAULT_FOREST_PARAMS["n_estimators"]
    assert list(baseline_model.feature_names_in_) == list(FEATURES)


def test_smote_oversamples_phishing_to_the_requested_ratio(training_data):
    x, y = training_data[list(FEATURES)], training_data["label"].to_numpy()
    assert np.bincount(y).tolist() == [900, 100]
    for ratio, expected_phishing in [(1.0, 900), (0.5, 450)]:
        pipeline = build_pipeline(random_state=0, smote_ratio=ratio)
        scaled = pipeline.named_steps["scaler"].fit_transform(x)
        _, resampled = pipeline.named_steps["smote"].fit_resample(scaled, y)
        assert np.bincount(resampled).tolist() == [900, expected_phishing]


def test_build_pipeline_passes_forest_settings_over_the_defaults():
    forest = build_pipeline(random_state=5, n_estimators=10, max_depth=3).named_steps["model"]
    assert (forest.n_estimators, forest.max_depth, forest.random_state) == (10, 3, 5)
    assert forest.n_jobs == 1
    default = build_pipeline().named_steps["model"]
    assert default.n_estimators == 200 and default.max_depth is None


def test_train_model_can_use_a_subset_of_features(training_data):
    model = train_model(training_data, features=["urgency_words", "sender_reputation"], **FAST)
    assert list(model.feature_names_in_) == ["urgency_words", "sender_reputation"]
    proba = predict_proba(model, training_data.drop(columns=["num_links"]))
    assert proba.shape == (len(training_data),)


# --- evaluation -----------------------------------------------------------------------------------


def test_evaluate_model_returns_the_documented_metrics(baseline_model, test_data):
    metrics = evaluate_model(baseline_model, test_data)
    assert set(metrics) == METRIC_KEYS
    for name in ("roc_auc", "precision", "recall", "fpr", "f1"):
        assert isinstance(metrics[name], float), name
        assert 0 <= metrics[name] <= 1, name
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    assert all(isinstance(count, int) for count in (tn, fp, fn, tp))
    assert tn + fp + fn + tp == metrics["n_emails"] == len(test_data)
    assert tp + fn == int(test_data["label"].sum())
    # The rates are those of the confusion matrix.
    assert metrics["recall"] == pytest.approx(tp / (tp + fn))
    assert metrics["precision"] == pytest.approx(tp / (tp + fp))
    assert metrics["fpr"] == pytest.approx(fp / (fp + tn))
    assert metrics["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))


def test_baseline_reaches_its_targets_on_held_out_january_mail(baseline):
    _, metrics = baseline
    assert metrics["n_emails"] == 2000
    assert metrics["roc_auc"] > 0.95
    assert metrics["recall"] > 0.85
    assert metrics["fpr"] < 0.05


def test_baseline_test_data_is_not_the_training_data(training_data, test_data):
    assert len(test_data) == 2000
    merged = training_data.merge(test_data, on=[*FEATURES, "label"])
    assert len(merged) < 10  # a handful of identical feature rows can happen by chance


def test_a_lower_threshold_flags_more_emails(baseline_model, test_data):
    strict = evaluate_model(baseline_model, test_data, threshold=0.9)
    lenient = evaluate_model(baseline_model, test_data, threshold=0.1)
    assert lenient["recall"] >= strict["recall"]
    assert lenient["fpr"] >= strict["fpr"]
    assert lenient["confusion_matrix"] != strict["confusion_matrix"]
    assert lenient["roc_auc"] == strict["roc_auc"]  # AUC does not depend on the threshold


def test_evaluation_flags_emails_at_exactly_the_threshold(baseline_model, test_data):
    proba = predict_proba(baseline_model, test_data)
    # A probability the forest actually outputs (a multiple of 1/200), so emails sit exactly on it.
    inner = pd.Series(proba[(proba > 0.05) & (proba < 0.95)])
    threshold = float(inner.value_counts().index[0])
    assert (proba == threshold).sum() >= 1
    metrics = evaluate_model(baseline_model, test_data, threshold=threshold)
    (_, fp), (_, tp) = metrics["confusion_matrix"]
    assert tp + fp == int((proba >= threshold).sum())
    assert tp + fp > int((proba > threshold).sum())


def test_evaluating_on_a_single_class_gives_nan_auc_not_an_error(baseline_model, test_data):
    legitimate = test_data[test_data["label"] == 0]
    metrics = evaluate_model(baseline_model, legitimate)
    assert math.isnan(metrics["roc_auc"])
    assert metrics["recall"] == 0.0
    assert 0 <= metrics["fpr"] <= 1


def test_predict_proba_needs_no_label_and_follows_the_models_column_order(baseline_model, test_data):
    expected = predict_proba(baseline_model, test_data)
    assert expected.shape == (len(test_data),)
    assert ((expected >= 0) & (expected <= 1)).all()
    shuffled = test_data.drop(columns="label")[list(reversed(test_data.columns.drop("label")))]
    np.testing.assert_array_equal(predict_proba(baseline_model, shuffled), expected)


# --- determinism --------------------------------------------------------------------------------


def test_same_seed_gives_identical_probabilities(training_data, test_data):
    first = predict_proba(train_model(training_data, random_state=3, **FAST), test_data)
    second = predict_proba(train_model(training_data, random_state=3, **FAST), test_data)
    np.testing.assert_array_equal(first, second)
    other = predict_proba(train_model(training_data, random_state=4, **FAST), test_data)
    assert not np.array_equal(first, other)


def test_train_baseline_is_reproducible(baseline, test_data):
    model, metrics = course.train_baseline()
    assert metrics == baseline[1]
    np.testing.assert_array_equal(predict_proba(model, test_data), predict_proba(baseline[0], test_data))


# --- bad input -------------------------------------------------------------------------------------


def _drop_num_links(frame):
    return frame.drop(columns="num_links")


def _empty(frame):
    return frame.iloc[:0]


def _text_feature(frame):
    return frame.assign(num_links=frame["num_links"].astype(str))


def _nan_feature(frame):
    frame["sender_reputation"] = frame["sender_reputation"].astype(float)
    frame.loc[frame.index[3], "sender_reputation"] = np.nan
    return frame


def _inf_feature(frame):
    frame.loc[frame.index[3], "sender_reputation"] = np.inf
    return frame


def _label_two(frame):
    frame.loc[frame.index[0], "label"] = 2
    return frame


def _no_label(frame):
    return frame.drop(columns="label")


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_drop_num_links, r"missing column\(s\) \['num_links'\]"),
        (_empty, r"the data frame is empty"),
        (_text_feature, r"feature 'num_links' must be numeric"),
        (_nan_feature, r"feature 'sender_reputation' contains missing values"),
        (_inf_feature, r"feature 'sender_reputation' contains infinite values"),
        (_label_two, r"label must contain only 0 \(legitimate\) and 1 \(phishing\)"),
        (_no_label, r"missing column\(s\) \['label'\]"),
    ],
    ids=["missing-feature", "empty", "text-feature", "nan-feature", "inf-feature", "label-2", "no-label"],
)
def test_train_model_rejects_bad_data_with_a_clear_message(training_frame, corrupt, message):
    with pytest.raises(ValueError, match=message):
        train_model(corrupt(training_frame), **FAST)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (_drop_num_links, r"missing column\(s\) \['num_links'\]"),
        (_nan_feature, r"feature 'sender_reputation' contains missing values"),
        (_inf_feature, r"feature 'sender_reputation' contains infinite values"),
        (_label_two, r"label must contain only 0"),
        (_empty, r"the data frame is empty"),
    ],
    ids=["missing-feature", "nan-feature", "inf-feature", "label-2", "empty"],
)
def test_evaluate_model_rejects_bad_data_with_a_clear_message(
    baseline_model, training_frame, corrupt, message
):
    with pytest.raises(ValueError, match=message):
        evaluate_model(baseline_model, corrupt(training_frame))


def test_predict_proba_rejects_a_frame_without_the_models_features(baseline_model, training_frame):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['num_links'\]"):
        predict_proba(baseline_model, training_frame.drop(columns="num_links"))


def test_train_model_rejects_a_single_class(training_frame):
    legitimate_only = training_frame[training_frame["label"] == 0]
    with pytest.raises(ValueError, match=r"both legitimate \(0\) and phishing \(1\) emails"):
        train_model(legitimate_only, **FAST)


def test_train_model_needs_two_emails_of_each_class_for_smote(training_frame):
    one_phishing = pd.concat(
        [training_frame[training_frame["label"] == 0], training_frame[training_frame["label"] == 1].head(1)]
    )
    with pytest.raises(ValueError, match=r"SMOTE needs at least 2 emails of each class, got 1"):
        train_model(one_phishing, **FAST)


def test_train_model_works_with_very_few_phishing_emails(training_frame):
    few = pd.concat(
        [training_frame[training_frame["label"] == 0], training_frame[training_frame["label"] == 1].head(3)]
    )
    model = train_model(few, **FAST)
    assert model.named_steps["smote"].k_neighbors == 2  # fewer neighbours than the usual 5


def test_train_model_rejects_a_frame_that_is_not_a_dataframe(training_data):
    with pytest.raises(ValueError, match=r"expected a pandas DataFrame, got ndarray"):
        train_model(training_data.to_numpy(), **FAST)


def test_train_model_rejects_an_empty_feature_list(training_data):
    with pytest.raises(ValueError, match=r"features must be a non-empty list of column names"):
        train_model(training_data, features=[], **FAST)


@pytest.mark.parametrize("threshold", [0, 1, -0.1, 1.5, float("nan")])
def test_evaluate_model_rejects_a_threshold_outside_zero_one(baseline_model, training_data, threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        evaluate_model(baseline_model, training_data, threshold=threshold)


@pytest.mark.parametrize("ratio", [0, -0.5, 1.01, 2, float("nan")])
def test_smote_ratio_outside_zero_one_is_rejected(training_data, ratio):
    with pytest.raises(ValueError, match=r"smote_ratio must be in \(0, 1\]"):
        build_pipeline(smote_ratio=ratio)
    with pytest.raises(ValueError, match=r"smote_ratio must be in \(0, 1\]"):
        train_model(training_data, smote_ratio=ratio, **FAST)


def test_smote_ratio_below_the_datas_own_ratio_is_rejected_clearly(training_data):
    # The data already has 100 phishing per 900 legitimate (0.111): SMOTE cannot reach 0.05.
    with pytest.raises(ValueError, match=r"smote_ratio=0.05 is below the class ratio .*100/900 = 0.111"):
        train_model(training_data, smote_ratio=0.05, **FAST)
    # At or above the data's ratio, training works.
    model = train_model(training_data, smote_ratio=0.2, **FAST)
    assert list(model.classes_) == [0, 1]


def test_build_pipeline_rejects_zero_neighbours():
    with pytest.raises(ValueError, match=r"k_neighbors must be >= 1, got 0"):
        build_pipeline(k_neighbors=0)
