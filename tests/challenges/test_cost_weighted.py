"""Unit tests of phishlab.challenges.cost_weighted: expected cost, Bayes and cost-optimal thresholds, lever search."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from phishlab import course
from phishlab.challenges import cost_weighted
from phishlab.training import predict_proba

# --- expected_cost --------------------------------------------------------------------------------


def test_expected_cost_prices_false_positives_and_false_negatives_separately():
    # one false positive (index 0), two false negatives (indices 2 and 4)
    assert cost_weighted.expected_cost([0, 1, 1, 0, 1], [1, 1, 0, 0, 0], 5, 10_000) == 20_005.0


def test_expected_cost_of_correct_decisions_is_zero():
    assert cost_weighted.expected_cost([0, 1, 0], [0, 1, 0], 5, 10_000) == 0.0


def test_expected_cost_accepts_boolean_arrays():
    assert cost_weighted.expected_cost(np.array([True, False]), np.array([False, True]), 2.0, 3.0) == 5.0


@pytest.mark.parametrize(
    "y_true, y_pred, cost_fp, cost_fn, message",
    [
        ([0, 2], [0, 1], 5, 10, "y_true must contain only 0"),
        ([0, 1], [0, 0.5], 5, 10, "y_pred must contain only 0"),
        ([0, 1, 1], [0, 1], 5, 10, "differ in length"),
        ([0, 1], [0, 1], -1, 10, "cost_fp must be a finite number >= 0"),
        ([0, 1], [0, 1], 5, float("nan"), "cost_fn must be a finite number >= 0"),
        ([0, 1], [0, 1], True, 10, "cost_fp"),
        ([[0, 1]], [[0, 1]], 5, 10, "one-dimensional"),
    ],
)
def test_expected_cost_rejects_invalid_input(y_true, y_pred, cost_fp, cost_fn, message):
    with pytest.raises(ValueError, match=message):
        cost_weighted.expected_cost(y_true, y_pred, cost_fp, cost_fn)


# --- bayes_threshold and odds_inflation -----------------------------------------------------------------


def test_bayes_threshold_is_cost_fp_over_the_sum_of_the_costs():
    assert cost_weighted.bayes_threshold(5, 10_000) == pytest.approx(5 / 10_005, rel=1e-15)
    assert cost_weighted.bayes_threshold(1, 1) == 0.5
    assert cost_weighted.bayes_threshold(0, 3) == 0.0
    assert cost_weighted.bayes_threshold(3, 0) == 1.0


def test_bayes_threshold_depends_only_on_the_ratio_of_the_costs():
    assert cost_weighted.bayes_threshold(5, 10_000) == pytest.approx(cost_weighted.bayes_threshold(1, 2_000))


def test_bayes_threshold_is_where_flagging_and_letting_through_cost_the_same():
    threshold = cost_weighted.bayes_threshold(5, 10_000)
    assert (1 - threshold) * 5 == pytest.approx(threshold * 10_000)


def test_bayes_threshold_with_an_odds_factor_multiplies_the_threshold_odds():
    plain = cost_weighted.bayes_threshold(5, 10_000)
    corrected = cost_weighted.bayes_threshold(5, 10_000, odds_factor=400)
    assert corrected / (1 - corrected) == pytest.approx(400 * plain / (1 - plain))


@pytest.mark.parametrize("cost_fp, cost_fn, odds_factor, message", [
    (0, 0, 1.0, "cannot both be 0"),
    (-5, 10, 1.0, "cost_fp"),
    (5, np.inf, 1.0, "cost_fn"),
    (5, 10, 0.0, "odds_factor"),
    (5, 10, np.inf, "odds_factor"),
])
def test_bayes_threshold_rejects_invalid_costs(cost_fp, cost_fn, odds_factor, message):
    with pytest.raises(ValueError, match=message):
        cost_weighted.bayes_threshold(cost_fp, cost_fn, odds_factor)


def test_odds_inflation_compares_the_learned_odds_with_the_true_odds():
    # weight 2 x ratio 0.5 = learned odds 1; 10 % phishing = true odds 1/9
    assert cost_weighted.odds_inflation(2.0, 0.5, 0.1) == pytest.approx(9.0)
    assert cost_weighted.odds_inflation(1.0, 1 / 9, 0.1) == pytest.approx(1.0)


@pytest.mark.parametrize("weight, ratio, rate, message", [
    (0.0, 0.5, 0.1, "phishing_weight"),
    (1.0, 0.0, 0.1, "smote_ratio"),
    (1.0, 0.5, 1.0, "phishing_rate"),
    (1.0, 0.5, 0.0, "phishing_rate"),
])
def test_odds_inflation_rejects_invalid_input(weight, ratio, rate, message):
    with pytest.raises(ValueError, match=message):
        cost_weighted.odds_inflation(weight, ratio, rate)


# --- cost_curve and cost_optimal_threshold --------------------------------------------------------------

Y = [0, 0, 1, 0, 1, 1]
SCORES = [0.1, 0.2, 0.3, 0.4, 0.8, 0.9]


def test_cost_curve_has_one_row_per_distinct_score_with_counts_by_hand():
    curve = cost_weighted.cost_curve(Y, SCORES, 1, 10)
    assert curve["threshold"].tolist() == SCORES
    assert curve["fp"].tolist() == [3, 2, 1, 1, 0, 0]
    assert curve["fn"].tolist() == [0, 0, 0, 1, 1, 2]
    assert curve["cost"].tolist() == [3, 2, 1, 11, 10, 20]
    assert (curve[["tp", "fp", "fn", "tn"]].sum(axis=1) == len(Y)).all()
    assert (curve["flagged"] == curve["tp"] + curve["fp"]).all()


def test_cost_curve_treats_equal_scores_as_one_threshold():
    curve = cost_weighted.cost_curve([0, 1, 1, 0], [0.5, 0.5, 0.7, 0.1], 1, 1)
    assert curve["threshold"].tolist() == [0.1, 0.5, 0.7]
    assert curve["flagged"].tolist() == [4, 3, 1]


def test_cost_curve_matches_expected_cost_of_the_decisions_at_every_threshold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    scores = np.round(rng.random(200), 2)  # rounded: many ties
    curve = cost_weighted.cost_curve(y, scores, 5, 10_000)
    for threshold, cost in zip(curve["threshold"], curve["cost"]):
        assert cost == cost_weighted.expected_cost(y, (scores >= threshold).astype(int), 5, 10_000)


def test_cost_optimal_threshold_finds_the_cheapest_threshold_by_hand():
    assert cost_weighted.cost_optimal_threshold(Y, SCORES, 1, 10) == 0.3


def test_cost_optimal_threshold_breaks_ties_towards_the_highest_threshold():
    # with equal costs 0.3 (one false positive) and 0.8 (one false negative) both cost 1
    assert cost_weighted.cost_optimal_threshold(Y, SCORES, 1, 1) == 0.8


def test_cost_optimal_threshold_is_never_beaten_by_any_other_threshold():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    scores = rng.random(300)
    best = cost_weighted.cost_optimal_threshold(y, scores, 5, 200)
    best_cost = cost_weighted.operating_point(y, scores, best, 5, 200)["cost"]
    for threshold in np.r_[np.linspace(0, 1, 101), scores]:
        assert cost_weighted.operating_point(y, scores, threshold, 5, 200)["cost"] >= best_cost


def test_cost_optimal_threshold_with_free_false_alarms_catches_every_phishing_email_with_fewest_flags():
    # every threshold up to the lowest phishing score (0.3) costs 0; the tie rule keeps the highest
    assert cost_weighted.cost_optimal_threshold(Y, SCORES, 0, 10) == 0.3


def test_cost_optimal_threshold_with_free_misses_flags_only_the_top_score():
    assert cost_weighted.cost_optimal_threshold(Y, SCORES, 10, 0) == max(SCORES)


@pytest.mark.parametrize("y_true, scores, message", [
    ([0, 1], [0.1], "one score per label"),
    ([0, 1], [0.1, np.nan], "finite"),
    ([0, 3], [0.1, 0.2], "only 0"),
    ([], [], "empty"),
])
def test_cost_optimal_threshold_rejects_invalid_input(y_true, scores, message):
    with pytest.raises(ValueError, match=message):
        cost_weighted.cost_optimal_threshold(y_true, scores, 1, 1)


# --- operating_point ----------------------------------------------------------------------------------


def test_operating_point_counts_rates_and_cost_per_thousand():
    point = cost_weighted.operating_point(Y, SCORES, 0.35, 5, 100)
    assert (point["tp"], point["fp"], point["fn"], point["tn"]) == (2, 1, 1, 2)
    assert point["tpr"] == pytest.approx(2 / 3)
    assert point["fpr"] == pytest.approx(1 / 3)
    assert point["cost"] == 105.0
    assert point["cost_per_1000"] == pytest.approx(105 * 1000 / 6)


def test_operating_point_rate_of_an_absent_class_is_nan():
    point = cost_weighted.operating_point([0, 0], [0.2, 0.9], 0.5, 1, 1)
    assert np.isnan(point["tpr"])
    assert point["fpr"] == 0.5


def test_operating_point_rejects_a_nan_threshold():
    with pytest.raises(ValueError, match="threshold"):
        cost_weighted.operating_point(Y, SCORES, float("nan"), 1, 1)


# --- data and models -----------------------------------------------------------------------------------


def test_september_sample_stacks_draws_with_distinct_ids_and_the_course_set_first():
    sample = cost_weighted.september_sample(n_draws=2)
    course_set = course.september_validation_data()
    assert len(sample) == 2 * len(course_set)
    assert sample["email_id"].is_unique
    pd.testing.assert_frame_equal(sample.iloc[: len(course_set)].drop(columns="email_id"),
                                  course_set.drop(columns="email_id"))
    assert sample["label"].mean() == pytest.approx(0.10)


def test_september_sample_is_deterministic_and_depends_on_its_seed():
    first, again = cost_weighted.september_sample(1, random_state=7), cost_weighted.september_sample(1, random_state=7)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(cost_weighted.september_sample(1, random_state=8))


@pytest.mark.parametrize("n_draws", [0, 1.5, True])
def test_september_sample_rejects_invalid_draw_counts(n_draws):
    with pytest.raises(ValueError, match="n_draws"):
        cost_weighted.september_sample(n_draws)


@pytest.fixture(scope="module")
def small_sets(training_data):
    validation = course.september_validation_data()
    return training_data, validation


def test_train_weighted_sets_the_class_weight_and_smote_ratio(training_data):
    model = cost_weighted.train_weighted(training_data, phishing_weight=20.0, smote_ratio=0.5, random_state=3,
                                 n_estimators=10)
    assert model.named_steps["model"].class_weight == {0: 1.0, 1: 20.0}
    assert model.named_steps["model"].n_estimators == 10
    assert model.named_steps["smote"].sampling_strategy == 0.5


def test_a_larger_phishing_weight_raises_the_scores(training_data):
    validation = course.september_validation_data()
    plain = predict_proba(cost_weighted.train_weighted(training_data, 1.0, 0.25, random_state=0, n_estimators=20),
                          validation)
    heavy = predict_proba(cost_weighted.train_weighted(training_data, 500.0, 0.25, random_state=0, n_estimators=20),
                          validation)
    assert np.median(heavy) > np.median(plain)


@pytest.mark.parametrize("weight", [0, -1.0, np.inf, True])
def test_train_weighted_rejects_invalid_weights(training_data, weight):
    with pytest.raises(ValueError, match="phishing_weight"):
        cost_weighted.train_weighted(training_data, phishing_weight=weight)


def test_search_levers_tunes_each_setting_and_picks_the_cheapest(small_sets):
    train, validation = small_sets
    search = cost_weighted.search_levers(train, validation, 5, 10_000, phishing_weights=(1.0, 50.0),
                                 smote_ratios=(0.25, 1.0), random_state=0, n_estimators=10)
    table = search.table
    assert list(zip(table["phishing_weight"], table["smote_ratio"])) == list(itertools.product((1.0, 50.0),
                                                                                               (0.25, 1.0)))
    y = validation["label"].to_numpy()
    for row in table.itertuples():
        scores = search.scores[(row.phishing_weight, row.smote_ratio)]
        assert row.threshold == cost_weighted.cost_optimal_threshold(y, scores, 5, 10_000)
        assert row.cost == cost_weighted.operating_point(y, scores, row.threshold, 5, 10_000)["cost"]
        assert row.cost <= row.cost_at_half
        inflation = cost_weighted.odds_inflation(row.phishing_weight, row.smote_ratio, 0.1)
        assert row.corrected_bayes == pytest.approx(cost_weighted.bayes_threshold(5, 10_000, inflation))
    assert table.loc[search.best_row, "cost"] == table["cost"].min()
    assert search.threshold == table.loc[search.best_row, "threshold"]
    assert search.model is search.models[search.best]


def test_search_levers_is_deterministic(small_sets):
    train, validation = small_sets
    runs = [cost_weighted.search_levers(train, validation, 5, 10_000, phishing_weights=(1.0,), smote_ratios=(0.5,),
                                random_state=4, n_estimators=5).table for _ in range(2)]
    pd.testing.assert_frame_equal(*runs)


def test_search_levers_keeps_the_first_setting_of_equal_cost(small_sets):
    train, validation = small_sets
    # false alarms free: every setting flags everything at the same cost 0
    search = cost_weighted.search_levers(train, validation, 0, 10_000, phishing_weights=(1.0, 50.0),
                                 smote_ratios=(0.5,), random_state=0, n_estimators=5)
    assert (search.table["cost"] == 0).all()
    assert search.best == (1.0, 0.5)


@pytest.mark.parametrize("grid", [{"phishing_weights": ()}, {"smote_ratios": "0.5"}])
def test_search_levers_rejects_empty_or_malformed_grids(small_sets, grid):
    train, validation = small_sets
    with pytest.raises(ValueError, match="non-empty sequence"):
        cost_weighted.search_levers(train, validation, 5, 10, **grid)


def test_search_levers_needs_both_classes_in_the_validation_emails(small_sets):
    train, validation = small_sets
    with pytest.raises(ValueError, match="both legitimate"):
        cost_weighted.search_levers(train, validation[validation["label"] == 0], 5, 10)


# --- price sensitivity and figures -------------------------------------------------------------------------


def test_price_sensitivity_flags_more_as_a_missed_phishing_email_gets_dearer():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 400)
    scores = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1)
    table = cost_weighted.price_sensitivity(y[:200], scores[:200], y[200:], scores[200:], 5.0,
                                    [1.0, 10.0, 100.0, 10_000.0], n_days=10)
    assert table["cost_fn"].tolist() == [1.0, 10.0, 100.0, 10_000.0]
    assert table["threshold"].is_monotonic_decreasing
    assert table["fp"].is_monotonic_increasing
    assert table["fn"].is_monotonic_decreasing
    assert (table["fp_per_day"] == table["fp"] / 10).all()


def test_price_sensitivity_rejects_invalid_days():
    with pytest.raises(ValueError, match="n_days"):
        cost_weighted.price_sensitivity(Y, SCORES, Y, SCORES, 5.0, [10.0], n_days=0)


def test_figures_are_drawn_with_labelled_axes():
    curve = cost_weighted.cost_curve(Y, SCORES, 1, 10)
    search_table = pd.DataFrame({"phishing_weight": [1.0, 2.0], "smote_ratio": [0.5, 0.5],
                                 "cost_at_half": [10.0, 5.0], "cost": [3.0, 2.0]})
    sensitivity = cost_weighted.price_sensitivity(Y, SCORES, Y, SCORES, 1.0, [1.0, 10.0], n_days=1)
    figures = [cost_weighted.plot_cost_curves({"model": curve}, 0.1, corrected={"model": 0.3}, reference=500.0),
               cost_weighted.plot_lever_costs(search_table, n_emails=6, reference=500.0),
               cost_weighted.plot_price_sensitivity(sensitivity, assumed=10.0)]
    for fig in figures:
        for ax in fig.axes:
            assert "(" in ax.get_xlabel() and "(" in ax.get_ylabel()
        plt.close(fig)


def test_plot_cost_curves_needs_a_curve():
    with pytest.raises(ValueError, match="at least one"):
        cost_weighted.plot_cost_curves({}, 0.1)
