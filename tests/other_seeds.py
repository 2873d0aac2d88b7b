"""The course's storyline replayed on other seeds, without building the book.

A chapter's general claim (the known TPR overstates the truth, delayed labels
delay the performance rule...) must hold on other traffic and other label
draws too, not only on the course seed.
"""

from __future__ import annotations

import functools

import pandas as pd

from phishlab import course
from phishlab.labels import simulate_label_arrival
from phishlab.scoring import score_batch

OTHER_SEEDS = (1, 2, 3)
"""Seeds of the traffic and of the label arrival, other than the course's."""


@functools.cache
def _storyline(model_id: int, seed: int):
    model = _MODELS[model_id]
    emails = course.production_traffic(course.PRODUCTION_START, course.DRIFT_END, random_state=seed)
    log = score_batch(model, emails, model_version="1.0")
    events = simulate_label_arrival(emails, log, course.LABEL_ARRIVAL, random_state=seed)
    return emails, log, events


_MODELS: dict[int, object] = {}


def storyline(model, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """v1.0's emails, prediction log and label events, February to August, on ``seed``."""
    _MODELS[id(model)] = model
    return _storyline(id(model), seed)
