"""The book builds strictly, has its chapters and figures, and rebuilds identically."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from book_build import executed_outputs, start_build

pytestmark = pytest.mark.slow

CHAPTERS = {
    "book/intro.html": "Keeping a Phishing Detector Healthy",
    "book/01_baseline.html": "The baseline model",
    "book/02_deployment_monitoring.html": "Deployment and monitoring",
}


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory) -> tuple[Path, Path]:
    """Two independent cold builds, run side by side to halve the wait."""
    builds = []
    processes = []
    for name in ("first", "second"):
        folder = tmp_path_factory.mktemp(f"book-{name}")
        log = folder / "build.log"
        processes.append((start_build(folder, folder / "artifacts", log), log))
        builds.append(folder)
    for process, log in processes:
        returncode = process.wait(timeout=1800)
        if returncode != 0:
            text = log.read_text(encoding="utf-8", errors="replace")
            problems = [line for line in text.splitlines() if "WARNING" in line or "Error" in line]
            pytest.fail(f"strict book build failed (exit {returncode}):\n" + "\n".join(problems[-40:]))
    return builds[0], builds[1]


def html(build: Path, page: str) -> str:
    return (build / "_build" / "html" / page).read_text(encoding="utf-8")


def test_strict_build_produces_every_chapter(two_builds):
    build, _ = two_builds
    for page, heading in CHAPTERS.items():
        assert heading in html(build, page), f"{page} lacks its heading {heading!r}"


def test_every_chapter_shows_its_figures(two_builds):
    build, _ = two_builds
    html_root = build / "_build" / "html"
    minimum_figures = {"book/intro.html": 1, "book/01_baseline.html": 2,
                       "book/02_deployment_monitoring.html": 1}
    for page, minimum in minimum_figures.items():
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html(build, page))
        assert len(images) >= minimum, f"{page} shows {len(images)} figure(s), expected {minimum}"
        for source in images:
            assert (html_root / Path(page).parent / source).resolve().is_file(), source


def test_chapters_have_objectives_questions_and_summary(two_builds):
    build, _ = two_builds
    for page in ("book/01_baseline.html", "book/02_deployment_monitoring.html"):
        text = html(build, page)
        for section in ("Learning objectives", "Check your understanding", "Summary"):
            assert section in text, f"{page} lacks a {section!r} section"


def test_prose_numbers_come_from_executed_cells(two_builds):
    build, _ = two_builds
    text = html(build, "book/01_baseline.html")
    # The glued recall appears as a percentage in the prose.
    assert re.search(r"catches\s+(<[^>]+>)*\s*\d+\.\d%", text)


def test_generated_artifacts_land_in_the_artifact_folder(two_builds):
    build, _ = two_builds
    artifacts = build / "artifacts"
    for name in ("models/model_v1.0.pkl", "models/scaler_v1.0.pkl", "models/registry.json",
                 "production_logs.csv", "performance_history.csv", "performance_log.csv"):
        assert (artifacts / name).is_file(), f"missing artifact {name}"


def test_two_builds_from_scratch_give_identical_outputs(two_builds):
    first, second = two_builds
    a, b = executed_outputs(first), executed_outputs(second)
    assert a.keys() == b.keys()
    for notebook in a:
        assert a[notebook] == b[notebook], f"{notebook} differs between two builds"
    for name in ("performance_history.csv", "performance_log.csv", "models/registry.json"):
        assert (first / "artifacts" / name).read_bytes() == (second / "artifacts" / name).read_bytes(), name
    logs = [pd.read_csv(build / "artifacts" / "production_logs.csv") for build in (first, second)]
    # Inference time is a wall-clock measurement; every other column must match.
    pd.testing.assert_frame_equal(*(log.drop(columns="inference_ms") for log in logs))
