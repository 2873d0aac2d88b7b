"""Hidden checks of ``should_retrain(report, alerts, score_threshold=0.3)`` (1 point).

While these run, the reference's drift_score stands in for the student's, so a mistake there is not
charged twice.
"""

import numpy as np
import pandas as pd

from autograder.check import case, check

LENT = ("drift_score",)
RULE = "Return True iff drift_score(report) > score_threshold (strictly) or any alert is True, else False."
QUIET = {"tpr": False, "fpr": False, "precision": False}


def flags_report(flags):
    """A report with one row per flag, shaped like ks_drift_report's."""
    flags = np.asarray(flags, dtype=bool)
    return pd.DataFrame({"statistic": np.linspace(0.05, 0.5, flags.size),
                         "p_value": np.linspace(0.9, 1e-6, flags.size), "drifted": flags},
                        index=pd.Index([f"f{i}" for i in range(flags.size)], name="feature"))


@check(points=0.25, hint="Retrain when the drift score is strictly greater than score_threshold; "
                         "a score equal to it does not retrain.", lend=LENT)
def test_retrain_when_the_drift_score_is_greater_than_the_threshold(should_retrain):
    """Without alerts, retrain iff the drift score is greater than score_threshold: a score equal to the
    threshold does not retrain."""
    should_retrain.agrees_on([
        case(flags_report([True, True, False, False]), QUIET, expect=True),
        case(flags_report([False] * 4), QUIET, expect=False),
        case(flags_report([True] * 3 + [False] * 7), QUIET, expect=False,
             why="3 drifted features of 10 give a drift score of exactly 0.3, which is not greater than 0.3."),
        case(flags_report([True] * 4 + [False] * 6), QUIET, expect=True),
        case(flags_report([True] * 3 + [False] * 7), QUIET, score_threshold=0.25, expect=True,
             why="Use the score_threshold passed in: 0.3 > 0.25."),
        case(flags_report([True, False, False, False]), QUIET, score_threshold=0.25, expect=False,
             why="1 drifted feature of 4 gives exactly 0.25, which is not greater than 0.25."),
        case(flags_report([True, False, False, False]), QUIET, score_threshold=0.2, expect=True),
        case(flags_report([False] * 5), QUIET, score_threshold=0.0, expect=False),
        case(flags_report([True, True]), QUIET, score_threshold=1.0, expect=False),
    ])


@check(points=0.25, hint="A performance alert alone triggers retraining, whatever the drift score.", lend=LENT)
def test_any_performance_alert_triggers_retraining(should_retrain):
    """Any performance alert that is true triggers retraining, whatever the drift score."""
    quiet_report = flags_report([False] * 4)
    should_retrain.agrees_on([
        case(quiet_report, {**QUIET, "fpr": True}, expect=True,
             why="No feature drifted, but the FPR alert alone triggers retraining."),
        case(quiet_report, {**QUIET, "tpr": True}, expect=True),
        case(quiet_report, {**QUIET, "precision": True}, expect=True),
        case(quiet_report, {"tpr": True, "fpr": True, "precision": True}, expect=True),
        case(flags_report([True, False, False, False]), {**QUIET, "tpr": True}, expect=True),
        case(flags_report([True, True]), {**QUIET, "precision": True}, score_threshold=1.0, expect=True),
        case(quiet_report, QUIET, expect=False),
    ])


@check(points=0.5, hint=RULE, lend=LENT)
def test_random_reports_alerts_and_thresholds(should_retrain, rng):
    """On 100 random reports, alerts and thresholds the decision is the reference's."""
    should_retrain.agrees_on(random_reports_alerts_and_thresholds(rng, 100))


def random_reports_alerts_and_thresholds(rng, count):
    """Reports of 1 to 9 features (each drifted with probability 0.35), each alert true with probability 0.15,
    thresholds from 0 to 1, often a share a report can have exactly (0.25, 0.5, ...)."""
    cases = []
    for _ in range(count):
        flags = rng.random(int(rng.integers(1, 10))) < 0.35
        alerts = {k: bool(v) for k, v in zip(QUIET, rng.random(3) < 0.15)}
        threshold = float(rng.choice([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.75, 1.0]))
        cases.append(case(flags_report(flags), alerts, score_threshold=threshold))
    return cases
