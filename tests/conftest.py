"""Shared fixtures: the course's baseline model and two cold book builds, made once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from book_build import PUBLISHED, start_build
from imblearn.pipeline import Pipeline

from phishlab import course


@pytest.fixture(scope="session")
def baseline() -> tuple[Pipeline, dict]:
    """Model v1.0 and its held-out metrics, exactly as the book trains them.

    Tests must not modify the returned objects.
    """
    return course.train_baseline()


@pytest.fixture(scope="session")
def baseline_model(baseline) -> Pipeline:
    """The fitted v1.0 pipeline (do not modify)."""
    return baseline[0]


@pytest.fixture(scope="session")
def training_data() -> pd.DataFrame:
    """The January 2024 training set (tests must work on copies)."""
    return course.baseline_training_data()


@pytest.fixture
def training_frame(training_data) -> pd.DataFrame:
    """A fresh copy of the training set that a test may modify."""
    return training_data.copy()


@pytest.fixture(scope="session")
def storyline_artifacts(tmp_path_factory):
    """A private artifact folder for the storyline functions, shared by the session.

    The first test that needs v2.0 trains it (a few seconds); the others load it.
    """
    folder = tmp_path_factory.mktemp("storyline-artifacts")
    previous = os.environ.get(course.ARTIFACTS_ENV)
    os.environ[course.ARTIFACTS_ENV] = str(folder)
    yield folder
    if previous is None:
        del os.environ[course.ARTIFACTS_ENV]
    else:
        os.environ[course.ARTIFACTS_ENV] = previous


_BOOK_BUILDS = pytest.StashKey[list]()


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what will not run
def pytest_collection_modifyitems(session, config, items) -> None:
    """Start the two book builds as soon as the tests are known, and run the tests that read them last.

    One builds the students' edition, the other the instructors'; they take
    minutes, and meanwhile the rest of the suite runs.
    """
    readers = [item for item in items if "two_builds" in getattr(item, "fixturenames", ())]
    if not readers or config.option.collectonly:
        return
    items[:] = [item for item in items if item not in readers] + readers
    root = Path(config._tmp_path_factory.mktemp("book-builds"))
    builds = []
    for kind in ("students", "instructors"):
        folder = root / kind
        log = root / f"{kind}.log"
        builds.append((folder, log, start_build(folder, folder / "artifacts", log, kind)))
    config.stash[_BOOK_BUILDS] = builds


def pytest_unconfigure(config) -> None:
    for _, _, process in config.stash.get(_BOOK_BUILDS, []):
        if process.poll() is None:
            process.kill()


@pytest.fixture(scope="session")
def two_builds(request) -> tuple[Path, Path]:
    """Cold builds of the students' and the instructors' books, each from its edition alone, side by side.

    They start when the tests are collected (see ``pytest_collection_modifyitems``).
    Every test that reads what students read uses the first; the second has the
    instructors' guide, and shows that a rebuild gives identical chapters.
    """
    builds = request.config.stash[_BOOK_BUILDS]
    for _, log, process in builds:
        returncode = process.wait(timeout=1800)
        if returncode != 0:
            text = log.read_text(encoding="utf-8", errors="replace")
            problems = [line for line in text.splitlines() if "WARNING" in line or "Error" in line]
            pytest.fail(f"strict book build failed (exit {returncode}):\n" + "\n".join(problems[-40:]))
    return builds[0][0], builds[1][0]


@pytest.fixture(scope="session")
def student_edition(tmp_path_factory) -> Path:
    """The students' edition of the working tree: what notebooks a student runs are checked against."""
    from editions.build import write_edition

    return write_edition("students", tmp_path_factory.mktemp("editions") / "students", values=PUBLISHED["students"])


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), driven by Playwright; the test is skipped without it."""
    from browser import CHROMIUM_ARGS, chromium_executable

    executable = chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed (python3 tasks.py test installs it as root on Debian)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
