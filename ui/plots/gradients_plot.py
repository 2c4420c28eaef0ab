"""Per-layer gradient norm ||dL/dW|| over steps on a log axis.

Vanishing gradients show as the early layers' curves lying decades below the
last layer's; exploding ones as curves shooting up before the loss turns NaN.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ui.plots.base import PlotPanel
from ui.plots.history import BoundedHistory
from ui.plots.ranges import DecadeAxis, SteppedRanges
from ui.theme import SERIES



class GradientsPlot(PlotPanel):
    draw_every = 2          # 15 a second: one setData per layer, the costliest curves to redraw

    def __init__(self, parent=None, capacity: int = 400):
        super().__init__("Gradient norm per layer", parent,
                         plot=pg.PlotWidget(axisItems={"left": DecadeAxis("left")}))
        self.capacity = capacity
        self.layers: tuple[str, ...] = ()
        self.history = BoundedHistory(1, capacity)
        self._curves: list[pg.PlotDataItem] = []
        self._last_step = None
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "||dL/dW||")
        item.setLogMode(y=True)
        # No grid and no auto-range button: with a grid the axes span the whole view,
        # so every curve update repaints them too (measured: 2.5x the cost of a redraw).
        item.hideButtons()
        self.ranges = SteppedRanges(item)

    def set_layers(self, layers) -> None:
        """One curve per dense layer; items are rebuilt only when the layers change."""
        layers = tuple(layers)
        self._last_step = None
        if layers == self.layers:
            self.clear()
            return
        item = self.plot.getPlotItem()
        for curve in self._curves:
            item.removeItem(curve)
        self.layers = layers
        self.history = BoundedHistory(max(1, len(layers)), self.capacity)
        self.ranges.reset(log_y=True)
        colors = [SERIES[i % len(SERIES)] for i in range(len(layers))]
        self._curves = [item.plot(pen=pg.mkPen(color, width=2)) for color in colors]
        self.set_key([(name, color, False) for name, color in zip(layers, colors)])

    def show_frame(self, frame) -> None:
        snap = frame.snapshot
        # Step 0 has no gradient yet; zeros would pull the log axis down to nothing.
        if not self.layers or snap.step == 0 or snap.step == self._last_step:
            return
        self._last_step = snap.step
        self.dirty = True
        norms = np.array([snap.grad_norms.get(name, np.nan) for name in self.layers])
        norms[norms <= 0] = np.nan      # log10(0) = -inf: a zero gradient leaves a gap
        self.history.append(snap.step, norms)

    def clear(self) -> None:
        self.history.clear()
        self._last_step = None
        self.ranges.reset(log_y=True)
        for curve in self._curves:
            curve.setData([], [])

    def redraw(self) -> None:
        x = self.history.x
        for i, curve in enumerate(self._curves):
            curve.setData(x, self.history.column(i), connect="finite")
        self.ranges.fit(x, [self.history.column(i) for i in range(len(self._curves))], log_y=True)
