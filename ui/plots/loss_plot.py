"""Training and test loss over steps, from each frame's full-data Evaluation.

Earlier runs kept in the Runs panel can be laid over the current one (``set_overlays``):
each in its own colour, thinner and paler, train solid and test dotted.  They come as
plain arrays (``Overlay``), so this module stays free of the engine.  "Accuracy" shows
the same runs' accuracies instead of their losses: the measure to compare runs trained
with different losses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from ui.plots.base import PlotPanel, option_checkbox
from ui.plots.history import BoundedHistory
from ui.plots.ranges import DecadeAxis, SteppedRanges

# Columns of the history, in the CSV export's order after ``step``.
COLUMNS = ("epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
TRAIN_COLOR, TEST_COLOR = "#1f77b4", "#ff7f0e"
OVERLAY_ALPHA = 170         # of 255: kept runs are paler than the current one
OVERLAY_WIDTH = 1.5


@dataclass(frozen=True)
class Overlay:
    """A kept run as the plot draws it: ``steps`` and the four curves line up, NaN where
    there was no value (no test set, a regression task)."""

    name: str
    color: str
    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray

    def curves(self, accuracy: bool) -> tuple[np.ndarray, np.ndarray]:
        return (self.train_accuracy, self.test_accuracy) if accuracy else (self.train_loss, self.test_loss)


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _shown(values: np.ndarray) -> bool:
    return bool(len(values)) and bool(np.isfinite(values).any())


def _key_entry(name: str, color: str, style: str) -> str:
    mark = {"solid": "——", "dashed": "- -", "dotted": "···"}[style]
    return f'<span style="color:{color}; font-weight:bold">{mark}</span>&nbsp;{name}'


class LossPlot(PlotPanel):
    def __init__(self, parent=None, capacity: int = 400):
        super().__init__("Loss", parent, plot=pg.PlotWidget(axisItems={"left": DecadeAxis("left")}))
        self.history = BoundedHistory(len(COLUMNS), capacity)
        self._last_step = None
        self.overlays: tuple[Overlay, ...] = ()
        self._overlay_points: list[tuple[np.ndarray, np.ndarray]] = []     # what the ranges must show
        self.show_current = True
        self.log_y = option_checkbox("Log scale", "Show the loss on a logarithmic axis, where a steady "
                                                  "exponential decrease looks like a straight line.")
        self.log_y.toggled.connect(self._set_log)
        self.options.addWidget(self.log_y)
        self.accuracy = option_checkbox("Accuracy", "Show the accuracy instead of the loss, for this run and the "
                                                    "kept runs: the measure to compare runs trained with different "
                                                    "losses (MSE and cross-entropy, say).")
        self.accuracy.toggled.connect(self._set_accuracy)
        self.options.addWidget(self.accuracy)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "loss")
        # No grid and no auto-range button: with a grid the axes span the whole view,
        # so every curve update repaints them too (measured: 2.5x the cost of a redraw).
        item.hideButtons()
        self.ranges = SteppedRanges(item)
        self.train_curve = item.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.test_curve = item.plot(pen=pg.mkPen(TEST_COLOR, width=2, style=Qt.DashLine))
        self.overlay_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        # The kept runs' names on a line of their own, wrapped between names: however
        # many there are, they never make the plot wider.
        self.overlay_key = QLabel()
        self.overlay_key.setTextFormat(Qt.RichText)
        self.overlay_key.setWordWrap(True)
        self.overlay_key.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.overlay_key.setAccessibleName("Kept runs shown")
        self.overlay_key.hide()
        self.layout().insertWidget(1, self.overlay_key)
        self._show_key()

    # -- options --------------------------------------------------------------------------
    @property
    def showing_accuracy(self) -> bool:
        return self.accuracy.isChecked()

    def _set_log(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self.ranges.reset(self._log_axis())   # the y range is in different units now
        self.redraw()

    def _set_accuracy(self, on: bool) -> None:
        # Accuracies live in [0, 1]: a log axis would only squash the part that matters.
        self.log_y.setEnabled(not on)
        self.plot.getPlotItem().setLogMode(y=self._log_axis())
        self.plot.getPlotItem().setLabel("left", "accuracy" if on else "loss")
        self.ranges.reset(self._log_axis())
        self._show_key()
        self._draw_overlays()
        self.redraw()

    def _log_axis(self) -> bool:
        return self.log_y.isChecked() and not self.showing_accuracy

    # -- kept runs ------------------------------------------------------------------------
    def set_overlays(self, overlays, show_current: bool = True) -> None:
        """Draw ``overlays`` (kept runs) with the current run, or without it."""
        self.overlays = tuple(overlays)
        self.show_current = bool(show_current)
        item = self.plot.getPlotItem()
        while len(self.overlay_curves) > len(self.overlays):
            for curve in self.overlay_curves.pop():
                item.removeItem(curve)
        while len(self.overlay_curves) < len(self.overlays):
            # Behind the current run's curves, which stay on top.
            pair = (pg.PlotDataItem(), pg.PlotDataItem())
            for curve in pair:
                curve.setZValue(-1)
                item.addItem(curve)
            self.overlay_curves.append(pair)
        for overlay, (train, test) in zip(self.overlays, self.overlay_curves):
            color = pg.mkColor(overlay.color)
            color.setAlpha(OVERLAY_ALPHA)
            train.setPen(pg.mkPen(color, width=OVERLAY_WIDTH))
            test.setPen(pg.mkPen(color, width=OVERLAY_WIDTH, style=Qt.DotLine))
        self.ranges.reset(self._log_axis())     # a removed run's range should not linger
        self._show_key()
        self._draw_overlays()
        self.redraw()

    def _show_key(self) -> None:
        what = "accuracy" if self.showing_accuracy else "loss"
        self.set_key([(f"train {what}", TRAIN_COLOR, False), (f"test {what}", TEST_COLOR, True)]
                     if self.show_current else [])
        entries = [_key_entry(o.name, o.color, "solid") + "&nbsp;" + _key_entry("test", o.color, "dotted")
                   for o in self.overlays]
        self.overlay_key.setText("kept:&nbsp;" + " &nbsp; ".join(entries) if entries else "")
        self.overlay_key.setVisible(bool(entries))

    # -- the current run ----------------------------------------------------------------------
    def clear(self) -> None:
        self.history.clear()
        self._last_step = None
        self.ranges.reset(self._log_axis())
        self.train_curve.setData([], [])
        self.test_curve.setData([], [])
        self.redraw()       # the kept runs stay

    def show_frame(self, frame) -> None:
        ev = frame.evaluation
        if ev is None or ev.step == self._last_step:
            return
        self._last_step = ev.step
        self.dirty = True
        self.history.append(ev.step, (frame.snapshot.epoch, _number(ev.train_loss), _number(ev.test_loss),
                                      _number(ev.train_accuracy), _number(ev.test_accuracy)))

    def rows(self) -> np.ndarray:
        """The kept samples as rows of (step, *COLUMNS), NaN where not measured: what a
        trained project saves, so reopening it shows the curve so far."""
        return np.column_stack((self.history.x, self.history.values)) if len(self.history) else \
            np.zeros((0, 1 + len(COLUMNS)))

    def restore_rows(self, rows) -> None:
        """Start the current run's curves from ``rows`` (as ``rows()`` gives them), replacing
        what it holds; frames then add to them.  Call after the session's ``clear``."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, 1 + len(COLUMNS))
        rows = rows[np.isfinite(rows[:, :2]).all(axis=1)]      # a step and an epoch to place each at
        self.history.clear()
        for row in rows:
            self.history.append(row[0], row[1:])
        self._last_step = int(rows[-1, 0]) if len(rows) else None
        self.ranges.reset(self._log_axis())
        self.dirty = True
        self.redraw()

    def _current_curves(self) -> tuple[np.ndarray, np.ndarray]:
        first = 3 if self.showing_accuracy else 1
        return self.history.column(first), self.history.column(first + 1)

    def _draw_overlays(self) -> None:
        """Kept runs do not change while the current one trains: drawn only when they
        or the measure shown change, not on every tick."""
        accuracy = self.showing_accuracy
        self._overlay_points = []
        for overlay, pair in zip(self.overlays, self.overlay_curves):
            for curve, values in zip(pair, overlay.curves(accuracy)):
                if _shown(values):
                    curve.setData(overlay.steps, values, connect="finite")
                    self._overlay_points.append((overlay.steps, values))
                else:
                    curve.setData([], [])

    def redraw(self) -> None:
        h = self.history
        shown = list(self._overlay_points)
        train, test = self._current_curves() if self.show_current else (np.zeros(0), np.zeros(0))
        # connect="finite" leaves gaps at NaN instead of dropping the whole curve.
        for curve, values in ((self.train_curve, train), (self.test_curve, test)):
            if _shown(values):
                curve.setData(h.x, values, connect="finite")
                shown.append((h.x, values))
            else:
                curve.setData([], [])
        if shown:
            newest = max(float(x[-1]) for x, _ in shown)
            self.ranges.fit(np.array([newest]), [values for _, values in shown], log_y=self._log_axis())

    def write_csv(self, path) -> None:
        """step, epoch, losses and accuracies of every kept sample (empty where not measured)."""
        h = self.history
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(",".join(("step",) + COLUMNS) + "\n")
            for step, row in zip(h.x, h.values):
                cells = [str(int(step)), str(int(row[0]))] + ["" if math.isnan(v) else repr(float(v)) for v in row[1:]]
                out.write(",".join(cells) + "\n")
