"""Active learning: the samplers, the operating point, the batch-mode loop, curve summaries, labels to reach."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phishlab import course
from phishlab.challenges.active_learning import (
    CURVE_COLUMNS,
    STRATEGIES,
    labels_to_reach,
    learning_curves,
    operating_point,
    random_sample,
    run_active_learning,
    summarise_curves,
    top_confidence_sample,
    uncertainty_sample,
)
from phishlab.simulation import generate_training_set
from phishlab.training import train_model

FAST = {"n_estimators": 8}

# --- samplers -------------------------------------------------------------------------------------------


def test_uncertainty_sample_takes_the_items_closest_to_one_half_closest_first():
    chosen = uncertainty_sample([0.9, 0.55, 0.125, 0.375, 0.5], 3)
    assert chosen.tolist() == [4, 1, 3]
    assert chosen.dtype == np.int64


def test_uncertainty_sample_breaks_ties_by_pool_order():
    # 0.25 and 0.75 are equally far from 0.5 (both exact in binary).
    assert uncertainty_sample([0.75, 0.25, 0.75, 0.0], 3).tolist() == [0, 1, 2]
    assert uncertainty_sample(np.full(200, 0.5), 5).tolist() == [0, 1, 2, 3, 4]


def test_uncertainty_sample_skips_labelled_items_and_returns_pool_indices():
    chosen = uncertainty_sample([0.5, 0.45, 0.1, 0.6, 0.95], 2, already_labelled=[0, 1])
    assert chosen.tolist() == [3, 2]


def test_samplers_return_nothing_for_n_zero():
    for sampler in (uncertainty_sample, top_confidence_sample, random_sample):
        assert sampler([0.2, 0.8], 0).size == 0


def test_top_confidence_sample_takes_the_highest_probabilities_first():
    chosen = top_confidence_sample([0.3, 0.99, 0.5, 0.99, 0.7], 3, already_labelled=[4])
    assert chosen.tolist() == [1, 3, 2]


def test_random_sample_draws_distinct_unlabelled_items_reproducibly():
    probabilities = np.linspace(0, 1, 50)
    first = random_sample(probabilities, 20, already_labelled=np.arange(10), random_state=3)
    assert np.unique(first).size == 20
    assert first.min() >= 10
    assert first.tolist() == random_sample(probabilities, 20, np.arange(10), random_state=3).tolist()
    assert first.tolist() != random_sample(probabilities, 20, np.arange(10), random_state=4).tolist()


def test_random_sample_can_take_every_unlabelled_item():
    assert sorted(random_sample([0.1, 0.2, 0.3], 2, already_labelled=[1]).tolist()) == [0, 2]


@pytest.mark.parametrize(
    ("probabilities", "n", "labelled", "message"),
    [
        ([0.1, 0.2], 3, None, r"only 2 are unlabelled"),
        ([0.1, 0.2], 2, [0], r"only 1 are unlabelled"),
        ([0.1, 0.2], -1, None, r"n must be a non-negative int"),
        ([0.1, 0.2], 1.0, None, r"n must be a non-negative int"),
        ([0.1, 0.2], True, None, r"n must be a non-negative int"),
        ([0.1, 1.2], 1, None, r"probabilities must be finite numbers in \[0, 1\]"),
        ([0.1, np.nan], 1, None, r"probabilities must be finite"),
        ([[0.1, 0.2]], 1, None, r"probabilities must be 1-D"),
        ([0.1, 0.2], 1, [2], r"indices outside 0..1"),
        ([0.1, 0.2], 1, [-1], r"indices outside"),
        ([0.1, 0.2], 1, [0.5], r"integer indices"),
    ],
)
def test_samplers_reject_bad_arguments_clearly(probabilities, n, labelled, message):
    for sampler in (uncertainty_sample, top_confidence_sample, random_sample):
        with pytest.raises(ValueError, match=message):
            sampler(probabilities, n, labelled)


# --- labels to reach ------------------------------------------------------------------------------------


def test_labels_to_reach_interpolates_linearly_between_measured_points():
    curve = pd.Series([0.5, 0.75, 0.875], index=[0, 100, 200])
    assert labels_to_reach(curve, 0.625) == 50.0
    assert labels_to_reach(curve, 0.8125) == 150.0
    assert labels_to_reach(curve, 0.75) == 100.0


def test_labels_to_reach_takes_the_first_crossing_of_a_bumpy_curve():
    curve = pd.Series([0.5, 0.75, 0.625, 0.875], index=[0, 100, 200, 400])
    assert labels_to_reach(curve, 0.625) == 50.0
    assert labels_to_reach(curve, 0.8125) == 350.0


def test_labels_to_reach_is_the_first_budget_when_the_curve_starts_above_the_target():
    assert labels_to_reach(pd.Series([0.8, 0.9], index=[25, 50]), 0.7) == 25.0


def test_labels_to_reach_is_nan_when_the_target_is_never_reached():
    assert np.isnan(labels_to_reach(pd.Series([0.5, 0.6], index=[0, 100]), 0.61))


@pytest.mark.parametrize(
    ("curve", "target", "message"),
    [
        ([0.5, 0.6], 0.5, r"pandas Series"),
        (pd.Series([], dtype=float), 0.5, r"curve is empty"),
        (pd.Series([0.5, 0.6], index=[100, 0]), 0.5, r"strictly increasing"),
        (pd.Series([0.5, 0.6], index=[0, 0]), 0.5, r"strictly increasing"),
        (pd.Series([0.5, np.nan], index=[0, 10]), 0.5, r"finite numbers"),
        (pd.Series([0.5, 0.6], index=[0, 10]), np.nan, r"target must be a finite number"),
        (pd.Series([0.5, 0.6], index=[0, 10]), "0.5", r"target must be a finite number"),
    ],
)
def test_labels_to_reach_rejects_bad_arguments_clearly(curve, target, message):
    with pytest.raises(ValueError, match=message):
        labels_to_reach(curve, target)


# --- the loop on small synthetic data -------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_world():
    """A small January set, an August pool, September validation and legitimate threshold mail."""
    january = generate_training_set(300, 0.1, "2024-01-01", "2024-01-31", random_state=1)
    pool = generate_training_set(400, 0.1, "2024-08-01", "2024-08-31", scenario=course.DRIFT_SCENARIO,
                                 random_state=2, id_prefix="aug-")
    september = generate_training_set(600, 0.1, "2024-09-01", "2024-09-30", scenario=course.DRIFT_SCENARIO,
                                      random_state=3, id_prefix="val-")
    legitimate = generate_training_set(800, 0.0, "2024-05-01", "2024-07-31", random_state=4, id_prefix="cal-")
    return january, pool, september, legitimate


def test_operating_point_spends_the_budget_on_the_threshold_mail(small_world):
    january, _, september, legitimate = small_world
    model = train_model(january, random_state=0, **FAST)
    point = operating_point(model, september, legitimate, max_fpr=0.05)
    scores = model.predict_proba(legitimate[list(model.feature_names_in_)])[:, 1]
    assert (scores >= point["threshold"]).mean() <= 0.05
    assert 0 <= point["fpr"] <= 1 and 0 <= point["tpr"] <= 1
    # A looser budget can only lower the threshold and raise the TPR.
    looser = operating_point(model, september, legitimate, max_fpr=0.2)
    assert looser["threshold"] <= point["threshold"] and looser["tpr"] >= point["tpr"]


@pytest.mark.parametrize("max_fpr", [0, 1, -0.1, True, "0.01"])
def test_operating_point_rejects_a_budget_outside_zero_one(small_world, max_fpr):
    january, _, september, legitimate = small_world
    model = train_model(january, random_state=0, **FAST)
    with pytest.raises(ValueError, match=r"max_fpr must be a number in \(0, 1\)"):
        operating_point(model, september, legitimate, max_fpr)


def test_operating_point_refuses_phishing_in_the_threshold_mail(small_world):
    january, pool, september, _ = small_world
    model = train_model(january, random_state=0, **FAST)
    with pytest.raises(ValueError, match=r"legitimate emails only"):
        operating_point(model, september, pool, 0.01)
    with pytest.raises(ValueError, match=r"both legitimate and phishing"):
        operating_point(model, september[september.label == 0], pool[pool.label == 0], 0.01)


@pytest.fixture(scope="module")
def small_run(small_world):
    return run_active_learning(*small_world, budgets=(10, 20, 40), max_fpr=0.05, random_state=5, **FAST)


def test_the_loop_gives_one_row_per_strategy_and_budget_starting_at_zero(small_run):
    assert list(small_run.columns) == list(CURVE_COLUMNS)
    assert list(small_run["strategy"].unique()) == list(STRATEGIES)
    for _, rows in small_run.groupby("strategy"):
        assert rows["n_labels"].tolist() == [0, 10, 20, 40]
    assert (small_run["seed"] == 5).all()


def test_every_strategy_starts_from_the_same_january_model(small_run):
    start = small_run[small_run["n_labels"] == 0]
    assert start[["tpr", "fpr", "threshold"]].nunique().eq(1).all()
    assert (start[["phishing_labelled", "missed_phishing_labelled"]] == 0).all().all()


def test_the_loop_counts_labelled_phishing_and_the_missed_part_of_it(small_run):
    assert (small_run["missed_phishing_labelled"] <= small_run["phishing_labelled"]).all()
    assert (small_run["phishing_labelled"] <= small_run["n_labels"]).all()
    for _, rows in small_run.groupby("strategy"):
        assert rows["phishing_labelled"].is_monotonic_increasing
        assert rows["missed_phishing_labelled"].is_monotonic_increasing
    top = small_run[small_run["strategy"] == "top-confidence"]
    assert top["phishing_labelled"].iloc[-1] >= small_run.loc[small_run["n_labels"] == 40, "phishing_labelled"].max()


def test_the_loop_is_deterministic(small_world, small_run):
    again = run_active_learning(*small_world, budgets=(10, 20, 40), max_fpr=0.05, random_state=5, **FAST)
    pd.testing.assert_frame_equal(small_run, again)


def test_the_loop_accepts_a_sampler_function_and_calls_it_with_the_labels_so_far(small_world):
    calls = []

    def first_unlabelled(probabilities, n, already_labelled):
        calls.append((len(probabilities), n, sorted(np.asarray(already_labelled).tolist())))
        return np.setdiff1d(np.arange(len(probabilities)), already_labelled)[:n]

    run = run_active_learning(*small_world, strategies={"mine": first_unlabelled}, budgets=(10, 30),
                              max_fpr=0.05, random_state=0, **FAST)
    assert run["strategy"].unique().tolist() == ["mine"]
    assert calls == [(400, 10, []), (400, 20, list(range(10)))]
    pool = small_world[1]
    assert run["phishing_labelled"].iloc[-1] == pool["label"].iloc[:30].sum()


def test_the_loop_refuses_a_sampler_that_repeats_labels(small_world):
    with pytest.raises(ValueError, match=r"must return 10 new, distinct indices"):
        run_active_learning(*small_world, strategies={"lazy": lambda p, n, done: np.zeros(n, dtype=int)},
                            budgets=(10, 20), random_state=0, **FAST)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budgets": ()}, r"budgets must be a non-empty sequence of ints"),
        ({"budgets": (10, 10)}, r"strictly increasing"),
        ({"budgets": (0, 10)}, r"positive and strictly increasing"),
        ({"budgets": (10.0,)}, r"sequence of ints"),
        ({"budgets": (500,)}, r"exceeds the pool of 400 emails"),
        ({"strategies": ("cleverest",)}, r"strategy 'cleverest' must be one of"),
        ({"strategies": ()}, r"no strategy to run"),
        ({"random_state": -1}, r"seeds must be non-negative ints"),
        ({"base_size": 0}, r"base_size must be a positive int"),
    ],
)
def test_the_loop_rejects_bad_settings_clearly(small_world, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_active_learning(*small_world, **{"budgets": (10,), **kwargs})


def test_the_loop_names_unusable_data(small_world):
    january, pool, september, legitimate = small_world
    with pytest.raises(ValueError, match=r"the pool data is not usable"):
        run_active_learning(january, pool.drop(columns="label"), september, legitimate, budgets=(10,))


def test_base_size_subsamples_the_original_training_set(small_world):
    full = run_active_learning(*small_world, strategies=("random",), budgets=(10,), random_state=1, **FAST)
    half = run_active_learning(*small_world, strategies=("random",), budgets=(10,), random_state=1,
                               base_size=150, **FAST)
    assert not full[["tpr", "threshold"]].equals(half[["tpr", "threshold"]])


# --- several seeds and their summary --------------------------------------------------------------------


def test_learning_curves_stack_one_run_per_seed_and_summarise_them(small_world):
    curves = learning_curves(*small_world, seeds=[1, 2], strategies=("uncertainty", "random"), budgets=(10, 20),
                             max_fpr=0.05, **FAST)
    assert sorted(curves["seed"].unique()) == [1, 2]
    summary = summarise_curves(curves)
    assert list(summary.index.get_level_values("strategy").unique()) == ["uncertainty", "random"]
    assert summary.loc[("random", 10), "n_seeds"] == 2
    rows = curves[(curves["strategy"] == "random") & (curves["n_labels"] == 10)]
    assert summary.loc[("random", 10), "tpr_mean"] == pytest.approx(rows["tpr"].mean())
    assert summary.loc[("random", 10), "tpr_min"] == rows["tpr"].min()
    assert summary.loc[("random", 10), "tpr_max"] == rows["tpr"].max()
    assert (summary["tpr_min"] <= summary["tpr_mean"]).all() and (summary["tpr_mean"] <= summary["tpr_max"]).all()


@pytest.mark.parametrize("seeds", [[], [1, 1], "12", [1, -2]])
def test_learning_curves_want_distinct_non_negative_seeds(small_world, seeds):
    with pytest.raises(ValueError, match=r"seeds must be"):
        learning_curves(*small_world, seeds=seeds, budgets=(10,), **FAST)


def test_summarise_curves_wants_the_loops_output():
    with pytest.raises(ValueError, match=r"missing column"):
        summarise_curves(pd.DataFrame({"tpr": [0.5]}))
    with pytest.raises(ValueError, match=r"curves are empty"):
        summarise_curves(pd.DataFrame(columns=list(CURVE_COLUMNS)))
