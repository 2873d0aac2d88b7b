"""Feature importances tracked month by month, and how stable their rankings are.

A random forest can say which features it relies on in two ways:

- **impurity importance** (``feature_importances_``): how much the splits on a
  feature reduced the Gini impurity while the trees were *grown*, averaged over
  the trees. It is free, but it is measured on the training data and favours
  features with many distinct values, on which a deep tree finds many splits;
- **permutation importance**: how much a score on *held-out* data falls when
  one feature's values are shuffled, which breaks the feature's link with the
  label while keeping its distribution. It costs a prediction per feature and
  repeat, but it measures what the model's decisions depend on, on the data
  you choose -- for example this month's traffic.

This module computes both for every month of a stretch of traffic
(:func:`monthly_importances`), ranks the features (:func:`rank_table`,
:func:`top_k_features`), measures how far each month's ranking is from a
reference month's (:func:`ranking_stability`, :func:`top_k_overlap`), sums up
the challenge's conclusions (:func:`drift_summary`) and draws the rankings
(:func:`plot_rank_bump`, :func:`plot_importance_heatmap`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from matplotlib.figure import Figure
from scipy import stats
from sklearn.inspection import permutation_importance
from sklearn.metrics import get_scorer
from sklearn.model_selection import train_test_split

from phishlab.course import COURSE_SEED, production_traffic
from phishlab.plotting import PALETTE, course_style
from phishlab.scenarios import MULTI_WAVE_DRIFT, DriftScenario
from phishlab.simulation import FEATURES
from phishlab.training import check_labelled_frame, predict_proba, train_model

__all__ = [
    "AFTER_DRIFT",
    "AUGUST_TO_OCTOBER",
    "BEFORE_DRIFT",
    "DRIFT_YEAR_END",
    "DRIFT_YEAR_START",
    "FEATURE_STYLE",
    "FEBRUARY_WAVE",
    "IMPORTANCE_KINDS",
    "MonthlyImportances",
    "drift_summary",
    "drift_year_traffic",
    "importance_shares",
    "impurity_importance",
    "monthly_importances",
    "permutation_importances",
    "plot_importance_heatmap",
    "plot_rank_bump",
    "rank_table",
    "ranking_stability",
    "recall_by_level",
    "top_k_features",
    "top_k_overlap",
]

DRIFT_YEAR_START = dt.date(2024, 1, 1)
DRIFT_YEAR_END = dt.date(2025, 2, 28)
"""The months the challenge follows: January 2024 (v1.0's training month) to February 2025."""

IMPORTANCE_KINDS: tuple[str, ...] = ("impurity", "permutation_monthly", "permutation_deployed")
"""The three importances :func:`monthly_importances` computes, in the order it returns them."""

BEFORE_DRIFT = pd.period_range("2024-01", "2024-07", freq="M", name="month")
"""January to July 2024: the months before the first wave."""

AUGUST_TO_OCTOBER = pd.period_range("2024-08", "2024-10", freq="M", name="month")
"""The months between the August and the November wave."""

AFTER_DRIFT = pd.period_range("2024-08", "2025-02", freq="M", name="month")
"""August 2024 to February 2025: every month from the first wave on."""

FEBRUARY_WAVE = pd.Period("2025-02", freq="M")
"""The month of the third wave (attachment-borne lures)."""


def drift_year_traffic(
    start: dt.date | str = DRIFT_YEAR_START,
    end: dt.date | str = DRIFT_YEAR_END,
    emails_per_day: float = 100,
    scenario: DriftScenario = MULTI_WAVE_DRIFT,
    random_state: int = COURSE_SEED,
) -> pd.DataFrame:
    """Production emails of ``start`` to ``end`` under the three-wave scenario.

    Same volume and phishing rate as :func:`phishlab.course.production_traffic`
    (100 emails a day, 10 % phishing, seed :data:`~phishlab.course.COURSE_SEED`),
    but following :data:`~phishlab.scenarios.MULTI_WAVE_DRIFT`, so that up to
    October 2024 the emails are the course's own.

    Parameters
    ----------
    start, end : date or str, default January 2024 to February 2025
        First and last day, inclusive.
    emails_per_day : float, default=100
        Mean daily volume (smaller is faster, e.g. for exercises).
    scenario : DriftScenario, default=MULTI_WAVE_DRIFT
        The drift the phishing follows.
    random_state : int, default=COURSE_SEED
        Seed; a day's emails depend only on the seed and the date.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`phishlab.simulation.generate_daily_batches`.
    """
    return production_traffic(start, end, scenario=scenario, emails_per_day=emails_per_day,
                              random_state=random_state)


def _forest(model):
    """The fitted forest inside ``model`` (a course pipeline or a bare estimator)."""
    forest = model.named_steps["model"] if isinstance(model, Pipeline) else model
    if not hasattr(forest, "feature_importances_"):
        raise ValueError(
            f"{type(forest).__name__} has no feature_importances_; pass a fitted tree ensemble "
            "or a course pipeline whose 'model' step is one"
        )
    return forest


def _feature_names(model, features: Sequence[str] | None) -> list[str]:
    if features is not None:
        return list(features)
    return list(getattr(model, "feature_names_in_", FEATURES))


def impurity_importance(model, features: Sequence[str] | None = None) -> pd.Series:
    """The forest's impurity importances (``feature_importances_``), by feature name.

    Parameters
    ----------
    model : fitted pipeline or tree ensemble
        A course pipeline (its ``model`` step is used) or a fitted forest.
    features : sequence of str, optional
        Feature names in the model's column order; by default the names the
        model was fitted with, or :data:`~phishlab.simulation.FEATURES`.

    Returns
    -------
    pandas.Series
        Non-negative importances summing to 1, indexed by feature.
    """
    forest = _forest(model)
    names = _feature_names(model, features)
    values = np.asarray(forest.feature_importances_, dtype=float)
    if len(names) != values.size:
        raise ValueError(f"the model has {values.size} features but {len(names)} names were given")
    return pd.Series(values, index=pd.Index(names, name="feature"), name="impurity")


def permutation_importances(
    model,
    emails: pd.DataFrame,
    scoring: str = "average_precision",
    n_repeats: int = 3,
    random_state: int = COURSE_SEED,
) -> pd.Series:
    """Mean drop of ``scoring`` on ``emails`` when each feature is shuffled.

    Parameters
    ----------
    model : fitted pipeline
        Any fitted classifier with ``predict_proba`` whose input columns are
        ``feature_names_in_`` (default :data:`~phishlab.simulation.FEATURES`).
    emails : pandas.DataFrame
        Labelled emails with both classes, ideally not seen in training.
    scoring : str, default="average_precision"
        A scikit-learn scorer name. Average precision summarises the
        precision--recall curve of the phishing class without a threshold.
    n_repeats : int, default=3
        Shuffles per feature.
    random_state : int, default=COURSE_SEED
        Seed of the shuffles.

    Returns
    -------
    pandas.Series
        Mean score drop per feature (negative: shuffling the feature *helped*).
    """
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, Integral) or n_repeats < 1:
        raise ValueError(f"n_repeats must be a positive int, got {n_repeats!r}")
    names = _feature_names(model, None)
    check_labelled_frame(emails, names)
    y = emails["label"].to_numpy()
    if np.unique(y).size < 2:
        raise ValueError("emails must contain both legitimate (0) and phishing (1) emails")
    result = permutation_importance(
        model, emails[names], y, scoring=scoring, n_repeats=int(n_repeats),
        random_state=random_state, n_jobs=1,
    )
    return pd.Series(result.importances_mean, index=pd.Index(names, name="feature"), name="permutation")


@dataclass(frozen=True)
class MonthlyImportances:
    """Importances of every feature in every month, one table per kind.

    Attributes
    ----------
    impurity : pandas.DataFrame
        Impurity importance of the month's own model (months x features).
    permutation_monthly : pandas.DataFrame
        Permutation importance of the month's own model on the month's held-out emails.
    permutation_deployed : pandas.DataFrame or None
        Permutation importance of the fixed deployed model on the same
        held-out emails; None if no deployed model was given.
    scores : pandas.DataFrame
        The unshuffled score of each model on each month's held-out emails:
        columns ``monthly`` and (with a deployed model) ``deployed``.
    """

    impurity: pd.DataFrame
    permutation_monthly: pd.DataFrame
    permutation_deployed: pd.DataFrame | None
    scores: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """``{kind: table}`` for the kinds that were computed, in :data:`IMPORTANCE_KINDS` order."""
        return {kind: getattr(self, kind) for kind in IMPORTANCE_KINDS if getattr(self, kind) is not None}


def monthly_importances(
    emails: pd.DataFrame,
    deployed_model=None,
    n_estimators: int = 30,
    min_samples_leaf: int = 3,
    n_train: int = 2000,
    n_test: int = 1000,
    n_repeats: int = 2,
    scoring: str = "average_precision",
    random_state: int = COURSE_SEED,
) -> MonthlyImportances:
    """Train a small forest on each month's emails and measure its importances.

    Each calendar month is split, stratified by label, into a training part of
    at most ``n_train`` emails and a held-out part of at most ``n_test``. A
    course pipeline (:func:`phishlab.training.train_model`, with a small
    forest) is trained on the first; its impurity importance comes from the
    training, its permutation importance from the held-out part. If
    ``deployed_model`` is given, its permutation importance is measured on the
    same held-out emails.

    Parameters
    ----------
    emails : pandas.DataFrame
        Labelled emails with a ``timestamp`` column, e.g. :func:`drift_year_traffic`.
    deployed_model : fitted pipeline, optional
        The model in production (v1.0), kept fixed for every month.
    n_estimators, min_samples_leaf : int
        Settings of the monthly forests (small, for speed).
    n_train, n_test : int
        Largest training and held-out sample per month.
    n_repeats : int, default=2
        Shuffles per feature for the permutation importances (few: the
        sampling noise of a month's emails is larger than the shuffling noise).
    scoring : str, default="average_precision"
        Scorer of the permutation importances.
    random_state : int, default=COURSE_SEED
        Seed of the splits, the forests and the shuffles.

    Returns
    -------
    MonthlyImportances
        Tables indexed by month (``pandas.Period``, frequency M), one column per feature.
    """
    for name, value in (("n_estimators", n_estimators), ("min_samples_leaf", min_samples_leaf),
                        ("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    check_labelled_frame(emails)
    if "timestamp" not in emails.columns:
        raise ValueError("emails need a 'timestamp' column to be grouped by month")
    months = pd.DatetimeIndex(emails["timestamp"]).to_period("M")
    rows: dict[str, dict] = {kind: {} for kind in IMPORTANCE_KINDS}
    scorer = get_scorer(scoring)
    scores: dict = {}
    for month, batch in emails.groupby(months, sort=True):
        counts = batch["label"].value_counts()
        if len(counts) < 2 or counts.min() < 10:
            raise ValueError(f"{month} has too few emails of one class ({counts.to_dict()}) to measure importances")
        train, test = train_test_split(
            batch, train_size=min(n_train, len(batch) // 2), test_size=min(n_test, len(batch) // 2),
            stratify=batch["label"], random_state=random_state,
        )
        model = train_model(train, random_state=random_state, n_estimators=n_estimators,
                            min_samples_leaf=min_samples_leaf)
        rows["impurity"][month] = impurity_importance(model)
        features = list(FEATURES)
        scores[month] = {"monthly": scorer(model, test[features], test["label"].to_numpy())}
        rows["permutation_monthly"][month] = permutation_importances(
            model, test, scoring=scoring, n_repeats=n_repeats, random_state=random_state)
        if deployed_model is not None:
            rows["permutation_deployed"][month] = permutation_importances(
                deployed_model, test, scoring=scoring, n_repeats=n_repeats, random_state=random_state)
            deployed_features = _feature_names(deployed_model, None)
            scores[month]["deployed"] = scorer(deployed_model, test[deployed_features], test["label"].to_numpy())

    def table(kind: str) -> pd.DataFrame | None:
        if not rows[kind]:
            return None
        frame = pd.DataFrame(rows[kind]).T
        frame.index = pd.PeriodIndex(frame.index, freq="M", name="month")
        frame.columns.name = "feature"
        return frame

    score_table = pd.DataFrame.from_dict(scores, orient="index").astype(float)
    score_table.index = pd.PeriodIndex(score_table.index, freq="M", name="month")
    return MonthlyImportances(*(table(kind) for kind in IMPORTANCE_KINDS), scores=score_table)


def _as_importances(importances, name: str = "importances") -> pd.Series:
    if not isinstance(importances, (pd.Series, Mapping)):
        raise ValueError(f"{name} must be a pandas Series or a mapping of feature name to importance, "
                         f"got {type(importances).__name__}")
    series = pd.Series(importances, dtype=float) if isinstance(importances, Mapping) else importances.astype(float)
    if series.empty:
        raise ValueError(f"{name} is empty")
    if series.index.has_duplicates:
        raise ValueError(f"{name} names a feature twice")
    if not np.isfinite(series.to_numpy()).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return series


def _order(series: pd.Series) -> list[str]:
    """Feature names from most to least important; ties broken by name, A first."""
    return [name for _, name in sorted(zip(-series.to_numpy(), map(str, series.index)))]


def top_k_features(importances, k: int = 3) -> list[str]:
    """Names of the ``k`` most important features, most important first.

    Ties are broken by name (alphabetical), so the answer never depends on the
    order of the input.

    Parameters
    ----------
    importances : pandas.Series or mapping of str to float
        Importance of each feature.
    k : int, default=3
        How many; at most the number of features.

    Returns
    -------
    list of str
    """
    series = _as_importances(importances)
    if isinstance(k, bool) or not isinstance(k, Integral) or not 1 <= k <= len(series):
        raise ValueError(f"k must be an int between 1 and the number of features ({len(series)}), got {k!r}")
    return _order(series)[: int(k)]


def rank_table(importances_by_month: pd.DataFrame) -> pd.DataFrame:
    """Rank of every feature in every row: 1 = most important, ties broken by name.

    Parameters
    ----------
    importances_by_month : pandas.DataFrame
        One row per month, one column per feature.

    Returns
    -------
    pandas.DataFrame
        Same shape, index and columns; int ranks 1 to the number of features in every row.
    """
    if not isinstance(importances_by_month, pd.DataFrame):
        raise ValueError(f"importances_by_month must be a DataFrame, got {type(importances_by_month).__name__}")
    if importances_by_month.empty:
        raise ValueError("importances_by_month is empty")
    ranks = {}
    for month, row in importances_by_month.iterrows():
        order = _order(_as_importances(row, f"the importances of {month}"))
        ranks[month] = {name: position for position, name in enumerate(order, start=1)}
    table = pd.DataFrame.from_dict(ranks, orient="index")
    table = table.reindex(index=importances_by_month.index, columns=[str(c) for c in importances_by_month.columns])
    table.columns = importances_by_month.columns
    return table.astype(np.int64)


def top_k_overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of the features in top list ``a`` that are also in top list ``b``.

    Both lists must have the same length and no repeated names; order within
    a list does not matter. 1.0: the same features; 0.0: none in common.
    """
    for name, names in (("a", a), ("b", b)):
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise ValueError(f"{name} must be a list of feature names, got {names!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"{name} repeats a feature: {list(names)}")
    if len(a) != len(b) or not a:
        raise ValueError(f"a and b must be non-empty lists of the same length, got {len(a)} and {len(b)}")
    return len(set(a) & set(b)) / len(a)


def ranking_stability(importances_by_month: pd.DataFrame, k: int = 3, reference=None) -> pd.DataFrame:
    """How far each month's ranking is from the reference month's.

    Parameters
    ----------
    importances_by_month : pandas.DataFrame
        One row per month, one column per feature.
    k : int, default=3
        Size of the top list compared.
    reference : index label, optional
        The reference month; the first row by default.

    Returns
    -------
    pandas.DataFrame
        Per month: ``top_k`` (the names, as one string ``"a, b, c"``),
        ``overlap`` (:func:`top_k_overlap` with the reference's top ``k``) and
        ``spearman`` (Spearman's rank correlation of all importances with the reference's).
    """
    ranks = rank_table(importances_by_month)
    reference = ranks.index[0] if reference is None else reference
    if reference not in ranks.index:
        raise ValueError(f"reference {reference!r} is not a row of importances_by_month")
    reference_top = top_k_features(importances_by_month.loc[reference], k)
    rows = {}
    for month, row in importances_by_month.iterrows():
        top = top_k_features(row, k)
        rows[month] = {
            f"top_{k}": ", ".join(top),
            "overlap": top_k_overlap(top, reference_top),
            "spearman": float(stats.spearmanr(ranks.loc[month], ranks.loc[reference]).statistic),
        }
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index = importances_by_month.index
    return result


def _months(table: pd.DataFrame, months: pd.PeriodIndex, what: str) -> pd.DataFrame:
    missing = [str(month) for month in months if month not in table.index]
    if missing:
        raise ValueError(f"the importances lack month(s) {missing} needed for {what}")
    return table.loc[months]


def drift_summary(result: MonthlyImportances, k: int = 3) -> pd.DataFrame:
    """The numbers the challenge's conclusions rest on, one row per importance kind.

    Parameters
    ----------
    result : MonthlyImportances
        Covering at least January 2024 to February 2025 (:func:`drift_year_traffic`).
    k : int, default=3
        Size of the top lists.

    Returns
    -------
    pandas.DataFrame
        Indexed by kind; columns

        - ``same_top2_before``: months of :data:`BEFORE_DRIFT` whose top 2 is January's;
        - ``same_top2_all``: the same over every month;
        - ``urgency_rank_aug_oct``: rank of ``urgency_words`` by its mean importance
          over :data:`AUGUST_TO_OCTOBER`;
        - ``urgency_in_top_k_aug_oct``: months of :data:`AUGUST_TO_OCTOBER` with
          ``urgency_words`` in the top ``k``;
        - ``urgency_share_before``, ``urgency_share_aug_oct``: its mean share of the
          month's importance (:func:`importance_shares`);
        - ``attachments_rank_feb``: rank of ``num_attachments`` in :data:`FEBRUARY_WAVE`;
        - ``attachments_best_rank_before_feb``: its best (smallest) rank in the months before;
        - ``spearman_before``, ``spearman_after``, ``overlap_before``, ``overlap_after``:
          means of :func:`ranking_stability` against January, over February--July
          and over :data:`AFTER_DRIFT`;
        - ``top2_share_before``, ``top2_share_after``: mean share of each month's two most
          important features before August and over :data:`AFTER_DRIFT`;
        - ``length_share_before``: mean share of ``email_length`` before August.
    """
    if not isinstance(result, MonthlyImportances):
        raise ValueError(f"result must be a MonthlyImportances, got {type(result).__name__}")
    rows = {}
    for kind, table in result.tables().items():
        before = _months(table, BEFORE_DRIFT, "the months before the drift")
        aug_oct = _months(table, AUGUST_TO_OCTOBER, "August to October")
        _months(table, AFTER_DRIFT, "the months after the drift")
        _months(table, pd.PeriodIndex([FEBRUARY_WAVE]), "the February wave")
        ranks = rank_table(table)
        reference_top2 = set(top_k_features(table.loc[BEFORE_DRIFT[0]], 2))
        same_top2 = pd.Series({month: set(top_k_features(row, 2)) == reference_top2
                               for month, row in table.iterrows()})
        shares = importance_shares(table)
        stability = ranking_stability(table, k=k, reference=BEFORE_DRIFT[0])
        top2_share = pd.Series(np.sort(shares.to_numpy(), axis=1)[:, -2:].sum(axis=1), index=shares.index)
        rows[kind] = {
            "same_top2_before": int(same_top2[BEFORE_DRIFT].sum()),
            "same_top2_all": int(same_top2.sum()),
            "urgency_rank_aug_oct": int(rank_table(aug_oct.mean().to_frame().T).iloc[0]["urgency_words"]),
            "urgency_in_top_k_aug_oct": int(sum("urgency_words" in top_k_features(row, k)
                                                for _, row in aug_oct.iterrows())),
            "urgency_share_before": float(shares.loc[BEFORE_DRIFT, "urgency_words"].mean()),
            "urgency_share_aug_oct": float(shares.loc[AUGUST_TO_OCTOBER, "urgency_words"].mean()),
            "attachments_rank_feb": int(ranks.loc[FEBRUARY_WAVE, "num_attachments"]),
            "attachments_best_rank_before_feb": int(ranks.loc[ranks.index < FEBRUARY_WAVE, "num_attachments"].min()),
            "spearman_before": float(stability.loc[before.index[1:], "spearman"].mean()),
            "spearman_after": float(stability.loc[AFTER_DRIFT, "spearman"].mean()),
            "overlap_before": float(stability.loc[before.index[1:], "overlap"].mean()),
            "overlap_after": float(stability.loc[AFTER_DRIFT, "overlap"].mean()),
            "top2_share_before": float(top2_share[BEFORE_DRIFT].mean()),
            "top2_share_after": float(top2_share[AFTER_DRIFT].mean()),
            "length_share_before": float(shares.loc[BEFORE_DRIFT, "email_length"].mean()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


# --- figures -----------------------------------------------------------------------------------

# One colour and marker per feature, so a feature looks the same in every panel and figure;
# markers keep the lines apart for readers who cannot tell the colours apart.
FEATURE_STYLE: Mapping[str, tuple[str, str]] = {
    "urgency_words": (PALETTE["vermillion"], "o"),
    "sender_reputation": (PALETTE["blue"], "s"),
    "email_length": (PALETTE["green"], "^"),
    "external_sender": (PALETTE["orange"], "D"),
    "num_attachments": (PALETTE["purple"], "v"),
    "special_char_ratio": (PALETTE["sky"], "P"),
    "num_links": (PALETTE["black"], "X"),
    "domain_mismatch": (PALETTE["grey"], "*"),
}
"""Colour (from the course's Okabe--Ito palette) and marker of each feature in this module's figures."""


def _month_labels(index: pd.Index) -> list[str]:
    """Tick labels: the month's short name, with the year under the first month and every January."""
    months = [pd.Period(month, freq="M") for month in index]
    return [month.strftime("%b\n%Y") if i == 0 or month.month == 1 else month.strftime("%b")
            for i, month in enumerate(months)]


def _month_axis_label(index: pd.Index) -> str:
    first, last = pd.Period(index[0], freq="M").year, pd.Period(index[-1], freq="M").year
    return f"Month ({first})" if first == last else f"Month ({first}–{last})"


def _event_positions(index: pd.Index, events: Mapping[str, object] | None) -> dict[str, float]:
    """x position of each event: halfway into the month before it, so a line sits between months."""
    months = [pd.Period(month, freq="M") for month in index]
    positions = {}
    for name, when in (events or {}).items():
        month = pd.Period(pd.Timestamp(when), freq="M")
        if month in months:
            positions[name] = months.index(month) - 0.5
    return positions


def plot_rank_bump(
    ranks: Mapping[str, pd.DataFrame],
    events: Mapping[str, object] | None = None,
    title: str | None = None,
) -> Figure:
    """A bump chart per table: the rank of every feature month by month.

    Parameters
    ----------
    ranks : mapping of str to pandas.DataFrame
        ``{panel title: rank table}`` (see :func:`rank_table`), all with the same months.
    events : mapping of str to date, optional
        Drawn as vertical lines before their month, e.g. ``{"August wave": "2024-08-01"}``.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not ranks:
        raise ValueError("no rank table to plot")
    tables = list(ranks.values())
    for table in tables:
        if not isinstance(table, pd.DataFrame) or table.empty:
            raise ValueError("every rank table must be a non-empty DataFrame")
        if not table.index.equals(tables[0].index):
            raise ValueError("every rank table must cover the same months")
    index = tables[0].index
    x = np.arange(len(index))
    positions = _event_positions(index, events)
    with course_style():
        fig, axes = plt.subplots(len(ranks), 1, figsize=(8.0, 3.4 * len(ranks)), sharex=True, squeeze=False)
        for ax, (name, table) in zip(axes[:, 0], ranks.items()):
            n_features = table.shape[1]
            for feature in table.columns:
                colour, marker = FEATURE_STYLE.get(feature, (PALETTE["grey"], "o"))
                emphasis = feature == "urgency_words"
                ax.plot(x, table[feature], color=colour, marker=marker, lw=2.8 if emphasis else 1.5,
                        ms=6, alpha=1.0 if emphasis else 0.85, zorder=3 if emphasis else 2)
                ax.annotate(feature, (x[-1], table[feature].iloc[-1]), xytext=(8, 0), textcoords="offset points",
                            va="center", fontsize=10, color=colour, fontweight="bold" if emphasis else "normal")
            for event, position in positions.items():
                ax.axvline(position, color=PALETTE["grey"], ls=":", lw=1.5, zorder=1)
                if ax is axes[0, 0]:
                    ax.annotate(event, (position, 1), xycoords=("data", "axes fraction"), xytext=(3, 2),
                                textcoords="offset points", va="bottom", fontsize=10, color=PALETTE["black"])
            ax.set_ylim(n_features + 0.5, 0.5)
            ax.set_yticks(range(1, n_features + 1))
            ax.set_ylabel("Rank (1 = most important)")
            ax.set_title(name, loc="left")
            ax.grid(axis="x", visible=False)
        axes[-1, 0].set_xticks(x, _month_labels(index))
        axes[-1, 0].set_xlabel(_month_axis_label(index))
        axes[-1, 0].set_xlim(-0.4, len(index) - 1 + 2.6)
        if title:
            fig.suptitle(title)
    return fig


def importance_shares(importances_by_month: pd.DataFrame) -> pd.DataFrame:
    """Each month's importances as shares of that month's total (negative values count as 0).

    Makes impurity importances (which sum to 1) and permutation importances
    (score drops, in the scorer's units) comparable on one scale.
    """
    if not isinstance(importances_by_month, pd.DataFrame) or importances_by_month.empty:
        raise ValueError("importances_by_month must be a non-empty DataFrame")
    clipped = importances_by_month.clip(lower=0)
    totals = clipped.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError(f"no feature has a positive importance in {list(totals.index[totals <= 0])}")
    return clipped.div(totals, axis=0)


def plot_importance_heatmap(
    importances: Mapping[str, pd.DataFrame],
    events: Mapping[str, object] | None = None,
    title: str | None = None,
) -> Figure:
    """Heatmaps of each month's importance shares (:func:`importance_shares`), one panel per table.

    Parameters
    ----------
    importances : mapping of str to pandas.DataFrame
        ``{panel title: importances by month}``, all with the same months and features.
    events : mapping of str to date, optional
        Drawn as white vertical lines before their month.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not importances:
        raise ValueError("no importance table to plot")
    shares = {name: importance_shares(table) for name, table in importances.items()}
    first = next(iter(shares.values()))
    for table in shares.values():
        if not table.index.equals(first.index) or list(table.columns) != list(first.columns):
            raise ValueError("every importance table must cover the same months and features")
    positions = _event_positions(first.index, events)
    with course_style():
        fig, axes = plt.subplots(len(shares), 1, figsize=(8.0, 2.9 * len(shares) + 0.6), sharex=True,
                                 squeeze=False)
        for ax, (name, table) in zip(axes[:, 0], shares.items()):
            image = ax.imshow(table.T.to_numpy(), aspect="auto", cmap="cividis", vmin=0, vmax=0.6)
            for position in positions.values():
                ax.axvline(position, color="white", lw=2)
            ax.set_yticks(range(table.shape[1]), list(table.columns), fontsize=10)
            ax.set_ylabel("Feature (name)")
            ax.set_title(name, loc="left")
            ax.grid(False)
        axes[-1, 0].set_xticks(range(len(first.index)), _month_labels(first.index))
        axes[-1, 0].set_xlabel(_month_axis_label(first.index))
        bar = fig.colorbar(image, ax=axes[:, 0].tolist(), shrink=0.8, extend="max")
        bar.set_label("Share of the month's importance (fraction)")
        if title:
            fig.suptitle(title)
    return fig


def recall_by_level(
    model,
    emails: pd.DataFrame,
    feature: str,
    bins: Sequence[float],
    labels: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Share of the phishing emails a model flags, by level of one feature.

    Shows what a model's reliance on a feature does to the emails that lack it,
    e.g. how much new phishing without urgency words a model trained on old
    phishing still catches.

    Parameters
    ----------
    model : fitted pipeline
        Scored with :func:`phishlab.training.predict_proba`.
    emails : pandas.DataFrame
        Labelled emails; only the phishing ones (``label`` 1) are used.
    feature : str
        The feature whose levels define the groups.
    bins : sequence of float
        Increasing bin edges, as :func:`pandas.cut` takes them (right-closed).
    labels : sequence of str, optional
        One name per bin; by default the intervals.
    threshold : float, default=0.5
        An email is flagged when its phishing probability is at least ``threshold``.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``phishing_emails`` (count), ``share_of_phishing`` and
        ``caught`` (the share the model flags, NaN for an empty bin).
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    check_labelled_frame(emails, list(getattr(model, "feature_names_in_", FEATURES)))
    if feature not in emails.columns:
        raise ValueError(f"unknown feature {feature!r}")
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bins must be at least two increasing edges, got {list(bins)!r}")
    if labels is not None and len(labels) != edges.size - 1:
        raise ValueError(f"labels must name the {edges.size - 1} bins, got {len(labels)}")
    phishing = emails[emails["label"] == 1]
    if phishing.empty:
        raise ValueError("emails contain no phishing")
    flagged = predict_proba(model, phishing) >= threshold
    groups = pd.cut(phishing[feature], edges, labels=labels)
    if groups.isna().any():
        raise ValueError(f"some values of {feature!r} fall outside the bins {list(bins)}")
    table = pd.DataFrame({"group": groups.to_numpy(), "flagged": flagged}).groupby("group", observed=False)["flagged"]
    result = pd.DataFrame({"phishing_emails": table.size(), "caught": table.mean()})
    result.insert(1, "share_of_phishing", result["phishing_emails"] / len(phishing))
    result.index.name = feature
    return result
