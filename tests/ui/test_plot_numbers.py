"""The numbers on the plots' axes are the values themselves (a learner reads them)."""
from __future__ import annotations

import re

import pytest

from tests.ui.conftest import WAIT_MS, wait_frame


def visible_ticks(axis) -> list[float]:
    """The tick labels the axis paints for its current range, as numbers."""
    lo, hi = axis.range
    values = [v for _, ticks in axis.tickValues(lo, hi, axis.size().height() or 200) for v in ticks]
    strings = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, 1.0)
    return [float(s) for s in strings if re.fullmatch(r"-?[0-9.]+(e-?[0-9]+)?", s)]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_loss_axis_reads_the_loss_in_both_themes(qtbot, window, theme):
    window.set_theme(theme)
    window.set_theme("light")
    window.set_theme(theme)
    window.controller.step(300)
    frame = wait_frame(qtbot, window, lambda f: f.snapshot.step == 300)
    qtbot.waitUntil(lambda: not window.loss_plot.pending(), timeout=WAIT_MS)
    axis = window.loss_plot.plot.getPlotItem().getAxis("left")
    assert axis.autoSIPrefixScale == 1.0
    ticks = visible_ticks(axis)
    loss = frame.evaluation.train_loss
    assert ticks and max(ticks) < 2.0 and 0 < loss < max(ticks) + 0.5, (ticks, loss)


def test_ranges_forget_a_diverged_session_and_an_early_spike(qtbot):
    import numpy as np
    import pyqtgraph as pg

    from ui.plots.ranges import SteppedRanges
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    item = widget.getPlotItem()
    item.setLogMode(y=True)
    ranges = SteppedRanges(item)
    x = np.arange(10.0)
    ranges.fit(x, [np.full(10, 1e150)], log_y=True)
    assert item.viewRange()[1][1] >= 150
    ranges.reset(log_y=True)                     # a new session: the empty plot is neutral again
    assert item.viewRange()[1][1] <= 1.5
    # an early spike that has left the data (the history keeps a bounded sample) stops pinning the axis
    item.setLogMode(y=False)
    ranges.reset()
    ranges.fit(x, [np.r_[50.0, np.full(9, 0.5)]])
    assert item.viewRange()[1][1] > 50
    ranges.fit(x, [np.full(10, 0.5)])
    assert item.viewRange()[1][1] < 1.0
    ranges.fit(x, [np.full(10, 0.45)])           # small changes never move the axis
    assert item.viewRange()[1][1] == ranges.y_hi
