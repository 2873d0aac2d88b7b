"""The model registry: round trips, refusal to overwrite, integrity checks and bad input."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import StandardScaler

from phishlab import course
from phishlab.registry import (
    ArtifactIntegrityError,
    ModelRegistry,
    RegistryError,
    VersionExistsError,
)
from phishlab.training import build_pipeline, predict_proba, train_model

JANUARY = ("2024-01-01", "2024-01-31")
METRICS = {"roc_auc": 0.99, "precision": 0.97, "recall": 0.95, "fpr": 0.003, "f1": 0.96,
           "confusion_matrix": [[1795, 5], [9, 191]], "n_emails": 2000}


@pytest.fixture(scope="module")
def model_a(training_data):
    return train_model(training_data, random_state=1, n_estimators=10)


@pytest.fixture(scope="module")
def model_b(training_data):
    return train_model(training_data, random_state=2, n_estimators=10)


@pytest.fixture
def registry(tmp_path) -> ModelRegistry:
    return ModelRegistry(tmp_path / "models")


def _save(registry, model, version="1.0", **kwargs):
    arguments = {"training_range": JANUARY, "metrics": METRICS, "trained_at": course.BASELINE_TRAINED_AT}
    return registry.save(model, version, **{**arguments, **kwargs})


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not valid JSON."""

    def refuse(constant):
        raise AssertionError(f"invalid JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


# --- round trip ------------------------------------------------------------------------------------


def test_saved_model_loads_with_identical_predictions(registry, baseline, training_data):
    model, metrics = baseline
    _save(registry, model, metrics=metrics)
    loaded = registry.load("1.0")
    np.testing.assert_array_equal(predict_proba(loaded, training_data), predict_proba(model, training_data))
    for name in ("model_v1.0.pkl", "scaler_v1.0.pkl", "pipeline_v1.0.pkl", "registry.json"):
        assert (registry.root / name).is_file(), name


def test_model_and_scaler_load_on_their_own(registry, model_a, training_data):
    _save(registry, model_a)
    forest = registry.load("1.0", part="model")
    scaler = registry.load("1.0", part="scaler")
    assert isinstance(forest, RandomForestClassifier)
    assert isinstance(scaler, StandardScaler)
    features = training_data[list(model_a.feature_names_in_)]
    np.testing.assert_array_equal(
        forest.predict_proba(scaler.transform(features))[:, 1], predict_proba(model_a, training_data)
    )


def test_index_is_readable_json_with_the_models_metadata(registry, model_a):
    returned = _save(registry, model_a, notes="baseline")
    text = registry.index_path.read_text(encoding="utf-8")
    assert "\n  " in text  # indented for people, not one long line
    index = _strict_json(text)
    assert list(index) == ["1.0"]
    entry = index["1.0"]
    assert entry == returned
    assert entry["version"] == "1.0"
    assert entry["trained_at"] == "2024-01-31T23:00:00"
    assert entry["training_data"] == {"start": "2024-01-01", "end": "2024-01-31"}
    assert entry["metrics"] == METRICS
    assert entry["notes"] == "baseline"
    assert entry["features"] == list(model_a.feature_names_in_)
    assert set(entry["artifacts"]) == {"pipeline", "model", "scaler"}
    for role, info in entry["artifacts"].items():
        digest = hashlib.sha256((registry.root / info["file"]).read_bytes()).hexdigest()
        assert info["sha256"] == digest, role
    assert entry["artifacts"]["model"]["file"] == "model_v1.0.pkl"


def test_training_range_accepts_dates_and_timestamps(registry, model_a):
    entry = _save(registry, model_a, training_range=(dt.date(2024, 1, 1), pd.Timestamp("2024-01-31 18:00")))
    assert entry["training_data"] == {"start": "2024-01-01", "end": "2024-01-31"}


def test_nan_and_numpy_metrics_are_stored_as_valid_json(registry, model_a):
    metrics = {
        "roc_auc": float("nan"),
        "fpr": np.float64("nan"),
        "recall": np.float64(0.5),
        "n_emails": np.int64(10),
        "per_day": np.array([0.9, np.nan]),
    }
    _save(registry, model_a, metrics=metrics)
    stored = _strict_json(registry.index_path.read_text(encoding="utf-8"))["1.0"]["metrics"]
    assert stored == {"roc_auc": None, "fpr": None, "recall": 0.5, "n_emails": 10, "per_day": [0.9, None]}


def test_trained_at_defaults_to_now_in_utc(registry, model_a):
    entry = registry.save(model_a, "1.0", training_range=JANUARY, metrics={})
    trained_at = pd.Timestamp(entry["trained_at"])
    assert trained_at.tzinfo is not None
    assert abs(pd.Timestamp.now(tz="UTC") - trained_at) < pd.Timedelta(minutes=5)


def test_a_new_registry_object_sees_saved_versions(registry, model_a, training_data):
    _save(registry, model_a)
    reopened = ModelRegistry(registry.root)
    assert reopened.versions() == ["1.0"]
    np.testing.assert_array_equal(
        predict_proba(reopened.load("1.0"), training_data), predict_proba(model_a, training_data)
    )


def test_registry_folder_is_created(tmp_path):
    root = tmp_path / "deep" / "models"
    ModelRegistry(root)
    assert root.is_dir()


# --- overwriting ----------------------------------------------------------------------------------


def test_saving_an_existing_version_is_refused_and_leaves_its_files_untouched(registry, model_a, model_b):
    _save(registry, model_a)
    before = _snapshot(registry.root)
    with pytest.raises(VersionExistsError, match=r"version 1.0 is already registered.*overwrite=True"):
        _save(registry, model_b, notes="second")
    assert _snapshot(registry.root) == before


def test_version_exists_error_is_a_value_error():
    assert issubclass(VersionExistsError, RegistryError)
    assert issubclass(ArtifactIntegrityError, RegistryError)
    assert issubclass(RegistryError, ValueError)


def test_overwrite_true_replaces_a_version(registry, model_a, model_b, training_data):
    _save(registry, model_a)
    entry = _save(registry, model_b, notes="retrained", overwrite=True)
    assert registry.versions() == ["1.0"]
    assert registry.entry("1.0") == entry
    assert registry.entry("1.0")["notes"] == "retrained"
    np.testing.assert_array_equal(
        predict_proba(registry.load("1.0"), training_data), predict_proba(model_b, training_data)
    )
    assert not np.array_equal(predict_proba(model_a, training_data), predict_proba(model_b, training_data))


# --- integrity ---------------------------------------------------------------------------------------


def test_a_modified_model_file_is_detected_on_load(registry, model_a):
    _save(registry, model_a)
    with (registry.root / "model_v1.0.pkl").open("ab") as handle:
        handle.write(b"tampered")
    message = r"model artifact of version 1.0 has been modified.*SHA-256"
    with pytest.raises(ArtifactIntegrityError, match=message):
        registry.load("1.0")
    # Every part of the version is refused, not only the modified one.
    with pytest.raises(ArtifactIntegrityError, match=r"modified"):
        registry.load("1.0", part="scaler")


def test_a_missing_artifact_is_detected_on_load(registry, model_a):
    _save(registry, model_a)
    (registry.root / "scaler_v1.0.pkl").unlink()
    with pytest.raises(ArtifactIntegrityError, match=r"scaler artifact of version 1.0 is missing"):
        registry.load("1.0")
    with pytest.raises(ArtifactIntegrityError, match=r"missing"):
        registry.verify("1.0")


def test_verify_passes_on_an_untouched_version(registry, model_a):
    _save(registry, model_a)
    assert registry.verify("1.0") is None


# --- looking versions up ------------------------------------------------------------------------------


def test_unknown_version_error_lists_the_registered_versions(registry, model_a):
    with pytest.raises(RegistryError, match=r"unknown version '1.0'; registered versions: none"):
        registry.load("1.0")
    _save(registry, model_a, "1.0")
    _save(registry, model_a, "1.1")
    with pytest.raises(RegistryError, match=r"unknown version '2.0'; registered versions: 1.0, 1.1"):
        registry.load("2.0")
    with pytest.raises(ValueError, match=r"registered versions: 1.0, 1.1"):
        registry.entry("2.0")


def test_versions_sort_numerically_and_latest_is_the_highest(registry, model_a):
    for version in ("1.9", "1.10", "1.0"):
        _save(registry, model_a, version)
    assert registry.versions() == ["1.0", "1.9", "1.10"]
    assert registry.latest() == "1.10"


def test_list_versions_is_a_table_of_versions_and_metrics(registry, model_a):
    _save(registry, model_a, "1.0", notes="baseline")
    _save(registry, model_a, "2.0", training_range=("2024-08-01", "2024-08-31"), metrics={"recall": 0.9})
    table = registry.list_versions()
    assert list(table.index) == ["1.0", "2.0"]
    assert table.index.name == "version"
    assert table.loc["1.0", "training_start"] == "2024-01-01"
    assert table.loc["2.0", "training_end"] == "2024-08-31"
    assert table.loc["1.0", "roc_auc"] == 0.99
    assert math.isnan(table.loc["2.0", "roc_auc"])  # not recorded for 2.0
    assert table.loc["2.0", "recall"] == 0.9
    assert table.loc["1.0", "notes"] == "baseline"
    assert table.loc["1.0", "sha256"] == registry.entry("1.0")["artifacts"]["pipeline"]["sha256"][:12]


def test_an_empty_registry_has_no_versions_and_no_latest(registry):
    assert registry.versions() == []
    assert registry.list_versions().empty
    with pytest.raises(RegistryError, match=r"is empty"):
        registry.latest()


def test_membership_test_checks_registered_versions(registry, model_a):
    _save(registry, model_a)
    assert "1.0" in registry
    assert "2.0" not in registry
    assert 1.0 not in registry


def test_load_rejects_an_unknown_part(registry, model_a):
    _save(registry, model_a)
    message = r"part must be one of \['model', 'pipeline', 'scaler'\], got 'forest'"
    with pytest.raises(RegistryError, match=message):
        registry.load("1.0", part="forest")


# --- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "1", "", 1.0, None, "1.0.0", " 1.0", "1.0\n", "one.zero"])
def test_bad_version_strings_are_rejected(registry, model_a, version):
    with pytest.raises(RegistryError, match=r"version must look like '1.0' or '2.1'"):
        _save(registry, model_a, version)
    with pytest.raises(RegistryError, match=r"version must look like '1.0' or '2.1'"):
        registry.load(version)
    assert list(registry.root.iterdir()) == []


def test_an_unfitted_pipeline_is_rejected(registry):
    with pytest.raises(RegistryError, match=r"the pipeline is not fitted"):
        _save(registry, build_pipeline())
    assert list(registry.root.iterdir()) == []


def test_an_object_without_scaler_and_model_steps_is_rejected(registry, model_a):
    with pytest.raises(RegistryError, match=r"pipeline must have 'scaler' and 'model' steps"):
        _save(registry, model_a.named_steps["model"])


def test_a_training_range_ending_before_it_starts_is_rejected(registry, model_a):
    message = r"training_range ends \(2024-01-01\) before it starts \(2024-01-31\)"
    with pytest.raises(RegistryError, match=message):
        _save(registry, model_a, training_range=("2024-01-31", "2024-01-01"))
    assert list(registry.root.iterdir()) == []


@pytest.mark.parametrize(
    "training_range",
    [("2024-01-01",), ("2024-01-01", "2024-01-15", "2024-01-31"), None, ("2024-01-01", None),
     ("start", "2024-01-31"), "2024-01-01"],
)
def test_a_training_range_that_is_not_two_dates_is_rejected(registry, model_a, training_range):
    with pytest.raises(RegistryError, match=r"training_range must be two dates \(start, end\)"):
        _save(registry, model_a, training_range=training_range)
    assert list(registry.root.iterdir()) == []


def test_metrics_must_be_a_mapping(registry, model_a):
    with pytest.raises(RegistryError, match=r"metrics must be a mapping"):
        _save(registry, model_a, metrics=None)


def test_a_bad_trained_at_is_rejected_before_any_file_is_written(registry, model_a, model_b):
    with pytest.raises(RegistryError, match=r"trained_at must be a date and time, got 'yesterday'"):
        _save(registry, model_a, trained_at="yesterday")
    assert list(registry.root.iterdir()) == []

    # With overwrite=True, a rejected save must not replace the files of the registered version.
    _save(registry, model_a)
    before = _snapshot(registry.root)
    with pytest.raises(RegistryError, match=r"trained_at must be a date and time"):
        _save(registry, model_b, trained_at="yesterday", overwrite=True)
    assert _snapshot(registry.root) == before
    registry.verify("1.0")


def test_an_index_that_is_not_valid_json_gives_a_clear_registry_error(registry):
    registry.index_path.write_text('{"1.0": {"version": ', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"registry index .*registry.json is not valid JSON"):
        registry.versions()
    with pytest.raises(RegistryError, match=r"is not valid JSON"):
        registry.load("1.0")


def test_an_index_that_is_not_a_json_object_gives_a_clear_registry_error(registry):
    registry.index_path.write_text('["1.0"]', encoding="utf-8")
    with pytest.raises(RegistryError, match=r"must hold a JSON object"):
        registry.versions()


# --- decision threshold ---------------------------------------------------------------------------


def test_the_decision_threshold_is_stored_with_the_version(registry, model_a):
    registry.save(model_a, "2.0", training_range=JANUARY, metrics=METRICS, threshold=0.7)
    assert registry.threshold("2.0") == 0.7
    assert registry.entry("2.0")["threshold"] == 0.7
    assert registry.list_versions().loc["2.0", "threshold"] == 0.7


def test_the_threshold_defaults_to_one_half(registry, model_a):
    _save(registry, model_a, "1.0")
    assert registry.threshold("1.0") == 0.5


def test_an_index_written_before_thresholds_existed_reads_as_one_half(registry, model_a):
    _save(registry, model_a, "1.0")
    index = json.loads(registry.index_path.read_text())
    del index["1.0"]["threshold"]
    registry.index_path.write_text(json.dumps(index))
    assert registry.threshold("1.0") == 0.5
    assert registry.list_versions().loc["1.0", "threshold"] == 0.5


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1, "0.5", None, True, float("nan")])
def test_a_threshold_outside_the_open_unit_interval_is_rejected(registry, model_a, threshold):
    with pytest.raises(RegistryError, match=r"threshold must be a number in \(0, 1\)"):
        registry.save(model_a, "1.0", training_range=JANUARY, metrics=METRICS, threshold=threshold)
    assert "1.0" not in registry
