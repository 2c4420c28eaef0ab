"""Per-layer weight histograms over time, drawn as one image.

Each frame adds a column: for every dense layer, the fraction of its weights in
each of ``BINS`` bins over [-R, R] (R per layer).  Layers are stacked vertically,
so you see each layer's weights spread out (or collapse) as training goes on.
R only ever doubles, and doubling merges bin pairs exactly, so old columns are
re-binned in place and the histogram never needs recomputing from old weights.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ui.plots.base import PlotPanel
from ui.plots.history import BoundedHistory
from ui.theme import density_colormap

BINS = 32
SAMPLE_INTERVAL = 0.1     # seconds between histogram columns while training
MIN_COLUMNS = 10


class StepAxis(pg.AxisItem):
    """Labels image columns with the step each column was recorded at."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = np.zeros(0)

    def tickValues(self, minVal, maxVal, size):
        return super().tickValues(minVal, maxVal, size)[:1]     # step numbers are long: major ticks only

    def tickStrings(self, values, scale, spacing):
        n = len(self.steps)
        return [str(int(self.steps[int(round(v))])) if 0 <= round(v) < n else "" for v in values]


class WeightsPlot(PlotPanel):
    draw_every = 2          # 15 a second: the image is the costliest plot to draw, and changes slowly

    def __init__(self, parent=None, capacity: int = 200):
        self.axis = StepAxis("bottom")
        super().__init__("Weight histograms per layer", parent,
                         plot=pg.PlotWidget(axisItems={"bottom": self.axis}))
        self.capacity = capacity
        self.layers: tuple[str, ...] = ()
        self.ranges = np.ones(0)
        self.history = BoundedHistory(BINS, capacity)
        self._display = np.zeros((capacity + 1, BINS))
        self._last_step = None
        self._sampled_at = -1e9
        self._width = 0
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.getViewBox().setDefaultPadding(0.0)
        item.disableAutoRange()       # fixed ranges: the axes are not rebuilt on every redraw
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(density_colormap())
        item.addItem(self.image)
        self._separator_pen = pg.mkPen("#808080", width=1)
        self._separators: list[pg.InfiniteLine] = []

    def set_layers(self, layers) -> None:
        layers = tuple(layers)
        self._last_step = None
        self.ranges = np.ones(len(layers))
        if layers != self.layers:
            self.layers = layers
            self.history = BoundedHistory(BINS * max(1, len(layers)), self.capacity)
            self._display = np.zeros((self.capacity + 1, BINS * max(1, len(layers))))
            self._label_layers()
        self.clear()

    def _label_layers(self) -> None:
        item = self.plot.getPlotItem()
        for line in self._separators:
            item.removeItem(line)
        self._separators = [pg.InfiniteLine(pos=k * BINS, angle=0, pen=self._separator_pen)
                            for k in range(1, len(self.layers))]
        for line in self._separators:
            item.addItem(line)
        item.setRange(yRange=(0, BINS * max(1, len(self.layers))), padding=0.0)
        self._width = 0
        self._update_ticks()

    def _update_ticks(self) -> None:
        major = [((k + 0.5) * BINS, f"{name} ±{r:g}") for k, (name, r) in enumerate(zip(self.layers, self.ranges))]
        self.plot.getPlotItem().getAxis("left").setTicks([major, []])

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        self.image.setColorMap(density_colormap(theme))

    def clear(self) -> None:
        self.history.clear()
        self._width = 0
        self._last_step = None
        self.ranges[:] = 1.0
        self._update_ticks()
        self.image.clear()

    def _grow_range(self, k: int, max_abs: float) -> None:
        cols = self.history.values[:, k * BINS:(k + 1) * BINS]
        while max_abs > self.ranges[k]:
            merged = cols[:, 0::2] + cols[:, 1::2]          # BINS/2 wider bins over [-R, R]
            cols[:] = 0.0
            cols[:, BINS // 4: BINS // 4 + BINS // 2] = merged   # which is the middle of [-2R, 2R]
            self.ranges[k] *= 2.0
        self._update_ticks()

    def show_frame(self, frame) -> None:
        snap = frame.snapshot
        if not self.layers or snap.step == self._last_step:
            return
        # A column costs a few NumPy calls per layer: ten a second is plenty for an
        # image of 200 columns (a paused frame, after a single step, always counts).
        now = time.perf_counter()
        if frame.steps_per_second and now - self._sampled_at < SAMPLE_INTERVAL:
            return
        self._sampled_at = now
        self._last_step = snap.step
        self.dirty = True
        column = np.empty(BINS * len(self.layers))
        for k, name in enumerate(self.layers):
            w = snap.weights.get(f"{name}.weight")
            if w is None:
                column[k * BINS:(k + 1) * BINS] = 0.0
                continue
            max_abs = float(np.max(np.abs(w))) if w.size else 0.0
            if np.isfinite(max_abs) and max_abs > self.ranges[k]:
                self._grow_range(k, max_abs)
            r = self.ranges[k]
            index = np.clip(((w.ravel() + r) * (BINS / (2 * r))).astype(np.int64), 0, BINS - 1)
            column[k * BINS:(k + 1) * BINS] = np.bincount(index, minlength=BINS) / max(1, w.size)
        self.history.append(snap.step, column)

    def redraw(self) -> None:
        h = self.history
        if not len(h):
            return
        self.axis.steps = h.x
        self.axis.picture = None        # the columns' steps changed: relabel (the range did not)
        # sqrt: a bin holding a few weights stays visible beside one holding most of them.
        shown = np.sqrt(h.values, out=self._display[:len(h)])
        self.image.setImage(shown, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, 0.0, len(h), BINS * len(self.layers)))
        # The x range doubles as columns arrive (10, 20, 40, ...): a short run still
        # fills the plot, and the axis moves only now and then.
        width = min(MIN_COLUMNS * 2 ** math.ceil(math.log2(max(len(h), 1) / MIN_COLUMNS)), self.capacity + 1) \
            if len(h) > MIN_COLUMNS else MIN_COLUMNS
        if width != self._width:
            self._width = width
            self.plot.getPlotItem().setXRange(-0.5, width - 0.5, padding=0.0)
        self.axis.update()
