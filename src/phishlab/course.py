"""The course's storyline: its calendar, its seed and where artifacts go.

Every chapter takes its dates and seed from here, so the chapters tell one
consistent story and a change of calendar is made in one place.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
from imblearn.pipeline import Pipeline

from phishlab.registry import ModelRegistry
from phishlab.simulation import generate_training_set
from phishlab.training import evaluate_model, train_model

__all__ = [
    "ARTIFACTS_ENV",
    "BASELINE_TRAINED_AT",
    "COURSE_SEED",
    "DRIFT_START",
    "PRODUCTION_END",
    "PRODUCTION_START",
    "TRAINING_END",
    "TRAINING_START",
    "artifact_dir",
    "baseline_test_data",
    "baseline_training_data",
    "ensure_baseline",
    "register_baseline",
    "train_baseline",
]

COURSE_SEED = 2024
"""Seed of every simulation in the book."""

TRAINING_START = dt.date(2024, 1, 1)
TRAINING_END = dt.date(2024, 1, 31)
PRODUCTION_START = dt.date(2024, 2, 1)
PRODUCTION_END = dt.date(2024, 7, 31)
DRIFT_START = dt.date(2024, 8, 1)

# Seeds of the held-out sets, kept apart from the traffic seed so that a
# validation set never repeats production emails.
_BASELINE_TEST_SEED = COURSE_SEED + 1

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
