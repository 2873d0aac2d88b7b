"""Drift scenarios: they move the named features of the named class, and nothing else."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from phishlab.scenarios import (
    AUGUST_2024_ADAPTATION,
    MULTI_WAVE_DRIFT,
    NO_DRIFT,
    DriftScenario,
    DriftWave,
    Shift,
    scenario_from_records,
)
from phishlab.simulation import EMAIL_FEATURES, FEATURES, feature_spec, generate_daily_batches

AUGUST_SHIFTED = ["urgency_words", "sender_reputation", "email_length"]
SEED = 2024


@pytest.fixture(scope="module")
def july_and_august() -> tuple[pd.DataFrame, pd.DataFrame]:
    """July and August under the August scenario, 50 % phishing for precise per-class means."""
    kwargs = {"emails_per_day": 200, "phishing_rate": 0.5, "scenario": AUGUST_2024_ADAPTATION,
              "random_state": SEED}
    july = generate_daily_batches("2024-07-01", "2024-07-31", **kwargs)
    august = generate_daily_batches("2024-08-01", "2024-08-31", **kwargs)
    return july, august


def _welch_z(before: pd.Series, after: pd.Series) -> float:
    """Difference of means in units of its standard error."""
    se = math.sqrt(before.var(ddof=1) / len(before) + after.var(ddof=1) / len(after))
    return float((after.mean() - before.mean()) / se)


def _by_class(frame: pd.DataFrame, label: int) -> pd.DataFrame:
    return frame[frame["label"] == label]


# --- the August wave moves what it names ------------------------------------------------------


def test_august_drift_moves_phishing_features_strongly_in_the_named_direction(july_and_august):
    july, august = (_by_class(frame, 1) for frame in july_and_august)
    assert len(july) > 2500 and len(august) > 2500

    # Fewer urgency words: Poisson mean 4.0 -> 1.5.
    assert july["urgency_words"].mean() == pytest.approx(4.0, abs=0.15)
    assert august["urgency_words"].mean() == pytest.approx(1.5, abs=0.1)
    assert _welch_z(july["urgency_words"], august["urgency_words"]) < -30

    # Better sender reputation: Beta mean 2/6 -> 4/7.5.
    assert august["sender_reputation"].mean() - july["sender_reputation"].mean() > 0.15
    assert _welch_z(july["sender_reputation"], august["sender_reputation"]) > 30

    # Longer bodies: median 140 -> 230 words.
    ratio = august["email_length"].median() / july["email_length"].median()
    assert ratio == pytest.approx(230 / 140, rel=0.1)
    assert _welch_z(july["email_length"], august["email_length"]) > 30


def test_august_drift_leaves_other_phishing_features_statistically_unchanged(july_and_august):
    july, august = (_by_class(frame, 1) for frame in july_and_august)
    unshifted = [name for name in FEATURES if name not in AUGUST_SHIFTED]
    assert len(unshifted) >= 4
    for name in unshifted:
        assert abs(_welch_z(july[name], august[name])) < 4, name


def test_august_drift_leaves_all_legitimate_mail_statistically_unchanged(july_and_august):
    july, august = (_by_class(frame, 0) for frame in july_and_august)
    for name in FEATURES:
        assert abs(_welch_z(july[name], august[name])) < 4, name


def test_august_drift_changes_exactly_the_named_distributions():
    before, after = dt.date(2024, 7, 31), dt.date(2024, 8, 1)
    for spec in EMAIL_FEATURES:
        legit_before, phish_before = AUGUST_2024_ADAPTATION.distributions_on(before, spec)
        legit_after, phish_after = AUGUST_2024_ADAPTATION.distributions_on(after, spec)
        # Legitimate mail never moves, before or after the wave.
        assert legit_before == spec.legitimate
        assert legit_after == spec.legitimate
        assert phish_before == spec.phishing
        if spec.name in AUGUST_SHIFTED:
            assert phish_after != spec.phishing, spec.name
        else:
            assert phish_after == spec.phishing, spec.name


def test_august_drift_sets_the_documented_parameters():
    day = "2024-12-31"
    urgency = AUGUST_2024_ADAPTATION.distributions_on(day, feature_spec("urgency_words"))[1]
    reputation = AUGUST_2024_ADAPTATION.distributions_on(day, feature_spec("sender_reputation"))[1]
    length = AUGUST_2024_ADAPTATION.distributions_on(day, feature_spec("email_length"))[1]
    assert dict(urgency.params) == {"lam": 1.5}
    assert dict(reputation.params) == {"a": 4.0, "b": 3.5}
    # Only the median moves; the spread (sigma) keeps its value.
    assert length.params["mean"] == pytest.approx(math.log(230))
    assert length.params["sigma"] == feature_spec("email_length").phishing.params["sigma"]


def test_before_the_wave_a_scenario_gives_exactly_the_same_emails_as_no_scenario():
    plain = generate_daily_batches("2024-07-20", "2024-07-31", random_state=SEED)
    drifted = generate_daily_batches(
        "2024-07-20", "2024-07-31", scenario=AUGUST_2024_ADAPTATION, random_state=SEED
    )
    no_drift = generate_daily_batches("2024-07-20", "2024-07-31", scenario=NO_DRIFT, random_state=SEED)
    pd.testing.assert_frame_equal(drifted, plain)
    pd.testing.assert_frame_equal(no_drift, plain)


def test_from_the_wave_start_a_scenario_changes_phishing_emails_only():
    plain = generate_daily_batches("2024-08-01", "2024-08-01", random_state=SEED)
    drifted = generate_daily_batches(
        "2024-08-01", "2024-08-01", scenario=AUGUST_2024_ADAPTATION, random_state=SEED
    )
    # Same volume, ids, times and labels (drawn before the features) ...
    pd.testing.assert_frame_equal(
        drifted[["email_id", "timestamp", "label"]], plain[["email_id", "timestamp", "label"]]
    )
    # ... but the phishing emails' urgency words come from the shifted distribution.
    phishing = plain["label"] == 1
    assert not drifted.loc[phishing, "urgency_words"].equals(plain.loc[phishing, "urgency_words"])


# --- several waves -------------------------------------------------------------------------------


def test_november_wave_keeps_the_august_shifts():
    spec_urgency, spec_links = feature_spec("urgency_words"), feature_spec("num_links")
    spec_domain = feature_spec("domain_mismatch")

    october = "2024-10-31"
    assert MULTI_WAVE_DRIFT.distributions_on(october, spec_urgency)[1].params["lam"] == 1.5
    assert MULTI_WAVE_DRIFT.distributions_on(october, spec_links)[1] == spec_links.phishing

    november = "2024-11-15"
    assert MULTI_WAVE_DRIFT.distributions_on(november, spec_urgency)[1].params["lam"] == 1.5
    assert MULTI_WAVE_DRIFT.distributions_on(november, spec_links)[1].params["lam"] == 1.8
    assert MULTI_WAVE_DRIFT.distributions_on(november, spec_domain)[1].params["p"] == 0.08
    # February adds its own shifts and still keeps both earlier waves.
    march = "2025-03-01"
    assert MULTI_WAVE_DRIFT.distributions_on(march, spec_urgency)[1].params["lam"] == 1.5
    assert MULTI_WAVE_DRIFT.distributions_on(march, spec_links)[1].params["lam"] == 1.8
    assert MULTI_WAVE_DRIFT.distributions_on(march, feature_spec("external_sender"))[1].params["p"] == 0.40
    for spec in EMAIL_FEATURES:
        assert MULTI_WAVE_DRIFT.distributions_on(march, spec)[0] == spec.legitimate


def test_shifted_features_lists_the_moved_features_in_feature_order():
    assert AUGUST_2024_ADAPTATION.shifted_features() == AUGUST_SHIFTED
    assert NO_DRIFT.shifted_features() == []
    assert MULTI_WAVE_DRIFT.shifted_features() == list(FEATURES)  # the three waves move all eight


def test_waves_apply_in_date_order_whatever_order_they_are_given_in():
    early = DriftWave("early", "2024-08-01", (Shift("urgency_words", 1, {"lam": 2.0}),))
    late = DriftWave("late", "2024-09-01", (Shift("urgency_words", 1, {"lam": 1.0}),))
    scenario = DriftScenario("reversed", (late, early))
    assert [wave.name for wave in scenario.waves] == ["early", "late"]
    spec = feature_spec("urgency_words")
    assert scenario.distributions_on("2024-08-15", spec)[1].params["lam"] == 2.0
    assert scenario.distributions_on("2024-09-15", spec)[1].params["lam"] == 1.0


def test_a_ramping_wave_starts_from_where_earlier_waves_left_the_feature():
    early = DriftWave("early", "2024-08-01", (Shift("urgency_words", 1, {"lam": 2.0}),))
    ramp = DriftWave("ramp", "2024-09-01", (Shift("urgency_words", 1, {"lam": 1.0}),), ramp_days=10)
    scenario = DriftScenario("two", (early, ramp))
    lam = scenario.distributions_on("2024-09-05", feature_spec("urgency_words"))[1].params["lam"]
    # Between the August value (2.0) and the target, not between the original 4.0 and the target.
    assert 1.0 < lam < 2.0


def test_a_wave_may_shift_both_classes_of_one_feature():
    wave = DriftWave(
        "both", "2024-08-01",
        (Shift("num_links", 0, {"lam": 3.0}), Shift("num_links", 1, {"lam": 6.0})),
    )
    legit, phish = DriftScenario("both", (wave,)).distributions_on("2024-08-02", feature_spec("num_links"))
    assert legit.params["lam"] == 3.0
    assert phish.params["lam"] == 6.0


# --- ramps ------------------------------------------------------------------------------------------


def test_a_ten_day_ramp_is_partly_in_effect_halfway_and_fully_after():
    spec = feature_spec("urgency_words")
    start = dt.date(2024, 8, 1)
    wave = DriftWave("slow", start, (Shift("urgency_words", 1, {"lam": 1.0}),), ramp_days=10)
    scenario = DriftScenario("ramp", (wave,))

    def lam(day: dt.date) -> float:
        return scenario.distributions_on(day, spec)[1].params["lam"]

    assert lam(start - dt.timedelta(days=1)) == 4.0
    halfway = lam(start + dt.timedelta(days=5))
    assert 1.0 < halfway < 4.0
    assert lam(start + dt.timedelta(days=10)) == pytest.approx(1.0)
    assert lam(start + dt.timedelta(days=60)) == pytest.approx(1.0)
    # The parameter moves monotonically from the old value to the new one.
    path = [lam(start + dt.timedelta(days=k)) for k in range(-2, 14)]
    assert all(b <= a for a, b in itertools.pairwise(path))
    assert len(set(path)) > 5  # a ramp, not a step


def test_progress_of_a_wave_goes_from_zero_to_one():
    start = dt.date(2024, 8, 1)
    abrupt = DriftWave("abrupt", start, (Shift("urgency_words", 1, {"lam": 1.0}),))
    ramped = DriftWave("ramp", start, (Shift("urgency_words", 1, {"lam": 1.0}),), ramp_days=10)
    assert abrupt.progress_on(start - dt.timedelta(days=1)) == 0.0
    assert abrupt.progress_on(start) == 1.0
    assert ramped.progress_on(start - dt.timedelta(days=1)) == 0.0
    assert 0.0 < ramped.progress_on(start) < 1.0  # the start day is (partly) in effect
    assert ramped.progress_on(start + dt.timedelta(days=10)) == 1.0


# --- describe and records ------------------------------------------------------------------------------


def test_describe_has_one_row_per_shift_with_means_before_and_after():
    table = AUGUST_2024_ADAPTATION.describe()
    assert list(table.columns) == ["wave", "start", "feature", "class", "mean_before", "mean_after"]
    assert list(table["feature"]) == AUGUST_SHIFTED
    assert set(table["class"]) == {"phishing"}
    assert set(table["start"]) == {dt.date(2024, 8, 1)}
    urgency = table.set_index("feature").loc["urgency_words"]
    assert (urgency["mean_before"], urgency["mean_after"]) == (4.0, 1.5)
    reputation = table.set_index("feature").loc["sender_reputation"]
    assert reputation["mean_before"] == pytest.approx(2 / 6, abs=1e-3)
    assert reputation["mean_after"] == pytest.approx(4 / 7.5, abs=1e-3)

    multi = MULTI_WAVE_DRIFT.describe()
    assert len(multi) == sum(len(wave.shifts) for wave in MULTI_WAVE_DRIFT.waves) == 8
    assert multi["wave"].nunique() == 3
    links = multi.set_index("feature").loc["num_links"]
    assert (links["mean_before"], links["mean_after"]) == (4.0, 1.8)


def test_describe_of_no_drift_is_an_empty_table_with_the_columns():
    table = NO_DRIFT.describe()
    assert table.empty
    assert list(table.columns) == ["wave", "start", "feature", "class", "mean_before", "mean_after"]


def test_describe_names_the_legitimate_class():
    wave = DriftWave("legit", "2024-08-01", (Shift("num_links", 0, {"lam": 3.0}),))
    table = DriftScenario("x", (wave,)).describe()
    assert list(table["class"]) == ["legitimate"]
    assert (table.loc[0, "mean_before"], table.loc[0, "mean_after"]) == (2.0, 3.0)


def _records(scenario: DriftScenario, label_names: bool = False) -> list[dict]:
    names = {0: "legitimate", 1: "phishing"}
    return [
        {
            "wave": wave.name,
            "start": wave.start.isoformat(),
            "feature": shift.feature,
            "label": names[shift.label] if label_names else shift.label,
            "params": dict(shift.params),
            "ramp_days": wave.ramp_days,
        }
        for wave in scenario.waves
        for shift in wave.shifts
    ]


@pytest.mark.parametrize("label_names", [False, True])
@pytest.mark.parametrize("scenario", [AUGUST_2024_ADAPTATION, MULTI_WAVE_DRIFT], ids=["august", "multi"])
def test_scenario_from_records_round_trips(scenario, label_names):
    rebuilt = scenario_from_records(scenario.name, _records(scenario, label_names))
    assert rebuilt == scenario
    pd.testing.assert_frame_equal(rebuilt.describe(), scenario.describe())


def test_scenario_from_records_keeps_ramps_and_accepts_csv_text():
    records = [
        {"wave": "slow", "start": "2024-08-01", "feature": "urgency_words", "label": "phishing",
         "params": {"lam": 1.0}, "ramp_days": "10"},
        {"wave": "slow", "start": "2024-08-01", "feature": "num_links", "label": 1,
         "params": {"lam": 2.0}, "ramp_days": 10},
        {"wave": "later", "start": "2024-10-01", "feature": "num_links", "label": 0,
         "params": {"lam": 3.0}},
    ]
    scenario = scenario_from_records("custom", records)
    waves = [(w.name, w.ramp_days, len(w.shifts)) for w in scenario.waves]
    assert waves == [("slow", 10, 2), ("later", 0, 1)]
    assert scenario.waves[1].start == dt.date(2024, 10, 1)


# --- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "label", "params", "message"),
    [
        ("subject_length", 1, {"lam": 1.0}, r"unknown feature 'subject_length'"),
        ("urgency_words", 2, {"lam": 1.0}, r"label must be 0 \(legitimate\) or 1 \(phishing\), got 2"),
        ("urgency_words", "phishing", {"lam": 1.0}, r"label must be 0 \(legitimate\) or 1 \(phishing\)"),
        ("urgency_words", 1, {"p": 0.5}, r"poisson distribution has no parameter\(s\) \['p'\]"),
        ("urgency_words", 1, {"lam": -1.0}, r"poisson lam must be >= 0"),
        ("sender_reputation", 1, {"a": 0.0}, r"beta a and b must be > 0"),
        ("urgency_words", 1, {}, r"shift of 'urgency_words' changes no parameter"),
        ("urgency_words", 1, [("lam", 1.0)], r"params of the 'urgency_words' shift must be a mapping"),
    ],
)
def test_shift_rejects_bad_input(feature, label, params, message):
    with pytest.raises(ValueError, match=message):
        Shift(feature, label, params)


def test_drift_wave_rejects_an_empty_list_of_shifts():
    with pytest.raises(ValueError, match=r"wave 'quiet' has no shifts"):
        DriftWave("quiet", "2024-08-01", ())


def test_drift_wave_rejects_the_same_feature_and_class_twice():
    shifts = (Shift("urgency_words", 1, {"lam": 1.0}), Shift("urgency_words", 1, {"lam": 2.0}))
    with pytest.raises(ValueError, match=r"wave 'twice' shifts the same feature and class twice"):
        DriftWave("twice", "2024-08-01", shifts)


@pytest.mark.parametrize("ramp_days", [-1, 2.5, True, "10"])
def test_drift_wave_rejects_a_ramp_that_is_not_a_non_negative_int(ramp_days):
    with pytest.raises(ValueError, match=r"ramp_days must be a non-negative int"):
        DriftWave("w", "2024-08-01", (Shift("urgency_words", 1, {"lam": 1.0}),), ramp_days)


@pytest.mark.parametrize("start", ["first of august", None, ""])
def test_drift_wave_rejects_a_start_that_is_not_a_date(start):
    with pytest.raises(ValueError, match=r"wave start must be a date"):
        DriftWave("w", start, (Shift("urgency_words", 1, {"lam": 1.0}),))


_GOOD = {"wave": "w", "start": "2024-08-01", "feature": "urgency_words", "label": 1, "params": {"lam": 1.0}}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"params": None}, r"record 0: params must be a mapping"),
        ({"params": "lam=1"}, r"record 0: params must be a mapping"),
        ({"label": "spam"}, r"record 0: label must be 'legitimate' or 'phishing', got 'spam'"),
        ({"label": 2}, r"record 0: label must be 0, 1, 'legitimate' or 'phishing', got 2"),
        ({"label": None}, r"record 0: label must be 0, 1, 'legitimate' or 'phishing', got None"),
        ({"label": 1.7}, r"record 0: label must be 0, 1, 'legitimate' or 'phishing', got 1.7"),
        ({"ramp_days": -1}, r"record 0: ramp_days must be a non-negative int, got -1"),
        ({"ramp_days": 2.7}, r"record 0: ramp_days must be a non-negative int, got 2.7"),
        ({"ramp_days": "soon"}, r"record 0: ramp_days must be a non-negative int, got 'soon'"),
        ({"start": "someday"}, r"record 0: start must be a date, got 'someday'"),
        ({"start": None}, r"record 0: start must be a date, got None"),
        ({"feature": "subject_length"}, r"unknown feature 'subject_length'"),
        ({"params": {"sigma": 1.0}}, r"poisson distribution has no parameter\(s\) \['sigma'\]"),
    ],
)
def test_scenario_from_records_rejects_bad_records(changes, message):
    with pytest.raises(ValueError, match=message):
        scenario_from_records("bad", [{**_GOOD, **changes}])


def test_scenario_from_records_names_the_missing_keys():
    record = {key: value for key, value in _GOOD.items() if key not in {"label", "params"}}
    with pytest.raises(ValueError, match=r"record 0 is missing key\(s\) \['label', 'params'\]"):
        scenario_from_records("bad", [record])


def test_scenario_from_records_rejects_a_wave_with_two_start_dates():
    second = {**_GOOD, "feature": "num_links", "start": "2024-09-01"}
    with pytest.raises(ValueError, match=r"record 1: wave 'w' has two start dates"):
        scenario_from_records("bad", [_GOOD, second])


def test_scenario_from_records_rejects_a_duplicate_shift_within_a_wave():
    with pytest.raises(ValueError, match=r"shifts the same feature and class twice"):
        scenario_from_records("bad", [_GOOD, {**_GOOD, "params": {"lam": 2.0}}])


def test_scenario_records_with_float_integers_are_accepted():
    scenario = scenario_from_records("ok", [{**_GOOD, "label": 1.0, "ramp_days": np.int64(3)}])
    assert scenario.waves[0].shifts[0].label == 1
    assert scenario.waves[0].ramp_days == 3
