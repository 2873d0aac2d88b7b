"""Production scoring and the prediction log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from phishlab.scoring import LOG_COLUMNS, append_log, read_log, run_production, score_batch
from phishlab.simulation import iter_daily_batches
from phishlab.training import predict_proba


def fake_clock(*readings: float):
    """A clock returning ``readings`` in turn, and failing if read more often."""
    values = iter(readings)
    return lambda: next(values)


@pytest.fixture(scope="module")
def week() -> list:
    return list(iter_daily_batches("2024-02-01", "2024-02-07", random_state=5))


@pytest.fixture(scope="module")
def emails(week) -> pd.DataFrame:
    return week[0][1]


def _rows(model, emails, version="1.0", threshold=0.5):
    return score_batch(model, emails, version, threshold, clock=fake_clock(0.0, 0.1))


# --- score_batch ------------------------------------------------------------------------------------


def test_score_batch_gives_one_log_row_per_email_with_exactly_the_log_columns(baseline_model, emails):
    rows = _rows(baseline_model, emails)
    assert list(rows.columns) == list(LOG_COLUMNS)
    assert len(rows) == len(emails)
    assert rows["email_id"].tolist() == emails["email_id"].tolist()
    assert (rows["date"] == emails["timestamp"].dt.normalize().to_numpy()).all()
    assert (rows["date"] == pd.Timestamp("2024-02-01")).all()
    assert rows["prediction"].dtype == np.int64
    assert rows["actual"].dtype == np.int64


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.8])
def test_prediction_is_probability_at_or_above_the_threshold(baseline_model, emails, threshold):
    rows = _rows(baseline_model, emails, threshold=threshold)
    np.testing.assert_array_equal(rows["probability"], predict_proba(baseline_model, emails))
    np.testing.assert_array_equal(rows["prediction"], (rows["probability"] >= threshold).astype(int))


def test_an_email_exactly_at_the_threshold_is_flagged(baseline_model, emails):
    proba = predict_proba(baseline_model, emails)
    threshold = float(np.sort(proba[(proba > 0) & (proba < 1)])[0])
    rows = _rows(baseline_model, emails, threshold=threshold)
    on_threshold = rows["probability"] == threshold
    assert on_threshold.any()
    assert (rows.loc[on_threshold, "prediction"] == 1).all()


def test_log_records_the_true_label_and_the_model_version(baseline_model, emails):
    rows = _rows(baseline_model, emails, version="2.3")
    np.testing.assert_array_equal(rows["actual"], emails["label"])
    assert set(rows["model_version"]) == {"2.3"}
    assert rows["actual"].sum() > 0  # the day has phishing emails, so the check above means something


def test_inference_time_per_email_comes_from_the_injected_clock(baseline_model, training_data):
    hundred = training_data.head(100)
    rows = score_batch(baseline_model, hundred, "1.0", clock=fake_clock(10.0, 10.5))
    # 0.5 s for 100 emails: 5 ms each.
    assert rows["inference_ms"].tolist() == pytest.approx([5.0] * 100)


def test_inference_time_uses_a_real_clock_by_default(baseline_model, emails):
    rows = score_batch(baseline_model, emails, "1.0")
    assert (rows["inference_ms"] > 0).all()
    assert rows["inference_ms"].nunique() == 1  # the batch time shared equally


# --- run_production and the CSV log -------------------------------------------------------------


def test_run_production_logs_every_email_of_every_day(baseline_model, week, tmp_path):
    log = run_production(baseline_model, week, "1.0", log_path=tmp_path / "log.csv", show_progress=False)
    assert list(log.columns) == list(LOG_COLUMNS)
    assert len(log) == sum(len(day) for _, day in week)
    assert log["date"].dt.date.unique().tolist() == [day for day, _ in week]
    expected = pd.concat([_rows(baseline_model, day) for _, day in week], ignore_index=True)
    pd.testing.assert_frame_equal(log.drop(columns="inference_ms"), expected.drop(columns="inference_ms"))


def test_read_log_round_trips_the_written_log(baseline_model, week, tmp_path):
    path = tmp_path / "log.csv"
    log = run_production(baseline_model, week, "1.0", log_path=path, show_progress=False)
    back = read_log(path)
    pd.testing.assert_frame_equal(back, log, check_exact=True)


def test_run_production_appends_each_day_as_it_is_scored(baseline_model, week, tmp_path):
    path = tmp_path / "log.csv"
    seen = []

    def stream():
        for day, emails in week:
            # When the next batch is requested, every earlier day is already on disk.
            if seen:
                assert len(read_log(path)) == sum(len(e) for e in seen)
            seen.append(emails)
            yield day, emails

    run_production(baseline_model, stream(), "1.0", log_path=path, show_progress=False, total=len(week))
    assert len(read_log(path)) == sum(len(e) for e in seen)


def test_run_production_adds_to_an_existing_log(baseline_model, week, tmp_path):
    path = tmp_path / "log.csv"
    run_production(baseline_model, week[:3], "1.0", log_path=path, show_progress=False)
    run_production(baseline_model, week[3:], "1.1", log_path=path, show_progress=False)
    back = read_log(path)
    assert len(back) == sum(len(day) for _, day in week)
    assert back["model_version"].tolist().count("1.1") == sum(len(day) for _, day in week[3:])
    assert path.read_text().count("date,email_id") == 1


def test_run_production_without_a_path_writes_nothing(baseline_model, week, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = run_production(baseline_model, week[:2], "1.0", show_progress=False)
    assert len(log) == len(week[0][1]) + len(week[1][1])
    assert list(tmp_path.iterdir()) == []


def test_run_production_skips_empty_days(baseline_model, week):
    empty = week[0][1].iloc[:0]
    batches = [(week[0][0], empty), week[1], (week[2][0], empty)]
    log = run_production(baseline_model, batches, "1.0", show_progress=False)
    assert len(log) == len(week[1][1])


def test_run_production_with_only_empty_days_raises(baseline_model, week):
    empty = week[0][1].iloc[:0]
    with pytest.raises(ValueError, match=r"no emails to score: every batch was empty"):
        run_production(baseline_model, [(week[0][0], empty)], "1.0", show_progress=False)


def test_append_log_writes_the_header_once(baseline_model, emails, tmp_path):
    path = tmp_path / "log.csv"
    rows = _rows(baseline_model, emails)
    append_log(rows, path)
    append_log(rows, path)
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(LOG_COLUMNS)
    assert sum(line.startswith("date,") for line in lines) == 1
    assert len(lines) == 1 + 2 * len(rows)
    pd.testing.assert_frame_equal(read_log(path), pd.concat([rows, rows], ignore_index=True))


def test_append_log_writes_a_header_into_an_existing_empty_file(baseline_model, emails, tmp_path):
    path = tmp_path / "log.csv"
    path.touch()
    append_log(_rows(baseline_model, emails), path)
    assert path.read_text().startswith("date,email_id,")


def test_append_log_creates_missing_folders_and_writes_dates_without_time(baseline_model, emails, tmp_path):
    path = tmp_path / "logs" / "2024" / "log.csv"
    append_log(_rows(baseline_model, emails), path)
    assert path.read_text().splitlines()[1].startswith("2024-02-01,")


def test_append_log_writes_only_the_log_columns_in_order(baseline_model, emails, tmp_path):
    rows = _rows(baseline_model, emails)
    shuffled = rows.assign(extra=1)[["extra", *reversed(LOG_COLUMNS)]]
    append_log(shuffled, tmp_path / "log.csv")
    assert (tmp_path / "log.csv").read_text().splitlines()[0] == ",".join(LOG_COLUMNS)


def test_append_log_rejects_rows_that_are_not_log_rows(tmp_path):
    with pytest.raises(ValueError, match=r"log rows are missing column\(s\) \['probability'"):
        append_log(pd.DataFrame({"date": ["2024-02-01"], "email_id": ["x"]}), tmp_path / "log.csv")
    assert not (tmp_path / "log.csv").exists()


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.drop(columns="label"), r"missing column\(s\) \['label'\]"),
        (lambda e: e.drop(columns="email_id"), r"missing column\(s\) \['email_id'\]"),
        (lambda e: e.drop(columns="timestamp"), r"missing column\(s\) \['timestamp'\]"),
        (lambda e: e.drop(columns="num_links"), r"missing column\(s\) \['num_links'\]"),
        (lambda e: e.iloc[:0], r"the data frame is empty"),
        (lambda e: e.assign(label=2), r"label must contain only 0"),
    ],
    ids=["no-label", "no-email-id", "no-timestamp", "no-feature", "empty", "label-2"],
)
def test_score_batch_rejects_bad_emails_with_a_clear_message(baseline_model, emails, change, message):
    with pytest.raises(ValueError, match=message):
        score_batch(baseline_model, change(emails), "1.0")


@pytest.mark.parametrize("threshold", [0, 1, -0.5, 1.5, float("nan")])
def test_score_batch_rejects_a_threshold_outside_zero_one(baseline_model, emails, threshold):
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\)"):
        score_batch(baseline_model, emails, "1.0", threshold=threshold)


@pytest.mark.parametrize("version", ["", None, 1.0])
def test_score_batch_rejects_an_empty_or_non_string_model_version(baseline_model, emails, version):
    with pytest.raises(ValueError, match=r"model_version must be a non-empty string"):
        score_batch(baseline_model, emails, version)


def test_read_log_of_a_missing_file_raises(tmp_path):
    with pytest.raises(ValueError, match=r"no prediction log at .*nothing.csv"):
        read_log(tmp_path / "nothing.csv")


def test_read_log_of_a_csv_that_is_not_a_log_raises(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"other.csv is not a prediction log: missing column\(s\) \['date'"):
        read_log(path)


def test_read_log_of_a_csv_missing_some_log_columns_raises(tmp_path):
    path = tmp_path / "partial.csv"
    path.write_text("date,email_id,probability\n2024-02-01,x,0.3\n")
    message = r"not a prediction log: missing column\(s\) \['prediction', 'actual'"
    with pytest.raises(ValueError, match=message):
        read_log(path)


def test_read_log_of_an_empty_file_raises(tmp_path):
    path = tmp_path / "empty.csv"
    path.touch()
    with pytest.raises(ValueError, match=r"empty.csv is not a prediction log: the file is empty"):
        read_log(path)
