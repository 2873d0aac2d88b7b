"""Weighted voting of two detectors: soft and hard votes, thresholds, the weight sweep, the drifted test set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phishlab.challenges.ensemble import (
    METRICS,
    NOVEMBER_TEST_SEED,
    best_weight,
    budget_thresholds,
    decision_metrics,
    interpolated_threshold,
    november_test_data,
    paired_comparison,
    sweep_weights,
    weighted_hard_vote,
    weighted_soft_vote,
)
from phishlab.scenarios import MULTI_WAVE_DRIFT
from phishlab.simulation import FEATURES

P_V1 = np.array([0.1, 0.4, 0.8, 0.25, 1.0])
P_V2 = np.array([0.3, 0.9, 0.2, 0.75, 0.0])
PRED_V1 = np.array([0, 0, 1, 1])
PRED_V2 = np.array([0, 1, 0, 1])


# --- soft vote --------------------------------------------------------------------------------------------


def test_soft_vote_is_the_weighted_average_with_the_weight_on_v2():
    np.testing.assert_allclose(weighted_soft_vote(P_V1, P_V2, 0.25), [0.15, 0.525, 0.65, 0.375, 0.75])


@pytest.mark.parametrize(("weight", "expected"), [(0.0, P_V1), (1.0, P_V2)])
def test_soft_vote_at_the_ends_is_one_model(weight, expected):
    np.testing.assert_array_equal(weighted_soft_vote(P_V1, P_V2, weight), expected)


def test_soft_vote_accepts_lists_and_pandas_and_returns_an_array():
    result = weighted_soft_vote(list(P_V1), pd.Series(P_V2), 0.5)
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, (P_V1 + P_V2) / 2)


def test_soft_vote_stays_in_the_unit_interval_after_rounding():
    ones = np.ones(3)
    assert weighted_soft_vote(ones, ones, 0.7).max() <= 1.0


@pytest.mark.parametrize("weight", [-0.1, 1.5, np.nan, "0.5", None, True])
def test_soft_vote_rejects_a_weight_outside_zero_one(weight):
    with pytest.raises(ValueError, match="weight must be a number in"):
        weighted_soft_vote(P_V1, P_V2, weight)


def test_soft_vote_accepts_a_numpy_weight():
    np.testing.assert_allclose(weighted_soft_vote(P_V1, P_V2, np.float64(0.25)), weighted_soft_vote(P_V1, P_V2, 0.25))


@pytest.mark.parametrize("bad", [[0.1, 1.2, 0.3, 0.4, 0.5], [0.1, -0.01, 0.3, 0.4, 0.5], [0.1, np.nan, 0.3, 0.4, 0.5],
                                 ["a", "b", "c", "d", "e"]])
def test_soft_vote_rejects_values_that_are_not_probabilities(bad):
    with pytest.raises(ValueError, match="p_v1 must"):
        weighted_soft_vote(bad, P_V2, 0.5)


def test_soft_vote_rejects_probabilities_of_different_lengths():
    with pytest.raises(ValueError, match="differ in length: 5 vs 4"):
        weighted_soft_vote(P_V1, P_V2[:4], 0.5)


def test_soft_vote_rejects_a_matrix():
    with pytest.raises(ValueError, match="one-dimensional"):
        weighted_soft_vote(np.ones((2, 2)) / 2, np.ones((2, 2)) / 2, 0.5)


# --- hard vote --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tie", ["legitimate", "phishing"])
@pytest.mark.parametrize(("weight", "expected"), [(0.0, PRED_V1), (0.3, PRED_V1), (0.49, PRED_V1),
                                                  (0.51, PRED_V2), (0.8, PRED_V2), (1.0, PRED_V2)])
def test_hard_vote_is_the_heavier_model_away_from_one_half(weight, expected, tie):
    np.testing.assert_array_equal(weighted_hard_vote(PRED_V1, PRED_V2, weight, tie=tie), expected)


def test_hard_vote_at_one_half_is_and_when_ties_let_mail_through():
    np.testing.assert_array_equal(weighted_hard_vote(PRED_V1, PRED_V2, 0.5, tie="legitimate"), [0, 0, 0, 1])


def test_hard_vote_at_one_half_is_or_when_ties_flag_mail():
    np.testing.assert_array_equal(weighted_hard_vote(PRED_V1, PRED_V2, 0.5, tie="phishing"), [0, 1, 1, 1])


def test_hard_vote_default_tie_rule_lets_mail_through():
    np.testing.assert_array_equal(weighted_hard_vote(PRED_V1, PRED_V2, 0.5), [0, 0, 0, 1])


def test_hard_vote_recognises_a_tie_from_a_computed_weight():
    # 0.1 * 5 is 0.5 exactly, but 0.7 - 0.2 is 0.49999999999999994; both must tie.
    for weight in (0.1 * 5, 0.7 - 0.2):
        np.testing.assert_array_equal(weighted_hard_vote(PRED_V1, PRED_V2, weight, tie="phishing"), [0, 1, 1, 1])


def test_hard_vote_returns_int_decisions():
    assert weighted_hard_vote(PRED_V1.astype(bool), PRED_V2.astype(bool), 0.5).dtype == np.int64


def test_hard_vote_rejects_an_unknown_tie_rule():
    with pytest.raises(ValueError, match="tie must be one of"):
        weighted_hard_vote(PRED_V1, PRED_V2, 0.5, tie="random")


def test_hard_vote_rejects_probabilities_instead_of_decisions():
    with pytest.raises(ValueError, match="pred_v1 must contain only 0 and 1"):
        weighted_hard_vote([0.2, 0.9, 0.4, 0.6], PRED_V2, 0.5)


def test_hard_vote_rejects_decisions_of_different_lengths():
    with pytest.raises(ValueError, match="differ in length"):
        weighted_hard_vote(PRED_V1, PRED_V2[:3], 0.5)


def test_hard_vote_rejects_a_weight_outside_zero_one():
    with pytest.raises(ValueError, match="weight must be"):
        weighted_hard_vote(PRED_V1, PRED_V2, 2)


# --- thresholds -------------------------------------------------------------------------------------------


def test_interpolated_threshold_runs_from_one_threshold_to_the_other():
    assert interpolated_threshold(0.0, 0.5, 0.7) == 0.5
    assert interpolated_threshold(1.0, 0.5, 0.7) == pytest.approx(0.7)
    assert interpolated_threshold(0.25, 0.5, 0.7) == pytest.approx(0.55)


@pytest.mark.parametrize(("low", "high"), [(0.0, 0.7), (0.5, 1.2), (0.5, "0.7")])
def test_interpolated_threshold_rejects_a_threshold_outside_zero_one(low, high):
    with pytest.raises(ValueError, match="threshold_v"):
        interpolated_threshold(0.5, low, high)


def test_budget_thresholds_keep_every_weight_within_the_budget():
    rng = np.random.default_rng(0)
    truth = (rng.random(2000) < 0.1).astype(int)
    first = np.clip(rng.normal(0.3 + 0.4 * truth, 0.15), 0, 1)
    second = np.clip(rng.normal(0.3 + 0.5 * truth, 0.2), 0, 1)
    weights = [0.0, 0.3, 0.5, 1.0]
    cuts = budget_thresholds(truth, first, second, weights, max_fpr=0.01)
    assert cuts.shape == (4,)
    for weight, cut in zip(weights, cuts, strict=True):
        flagged = weighted_soft_vote(first, second, weight) >= cut
        assert flagged[truth == 0].mean() <= 0.01
        # The lowest such threshold: one step lower would exceed the budget.
        lower = weighted_soft_vote(first, second, weight) >= np.nextafter(cut, 0) - 1e-6
        assert lower[truth == 0].mean() > 0.01


def test_budget_thresholds_reject_labels_of_another_length():
    with pytest.raises(ValueError, match="differ in shape"):
        budget_thresholds([0, 1], P_V1, P_V2, [0.5], 0.1)


# --- metrics, sweep and best weight -------------------------------------------------------------------------


def test_decision_metrics_counts_by_hand():
    truth = [1, 1, 0, 0, 0]
    table = decision_metrics(truth, {"a": [1, 0, 1, 0, 0], "b": [1, 1, 0, 0, 0]})
    assert list(table.index) == ["a", "b"] and list(table.columns) == list(METRICS)
    assert table.loc["a"].tolist() == pytest.approx([0.5, 1 / 3, 0.5, 0.5])
    assert table.loc["b"].tolist() == pytest.approx([1.0, 0.0, 1.0, 1.0])


def test_decision_metrics_needs_some_decisions():
    with pytest.raises(ValueError, match="non-empty mapping"):
        decision_metrics([0, 1], {})


def test_sweep_gives_hand_computed_metrics_for_every_weight():
    truth = np.array([1, 1, 0, 0])
    first = np.array([0.9, 0.2, 0.6, 0.1])
    second = np.array([0.4, 0.8, 0.1, 0.3])
    sweep = sweep_weights(truth, first, second, [0.0, 0.5, 1.0], 0.5)
    assert list(sweep.columns) == ["weight", "threshold", *METRICS]
    assert sweep["weight"].tolist() == [0.0, 0.5, 1.0]
    # w = 0: flags 0, 2 -> TPR 1/2, FPR 1/2; w = 0.5: p = .65 .5 .35 .2 -> flags 0, 1; w = 1: flags 1.
    assert sweep["tpr"].tolist() == pytest.approx([0.5, 1.0, 0.5])
    assert sweep["fpr"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert sweep["f1"].tolist() == pytest.approx([0.5, 1.0, 2 / 3])


def test_sweep_flags_a_vote_exactly_at_the_threshold():
    sweep = sweep_weights([1, 0], [0.25, 0.0], [0.75, 0.0], [0.5], 0.5)
    assert sweep.loc[0, "tpr"] == 1.0


def test_sweep_uses_one_threshold_per_weight():
    truth = np.array([1, 0])
    sweep = sweep_weights(truth, [0.6, 0.4], [0.6, 0.4], [0.0, 1.0], [0.5, 0.7])
    assert sweep["threshold"].tolist() == [0.5, 0.7]
    assert sweep["tpr"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize(("weights", "thresholds", "message"), [
    ([], 0.5, "weights is empty"),
    ([0.5, 0.5], 0.5, "same weight twice"),
    ([0.0, 1.5], 0.5, "weight must be"),
    ("0.5", 0.5, "weights must be a sequence"),
    ([0.0, 1.0], [0.5], "thresholds has 1 values for 2 weights"),
    ([0.0, 1.0], 0.0, r"threshold must be a number in \(0, 1\]"),
    ([0.0, 1.0], "0.5", "thresholds must be a number or a sequence"),
])
def test_sweep_validates_weights_and_thresholds(weights, thresholds, message):
    with pytest.raises(ValueError, match=message):
        sweep_weights([1, 0], [0.6, 0.4], [0.6, 0.4], weights, thresholds)


def _sweep_with(f1_values):
    weights = np.round(np.linspace(0, 1, len(f1_values)), 2)
    return pd.DataFrame({"weight": weights, "threshold": 0.5, "tpr": 0.5, "fpr": 0.0, "precision": 1.0,
                         "f1": f1_values})


def test_best_weight_is_the_weight_of_the_highest_metric():
    assert best_weight(_sweep_with([0.1, 0.2, 0.5, 0.3, 0.2])) == 0.5


def test_best_weight_breaks_ties_towards_a_single_model():
    # 0.25 and 1.0 tie: the single model v2.0 wins.
    assert best_weight(_sweep_with([0.1, 0.6, 0.5, 0.3, 0.6])) == 1.0
    # 0.0 and 0.5 tie: the single model v1.0 wins.
    assert best_weight(_sweep_with([0.6, 0.2, 0.6, 0.3, 0.2])) == 0.0


def test_best_weight_breaks_a_tie_between_equally_near_weights_towards_v2():
    assert best_weight(_sweep_with([0.1, 0.6, 0.5, 0.6, 0.2])) == 0.75
    assert best_weight(_sweep_with([0.6, 0.1, 0.5, 0.2, 0.6])) == 1.0


def test_best_weight_ignores_undefined_values():
    assert best_weight(_sweep_with([np.nan, 0.2, 0.1, np.nan, 0.0])) == 0.25


def test_best_weight_can_use_the_tpr():
    sweep = _sweep_with([0.1, 0.2, 0.5, 0.3, 0.2]).assign(tpr=[0.9, 0.1, 0.1, 0.1, 0.1])
    assert best_weight(sweep, metric="tpr") == 0.0


@pytest.mark.parametrize("metric", ["fpr", "accuracy"])
def test_best_weight_rejects_a_metric_to_minimise_or_unknown(metric):
    with pytest.raises(ValueError, match="metric must be one of"):
        best_weight(_sweep_with([0.1, 0.2]), metric=metric)


def test_best_weight_rejects_an_empty_sweep():
    with pytest.raises(ValueError, match="non-empty output of sweep_weights"):
        best_weight(_sweep_with([]).iloc[0:0])


# --- paired comparison ------------------------------------------------------------------------------------


def test_paired_comparison_counts_the_discordant_emails_and_tests_them():
    truth = np.r_[np.ones(10), np.zeros(10)].astype(int)
    a = truth.copy()
    b = truth.copy()
    b[:8] = 0  # b misses 8 phishing emails a catches
    a[10] = 1  # a raises 1 false alarm b does not
    result = paired_comparison(truth, a, b)
    assert (result["only_a_right"], result["only_b_right"]) == (8, 1)
    # Two-sided exact binomial: 2 * P(X <= 1), X ~ Binomial(9, 1/2) = 2 * 10 / 512.
    assert result["p_value"] == pytest.approx(20 / 512)


def test_paired_comparison_of_identical_rules_has_p_one():
    assert paired_comparison([0, 1, 1], [0, 1, 0], [0, 1, 0]) == {"only_a_right": 0, "only_b_right": 0,
                                                                 "p_value": 1.0}


def test_paired_comparison_names_the_bad_argument():
    with pytest.raises(ValueError, match="pred_b must contain only 0 and 1"):
        paired_comparison([0, 1], [0, 1], [0, 2])


# --- the drifted test set ---------------------------------------------------------------------------------


def test_november_test_data_is_november_mail_with_ten_percent_phishing():
    emails = november_test_data(200)
    assert len(emails) == 200 and emails["label"].sum() == 20
    assert emails["timestamp"].dt.month.unique().tolist() == [11]
    assert emails["email_id"].str.startswith("nov-").all()
    assert set(FEATURES) <= set(emails.columns)


def test_november_test_data_shows_the_november_wave():
    emails = november_test_data(2000)
    phishing = emails[emails["label"] == 1]
    # The November wave: about 1.8 links instead of 4, and 8 % domain mismatches instead of 50 %.
    assert phishing["num_links"].mean() < 2.5
    assert phishing["domain_mismatch"].mean() < 0.2


def test_november_test_data_is_deterministic_and_seeded():
    pd.testing.assert_frame_equal(november_test_data(100), november_test_data(100, random_state=NOVEMBER_TEST_SEED))
    assert not november_test_data(100).equals(november_test_data(100, random_state=NOVEMBER_TEST_SEED + 1))


@pytest.mark.parametrize("n_emails", [0, 10, 2.5, True])
def test_november_test_data_rejects_a_bad_size(n_emails):
    with pytest.raises(ValueError, match="n_emails must be an int of at least 20"):
        november_test_data(n_emails)


def test_every_wave_of_the_challenge_scenario_moves_phishing_only():
    # Why one false-positive budget, measured on February-July mail, holds for every test set.
    assert {shift.label for wave in MULTI_WAVE_DRIFT.waves for shift in wave.shifts} == {1}
