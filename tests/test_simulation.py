"""The email-traffic simulator: class ratios, volumes, seeding, columns and bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phishlab import simulation
from phishlab.simulation import (
    EMAIL_FEATURES,
    FEATURES,
    Distribution,
    FeatureSpec,
    feature_spec,
    generate_daily_batches,
    generate_training_set,
    iter_daily_batches,
)

COUNT_FEATURES = [s.name for s in EMAIL_FEATURES if s.kind == "count"]
BINARY_FEATURES = [s.name for s in EMAIL_FEATURES if s.kind == "binary"]
CONTINUOUS_FEATURES = [s.name for s in EMAIL_FEATURES if s.kind == "continuous"]


@pytest.fixture(scope="module")
def balanced_sample() -> pd.DataFrame:
    """A large 50/50 sample, so that per-class statistics are precise."""
    return generate_training_set(n_emails=20_000, phishing_rate=0.5, random_state=7)


@pytest.fixture(scope="module")
def spring_traffic() -> pd.DataFrame:
    """Three months of production traffic with the default volume and rate."""
    return generate_daily_batches("2024-02-01", "2024-04-30", random_state=11)


# --- class ratio and volume -------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2024])
def test_training_set_has_exact_ten_percent_phishing(seed):
    data = generate_training_set(n_emails=1000, phishing_rate=0.10, random_state=seed)
    assert len(data) == 1000
    assert int(data["label"].sum()) == 100


@pytest.mark.parametrize(
    ("n_emails", "rate", "expected"),
    [(250, 0.2, 50), (10, 1.0, 10), (500, 0.0, 0), (7, 0.5, 4)],  # round(3.5) == 4
)
def test_training_set_phishing_count_is_rounded_share_of_n_emails(n_emails, rate, expected):
    data = generate_training_set(n_emails=n_emails, phishing_rate=rate, random_state=3)
    assert len(data) == n_emails
    assert int(data["label"].sum()) == expected


@settings(max_examples=25, deadline=None)
@given(
    n_emails=st.integers(min_value=1, max_value=300),
    rate=st.floats(min_value=0, max_value=1),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_training_set_class_ratio_is_exact_for_any_size_and_rate(n_emails, rate, seed):
    data = generate_training_set(n_emails=n_emails, phishing_rate=rate, random_state=seed)
    assert len(data) == n_emails
    assert int(data["label"].sum()) == round(n_emails * rate)
    assert data["email_id"].is_unique


def test_daily_volume_is_poisson_around_emails_per_day():
    counts = np.array(
        [len(day) for _, day in iter_daily_batches("2024-02-01", "2024-06-29", emails_per_day=100)]
    )
    assert counts.size == 150
    # Mean 100 with standard error 10 / sqrt(150) ~ 0.8.
    assert 97 < counts.mean() < 103
    # Poisson: variance equal to the mean; a fixed daily volume would have variance 0.
    assert 0.7 < counts.var(ddof=1) / counts.mean() < 1.4


def test_daily_volume_follows_a_different_emails_per_day():
    counts = [len(day) for _, day in iter_daily_batches("2024-02-01", "2024-03-31", emails_per_day=20)]
    assert 18 < np.mean(counts) < 22


def test_production_phishing_rate_is_near_ten_percent_over_three_months(spring_traffic):
    assert len(spring_traffic) > 8000
    # Binomial standard error is about 0.003 for 9,000 emails.
    assert spring_traffic["label"].mean() == pytest.approx(0.10, abs=0.01)


def test_production_phishing_rate_follows_the_phishing_rate_argument():
    data = generate_daily_batches("2024-02-01", "2024-02-29", phishing_rate=0.3, random_state=5)
    assert data["label"].mean() == pytest.approx(0.30, abs=0.03)


def test_zero_emails_per_day_gives_an_empty_frame_with_every_column():
    data = generate_daily_batches("2024-02-01", "2024-02-03", emails_per_day=0)
    assert data.empty
    assert list(data.columns) == ["email_id", "timestamp", *FEATURES, "label"]
    assert pd.api.types.is_datetime64_any_dtype(data["timestamp"])
    assert data["label"].dtype == np.int64


# --- seeding ------------------------------------------------------------------------------------


def test_same_seed_gives_identical_training_sets():
    first = generate_training_set(random_state=42)
    second = generate_training_set(random_state=42)
    pd.testing.assert_frame_equal(first, second)


def test_same_seed_gives_identical_daily_batches():
    first = generate_daily_batches("2024-03-01", "2024-03-10", random_state=42)
    second = generate_daily_batches("2024-03-01", "2024-03-10", random_state=42)
    pd.testing.assert_frame_equal(first, second)


def test_different_seeds_give_different_emails():
    first = generate_training_set(random_state=1)
    second = generate_training_set(random_state=2)
    assert not first[list(FEATURES)].equals(second[list(FEATURES)])
    assert not first["label"].equals(second["label"])

    day_a = generate_daily_batches("2024-03-01", "2024-03-01", random_state=1)
    day_b = generate_daily_batches("2024-03-01", "2024-03-01", random_state=2)
    assert not day_a.equals(day_b)


def test_no_seed_gives_fresh_emails_each_time():
    first = generate_training_set(n_emails=200, random_state=None)
    second = generate_training_set(n_emails=200, random_state=None)
    assert not first[list(FEATURES)].equals(second[list(FEATURES)])


def test_a_days_emails_do_not_depend_on_the_requested_range():
    month = generate_daily_batches("2024-03-01", "2024-03-31", random_state=9)
    in_month = month[month["timestamp"].dt.date == dt.date(2024, 3, 15)].reset_index(drop=True)
    alone = generate_daily_batches("2024-03-15", "2024-03-15", random_state=9)
    assert len(alone) > 0
    pd.testing.assert_frame_equal(in_month, alone)

    # The same day inside a range that starts months earlier.
    longer = dict(iter_daily_batches("2024-01-01", "2024-03-20", random_state=9))
    pd.testing.assert_frame_equal(longer[dt.date(2024, 3, 15)], alone)


def test_iter_daily_batches_yields_every_day_in_order_with_its_own_emails():
    batches = list(iter_daily_batches("2024-02-27", "2024-03-02", random_state=0))
    days = [day for day, _ in batches]
    assert days == [dt.date(2024, 2, d) for d in (27, 28, 29)] + [dt.date(2024, 3, d) for d in (1, 2)]
    for day, emails in batches:
        assert (emails["timestamp"].dt.date == day).all()


# --- columns, dtypes and value ranges ------------------------------------------------------------


def test_features_include_the_documented_signals():
    assert len(FEATURES) >= 7
    for name in ("urgency_words", "sender_reputation", "email_length", "num_links"):
        assert name in FEATURES
    assert FEATURES == tuple(spec.name for spec in EMAIL_FEATURES)


@pytest.mark.parametrize("kind", ["training", "daily"])
def test_frames_have_id_timestamp_features_and_label_columns_in_order(kind):
    if kind == "training":
        data = generate_training_set(random_state=0)
    else:
        data = generate_daily_batches("2024-02-01", "2024-02-07", random_state=0)
    assert list(data.columns) == ["email_id", "timestamp", *FEATURES, "label"]
    assert pd.api.types.is_datetime64_any_dtype(data["timestamp"])
    assert data["label"].dtype == np.int64
    assert set(data["label"].unique()) == {0, 1}
    for name in COUNT_FEATURES + BINARY_FEATURES:
        assert data[name].dtype == np.int64, name
    for name in CONTINUOUS_FEATURES:
        assert data[name].dtype == np.float64, name


def test_email_ids_are_unique_strings(spring_traffic):
    training = generate_training_set(random_state=0)
    for data in (training, spring_traffic):
        assert data["email_id"].is_unique
        assert all(isinstance(value, str) and value for value in data["email_id"])
    assert training["email_id"].str.startswith("train-").all()
    assert not spring_traffic["email_id"].str.startswith("train-").any()


def test_timestamps_lie_within_the_requested_days_and_are_sorted():
    data = generate_training_set(start="2024-05-10", end="2024-05-20", random_state=4)
    assert data["timestamp"].min() >= pd.Timestamp("2024-05-10")
    assert data["timestamp"].max() < pd.Timestamp("2024-05-21")
    assert data["timestamp"].is_monotonic_increasing
    # 1,000 emails over 11 days: every day gets some.
    assert data["timestamp"].dt.date.nunique() == 11

    daily = generate_daily_batches("2024-05-10", "2024-05-12", random_state=4)
    assert daily["timestamp"].min() >= pd.Timestamp("2024-05-10")
    assert daily["timestamp"].max() < pd.Timestamp("2024-05-13")
    assert daily["timestamp"].is_monotonic_increasing


def test_a_single_day_training_set_puts_every_email_on_that_day():
    data = generate_training_set(n_emails=50, start="2024-06-01", end="2024-06-01", random_state=0)
    assert (data["timestamp"].dt.date == dt.date(2024, 6, 1)).all()


def test_feature_values_are_in_their_valid_ranges(balanced_sample):
    data = balanced_sample
    for name in COUNT_FEATURES:
        assert (data[name] >= 0).all(), name
    assert (data["email_length"] >= 1).all()
    for name in BINARY_FEATURES:
        assert set(data[name].unique()) == {0, 1}, name
    assert data["sender_reputation"].between(0, 1).all()
    assert data["special_char_ratio"].between(0, 1).all()
    # Continuous features are rounded to their documented number of decimals.
    for spec in EMAIL_FEATURES:
        if spec.decimals is not None:
            values = data[spec.name].to_numpy()
            np.testing.assert_allclose(values, values.round(spec.decimals), rtol=0, atol=1e-12)


# --- realism --------------------------------------------------------------------------------------


def test_phishing_has_more_urgency_words_lower_reputation_and_shorter_emails(training_data):
    means = training_data.groupby("label")[["urgency_words", "sender_reputation", "email_length"]].mean()
    legit, phish = means.loc[0], means.loc[1]
    assert phish["urgency_words"] > 3 * legit["urgency_words"]
    assert phish["sender_reputation"] < legit["sender_reputation"] - 0.3
    assert phish["email_length"] < 0.6 * legit["email_length"]


def test_sample_means_match_the_documented_distributions(balanced_sample):
    for spec in EMAIL_FEATURES:
        for label in (0, 1):
            values = balanced_sample.loc[balanced_sample["label"] == label, spec.name]
            expected = spec.for_label(label).mean()
            standard_error = values.std(ddof=1) / np.sqrt(len(values))
            assert abs(values.mean() - expected) < 5 * standard_error, (spec.name, label)


# --- Distribution and FeatureSpec -------------------------------------------------------------------


def test_distribution_means_follow_the_family_formulas():
    assert Distribution("poisson", {"lam": 3.0}).mean() == 3.0
    assert Distribution("beta", {"a": 2.0, "b": 6.0}).mean() == pytest.approx(0.25)
    assert Distribution("bernoulli", {"p": 0.3}).mean() == 0.3
    lognormal = Distribution("lognormal", {"mean": np.log(100), "sigma": 0.5})
    assert lognormal.mean() == pytest.approx(100 * np.exp(0.125))


def test_distribution_with_params_returns_a_changed_copy():
    original = Distribution("beta", {"a": 2.0, "b": 4.0})
    moved = original.with_params(a=5.0)
    assert dict(moved.params) == {"a": 5.0, "b": 4.0}
    assert dict(original.params) == {"a": 2.0, "b": 4.0}


def test_distribution_params_cannot_be_modified_after_creation():
    params = {"lam": 1.0}
    dist = Distribution("poisson", params)
    params["lam"] = 99.0
    assert dist.params["lam"] == 1.0
    with pytest.raises(TypeError):
        dist.params["lam"] = 2.0  # type: ignore[index]


def test_bernoulli_samples_are_zero_one_integers_with_rate_p():
    values = Distribution("bernoulli", {"p": 0.2}).sample(np.random.default_rng(0), 10_000)
    assert values.dtype == np.int64
    assert set(np.unique(values)) == {0, 1}
    assert values.mean() == pytest.approx(0.2, abs=0.02)


def test_feature_spec_returns_the_spec_of_a_feature():
    spec = feature_spec("sender_reputation")
    assert spec.name == "sender_reputation"
    assert spec.for_label(1) is spec.phishing
    assert spec.for_label(0) is spec.legitimate


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_emails": 0}, r"n_emails must be a positive int, got 0"),
        ({"n_emails": -10}, r"n_emails must be a positive int, got -10"),
        ({"n_emails": 10.0}, r"n_emails must be a positive int"),
        ({"n_emails": True}, r"n_emails must be a positive int"),
        ({"phishing_rate": 1.5}, r"phishing_rate must be in \[0, 1\], got 1.5"),
        ({"phishing_rate": -0.1}, r"phishing_rate must be in \[0, 1\]"),
        ({"phishing_rate": float("nan")}, r"phishing_rate must be in \[0, 1\]"),
        ({"phishing_rate": "0.1"}, r"phishing_rate must be a number in \[0, 1\], got '0.1'"),
        ({"start": "2024-02-01", "end": "2024-01-31"}, r"end \(2024-01-31\) is before start \(2024-02-01\)"),
        ({"start": "2024-13-45"}, r"start must be a date or 'YYYY-MM-DD' string, got '2024-13-45'"),
        ({"end": "next tuesday"}, r"end must be a date or 'YYYY-MM-DD' string"),
        ({"start": None}, r"start must be a date or 'YYYY-MM-DD' string, got None"),
        ({"end": ""}, r"end must be a date or 'YYYY-MM-DD' string"),
        ({"random_state": -1}, r"random_state must be non-negative, got -1"),
        ({"random_state": 1.5}, r"random_state must be a non-negative int or None"),
        ({"random_state": "42"}, r"random_state must be a non-negative int or None"),
    ],
)
def test_generate_training_set_rejects_bad_input_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_training_set(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"emails_per_day": -5}, r"emails_per_day must be a non-negative number, got -5"),
        ({"emails_per_day": float("inf")}, r"emails_per_day must be a non-negative number"),
        ({"emails_per_day": float("nan")}, r"emails_per_day must be a non-negative number"),
        ({"emails_per_day": "100"}, r"emails_per_day must be a non-negative number, got '100'"),
        ({"phishing_rate": 2}, r"phishing_rate must be in \[0, 1\]"),
        ({"end": "2024-01-01"}, r"end \(2024-01-01\) is before start \(2024-02-01\)"),
        ({"start": "not a date"}, r"start must be a date"),
        ({"end": None}, r"end must be a date"),
        ({"random_state": -3}, r"random_state must be non-negative"),
    ],
)
def test_daily_batches_reject_bad_input_with_a_clear_message(kwargs, message):
    arguments = {"start": "2024-02-01", "end": "2024-02-03", **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_daily_batches(**arguments)
    with pytest.raises(ValueError, match=message):
        # The generator validates on the first next(), before yielding anything.
        next(iter_daily_batches(**arguments))


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("gamma", {"k": 1.0}, r"unknown distribution family 'gamma'; expected one of \['bernoulli'"),
        ("poisson", {"mean": 1.0}, r"a poisson distribution takes parameters \['lam'\], got \['mean'\]"),
        ("beta", {"a": 1.0}, r"a beta distribution takes parameters \['a', 'b'\], got \['a'\]"),
        ("poisson", {"lam": -1.0}, r"poisson lam must be >= 0, got -1.0"),
        ("beta", {"a": 0.0, "b": 2.0}, r"beta a and b must be > 0"),
        ("lognormal", {"mean": 1.0, "sigma": 0.0}, r"lognormal sigma must be > 0, got 0.0"),
        ("bernoulli", {"p": 1.5}, r"bernoulli p must be in \[0, 1\], got 1.5"),
        ("poisson", {"lam": float("inf")}, r"parameter 'lam' must be finite"),
        ("poisson", {"lam": "many"}, r"parameter 'lam' must be a number, got 'many'"),
        ("poisson", None, r"params must be a mapping"),
    ],
)
def test_distribution_rejects_unknown_family_wrong_params_and_invalid_values(family, params, message):
    with pytest.raises(ValueError, match=message):
        Distribution(family, params)


def test_with_params_rejects_a_parameter_the_family_does_not_have():
    message = r"poisson distribution has no parameter\(s\) \['p'\]; it has \['lam'\]"
    with pytest.raises(ValueError, match=message):
        Distribution("poisson", {"lam": 1.0}).with_params(p=0.5)


def test_feature_spec_rejects_an_unknown_feature_name_and_lists_the_known_ones():
    message = r"unknown feature 'subject_length'; expected one of \[.*'urgency_words'"
    with pytest.raises(ValueError, match=message):
        feature_spec("subject_length")


def test_feature_spec_rejects_an_unknown_kind():
    dist = Distribution("poisson", {"lam": 1.0})
    with pytest.raises(ValueError, match=r"feature kind must be count, continuous or binary, got 'ordinal'"):
        FeatureSpec("x", "ordinal", dist, dist)


def test_module_exports_what_it_documents():
    for name in simulation.__all__:
        assert hasattr(simulation, name)


def test_every_feature_has_a_unit_for_axis_labels():
    from phishlab.simulation import EMAIL_FEATURES, feature_label

    for spec in EMAIL_FEATURES:
        assert spec.unit, f"{spec.name} has no unit"
        assert feature_label(spec.name) == f"{spec.name} ({spec.unit})"
    with pytest.raises(ValueError):
        feature_label("no_such_feature")
