"""Seeded simulator of the email traffic a phishing detector sees.

Every email is a row of numeric features plus ``email_id``, ``timestamp`` and
``label`` (1 = phishing, 0 = legitimate).  Each feature has one distribution for
legitimate mail and one for phishing mail (:data:`EMAIL_FEATURES`); a
:class:`~phishlab.scenarios.DriftScenario` can move those distributions from a
given date on, which is how the course simulates attackers adapting.

Determinism: each day's emails are drawn from a random generator derived from
``(random_state, day)``, so the emails of 3 August are the same whether you
simulate August alone or the whole year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from phishlab.scenarios import DriftScenario

__all__ = [
    "EMAIL_FEATURES",
    "FEATURES",
    "Distribution",
    "FeatureSpec",
    "feature_label",
    "feature_spec",
    "generate_daily_batches",
    "generate_training_set",
    "iter_daily_batches",
]

# Parameter names of each supported family, in the order numpy expects them.
_FAMILIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "poisson": ("lam",),
        "beta": ("a", "b"),
        "lognormal": ("mean", "sigma"),
        "bernoulli": ("p",),
    }
)

_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Distribution:
    """A parametric distribution one feature follows within one class.

    Parameters
    ----------
    family : {"poisson", "beta", "lognormal", "bernoulli"}
        Distribution family.
    params : mapping of str to float
        Its parameters: ``lam`` (poisson); ``a``, ``b`` (beta); ``mean``,
        ``sigma`` of the underlying normal (lognormal); ``p`` (bernoulli).
    """

    family: str
    params: Mapping[str, float]

    def __post_init__(self) -> None:
        if self.family not in _FAMILIES:
            raise ValueError(
                f"unknown distribution family {self.family!r}; "
                f"expected one of {sorted(_FAMILIES)}"
            )
        if not isinstance(self.params, Mapping):
            raise ValueError(
                f"params must be a mapping of parameter names to numbers, got {self.params!r}"
            )
        expected = set(_FAMILIES[self.family])
        if set(self.params) != expected:
            raise ValueError(
                f"a {self.family} distribution takes parameters {sorted(expected)}, "
                f"got {sorted(self.params)}"
            )
        values = {}
        for name, value in self.params.items():
            try:
                values[name] = float(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"parameter {name!r} must be a number, got {value!r}") from exc
        for name, value in values.items():
            if not np.isfinite(value):
                raise ValueError(f"parameter {name!r} must be finite, got {value}")
        if self.family == "poisson" and values["lam"] < 0:
            raise ValueError(f"poisson lam must be >= 0, got {values['lam']}")
        if self.family == "beta" and min(values["a"], values["b"]) <= 0:
            raise ValueError(f"beta a and b must be > 0, got {values}")
        if self.family == "lognormal" and values["sigma"] <= 0:
            raise ValueError(f"lognormal sigma must be > 0, got {values['sigma']}")
        if self.family == "bernoulli" and not 0 <= values["p"] <= 1:
            raise ValueError(f"bernoulli p must be in [0, 1], got {values['p']}")
        object.__setattr__(self, "params", MappingProxyType(values))

    def with_params(self, **params: float) -> Distribution:
        """Return a copy with some parameters replaced."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise ValueError(
                f"{self.family} distribution has no parameter(s) {sorted(unknown)}; "
                f"it has {sorted(self.params)}"
            )
        return Distribution(self.family, {**self.params, **params})

    def mean(self) -> float:
        """Expected value, used to describe scenarios in tables."""
        p = self.params
        if self.family == "poisson":
            return p["lam"]
        if self.family == "beta":
            return p["a"] / (p["a"] + p["b"])
        if self.family == "lognormal":
            return float(np.exp(p["mean"] + p["sigma"] ** 2 / 2))
        return p["p"]

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` values with ``rng``."""
        args = [self.params[name] for name in _FAMILIES[self.family]]
        if self.family == "bernoulli":
            return (rng.random(size) < args[0]).astype(np.int64)
        if self.family == "lognormal":
            return rng.lognormal(*args, size=size)
        return getattr(rng, self.family)(*args, size=size)


@dataclass(frozen=True)
class FeatureSpec:
    """How one feature is generated for each class.

    Parameters
    ----------
    name : str
        Column name.
    kind : {"count", "continuous", "binary"}
        What the values are; counts and binary flags are integers.
    legitimate, phishing : Distribution
        Distribution of the feature in each class.
    description : str
        One sentence for tables and documentation.
    unit : str
        Unit of the values, for axis labels (e.g. ``"words"``).
    decimals : int or None
        Round continuous values to this many decimals (None: no rounding).
    """

    name: str
    kind: str
    legitimate: Distribution
    phishing: Distribution
    description: str = ""
    unit: str = ""
    decimals: int | None = field(default=None)

    def __post_init__(self) -> None:
        if self.kind not in {"count", "continuous", "binary"}:
            raise ValueError(f"feature kind must be count, continuous or binary, got {self.kind!r}")

    def for_label(self, label: int) -> Distribution:
        """Distribution of this feature for class ``label`` (0 or 1)."""
        return self.phishing if label == 1 else self.legitimate


def _lognormal_words(median: float, sigma: float) -> Distribution:
    return Distribution("lognormal", {"mean": float(np.log(median)), "sigma": sigma})


EMAIL_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "urgency_words", "count",
        legitimate=Distribution("poisson", {"lam": 0.5}),
        phishing=Distribution("poisson", {"lam": 4.0}),
        description="Words such as 'urgent', 'immediately', 'suspended'.",
        unit="words",
    ),
    FeatureSpec(
        "num_links", "count",
        legitimate=Distribution("poisson", {"lam": 2.0}),
        phishing=Distribution("poisson", {"lam": 4.0}),
        description="Hyperlinks in the body.",
        unit="links",
    ),
    FeatureSpec(
        "sender_reputation", "continuous",
        legitimate=Distribution("beta", {"a": 7.0, "b": 2.0}),
        phishing=Distribution("beta", {"a": 2.0, "b": 4.0}),
        description="Reputation score of the sending domain, 0 (bad) to 1 (good).",
        unit="score, 0–1",
        decimals=4,
    ),
    FeatureSpec(
        "email_length", "count",
        legitimate=_lognormal_words(median=320, sigma=0.55),
        phishing=_lognormal_words(median=140, sigma=0.55),
        description="Length of the body in words.",
        unit="words",
    ),
    FeatureSpec(
        "num_attachments", "count",
        legitimate=Distribution("poisson", {"lam": 0.4}),
        phishing=Distribution("poisson", {"lam": 0.7}),
        description="Number of attachments.",
        unit="attachments",
    ),
    FeatureSpec(
        "special_char_ratio", "continuous",
        legitimate=Distribution("beta", {"a": 2.0, "b": 40.0}),
        phishing=Distribution("beta", {"a": 3.0, "b": 30.0}),
        description="Share of characters that are symbols or digits.",
        unit="fraction of characters",
        decimals=4,
    ),
    FeatureSpec(
        "domain_mismatch", "binary",
        legitimate=Distribution("bernoulli", {"p": 0.04}),
        phishing=Distribution("bernoulli", {"p": 0.50}),
        description="1 if the display name's domain differs from the sender's.",
        unit="0 = no, 1 = yes",
    ),
    FeatureSpec(
        "external_sender", "binary",
        legitimate=Distribution("bernoulli", {"p": 0.35}),
        phishing=Distribution("bernoulli", {"p": 0.85}),
        description="1 if the email comes from outside the organisation.",
        unit="0 = no, 1 = yes",
    ),
)
"""The features of every simulated email and their per-class distributions."""

FEATURES: tuple[str, ...] = tuple(spec.name for spec in EMAIL_FEATURES)
"""Feature column names, in the order models expect them."""


def feature_label(name: str) -> str:
    """Axis label of feature ``name`` with its unit, e.g. ``"email_length (words)"``."""
    spec = feature_spec(name)
    return f"{spec.name} ({spec.unit})" if spec.unit else spec.name


def feature_spec(name: str) -> FeatureSpec:
    """Return the :class:`FeatureSpec` of feature ``name``."""
    for spec in EMAIL_FEATURES:
        if spec.name == name:
            return spec
    raise ValueError(f"unknown feature {name!r}; expected one of {list(FEATURES)}")


def _check_seed(random_state: int | None) -> int:
    """Validate ``random_state`` and turn None into fresh entropy."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise ValueError(
            f"random_state must be a non-negative int or None, got {random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be non-negative, got {random_state}")
    return int(random_state)


def _check_rate(phishing_rate: float) -> float:
    if not isinstance(phishing_rate, Real):
        raise ValueError(f"phishing_rate must be a number in [0, 1], got {phishing_rate!r}")
    if not 0 <= phishing_rate <= 1:
        raise ValueError(f"phishing_rate must be in [0, 1], got {phishing_rate}")
    return float(phishing_rate)


def _to_date(value: dt.date | str | pd.Timestamp, name: str) -> dt.date:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a date or 'YYYY-MM-DD' string, got {value!r}") from exc
    if pd.isna(stamp):  # None, "" and "NaT" parse to NaT, which is not a day
        raise ValueError(f"{name} must be a date or 'YYYY-MM-DD' string, got {value!r}")
    return stamp.date()


def _sample_features(
    rng: np.random.Generator,
    labels: np.ndarray,
    day: dt.date,
    scenario: DriftScenario | None,
) -> dict[str, np.ndarray]:
    """Draw every feature for emails with the given labels on ``day``."""
    columns: dict[str, np.ndarray] = {}
    for spec in EMAIL_FEATURES:
        if scenario is None:
            legit, phish = spec.legitimate, spec.phishing
        else:
            legit, phish = scenario.distributions_on(day, spec)
        values = np.empty(labels.size, dtype=float)
        for label, dist in ((0, legit), (1, phish)):
            mask = labels == label
            values[mask] = dist.sample(rng, int(mask.sum()))
        if spec.kind == "continuous":
            columns[spec.name] = values if spec.decimals is None else values.round(spec.decimals)
        else:
            # Lengths of 0 words do not exist; other counts may be 0.
            minimum = 1 if spec.name == "email_length" else 0
            columns[spec.name] = np.maximum(np.rint(values), minimum).astype(np.int64)
    return columns


def _emails_for_day(
    rng: np.random.Generator,
    day: dt.date,
    labels: np.ndarray,
    scenario: DriftScenario | None,
    id_prefix: str,
) -> pd.DataFrame:
    seconds = np.sort(rng.integers(0, _SECONDS_PER_DAY, size=labels.size))
    features = _sample_features(rng, labels, day, scenario)
    frame = pd.DataFrame(
        {
            "email_id": [f"{id_prefix}{day:%Y%m%d}-{i:04d}" for i in range(labels.size)],
            "timestamp": pd.Timestamp(day) + pd.to_timedelta(seconds, unit="s"),
            **features,
            "label": labels.astype(np.int64),
        }
    )
    return frame


def _empty_frame() -> pd.DataFrame:
    columns = {"email_id": pd.Series(dtype=object), "timestamp": pd.Series(dtype="datetime64[ns]")}
    for spec in EMAIL_FEATURES:
        columns[spec.name] = pd.Series(dtype=float if spec.kind == "continuous" else np.int64)
    columns["label"] = pd.Series(dtype=np.int64)
    return pd.DataFrame(columns)


def _day_rng(seed: int, day: dt.date) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, day.toordinal()]))


def generate_training_set(
    n_emails: int = 1000,
    phishing_rate: float = 0.10,
    start: dt.date | str = "2024-01-01",
    end: dt.date | str = "2024-01-31",
    scenario: DriftScenario | None = None,
    random_state: int | None = 0,
    id_prefix: str = "train-",
) -> pd.DataFrame:
    """Generate a labelled training set with an exact class ratio.

    Parameters
    ----------
    n_emails : int, default=1000
        Number of emails.
    phishing_rate : float, default=0.10
        Share of phishing emails; the number of phishing emails is
        ``round(n_emails * phishing_rate)`` exactly.
    start, end : date or str, default January 2024
        First and last day (inclusive) the emails are dated.
    scenario : DriftScenario or None
        Drift scenario to apply (None: the undrifted distributions).
    random_state : int or None, default=0
        Seed; the same seed gives the same emails.
    id_prefix : str, default="train-"
        Prefix of the ``email_id`` values, so that ids of different sets
        (training, held-out test) never collide.

    Returns
    -------
    pandas.DataFrame
        Columns ``email_id``, ``timestamp``, the :data:`FEATURES` and ``label``,
        sorted by timestamp.
    """
    if isinstance(n_emails, bool) or not isinstance(n_emails, (int, np.integer)) or n_emails < 1:
        raise ValueError(f"n_emails must be a positive int, got {n_emails!r}")
    rate = _check_rate(phishing_rate)
    first, last = _to_date(start, "start"), _to_date(end, "end")
    if last < first:
        raise ValueError(f"end ({last}) is before start ({first})")
    seed = _check_seed(random_state)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))

    n_phishing = round(n_emails * rate)
    labels = np.zeros(n_emails, dtype=np.int64)
    labels[rng.choice(n_emails, size=n_phishing, replace=False)] = 1
    n_days = (last - first).days + 1
    day_of_email = rng.integers(0, n_days, size=n_emails)

    frames = []
    for offset in range(n_days):
        day = first + dt.timedelta(days=offset)
        day_labels = labels[day_of_email == offset]
        if day_labels.size:
            frames.append(_emails_for_day(rng, day, day_labels, scenario, id_prefix))
    return pd.concat(frames, ignore_index=True)


def iter_daily_batches(
    start: dt.date | str,
    end: dt.date | str,
    emails_per_day: float = 100,
    phishing_rate: float = 0.10,
    scenario: DriftScenario | None = None,
    random_state: int | None = 0,
) -> Iterator[tuple[dt.date, pd.DataFrame]]:
    """Yield ``(day, emails)`` for every day from ``start`` to ``end`` inclusive.

    The number of emails per day is Poisson-distributed around
    ``emails_per_day``; each email is phishing with probability
    ``phishing_rate``.

    Parameters
    ----------
    start, end : date or str
        First and last day, inclusive.
    emails_per_day : float, default=100
        Mean daily volume.
    phishing_rate : float, default=0.10
        Probability that an email is phishing.
    scenario : DriftScenario or None
        Drift scenario to apply (None: the undrifted distributions).
    random_state : int or None, default=0
        Seed. A day's emails depend only on the seed and the date, not on the
        range requested.

    Yields
    ------
    day : datetime.date
    emails : pandas.DataFrame
        Same columns as :func:`generate_training_set`.
    """
    first, last = _to_date(start, "start"), _to_date(end, "end")
    if last < first:
        raise ValueError(f"end ({last}) is before start ({first})")
    if not isinstance(emails_per_day, Real):
        raise ValueError(f"emails_per_day must be a non-negative number, got {emails_per_day!r}")
    if not np.isfinite(emails_per_day) or emails_per_day < 0:
        raise ValueError(f"emails_per_day must be a non-negative number, got {emails_per_day}")
    rate = _check_rate(phishing_rate)
    seed = _check_seed(random_state)
    for offset in range((last - first).days + 1):
        day = first + dt.timedelta(days=offset)
        rng = _day_rng(seed, day)
        n_emails = int(rng.poisson(emails_per_day))
        labels = (rng.random(n_emails) < rate).astype(np.int64)
        yield day, _emails_for_day(rng, day, labels, scenario, "")


def generate_daily_batches(
    start: dt.date | str,
    end: dt.date | str,
    emails_per_day: float = 100,
    phishing_rate: float = 0.10,
    scenario: DriftScenario | None = None,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """All emails from ``start`` to ``end`` in one frame.

    Same parameters as :func:`iter_daily_batches`; returns the concatenated
    batches, sorted by timestamp.
    """
    frames = [
        emails
        for _, emails in iter_daily_batches(
            start, end, emails_per_day, phishing_rate, scenario, random_state
        )
    ]
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return _empty_frame()
    return pd.concat(frames, ignore_index=True)
