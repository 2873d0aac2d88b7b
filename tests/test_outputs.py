"""Label-free monitoring of the model's outputs: alert rate, PSI and Wasserstein distance."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import phishlab.outputs
from phishlab.outputs import OUTPUT_DETECTORS, output_monitor, population_stability_index


def synthetic_log(shift_from="2024-07-20", doubtful_share=0.5, seed=0, per_day=100):
    """10 % flagged mail; from ``shift_from`` a share of the phishing scores drops to 0.4 (missed)."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-06-01", "2024-08-31", freq="D").repeat(per_day)
    phishing = rng.random(len(days)) < 0.1
    scores = np.where(phishing, rng.uniform(0.6, 1.0, len(days)), rng.beta(1, 30, len(days)))
    stealthy = phishing & (days >= shift_from) & (rng.random(len(days)) < doubtful_share)
    scores[stealthy] = rng.uniform(0.2, 0.45, stealthy.sum())
    return pd.DataFrame({"date": days, "probability": scores, "prediction": (scores >= 0.5).astype(int)})


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(phishlab.outputs).failed == 0


def test_psi_is_zero_for_the_same_scores_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    reference = rng.beta(1, 10, 5000)
    assert population_stability_index(reference, reference) == 0
    small, large = (population_stability_index(reference, np.clip(reference + d, 0, 1)) for d in (0.05, 0.3))
    assert 0 < small < large


@pytest.mark.parametrize("bad", [[], [0.5, 1.2], [np.nan], [-0.1]])
def test_psi_refuses_what_is_not_a_sample_of_probabilities(bad):
    with pytest.raises(ValueError):
        population_stability_index([0.1, 0.2], bad)


def test_every_detector_fires_after_the_outputs_change_and_none_on_quiet_windows():
    monitor = output_monitor(synthetic_log(doubtful_share=0.9), ("2024-06-01", "2024-06-30"),
                             "2024-07-07", "2024-08-31", alpha=0.001, n_resamples=3000)
    for detector in OUTPUT_DETECTORS:
        fires = monitor[f"{detector}_fires"]
        assert not fires[:"2024-07-19"].any(), detector
        first = fires[fires].index.min()
        assert pd.Timestamp("2024-07-20") <= first <= pd.Timestamp("2024-07-26"), (detector, first)
        assert fires["2024-07-27":].mean() > 0.9, detector


def test_quiet_windows_rarely_cross_the_calibrated_thresholds():
    """Over many quiet windows each detector fires on about ``alpha`` of them, not far more."""
    alarms = {detector: 0 for detector in OUTPUT_DETECTORS}
    n_windows = 0
    for seed in range(4):
        monitor = output_monitor(synthetic_log(shift_from="2099-01-01", seed=seed),
                                 ("2024-06-01", "2024-06-30"), "2024-07-07", "2024-08-31",
                                 alpha=0.01, random_state=seed)
        n_windows += len(monitor)
        for detector in OUTPUT_DETECTORS:
            alarms[detector] += int(monitor[f"{detector}_fires"].sum())
    # Windows overlap, so alarms come in runs; still far below one window in ten.
    assert all(count < 0.1 * n_windows for count in alarms.values()), alarms


def test_the_thresholds_are_reported_and_the_seed_makes_them_reproducible():
    log = synthetic_log()
    first = output_monitor(log, ("2024-06-01", "2024-06-30"), "2024-07-07", "2024-07-31", random_state=1)
    again = output_monitor(log, ("2024-06-01", "2024-06-30"), "2024-07-07", "2024-07-31", random_state=1)
    assert first.attrs == again.attrs
    assert 0 < first.attrs["reference_alert_rate"] < 1
    assert first.attrs["psi_threshold"] > 0 and first.attrs["wasserstein_threshold"] > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"window_days": 0}, "window_days"), ({"alpha": 1.0}, "alpha"), ({"n_resamples": 5}, "n_resamples"),
    ({"random_state": -2}, "random_state"), ({"start": "2024-09-30", "end": "2024-09-01"}, "end on or after"),
])
def test_impossible_settings_are_refused(kwargs, message):
    settings = {"reference": ("2024-06-01", "2024-06-30"), "start": "2024-07-07", "end": "2024-07-31", **kwargs}
    with pytest.raises(ValueError, match=message):
        output_monitor(synthetic_log(), **settings)
