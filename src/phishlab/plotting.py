"""The course's figure style and the figures several chapters share.

One style for every chapter: the Okabe--Ito palette (distinguishable with the
common forms of colour blindness), labelled axes with units, and sizes that
read well on a laptop screen. Every function returns the
:class:`~matplotlib.figure.Figure` it draws, so a chapter can save or glue it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from phishlab.monitoring import DEFAULT_THRESHOLDS, AlertThresholds

__all__ = [
    "COURSE_STYLE",
    "LOOP_STEPS",
    "PALETTE",
    "course_style",
    "plot_confusion_matrices",
    "plot_improvement_loop",
    "plot_monitoring_dashboard",
    "use_course_style",
]

PALETTE: Mapping[str, str] = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#999999",
}
"""Okabe--Ito colours by name."""

COURSE_STYLE: Mapping[str, Any] = {
    "axes.prop_cycle": mpl.cycler(
        color=[PALETTE[c] for c in ("blue", "orange", "green", "vermillion", "sky", "purple")]
    ),
    "figure.figsize": (9.0, 4.5),
    "figure.dpi": 100,
    # A figure saved as PNG is drawn at twice screen resolution; the book shows SVG.
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "figure.constrained_layout.use": True,
    # Fixed ids in SVG output keep rebuilt figures byte-identical; text stays
    # text, so it is sharp at any zoom, searchable, and its size can be checked.
    "svg.hashsalt": "phishlab",
    "svg.fonttype": "none",
    "image.cmap": "cividis",
}
"""Matplotlib rc settings of every course figure."""


def use_course_style() -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib for the rest of the session.

    In a notebook, figures are also shown (and glued) as SVG: vector graphics
    stay sharp on any screen, and their text stays text.
    """
    mpl.rcParams.update(COURSE_STYLE)
    _show_figures_as_svg()


def _show_figures_as_svg() -> None:
    """Make IPython display figures as SVG without a creation date (rebuilds stay identical)."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # not in IPython: nothing is displayed
        return
    if get_ipython() is not None:
        set_matplotlib_formats("svg", metadata={"Date": None})


@contextmanager
def course_style():
    """Context manager applying :data:`COURSE_STYLE` temporarily."""
    with mpl.rc_context(COURSE_STYLE):
        yield


_PANELS = (
    ("tpr", "True-positive rate", "phishing caught"),
    ("fpr", "False-positive rate", "legitimate mail flagged"),
    ("precision", "Precision", "alerts that are phishing"),
)


def plot_monitoring_dashboard(
    metrics: pd.DataFrame,
    thresholds: AlertThresholds = DEFAULT_THRESHOLDS,
    windows: Sequence[int] = (7, 30),
    events: Mapping[str, Any] | None = None,
    title: str | None = None,
    known: pd.DataFrame | None = None,
) -> Figure:
    """Three stacked panels -- TPR, FPR, precision -- with daily and rolling lines.

    Parameters
    ----------
    metrics : pandas.DataFrame
        Output of :func:`phishlab.monitoring.add_rolling_metrics`, indexed by date.
    thresholds : AlertThresholds
        Targets drawn as dashed lines.
    windows : sequence of int, default=(7, 30)
        Rolling windows to draw (their columns must exist).
    events : mapping of str to date, optional
        Vertical markers, e.g. ``{"drift starts": "2024-08-01"}``.
    title : str, optional
        Figure title.
    known : pandas.DataFrame, optional
        The rolling rates computed from the labels known on each day
        (:func:`phishlab.labels.known_rolling_metrics`, one call per window,
        joined), with a column ``{metric}_{w}d`` per metric and window. Drawn
        dashed, in the colour of the same window's line from ``metrics``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    needed = [m for m, _, _ in _PANELS] + [f"{m}_{w}d" for m, _, _ in _PANELS for w in windows]
    missing = [c for c in needed if c not in metrics.columns]
    if missing:
        raise ValueError(f"metrics are missing column(s) {missing}; run add_rolling_metrics first")
    if metrics.empty:
        raise ValueError("metrics are empty")
    if known is not None:
        missing = [f"{m}_{w}d" for m, _, _ in _PANELS for w in windows if f"{m}_{w}d" not in known.columns]
        if missing:
            raise ValueError(f"known is missing column(s) {missing}; join known_rolling_metrics of each window")
    line_colours = [PALETTE["blue"], PALETTE["vermillion"], PALETTE["green"]]
    with course_style():
        # The text column is about 8.5 inches wide: the labels keep their size on a laptop.
        fig, axes = plt.subplots(3, 1, figsize=(8.5, 8.8), sharex=True)
        for ax, (metric, label, meaning) in zip(axes, _PANELS, strict=False):
            ax.plot(metrics.index, metrics[metric] * 100, color=PALETTE["grey"], lw=0.8,
                    alpha=0.7, label="daily")
            for window, colour in zip(windows, line_colours, strict=False):
                ax.plot(metrics.index, metrics[f"{metric}_{window}d"] * 100, color=colour,
                        lw=2, label=f"{window}-day rolling" + (", truth" if known is not None else ""))
                if known is not None:
                    ax.plot(known.index, known[f"{metric}_{window}d"] * 100, color=colour, lw=1.6,
                            ls=(0, (3, 1.5)), label=f"{window}-day, labels known that day")
            direction, target = thresholds.target_of(metric)
            ax.axhline(target * 100, color=PALETTE["black"], ls="--", lw=1.2,
                       label=f"target {direction} {target:.0%}")
            for name, when in (events or {}).items():
                ax.axvline(pd.Timestamp(when), color=PALETTE["purple"], lw=1.5, ls=":")
                if ax is axes[0]:
                    ax.annotate(name, (pd.Timestamp(when), 1.0), xycoords=("data", "axes fraction"),
                                xytext=(4, -4), textcoords="offset points", va="top",
                                color=PALETTE["purple"])
            ax.set_ylabel(f"{label} (%)")
            ax.set_title(f"{label}: {meaning}", loc="left")
        # One legend below the panels, where it covers no data (a bad day's dip included);
        # each panel's target differs, so the legend names the dashed line only "target".
        handles, labels = axes[0].get_legend_handles_labels()
        labels = ["target" if label.startswith("target") else label for label in labels]
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=len(labels) if known is None else 3, fontsize=10)
        axes[-1].set_xlabel("Date")
        if title:
            fig.suptitle(title)
    return fig


def plot_confusion_matrices(
    matrices: Mapping[str, Sequence[Sequence[int]]], title: str | None = None
) -> Figure:
    """Confusion matrices side by side, with counts and row percentages.

    Parameters
    ----------
    matrices : mapping of str to 2x2 array
        ``{name: [[tn, fp], [fn, tp]]}`` (scikit-learn's orientation).
    title : str, optional
        Figure title.
    """
    if not matrices:
        raise ValueError("no confusion matrix to plot")
    # Validate before creating the figure: a rejected input must not leave an
    # empty figure open (Jupyter would still display it).
    arrays = {name: np.asarray(matrix) for name, matrix in matrices.items()}
    for name, cm in arrays.items():
        if cm.shape != (2, 2) or (cm < 0).any():
            raise ValueError(f"confusion matrix {name!r} must be 2x2 non-negative counts")
    with course_style():
        fig, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.8),
                                 squeeze=False)
        for ax, (name, cm) in zip(axes[0], arrays.items(), strict=False):
            shares = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
            ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
            for (i, j), count in np.ndenumerate(cm):
                ax.text(j, i, f"{count}\n({shares[i, j]:.1%})", ha="center", va="center",
                        color="white" if shares[i, j] > 0.5 else "black")
            ax.set_xticks([0, 1], ["legitimate", "phishing"])
            ax.set_yticks([0, 1], ["legitimate", "phishing"])
            ax.set_xlabel("Predicted class")
            ax.set_ylabel("Actual class")
            ax.set_title(name)
            ax.grid(False)
        if title:
            fig.suptitle(title)
    return fig


LOOP_STEPS: tuple[str, ...] = (
    "Production",
    "Monitor",
    "Detect drift",
    "Collect feedback",
    "Re-engineer features",
    "Retrain",
    "Validate",
    "Deploy",
)
"""The continuous-improvement loop, in order."""


def plot_improvement_loop(
    highlight: str | None = None, steps: Sequence[str] = LOOP_STEPS
) -> Figure:
    """The continuous-improvement loop as a ring of labelled boxes.

    Parameters
    ----------
    highlight : str, optional
        A step to emphasise (the one a chapter is about).
    steps : sequence of str
        The steps, clockwise from the top.
    """
    if highlight is not None and highlight not in steps:
        raise ValueError(f"highlight must be one of {list(steps)}, got {highlight!r}")
    n = len(steps)
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / n
    x, y = 1.45 * np.cos(angles), np.sin(angles)
    with course_style():
        fig, ax = plt.subplots(figsize=(8, 5.5))
        for i in range(n):
            j = (i + 1) % n
            ax.annotate(
                "", xy=(x[j], y[j]), xytext=(x[i], y[i]),
                arrowprops={"arrowstyle": "-|>", "color": PALETTE["grey"], "lw": 1.8,
                            "shrinkA": 34, "shrinkB": 34, "connectionstyle": "arc3,rad=-0.2"},
            )
        for i, step in enumerate(steps):
            active = step == highlight
            ax.text(
                x[i], y[i], f"{i + 1}. {step}", ha="center", va="center", fontsize=11,
                color="white" if active else "black",
                bbox={"boxstyle": "round,pad=0.5", "lw": 1.5,
                      "fc": PALETTE["vermillion"] if active else "#e8f1f8",
                      "ec": PALETTE["vermillion"] if active else PALETTE["blue"]},
            )
        ax.text(0, 0, "continuous\nimprovement", ha="center", va="center", fontsize=13,
                color=PALETTE["blue"], style="italic")
        ax.set_xlim(-2.1, 2.1)
        ax.set_ylim(-1.35, 1.35)
        ax.set_aspect("equal")
        ax.axis("off")
    return fig
