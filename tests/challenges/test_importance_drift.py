"""Unit tests of phishlab.challenges.importance_drift: importances by month, rankings, stability, summary, figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from phishlab import course
from phishlab.challenges import importance_drift as imp
from phishlab.simulation import FEATURES
from phishlab.training import train_model

# --- data ------------------------------------------------------------------------------------------


def test_drift_year_traffic_covers_january_2024_to_february_2025():
    traffic = imp.drift_year_traffic(emails_per_day=5)
    months = traffic["timestamp"].dt.to_period("M").unique()
    assert str(months.min()) == "2024-01"
    assert str(months.max()) == "2025-02"
    assert len(months) == 14


def test_drift_year_traffic_is_the_course_traffic_until_the_november_wave():
    ours = imp.drift_year_traffic("2024-10-01", "2024-10-31")
    pd.testing.assert_frame_equal(ours, course.production_traffic("2024-10-01", "2024-10-31"))


def test_drift_year_traffic_follows_the_november_wave_that_the_course_traffic_lacks():
    ours = imp.drift_year_traffic("2024-11-01", "2024-11-30")
    single_wave = course.production_traffic("2024-11-01", "2024-11-30")
    phishing = ours["label"] == 1
    assert ours.loc[phishing, "num_links"].mean() < single_wave.loc[single_wave["label"] == 1, "num_links"].mean() - 1


def test_drift_year_traffic_is_deterministic_and_seeded():
    first = imp.drift_year_traffic("2024-03-01", "2024-03-03")
    pd.testing.assert_frame_equal(first, imp.drift_year_traffic("2024-03-01", "2024-03-03"))
    other = imp.drift_year_traffic("2024-03-01", "2024-03-03", random_state=course.COURSE_SEED + 100)
    assert not first[list(FEATURES)].equals(other[list(FEATURES)])


# --- impurity and permutation importance -------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model(training_data):
    return train_model(training_data, random_state=0, n_estimators=20, min_samples_leaf=3)


def test_impurity_importance_is_a_share_per_feature(small_model):
    importance = imp.impurity_importance(small_model)
    assert list(importance.index) == list(FEATURES)
    assert importance.min() >= 0
    assert importance.sum() == pytest.approx(1.0)


def test_impurity_importance_accepts_a_bare_forest(small_model):
    forest = small_model.named_steps["model"]
    from_forest = imp.impurity_importance(forest, features=FEATURES)
    pd.testing.assert_series_equal(from_forest, imp.impurity_importance(small_model))


def test_impurity_importance_rejects_models_without_importances(training_data):
    linear = LogisticRegression(max_iter=5000).fit(training_data[list(FEATURES)], training_data["label"])
    with pytest.raises(ValueError, match="feature_importances_"):
        imp.impurity_importance(linear)


def test_impurity_importance_rejects_the_wrong_number_of_names(small_model):
    with pytest.raises(ValueError, match="8 features but 2 names"):
        imp.impurity_importance(small_model, features=["a", "b"])


def test_permutation_importances_rank_the_informative_features_first(small_model):
    test = course.baseline_test_data()
    importance = imp.permutation_importances(small_model, test, n_repeats=2)
    assert list(importance.index) == list(FEATURES)
    assert set(imp.top_k_features(importance, 2)) == {"urgency_words", "sender_reputation"}
    # In January attachments barely differ between the classes; shuffling them costs little.
    assert abs(importance["num_attachments"]) < 0.02


def test_permutation_importances_are_deterministic_given_the_seed(small_model):
    test = course.baseline_test_data().iloc[:600]
    first = imp.permutation_importances(small_model, test, n_repeats=2, random_state=3)
    pd.testing.assert_series_equal(first, imp.permutation_importances(small_model, test, n_repeats=2, random_state=3))


@pytest.mark.parametrize("n_repeats", [0, -1, 1.5, True])
def test_permutation_importances_reject_bad_repeats(small_model, training_data, n_repeats):
    with pytest.raises(ValueError, match="n_repeats"):
        imp.permutation_importances(small_model, training_data, n_repeats=n_repeats)


def test_permutation_importances_need_both_classes(small_model, training_data):
    legitimate = training_data[training_data["label"] == 0]
    with pytest.raises(ValueError, match="both legitimate"):
        imp.permutation_importances(small_model, legitimate)


def test_permutation_importances_need_every_feature(small_model, training_data):
    with pytest.raises(ValueError, match="missing column"):
        imp.permutation_importances(small_model, training_data.drop(columns="num_links"))


def test_permutation_importances_reject_an_unknown_scorer(small_model, training_data):
    with pytest.raises(ValueError):
        imp.permutation_importances(small_model, training_data, scoring="no_such_score")


# --- importances month by month ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_months():
    return imp.drift_year_traffic("2024-07-01", "2024-08-31", emails_per_day=40)


SMALL = {"n_estimators": 10, "n_train": 400, "n_test": 300, "n_repeats": 1}


def test_monthly_importances_give_one_row_per_month_and_feature(two_months, small_model):
    result = imp.monthly_importances(two_months, deployed_model=small_model, **SMALL)
    for table in result.tables().values():
        assert table.shape == (2, len(FEATURES))
        assert [str(month) for month in table.index] == ["2024-07", "2024-08"]
        assert list(table.columns) == list(FEATURES)
    assert np.allclose(result.impurity.sum(axis=1), 1.0)
    assert list(result.scores.columns) == ["monthly", "deployed"]
    assert ((result.scores > 0) & (result.scores <= 1)).all().all()


def test_monthly_importances_without_a_deployed_model_skip_its_view(two_months):
    result = imp.monthly_importances(two_months, **SMALL)
    assert result.permutation_deployed is None
    assert list(result.tables()) == ["impurity", "permutation_monthly"]
    assert list(result.scores.columns) == ["monthly"]


def test_monthly_importances_see_the_august_wave(two_months):
    result = imp.monthly_importances(two_months, **{**SMALL, "n_estimators": 30})
    shares = imp.importance_shares(result.impurity)
    july, august = shares.index
    assert shares.loc[august, "urgency_words"] < shares.loc[july, "urgency_words"]


def test_monthly_importances_are_deterministic(two_months):
    first = imp.monthly_importances(two_months, random_state=5, **SMALL)
    second = imp.monthly_importances(two_months, random_state=5, **SMALL)
    for kind, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[kind])


@pytest.mark.parametrize("name", ["n_estimators", "min_samples_leaf", "n_train", "n_test"])
@pytest.mark.parametrize("value", [0, True, 2.5])
def test_monthly_importances_reject_bad_sizes(two_months, name, value):
    with pytest.raises(ValueError, match=name):
        imp.monthly_importances(two_months, **{**SMALL, name: value})


def test_monthly_importances_need_timestamps(two_months):
    with pytest.raises(ValueError, match="timestamp"):
        imp.monthly_importances(two_months.drop(columns="timestamp"), **SMALL)


def test_monthly_importances_reject_a_month_with_too_little_phishing(two_months):
    august = two_months["timestamp"].dt.month == 8
    sparse = two_months[~august | (two_months["label"] == 0) | (two_months.index % 50 == 0)]
    with pytest.raises(ValueError, match="2024-08 has too few"):
        imp.monthly_importances(sparse, **SMALL)


# --- top k, ranks and overlap ------------------------------------------------------------------------


def test_top_k_features_orders_by_importance_and_breaks_ties_by_name():
    importances = {"b": 0.2, "z": 0.5, "a": 0.2, "m": 0.1}
    assert imp.top_k_features(importances, 1) == ["z"]
    assert imp.top_k_features(importances, 3) == ["z", "a", "b"]
    assert imp.top_k_features(pd.Series(importances), 4) == ["z", "a", "b", "m"]


def test_top_k_features_do_not_depend_on_the_input_order():
    importances = {"b": 0.2, "z": 0.5, "a": 0.2, "m": 0.1}
    backwards = dict(reversed(list(importances.items())))
    assert imp.top_k_features(backwards, 2) == imp.top_k_features(importances, 2) == ["z", "a"]


def test_top_k_features_treat_negative_importances_as_smaller():
    assert imp.top_k_features({"a": -0.02, "b": 0.0, "c": -0.01}, 3) == ["b", "c", "a"]


@pytest.mark.parametrize("k", [0, 4, -1, 2.0, True, "2"])
def test_top_k_features_reject_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        imp.top_k_features({"a": 1.0, "b": 2.0, "c": 3.0}, k)


@pytest.mark.parametrize(
    ("importances", "message"),
    [({}, "empty"), ({"a": np.nan}, "NaN"), ({"a": np.inf}, "infinite"), ([0.1, 0.2], "Series or a mapping"),
     (pd.Series([0.1, 0.2], index=["a", "a"]), "twice")],
)
def test_top_k_features_reject_bad_importances(importances, message):
    with pytest.raises(ValueError, match=message):
        imp.top_k_features(importances, 1)


def test_rank_table_ranks_each_month_from_one():
    months = pd.period_range("2024-01", "2024-02", freq="M")
    table = pd.DataFrame([[0.5, 0.2, 0.3], [0.1, 0.1, 0.8]], index=months, columns=["c", "b", "a"])
    ranks = imp.rank_table(table)
    assert ranks.index.equals(months)
    assert list(ranks.columns) == ["c", "b", "a"]
    # Second month: b and c tie at 0.1, b first by name.
    assert ranks.to_numpy().tolist() == [[1, 3, 2], [3, 2, 1]]
    assert all(pd.api.types.is_integer_dtype(dtype) for dtype in ranks.dtypes)


@pytest.mark.parametrize("table", [pd.DataFrame(), pd.Series([1.0, 2.0]), pd.DataFrame([[1.0, np.nan]])])
def test_rank_table_rejects_bad_tables(table):
    with pytest.raises(ValueError):
        imp.rank_table(table)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(["x", "y", "z"], ["z", "y", "x"], 1.0), (["x", "y", "z"], ["z", "q", "w"], 1 / 3),
     (["x", "y", "z"], ["z", "y", "w"], 2 / 3), (["x"], ["y"], 0.0)],
)
def test_top_k_overlap_is_the_shared_share(a, b, expected):
    assert imp.top_k_overlap(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [(["x", "y"], ["x"], "same length"), ([], [], "non-empty"), (["x", "x"], ["x", "y"], "repeats"),
     ("xy", "xz", "list of feature names"), ({"x", "y"}, ["x", "y"], "list of feature names")],
)
def test_top_k_overlap_rejects_bad_lists(a, b, message):
    with pytest.raises(ValueError, match=message):
        imp.top_k_overlap(a, b)


def test_ranking_stability_compares_every_month_with_the_reference():
    months = pd.period_range("2024-01", "2024-03", freq="M")
    table = pd.DataFrame([[4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 1.0, 2.0], [1.0, 2.0, 3.0, 4.0]],
                         index=months, columns=["a", "b", "c", "d"])
    stability = imp.ranking_stability(table, k=2)
    assert stability["top_2"].tolist() == ["a, b", "a, b", "d, c"]
    assert stability["overlap"].tolist() == [1.0, 1.0, 0.0]
    assert stability["spearman"].iloc[0] == pytest.approx(1.0)
    assert stability["spearman"].iloc[1] == pytest.approx(0.8)
    assert stability["spearman"].iloc[2] == pytest.approx(-1.0)
    against_march = imp.ranking_stability(table, k=2, reference=months[2])
    assert against_march["overlap"].tolist() == [0.0, 0.0, 1.0]


def test_ranking_stability_rejects_an_unknown_reference():
    table = pd.DataFrame([[1.0, 2.0]], index=pd.period_range("2024-01", periods=1, freq="M"), columns=["a", "b"])
    with pytest.raises(ValueError, match="reference"):
        imp.ranking_stability(table, k=1, reference=pd.Period("2023-12", freq="M"))


def test_importance_shares_clip_negatives_and_sum_to_one():
    table = pd.DataFrame([[0.3, 0.1, -0.1], [2.0, 2.0, 0.0]], columns=["a", "b", "c"])
    shares = imp.importance_shares(table)
    assert np.allclose(shares.to_numpy(), [[0.75, 0.25, 0.0], [0.5, 0.5, 0.0]])


def test_importance_shares_reject_a_month_without_positive_importance():
    with pytest.raises(ValueError, match="no feature has a positive importance"):
        imp.importance_shares(pd.DataFrame([[0.3, 0.1], [0.0, -0.1]], columns=["a", "b"]))


class _UrgencyRule:
    """A stand-in model: phishing probability 1 exactly when an email has two or more urgency words."""

    feature_names_in_ = np.array(FEATURES, dtype=object)

    def predict_proba(self, X):
        p = (X["urgency_words"].to_numpy() >= 2).astype(float)
        return np.column_stack([1 - p, p])


URGENCY_BINS = [-np.inf, 1, 2, np.inf]


def test_recall_by_level_counts_the_phishing_each_group_catches():
    emails = imp.drift_year_traffic("2024-08-01", "2024-08-31")
    table = imp.recall_by_level(_UrgencyRule(), emails, "urgency_words", URGENCY_BINS, labels=["0-1", "2", "3+"])
    phishing = emails[emails["label"] == 1]
    assert list(table.index) == ["0-1", "2", "3+"]
    assert table["phishing_emails"].sum() == len(phishing)
    assert table.loc["0-1", "phishing_emails"] == (phishing["urgency_words"] <= 1).sum()
    assert table["share_of_phishing"].sum() == pytest.approx(1.0)
    assert table["caught"].tolist() == [0.0, 1.0, 1.0]


def test_recall_by_level_uses_the_threshold(training_data):
    table = imp.recall_by_level(_UrgencyRule(), training_data, "urgency_words", URGENCY_BINS, threshold=0.99)
    assert table["caught"].iloc[-1] == 1.0  # probability 1 clears any threshold below 1


def test_recall_by_level_shows_v1_missing_phishing_without_urgency_words(baseline_model):
    august = imp.drift_year_traffic("2024-08-01", "2024-08-31")
    table = imp.recall_by_level(baseline_model, august, "urgency_words", URGENCY_BINS)
    assert table["caught"].iloc[0] < table["caught"].iloc[-1] - 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"bins": [2, 1]}, "increasing"), ({"bins": [0]}, "increasing"), ({"labels": ["a"]}, "name the 3 bins"),
     ({"threshold": 1.0}, "threshold"), ({"feature": "colour"}, "unknown feature"),
     ({"bins": [0.5, 1, 2, 3]}, "outside the bins")],
)
def test_recall_by_level_rejects_bad_arguments(training_data, kwargs, message):
    arguments = {"feature": "urgency_words", "bins": URGENCY_BINS, **kwargs}
    with pytest.raises(ValueError, match=message):
        imp.recall_by_level(_UrgencyRule(), training_data, **arguments)


def test_recall_by_level_needs_phishing(training_data):
    legitimate = training_data[training_data["label"] == 0]
    with pytest.raises(ValueError, match="no phishing"):
        imp.recall_by_level(_UrgencyRule(), legitimate, "urgency_words", URGENCY_BINS)


# --- the summary of the challenge ---------------------------------------------------------------------


def _hand_made_importances() -> imp.MonthlyImportances:
    """Five features over the fourteen months; every summary number can be worked out by hand."""
    columns = ["urgency_words", "sender_reputation", "email_length", "external_sender", "num_attachments"]
    before = [0.40, 0.30, 0.15, 0.10, 0.05]  # ranks 1 2 3 4 5
    after = [0.05, 0.40, 0.10, 0.30, 0.15]  # ranks 5 1 4 2 3
    february = [0.10, 0.30, 0.06, 0.04, 0.50]  # ranks 3 2 4 5 1
    months = pd.period_range("2024-01", "2025-02", freq="M", name="month")
    table = pd.DataFrame([before] * 7 + [after] * 6 + [february], index=months, columns=columns)
    scores = pd.DataFrame({"monthly": 0.9}, index=months)
    return imp.MonthlyImportances(table, table * 0.1, None, scores)


def test_drift_summary_on_hand_made_importances():
    summary = imp.drift_summary(_hand_made_importances())
    assert list(summary.index) == ["impurity", "permutation_monthly"]
    row = summary.loc["impurity"]
    assert row["same_top2_before"] == 7
    assert row["same_top2_all"] == 7
    assert row["urgency_rank_aug_oct"] == 5
    assert row["urgency_in_top_k_aug_oct"] == 0
    assert row["urgency_share_before"] == pytest.approx(0.40)
    assert row["urgency_share_aug_oct"] == pytest.approx(0.05)
    assert row["attachments_rank_feb"] == 1
    assert row["attachments_best_rank_before_feb"] == 3
    assert row["spearman_before"] == pytest.approx(1.0)
    # rho = 1 - 6 sum(d^2) / (n (n^2 - 1)): -0.3 for August to January, -0.1 for February.
    assert row["spearman_after"] == pytest.approx((6 * -0.3 - 0.1) / 7)
    assert row["overlap_before"] == pytest.approx(1.0)
    assert row["overlap_after"] == pytest.approx((6 / 3 + 2 / 3) / 7)
    assert row["top2_share_before"] == pytest.approx(0.70)
    assert row["top2_share_after"] == pytest.approx((6 * 0.70 + 0.80) / 7)
    assert row["length_share_before"] == pytest.approx(0.15)
    # Scaling a table does not change shares or ranks.
    pd.testing.assert_series_equal(summary.loc["permutation_monthly"], row, check_names=False)


def test_drift_summary_needs_the_whole_period():
    result = _hand_made_importances()
    shorter = imp.MonthlyImportances(result.impurity.iloc[:-1], result.permutation_monthly.iloc[:-1], None,
                                     result.scores.iloc[:-1])
    with pytest.raises(ValueError, match="2025-02"):
        imp.drift_summary(shorter)


def test_drift_summary_rejects_other_objects():
    with pytest.raises(ValueError, match="MonthlyImportances"):
        imp.drift_summary({"impurity": pd.DataFrame()})


# --- figures ------------------------------------------------------------------------------------------


def test_plot_rank_bump_draws_one_panel_per_table():
    result = _hand_made_importances()
    ranks = {name: imp.rank_table(table) for name, table in result.tables().items()}
    fig = imp.plot_rank_bump(ranks, events={"Aug wave": "2024-08-01"}, title="t")
    try:
        assert len(fig.axes) == 2
        assert fig.axes[0].get_ylabel() == "Rank (1 = most important)"
        assert fig.axes[-1].get_xlabel() == "Month (2024–2025)"
        assert len(fig.axes[0].lines) == 5 + 1  # one line per feature and the wave marker
    finally:
        plt.close(fig)


def test_plot_importance_heatmap_has_a_labelled_colour_bar():
    result = _hand_made_importances()
    fig = imp.plot_importance_heatmap(result.tables(), events={"Feb wave": "2025-02-01"})
    try:
        assert len(fig.axes) == 3  # two panels and the colour bar
        assert fig.axes[-1].get_ylabel() == "Share of the month's importance (fraction)"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("plot", [imp.plot_rank_bump, imp.plot_importance_heatmap])
def test_plots_reject_empty_or_mismatched_input_without_leaving_a_figure(plot):
    result = _hand_made_importances()
    open_before = plt.get_fignums()
    with pytest.raises(ValueError):
        plot({})
    with pytest.raises(ValueError, match="same months"):
        plot({"a": result.impurity, "b": result.impurity.iloc[:-1]})
    assert plt.get_fignums() == open_before
