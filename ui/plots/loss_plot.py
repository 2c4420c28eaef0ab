"""Training and test loss over steps, from each frame's full-data Evaluation."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from ui.plots.base import PlotPanel, option_checkbox
from ui.plots.history import BoundedHistory
from ui.plots.ranges import DecadeAxis, SteppedRanges

# Columns of the history, in the CSV export's order after ``step``.
COLUMNS = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"


def _number(value) -> float:
    return math.nan if value is None else float(value)


class LossPlot(PlotPanel):
    def __init__(self, parent=None, capacity: int = 400):
        super().__init__("Loss", parent, plot=pg.PlotWidget(axisItems={"left": DecadeAxis("left")}))
        self.history = BoundedHistory(len(COLUMNS), capacity)
        self._last_step = None
        self.log_y = option_checkbox("Log scale", "Show the loss on a logarithmic axis, where a steady "
                                                  "exponential decrease looks like a straight line.")
        self.log_y.toggled.connect(self._set_log)
        self.options.addWidget(self.log_y)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "loss")
        # No grid and no auto-range button: with a grid the axes span the whole view,
        # so every curve update repaints them too (measured: 2.5x the cost of a redraw).
        item.hideButtons()
        self.ranges = SteppedRanges(item)
        self.train_curve = item.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.test_curve = item.plot(pen=pg.mkPen(TEST_COLOR, width=2, style=pg.QtCore.Qt.DashLine))
        self.set_key([("train", TRAIN_COLOR, False), ("test", TEST_COLOR, True)])

    def _set_log(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self.ranges.reset(self.log_y.isChecked())   # the y range is in different units now
        self.redraw()

    def clear(self) -> None:
        self.history.clear()
        self._last_step = None
        self.ranges.reset(self.log_y.isChecked())
        self.train_curve.setData([], [])
        self.test_curve.setData([], [])

    def show_frame(self, frame) -> None:
        ev = frame.evaluation
        if ev is None or ev.step == self._last_step:
            return
        self._last_step = ev.step
        self.dirty = True
        self.history.append(ev.step, (frame.snapshot.epoch, _number(ev.train_loss), _number(ev.test_loss),
                                      _number(ev.train_accuracy), _number(ev.test_accuracy)))

    def redraw(self) -> None:
        h = self.history
        # connect="finite" leaves gaps at NaN instead of dropping the whole curve.
        self.train_curve.setData(h.x, h.column(1), connect="finite")
        test = h.column(2)
        if len(test) and np.isfinite(test).any():
            self.test_curve.setData(h.x, test, connect="finite")
        else:
            self.test_curve.setData([], [])
        self.ranges.fit(h.x, [h.column(1), test], log_y=self.log_y.isChecked())

    def write_csv(self, path) -> None:
        """step, epoch, losses and accuracies of every kept sample (empty where not measured)."""
        h = self.history
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(",".join(("step",) + COLUMNS) + "\n")
            for step, row in zip(h.x, h.values):
                cells = [str(int(step)), str(int(row[0]))] + ["" if math.isnan(v) else repr(float(v)) for v in row[1:]]
                out.write(",".join(cells) + "\n")
