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
