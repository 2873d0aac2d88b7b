"""The course's storyline: its calendar, its seed and where artifacts go.

Every chapter takes its dates and seed from here, so the chapters tell one
consistent story and a change of calendar is made in one place.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline

from phishlab.feedback import apply_feedback
from phishlab.labels import LabelArrival, feedback_known_by, simulate_label_arrival
from phishlab.registry import ModelRegistry
from phishlab.retraining import RetrainResult, combine_training_data, retrain
from phishlab.scenarios import AUGUST_2024_ADAPTATION, DriftScenario
from phishlab.scoring import score_batch
from phishlab.simulation import generate_daily_batches, generate_training_set
from phishlab.training import evaluate_model, predict_proba, train_model

__all__ = [
    "AB_TEST_END",
    "AB_TEST_START",
    "ARTIFACTS_ENV",
    "BAD_CANARY_THRESHOLD",
    "BASELINE_TRAINED_AT",
    "COURSE_SEED",
    "DRIFT_END",
    "DRIFT_SCENARIO",
    "DRIFT_START",
    "LABEL_ARRIVAL",
    "LABEL_SEED",
    "MAX_FPR_RATIO",
    "PRODUCTION_END",
    "PRODUCTION_START",
    "RETRAINED_AT",
    "ROLLOUT_END",
    "ROLLOUT_STAGES",
    "ROLLOUT_START",
    "TRAINING_END",
    "TRAINING_START",
    "ab_test_predictions",
    "artifact_dir",
    "august_feedback",
    "august_log",
    "baseline_test_data",
    "baseline_training_data",
    "calibration_data",
    "drift_comparison_data",
    "ensure_baseline",
    "ensure_v2",
    "label_events",
    "production_log",
    "production_traffic",
    "register_baseline",
    "register_v2",
    "retraining_data",
    "rollout_traffic",
    "september_validation_data",
    "train_baseline",
    "train_v2",
]

COURSE_SEED = 2024
"""Seed of every simulation in the book."""

TRAINING_START = dt.date(2024, 1, 1)
TRAINING_END = dt.date(2024, 1, 31)
PRODUCTION_START = dt.date(2024, 2, 1)
PRODUCTION_END = dt.date(2024, 7, 31)
DRIFT_START = dt.date(2024, 8, 1)
DRIFT_END = dt.date(2024, 8, 31)
AB_TEST_START = dt.date(2024, 9, 1)
AB_TEST_END = dt.date(2024, 9, 30)
ROLLOUT_START = dt.date(2024, 10, 1)
ROLLOUT_END = dt.date(2024, 10, 31)

DRIFT_SCENARIO: DriftScenario = AUGUST_2024_ADAPTATION
"""The attackers' adaptation the production traffic follows from 1 August 2024."""

# Seeds of the held-out sets, kept apart from the traffic seed so that a
# validation set never repeats production emails.
_BASELINE_TEST_SEED = COURSE_SEED + 1
_SEPTEMBER_VALIDATION_SEED = COURSE_SEED + 2
_LABEL_SEED = COURSE_SEED + 3

RETRAINED_AT = dt.datetime(2024, 9, 1, 6, 0)
"""Simulated moment v2.0 was trained, from the data of August."""

MAX_FPR_RATIO = 1.5
"""A new model is rolled back if its FPR is more than 50 % above the old model's."""

ROLLOUT_STAGES: tuple[tuple[float, int], ...] = ((0.10, 2), (0.50, 3), (1.0, 26))
"""October's canary plan: (share of traffic on the new model, days)."""

BAD_CANARY_THRESHOLD = 0.05
"""The misconfigured threshold of the deliberately bad canary in Chapter 5."""

ARTIFACTS_ENV = "PHISHLAB_ARTIFACTS"
"""Environment variable that overrides the artifact folder."""


def artifact_dir(create: bool = True) -> Path:
    """The folder for generated artifacts (models, logs, CSV files).

    ``$PHISHLAB_ARTIFACTS`` if set; otherwise ``artifacts/`` at the root of the
    course repository (the nearest parent folder holding ``_toc.yml``), or in
    the current folder when run outside the repository.

    Parameters
    ----------
    create : bool, default=True
        Create the folder if it does not exist.
    """
    override = os.environ.get(ARTIFACTS_ENV)
    if override:
        folder = Path(override)
    else:
        cwd = Path.cwd().resolve()
        root = next((p for p in (cwd, *cwd.parents) if (p / "_toc.yml").is_file()), cwd)
        folder = root / "artifacts"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def baseline_training_data(random_state: int = COURSE_SEED) -> pd.DataFrame:
    """The January 2024 training set: 1,000 emails, 10 % phishing."""
    return generate_training_set(
        n_emails=1000,
        phishing_rate=0.10,
        start=TRAINING_START,
        end=TRAINING_END,
        random_state=random_state,
    )


def baseline_test_data(random_state: int = _BASELINE_TEST_SEED) -> pd.DataFrame:
    """A held-out January set of 2,000 emails for evaluating the baseline."""
    return generate_training_set(
        n_emails=2000,
        phishing_rate=0.10,
        start=TRAINING_START,
        end=TRAINING_END,
        random_state=random_state,
        id_prefix="test-",
    )


BASELINE_TRAINED_AT = dt.datetime(2024, 1, 31, 23, 0)
"""Simulated moment v1.0 was trained (a fixed time keeps rebuilds identical)."""


def train_baseline() -> tuple[Pipeline, dict]:
    """Train v1.0 on :func:`baseline_training_data` and evaluate it on held-out January mail.

    Returns
    -------
    model : imblearn.pipeline.Pipeline
    metrics : dict
        :func:`phishlab.training.evaluate_model` on :func:`baseline_test_data`.
    """
    model = train_model(baseline_training_data(), random_state=COURSE_SEED)
    return model, evaluate_model(model, baseline_test_data())


def register_baseline(
    registry: ModelRegistry, model: Pipeline, metrics: dict, overwrite: bool = False
) -> dict:
    """Save v1.0 with the course's metadata; returns the index entry."""
    return registry.save(
        model,
        "1.0",
        training_range=(TRAINING_START, TRAINING_END),
        metrics=metrics,
        trained_at=BASELINE_TRAINED_AT,
        notes="Baseline: scaler + SMOTE + random forest on January 2024.",
        overwrite=overwrite,
    )


def ensure_baseline(registry: ModelRegistry) -> Pipeline:
    """Return model v1.0 from ``registry``, training and registering it if absent.

    Later chapters call this so that each one runs on its own, even on a fresh
    machine where Chapter 1 has not been executed.
    """
    if "1.0" in registry:
        return registry.load("1.0")
    model, metrics = train_baseline()
    register_baseline(registry, model, metrics)
    return model


# --- the storyline after July: drift, feedback, retraining, A/B test, rollout ---------------------


def production_traffic(
    start: dt.date | str,
    end: dt.date | str,
    scenario: DriftScenario | None = None,
    emails_per_day: float = 100,
    random_state: int = COURSE_SEED,
) -> pd.DataFrame:
    """The production emails of ``start`` to ``end``, as every chapter sees them.

    The course's traffic: about 100 emails a day, 10 % phishing, seeded with
    :data:`COURSE_SEED` and following :data:`DRIFT_SCENARIO` (which changes
    nothing before 1 August 2024). A day's emails do not depend on the range
    asked for. The challenges replay the same traffic under another scenario
    (e.g. :data:`phishlab.scenarios.MULTI_WAVE_DRIFT`): before that scenario's
    first difference, the emails are the chapters' own.

    Parameters
    ----------
    start, end : date or str
        First and last day, inclusive.
    scenario : DriftScenario, optional
        The drift the phishing follows; default :data:`DRIFT_SCENARIO`.
    emails_per_day : float, default=100
        Mean daily volume (smaller is faster, e.g. in exercises).
    random_state : int, default=COURSE_SEED
        Seed of the traffic.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`phishlab.simulation.generate_daily_batches`.
    """
    return generate_daily_batches(
        start, end, emails_per_day=emails_per_day, phishing_rate=0.10,
        scenario=DRIFT_SCENARIO if scenario is None else scenario, random_state=random_state,
    )


def drift_comparison_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """July and August 2024 production emails: before and after the attackers adapt.

    Returns
    -------
    july, august : pandas.DataFrame
        Columns as :func:`phishlab.simulation.generate_daily_batches`.
    """
    return (
        production_traffic(dt.date(2024, 7, 1), PRODUCTION_END),
        production_traffic(DRIFT_START, DRIFT_END),
    )


def september_validation_data(random_state: int = _SEPTEMBER_VALIDATION_SEED) -> pd.DataFrame:
    """2,000 labelled September emails (10 % phishing) for validating v2.0.

    Drawn with their own seed and ``val-`` ids, so they are never production
    emails; the August drift persists.
    """
    return generate_training_set(
        n_emails=2000, phishing_rate=0.10, start=AB_TEST_START, end=AB_TEST_END,
        scenario=DRIFT_SCENARIO, random_state=random_state, id_prefix="val-",
    )


def august_log(model_v1: Pipeline) -> pd.DataFrame:
    """The prediction log of v1.0 on August's production traffic."""
    return score_batch(model_v1, production_traffic(DRIFT_START, DRIFT_END), model_version="1.0")


LABEL_ARRIVAL = LabelArrival()
"""How the course's labels arrive: user reports (reported less the stealthier
the phishing), about two days late, and analysts who review up to 40 emails a
day -- reports, then alerts, then a random sample of unflagged mail."""


LABEL_SEED = _LABEL_SEED
"""Seed of the course's label arrival (:func:`label_events`). A chapter that
simulates the labels of other decisions on the same mail (e.g. the decisions
actually served once v2.0 takes over) uses it too, so that a day's reports and
samples are the ones every chapter sees."""


def production_log(model_v1: Pipeline, end: dt.date | str = DRIFT_END) -> pd.DataFrame:
    """v1.0's prediction log from :data:`PRODUCTION_START` to ``end``: the mail it served alone."""
    return score_batch(model_v1, production_traffic(PRODUCTION_START, end), model_version="1.0")


def label_events(model_v1: Pipeline, end: dt.date | str = DRIFT_END) -> pd.DataFrame:
    """When the label of each email v1.0 served from :data:`PRODUCTION_START` to ``end`` becomes known.

    Every chapter that needs labels takes them from here, so they all see the
    same reports and reviews. See :func:`phishlab.labels.simulate_label_arrival`.

    Returns
    -------
    pandas.DataFrame
        :data:`phishlab.labels.LABEL_EVENT_COLUMNS`, one row per email, in time order.
    """
    emails = production_traffic(PRODUCTION_START, end)
    log = score_batch(model_v1, emails, model_version="1.0")
    return simulate_label_arrival(emails, log, LABEL_ARRIVAL, random_state=_LABEL_SEED)


def august_feedback(model_v1: Pipeline) -> pd.DataFrame:
    """The analysts' labels of August emails known on the morning v2.0 is retrained.

    Everything reviewed by :data:`DRIFT_END`: August's alerts, the user reports
    that had arrived and been checked, and the quality-control sample. Reports
    still on their way are not in it. See :func:`phishlab.labels.feedback_known_by`.
    """
    events = label_events(model_v1, DRIFT_END)
    august = events[events["date"] >= pd.Timestamp(DRIFT_START)]
    return feedback_known_by(august, DRIFT_END)


MIN_ANALYST_CONFIDENCE = 0.6
"""Reviews below this confidence are left out of the retraining data."""


def retraining_data(model_v1: Pipeline) -> pd.DataFrame:
    """January's training set plus the August emails the analysts labelled.

    See :func:`phishlab.retraining.combine_training_data`; reviews with
    confidence below :data:`MIN_ANALYST_CONFIDENCE` are left out.
    """
    august = production_traffic(DRIFT_START, DRIFT_END)
    labelled = apply_feedback(august, august_feedback(model_v1), MIN_ANALYST_CONFIDENCE)
    return combine_training_data(baseline_training_data(), labelled)


def calibration_data() -> pd.DataFrame:
    """February--July 2024 production emails, labelled, for setting v2.0's threshold.

    v2.0 is not trained on them, and legitimate mail did not change in August,
    so their ~16,000 legitimate emails measure a false-positive rate of a few
    per thousand far more precisely than the training data could.
    """
    return production_traffic(PRODUCTION_START, PRODUCTION_END)


RETRAINING_GRID = {"smote_ratio": (0.25, 0.5), "min_samples_leaf": (3, 10)}
"""The hyperparameters searched when v2.0 is trained."""

RETRAINING_FOREST = {"n_estimators": 150}
"""Forest settings shared by every candidate of the search."""


def train_v2(model_v1: Pipeline, v1_metrics: dict) -> tuple[RetrainResult, dict]:
    """Retrain on January + labelled August data with v1.0's false-positive budget.

    Parameters
    ----------
    model_v1 : Pipeline
        The baseline, whose August log the analysts reviewed.
    v1_metrics : dict
        v1.0's registered metrics; its ``fpr`` is v2.0's budget, so that the
        new model raises no more false alarms than the old one did.

    Returns
    -------
    result : RetrainResult
    metrics : dict
        :func:`phishlab.training.evaluate_model` of v2.0 at its threshold on
        :func:`september_validation_data`, plus ``threshold``.
    """
    if "fpr" not in v1_metrics:
        raise ValueError(f"v1_metrics must contain the baseline's 'fpr', got keys {sorted(v1_metrics)}")
    result = retrain(
        retraining_data(model_v1), calibration_data(), max_fpr=float(v1_metrics["fpr"]),
        grid=RETRAINING_GRID, n_splits=4, random_state=COURSE_SEED, **RETRAINING_FOREST,
    )
    metrics = evaluate_model(result.model, september_validation_data(), threshold=result.threshold)
    return result, {**metrics, "threshold": result.threshold}


def register_v2(
    registry: ModelRegistry, result: RetrainResult, metrics: dict, overwrite: bool = False
) -> dict:
    """Save v2.0 with the course's metadata and its decision threshold; returns the index entry."""
    return registry.save(
        result.model,
        "2.0",
        training_range=(TRAINING_START, DRIFT_END),
        metrics=metrics,
        trained_at=RETRAINED_AT,
        notes="Retrained on January 2024 + analyst-labelled August 2024; threshold for v1.0's FPR.",
        overwrite=overwrite,
        threshold=result.threshold,
    )


def ensure_v2(registry: ModelRegistry) -> Pipeline:
    """Return model v2.0 from ``registry``, training and registering it (and v1.0) if absent.

    Its decision threshold is ``registry.threshold("2.0")``.
    """
    if "2.0" in registry:
        return registry.load("2.0")
    model_v1 = ensure_baseline(registry)
    result, metrics = train_v2(model_v1, registry.entry("1.0")["metrics"])
    register_v2(registry, result, metrics)
    return result.model


def _decisions(model: Pipeline, emails: pd.DataFrame, threshold: float) -> np.ndarray:
    return (predict_proba(model, emails) >= threshold).astype(np.int64)


def _course_models() -> tuple[Pipeline, Pipeline, float]:
    registry = ModelRegistry(artifact_dir() / "models")
    model_v1 = ensure_baseline(registry)
    model_v2 = ensure_v2(registry)
    return model_v1, model_v2, registry.threshold("2.0")


def ab_test_predictions() -> pd.DataFrame:
    """v1.0's and v2.0's decisions on every September 2024 production email.

    Models come from the registry in ``artifact_dir() / "models"`` (trained
    first if absent); each decides at its registered threshold.

    Returns
    -------
    pandas.DataFrame
        ``email_id``, ``date`` (datetime64, the day), ``y_true``, ``pred_v1``,
        ``pred_v2`` (0/1 int64), one row per email in time order.
    """
    model_v1, model_v2, threshold_v2 = _course_models()
    emails = production_traffic(AB_TEST_START, AB_TEST_END)
    return pd.DataFrame(
        {
            "email_id": emails["email_id"].to_numpy(dtype=object),
            "date": emails["timestamp"].dt.normalize().to_numpy(),
            "y_true": emails["label"].to_numpy(dtype=np.int64),
            "pred_v1": _decisions(model_v1, emails, 0.5),
            "pred_v2": _decisions(model_v2, emails, threshold_v2),
        }
    )


def rollout_traffic(bad_canary: bool = False) -> pd.DataFrame:
    """October 2024 traffic with the control's and the canary's decision on every email.

    Parameters
    ----------
    bad_canary : bool, default=False
        False: the canary is v2.0 at its registered threshold. True: it is v2.0
        misconfigured with threshold :data:`BAD_CANARY_THRESHOLD`, which flags
        a large share of legitimate mail -- the model a rollout must stop.

    Returns
    -------
    pandas.DataFrame
        ``date`` (datetime64, the day), ``email_id``, ``y_true``,
        ``pred_control`` (v1.0), ``pred_canary`` (0/1 int64), one row per email
        in time order. Both decisions exist for every email; a rollout uses
        the canary's only for the emails routed to it.
    """
    if not isinstance(bad_canary, (bool, np.bool_)):
        raise ValueError(f"bad_canary must be True or False, got {bad_canary!r}")
    model_v1, model_v2, threshold_v2 = _course_models()
    emails = production_traffic(ROLLOUT_START, ROLLOUT_END)
    threshold = BAD_CANARY_THRESHOLD if bad_canary else threshold_v2
    return pd.DataFrame(
        {
            "date": emails["timestamp"].dt.normalize().to_numpy(),
            "email_id": emails["email_id"].to_numpy(dtype=object),
            "y_true": emails["label"].to_numpy(dtype=np.int64),
            "pred_control": _decisions(model_v1, emails, 0.5),
            "pred_canary": _decisions(model_v2, emails, threshold),
        }
    )
