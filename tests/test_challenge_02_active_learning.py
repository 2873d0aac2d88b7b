"""Challenge 2: every conclusion of the active-learning chapter, on the rendered book and over other seeds.

The chapter's claims: v1.0 is confidently wrong on much of the drifted phishing, so uncertainty sampling's first
batch holds none of it; averaged over seeds, uncertainty sampling reaches the target TPR with fewer labels than
random sampling and than top-confidence alerts, and gives the best model at 50 and 100 labels, with most of its
gain in the first 100 labels; its first batch holds fewer missed phishing emails per label than the next ones;
top-confidence alerts label no phishing the model missed in their first 100 labels, trail random sampling at 100
labels, and catch up with uncertainty sampling (within a few points) only by 400 labels, having labelled most of
the pool's phishing; random sampling stays below uncertainty sampling from 50 labels on and is the lowest after 800;
the actively chosen labels hold far more phishing than the traffic; every model stays near the FPR budget.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from book_build import glued, html
from challenge_notebooks import SOLUTIONS, run_with_replacement

from phishlab import course
from phishlab.challenges.active_learning import STRATEGIES, labels_to_reach, learning_curves, summarise_curves

pytestmark = pytest.mark.slow

CHAPTER = "book/challenges/02_active_learning"
NOTEBOOK = SOLUTIONS / "02_active_learning.ipynb"
BUDGETS = (25, 50, 100, 200, 400, 800)
KEYS = {"uncertainty": "unc", "random": "rnd", "top-confidence": "top"}
# "Within a few points": top-confidence and uncertainty sampling at the large budgets.
A_FEW_POINTS = 0.03
# "Close to the budget" of 1 %: every seed-averaged September FPR.
FPR_NEAR_BUDGET = (0.005, 0.02)


def values(build) -> dict[str, str]:
    return glued(build, CHAPTER)


def number(glue: dict[str, str], name: str) -> float:
    return float(glue[name])


def tpr(glue: dict[str, str], strategy: str, n_labels: int) -> float:
    return number(glue, f"tpr_{KEYS[strategy]}_{n_labels}")


# --- (a) the rendered chapter ------------------------------------------------------------------------------


def test_chapter_shows_its_figures_the_results_table_and_the_exercise_link(two_builds):
    build, _ = two_builds
    text = html(build, f"{CHAPTER}.html")
    assert "Challenge 2: active learning" in text
    for name in ("fig-active-learning-first-round", "fig-active-learning-curves", "fig-active-learning-missed"):
        match = re.search(rf'<figure[^>]*id="{name}"(.*?)</figure>', text, flags=re.S)
        assert match, f"the chapter lacks the figure {name!r}"
        assert re.search(r'<img[^>]+src="[^"]+\.svg"', match.group(1)), f"{name} has no SVG image"
    tables = re.findall(r"<table.*?</table>", text, flags=re.S)
    assert any("labels to reach" in t and "missed phishing in first 100 labels" in t and "top-confidence" in t
               for t in tables), "no results table"
    assert re.search(r'<a[^>]+href="[^"]*_downloads/[^"]*02_active_learning\.ipynb"', text), \
        "no download link to the exercise notebook"


def test_the_yardstick_is_a_one_per_cent_budget_with_more_threshold_emails_than_v1s_rate_allows(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "max_fpr") == 0.01
    assert number(glue, "v1_budget_false_alarms") < number(glue, "allowed_false_alarms")
    assert number(glue, "n_seeds") >= 3
    assert number(glue, "n_models") == number(glue, "n_seeds") * (1 + 3 * len(BUDGETS))


def test_every_model_stays_near_the_false_positive_budget(two_builds):
    glue = values(two_builds[0])
    low, high = FPR_NEAR_BUDGET
    assert low <= number(glue, "fpr_min") <= number(glue, "fpr_max") <= high


def test_v1_is_confidently_wrong_and_its_first_uncertain_batch_misses_that_phishing(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "v1_missed_share") > 0.3
    # "Not unsure about much of it": a sizeable share of the phishing sits below 0.25.
    assert number(glue, "v1_confidently_wrong_share") >= 0.15
    # The 25 most uncertain emails all lie within the band, which stops short of 0.25: none is confidently missed.
    assert 0 < number(glue, "first_batch_half_width") < 0.25
    assert 0 <= number(glue, "first_batch_missed") <= number(glue, "first_batch_phishing") <= 25


def test_uncertainty_sampling_reaches_the_target_with_fewer_labels_than_random_and_top_confidence(two_builds):
    glue = values(two_builds[0])
    start, best, target = number(glue, "start_tpr"), number(glue, "best_tpr"), number(glue, "target_tpr")
    assert target == round(start + (best - start) / 2, 2)
    assert start < target < best
    unc, rnd, top = (number(glue, f"needed_{k}") for k in ("unc", "rnd", "top"))
    assert all(math.isfinite(n) for n in (unc, rnd, top)), "the chapter gives a number of labels for each strategy"
    assert unc < rnd and unc < top
    assert number(glue, "labels_saved") == pytest.approx(rnd - unc)
    assert number(glue, "labels_saved_share") == pytest.approx((rnd - unc) / rnd)


def test_the_saving_is_rough_a_target_one_point_lower_moves_random_sampling_a_lot(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "target_lower") == pytest.approx(number(glue, "target_tpr") - 0.01)
    # "It needs only ... labels" (fewer than for the target); "uncertainty sampling gets there first either way".
    assert number(glue, "needed_lower_rnd") < number(glue, "needed_rnd")
    assert number(glue, "needed_lower_unc") < number(glue, "needed_lower_rnd")


def test_uncertainty_sampling_gives_the_best_model_at_50_and_100_labels(two_builds):
    glue = values(two_builds[0])
    for n_labels in (50, 100):
        assert tpr(glue, "uncertainty", n_labels) > tpr(glue, "random", n_labels)
        assert tpr(glue, "uncertainty", n_labels) > tpr(glue, "top-confidence", n_labels)



def test_the_lead_at_50_labels_is_stated_with_the_seed_ranges(two_builds):
    glue = values(two_builds[0])
    ranges = {key: [float(v.strip("%")) / 100 for v in glue[f"tpr_{key}_50_range"].strip("'").split(" to ")]
              for key in KEYS.values()}
    for key, (low, high) in ranges.items():
        assert low <= number(glue, f"tpr_{key}_50") <= high
    overlapping = [key for key in ("rnd", "top") if ranges[key][1] >= ranges["unc"][0]]
    assert ("do not overlap" in glue["overlap_50"]) == (not overlapping)
    assert ("top-confidence" in glue["overlap_50"]) == ("top" in overlapping)
    assert ("random" in glue["overlap_50"]) == ("rnd" in overlapping)
    # One TPR on the September phishing is uncertain by several points: the page says so.
    assert 0.03 < number(glue, "tpr_half_width") < 0.1

def test_uncertainty_sampling_finds_missed_phishing_only_after_the_first_rounds(two_builds):
    glue = values(two_builds[0])
    first, by_100 = number(glue, "unc_missed_25"), number(glue, "unc_missed_100")
    assert first / 25 < (by_100 - first) / 75
    assert by_100 > number(glue, "rnd_missed_100")


def test_uncertainty_sampling_gains_most_in_its_first_100_labels(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "unc_gain_first_100") == pytest.approx(
        tpr(glue, "uncertainty", 100) - tpr(glue, "uncertainty", 0))
    assert number(glue, "unc_gain_first_100") > number(glue, "unc_gain_after_100")


def test_top_confidence_labels_only_what_the_model_flags_and_trails_random_at_100(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "top_missed_100_max") == 0
    assert tpr(glue, "top-confidence", 100) < tpr(glue, "random", 100)


def test_top_confidence_catches_up_by_400_labels_having_labelled_most_of_the_pools_phishing(two_builds):
    glue = values(two_builds[0])
    assert number(glue, "top_pool_phishing_share_400") > 0.5
    for n_labels in (400, 800):
        difference = number(glue, f"top_minus_unc_{n_labels}")
        assert difference == pytest.approx(tpr(glue, "top-confidence", n_labels) - tpr(glue, "uncertainty", n_labels))
        assert abs(difference) <= A_FEW_POINTS


def test_random_sampling_stays_below_uncertainty_from_50_labels_and_is_lowest_after_the_whole_budget(two_builds):
    glue = values(two_builds[0])
    for n_labels in BUDGETS[1:]:
        assert tpr(glue, "random", n_labels) < tpr(glue, "uncertainty", n_labels)
    assert tpr(glue, "random", 800) < tpr(glue, "top-confidence", 800)


def test_actively_chosen_labels_hold_far_more_phishing_than_the_traffic(two_builds):
    glue = values(two_builds[0])
    pool_share = number(glue, "pool_phishing_share")
    top, unc, rnd = (number(glue, f"phishing_share_25_{k}") for k in ("top", "unc", "rnd"))
    assert top > unc > rnd
    assert unc > 3 * pool_share
    # "Only about one label in ten is phishing, as in the traffic."
    assert 0.05 <= number(glue, "phishing_share_400_rnd") <= 0.15


def test_two_builds_glue_the_same_numbers(two_builds):
    first, second = (values(build) for build in two_builds)
    assert first == second


# --- (b) the general claims, over seeds the chapter did not use ------------------------------------------


@pytest.fixture(scope="module")
def other_seeds() -> pd.DataFrame:
    """The chapter's experiment with five other seeds."""
    calibration = course.calibration_data()
    legitimate = calibration[calibration["label"] == 0].sample(3000, random_state=course.COURSE_SEED)
    curves = learning_curves(
        course.baseline_training_data(), course.production_traffic(course.DRIFT_START, course.DRIFT_END),
        course.september_validation_data(), legitimate, seeds=[course.COURSE_SEED + 1000 + k for k in range(5)],
        budgets=BUDGETS, max_fpr=0.01,
    )
    return curves


@pytest.fixture(scope="module")
def other_summary(other_seeds) -> pd.DataFrame:
    return summarise_curves(other_seeds)


def mean_tpr(summary: pd.DataFrame) -> pd.DataFrame:
    return summary["tpr_mean"].unstack("strategy")[list(STRATEGIES)]


def test_averaged_over_other_seeds_uncertainty_needs_fewer_labels_for_the_target(other_summary):
    curves = mean_tpr(other_summary)
    start, best = curves.loc[0].iloc[0], curves.to_numpy().max()
    target = round(start + (best - start) / 2, 2)
    needed = {s: labels_to_reach(curves[s], target) for s in STRATEGIES}
    assert math.isfinite(needed["uncertainty"])
    for other in ("random", "top-confidence"):
        assert np.isnan(needed[other]) or needed["uncertainty"] < needed[other]


def test_averaged_over_other_seeds_uncertainty_is_best_at_50_and_100_and_gains_early(other_summary):
    curves = mean_tpr(other_summary)
    for n_labels in (50, 100):
        assert curves.loc[n_labels, "uncertainty"] > curves.loc[n_labels, ["random", "top-confidence"]].max()
    unc = curves["uncertainty"]
    assert unc[100] - unc[0] > unc[800] - unc[100]


def test_over_other_seeds_top_confidence_misses_nothing_early_trails_random_then_catches_up(other_seeds, other_summary):
    top = other_seeds[(other_seeds["strategy"] == "top-confidence") & (other_seeds["n_labels"] <= 100)]
    assert (top["missed_phishing_labelled"] == 0).all()
    curves = mean_tpr(other_summary)
    assert curves.loc[100, "top-confidence"] < curves.loc[100, "random"]
    for n_labels in (400, 800):
        assert abs(curves.loc[n_labels, "top-confidence"] - curves.loc[n_labels, "uncertainty"]) <= A_FEW_POINTS
    pool_phishing = int(course.production_traffic(course.DRIFT_START, course.DRIFT_END)["label"].sum())
    assert other_summary.loc[("top-confidence", 400), "phishing_labelled_mean"] > 0.5 * pool_phishing


def test_over_other_seeds_random_stays_below_uncertainty_from_50_labels_and_ends_lowest(other_summary):
    curves = mean_tpr(other_summary)
    from_50 = list(BUDGETS[1:])
    assert (curves.loc[from_50, "random"] < curves.loc[from_50, "uncertainty"]).all()
    assert curves.loc[800, "random"] < curves.loc[800, "top-confidence"]


def test_over_other_seeds_which_of_uncertainty_and_random_leads_after_the_first_batch_varies(other_seeds):
    at_25 = other_seeds[other_seeds["n_labels"] == 25].pivot(index="seed", columns="strategy", values="tpr")
    uncertainty_ahead = at_25["uncertainty"] > at_25["random"]
    assert uncertainty_ahead.any() and not uncertainty_ahead.all()


def test_over_other_seeds_uncertainty_finds_missed_phishing_after_its_first_batch(other_summary):
    missed = other_summary["missed_phishing_labelled_mean"].unstack("strategy")
    first, by_100 = missed.loc[25, "uncertainty"], missed.loc[100, "uncertainty"]
    assert first / 25 < (by_100 - first) / 75
    assert by_100 > missed.loc[100, "random"]


def test_over_other_seeds_labels_are_biased_and_fprs_stay_near_the_budget(other_summary):
    phishing = other_summary["phishing_labelled_mean"].unstack("strategy")
    assert phishing.loc[25, "top-confidence"] > phishing.loc[25, "uncertainty"] > phishing.loc[25, "random"]
    low, high = FPR_NEAR_BUDGET
    assert other_summary["fpr_mean"].between(low, high).all()


# --- the exercise notebook's visible tests catch plausible mistakes --------------------------------------

_CHECKS = '''
    values = np.asarray(probabilities, dtype=float)
    if values.ndim != 1 or not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise ValueError("probabilities must be 1-D numbers in [0, 1]")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError("n must be a non-negative int")
    labelled = np.asarray([] if already_labelled is None else already_labelled, dtype=np.int64)
    if labelled.size and (labelled.min() < 0 or labelled.max() >= values.size):
        raise ValueError("index outside the pool")
    unlabelled = np.setdiff1d(np.arange(values.size), labelled)
    if n > unlabelled.size:
        raise ValueError("not enough unlabelled items")
'''

WRONG_SAMPLERS = {
    "positions among the unlabelled items instead of pool indices": _CHECKS + '''
    return np.argsort(np.abs(values[unlabelled] - 0.5), kind="stable")[:n]
''',
    "labelled items chosen again": _CHECKS + '''
    return np.argsort(np.abs(values - 0.5), kind="stable")[:n]
''',
    "the most certain items instead of the least": _CHECKS + '''
    return unlabelled[np.argsort(-np.abs(values[unlabelled] - 0.5), kind="stable")[:n]]
''',
    "ties broken by the higher index (a reversed descending sort)": _CHECKS + '''
    return unlabelled[np.argsort(-np.abs(values[unlabelled] - 0.5), kind="stable")[::-1][:n]]
''',
    "no error when n exceeds the unlabelled items": '''
    values = np.asarray(probabilities, dtype=float)
    unlabelled = np.setdiff1d(np.arange(values.size), [] if already_labelled is None else already_labelled)
    return unlabelled[np.argsort(np.abs(values[unlabelled] - 0.5), kind="stable")[:n]]
''',
}

_CURVE = '''
    if len(curve) == 0:
        raise ValueError("empty")
    labels, scores = np.asarray(curve.index, dtype=float), np.asarray(curve, dtype=float)
    if np.any(np.diff(labels) <= 0):
        raise ValueError("index must increase")
    reached = np.flatnonzero(scores >= target)
'''

WRONG_LABELS_TO_REACH = {
    "the first budget at or above the target, without interpolation": _CURVE + '''
    return float(labels[reached[0]]) if reached.size else float("nan")
''',
    "np.interp on a curve that is not monotone": _CURVE + '''
    return float(np.interp(target, scores, labels)) if reached.size else float("nan")
''',
    "infinity instead of NaN when the target is never reached": _CURVE + '''
    if reached.size == 0:
        return float("inf")
    first = reached[0]
    if first == 0:
        return float(labels[0])
    n0, n1, s0, s1 = labels[first - 1], labels[first], scores[first - 1], scores[first]
    return float(n0 + (target - s0) * (n1 - n0) / (s1 - s0))
''',
    "the last crossing instead of the first": _CURVE + '''
    if reached.size == 0:
        return float("nan")
    first = reached[-1]
    if first == 0:
        return float(labels[0])
    n0, n1, s0, s1 = labels[first - 1], labels[first], scores[first - 1], scores[first]
    return float(n0 + (target - s0) * (n1 - n0) / (s1 - s0))
''',
}


@pytest.mark.parametrize("mistake", list(WRONG_SAMPLERS))
def test_visible_tests_catch_a_wrong_uncertainty_sample(mistake, tmp_path):
    source = "def uncertainty_sample(probabilities, n, already_labelled=None):" + WRONG_SAMPLERS[mistake]
    error = run_with_replacement(NOTEBOOK, "uncertainty_sample", source, tmp_path / "art")
    assert isinstance(error, AssertionError), f"{mistake}: {error!r}"


@pytest.mark.parametrize("mistake", list(WRONG_LABELS_TO_REACH))
def test_visible_tests_catch_a_wrong_labels_to_reach(mistake, tmp_path):
    source = "def labels_to_reach(curve, target):" + WRONG_LABELS_TO_REACH[mistake]
    error = run_with_replacement(NOTEBOOK, "labels_to_reach", source, tmp_path / "art")
    assert isinstance(error, AssertionError), f"{mistake}: {error!r}"
