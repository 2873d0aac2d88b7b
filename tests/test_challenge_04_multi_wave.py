"""Challenge 4's conclusions: every statement of the chapter, checked on the rendered book and on other seeds.

The book tests read the values the chapter glued (the numbers its prose shows).
The seed tests rerun the three policies with :mod:`phishlab.challenges.multi_wave` where the
chapter makes a general claim. The notebook tests show that plausible student
mistakes fail the exercise's visible tests.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
import pytest
from book_build import glued, html
from challenge_notebooks import SOLUTIONS, run_with_replacement
from scipy.stats import binomtest

from phishlab.challenges.multi_wave import ample_data_tpr, course_timeline, monthly_schedule, policy_costs
from phishlab.registry import ModelRegistry
from phishlab.scenarios import MULTI_WAVE_DRIFT

pytestmark = pytest.mark.slow

CHAPTER = "book/challenges/04_multi_wave"
NOTEBOOK = SOLUTIONS / "04_multi_wave.ipynb"
WAVE_NOV, WAVE_FEB = (pd.Timestamp(wave.start) for wave in MULTI_WAVE_DRIFT.waves[1:])


@pytest.fixture(scope="module")
def g(two_builds) -> dict:
    """The chapter's glued values as Python objects (numbers, strings, dates)."""
    build, _ = two_builds
    values = {}
    for name, text in glued(build, CHAPTER).items():
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[name] = text
    return values


def day(value: str) -> pd.Timestamp:
    return pd.Timestamp(value)


# --- the rendered page ---------------------------------------------------------------------------


def test_the_page_has_its_heading_figure_results_table_and_exercise_link(two_builds):
    build, _ = two_builds
    text = html(build, f"{CHAPTER}.html")
    assert "Challenge 4: multi-wave drift" in text
    figure = re.search(r'<figure[^>]*id="fig-multi-wave-timeline"(.*?)</figure>', text, flags=re.S)
    assert figure and re.search(r'<img[^>]+src="[^"]+\.(?:svg|png)"', figure.group(1))
    assert re.search(r"<table.*?missed phishing \(FN\).*?expected cost \(US\$\).*?</table>", text, flags=re.S)
    assert re.search(r"<table.*?TPR of the served decisions.*?</table>", text, flags=re.S)
    assert re.search(r"<table.*?TPR at the false-alarm budget.*?</table>", text, flags=re.S)
    assert re.search(r'<a[^>]+href="[^"]*04_multi_wave\.ipynb"', text), "no download link to the exercise notebook"


def test_the_chapter_simulates_october_to_march_under_the_multi_wave_scenario(g):
    assert day(g["sim_start"]) == day("2024-10-06") and day(g["sim_end"]) == day("2025-03-31")
    assert (day(g["wave_nov"]), day(g["wave_feb"])) == (WAVE_NOV, WAVE_FEB)
    assert g["n_phishing"] < g["n_emails"] and 0.08 < g["n_phishing"] / g["n_emails"] < 0.12


# --- when v2.0 degrades, when v3.0 and v4.0 are trained ---------------------------------------------


def test_the_trigger_detects_the_november_wave_within_three_weeks_once_labels_arrive(g):
    fired = day(g["v3_trigger"])
    assert g["detect_days_nov"] == (fired - WAVE_NOV).days
    assert g["label_delay"] < g["detect_days_nov"] <= 21
    assert g["v2_alert"] == pytest.approx(g["trigger_ratio"] * g["v2_baseline"])


def test_v3_is_trained_after_the_trigger_on_labels_from_after_the_november_wave(g):
    assert day(g["v3_deployed"]) == day(g["v3_trigger"]) + pd.Timedelta(days=g["deploy_delay"])
    assert day(g["v3_from"]) < WAVE_NOV <= day(g["v3_to"])
    assert g["nov_days_in_v3"] == (day(g["v3_to"]) - WAVE_NOV).days + 1 >= 7
    assert g["wave_to_v3_days"] == (day(g["v3_deployed"]) - WAVE_NOV).days
    assert (day(g["v3_to"]) - day(g["v3_from"])).days + 1 == g["training_window"]
    # "v3.0 starts serving the day after the schedule's retrain of ..., but it is not the same model"
    schedule = monthly_schedule(g["sim_start"], g["sim_end"])
    assert day(g["monthly_before_v3"]) in schedule
    assert day(g["v3_deployed"]) == day(g["monthly_before_v3"]) + pd.Timedelta(days=1)
    assert day(g["v3_deployed"]) not in schedule
    # "the schedule's retrain learned from labels up to ..., v3.0 from labels up to ..."
    assert day(g["monthly_before_v3_to"]) == day(g["monthly_before_v3"]) - pd.Timedelta(days=g["label_delay_plus_one"])
    assert day(g["monthly_before_v3_to"]) < day(g["v3_to"])


def test_v4_follows_the_february_wave_and_there_are_no_other_triggers(g):
    assert g["n_trigger_retrains"] == g["retrains_trigger"] == 2
    fired = day(g["v4_trigger"])
    assert g["detect_days_feb"] == (fired - WAVE_FEB).days
    assert g["label_delay"] < g["detect_days_feb"] <= 21
    assert day(g["v4_deployed"]) == fired + pd.Timedelta(days=g["deploy_delay"])
    assert day(g["v4_from"]) < WAVE_FEB <= day(g["v4_to"])
    assert g["feb_days_in_v4"] == (day(g["v4_to"]) - WAVE_FEB).days + 1 >= 7


# --- schedule against trigger ---------------------------------------------------------------------


def test_the_trigger_retrains_fewer_times_than_the_monthly_schedule(g):
    assert g["retrains_monthly"] == len(monthly_schedule(g["sim_start"], g["sim_end"])) == 5
    assert g["retrains_trigger"] < g["retrains_monthly"]
    assert g["retrains_never"] == 0


def test_both_retraining_policies_miss_less_phishing_than_never_retraining(g):
    assert g["fn_monthly"] < g["fn_never"] and g["fn_trigger"] < g["fn_never"]
    assert g["fn_saved_monthly"] == g["fn_never"] - g["fn_monthly"] > 0
    assert g["fn_saved_trigger"] == g["fn_never"] - g["fn_trigger"] > 0


def test_here_the_trigger_misses_fewer_phishing_than_the_schedule(g):
    assert g["fn_trigger_vs_monthly"] == g["fn_monthly"] - g["fn_trigger"] > 0


def test_false_alarms_are_similar_and_a_negligible_part_of_the_cost(g):
    fps = [g[f"fp_{key}"] for key in ("never", "monthly", "trigger", "at_once")]
    assert (g["fp_min"], g["fp_max"]) == (min(fps), max(fps))
    assert g["fp_max"] <= 1.5 * g["fp_min"], "the false-alarm counts are not similar"
    assert g["fp_share_trigger"] == pytest.approx(g["fp_trigger"] * g["fp_cost"] / g["cost_trigger"])
    assert g["fp_share_trigger"] < 0.001


def test_the_trigger_is_cheaper_at_any_retrain_price_but_the_saving_is_modest(g):
    difference = g["cost_monthly"] - g["cost_trigger"]
    assert g["cost_monthly_minus_trigger"] == pytest.approx(difference) and difference > 0
    retrains_part = (g["retrains_monthly"] - g["retrains_trigger"]) * g["retrain_cost"]
    assert g["retrain_cost_difference"] == pytest.approx(retrains_part)
    assert retrains_part < difference  # "of which only ... are the saved retrains"
    # Fewer misses and fewer retrains: cheaper at any non-negative retrain price.
    assert g["fn_trigger"] <= g["fn_monthly"] and g["retrains_trigger"] <= g["retrains_monthly"]
    assert g["saving_share"] == pytest.approx(difference / g["cost_monthly"])
    assert 0 < g["saving_share"] < 0.10
    assert (g["fn_cost"], g["fp_cost"]) == (10_000, 5)  # the prices of Challenge 3


def test_without_retraining_the_tpr_stays_low_after_november_and_falls_again_after_february(g):
    assert g["period_never_decjan"] < 0.7 * g["period_never_oct"]
    assert g["period_never_mar"] < 0.5 * g["period_never_decjan"]
    assert g["period_never_feb"] < 0.5 * g["period_never_decjan"]


def test_the_schedule_retrains_on_the_first_day_of_the_february_wave_and_misses_it(g):
    assert day(g["monthly_feb_trained_to"]) < WAVE_FEB
    assert g["period_monthly_feb"] <= g["period_never_feb"] + 0.03, "not 'hardly more' than never"
    assert g["period_monthly_feb"] < 0.5 * g["period_monthly_decjan"]


def test_the_schedules_november_retrain_caught_less_than_v2(g):
    assert g["period_monthly_nov"] < g["period_never_nov"]


def test_retraining_recovers_the_february_wave_but_helps_little_after_november(g):
    assert g["period_trigger_mar"] - g["period_never_mar"] > 0.15
    assert g["period_trigger_mar"] >= 0.85 * g["period_trigger_decjan"], "v4.0 does not bring the TPR back"
    assert abs(g["period_trigger_decjan"] - g["period_never_decjan"]) < 0.05


def test_the_ample_data_check_shows_november_lowered_what_any_retrain_can_reach(g):
    assert g["ample_dec"] < g["ample_oct"] - 0.10
    assert abs(g["ample_oct"] - g["ample_v2_oct"]) < 0.05  # "about what v2.0 catches" in October
    assert g["ample_v2_mar"] < 0.5 * g["ample_mar"]
    assert g["ample_gap_dec"] == pytest.approx(g["ample_dec"] - g["ample_v2_dec"]) and g["ample_gap_dec"] < 0.10
    assert g["ample_gap_mar"] == pytest.approx(g["ample_mar"] - g["ample_v2_mar"]) and g["ample_gap_mar"] > 0.15
    assert g["ample_n"] >= 2 * 28 * 100  # "about twice what a retraining window holds"


def interval(text: str) -> tuple[float, float]:
    """A glued interval such as ``'51.4–69.0%'`` as fractions."""
    low, high = text.rstrip("%").split("–")
    return float(low) / 100, float(high) / 100


def test_the_trigger_threshold_lies_below_the_interval_of_v2s_baseline(g):
    low, high = interval(g["v2_baseline_ci"])
    assert low < g["v2_baseline"] < high
    assert g["v2_alert"] < low  # "below the whole interval"


def test_here_the_trigger_beats_the_schedule_with_a_p_value_just_below_005(g):
    assert g["only_monthly"] - g["only_trigger"] == g["fn_trigger_vs_monthly"]
    assert g["only_monthly"] > g["only_trigger"]
    assert 0.01 < float(g["paired_p"]) < 0.05  # "below the conventional 0.05, but only just"
    # "both waves begin on the first of a month, the day of a scheduled retrain"
    schedule = monthly_schedule(g["sim_start"], g["sim_end"])
    assert day(g["wave_nov"]) in schedule and day(g["wave_feb"]) in schedule


def test_in_november_v2_caught_phishing_the_schedules_retrain_missed_more_often_than_the_reverse(g):
    assert g["nov_only_v2"] > g["nov_only_monthly"]
    assert interval(g["period_monthly_nov_ci"])[1] < interval(g["period_never_nov_ci"])[0]  # "do not overlap"
    assert float(g["nov_paired_p"]) < 0.001  # "the paired count is sharper still"


def test_every_period_rate_lies_in_its_interval(g):
    for policy in ("never", "monthly", "trigger"):
        for period in ("oct", "nov", "decjan", "feb", "mar"):
            low, high = interval(g[f"period_{policy}_{period}_ci"])
            assert low <= g[f"period_{policy}_{period}"] <= high, (policy, period)


def test_the_ample_data_gap_is_within_the_noise_in_december_and_far_outside_it_in_march(g):
    for name in ("ample_dec_ci", "ample_v2_dec_ci"):
        low, high = interval(g[name])
        assert g["ample_gap_dec"] < high - low, name  # "smaller than the width of either interval"
    assert interval(g["ample_v2_mar_ci"])[1] < interval(g["ample_mar_ci"])[0]
    assert g["ample_n_phishing"] == round(0.10 * g["ample_n"])


def test_retraining_the_day_after_the_trigger_missed_more_phishing_here(g):
    assert g["fn_at_once"] > g["fn_trigger"]
    assert g["retrains_at_once"] == g["retrains_trigger"]


def test_the_cooldown_covers_the_wait_the_label_delay_and_the_first_window(g):
    assert g["cooldown"] == g["deploy_delay"] + g["label_delay"] + g["monitor_window"] - 2
    assert g["label_delay_plus_one"] == g["label_delay"] + 1


# --- the general claims, on other seeds ----------------------------------------------------------

SEEDS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def seed_runs(storyline_artifacts) -> dict:
    registry = ModelRegistry(storyline_artifacts / "models")
    results = {}
    for seed in SEEDS:
        timeline = course_timeline(registry, random_state=seed)
        runs = {"never": timeline.never(),
                "monthly": timeline.scheduled(monthly_schedule(timeline.start, timeline.end)),
                "trigger": timeline.triggered(ratio=0.65, deploy_delay_days=14)}
        results[seed] = (timeline, runs)
    return results


def _fn(timeline, run) -> int:
    return policy_costs(run, timeline, 10_000, 5, 2_000)["fn"]


def _paired_p(timeline, runs) -> float:
    """The exact binomial test of the phishing only the schedule missed against the phishing only the trigger missed."""
    phishing = timeline.in_range & (timeline.labels == 1)
    missed = {name: phishing & (run.decisions == 0) for name, run in runs.items()}
    only_monthly = int(np.sum(missed["monthly"] & ~missed["trigger"]))
    only_trigger = int(np.sum(missed["trigger"] & ~missed["monthly"]))
    return binomtest(only_monthly, only_monthly + only_trigger).pvalue


@pytest.mark.parametrize("seed", SEEDS)
def test_on_other_seeds_the_trigger_retrains_less_often_than_the_schedule(seed_runs, seed):
    _, runs = seed_runs[seed]
    assert len(runs["trigger"].retrain_days) < len(runs["monthly"].retrain_days) == 5


@pytest.mark.parametrize("seed", SEEDS)
def test_on_other_seeds_the_trigger_fires_after_each_wave_and_not_before(seed_runs, seed):
    timeline, runs = seed_runs[seed]
    fired = runs["trigger"].trigger_days
    delay = pd.Timedelta(days=timeline.label_delay_days)
    assert fired, "the trigger never fired"
    assert fired[0] > WAVE_NOV + delay, f"a trigger before the November wave could be seen: {fired}"
    assert any(WAVE_NOV + delay < when <= WAVE_NOV + pd.Timedelta(days=28) for when in fired)
    assert any(WAVE_FEB + delay < when <= WAVE_FEB + pd.Timedelta(days=28) for when in fired)


@pytest.mark.parametrize("seed", SEEDS)
def test_on_other_seeds_both_policies_beat_never_and_stay_close_to_each_other(seed_runs, seed):
    timeline, runs = seed_runs[seed]
    fn = {name: _fn(timeline, run) for name, run in runs.items()}
    assert fn["monthly"] < fn["never"] and fn["trigger"] < fn["never"], fn
    assert abs(fn["trigger"] - fn["monthly"]) < min(fn["never"] - fn["monthly"], fn["never"] - fn["trigger"]), fn


@pytest.mark.parametrize("seed", SEEDS)
def test_on_other_seeds_the_trigger_misses_less_phishing_than_the_schedule(seed_runs, seed):
    timeline, runs = seed_runs[seed]
    fn = {name: _fn(timeline, run) for name, run in runs.items()}
    assert fn["trigger"] < fn["monthly"], fn


def test_on_other_seeds_the_difference_is_not_always_beyond_the_noise(seed_runs):
    """The page: 'on at least one seed the same test gives p above 0.05'."""
    p_values = {seed: _paired_p(*seed_runs[seed]) for seed in SEEDS}
    assert any(p > 0.05 for p in p_values.values()), p_values


@pytest.mark.parametrize("seed", (1, 2))
def test_on_other_seeds_november_lowers_the_ample_data_tpr_and_february_does_not(storyline_artifacts, seed):
    registry = ModelRegistry(storyline_artifacts / "models")
    timeline = course_timeline(registry, random_state=seed)
    served = {"v2.0": (registry.load("2.0"), registry.threshold("2.0"))}
    check = {name: ample_data_tpr(first, last, served, timeline.calibration, timeline.max_fpr, n_emails=6000,
                                  random_state=100 * seed + k)
             for k, (name, (first, last)) in enumerate({"oct": ("2024-10-07", "2024-10-31"),
                                                       "dec": ("2024-12-01", "2024-12-31"),
                                                       "mar": ("2025-03-01", "2025-03-31")}.items())}
    assert check["dec"]["ample data"] < check["oct"]["ample data"] - 0.10, check
    gap = {name: values["ample data"] - values["v2.0"] for name, values in check.items()}
    assert gap["dec"] < 0.10 and gap["mar"] > 0.15, gap


# --- the exercise notebook catches plausible mistakes --------------------------------------------


@pytest.fixture(scope="module")
def notebook_artifacts(tmp_path_factory):
    return tmp_path_factory.mktemp("challenge-04") / "artifacts"


WRONG_SCHEDULES = {
    "start excluded when it is a first": '''
def monthly_schedule(start, end):
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if last < first:
        raise ValueError("end before start")
    days, month = [], first + pd.offsets.MonthBegin(1)
    while month <= last:
        days.append(month)
        month = month + pd.offsets.MonthBegin(1)
    return days
''',
    "end excluded": '''
def monthly_schedule(start, end):
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    if last < first:
        raise ValueError("end before start")
    return list(pd.date_range(first, last - pd.Timedelta(days=1), freq="MS"))
''',
    "no validation": '''
def monthly_schedule(start, end):
    return list(pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="MS"))
''',
}

WRONG_TRIGGERS = {
    "NaN counted as a TPR of 0": '''
def trigger_days(rolling_tpr, threshold, cooldown_days):
    if not 0 <= threshold <= 1 or isinstance(cooldown_days, bool) or not isinstance(cooldown_days, int) \\
            or cooldown_days < 0 or not isinstance(rolling_tpr, pd.Series) \\
            or not isinstance(rolling_tpr.index, pd.DatetimeIndex) or not rolling_tpr.index.is_monotonic_increasing:
        raise ValueError("bad arguments")
    fired, blocked_until = [], None
    for when, value in rolling_tpr.fillna(0).items():
        if blocked_until is not None and when <= blocked_until:
            continue
        if value < threshold:
            fired.append(when)
            blocked_until = when + pd.Timedelta(days=cooldown_days)
    return fired
''',
    "cooldown one day short": '''
def trigger_days(rolling_tpr, threshold, cooldown_days):
    if not 0 <= threshold <= 1 or isinstance(cooldown_days, bool) or not isinstance(cooldown_days, int) \\
            or cooldown_days < 0 or not isinstance(rolling_tpr, pd.Series) \\
            or not isinstance(rolling_tpr.index, pd.DatetimeIndex) or not rolling_tpr.index.is_monotonic_increasing:
        raise ValueError("bad arguments")
    fired, blocked_until = [], None
    for when, value in rolling_tpr.items():
        if blocked_until is not None and when < blocked_until:
            continue
        if not pd.isna(value) and value < threshold:
            fired.append(when)
            blocked_until = when + pd.Timedelta(days=cooldown_days)
    return fired
''',
    "fires at the threshold too": '''
def trigger_days(rolling_tpr, threshold, cooldown_days):
    if not 0 <= threshold <= 1 or isinstance(cooldown_days, bool) or not isinstance(cooldown_days, int) \\
            or cooldown_days < 0 or not isinstance(rolling_tpr, pd.Series) \\
            or not isinstance(rolling_tpr.index, pd.DatetimeIndex) or not rolling_tpr.index.is_monotonic_increasing:
        raise ValueError("bad arguments")
    fired, blocked_until = [], None
    for when, value in rolling_tpr.items():
        if blocked_until is not None and when <= blocked_until:
            continue
        if not pd.isna(value) and value <= threshold:
            fired.append(when)
            blocked_until = when + pd.Timedelta(days=cooldown_days)
    return fired
''',
    "cooldown counted in rows": '''
def trigger_days(rolling_tpr, threshold, cooldown_days):
    if not 0 <= threshold <= 1 or isinstance(cooldown_days, bool) or not isinstance(cooldown_days, int) \\
            or cooldown_days < 0 or not isinstance(rolling_tpr, pd.Series) \\
            or not isinstance(rolling_tpr.index, pd.DatetimeIndex) or not rolling_tpr.index.is_monotonic_increasing:
        raise ValueError("bad arguments")
    fired, skip = [], 0
    for when, value in rolling_tpr.items():
        if skip:
            skip -= 1
            continue
        if not pd.isna(value) and value < threshold:
            fired.append(when)
            skip = cooldown_days
    return fired
''',
}


@pytest.mark.parametrize("mistake", WRONG_SCHEDULES)
def test_the_visible_tests_catch_a_wrong_monthly_schedule(mistake, notebook_artifacts):
    error = run_with_replacement(NOTEBOOK, "monthly_schedule", WRONG_SCHEDULES[mistake], notebook_artifacts)
    assert isinstance(error, AssertionError), f"{mistake}: {error!r}"


@pytest.mark.parametrize("mistake", WRONG_TRIGGERS)
def test_the_visible_tests_catch_a_wrong_trigger(mistake, notebook_artifacts):
    error = run_with_replacement(NOTEBOOK, "trigger_days", WRONG_TRIGGERS[mistake], notebook_artifacts)
    assert isinstance(error, AssertionError), f"{mistake}: {error!r}"


def test_the_solution_notebook_runs_without_a_replacement_error(notebook_artifacts):
    right = "def monthly_schedule(start, end):\n    return _right(start, end)\n"
    source = f"_right = monthly_schedule\n{right}"
    assert run_with_replacement(NOTEBOOK, "monthly_schedule", source, notebook_artifacts) is None
