"""Cost-weighted decisions: price the two errors, then tune the model and its threshold for the price.

A false positive (a legitimate email quarantined) and a false negative (a
phishing email in an inbox) rarely cost the same. With a price for each, the
quality of a detector on labelled emails is one number, its **expected cost**
``cost_fp * FP + cost_fn * FN`` (:func:`expected_cost`), and every setting of
the pipeline can be chosen to make it small. Three settings move the errors:

* the **decision threshold** (:func:`cost_curve`, :func:`cost_optimal_threshold`);
* the random forest's **class weights**, which make a phishing email count as
  ``phishing_weight`` legitimate ones while the trees are grown;
* SMOTE's **sampling ratio**, how many synthetic phishing emails are added.

:func:`search_levers` trains one small forest per class weight and SMOTE ratio
(:func:`train_weighted`) and finds each one's cost-optimal threshold on
validation emails; :func:`september_sample` draws those emails.

If a model's scores were calibrated probabilities, decision theory would give
the best threshold without any search: flag an email when its probability of
being phishing is at least :func:`bayes_threshold`, ``cost_fp / (cost_fp + cost_fn)``.
A forest trained with class weights and SMOTE overstates the odds of phishing
(:func:`odds_inflation`); the Bayes threshold corrected for that lands near the
searched one. :func:`price_sensitivity` and the ``plot_*`` functions show what
each price, setting and threshold costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline
from matplotlib.figure import Figure

from phishlab import course
from phishlab.monitoring import confusion_counts
from phishlab.plotting import PALETTE, course_style
from phishlab.simulation import FEATURES
from phishlab.training import check_labelled_frame, predict_proba, train_model

__all__ = [
    "COST_FN",
    "COST_FP",
    "PHISHING_WEIGHTS",
    "SMOTE_RATIOS",
    "LeverSearch",
    "bayes_threshold",
    "cost_curve",
    "cost_optimal_threshold",
    "expected_cost",
    "odds_inflation",
    "operating_point",
    "plot_cost_curves",
    "plot_lever_costs",
    "plot_price_sensitivity",
    "price_sensitivity",
    "search_levers",
    "september_sample",
    "train_weighted",
]

COST_FP = 5.0
"""US$ of a false positive: an analyst looks at a quarantined legitimate email and releases it."""

COST_FN = 10_000.0
"""US$ of a false negative: a phishing email reaches an inbox (the average incident it may start)."""

PHISHING_WEIGHTS: tuple[float, ...] = (1.0, 45.0, 2000.0)
"""Class weights of phishing tried by :func:`search_levers` (legitimate mail weighs 1).

No weighting, the full cost ratio ``COST_FN / COST_FP`` (the weight that makes
a calibrated model's 0.5 threshold cost-optimal) and, about halfway between
them on a log scale, its square root.
"""

SMOTE_RATIOS: tuple[float, ...] = (0.25, 0.5, 1.0)
"""SMOTE's target ratios of phishing to legitimate emails tried by :func:`search_levers`."""


# --- costs of decisions --------------------------------------------------------------------------


def _check_cost(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (US$), got {value!r}")
    return float(value)


def _check_labels(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not np.isin(array, [0, 1]).all():
        raise ValueError(f"{name} must contain only 0 (legitimate) and 1 (phishing)")
    return array.astype(np.int64)


def _check_scores(values, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size != n:
        raise ValueError(f"scores must be one-dimensional with one score per label ({n}), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("scores must be finite numbers")
    return array


def _check_weight(value) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"phishing_weight must be a finite number > 0, got {value!r}")
    return float(value)


def expected_cost(y_true, y_pred, cost_fp: float, cost_fn: float) -> float:
    """Total cost of 0/1 decisions: ``cost_fp * FP + cost_fn * FN``.

    Parameters
    ----------
    y_true, y_pred : array-like of 0/1, same length
        True labels and decisions (1 = phishing, flagged).
    cost_fp, cost_fn : float
        Cost of one false positive and of one false negative, >= 0 (US$).

    Returns
    -------
    float
        The cost of all the emails together (US$); correct decisions cost nothing.
    """
    cost_fp, cost_fn = _check_cost(cost_fp, "cost_fp"), _check_cost(cost_fn, "cost_fn")
    counts = confusion_counts(_check_labels(y_true, "y_true"), _check_labels(y_pred, "y_pred"))
    return cost_fp * counts["fp"] + cost_fn * counts["fn"]


def bayes_threshold(cost_fp: float, cost_fn: float, odds_factor: float = 1.0) -> float:
    """The threshold on a *calibrated* probability that minimises the expected cost.

    Flagging an email of phishing probability ``p`` costs ``(1 - p) * cost_fp``
    on average, letting it through ``p * cost_fn``; flagging is the cheaper
    choice when ``p >= cost_fp / (cost_fp + cost_fn)``.

    Parameters
    ----------
    cost_fp, cost_fn : float
        Costs of a false positive and a false negative, >= 0, not both 0.
    odds_factor : float, default=1.0
        How many times the scores overstate the odds of phishing (1 for
        calibrated probabilities; see :func:`odds_inflation`). The threshold
        moves to where the *scores'* odds are ``odds_factor`` times the
        calibrated threshold's odds.

    Returns
    -------
    float
        ``cost_fp * odds_factor / (cost_fp * odds_factor + cost_fn)``, in [0, 1];
        ``cost_fp / (cost_fp + cost_fn)`` for calibrated scores.
    """
    cost_fp, cost_fn = _check_cost(cost_fp, "cost_fp"), _check_cost(cost_fn, "cost_fn")
    if cost_fp + cost_fn == 0:
        raise ValueError("cost_fp and cost_fn cannot both be 0: every threshold would be optimal")
    if isinstance(odds_factor, bool) or not isinstance(odds_factor, Real) or not 0 < odds_factor < np.inf:
        raise ValueError(f"odds_factor must be a finite number > 0, got {odds_factor!r}")
    return cost_fp * odds_factor / (cost_fp * odds_factor + cost_fn)


def odds_inflation(phishing_weight: float, smote_ratio: float, phishing_rate: float) -> float:
    """How many times a weighted, oversampled model overstates the odds of phishing.

    SMOTE trains the forest on ``smote_ratio`` phishing emails per legitimate
    one and the class weight counts each phishing email ``phishing_weight``
    times, so the forest learns odds of ``phishing_weight * smote_ratio``
    where the mail it will score has odds ``phishing_rate / (1 - phishing_rate)``.
    A perfect learner's scores would overstate the odds by the ratio of the two
    (the prior-shift correction); a real forest's only roughly.

    Parameters
    ----------
    phishing_weight : float
        Class weight of phishing, > 0.
    smote_ratio : float
        SMOTE's target ratio of phishing to legitimate emails, > 0 (it must be
        above the training data's own ratio for SMOTE to reach it).
    phishing_rate : float
        Share of phishing in the mail the model will score, in (0, 1).

    Returns
    -------
    float
        ``phishing_weight * smote_ratio * (1 - phishing_rate) / phishing_rate``.
    """
    weight = _check_weight(phishing_weight)
    if isinstance(smote_ratio, bool) or not isinstance(smote_ratio, Real) or not 0 < smote_ratio < np.inf:
        raise ValueError(f"smote_ratio must be a finite number > 0, got {smote_ratio!r}")
    if isinstance(phishing_rate, bool) or not isinstance(phishing_rate, Real) or not 0 < phishing_rate < 1:
        raise ValueError(f"phishing_rate must be a number in (0, 1), got {phishing_rate!r}")
    return weight * float(smote_ratio) * (1 - phishing_rate) / phishing_rate


def cost_curve(y_true, scores, cost_fp: float, cost_fn: float) -> pd.DataFrame:
    """Errors and cost of every threshold that changes a decision.

    An email is flagged when its score is at least the threshold. Only the
    distinct score values need to be tried: any threshold between two of them
    makes the same decisions as the higher one.

    Parameters
    ----------
    y_true : array-like of 0/1
        True labels.
    scores : array-like of float
        One phishing score per email (a probability or any number).
    cost_fp, cost_fn : float
        Costs of a false positive and a false negative, >= 0 (US$).

    Returns
    -------
    pandas.DataFrame
        One row per distinct score, in increasing order: ``threshold``,
        ``flagged``, ``tp``, ``fp``, ``fn``, ``tn`` and ``cost``.
    """
    truth = _check_labels(y_true, "y_true")
    values = _check_scores(scores, truth.size)
    if truth.size == 0:
        raise ValueError("y_true is empty")
    cost_fp, cost_fn = _check_cost(cost_fp, "cost_fp"), _check_cost(cost_fn, "cost_fn")
    order = np.argsort(values, kind="stable")
    sorted_scores, sorted_truth = values[order], truth[order]
    thresholds, first = np.unique(sorted_scores, return_index=True)
    # Emails from position `first` on score at least the threshold: they are flagged.
    phishing_below = np.r_[0, np.cumsum(sorted_truth)][first]
    legitimate_below = first - phishing_below
    n_phishing = int(truth.sum())
    n_legitimate = truth.size - n_phishing
    fn, tn = phishing_below, legitimate_below
    tp, fp = n_phishing - fn, n_legitimate - tn
    return pd.DataFrame(
        {
            "threshold": thresholds,
            "flagged": tp + fp,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "cost": cost_fp * fp + cost_fn * fn,
        }
    )


def cost_optimal_threshold(y_true, scores, cost_fp: float, cost_fn: float) -> float:
    """The score threshold with the lowest total cost on labelled emails.

    Parameters
    ----------
    y_true, scores, cost_fp, cost_fn
        See :func:`cost_curve`.

    Returns
    -------
    float
        One of the distinct scores; emails scoring at least it are flagged.
        Of several equally cheap thresholds the **highest** is returned: at
        the same cost it flags the fewest emails, so it gives the analysts the
        least work.
    """
    curve = cost_curve(y_true, scores, cost_fp, cost_fn)
    cheapest = np.flatnonzero(curve["cost"].to_numpy() == curve["cost"].min())
    return float(curve["threshold"].iloc[cheapest[-1]])


def operating_point(y_true, scores, threshold: float, cost_fp: float, cost_fn: float) -> dict[str, float]:
    """Counts, rates and costs of flagging the emails that score at least ``threshold``.

    Parameters
    ----------
    y_true, scores
        See :func:`cost_curve`.
    threshold : float
        Decision threshold.
    cost_fp, cost_fn : float
        Costs of a false positive and a false negative (US$).

    Returns
    -------
    dict
        ``tp``, ``fp``, ``fn``, ``tn`` (int), ``tpr``, ``fpr`` (NaN without
        emails of that class), ``cost`` (US$) and ``cost_per_1000`` (US$ per
        1,000 emails).
    """
    truth = _check_labels(y_true, "y_true")
    values = _check_scores(scores, truth.size)
    if truth.size == 0:
        raise ValueError("y_true is empty")
    if isinstance(threshold, bool) or not isinstance(threshold, Real) or np.isnan(threshold):
        raise ValueError(f"threshold must be a number, got {threshold!r}")
    decisions = (values >= threshold).astype(np.int64)
    counts = confusion_counts(truth, decisions)
    cost = expected_cost(truth, decisions, cost_fp, cost_fn)
    positives, negatives = counts["tp"] + counts["fn"], counts["fp"] + counts["tn"]
    return {
        **counts,
        "tpr": counts["tp"] / positives if positives else float("nan"),
        "fpr": counts["fp"] / negatives if negatives else float("nan"),
        "cost": cost,
        "cost_per_1000": 1000 * cost / truth.size,
    }


# --- the data and the models ------------------------------------------------------------------------


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def september_sample(n_draws: int = 5, random_state: int = course.COURSE_SEED) -> pd.DataFrame:
    """Labelled September 2024 emails, ``n_draws`` times the course's 2,000.

    Each draw is :func:`phishlab.course.september_validation_data` with its
    own seed (``random_state + 2 + 100 * k``; the first draw with the default
    ``random_state`` is the course's own validation set), so every email
    follows the August drift and none is a production email.

    Parameters
    ----------
    n_draws : int, default=5
        Number of 2,000-email draws.
    random_state : int, default=COURSE_SEED
        Base seed of the draws.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`phishlab.simulation.generate_training_set`; the
        ``email_id`` of draw ``k`` starts with ``val{k}-``.
    """
    n_draws = _check_int(n_draws, "n_draws", 1)
    random_state = _check_int(random_state, "random_state", 0)
    draws = []
    for k in range(n_draws):
        draw = course.september_validation_data(random_state=random_state + 2 + 100 * k)
        draws.append(draw.assign(email_id=draw["email_id"].str.replace("val-", f"val{k}-", n=1, regex=False)))
    return pd.concat(draws, ignore_index=True)


def train_weighted(
    data: pd.DataFrame,
    phishing_weight: float = 1.0,
    smote_ratio: float = 0.25,
    random_state: int = 0,
    n_estimators: int = 60,
    min_samples_leaf: int = 3,
) -> Pipeline:
    """The course's pipeline (scaler, SMOTE, random forest) with a class weight for phishing.

    Parameters
    ----------
    data : pandas.DataFrame
        Labelled training emails.
    phishing_weight : float, default=1.0
        Weight of a phishing email while the trees are grown (a legitimate
        email weighs 1): the forest's ``class_weight={0: 1, 1: phishing_weight}``.
    smote_ratio : float, default=0.25
        SMOTE's target ratio of phishing to legitimate emails, see
        :func:`phishlab.training.build_pipeline`.
    random_state : int, default=0
        Seed of SMOTE and the forest.
    n_estimators : int, default=60
        Trees in the forest (few, to keep a grid of forests quick).
    min_samples_leaf : int, default=3
        Smallest leaf, as v2.0's.

    Returns
    -------
    imblearn.pipeline.Pipeline
        The fitted pipeline.
    """
    weight = _check_weight(phishing_weight)
    n_estimators = _check_int(n_estimators, "n_estimators", 1)
    min_samples_leaf = _check_int(min_samples_leaf, "min_samples_leaf", 1)
    return train_model(
        data, random_state=random_state, smote_ratio=smote_ratio, n_estimators=n_estimators,
        min_samples_leaf=min_samples_leaf, class_weight={0: 1.0, 1: weight},
    )


@dataclass(frozen=True)
class LeverSearch:
    """What :func:`search_levers` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per setting, in grid order: ``phishing_weight``,
        ``smote_ratio``, the validation cost at threshold 0.5
        (``cost_at_half``), the cost-optimal ``threshold`` and its ``fp``,
        ``fn`` and ``cost`` on the validation emails, and the Bayes threshold
        corrected for the setting's inflated odds (``corrected_bayes``, see
        :func:`odds_inflation`; the validation emails' phishing rate is taken
        as the rate of the mail to come).
    models : dict
        ``{(phishing_weight, smote_ratio): fitted pipeline}``.
    scores : dict
        ``{(phishing_weight, smote_ratio): validation scores}``.
    best : tuple
        ``(phishing_weight, smote_ratio)`` of the setting with the lowest
        validation cost at its own threshold; of equal costs, the first in
        grid order (the least distorting weight and ratio).
    """

    table: pd.DataFrame
    models: dict
    scores: dict
    best: tuple

    @property
    def best_row(self) -> int:
        """Position of the best setting in :attr:`table`."""
        weight, ratio = self.best
        match = (self.table["phishing_weight"] == weight) & (self.table["smote_ratio"] == ratio)
        return int(np.flatnonzero(match.to_numpy())[0])

    @property
    def threshold(self) -> float:
        """The cost-optimal threshold of the best setting."""
        return float(self.table["threshold"].iloc[self.best_row])

    @property
    def model(self) -> Pipeline:
        """The fitted pipeline of the best setting."""
        return self.models[self.best]


def _check_grid(values: Sequence, name: str) -> tuple[float, ...]:
    if isinstance(values, (str, Mapping)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty sequence of numbers, got {values!r}")
    return tuple(values)


def search_levers(
    train: pd.DataFrame,
    validation: pd.DataFrame,
    cost_fp: float,
    cost_fn: float,
    phishing_weights: Sequence[float] = PHISHING_WEIGHTS,
    smote_ratios: Sequence[float] = SMOTE_RATIOS,
    random_state: int = 0,
    n_estimators: int = 60,
    min_samples_leaf: int = 3,
) -> LeverSearch:
    """Train every class weight x SMOTE ratio and tune each one's threshold for cost.

    Parameters
    ----------
    train : pandas.DataFrame
        Labelled training emails.
    validation : pandas.DataFrame
        Labelled emails the models are not trained on; thresholds and the best
        setting are chosen on them.
    cost_fp, cost_fn : float
        Costs of a false positive and a false negative (US$).
    phishing_weights, smote_ratios : sequence of float
        The grid (defaults :data:`PHISHING_WEIGHTS`, :data:`SMOTE_RATIOS`).
    random_state, n_estimators, min_samples_leaf
        See :func:`train_weighted`; every setting gets the same seed.

    Returns
    -------
    LeverSearch
    """
    _check_cost(cost_fp, "cost_fp")
    _check_cost(cost_fn, "cost_fn")
    weights = _check_grid(phishing_weights, "phishing_weights")
    ratios = _check_grid(smote_ratios, "smote_ratios")
    check_labelled_frame(validation, FEATURES)
    truth = validation["label"].to_numpy(dtype=np.int64)
    if truth.min() == truth.max():
        raise ValueError("the validation emails must contain both legitimate (0) and phishing (1) emails")
    phishing_rate = float(truth.mean())
    rows, models, scores = [], {}, {}
    for weight in weights:
        for ratio in ratios:
            model = train_weighted(train, weight, ratio, random_state, n_estimators, min_samples_leaf)
            values = predict_proba(model, validation)
            threshold = cost_optimal_threshold(truth, values, cost_fp, cost_fn)
            tuned = operating_point(truth, values, threshold, cost_fp, cost_fn)
            at_half = operating_point(truth, values, 0.5, cost_fp, cost_fn)
            key = (float(weight), float(ratio))
            models[key], scores[key] = model, values
            corrected = bayes_threshold(cost_fp, cost_fn, odds_inflation(weight, ratio, phishing_rate))
            rows.append({"phishing_weight": key[0], "smote_ratio": key[1], "cost_at_half": at_half["cost"],
                         "threshold": threshold, "fp": tuned["fp"], "fn": tuned["fn"], "cost": tuned["cost"],
                         "corrected_bayes": corrected})
    table = pd.DataFrame(rows)
    best_row = int(np.argmin(table["cost"].to_numpy()))  # argmin keeps the first of equal costs
    best = (float(table["phishing_weight"].iloc[best_row]), float(table["smote_ratio"].iloc[best_row]))
    return LeverSearch(table, models, scores, best)


# --- what a change of price does ---------------------------------------------------------------------


def price_sensitivity(
    y_validation,
    scores_validation,
    y_test,
    scores_test,
    cost_fp: float,
    cost_fn_values: Sequence[float],
    n_days: int,
) -> pd.DataFrame:
    """The errors a model makes when its threshold is re-tuned for each price of a missed phishing email.

    For every ``cost_fn`` the cost-optimal threshold is chosen on the
    validation emails and applied to the test emails.

    Parameters
    ----------
    y_validation, scores_validation : array-like
        Labels and scores the thresholds are chosen on.
    y_test, scores_test : array-like
        Labels and scores the errors are counted on.
    cost_fp : float
        Cost of a false positive (US$).
    cost_fn_values : sequence of float
        Prices of a false negative to try (US$).
    n_days : int
        Days the test emails span, for the rates per day.

    Returns
    -------
    pandas.DataFrame
        One row per price: ``cost_fn``, ``threshold``, test ``fp``, ``fn``,
        ``fp_per_day``, ``fn_per_day``, ``tpr`` and ``fpr``.
    """
    prices = _check_grid(cost_fn_values, "cost_fn_values")
    n_days = _check_int(n_days, "n_days", 1)
    rows = []
    for cost_fn in prices:
        threshold = cost_optimal_threshold(y_validation, scores_validation, cost_fp, cost_fn)
        point = operating_point(y_test, scores_test, threshold, cost_fp, cost_fn)
        rows.append({"cost_fn": float(cost_fn), "threshold": threshold, "fp": point["fp"], "fn": point["fn"],
                     "fp_per_day": point["fp"] / n_days, "fn_per_day": point["fn"] / n_days,
                     "tpr": point["tpr"], "fpr": point["fpr"]})
    return pd.DataFrame(rows)


# --- figures ---------------------------------------------------------------------------------------------

# The threshold axis is a logit axis: the interesting thresholds crowd near 0
# for an unweighted forest and near 1 for a heavily weighted one. Its ends are
# fixed; a threshold of 0 ("flag every email") is drawn at the left end.
_AXIS_LIMITS = (1e-5, 1 - 1e-4)


def plot_cost_curves(
    curves: Mapping[str, pd.DataFrame],
    bayes: float,
    corrected: Mapping[str, float] | None = None,
    reference: float | None = None,
    title: str | None = None,
) -> Figure:
    """Expected cost per 1,000 emails against the threshold, optimum marked, Bayes threshold beside it.

    Parameters
    ----------
    curves : mapping of str to pandas.DataFrame
        Name -> :func:`cost_curve` output, all on the same emails.
    bayes : float
        The Bayes threshold, drawn as a vertical line.
    corrected : mapping of str to float, optional
        Per curve, a corrected Bayes threshold drawn in the curve's colour.
    reference : float, optional
        A cost per 1,000 emails drawn as a horizontal line (flagging every email).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not curves:
        raise ValueError("curves must name at least one cost curve")
    colours = [PALETTE["blue"], PALETTE["orange"], PALETTE["green"], PALETTE["purple"]]
    with course_style():
        fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
        for (name, curve), colour in zip(curves.items(), colours):
            n_emails = int(curve[["tp", "fp", "fn", "tn"]].iloc[0].sum())
            per_1000 = 1000 * curve["cost"].to_numpy() / n_emails
            thresholds = np.clip(curve["threshold"].to_numpy(), *_AXIS_LIMITS)
            # Every threshold up to the lowest score flags every email: draw that from the left end.
            ax.step(np.r_[_AXIS_LIMITS[0], thresholds], np.r_[per_1000[0], per_1000], where="post",
                    color=colour, lw=1.8, label=name)
            best = np.flatnonzero(per_1000 == per_1000.min())[-1]
            ax.plot(thresholds[best], per_1000[best], "o", ms=9, color=colour, mec="black", clip_on=False,
                    label=f"{name}: lowest cost, threshold {curve['threshold'].iloc[best]:.3g}")
            if corrected and name in corrected:
                ax.axvline(corrected[name], color=colour, ls=":", lw=1.8,
                           label=f"{name}: corrected Bayes threshold {corrected[name]:.3g}")
        ax.axvline(bayes, color=PALETTE["black"], ls="--", lw=1.5, label=f"Bayes threshold {bayes:.5f}")
        if reference is not None:
            ax.axhline(reference, color=PALETTE["grey"], ls="-.", lw=1.5, label="quarantine every email")
        ax.set_xscale("logit")
        ax.set_xlim(*_AXIS_LIMITS)
        ax.set_yscale("log")
        ax.set_xlabel("Decision threshold (probability, logit scale; 0 drawn at the left end)")
        ax.set_ylabel("Expected cost (US$ per 1,000 emails)")
        fig.legend(loc="outside lower center", ncol=2, fontsize=10)
        if title:
            ax.set_title(title)
    return fig


def plot_lever_costs(table: pd.DataFrame, n_emails: int, reference: float | None = None,
                     title: str | None = None) -> Figure:
    """Validation cost of every class weight x SMOTE ratio, at threshold 0.5 and at its own optimum.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`LeverSearch.table`.
    n_emails : int
        Number of validation emails, for the cost per 1,000.
    reference : float, optional
        A cost per 1,000 emails drawn as a horizontal line (flagging every email).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_emails = _check_int(n_emails, "n_emails", 1)
    labels = [f"weight {w:g}\nSMOTE {r:g}" for w, r in zip(table["phishing_weight"], table["smote_ratio"])]
    x = np.arange(len(table))
    with course_style():
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.plot(x, 1000 * table["cost_at_half"] / n_emails, "o", ms=9, color=PALETTE["vermillion"],
                label="threshold 0.5")
        ax.plot(x, 1000 * table["cost"] / n_emails, "s", ms=9, color=PALETTE["blue"],
                label="cost-optimal threshold of the setting")
        if reference is not None:
            ax.axhline(reference, color=PALETTE["grey"], ls="-.", lw=1.5, label="quarantine every email")
        ax.set_xticks(x, labels, fontsize=10)
        ax.set_yscale("log")
        ax.set_xlabel("Setting (class weight of phishing; SMOTE ratio, phishing per legitimate email)")
        ax.set_ylabel("Expected cost (US$ per 1,000 emails)")
        ax.legend(loc="upper right")
        if title:
            ax.set_title(title)
    return fig


def plot_price_sensitivity(sensitivity: pd.DataFrame, assumed: float | None = None,
                           title: str | None = None) -> Figure:
    """False alarms a day and missed phishing a day against the price of a missed phishing email.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        :func:`price_sensitivity` output.
    assumed : float, optional
        The price the chapter assumes, drawn as a vertical line.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    with course_style():
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharex=True)
        panels = (("fp_per_day", "Legitimate emails quarantined (count per day)", PALETTE["vermillion"]),
                  ("fn_per_day", "Phishing emails missed (count per day)", PALETTE["blue"]))
        for ax, (column, label, colour) in zip(axes, panels):
            ax.plot(sensitivity["cost_fn"], sensitivity[column], "o-", color=colour, lw=1.8)
            if assumed is not None:
                ax.axvline(assumed, color=PALETTE["black"], ls="--", lw=1.2, label=f"assumed: US${assumed:,.0f}")
                ax.legend(loc="upper center")
            ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("Cost of a missed phishing email (US$)")
            ax.set_ylabel(label)
        if title:
            fig.suptitle(title)
    return fig
