"""Per-layer weight histograms over the steps, drawn as one image.

Each kept frame adds a column: for every dense layer, the fraction of its weights
in each of ``BINS`` bins over [-R, R] (R per layer).  Layers are stacked vertically,
so you see each layer's weights spread out (or collapse) as training goes on.
R only ever doubles, and doubling merges bin pairs exactly, so old columns are
re-binned in place and the histogram never needs recomputing from old weights.

The x axis is the step, as on the loss and gradient plots: columns are kept at
evenly spaced steps (``StepSampledHistory``) and each is drawn where its weights
were taken, over the steps nearer to it than to its neighbours.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QFontMetrics

from ui.plots.base import PlotPanel
from ui.plots.history import StepSampledHistory
from ui.plots.ranges import StepRange
from ui.theme import density_colormap

BINS = 32
TAIL_INTERVAL = 0.1       # seconds between refreshes of the newest column while training
MAX_PIXELS = 4096         # image columns at most (a plot wider than a 4K screen shows them stretched)
CAPTION = "Weight histograms per layer"
# The layer labels get a fixed width, so a range growing to ±1e152 never narrows the plot:
# room for a name this wide (longer ones are elided) and the widest range text.
NAME_ROOM = "dense_10"
WIDEST_RANGE = "±8.8e888"


def range_text(r: float) -> str:
    """±R in a few characters: whole numbers while small, then two significant digits
    ("±1.3e152", not "±1.04748e+152")."""
    if not math.isfinite(r) or r < 1e4:
        return f"±{r:g}"
    mantissa, exponent = f"{r:.1e}".split("e")
    return f"±{mantissa}e{int(exponent)}"


class WeightsPlot(PlotPanel):
    draw_every = 2          # 15 a second: the image is the costliest plot to draw, and changes slowly

    def __init__(self, parent=None, capacity: int = 200):
        super().__init__(CAPTION, parent)
        self.capacity = capacity
        self.layers: tuple[str, ...] = ()
        self._names: list[str] = []
        self.ranges = np.ones(0)
        self.history = StepSampledHistory(BINS, capacity)
        self._display = np.zeros((0, BINS))
        self._last_step = None
        self._tail_at = -1e9
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.getViewBox().setDefaultPadding(0.0)
        item.disableAutoRange()       # fixed ranges: the axes are not rebuilt on every redraw
        self.steps = StepRange(item)
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(density_colormap())
        item.addItem(self.image)
        self._separator_pen = pg.mkPen("#808080", width=1)
        self._separators: list[pg.InfiniteLine] = []
        self._fit_label_room()

    def set_layers(self, layers) -> None:
        layers = tuple(layers)
        self._last_step = None
        self.ranges = np.ones(len(layers))
        if layers != self.layers:
            self.layers = layers
            self.history = StepSampledHistory(BINS * max(1, len(layers)), self.capacity)
            self._display = np.zeros((0, BINS * max(1, len(layers))))
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
        self._fit_label_room()

    def _fit_label_room(self) -> None:
        """Elide the layer names and size the label column for the widest range text,
        in the current font (View > Zoom changes it)."""
        axis = self.plot.getPlotItem().getAxis("left")
        font = self.font()
        axis.setTickFont(font)
        metrics = QFontMetrics(font)
        room = metrics.horizontalAdvance(NAME_ROOM)
        self._names = [metrics.elidedText(name, Qt.ElideRight, room) for name in self.layers]
        names = max((metrics.horizontalAdvance(f"{name} ") for name in self._names), default=0)
        # a few pixels spare: the axis skips any label its painter measures wider than the room
        axis.setWidth(names + metrics.horizontalAdvance(WIDEST_RANGE) + axis.style["tickTextOffset"][0]
                      + max(0, axis.style["tickLength"]) + 4)
        self._update_ticks()

    def _update_ticks(self) -> None:
        ranges = [range_text(r) for r in self.ranges]
        major = [((k + 0.5) * BINS, f"{name} {r}") for k, (name, r) in enumerate(zip(self._names, ranges))]
        self.plot.getPlotItem().getAxis("left").setTicks([major, []])
        self.plot.setToolTip("\n".join([CAPTION + " (weights within ±R, R per layer):"]
                                       + [f"{name}: {r}" for name, r in zip(self.layers, ranges)]))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._fit_label_room()

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        self.image.setColorMap(density_colormap(theme))

    def clear(self) -> None:
        self.history.clear()
        self._last_step = None
        self._tail_at = -1e9
        self.ranges[:] = 1.0
        self.steps.reset()
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
        if self._last_step is not None and snap.step < self._last_step:
            self.clear()            # a reset: the steps start again
        # A column costs a few NumPy calls per layer.  One that starts a new interval of
        # steps is always taken; one that would only refresh the newest column, at most
        # ten times a second while training (a paused frame, after a single step, always).
        if frame.steps_per_second and not self.history.starts_interval(snap.step):
            now = time.perf_counter()
            if now - self._tail_at < TAIL_INTERVAL:
                return
            self._tail_at = now
        self._last_step = snap.step
        self.dirty = True
        self.history.append(snap.step, self._column(snap.weights))

    def _column(self, weights) -> np.ndarray:
        column = np.empty(BINS * len(self.layers))
        for k, name in enumerate(self.layers):
            w = weights.get(f"{name}.weight")
            if w is None:
                column[k * BINS:(k + 1) * BINS] = 0.0
                continue
            max_abs = float(np.max(np.abs(w))) if w.size else 0.0
            if np.isfinite(max_abs) and max_abs > self.ranges[k]:
                self._grow_range(k, max_abs)
            r = self.ranges[k]
            index = np.clip(((w.ravel() + r) * (BINS / (2 * r))).astype(np.int64), 0, BINS - 1)
            column[k * BINS:(k + 1) * BINS] = np.bincount(index, minlength=BINS) / max(1, w.size)
        return column

    def redraw(self) -> None:
        h = self.history
        if not len(h):
            return
        steps = h.x
        self.steps.fit(float(steps[-1]))
        # Column i covers the steps nearer to its own step than to its neighbours', and
        # the image ends at the newest step, where the loss curve ends.
        left, right = (steps[0], steps[-1]) if len(h) > 1 else (steps[0] - 0.5, steps[0] + 0.5)
        # The columns are unevenly spaced, an image's pixels are not: resample the
        # columns at the screen's resolution (or finer) over the steps they cover.
        view_width = self.plot.getPlotItem().getViewBox().width() * self.devicePixelRatioF()
        pixels = min(MAX_PIXELS, max(len(h), math.ceil(view_width * (right - left) / self.steps.x_hi)))
        centres = left + (np.arange(pixels) + 0.5) * ((right - left) / pixels)
        nearest = np.searchsorted((steps[1:] + steps[:-1]) / 2, centres)
        if len(self._display) < pixels:
            self._display = np.zeros((pixels, h.width))
        shown = self._display[:pixels]
        np.take(h.values, nearest, axis=0, out=shown, mode="clip")
        # sqrt: a bin holding a few weights stays visible beside one holding most of them.
        np.sqrt(shown, out=shown)
        self.image.setImage(shown, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(left, 0.0, right - left, BINS * len(self.layers)))
