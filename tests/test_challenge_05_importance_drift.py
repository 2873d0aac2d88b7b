"""Challenge 5, feature-importance drift: every conclusion the chapter states, and its exercise notebook.

Three kinds of test:

- the rendered chapter (slow, from the shared book builds): its glued numbers
  support each statement of the prose, and its figures, table and download link are there;
- the same conclusions on other seeds of the simulation (slow), so that they
  are not an accident of the seed the book shows;
- the exercise notebook's visible tests catch realistic mistakes in each
  function the student writes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from book_build import glued, html
from challenge_notebooks import SOLUTIONS, run_with_replacement

from phishlab import course
from phishlab.challenges import importance_drift as imp
from phishlab.registry import ModelRegistry

CHAPTER = "book/challenges/05_importance_drift"
PAGE = f"{CHAPTER}.html"
NOTEBOOK = SOLUTIONS / "05_importance_drift.ipynb"
MONTHLY_VIEWS = ("impurity", "permutation_monthly")
VIEWS = (*MONTHLY_VIEWS, "permutation_deployed")


def _number(values: dict[str, str], name: str) -> float:
    assert name in values, f"the chapter glues no {name!r}"
    return float(values[name])


@pytest.fixture(scope="module")
def chapter_values(two_builds) -> dict[str, str]:
    build, _ = two_builds
    return glued(build, CHAPTER)


@pytest.fixture(scope="module")
def page(two_builds) -> str:
    build, _ = two_builds
    return html(build, PAGE)


# --- the rendered chapter ------------------------------------------------------------------------


@pytest.mark.slow
def test_page_keeps_its_heading_and_shows_both_figures(page):
    assert "Challenge 5: feature-importance drift" in page
    for name in ("fig-importance-drift-bump", "fig-importance-drift-heatmap"):
        figure = re.search(rf'<figure[^>]*id="{name}"[^>]*>(.*?)</figure>', page, flags=re.DOTALL)
        assert figure, f"figure {name} is missing"
        assert re.search(r'<img[^>]+alt="[^"]{40,}"', figure.group(1)), f"figure {name} has no described image"


@pytest.mark.slow
def test_page_shows_the_results_tables(page):
    tables = re.findall(r"<table.*?</table>", page, flags=re.DOTALL)
    assert any("top 3" in table and "shared" in table and "Feb 2025" in table for table in tables), \
        "the table of top 3s per month is missing"
    assert any("rank of urgency_words, Aug–Oct mean importance" in table for table in tables), \
        "the summary table is missing"


@pytest.mark.slow
def test_page_links_to_the_exercise_notebook(page, two_builds):
    build, _ = two_builds
    links = re.findall(r'href="([^"]*05_importance_drift\.ipynb)"', page)
    assert links, "no download link to the exercise notebook"
    assert any((build / "_build" / "html" / "book" / "challenges" / link).resolve().is_file() for link in links)


@pytest.mark.slow
def test_the_chapter_follows_fourteen_months(chapter_values):
    assert _number(chapter_values, "n_months") == 14


@pytest.mark.slow
def test_before_august_the_top_two_never_change_in_any_view(chapter_values):
    for view in VIEWS:
        assert _number(chapter_values, f"same_top2_before_{view}") == 7, view


@pytest.mark.slow
def test_after_the_waves_importance_spreads_beyond_the_top_two(chapter_values):
    for view in ("permutation_monthly", "permutation_deployed"):
        before = _number(chapter_values, f"top2_share_before_{view}")
        assert _number(chapter_values, f"top2_share_after_{view}") < before - 0.15, view
    assert _number(chapter_values, "top2_share_after_impurity") < _number(chapter_values, "top2_share_before_impurity")


@pytest.mark.slow
def test_the_third_place_is_unsettled_even_before_august(chapter_values):
    assert _number(chapter_values, "overlap_before_permutation_monthly") < 1


@pytest.mark.slow
def test_urgency_words_drops_out_of_the_monthly_top_three_after_the_august_wave(chapter_values):
    for view in MONTHLY_VIEWS:
        assert _number(chapter_values, f"urgency_rank_aug_oct_{view}") >= 4, view
        # "in this run it is in the monthly model's top 3 in only ... of those three months"
        assert _number(chapter_values, f"urgency_in_top_k_aug_oct_{view}") <= 1, view
    before = _number(chapter_values, "urgency_share_before_impurity")
    assert _number(chapter_values, "urgency_share_aug_oct_impurity") < before / 2


@pytest.mark.slow
def test_the_monthly_ranking_moves_away_from_january(chapter_values):
    values = {name: _number(chapter_values, f"{name}_impurity")
              for name in ("overlap_before", "overlap_after", "spearman_before", "spearman_after")}
    assert values["overlap_after"] < values["overlap_before"]
    assert values["spearman_after"] < values["spearman_before"] - 0.2


@pytest.mark.slow
def test_num_attachments_rises_to_the_top_in_february_for_the_monthly_models_only(chapter_values):
    for view in MONTHLY_VIEWS:
        assert _number(chapter_values, f"attachments_rank_feb_{view}") <= 2, view
    assert _number(chapter_values, "attachments_best_rank_before_feb_impurity") >= 5
    assert _number(chapter_values, "attachments_rank_feb_permutation_deployed") >= 4


@pytest.mark.slow
def test_the_deployed_models_ranking_barely_moves(chapter_values):
    assert _number(chapter_values, "same_top2_all_permutation_deployed") >= 12
    assert _number(chapter_values, "urgency_in_top_k_aug_oct_permutation_deployed") == 3
    assert _number(chapter_values, "urgency_rank_aug_oct_permutation_deployed") <= 2
    deployed = _number(chapter_values, "spearman_after_permutation_deployed")
    for view in MONTHLY_VIEWS:
        assert deployed > _number(chapter_values, f"spearman_after_{view}"), view
    # "Its importances do change in size": urgency_words' share falls although its rank holds.
    assert _number(chapter_values, "urgency_share_aug_oct_permutation_deployed") < _number(
        chapter_values, "urgency_share_before_permutation_deployed") - 0.1


@pytest.mark.slow
def test_the_deployed_model_gets_worse_and_retraining_on_a_month_does_not_undo_it(chapter_values):
    before = _number(chapter_values, "ap_v1_before")
    assert _number(chapter_values, "ap_v1_aug_oct") < before - 0.05
    assert _number(chapter_values, "ap_monthly_aug_oct") < before - 0.05


@pytest.mark.slow
def test_v1_misses_most_of_the_new_phishing_that_lacks_urgency_words(chapter_values):
    assert _number(chapter_values, "share_low_urgency") > 0.4
    assert _number(chapter_values, "caught_low_urgency") < _number(chapter_values, "caught_high_urgency") - 0.3
    assert _number(chapter_values, "caught_low_urgency") < 0.5


@pytest.mark.slow
def test_the_retrained_v2_ranks_urgency_words_differently_from_v1_and_leans_on_them_in_between(chapter_values):
    # "v2.0 has the top 3 ... and ranks urgency_words ...": the two glued facts agree.
    rank = _number(chapter_values, "v2_urgency_rank")
    assert ("urgency_words" in chapter_values["v2_top3"]) == (rank <= 3)
    assert chapter_values["v2_top3"].strip("'\"").startswith("sender_reputation")
    # "below sender_reputation, first on every sample"
    assert chapter_values["v2_first_features"].strip("'\"") == "sender_reputation"
    # "v2.0 ranks it 5, 6 and 5 ... their order changes with the sample"
    others = [int(r) for r in re.findall(r"\d+", chapter_values["v2_other_ranks"])]
    assert len(others) == 3 and len({rank, *others}) > 1
    # "v1.0 ranks urgency_words 2 on each of the 4 samples"
    assert _number(chapter_values, "v1_urgency_rank_min") == _number(chapter_values, "v1_urgency_rank_max") == 2
    assert _number(chapter_values, "n_autumn_samples") == 4
    # "The size is steadier than the rank": less of v2.0's importance than of v1.0's on every sample, more than
    # in the monthly models of August to October.
    share = _number(chapter_values, "v2_urgency_share")
    assert _number(chapter_values, "v2_urgency_share_other_min") <= _number(
        chapter_values, "v2_urgency_share_other_max")
    assert _number(chapter_values, "n_v2_below_v1_share") == 4
    assert share < _number(chapter_values, "v1_urgency_share")
    assert share > _number(chapter_values, "urgency_share_aug_oct_permutation_monthly")
    assert _number(chapter_values, "v2_urgency_share_other_min") > _number(
        chapter_values, "urgency_share_aug_oct_permutation_monthly")


@pytest.mark.slow
def test_the_august_feedback_under_represents_phishing_without_urgency_words(chapter_values):
    feedback, august = (_number(chapter_values, f"{name}_phishing_low_share") for name in ("feedback", "august"))
    assert feedback < august
    assert _number(chapter_values, "feedback_coverage_low") < _number(chapter_values, "feedback_coverage_high")
    # "only ... of the phishing v2.0 was trained on": January's phishing dilutes it further.
    assert _number(chapter_values, "retraining_phishing_low_share") < feedback
    assert _number(chapter_values, "n_feedback_phishing") < _number(chapter_values, "n_august_phishing")


def _interval(values: dict[str, str], name: str) -> tuple[float, float]:
    """A glued interval such as ``'30–38%'`` as fractions."""
    assert name in values, f"the chapter glues no {name!r}"
    low, high = values[name].strip("'\"").rstrip("%").split("–")
    return float(low) / 100, float(high) / 100


@pytest.mark.slow
def test_the_deployed_models_ap_ranges_before_and_after_august_do_not_overlap(chapter_values):
    for name in ("ap_v1_before", "ap_v1_aug_oct", "ap_monthly_aug_oct"):
        assert (_number(chapter_values, f"{name}_min") <= _number(chapter_values, name)
                <= _number(chapter_values, f"{name}_max")), name
    # "the two ranges do not overlap"
    assert _number(chapter_values, "ap_v1_aug_oct_max") < _number(chapter_values, "ap_v1_before_min")


@pytest.mark.slow
def test_the_intervals_of_v1s_catch_rates_by_urgency_words_do_not_overlap(chapter_values):
    low = _interval(chapter_values, "caught_low_urgency_ci")
    high = _interval(chapter_values, "caught_high_urgency_ci")
    assert low[0] <= _number(chapter_values, "caught_low_urgency") <= low[1]
    assert high[0] <= _number(chapter_values, "caught_high_urgency") <= high[1]
    assert low[1] < high[0]


@pytest.mark.slow
def test_impurity_importance_spreads_credit_that_permutation_importance_concentrates(chapter_values):
    assert _number(chapter_values, "top2_share_before_impurity") < _number(
        chapter_values, "top2_share_before_permutation_monthly") - 0.1
    assert _number(chapter_values, "length_share_before_impurity") > 2 * _number(
        chapter_values, "length_share_before_permutation_monthly")


# --- the same conclusions on other seeds ------------------------------------------------------------


@pytest.fixture(scope="module")
def other_seeds(baseline_model) -> dict[int, pd.DataFrame]:
    """The chapter's computation with three other seeds of traffic, splits, forests and shuffles."""
    summaries = {}
    for seed in (1, 2, 3):
        result = imp.monthly_importances(imp.drift_year_traffic(random_state=seed), deployed_model=baseline_model,
                                         n_estimators=30, n_train=2000, n_test=1000, n_repeats=1, random_state=seed)
        scores = result.scores
        summary = imp.drift_summary(result)
        aug_oct = imp.drift_year_traffic("2024-08-01", "2024-10-31", random_state=seed)
        summary.attrs["caught"] = imp.recall_by_level(baseline_model, aug_oct, "urgency_words",
                                                      bins=[-np.inf, 1, 2, np.inf], labels=["0-1", "2", "3+"])
        summary.attrs["ap"] = {
            "v1_before": scores.loc[imp.BEFORE_DRIFT, "deployed"].mean(),
            "v1_aug_oct": scores.loc[imp.AUGUST_TO_OCTOBER, "deployed"].mean(),
            "monthly_aug_oct": scores.loc[imp.AUGUST_TO_OCTOBER, "monthly"].mean(),
        }
        summaries[seed] = summary
    return summaries


@pytest.mark.slow
def test_other_seeds_keep_the_top_two_until_august_and_drop_urgency_words_after(other_seeds):
    for seed, summary in other_seeds.items():
        assert (summary["same_top2_before"] == 7).all(), seed
        for view in MONTHLY_VIEWS:
            assert summary.loc[view, "urgency_rank_aug_oct"] >= 4, (seed, view)
        impurity = summary.loc["impurity"]
        assert impurity["urgency_share_aug_oct"] < impurity["urgency_share_before"] / 2, seed
        assert impurity["overlap_after"] < impurity["overlap_before"], seed
        assert impurity["spearman_after"] < impurity["spearman_before"] - 0.2, seed
        assert summary.loc["permutation_monthly", "overlap_before"] < 1, seed


@pytest.mark.slow
def test_other_seeds_keep_the_deployed_models_ranking(other_seeds):
    for seed, summary in other_seeds.items():
        deployed = summary.loc["permutation_deployed"]
        assert deployed["same_top2_all"] >= 12, seed
        assert deployed["urgency_in_top_k_aug_oct"] == 3, seed
        assert deployed["urgency_rank_aug_oct"] <= 2, seed
        assert deployed["attachments_rank_feb"] >= 4, seed
        assert deployed["urgency_share_aug_oct"] < deployed["urgency_share_before"] - 0.1, seed
        for view in MONTHLY_VIEWS:
            assert deployed["spearman_after"] > summary.loc[view, "spearman_after"], (seed, view)
            assert summary.loc[view, "attachments_rank_feb"] <= 2, (seed, view)
            assert summary.loc[view, "attachments_best_rank_before_feb"] >= 5, (seed, view)


@pytest.mark.slow
def test_other_seeds_show_impurity_spreading_credit_and_the_ap_drop(other_seeds):
    for seed, summary in other_seeds.items():
        impurity, permutation = summary.loc["impurity"], summary.loc["permutation_monthly"]
        assert impurity["top2_share_before"] < permutation["top2_share_before"] - 0.1, seed
        assert impurity["top2_share_after"] < impurity["top2_share_before"], seed
        for view in ("permutation_monthly", "permutation_deployed"):
            assert summary.loc[view, "top2_share_after"] < summary.loc[view, "top2_share_before"] - 0.15, (seed, view)
        assert impurity["length_share_before"] > 2 * permutation["length_share_before"], seed
        ap = summary.attrs["ap"]
        assert ap["v1_aug_oct"] < ap["v1_before"] - 0.05, seed
        assert ap["monthly_aug_oct"] < ap["v1_before"] - 0.05, seed


@pytest.mark.slow
def test_other_seeds_show_v1_missing_the_phishing_without_urgency_words(other_seeds):
    for seed, summary in other_seeds.items():
        caught = summary.attrs["caught"]
        assert caught.loc["0-1", "share_of_phishing"] > 0.4, seed
        assert caught.loc["0-1", "caught"] < caught.loc["3+", "caught"] - 0.3, seed
        assert caught.loc["0-1", "caught"] < 0.5, seed


@pytest.mark.slow
def test_on_other_autumn_samples_v2_leans_on_urgency_words_less_than_v1_but_more_than_the_monthly_models(
        storyline_artifacts, baseline_model, other_seeds, chapter_values):
    """The page's three other samples: its ranks, and the claims about v1.0, v2.0 and the monthly models."""
    model_v2 = course.ensure_v2(ModelRegistry(course.artifact_dir() / "models"))
    ranks = []
    for seed in (1, 2, 3):
        autumn = imp.drift_year_traffic("2024-09-01", "2024-10-31", random_state=seed).sample(1500, random_state=seed)
        importance = {version: imp.permutation_importances(model, autumn, n_repeats=1, random_state=seed)
                      for version, model in (("v1.0", baseline_model), ("v2.0", model_v2))}
        top = {version: imp.top_k_features(values, 3) for version, values in importance.items()}
        share = {version: imp.importance_shares(values.to_frame().T).iloc[0]["urgency_words"]
                 for version, values in importance.items()}
        assert top["v2.0"][0] == "sender_reputation", seed
        assert top["v1.0"][:2] == ["sender_reputation", "urgency_words"], seed
        assert share["v2.0"] < share["v1.0"], seed
        assert share["v2.0"] > other_seeds[seed].loc["permutation_monthly", "urgency_share_aug_oct"], seed
        ranks.append(int(imp.rank_table(importance["v2.0"].to_frame().T).iloc[0]["urgency_words"]))
    # The ranks the page states for these samples.
    assert [int(r) for r in re.findall(r"\d+", chapter_values["v2_other_ranks"])] == ranks


# --- the exercise notebook catches realistic mistakes -----------------------------------------------

WRONG_VERSIONS = {
    "top_k_features": {
        "ties_in_input_order": '''
def top_k_features(importances, k=3):
    series = pd.Series(importances, dtype=float)
    if series.empty or series.isna().any():
        raise ValueError("bad importances")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(series):
        raise ValueError("bad k")
    return list(series.sort_values(ascending=False, kind="stable").index[:k])
''',
        "ties_reverse_alphabetical": '''
def top_k_features(importances, k=3):
    series = pd.Series(importances, dtype=float)
    if series.empty or series.isna().any():
        raise ValueError("bad importances")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(series):
        raise ValueError("bad k")
    return sorted(series.index, key=lambda name: (series[name], name), reverse=True)[:k]
''',
        "no_check_of_k": '''
def top_k_features(importances, k=3):
    series = pd.Series(importances, dtype=float)
    if series.empty or series.isna().any():
        raise ValueError("bad importances")
    return sorted(series.index, key=lambda name: (-series[name], name))[:k]
''',
    },
    "rank_table": {
        "pandas_rank_ties_by_column_order": '''
def rank_table(importances_by_month):
    if not isinstance(importances_by_month, pd.DataFrame) or importances_by_month.empty:
        raise ValueError("bad table")
    if importances_by_month.isna().any().any():
        raise ValueError("NaN")
    return importances_by_month.rank(axis=1, ascending=False, method="first").astype(int)
''',
        "rank_one_is_least_important": '''
def rank_table(importances_by_month):
    if not isinstance(importances_by_month, pd.DataFrame) or importances_by_month.empty:
        raise ValueError("bad table")
    if importances_by_month.isna().any().any():
        raise ValueError("NaN")
    n = importances_by_month.shape[1]
    rows = [[n - top_k_features(row, n).index(f) for f in importances_by_month.columns]
            for _, row in importances_by_month.iterrows()]
    return pd.DataFrame(rows, index=importances_by_month.index, columns=importances_by_month.columns)
''',
        "tied_features_share_a_rank": '''
def rank_table(importances_by_month):
    if not isinstance(importances_by_month, pd.DataFrame) or importances_by_month.empty:
        raise ValueError("bad table")
    if importances_by_month.isna().any().any():
        raise ValueError("NaN")
    return importances_by_month.rank(axis=1, ascending=False, method="min").astype(int)
''',
    },
    "top_k_overlap": {
        "same_positions_only": '''
def top_k_overlap(a, b):
    if isinstance(a, str) or isinstance(b, str) or not a or len(a) != len(b):
        raise ValueError("bad lists")
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        raise ValueError("repeated name")
    return sum(x == y for x, y in zip(a, b)) / len(a)
''',
        "count_not_share": '''
def top_k_overlap(a, b):
    if isinstance(a, str) or isinstance(b, str) or not a or len(a) != len(b):
        raise ValueError("bad lists")
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        raise ValueError("repeated name")
    return float(len(set(a) & set(b)))
''',
        "strings_accepted": '''
def top_k_overlap(a, b):
    if not a or len(a) != len(b):
        raise ValueError("bad lists")
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        raise ValueError("repeated name")
    return len(set(a) & set(b)) / len(a)
''',
    },
}
CASES = [(function, mistake, source) for function, mistakes in WRONG_VERSIONS.items()
         for mistake, source in mistakes.items()]


@pytest.mark.parametrize(("function", "mistake", "source"), CASES, ids=[f"{f}-{m}" for f, m, _ in CASES])
def test_visible_tests_catch_a_realistic_mistake(function, mistake, source, tmp_path):
    error = run_with_replacement(NOTEBOOK, function, source, tmp_path / "art")
    assert isinstance(error, AssertionError), f"{function} with mistake {mistake!r} got past the tests: {error!r}"
