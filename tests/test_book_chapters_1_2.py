"""What the prose of Chapters 1 and 2 concludes from the data holds in the built book."""

from __future__ import annotations

import re

import pytest
from book_build import glued, html

pytestmark = pytest.mark.slow


def test_the_intro_describes_each_graded_assignment_under_its_label(two_builds):
    """Each assignment the graders know has a target ``assignment-<id>`` naming every graded function."""
    from autograder.assignments import assignments

    build, _ = two_builds
    text = html(build, "book/intro.html")
    for assignment in assignments().values():
        label = f"assignment-{assignment.id.replace('_', '-')}"
        section = re.search(rf'id="{label}"(.*?)(?=<section|</section>\s*</section>)', text, flags=re.S)
        assert section, f"the intro has no target {label!r}"
        for name in assignment.functions:
            assert name in section.group(1), f"{label} does not name {name}"


def test_chapter_1_intervals_contain_the_estimates(two_builds):
    build, _ = two_builds
    values = {name: float(value) for name, value in glued(build, "book/01_baseline").items()
              if name.startswith("v1_")}
    for rate in ("recall", "fpr", "precision"):
        assert values[f"v1_{rate}_low"] < values[f"v1_{rate}"] < values[f"v1_{rate}_high"]


def test_chapter_2_the_worst_day_is_what_chance_predicts(two_builds):
    build, _ = two_builds
    values = glued(build, "book/02_deployment_monitoring")
    # "rare on any one day"
    assert float(values["p_worst"]) < 0.05
    # "chance alone is expected to produce about as many such days as the log has"
    expected, observed = float(values["expected_bad_days"]), int(values["observed_bad_days"])
    assert 0.2 * observed <= expected <= 5 * observed
    # "Even the 7-day TPR was below the target that day": one of the 7-day alert days.
    assert float(values["worst_tpr_7d"]) < 0.90 and int(values["weekly_alert_days"]) >= 1
    # "while the 30-day TPR was ..." above the target, as the dashboard's caption says.
    assert float(values["worst_tpr_30d"]) >= float(values["min_tpr_30d"]) >= 0.90


def test_chapter_2_daily_alerts_are_mostly_noise_that_the_7_day_rate_removes(two_builds):
    build, _ = two_builds
    values = glued(build, "book/02_deployment_monitoring")
    # "a healthy model will often show a daily TPR below the target"
    assert int(values["days_below_target"]) >= 0.1 * int(values["n_days"])
    assert int(values["weekly_alert_days"]) < int(values["daily_alert_days"])
    assert float(values["max_fpr_30d"]) <= 0.05 and float(values["min_precision_30d"]) >= 0.75
