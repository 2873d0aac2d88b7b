"""Production scoring: score batches of emails and log every prediction.

The prediction log is the raw material of monitoring: one row per email with
the date, ``email_id``, the model's probability and decision, the true label
(which in production arrives later, from user reports and analysts), the model
version and the inference time.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from phishlab.training import check_labelled_frame, predict_proba

__all__ = ["LOG_COLUMNS", "append_log", "read_log", "run_production", "score_batch"]

LOG_COLUMNS: tuple[str, ...] = (
    "date",
    "email_id",
    "probability",
    "prediction",
    "actual",
    "model_version",
    "inference_ms",
)
"""Columns of the prediction log, in order."""


def score_batch(
    model,
    emails: pd.DataFrame,
    model_version: str,
    threshold: float = 0.5,
    clock: Callable[[], float] = time.perf_counter,
) -> pd.DataFrame:
    """Score one batch and return its prediction-log rows.

    Parameters
    ----------
    model : fitted pipeline
        Anything with ``predict_proba`` and ``feature_names_in_``.
    emails : pandas.DataFrame
        Emails with ``email_id``, ``timestamp``, the model's features and
        ``label``.
    model_version : str
        Version string written into the log.
    threshold : float, default=0.5
        Probability at or above which an email is flagged as phishing.
    clock : callable, default=time.perf_counter
        Returns seconds; injected so tests can use a fake clock.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LOG_COLUMNS`. ``inference_ms`` is the batch's wall-clock
        scoring time divided by the number of emails -- the only column that
        differs between two runs.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if not isinstance(model_version, str) or not model_version:
        raise ValueError(f"model_version must be a non-empty string, got {model_version!r}")
    check_labelled_frame(emails, [])
    missing = [c for c in ("email_id", "timestamp") if c not in emails.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the frame has {list(emails.columns)}")

    started = clock()
    proba = predict_proba(model, emails)
    elapsed_ms = (clock() - started) * 1000.0
    return pd.DataFrame(
        {
            "date": pd.to_datetime(emails["timestamp"]).dt.normalize().to_numpy(),
            "email_id": emails["email_id"].to_numpy(),
            "probability": proba,
            "prediction": (proba >= threshold).astype(np.int64),
            "actual": emails["label"].to_numpy(dtype=np.int64),
            "model_version": model_version,
            "inference_ms": elapsed_ms / len(emails),
        },
        columns=list(LOG_COLUMNS),
    )


def run_production(
    model,
    batches: Iterable[tuple[dt.date, pd.DataFrame]],
    model_version: str,
    threshold: float = 0.5,
    log_path: str | Path | None = None,
    show_progress: bool = True,
    total: int | None = None,
) -> pd.DataFrame:
    """Score a stream of daily batches, as the deployed service would.

    Parameters
    ----------
    model : fitted pipeline
    batches : iterable of (day, emails)
        For example :func:`phishlab.simulation.iter_daily_batches`.
    model_version : str
        Version written into the log.
    threshold : float, default=0.5
        Decision threshold.
    log_path : str, Path or None
        If given, each day's rows are appended to this CSV as they are
        produced (see :func:`append_log`).
    show_progress : bool, default=True
        Show a tqdm progress bar (set ``TQDM_DISABLE=1`` to silence it).
    total : int or None
        Number of batches, for the progress bar.

    Returns
    -------
    pandas.DataFrame
        The prediction log of all batches (:data:`LOG_COLUMNS`).
    """
    # Pass ``disable`` only to switch the bar off: left unset, tqdm honours
    # the TQDM_DISABLE environment variable the book build sets.
    progress = {} if show_progress else {"disable": True}
    frames = []
    for _day, emails in tqdm(
        batches, total=total, desc=f"scoring with v{model_version}", unit="day", **progress
    ):
        if emails.empty:
            continue
        rows = score_batch(model, emails, model_version, threshold)
        if log_path is not None:
            append_log(rows, log_path)
        frames.append(rows)
    if not frames:
        raise ValueError("no emails to score: every batch was empty")
    return pd.concat(frames, ignore_index=True)


def append_log(rows: pd.DataFrame, path: str | Path) -> None:
    """Append prediction-log rows to a CSV, writing the header for a new file."""
    missing = [c for c in LOG_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"log rows are missing column(s) {missing}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists() or path.stat().st_size == 0
    rows[list(LOG_COLUMNS)].to_csv(
        path, mode="a", header=new_file, index=False, date_format="%Y-%m-%d"
    )


def read_log(path: str | Path) -> pd.DataFrame:
    """Read a prediction log written by :func:`append_log`."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no prediction log at {path}")
    try:
        log = pd.read_csv(path, dtype={"email_id": str, "model_version": str})
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path} is not a prediction log: the file is empty") from exc
    # Check the columns before parsing dates: pandas' own error for a missing
    # ``date`` column would not say that the file is not a log.
    missing = [c for c in LOG_COLUMNS if c not in log.columns]
    if missing:
        raise ValueError(f"{path} is not a prediction log: missing column(s) {missing}")
    log["date"] = pd.to_datetime(log["date"])
    return log
