"""Retraining: combining data, the FPR-budget threshold, the search and the refit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import ParameterGrid

from phishlab import course
from phishlab.retraining import (
    RetrainResult,
    combine_training_data,
    out_of_fold_probabilities,
    retrain,
    search_settings,
    threshold_for_fpr,
)
from phishlab.simulation import generate_training_set

FAST = {"n_estimators": 15}
SMALL_GRID = {"smote_ratio": (0.5, 1.0), "min_samples_leaf": (1,)}


@pytest.fixture(scope="module")
def august() -> pd.DataFrame:
    return generate_training_set(300, 0.2, "2024-08-01", "2024-08-31", scenario=course.DRIFT_SCENARIO,
                                 random_state=11, id_prefix="aug-")


@pytest.fixture(scope="module")
def combined(training_data, august) -> pd.DataFrame:
    return combine_training_data(training_data, august)


# --- combining ------------------------------------------------------------------------------------------


def test_combine_stacks_original_then_new_with_a_source_column(training_data, august, combined):
    assert len(combined) == len(training_data) + len(august)
    assert list(combined["source"].unique()) == ["original", "new"]
    assert list(combined.columns[-2:]) == ["label", "source"]


def test_combine_refuses_an_email_in_both_sets(training_data):
    with pytest.raises(ValueError, match=r"appear in both data sets"):
        combine_training_data(training_data, training_data.head(5))


def test_combine_names_the_unusable_set(training_data, august):
    with pytest.raises(ValueError, match=r"the new data is not usable: .*label"):
        combine_training_data(training_data, august.drop(columns="label"))


# --- threshold for an FPR budget -----------------------------------------------------------------------


def test_threshold_allows_at_most_the_budgeted_false_positives():
    legit = np.linspace(0.0, 0.99, 100)
    truth = np.r_[np.zeros(100), np.ones(5)]
    scores = np.r_[legit, np.full(5, 0.995)]
    threshold = threshold_for_fpr(truth, scores, 0.03)
    assert int(np.sum(legit >= threshold)) == 3
    assert threshold == pytest.approx(0.96, abs=1e-9) and threshold > 0.96  # just above the 4th highest


def test_a_zero_budget_puts_the_threshold_above_every_legitimate_score():
    truth, scores = np.array([0, 0, 1]), np.array([0.2, 0.7, 0.9])
    threshold = threshold_for_fpr(truth, scores, 0.0)
    assert 0.7 < threshold <= 0.9


def test_a_budget_covering_every_legitimate_email_flags_everything():
    truth, scores = np.array([0, 0, 1]), np.array([0.0, 0.1, 0.5])
    assert threshold_for_fpr(truth, scores, 0.999) <= 0.1


def test_threshold_rejects_scores_without_legitimate_mail():
    with pytest.raises(ValueError, match="no legitimate"):
        threshold_for_fpr(np.array([1, 1]), np.array([0.2, 0.4]), 0.1)


@pytest.mark.parametrize("budget", [-0.1, 1.0, "0.1", None])
def test_threshold_rejects_a_budget_outside_zero_one(budget):
    with pytest.raises(ValueError, match=r"max_fpr must be a number in \[0, 1\)"):
        threshold_for_fpr(np.array([0, 1]), np.array([0.2, 0.4]), budget)


def test_threshold_rejects_scores_outside_zero_one():
    with pytest.raises(ValueError, match=r"scores must be finite numbers in \[0, 1\]"):
        threshold_for_fpr(np.array([0, 1]), np.array([0.2, 1.4]), 0.1)


def test_threshold_rejects_labels_and_scores_of_different_lengths():
    with pytest.raises(ValueError, match="equal length"):
        threshold_for_fpr(np.array([0, 1, 0]), np.array([0.2, 0.4]), 0.1)


# --- out-of-fold scores and the search ---------------------------------------------------------------


def test_out_of_fold_probabilities_score_every_email_once_and_are_reproducible(combined):
    first = out_of_fold_probabilities(combined, FAST, n_splits=3, random_state=4)
    again = out_of_fold_probabilities(combined, FAST, n_splits=3, random_state=4)
    assert first.shape == (len(combined),)
    np.testing.assert_array_equal(first, again)
    assert ((first >= 0) & (first <= 1)).all()


def test_out_of_fold_probabilities_need_enough_emails_per_class(training_data):
    tiny = pd.concat([training_data[training_data.label == 0].head(20),
                      training_data[training_data.label == 1].head(2)])
    with pytest.raises(ValueError, match="each class needs at least n_splits=3"):
        out_of_fold_probabilities(tiny, FAST, n_splits=3)


@pytest.mark.parametrize("n_splits", [1, 2.5, True])
def test_a_bad_number_of_folds_is_rejected(combined, n_splits):
    with pytest.raises(ValueError, match="n_splits must be an int >= 2"):
        out_of_fold_probabilities(combined, FAST, n_splits=n_splits)


def test_search_scores_every_setting_best_average_precision_first(combined):
    table = search_settings(combined, SMALL_GRID, n_splits=3, random_state=0, **FAST)
    assert len(table) == len(ParameterGrid(SMALL_GRID))
    assert table.index.name == "setting"
    assert (np.diff(table["average_precision"].to_numpy()) <= 0).all()
    for column in ("smote_ratio", "min_samples_leaf", "average_precision", "roc_auc", "tpr", "fpr", "f1"):
        assert column in table.columns


@pytest.mark.parametrize("grid", [{}, {"smote_ratio": ()}, {"smote_ratio": "0.5"}, [("smote_ratio", [1])]])
def test_search_rejects_an_empty_or_malformed_grid(combined, grid):
    with pytest.raises(ValueError, match="grid"):
        search_settings(combined, grid, **FAST)


# --- retrain --------------------------------------------------------------------------------------------


def test_retrain_refits_the_best_setting_and_sets_the_threshold_on_the_calibration_set(combined):
    calibration = course.baseline_test_data()
    result = retrain(combined, calibration, max_fpr=0.01, grid=SMALL_GRID, n_splits=3, **FAST)
    assert isinstance(result, RetrainResult)
    best = ParameterGrid(SMALL_GRID)[result.search.index[0]]
    assert result.setting == best
    assert result.model.named_steps["smote"].sampling_strategy == best["smote_ratio"]
    scores = result.model.predict_proba(calibration[list(result.model.feature_names_in_)])[:, 1]
    legit = scores[calibration["label"].to_numpy() == 0]
    assert np.mean(legit >= result.threshold) <= 0.01
    assert result.threshold == threshold_for_fpr(calibration["label"], scores, 0.01)


def test_retrain_rejects_an_unlabelled_calibration_set(combined):
    with pytest.raises(ValueError, match="label"):
        retrain(combined, course.baseline_test_data().drop(columns="label"), max_fpr=0.01,
                grid=SMALL_GRID, **FAST)
