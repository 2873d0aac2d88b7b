"""The course's calendar, artifact folder and baseline bootstrap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from phishlab import course
from phishlab.registry import ArtifactIntegrityError, ModelRegistry, VersionExistsError
from phishlab.training import predict_proba

# --- artifact folder -----------------------------------------------------------------------------------


def test_artifact_dir_honours_the_environment_variable(tmp_path, monkeypatch):
    target = tmp_path / "my-artifacts"
    monkeypatch.setenv(course.ARTIFACTS_ENV, str(target))
    assert course.ARTIFACTS_ENV == "PHISHLAB_ARTIFACTS"
    assert course.artifact_dir() == target
    assert target.is_dir()


def test_artifact_dir_does_not_create_the_folder_when_asked_not_to(tmp_path, monkeypatch):
    target = tmp_path / "later"
    monkeypatch.setenv(course.ARTIFACTS_ENV, str(target))
    assert course.artifact_dir(create=False) == target
    assert not target.exists()


def test_artifact_dir_is_at_the_repository_root_found_by_its_toc(tmp_path, monkeypatch):
    monkeypatch.delenv(course.ARTIFACTS_ENV, raising=False)
    root = tmp_path / "course"
    (root / "book" / "chapter").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\n")
    monkeypatch.chdir(root / "book" / "chapter")
    assert course.artifact_dir() == (root / "artifacts").resolve()
    assert (root / "artifacts").is_dir()
    assert not (root / "book" / "chapter" / "artifacts").exists()


def test_artifact_dir_uses_the_nearest_toc_upward(tmp_path, monkeypatch):
    monkeypatch.delenv(course.ARTIFACTS_ENV, raising=False)
    (tmp_path / "_toc.yml").write_text("outer\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "_toc.yml").write_text("inner\n")
    monkeypatch.chdir(inner)
    assert course.artifact_dir(create=False) == (inner / "artifacts").resolve()


def test_artifact_dir_outside_a_repository_is_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(course.ARTIFACTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert course.artifact_dir(create=False) == (tmp_path / "artifacts").resolve()


def test_an_empty_environment_variable_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(course.ARTIFACTS_ENV, "")
    monkeypatch.chdir(tmp_path)
    assert course.artifact_dir(create=False) == (tmp_path / "artifacts").resolve()


# --- calendar and data ------------------------------------------------------------------------------------


def test_the_course_calendar_is_consecutive():
    assert course.TRAINING_START < course.TRAINING_END < course.PRODUCTION_START
    assert course.PRODUCTION_START - course.TRAINING_END == dt.timedelta(days=1)
    assert course.DRIFT_START - course.PRODUCTION_END == dt.timedelta(days=1)
    assert course.DRIFT_START == dt.date(2024, 8, 1)


def test_baseline_training_data_is_january_with_ten_percent_phishing(training_data):
    assert len(training_data) == 1000
    assert int(training_data["label"].sum()) == 100
    assert training_data["timestamp"].dt.date.min() >= course.TRAINING_START
    assert training_data["timestamp"].dt.date.max() <= course.TRAINING_END


def test_baseline_test_data_is_a_separate_january_sample(training_data):
    test = course.baseline_test_data()
    assert len(test) == 2000
    assert int(test["label"].sum()) == 200
    assert not test.head(1000).drop(columns="email_id").equals(training_data.drop(columns="email_id"))


# --- baseline bootstrap ---------------------------------------------------------------------------------


@pytest.fixture
def counted_training(monkeypatch, baseline):
    """Replace train_baseline by a counter that returns the session's (identical) baseline."""
    calls = []

    def fake_train_baseline():
        calls.append(1)
        return baseline

    monkeypatch.setattr(course, "train_baseline", fake_train_baseline)
    return calls


def test_ensure_baseline_trains_and_registers_v1_in_an_empty_registry(tmp_path, counted_training, baseline):
    registry = ModelRegistry(tmp_path / "models")
    model = course.ensure_baseline(registry)
    assert counted_training == [1]
    assert registry.versions() == ["1.0"]
    entry = registry.entry("1.0")
    assert entry["training_data"] == {"start": "2024-01-01", "end": "2024-01-31"}
    assert entry["trained_at"] == "2024-01-31T23:00:00"
    assert entry["metrics"] == baseline[1]
    assert entry["notes"].startswith("Baseline")
    assert model is baseline[0]


def test_ensure_baseline_loads_v1_the_second_time_without_retraining(
    tmp_path, counted_training, baseline, training_data
):
    registry = ModelRegistry(tmp_path / "models")
    course.ensure_baseline(registry)
    index_before = registry.index_path.read_bytes()
    loaded = course.ensure_baseline(registry)
    assert counted_training == [1]  # not trained again
    assert loaded is not baseline[0]  # read back from disk
    np.testing.assert_array_equal(
        predict_proba(loaded, training_data), predict_proba(baseline[0], training_data)
    )
    assert registry.index_path.read_bytes() == index_before


def test_ensure_baseline_refuses_a_tampered_v1(tmp_path, counted_training):
    registry = ModelRegistry(tmp_path / "models")
    course.ensure_baseline(registry)
    with (registry.root / "pipeline_v1.0.pkl").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ArtifactIntegrityError, match=r"modified"):
        course.ensure_baseline(registry)
    assert counted_training == [1]


def test_ensure_baseline_trains_the_real_baseline(tmp_path, baseline, training_data):
    registry = ModelRegistry(tmp_path / "models")
    model = course.ensure_baseline(registry)
    np.testing.assert_array_equal(
        predict_proba(model, training_data), predict_proba(baseline[0], training_data)
    )
    assert registry.entry("1.0")["metrics"] == baseline[1]


def test_register_baseline_refuses_to_replace_v1_unless_asked(tmp_path, baseline):
    registry = ModelRegistry(tmp_path / "models")
    course.register_baseline(registry, *baseline)
    with pytest.raises(VersionExistsError, match=r"already registered"):
        course.register_baseline(registry, *baseline)
    entry = course.register_baseline(registry, *baseline, overwrite=True)
    assert entry["version"] == "1.0"
