"""The weight histograms sit on the same step axis as the loss, and a diverged range
label never squeezes the plot."""
from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from engine.session import Evaluation, Snapshot
from playground.frames import TrainingFrame
from tests.ui.conftest import WAIT_MS
from ui.plots.loss_plot import LossPlot
from ui.plots.weights_plot import BINS, WeightsPlot

# Irregular steps, as frames arrive from a run whose speed changes (far enough apart
# to tell apart on a 600-pixel plot of 1500 steps: 2.5 steps a pixel).
STEPS = (0, 30, 100, 130, 600, 1000)


def frame_at(step: int, weights: dict, steps_per_second: float = 500.0) -> TrainingFrame:
    evaluation = Evaluation(step, 0.5, 0.6, None, None)
    snapshot = Snapshot(step, 0, 0.1, None, MappingProxyType(weights), MappingProxyType({}),
                        MappingProxyType({}), evaluation, None)
    return TrainingFrame(snapshot, evaluation, steps_per_second, None)


def one_value(value: float) -> dict:
    """A layer whose weights all equal ``value``: its histogram column is one bin."""
    return {"h1.weight": np.full((3, 4), value)}


def bin_of(value: float, r: float = 1.0) -> int:
    return int((value + r) * BINS / (2 * r))


@pytest.fixture
def shown(qtbot):
    def show(widget):
        qtbot.addWidget(widget)
        widget.resize(600, 260)
        widget.show()
        qtbot.waitExposed(widget)
        return widget
    return show


def test_each_column_sits_at_the_step_its_weights_were_taken(qtbot, shown):
    plot = shown(WeightsPlot())
    loss = shown(LossPlot())
    plot.set_layers(["h1"])
    values = [-0.9 + 0.3 * i for i in range(len(STEPS))]        # a different bin at each step
    for step, value in zip(STEPS, values):
        frame = frame_at(step, one_value(value))
        plot.show_frame(frame)
        loss.show_frame(frame)
    plot.redraw()
    loss.redraw()
    image = plot.image.image
    view = plot.plot.getPlotItem().getViewBox()
    pixel_steps = view.viewRange()[0][1] / view.width()      # steps per screen pixel
    edges = np.r_[STEPS[0], (np.array(STEPS[1:]) + STEPS[:-1]) / 2, STEPS[-1]]
    for i, (step, value) in enumerate(zip(STEPS, values)):
        # The column of each step is drawn at that step and over the steps nearer to it than
        # to its neighbours', to within a screen pixel; the image ends at the newest step.
        lo, hi = edges[i] + pixel_steps, edges[i + 1] - pixel_steps
        for x in (lo, float(np.clip(step, lo, hi)), hi):
            pixel = plot.image.mapFromView(QPointF(x, bin_of(value) + 0.5))
            column = image[int(pixel.x())]
            assert int(np.argmax(column)) == bin_of(value), (step, x, value)
    assert plot.image.mapRectToView(plot.image.boundingRect()).right() == pytest.approx(STEPS[-1])
    # and the step axis spans the same steps as the loss plot's
    weights_x = plot.plot.getPlotItem().viewRange()[0]
    loss_x = loss.plot.getPlotItem().viewRange()[0]
    assert weights_x == pytest.approx(loss_x)
    assert plot.plot.getPlotItem().getAxis("bottom").range == pytest.approx(loss_x)


def test_no_frame_is_lost_to_the_clock_while_columns_are_few(qtbot, shown):
    plot = shown(WeightsPlot())
    plot.set_layers(["h1"])
    for step in STEPS:          # arriving far faster than ten a second
        plot.show_frame(frame_at(step, one_value(0.1)))
    assert list(plot.history.x) == list(STEPS)


def test_a_long_run_keeps_columns_evenly_spread_over_its_steps(qtbot, shown):
    plot = shown(WeightsPlot(capacity=20))
    plot.set_layers(["h1"])
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(1, 40, size=400))
    for step in steps[:-1]:
        plot.show_frame(frame_at(int(step), one_value(0.1)))
    plot.show_frame(frame_at(int(steps[-1]), one_value(0.1), steps_per_second=0.0))    # paused: shown at once
    kept = plot.history.x
    assert len(kept) <= 21 and kept[-1] == steps[-1]        # bounded, and reaches the present
    gaps = np.diff(kept[:-1])
    interval = plot.history.interval
    assert gaps.max() < 2 * interval + 40 and gaps.min() > 0


def left_labels(plot) -> list[str]:
    return [text for _, text in plot.plot.getPlotItem().getAxis("left")._tickLevels[0]]


def test_a_diverged_range_label_is_compact_and_keeps_the_plot_width(qtbot, shown):
    plot = shown(WeightsPlot())
    plot.set_layers(["h1", "out"])
    plot.show_frame(frame_at(1, {"h1.weight": np.full((3, 4), 0.5), "out.weight": np.full((4, 1), 0.5)}))
    plot.redraw()
    QApplication.processEvents()
    view = plot.plot.getPlotItem().getViewBox()
    width = view.width()
    plot.show_frame(frame_at(2, {"h1.weight": np.full((3, 4), 1.04748e152), "out.weight": np.full((4, 1), 0.5)}))
    plot.redraw()
    qtbot.wait(50)      # any relayout the new label would cause happens here
    QApplication.processEvents()
    assert view.width() == width
    labels = left_labels(plot)
    assert labels[0] == "h1 ±1.0e152"          # 2**505, as compact as the largest ordinary range
    axis = plot.plot.getPlotItem().getAxis("left")
    metrics = plot.fontMetrics()
    for text in labels:
        assert metrics.horizontalAdvance(text) <= axis.width() - axis.style["tickTextOffset"][0]


def test_a_long_layer_name_is_elided_not_widening_the_axis(qtbot, shown):
    plot = shown(WeightsPlot())
    plot.set_layers(["h1"])
    QApplication.processEvents()
    short = plot.plot.getPlotItem().getAxis("left").width()
    plot.set_layers(["a_very_long_layer_name_indeed"])
    QApplication.processEvents()
    axis = plot.plot.getPlotItem().getAxis("left")
    assert axis.width() < short + plot.fontMetrics().horizontalAdvance("dense_10")
    assert "…" in left_labels(plot)[0] and "a_very_long_layer_name_indeed" in plot.plot.toolTip()


def test_the_axis_follows_a_font_change(qtbot, shown):
    plot = shown(WeightsPlot())
    plot.set_layers(["h1"])
    axis = plot.plot.getPlotItem().getAxis("left")
    QApplication.processEvents()
    before = axis.width()
    app = QApplication.instance()
    font = app.font()
    bigger = app.font()
    bigger.setPointSizeF(font.pointSizeF() * 1.6)
    try:
        app.setFont(bigger)
        qtbot.waitUntil(lambda: axis.width() > before * 1.3, timeout=WAIT_MS)
    finally:
        app.setFont(font)
    qtbot.waitUntil(lambda: axis.width() == before, timeout=WAIT_MS)
