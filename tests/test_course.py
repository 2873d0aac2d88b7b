"""The course's calendar, artifact folder and baseline bootstrap."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from phishlab import course
from phishlab.registry import ArtifactIntegrityError, ModelRegistry, VersionExistsError
from phishlab.simulation import generate_daily_batches
from phishlab.training import evaluate_model, predict_proba

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


# --- the storyline after July ------------------------------------------------------------------------


def test_production_traffic_follows_the_august_adaptation():
    july, august = course.drift_comparison_data()
    assert july["timestamp"].dt.month.unique().tolist() == [7]
    assert august["timestamp"].dt.month.unique().tolist() == [8]
    phishing_urgency = [frame.loc[frame.label == 1, "urgency_words"].mean() for frame in (july, august)]
    assert phishing_urgency[0] > 3 > 2 > phishing_urgency[1]  # 4.0 before, 1.5 after


def test_drift_comparison_data_has_the_columns_of_the_daily_batches():
    july, august = course.drift_comparison_data()
    expected = generate_daily_batches("2024-07-01", "2024-07-02", random_state=course.COURSE_SEED)
    assert list(july.columns) == list(expected.columns) == list(august.columns)
    pd.testing.assert_frame_equal(july.head(len(expected)), expected)  # same seed, same emails


def test_drift_comparison_data_is_the_same_on_every_call():
    first, second = course.drift_comparison_data(), course.drift_comparison_data()
    for a, b in zip(first, second, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_september_validation_emails_are_not_production_emails():
    validation = course.september_validation_data()
    production = course.production_traffic(course.AB_TEST_START, course.AB_TEST_END)
    assert len(validation) == 2000 and int(validation.label.sum()) == 200
    assert validation["email_id"].str.startswith("val-").all()
    assert not set(validation["email_id"]) & set(production["email_id"])


def test_the_retraining_data_is_january_plus_labelled_august(baseline_model):
    data = course.retraining_data(baseline_model)
    assert set(data["source"]) == {"original", "new"}
    assert (data["source"] == "original").sum() == 1000
    august = data[data.source == "new"]
    assert august["email_id"].str.startswith("202408").all()
    assert 1000 < len(august) < 1300 and august["label"].sum() > 150


def test_the_august_feedback_comes_from_all_three_sources_as_known_when_v2_is_trained(baseline_model):
    feedback = course.august_feedback(baseline_model)
    counts = feedback["source"].value_counts()
    log = course.august_log(baseline_model)
    # Every August alert is reviewed: the analysts have the capacity.
    assert counts["alert review"] == int(log["prediction"].sum())
    assert counts["user report"] > 10 and counts["quality-control sample"] > 600
    events = course.label_events(baseline_model).set_index("email_id").loc[feedback["sample_id"]]
    assert (events["known_on"] <= pd.Timestamp(course.DRIFT_END)).all()
    assert (events["date"] >= pd.Timestamp(course.DRIFT_START)).all()


def test_every_chapter_sees_the_same_label_events(baseline_model):
    """Events up to August are the same whether the story stops in August or goes on."""
    august = course.label_events(baseline_model)
    longer = course.label_events(baseline_model, end=course.AB_TEST_END)
    pd.testing.assert_frame_equal(august, longer.iloc[:len(august)])


def test_the_label_seed_draws_the_chapters_label_events(baseline_model):
    """A chapter that simulates the labels of the served decisions with LABEL_SEED sees the same events."""
    from phishlab.labels import simulate_label_arrival
    from phishlab.scoring import score_batch

    emails = course.production_traffic(course.PRODUCTION_START, course.DRIFT_END)
    log = score_batch(baseline_model, emails, model_version="1.0")
    events = simulate_label_arrival(emails, log, course.LABEL_ARRIVAL, random_state=course.LABEL_SEED)
    pd.testing.assert_frame_equal(events, course.label_events(baseline_model))


def test_ensure_v2_registers_v2_with_its_threshold_and_beats_v1_in_september(storyline_artifacts):
    registry = ModelRegistry(storyline_artifacts / "models")
    model_v2 = course.ensure_v2(registry)
    assert registry.versions() == ["1.0", "2.0"]
    entry = registry.entry("2.0")
    assert entry["trained_at"] == "2024-09-01T06:00:00"
    assert entry["training_data"] == {"start": "2024-01-01", "end": "2024-08-31"}
    threshold = registry.threshold("2.0")
    assert 0.5 < threshold < 1 and entry["metrics"]["threshold"] == threshold
    validation = course.september_validation_data()
    v1 = evaluate_model(registry.load("1.0"), validation)
    v2 = evaluate_model(model_v2, validation, threshold=threshold)
    assert v2["recall"] > v1["recall"] + 0.05
    assert v2["f1"] > v1["f1"] + 0.05
    assert v2["fpr"] <= v1["fpr"] * course.MAX_FPR_RATIO


def test_ensure_v2_loads_the_registered_model_the_second_time(storyline_artifacts):
    registry = ModelRegistry(storyline_artifacts / "models")
    course.ensure_v2(registry)
    index = registry.index_path.read_bytes()
    course.ensure_v2(registry)
    assert registry.index_path.read_bytes() == index


def test_ab_test_predictions_are_both_models_decisions_on_september_mail(storyline_artifacts):
    frame = course.ab_test_predictions()
    assert list(frame.columns) == ["email_id", "date", "y_true", "pred_v1", "pred_v2"]
    assert len(frame) > 2500 and not frame["email_id"].duplicated().any()
    assert frame["date"].dt.month.unique().tolist() == [9]
    for column in ("y_true", "pred_v1", "pred_v2"):
        assert frame[column].dtype == np.int64 and frame[column].isin([0, 1]).all()
    phishing = frame[frame.y_true == 1]
    assert phishing["pred_v2"].mean() > phishing["pred_v1"].mean() + 0.05
    pd.testing.assert_frame_equal(frame, course.ab_test_predictions())


@pytest.mark.parametrize("bad_canary", [False, True])
def test_rollout_traffic_has_one_row_per_october_email(storyline_artifacts, bad_canary):
    frame = course.rollout_traffic(bad_canary=bad_canary)
    assert list(frame.columns) == ["date", "email_id", "y_true", "pred_control", "pred_canary"]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert frame["date"].min() == pd.Timestamp(course.ROLLOUT_START)
    assert frame["date"].max() == pd.Timestamp(course.ROLLOUT_END)
    assert not frame["email_id"].duplicated().any()
    for column in ("y_true", "pred_control", "pred_canary"):
        assert frame[column].dtype == np.int64 and frame[column].isin([0, 1]).all()
    pd.testing.assert_frame_equal(frame, course.rollout_traffic(bad_canary=bad_canary))


def test_the_good_canary_keeps_the_fpr_and_the_bad_one_does_not(storyline_artifacts):
    good, bad = course.rollout_traffic(), course.rollout_traffic(bad_canary=True)
    pd.testing.assert_frame_equal(good.drop(columns="pred_canary"), bad.drop(columns="pred_canary"))
    legit = good[good.y_true == 0]
    assert legit["pred_canary"].mean() <= legit["pred_control"].mean() * course.MAX_FPR_RATIO
    # No false alarm of the good canary in the first stages, whatever the split.
    first_days = legit[legit["date"] < pd.Timestamp("2024-10-08")]
    assert first_days["pred_canary"].sum() == 0
    bad_legit = bad[bad.y_true == 0]
    assert bad_legit["pred_canary"].mean() > 10 * bad_legit["pred_control"].mean()


def test_rollout_traffic_rejects_a_non_boolean_flag():
    with pytest.raises(ValueError, match="bad_canary must be True or False"):
        course.rollout_traffic(bad_canary="yes")


def test_train_v2_needs_the_baseline_fpr(baseline_model):
    with pytest.raises(ValueError, match="'fpr'"):
        course.train_v2(baseline_model, {"recall": 0.9})


def test_the_rollout_plan_covers_october():
    assert sum(days for _, days in course.ROLLOUT_STAGES) == 31
    assert [share for share, _ in course.ROLLOUT_STAGES] == [0.10, 0.50, 1.0]


def test_the_calibration_data_is_the_undrifted_production_traffic_of_february_to_july():
    calibration = course.calibration_data()
    assert calibration["timestamp"].min() >= pd.Timestamp(course.PRODUCTION_START)
    assert calibration["timestamp"].max() < pd.Timestamp(course.DRIFT_START)
    assert (calibration["label"] == 0).sum() > 15_000


def test_the_august_log_is_v1s_prediction_log_of_august(baseline_model):
    log = course.august_log(baseline_model)
    assert log["date"].dt.month.unique().tolist() == [8]
    assert set(log["model_version"]) == {"1.0"}
    phishing = log[log.actual == 1]
    assert phishing["prediction"].mean() < 0.6  # the drift blinds v1.0


def test_traffic_under_another_scenario_is_the_course_traffic_until_that_scenario_differs():
    from phishlab.scenarios import MULTI_WAVE_DRIFT

    before = ("2024-10-30", "2024-10-31")  # the August wave only, in both scenarios
    pd.testing.assert_frame_equal(course.production_traffic(*before),
                                  course.production_traffic(*before, scenario=MULTI_WAVE_DRIFT))
    november = ("2024-11-10", "2024-11-11")
    a = course.production_traffic(*november)
    b = course.production_traffic(*november, scenario=MULTI_WAVE_DRIFT)
    assert not a.equals(b)
    assert len(course.production_traffic(*november, emails_per_day=10)) < len(a)
