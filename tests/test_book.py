"""The book builds strictly, has its chapters and figures, and rebuilds identically.

The students' book (the first build) has every chapter and challenge; the
instructors' book (the second) has them too, with the guide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from book_build import executed_outputs, html
from leaks import find_leaks

pytestmark = pytest.mark.slow

CHAPTERS = {
    "book/intro.html": "Keeping a Phishing Detector Healthy",
    "book/01_baseline.html": "The baseline model",
    "book/02_deployment_monitoring.html": "Deployment and monitoring",
    "book/03_concept_drift.html": "Concept drift",
    "book/04_feedback_retraining.html": "Feedback and retraining",
    "book/05_ab_canary.html": "A/B testing and canary rollout",
    "book/06_full_loop.html": "The continuous-improvement loop",
    "book/challenges/index.html": "Going further: practice challenges",
    "book/challenges/01_ensemble.html": "Challenge 1: an ensemble of v1.0 and v2.0",
    "book/challenges/02_active_learning.html": "Challenge 2: active learning",
    "book/challenges/03_cost_weighted.html": "Challenge 3: cost-weighted retraining",
    "book/challenges/04_multi_wave.html": "Challenge 4: multi-wave drift",
    "book/challenges/05_importance_drift.html": "Challenge 5: feature-importance drift",
    "book/bibliography.html": "Bibliography",
}
GUIDE = {
    "book/ta_guide/index.html": "Guide for instructors",
    "book/ta_guide/schedule.html": "Suggested schedule",
    "book/ta_guide/misconceptions.html": "Common misconceptions",
    "book/ta_guide/discussion.html": "Discussion questions",
    "book/ta_guide/assignments.html": "Releasing and grading the assignments",
}
CYCLE_CHAPTERS = [page for page in CHAPTERS if re.match(r"book/0\d_", page)]

# Figures each chapter must show, by the name they are glued under (the glue
# figure's target id in the HTML) -- one per figure the course plan asks for.
NAMED_FIGURES = {
    "book/03_concept_drift.html": ["fig-feature-shift", "fig-ks-pvalues", "fig-sliding-monitor",
                                   "fig-detectors", "fig-degradation"],
    "book/04_feedback_retraining.html": ["fig-label-arrival", "fig-confusion-v1-v2"],
    "book/05_ab_canary.html": ["fig-traffic-allocation", "fig-rollback-power"],
    "book/06_full_loop.html": ["fig-timeline", "fig-year-trend", "fig-loop"],
}


def test_strict_build_produces_every_chapter(two_builds):
    for build in two_builds:
        for page, heading in CHAPTERS.items():
            assert heading in html(build, page), f"{page} lacks its heading {heading!r}"


def test_the_instructors_book_has_the_guide_and_the_students_book_does_not(two_builds):
    students, instructors = two_builds
    for page, heading in GUIDE.items():
        assert heading in html(instructors, page), f"{page} lacks its heading {heading!r}"
        assert not (students / "_build" / "html" / page).exists(), f"the students' book has {page}"
    assert not (students / "book" / "ta_guide").exists()
    for page in (students / "_build" / "html").rglob("*.html"):
        assert "ta_guide" not in page.read_text(encoding="utf-8"), f"{page} links to the instructors' guide"


def test_every_chapter_shows_its_figures(two_builds):
    build, _ = two_builds
    html_root = build / "_build" / "html"
    minimum_figures = {"book/intro.html": 1, "book/01_baseline.html": 2,
                       "book/02_deployment_monitoring.html": 1, "book/03_concept_drift.html": 3,
                       "book/04_feedback_retraining.html": 2, "book/05_ab_canary.html": 2,
                       "book/06_full_loop.html": 3,
                       **{f"book/challenges/{name}.html": 1 for name in (
                           "01_ensemble", "02_active_learning", "03_cost_weighted", "04_multi_wave",
                           "05_importance_drift")}}
    for page, minimum in minimum_figures.items():
        images = re.findall(r'<img[^>]+src="([^"]*_images/[^"]+\.svg)"', html(build, page))
        assert len(images) >= minimum, f"{page} shows {len(images)} figure(s), expected {minimum}"
        for source in images:
            assert (html_root / Path(page).parent / source).resolve().is_file(), source


def test_the_named_figures_of_chapters_3_to_6_are_in_the_html(two_builds):
    build, _ = two_builds
    for page, names in NAMED_FIGURES.items():
        text = html(build, page)
        for name in names:
            match = re.search(rf'<figure[^>]*id="{name}"(.*?)</figure>', text, flags=re.S)
            assert match, f"{page} lacks the figure {name!r}"
            assert re.search(r'<img[^>]+src="[^"]*_images/[^"]+\.svg"', match.group(1)), f"{name} has no image"


def test_chapters_have_objectives_questions_and_summary(two_builds):
    build, _ = two_builds
    for page in CYCLE_CHAPTERS:
        text = html(build, page)
        for section in ("Learning objectives", "Check your understanding", "Summary"):
            assert section in text, f"{page} lacks a {section!r} section"


def test_the_toc_has_the_cycle_the_challenges_the_instructors_part_and_the_reference_last(two_builds):
    parts = {"students": ["The continuous-improvement cycle", "Going further", "Reference"],
             "instructors": ["The continuous-improvement cycle", "Going further", "For instructors", "Reference"]}
    for build, captions in zip(two_builds, parts.values()):
        text = html(build, "book/intro.html")
        found = re.findall(r'<p aria-level="2" class="caption" role="heading">'
                           r'<span class="caption-text">\s*([^<]+?)\s*</span>', text)
        assert found == captions
        for page in CYCLE_CHAPTERS:
            assert Path(page).name in text, f"the intro does not link to {page}"




def test_prose_numbers_come_from_executed_cells(two_builds):
    build, _ = two_builds
    text = html(build, "book/01_baseline.html")
    # The glued recall appears as a percentage in the prose.
    assert re.search(r"catches\s+(<[^>]+>)*\s*\d+\.\d%", text)


def test_generated_artifacts_land_in_the_artifact_folder(two_builds):
    build, _ = two_builds
    artifacts = build / "artifacts"
    for name in ("models/model_v1.0.pkl", "models/scaler_v1.0.pkl", "models/registry.json",
                 "models/model_v2.0.pkl", "models/scaler_v2.0.pkl",
                 "production_logs.csv", "performance_history.csv", "performance_log.csv"):
        assert (artifacts / name).is_file(), f"missing artifact {name}"


def test_two_builds_from_scratch_give_identical_outputs(two_builds):
    first, second = two_builds
    a, b = executed_outputs(first), executed_outputs(second)
    assert a.keys() <= b.keys() and len(a) >= 12
    for notebook in a:
        assert a[notebook] == b[notebook], f"{notebook} differs between two builds"
    for name in ("performance_history.csv", "performance_log.csv", "models/registry.json"):
        assert (first / "artifacts" / name).read_bytes() == (second / "artifacts" / name).read_bytes(), name
    logs = [pd.read_csv(build / "artifacts" / "production_logs.csv") for build in (first, second)]
    # Inference time is a wall-clock measurement; every other column must match.
    pd.testing.assert_frame_equal(*(log.drop(columns="inference_ms") for log in logs))


def test_rendered_book_contains_no_reference_solution_line(two_builds):
    build, _ = two_builds
    pages = sorted((build / "_build" / "html").rglob("*.html"))
    sources = sorted((build / "_build" / "html" / "_sources").rglob("*"))
    downloads = sorted((build / "_build" / "jupyter_execute").rglob("*.ipynb"))
    assert len(pages) >= 10
    assert find_leaks([p for p in [*pages, *sources, *downloads] if p.is_file()]) == []
