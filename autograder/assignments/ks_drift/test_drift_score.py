"""Hidden checks of ``drift_score(report)`` (1 point): the share of the report's features flagged as drifted."""

import numpy as np
import pandas as pd

from autograder.check import Raises, case, check

SHARE = "The drift score is the share of features whose 'drifted' flag is True (drifted / all), as a float."


def flags_report(flags, prefix="f"):
    """A report with one row per flag, shaped like ks_drift_report's."""
    flags = np.asarray(flags, dtype=bool)
    return pd.DataFrame({"statistic": np.linspace(0.05, 0.5, flags.size),
                         "p_value": np.linspace(0.9, 1e-6, flags.size), "drifted": flags},
                        index=pd.Index([f"{prefix}{i}" for i in range(flags.size)], name="feature"))


@check(points=0.25, hint=SHARE)
def test_share_of_drifted_features(drift_score):
    """The drift score is the share of the report's features flagged as drifted, a float between 0 and 1:
    2 drifted features out of 8 give 0.25."""
    drift_score.agrees_on([
        case(flags_report([True, True] + [False] * 6), expect=0.25,
             why="2 drifted features out of 8 give 0.25: the share of drifted features, not their number."),
        case(flags_report([True, False, True, False]), expect=0.5),
        case(flags_report([True] * 3 + [False] * 5), expect=0.375),
        case(flags_report([False] * 6), expect=0.0),
        case(flags_report([True]), expect=1.0),
        case(flags_report([False]), expect=0.0),
        case(flags_report([True, True, True]), expect=1.0),
    ])


@check(points=0.25, hint="A report with no features has no share: raise ValueError.")
def test_value_error_for_a_report_with_no_features(drift_score):
    """A report with no features raises ValueError."""
    drift_score.agrees_on([
        case(flags_report([]), expect=Raises(ValueError),
             why="A report with no features has no drift score (0 of 0 is no share): raise ValueError."),
    ])


@check(points=0.5, hint=SHARE)
def test_random_reports(drift_score, rng):
    """On 100 random reports the drift score is the share of drifted features."""
    drift_score.agrees_on(random_flag_reports(rng, 100))


def random_flag_reports(rng, count):
    """Reports of 1 to 12 features, each drifted with a probability drawn from 0 to 1."""
    return [case(flags_report(rng.random(int(rng.integers(1, 13))) < rng.uniform(0, 1), prefix="g"))
            for _ in range(count)]
