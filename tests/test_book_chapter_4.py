"""What Chapter 4 concludes from the data holds in the built book, and its general claims on other seeds.

The book tests read the glued values of a strict build. The claims Chapter 4
makes about label arrival in general -- reports are late, users report the
obvious phishing, the labels under-represent what the model misses -- are
also checked on the traffic and label draws of other seeds, scored by the
course's v1.0, without building the book.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from book_build import glued, glued_numbers, html
from other_seeds import OTHER_SEEDS, storyline

from phishlab import course
from phishlab.labels import report_probability

CHAPTER = "book/04_feedback_retraining"


def numbers(build) -> dict[str, float]:
    return glued_numbers(build, CHAPTER)


@pytest.mark.slow
def test_v2_beats_v1_on_the_september_validation_set(two_builds):
    build, _ = two_builds
    values = numbers(build)
    assert values["sep_v20_recall"] > values["sep_v10_recall"] + 0.05
    assert values["sep_v20_f1"] > values["sep_v10_f1"] + 0.05
    assert values["sep_v20_fpr"] <= 1.5 * values["sep_v10_fpr"]
    text = html(build, f"{CHAPTER}.html")
    assert re.search(r"v2\.0 catches\s+(<[^>]+>)*\s*\d+\.\d%", text)


@pytest.mark.slow
def test_chapter_4_states_the_september_comparison_with_its_uncertainty(two_builds):
    build, _ = two_builds
    values = numbers(build)
    # "The gain in recall is real": the disagreements on phishing favour v2.0 beyond chance.
    assert values["only_v2_phish"] > values["only_v1_phish"] and values["p_phish"] < 0.05
    # "No evidence of a difference in false alarms": a handful of emails, overlapping intervals.
    assert values["p_legit"] > 0.05
    assert values["ci_v20_fpr_low"] < values["ci_v10_fpr_high"] and values["ci_v10_fpr_low"] < values["ci_v20_fpr_high"]
    # Question 6: "the false-alarm counts differ by a few emails".
    assert 0 < abs(values["cm_v10_fp"] - values["cm_v20_fp"]) <= 5
    for key in ("v10", "v20"):
        assert values[f"ci_{key}_recall_low"] < values[f"ci_{key}_recall_high"]
    text = html(build, f"{CHAPTER}.html")
    assert 'id="tbl-september"' in text and "unchanged" not in text


@pytest.mark.slow
def test_chapter_4_the_labels_arrive_as_the_page_says(two_builds):
    build, _ = two_builds
    values = numbers(build)
    glued_text = glued(build, CHAPTER)
    # "Alerts and reports never took more than N of the 40 daily reviews, so the sample always got its
    # full share": the analysts' time was not the bottleneck in August.
    assert values["max_alerts_reports"] + values["max_sample"] <= values["capacity"]
    assert values["max_reviews"] <= values["capacity"]
    assert values["n_sample_cut"] == 0
    assert glued_text["sample_cut_phrase"] == "'the sample always got its full share'"
    assert values["qc_n"] <= values["max_sample"] * 31
    # Some reports came after 31 August, mostly of the last week's emails, and some labels are missing.
    assert 0 < values["n_reports_late_unlabelled"] <= values["n_reports_late"] < values["n_reports_aug"]
    assert values["n_reports_last_week_late"] > values["n_reports_late"] / 2
    assert values["n_reports_last_week_late"] <= values["n_reports_last_week"]


@pytest.mark.slow
def test_chapter_4_the_routes_find_what_the_page_says(two_builds):
    build, _ = two_builds
    values = numbers(build)
    # Every alert is reviewed; alert review finds false positives and never a missed email.
    assert values["alert_n"] == values["n_alerts_raised"] and values["alert_fp"] > 0
    # Reports and the sample found part of the misses, "the rest never reached an analyst".
    assert values["n_found_missed"] == values["report_fn"] + values["qc_fn"]
    assert 0 < values["n_found_missed"] < values["n_missed"]
    assert values["report_fn"] <= values["report_n"]
    # The sample's estimate is an interval around the truth; the reports alone suggest far fewer.
    assert values["qc_estimate_low"] <= values["n_missed"] <= values["qc_estimate_high"]
    assert values["report_fn"] < values["qc_estimate_low"]
    # "Of these eight, N are model errors (… missed … and … false alarm …)".
    assert values["n_top_errors"] == values["n_top_missed"] + values["n_top_false_alarms"] <= 8
    # The confidence cut-off: the phrase matches the count.
    phrase = glued(build, CHAPTER)["n_doubtful_phrase"]
    assert (values["n_doubtful"] == 0) == ("none" in phrase)
    assert (values["min_confidence"] >= course.MIN_ANALYST_CONFIDENCE) == (values["n_doubtful"] == 0)


@pytest.mark.slow
def test_chapter_4_the_labels_are_selected_by_the_model_and_by_who_reports(two_builds):
    build, _ = two_builds
    values = numbers(build)
    # "The model misses the stealthier kind."
    assert values["chance_caught"] > values["chance_missed"]
    # "The ones users did report" were more obvious than the unreported ones.
    assert values["chance_reported"] > values["chance_unreported"]
    # The table: users reported the more obvious half more often, and labelled it more through reports.
    assert values["obvious_report_chance"] > values["stealthy_report_chance"]
    assert values["obvious_reported"] > values["stealthy_reported"]
    assert values["obvious_labelled_by_report"] > values["stealthy_labelled_by_report"]
    assert values["stealthy_emails"] + values["obvious_emails"] == values["n_missed"]
    # Selection bias: every caught phishing email is labelled, under half of the missed ones, and the
    # labelled phishing holds a far smaller share of misses than the traffic.
    assert values["caught_labelled_share"] == 1.0
    assert values["share_found_missed"] < 0.5
    assert values["missed_share_labels"] < values["missed_share_traffic"] - 0.1
    # § 4.2: the labels hold far more phishing than the traffic.
    assert values["phishing_share_labels"] > 1.5 * values["phishing_share_august"]


@pytest.mark.slow
def test_chapter_4_v2_still_misses_mostly_the_stealthy_phishing(two_builds):
    build, _ = two_builds
    values = numbers(build)
    for key in ("v10", "v20"):
        assert values[f"recall_stealthy_{key}"] < values[f"recall_obvious_{key}"] - 0.15
    # "unequal because many emails share the median's chance"
    assert values["n_sep_stealthy"] != values["n_sep_obvious"]
    assert values["n_sep_stealthy"] + values["n_sep_obvious"] == values["n_sep_phishing"]


@pytest.fixture(scope="module")
def august_elsewhere(baseline_model):
    """August of other seeds: v1.0's label events (drawn with the same seed) and each email's report chance."""
    result = {}
    for seed in OTHER_SEEDS:
        emails, _, events = storyline(baseline_model, seed)
        events = events.assign(report_chance=report_probability(emails, course.LABEL_ARRIVAL))
        result[seed] = events[events["date"] >= pd.Timestamp(course.DRIFT_START)].reset_index(drop=True)
    return result


def test_on_other_seeds_reported_misses_are_more_obvious_and_the_model_misses_the_stealthy_kind(august_elsewhere):
    for seed, august in august_elsewhere.items():
        phishing = august[august["actual"] == 1]
        missed = phishing[phishing["prediction"] == 0]
        caught = phishing[phishing["prediction"] == 1]
        reported = missed["reported_on"].notna()
        assert missed.loc[reported, "report_chance"].mean() > missed.loc[~reported, "report_chance"].mean(), seed
        assert caught["report_chance"].mean() > missed["report_chance"].mean(), seed
        obvious = missed["report_chance"] >= missed["report_chance"].median()
        assert reported[obvious].mean() > reported[~obvious].mean(), seed


def test_on_other_seeds_some_august_reports_arrive_after_the_retraining_mostly_the_last_weeks(august_elsewhere):
    end = pd.Timestamp(course.DRIFT_END)
    for seed, august in august_elsewhere.items():
        reports = august[august["reported_on"].notna()]
        late = reports["reported_on"] > end
        assert 0 < late.sum() < len(reports), seed
        last_week = reports["date"] > end - pd.Timedelta(days=7)
        assert (late & last_week).sum() > late.sum() / 2, seed
        assert late[last_week].mean() > late[~last_week].mean(), seed


def test_on_other_seeds_the_labels_under_represent_the_missed_phishing(august_elsewhere):
    end = pd.Timestamp(course.DRIFT_END)
    for seed, august in august_elsewhere.items():
        known = august["known_on"] <= end
        phishing = august["actual"] == 1
        missed = phishing & (august["prediction"] == 0)
        caught = phishing & (august["prediction"] == 1)
        assert known[caught].all(), seed
        assert known[missed].mean() < 0.5, seed
        missed_share_labels = (known & missed).sum() / (known & phishing).sum()
        assert missed_share_labels < missed[phishing].mean() - 0.1, seed
        # The alert review never finds missed phishing; the sample always finds some.
        sampled = known & (august["source"] == "quality-control sample")
        assert (known & missed & (august["source"] == "alert review")).sum() == 0, seed
        assert (sampled & missed).sum() > 0, seed
