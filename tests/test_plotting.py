"""The shared figures: each returns a Figure with the expected content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from phishlab.monitoring import AlertThresholds, add_rolling_metrics, daily_metrics
from phishlab.plotting import (
    COURSE_STYLE,
    LOOP_STEPS,
    PALETTE,
    course_style,
    plot_confusion_matrices,
    plot_improvement_loop,
    plot_monitoring_dashboard,
    use_course_style,
)


@pytest.fixture(autouse=True)
def close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def metrics() -> pd.DataFrame:
    """Forty days of rolling metrics from a random log."""
    rng = np.random.default_rng(0)
    n = 4000
    log = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D"),
            "actual": (rng.random(n) < 0.1).astype(int),
        }
    )
    log["prediction"] = np.where(rng.random(n) < 0.9, log["actual"], 1 - log["actual"])
    return add_rolling_metrics(daily_metrics(log))


def _horizontal_lines(ax) -> list[float]:
    """y values of the horizontal lines drawn across the axes (axhline)."""
    return [
        line.get_ydata()[0]
        for line in ax.get_lines()
        if list(line.get_xdata()) == [0, 1] and len(set(line.get_ydata())) == 1
    ]


# --- dashboard ----------------------------------------------------------------------------------------


def test_dashboard_is_a_figure_with_three_panels(metrics):
    fig = plot_monitoring_dashboard(metrics)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0].startswith("True-positive rate")
    assert titles[1].startswith("False-positive rate")
    assert titles[2].startswith("Precision")
    assert fig.axes[-1].get_xlabel() == "Date"
    assert all(ax.get_ylabel().endswith("(%)") for ax in fig.axes)


def test_dashboard_draws_the_default_threshold_lines_in_percent(metrics):
    fig = plot_monitoring_dashboard(metrics)
    assert [_horizontal_lines(ax) for ax in fig.axes] == [[90.0], [5.0], [75.0]]


def test_dashboard_draws_custom_threshold_lines(metrics):
    fig = plot_monitoring_dashboard(metrics, thresholds=AlertThresholds(0.8, 0.1, 0.6))
    assert [_horizontal_lines(ax) for ax in fig.axes] == [[80.0], [10.0], [60.0]]


def test_dashboard_draws_daily_and_rolling_lines(metrics):
    fig = plot_monitoring_dashboard(metrics, windows=(7,))
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels[:2] == ["daily", "7-day rolling"]
    daily_line = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(daily_line.get_ydata(), metrics["tpr"] * 100)
    assert "30-day rolling" not in labels


def test_dashboard_legend_sits_below_the_panels_and_covers_no_data(metrics):
    fig = plot_monitoring_dashboard(metrics)
    assert all(ax.get_legend() is None for ax in fig.axes)
    (legend,) = fig.legends
    assert [text.get_text() for text in legend.get_texts()] == ["daily", "7-day rolling", "30-day rolling", "target"]


def test_dashboard_marks_events_and_shows_the_title(metrics):
    fig = plot_monitoring_dashboard(metrics, events={"drift starts": "2024-02-20"}, title="Spring")
    assert fig.get_suptitle() == "Spring"
    assert any(text.get_text() == "drift starts" for text in fig.axes[0].texts)
    for ax in fig.axes:
        styles = [line.get_linestyle() for line in ax.get_lines()]
        assert ":" in styles  # the vertical event marker


def test_dashboard_draws_the_known_by_date_rates_dashed_beside_the_truth(metrics):
    known = metrics[["tpr_7d", "fpr_7d", "precision_7d"]] * 0.9
    fig = plot_monitoring_dashboard(metrics, windows=(7,), known=known)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines)[:3] == ["daily", "7-day rolling, truth", "7-day, labels known that day"]
    dashed = lines["7-day, labels known that day"]
    np.testing.assert_allclose(dashed.get_ydata(), known["tpr_7d"] * 100)
    assert dashed.get_color() == lines["7-day rolling, truth"].get_color()
    assert dashed.get_linestyle() not in ("-", ":")
    (legend,) = fig.legends
    assert "7-day, labels known that day" in [text.get_text() for text in legend.get_texts()]
    with pytest.raises(ValueError, match=r"known is missing column\(s\) \['fpr_7d'"):
        plot_monitoring_dashboard(metrics, windows=(7,), known=known[["tpr_7d"]])


def test_dashboard_requires_the_rolling_columns(metrics):
    daily_only = metrics[["tpr", "fpr", "precision"]]
    with pytest.raises(ValueError, match=r"missing column\(s\) \['tpr_7d'.*run add_rolling_metrics first"):
        plot_monitoring_dashboard(daily_only)
    with pytest.raises(ValueError, match=r"metrics are empty"):
        plot_monitoring_dashboard(metrics.iloc[:0])


def test_dashboard_leaves_the_global_style_unchanged(metrics):
    before = dict(plt.rcParams)
    plot_monitoring_dashboard(metrics)
    assert dict(plt.rcParams) == before


# --- confusion matrices ---------------------------------------------------------------------------------


def test_confusion_matrices_are_drawn_side_by_side_with_counts():
    matrices = {"v1.0": [[90, 10], [5, 15]], "v2.0": [[95, 5], [2, 18]]}
    fig = plot_confusion_matrices(matrices, title="Before/after")
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["v1.0", "v2.0"]
    texts = [text.get_text() for text in fig.axes[0].texts]
    assert texts == ["90\n(90.0%)", "10\n(10.0%)", "5\n(25.0%)", "15\n(75.0%)"]
    assert fig.get_suptitle() == "Before/after"


def test_confusion_matrices_accept_numpy_arrays_and_empty_rows():
    fig = plot_confusion_matrices({"no phishing": np.array([[10, 0], [0, 0]])})
    assert "0\n(0.0%)" in [text.get_text() for text in fig.axes[0].texts]


@pytest.mark.parametrize(
    "matrix", [[[1, 2, 3], [4, 5, 6]], [1, 2, 3, 4], [[1, 2], [3, -4]], [[[1, 2], [3, 4]]]],
    ids=["2x3", "flat", "negative", "3d"],
)
def test_confusion_matrices_reject_a_matrix_that_is_not_2x2_counts(matrix):
    with pytest.raises(ValueError, match=r"confusion matrix 'bad' must be 2x2 non-negative counts"):
        plot_confusion_matrices({"good": [[1, 0], [0, 1]], "bad": matrix})
    # A rejected input leaves no half-drawn figure behind (Jupyter would display it).
    assert plt.get_fignums() == []


def test_confusion_matrices_need_at_least_one_matrix():
    with pytest.raises(ValueError, match=r"no confusion matrix to plot"):
        plot_confusion_matrices({})


# --- improvement loop -------------------------------------------------------------------------------------


def test_improvement_loop_shows_the_eight_steps_in_order():
    fig = plot_improvement_loop()
    assert isinstance(fig, Figure)
    assert len(LOOP_STEPS) == 8
    labels = [text.get_text() for text in fig.axes[0].texts if text.get_text()]
    assert labels[:8] == [f"{i}. {step}" for i, step in enumerate(LOOP_STEPS, start=1)]
    assert "Detect drift" in LOOP_STEPS and "Retrain" in LOOP_STEPS


def test_improvement_loop_highlights_the_chosen_step():
    fig = plot_improvement_loop(highlight="Retrain")
    boxes = {
        text.get_text(): to_hex(text.get_bbox_patch().get_facecolor())
        for text in fig.axes[0].texts
        if text.get_bbox_patch() is not None
    }
    assert boxes["6. Retrain"] == PALETTE["vermillion"].lower()
    assert boxes["1. Production"] != PALETTE["vermillion"].lower()
    assert sum(colour == PALETTE["vermillion"].lower() for colour in boxes.values()) == 1


def test_improvement_loop_rejects_an_unknown_highlight():
    with pytest.raises(ValueError, match=r"highlight must be one of \['Production', .*got 'Relax'"):
        plot_improvement_loop(highlight="Relax")


def test_improvement_loop_accepts_custom_steps():
    fig = plot_improvement_loop(highlight="B", steps=("A", "B", "C"))
    labels = [text.get_text() for text in fig.axes[0].texts if text.get_text()]
    assert labels[:3] == ["1. A", "2. B", "3. C"]


# --- style ----------------------------------------------------------------------------------------------


def test_course_style_applies_only_inside_the_context():
    with matplotlib.rc_context({"axes.spines.top": True, "svg.hashsalt": None}):
        with course_style():
            assert plt.rcParams["axes.spines.top"] is COURSE_STYLE["axes.spines.top"] is False
            assert plt.rcParams["svg.hashsalt"] == "phishlab"
        assert plt.rcParams["axes.spines.top"] is True
        assert plt.rcParams["svg.hashsalt"] is None


def test_use_course_style_applies_the_style_for_the_session():
    with matplotlib.rc_context({"axes.spines.top": True}):
        use_course_style()
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["image.cmap"] == "cividis"


def test_dashboard_axes_name_their_quantity_and_unit(metrics):
    fig = plot_monitoring_dashboard(metrics)
    assert all(ax.get_ylabel().endswith("(%)") for ax in fig.axes)
    assert fig.axes[-1].get_xlabel() == "Date"
