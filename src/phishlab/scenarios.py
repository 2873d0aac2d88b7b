"""Drift scenarios, described as data.

A scenario is a list of waves. Each wave starts on a date and moves some
features of one class to new distribution parameters, optionally over a ramp of
several days. Waves apply cumulatively in date order, so a later wave starts
from where the earlier ones left the distributions.

The course uses :data:`AUGUST_2024_ADAPTATION` (one wave) in the main chapters
and :data:`MULTI_WAVE_DRIFT` (August, November, February) in the challenges;
you can build your own with :class:`Shift`, :class:`DriftWave` and
:class:`DriftScenario`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from types import MappingProxyType

import pandas as pd

from phishlab.simulation import EMAIL_FEATURES, Distribution, FeatureSpec, feature_spec

__all__ = [
    "AUGUST_2024_ADAPTATION",
    "MULTI_WAVE_DRIFT",
    "NO_DRIFT",
    "DriftScenario",
    "DriftWave",
    "Shift",
    "scenario_from_records",
]

_LABEL_NAMES = {0: "legitimate", 1: "phishing"}


@dataclass(frozen=True)
class Shift:
    """New distribution parameters for one feature of one class.

    Parameters
    ----------
    feature : str
        A feature name from :data:`phishlab.simulation.FEATURES`.
    label : {0, 1}
        The class whose distribution moves (1 = phishing).
    params : mapping of str to float
        The parameters that change; the others keep their current value.
    """

    feature: str
    label: int
    params: Mapping[str, float]

    def __post_init__(self) -> None:
        spec = feature_spec(self.feature)
        if self.label not in _LABEL_NAMES:
            raise ValueError(f"label must be 0 (legitimate) or 1 (phishing), got {self.label!r}")
        if not isinstance(self.params, Mapping):
            raise ValueError(
                f"params of the {self.feature!r} shift must be a mapping such as "
                f"{{'lam': 1.5}}, got {self.params!r}"
            )
        if not self.params:
            raise ValueError(f"shift of {self.feature!r} changes no parameter")
        # Validates the parameter names and values against the feature's family.
        spec.for_label(self.label).with_params(**self.params)
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


@dataclass(frozen=True)
class DriftWave:
    """A set of shifts that start on the same date.

    Parameters
    ----------
    name : str
        Short description shown in tables and figures.
    start : date or str
        First day on which the shifts are (at least partly) in effect.
    shifts : sequence of Shift
        What moves. At most one shift per (feature, label).
    ramp_days : int, default=0
        0 for an abrupt change; otherwise parameters move linearly over
        ``ramp_days`` days: on day ``k`` (``start`` being day 0) a share
        ``(k + 1) / ramp_days`` of the change is in effect, so the new values
        hold from day ``ramp_days - 1`` on.
    """

    name: str
    start: dt.date
    shifts: tuple[Shift, ...]
    ramp_days: int = 0

    def __post_init__(self) -> None:
        try:
            start = pd.Timestamp(self.start)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"wave start must be a date, got {self.start!r}") from exc
        if pd.isna(start):  # None, "" and "NaT" parse to NaT, which is not a day
            raise ValueError(f"wave start must be a date, got {self.start!r}")
        object.__setattr__(self, "start", start.date())
        shifts = tuple(self.shifts)
        if not shifts:
            raise ValueError(f"wave {self.name!r} has no shifts")
        keys = [(s.feature, s.label) for s in shifts]
        if len(set(keys)) != len(keys):
            raise ValueError(f"wave {self.name!r} shifts the same feature and class twice")
        object.__setattr__(self, "shifts", shifts)
        if isinstance(self.ramp_days, bool) or not isinstance(self.ramp_days, int) or self.ramp_days < 0:
            raise ValueError(f"ramp_days must be a non-negative int, got {self.ramp_days!r}")

    def progress_on(self, day: dt.date) -> float:
        """Share of the wave in effect on ``day``, from 0 (before) to 1 (complete)."""
        elapsed = (day - self.start).days
        if elapsed < 0:
            return 0.0
        if self.ramp_days == 0:
            return 1.0
        return min(1.0, (elapsed + 1) / self.ramp_days)


@dataclass(frozen=True)
class DriftScenario:
    """A named sequence of drift waves.

    Parameters
    ----------
    name : str
        Scenario name.
    waves : sequence of DriftWave
        Applied cumulatively in order of their start dates.
    """

    name: str
    waves: tuple[DriftWave, ...] = ()

    def __post_init__(self) -> None:
        waves = tuple(sorted(self.waves, key=lambda wave: wave.start))
        object.__setattr__(self, "waves", waves)

    def distributions_on(
        self, day: dt.date | str, spec: FeatureSpec
    ) -> tuple[Distribution, Distribution]:
        """Distributions of feature ``spec`` on ``day``: ``(legitimate, phishing)``."""
        day = pd.Timestamp(day).date()
        current = {0: spec.legitimate, 1: spec.phishing}
        for wave in self.waves:
            progress = wave.progress_on(day)
            if progress == 0:
                continue
            for shift in wave.shifts:
                if shift.feature != spec.name:
                    continue
                before = current[shift.label]
                # This form gives exactly ``target`` once the wave is complete
                # (progress 1); ``b + p * (t - b)`` can miss it by a rounding error.
                moved = {
                    name: (1 - progress) * before.params[name] + progress * target
                    for name, target in shift.params.items()
                }
                current[shift.label] = before.with_params(**moved)
        return current[0], current[1]

    def shifted_features(self) -> list[str]:
        """Names of the features any wave moves, in feature order."""
        moved = {shift.feature for wave in self.waves for shift in wave.shifts}
        return [spec.name for spec in EMAIL_FEATURES if spec.name in moved]

    def describe(self) -> pd.DataFrame:
        """One row per shift: wave, start, feature, class, mean before and after."""
        rows = []
        for wave in self.waves:
            day_before = wave.start - dt.timedelta(days=1)
            day_after = wave.start + dt.timedelta(days=max(wave.ramp_days, 1))
            for shift in wave.shifts:
                spec = feature_spec(shift.feature)
                before = self.distributions_on(day_before, spec)[shift.label]
                after = self.distributions_on(day_after, spec)[shift.label]
                rows.append(
                    {
                        "wave": wave.name,
                        "start": wave.start,
                        "feature": shift.feature,
                        "class": _LABEL_NAMES[shift.label],
                        "mean_before": round(before.mean(), 3),
                        "mean_after": round(after.mean(), 3),
                    }
                )
        return pd.DataFrame(
            rows, columns=["wave", "start", "feature", "class", "mean_before", "mean_after"]
        )


def _phishing(feature: str, **params: float) -> Shift:
    return Shift(feature, 1, params)


NO_DRIFT = DriftScenario("no drift")
"""The undrifted distributions, for symmetry with the other scenarios."""

_AUGUST_WAVE = DriftWave(
    name="August 2024: attackers adapt",
    start=dt.date(2024, 8, 1),
    shifts=(
        # Fewer urgency words: the classic tell-tale is avoided.
        _phishing("urgency_words", lam=1.5),
        # Lookalike domains with some sending history mimic good reputation.
        _phishing("sender_reputation", a=4.0, b=3.5),
        # Longer bodies that read like ordinary business mail.
        _phishing("email_length", mean=math.log(230)),
    ),
)

_NOVEMBER_WAVE = DriftWave(
    name="November 2024: link and domain obfuscation",
    start=dt.date(2024, 11, 1),
    shifts=(
        # A single link behind a URL shortener instead of many links.
        _phishing("num_links", lam=1.8),
        # Registered lookalike domains that match the display name.
        _phishing("domain_mismatch", p=0.08),
    ),
)

_FEBRUARY_WAVE = DriftWave(
    name="February 2025: attachment-borne lures",
    start=dt.date(2025, 2, 1),
    shifts=(
        _phishing("num_attachments", lam=1.8),
        _phishing("special_char_ratio", a=2.2, b=38.0),
        # Compromised internal accounts send the lures.
        _phishing("external_sender", p=0.40),
    ),
)

AUGUST_2024_ADAPTATION = DriftScenario("August 2024 attacker adaptation", (_AUGUST_WAVE,))
"""Phishing mail adapts on 1 August 2024: fewer urgency words, better sender
reputation, more legitimate-looking length."""

MULTI_WAVE_DRIFT = DriftScenario(
    "Three waves: August, November, February", (_AUGUST_WAVE, _NOVEMBER_WAVE, _FEBRUARY_WAVE)
)
"""The August adaptation followed by waves in November 2024 and February 2025."""


def scenario_from_records(name: str, records: Sequence[Mapping[str, object]]) -> DriftScenario:
    """Build a scenario from plain records, e.g. rows read from a CSV or YAML file.

    Parameters
    ----------
    name : str
        Scenario name.
    records : sequence of mapping
        Each with keys ``wave``, ``start``, ``feature``, ``label`` (0/1 or
        "legitimate"/"phishing"), ``params`` (mapping) and optionally
        ``ramp_days``. Records with the same ``wave`` form one wave.

    Returns
    -------
    DriftScenario
    """
    required = {"wave", "start", "feature", "label", "params"}
    grouped: dict[str, dict[str, object]] = {}
    for i, record in enumerate(records):
        missing = required - set(record)
        if missing:
            raise ValueError(f"record {i} is missing key(s) {sorted(missing)}")
        label = record["label"]
        if isinstance(label, str):
            lookup = {v: k for k, v in _LABEL_NAMES.items()}
            if label not in lookup:
                raise ValueError(f"record {i}: label must be 'legitimate' or 'phishing', got {label!r}")
            label = lookup[label]
        elif label not in _LABEL_NAMES:  # also rejects None and 1.7 instead of truncating
            raise ValueError(f"record {i}: label must be 0, 1, 'legitimate' or 'phishing', got {label!r}")
        if not isinstance(record["params"], Mapping):
            raise ValueError(f"record {i}: params must be a mapping, got {record['params']!r}")
        ramp_days = record.get("ramp_days", 0)
        if isinstance(ramp_days, str) and ramp_days.strip().isdigit():  # CSV cells arrive as text
            ramp_days = int(ramp_days)
        if (
            isinstance(ramp_days, bool)
            or not isinstance(ramp_days, Real)
            or not float(ramp_days).is_integer()
            or ramp_days < 0
        ):  # int() would silently truncate 2.7 to 2
            raise ValueError(f"record {i}: ramp_days must be a non-negative int, got {ramp_days!r}")
        ramp_days = int(ramp_days)
        try:
            start = pd.Timestamp(record["start"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"record {i}: start must be a date, got {record['start']!r}") from exc
        if pd.isna(start):
            raise ValueError(f"record {i}: start must be a date, got {record['start']!r}")
        wave = grouped.setdefault(
            str(record["wave"]), {"start": start, "ramp_days": ramp_days, "shifts": []}
        )
        if wave["start"] != start:
            raise ValueError(f"record {i}: wave {record['wave']!r} has two start dates")
        wave["shifts"].append(Shift(str(record["feature"]), int(label), dict(record["params"])))
    waves = tuple(
        DriftWave(wave_name, w["start"], tuple(w["shifts"]), w["ramp_days"])
        for wave_name, w in grouped.items()
    )
    return DriftScenario(name, waves)
