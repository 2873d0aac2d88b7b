"""What the prose of Chapter 5 concludes holds: in the built book, and, for its general claims, in other settings.

The fast tests run the chapter's own planning and rollback functions (taken from
its code cells) on settings the chapter does not show, and check them against
brute force and simulation; the slow tests read the values the built chapter glued.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from book_build import glued, glued_numbers, html
from scipy import stats

from phishlab import course

PAGE = Path(__file__).resolve().parents[1] / "book" / "05_ab_canary.md"
ALPHA, POWER = 0.05, 0.80


def page_functions() -> dict:
    """The functions the chapter defines in its code cells, with the constants they use."""
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    namespace = {"np": np, "stats": stats, "course": course, "ALPHA": ALPHA, "POWER": POWER,
                 "Z_ALPHA": stats.norm.ppf(1 - ALPHA / 2), "Z_BETA": stats.norm.ppf(POWER)}
    for cell in cells:
        for block in re.findall(r"^def \w+\(.*?(?=^\S)", cell + "\nEND", flags=re.S | re.M):
            exec(block, namespace)  # the chapter's own code
    return namespace


@pytest.fixture(scope="module")
def page():
    functions = page_functions()
    for name in ("unpaired_phishing_needed", "unpaired_power", "share_won", "pairs_needed",
                 "paired_phishing_needed", "exact_power", "rollback_chance", "ratio_p_value",
                 "conditional_rollback_chance"):
        assert name in functions, f"the chapter no longer defines {name}"
    return functions


# -- Fast: the planning claims in other settings ---------------------------------------------------------------


@pytest.mark.parametrize("tpr, gain", [(0.5, 0.10), (0.3, 0.10), (0.7, 0.05), (0.5, 0.15), (0.8, 0.10)])
def test_the_paired_design_needs_fewer_emails_than_the_unpaired_one(page, tpr, gain):
    """Pairing needs about half the emails when the models' errors are unrelated, and fewer as they agree more."""
    unpaired_total = 2 * page["unpaired_phishing_needed"](tpr, tpr + gain)
    independent = tpr * (1 - tpr - gain) + (tpr + gain) * (1 - tpr)
    ratios = []
    for discordant in np.linspace(gain + 0.02, independent, 6):
        paired = page["paired_phishing_needed"](gain, discordant)
        assert paired < unpaired_total
        ratios.append(unpaired_total / paired)
    # At independence the saving is the factor of two of scoring each email with both models ...
    assert 1.8 < ratios[-1] < 2.3
    # ... and the more the models agree (the fewer discordant emails), the larger it is.
    assert all(later < earlier for earlier, later in zip(ratios, ratios[1:]))


@pytest.mark.parametrize("gain", [0.05, 0.10, 0.20])
def test_more_disagreement_and_smaller_gains_need_more_emails(page, gain):
    needed = [page["paired_phishing_needed"](gain, share) for share in (gain + 0.05, 0.3, 0.4, 0.5)]
    assert needed == sorted(needed) and needed[0] < needed[-1]
    assert page["paired_phishing_needed"](gain / 2, 0.3) > 3 * page["paired_phishing_needed"](gain, 0.3)
    assert page["unpaired_phishing_needed"](0.5, 0.5 + gain / 2) > 3 * page["unpaired_phishing_needed"](0.5, 0.5 + gain)


@pytest.mark.parametrize("tpr, gain, discordant, seed", [(0.5, 0.10, 0.25, 1), (0.4, 0.15, 0.3, 2)])
def test_the_planned_sizes_give_about_the_planned_power_in_simulation(page, tpr, gain, discordant, seed):
    rng = np.random.default_rng(seed)
    runs = 4000
    # Unpaired: two groups of the planned size, a pooled two-proportion z-test.
    n = page["unpaired_phishing_needed"](tpr, tpr + gain)
    caught_a, caught_b = rng.binomial(n, tpr, runs), rng.binomial(n, tpr + gain, runs)
    pooled = (caught_a + caught_b) / (2 * n)
    z = (caught_b - caught_a) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
    assert 0.75 < np.mean(np.abs(z) > stats.norm.ppf(1 - ALPHA / 2)) < 0.86
    assert abs(page["unpaired_power"](n, n, tpr, tpr + gain) - POWER) < 0.02
    # Paired: the planned number of emails, each only-v2.0 or only-v1.0 with the planned shares; exact McNemar.
    n = page["paired_phishing_needed"](gain, discordant)
    counts = rng.multinomial(n, [(discordant + gain) / 2, (discordant - gain) / 2, 1 - discordant], runs)
    only_v2, only_v1 = counts[:, 0], counts[:, 1]
    p_values = np.array([stats.binomtest(int(c), int(c + b)).pvalue if c + b else 1.0
                         for c, b in zip(only_v2, only_v1)])
    assert 0.70 < np.mean(p_values < ALPHA) < 0.88


def test_exact_power_matches_simulation(page):
    rng = np.random.default_rng(5)
    wins = rng.binomial(60, 0.7, 4000)
    simulated = np.mean([stats.binomtest(int(k), 60).pvalue < ALPHA for k in wins])
    assert abs(page["exact_power"](60, 0.7) - simulated) < 0.03


# -- Fast: the rollback rule's power curve and the aside's test ------------------------------------------------


def test_the_minimum_evidence_hold_is_the_canary_assignments_default():
    """The page's MIN_NEGATIVES is what the assignment's canary_decision holds for by default."""
    release = (PAGE.parents[1] / "exercises" / "canary" / "canary.ipynb").read_text(encoding="utf-8")
    default = re.search(r"def canary_decision\(control, canary, [^)]*min_negatives=(\d+)", release)
    page_value = re.search(r"^MIN_NEGATIVES = (\d+)", PAGE.read_text(encoding="utf-8"), flags=re.M)
    assert default and page_value and default.group(1) == page_value.group(1)


def brute_force_rollback_chance(n_canary, n_control, fpr_canary, fpr_control):
    k = np.arange(n_canary + 1)[:, None]
    j = np.arange(n_control + 1)[None, :]
    fires = k / n_canary > course.MAX_FPR_RATIO * j / n_control
    joint = stats.binom.pmf(k, n_canary, fpr_canary) * stats.binom.pmf(j, n_control, fpr_control)
    return float(joint[fires].sum())


@pytest.mark.parametrize("n_canary, n_control, fpr", [(19, 156, 0.0044), (64, 128, 0.02), (300, 300, 0.01)])
def test_the_rollback_chance_is_the_rules_exact_chance(page, n_canary, n_control, fpr):
    for ratio in (0.5, 1.0, 1.5, 3.0, 20.0):
        exact = page["rollback_chance"](n_canary, n_control, ratio * fpr, fpr)
        assert exact == pytest.approx(brute_force_rollback_chance(n_canary, n_control, ratio * fpr, fpr), abs=1e-9)
    # And a simulation of the rule itself agrees.
    rng = np.random.default_rng(n_canary)
    canary, control = rng.binomial(n_canary, 3 * fpr, 20000), rng.binomial(n_control, fpr, 20000)
    simulated = np.mean(canary / n_canary > course.MAX_FPR_RATIO * control / n_control)
    assert abs(page["rollback_chance"](n_canary, n_control, 3 * fpr, fpr) - simulated) < 0.015


@pytest.mark.parametrize("n_canary, n_control, fpr", [(19, 156, 0.0044), (50, 450, 0.0044), (1359, 1359, 0.0044),
                                                      (200, 200, 0.03)])
def test_the_power_curve_rises_with_the_ratio_and_is_a_coin_toss_at_the_margin_for_large_stages(
        page, n_canary, n_control, fpr):
    ratios = np.geomspace(0.5, min(50, 0.9 / fpr), 40)
    curve = [page["rollback_chance"](n_canary, n_control, ratio * fpr, fpr) for ratio in ratios]
    assert all(later >= earlier - 1e-12 for earlier, later in zip(curve, curve[1:]))
    if n_canary * fpr > 5:  # enough false alarms expected in each arm
        assert 0.3 < page["rollback_chance"](n_canary, n_control, course.MAX_FPR_RATIO * fpr, fpr) < 0.7


@pytest.mark.parametrize("n_canary, n_control, fpr", [(19, 156, 0.0044), (50, 450, 0.0044), (400, 400, 0.0044),
                                                      (100, 300, 0.02)])
def test_the_conditional_test_rolls_back_a_canary_at_the_margin_at_most_alpha_of_the_time(
        page, n_canary, n_control, fpr):
    at_margin = page["conditional_rollback_chance"](n_canary, n_control, course.MAX_FPR_RATIO * fpr, fpr)
    assert at_margin <= ALPHA
    # It pays in power: below the rule's chance at a ratio of three.
    assert page["conditional_rollback_chance"](n_canary, n_control, 3 * fpr, fpr) \
        < page["rollback_chance"](n_canary, n_control, 3 * fpr, fpr)


# -- Slow: the built chapter -----------------------------------------------------------------------------------


def numbers(build) -> dict[str, float]:
    return glued_numbers(build, "book/05_ab_canary")


@pytest.mark.slow
def test_mcnemar_finds_v2_significantly_better_in_september(two_builds):
    build, _ = two_builds
    values = glued(build, "book/05_ab_canary")
    assert int(values["mc_c"]) > int(values["mc_b"])
    assert float(values["p_exact"]) < 0.05
    assert int(values["group_a_n"]) >= 1000 and int(values["group_b_n"]) >= 1000


@pytest.mark.slow
def test_the_bad_canary_is_rolled_back_and_the_good_one_completes(two_builds):
    build, _ = two_builds
    values = glued(build, "book/05_ab_canary")
    assert values["outcome_good"] == "'completed'"
    assert values["outcome_bad"] == "'rolled back'"
    text = html(build, "book/05_ab_canary.html")
    assert "roll back" in text and "continue" in text


@pytest.mark.slow
def test_the_plan_comes_before_the_september_results_and_uses_no_september_email(two_builds):
    build, _ = two_builds
    text = html(build, "book/05_ab_canary.html")
    assert text.index('id="plan-first-how-many-emails"') < text.index('id="tbl-ab-groups"')
    assert text.index('id="tbl-sample-plan"') < text.index("course.ab_test_predictions()")
    source = PAGE.read_text(encoding="utf-8")
    plan = source[source.index("### Plan first"):source.index("### The A/B split")]
    assert "september[" not in plan and "ab_test_predictions" not in plan.split("```{code-cell}", 1)[1]


@pytest.mark.slow
def test_chapter_5_planning_claims_hold_in_the_data(two_builds):
    build, _ = two_builds
    values = numbers(build)
    # "about k times fewer emails": the glued factor is the ratio of the glued sizes.
    assert values["plan_unpaired_emails"] > values["plan_paired_emails"]
    assert values["plan_ratio"] == pytest.approx(values["plan_unpaired_emails"] / values["plan_paired_emails"])
    assert values["plan_unpaired_emails"] == 2 * values["plan_unpaired_emails_per_group"]
    # The pilot is uncertain, so the plan "takes the top of that share's 95 % interval".
    assert values["pilot_share"] == pytest.approx(values["pilot_disagree"] / values["pilot_phishing"])
    assert values["discordant_planned"] > values["pilot_share"]
    # "v1.0 catches about 50 % of the drifted phishing"; the models agree on "the large majority" of it.
    assert abs(values["pilot_tpr_v1"] - values["tpr_planned"]) < 0.1
    assert values["pilot_share"] < 0.5 and values["discordant_planned"] < 0.5
    # "even if the models' errors were unrelated ... about k' times fewer", "And their errors are far from unrelated".
    assert 1.8 < values["plan_ratio_independent"] < values["plan_ratio"]
    assert values["discordant_planned"] < values["discordant_independent"]
    # "A rule of thumb of 1,000 emails per group is far too few here".
    assert values["rule_of_thumb"] * values["phishing_share"] < values["plan_unpaired_per_group"] / 2
    assert values["rule_of_thumb_power"] < 0.5
    # "Small effects need large experiments": halving the gain multiplies the emails.
    assert values["plan_half_growth"] > 3 and values["plan_half_unpaired_emails"] > 3 * values["plan_unpaired_emails"]
    # § 5.1: "a month gives each group far fewer phishing emails than the N it asks for".
    assert max(values["group_a_phishing"], values["group_b_phishing"]) < 0.6 * values["plan_unpaired_per_group"]
    # The look-back: the paired test "found the gain"; the A/B split "had a power of only ...".
    assert values["p_tpr_only"] < 0.05
    assert values["power_ab"] < 0.5 < values["back_power"]
    comparison = glued(build, "book/05_ab_canary")["back_comparison"].strip("'")
    expected = ("more than" if values["back_pairs"] > values["plan_pairs"]
                else "as many as" if values["back_pairs"] == values["plan_pairs"] else "fewer than")
    assert comparison == expected


@pytest.mark.slow
def test_chapter_5_prose_claims_hold_in_the_data(two_builds):
    build, _ = two_builds
    values = numbers(build)
    flags = glued(build, "book/05_ab_canary")
    # § 5.1: the unpaired comparison "cannot tell the models apart".
    assert values["unpaired_low_pts"] < 0 < values["unpaired_high_pts"]
    # § 5.2: the three versions of the test agree; the paired TPR gain is significant and its interval
    # excludes zero and is narrower than the unpaired one; on the FPR the test "has nothing to say".
    assert values["p_versions_high"] < 0.05
    assert values["p_tpr_only"] < 0.05 and values["tpr_gain_low_pts"] > 0
    assert values["width_ratio"] > 1
    assert values["p_fpr_only"] > 0.05 and values["fpr_gain_low_pts"] < 0 < values["fpr_gain_high_pts"]
    # § 5.3: "rests on almost no events"; the rule stops the broken canary in its first stage, but cannot resolve
    # an FPR higher by the rule's own margin ("not much more often" than a healthy one; a triple FPR "only"
    # sometimes).
    assert values["stage1_expected_fp"] < 1 and values["hold_expected_fp"] < 1
    assert values["chance_broken_stage1"] > 0.9
    assert 0 <= values["chance_worse"] - values["chance_healthy"] < 0.25
    assert values["chance_triple"] < 0.9
    # The power curve: every curve rises with the ratio; October's stages "cannot tell a canary at the rule's
    # margin from one as good as v1.0" and catch the misconfigured model "almost surely".
    for key in ("stage1", "october", "held", "month"):
        assert flags[f"curve_{key}_monotone"] == "True"
        assert values[f"curve_{key}_at_1"] <= values[f"curve_{key}_at_margin"] <= values[f"curve_{key}_at_3"]
    assert values["curve_october_at_margin"] - values["curve_october_at_1"] < 0.25
    assert values["curve_october_at_broken"] > 0.99 and values["broken_ratio"] > 10
    # "in between, their chance ... climbs only gradually, to ... at three times v1.0's FPR".
    assert values["curve_october_at_margin"] < values["curve_october_at_3"] < values["curve_october_at_broken"]
    # The held first stage "lifts" the curve rather than sharpening it.
    assert values["curve_held_at_1"] > values["curve_stage1_at_1"]
    assert values["curve_held_at_3"] > values["curve_stage1_at_3"]
    # A month's stage catches a triple FPR, "yet still rolls back" a healthy canary; at the margin "a coin toss".
    assert values["curve_month_at_3"] > 0.8 and values["curve_month_at_1"] > 0.1
    assert 0.35 < values["curve_month_at_margin"] < 0.65
    # The table and the curve agree.
    assert values["chance_healthy"] == pytest.approx(values["curve_october_at_1"])
    assert values["chance_broken_stage1"] == pytest.approx(values["curve_stage1_at_broken"])
    # The aside: the test rolls back the misconfigured canary; at the margin it stays below 0.05 "instead of the
    # rule's coin toss"; "the price is power".
    assert values["aside_broken_p"] < 0.05
    assert values["aside_month_at_margin"] < 0.05 and values["aside_stage1_at_margin"] < 0.05
    assert values["aside_month_at_1"] < values["aside_month_at_margin"] < values["curve_month_at_margin"]
    assert values["aside_month_at_3"] < values["curve_month_at_3"]
    assert values["aside_stage1_at_3"] < values["curve_stage1_at_3"]
    # Question 5: the canary's FPR interval holds v1.0's FPR raised by the rule's margin, "and several times more".
    assert values["good_canary_fpr_high"] > 2 * values["fpr_v10_raised"]
    assert values["stage1_legit"] < 100 and values["stage2_legit"] < 1000
