"""The network's output over the input plane, with the data points on top.

For a one-unit classifier the image is the probability of class 1 (orange 0,
blue 1, the boundary where they meet); for several classes the winning class;
for regression the predicted value.  Levels are fixed per session so colours keep
their meaning while training runs.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel

from playground.frames import GRID_EXTENT
from ui.plots.base import PlotPanel, option_checkbox
from ui.theme import class_color, diverging_colormap, surface_colormap

REGRESSION_BANDS = 8     # "discretise" shows a regression surface as this many bands per sign


class BoundaryPlot(PlotPanel):

    def __init__(self, parent=None):
        super().__init__("Output", parent)
        self.show_test = option_checkbox("Show test data", "Draw the held-out test points (black outline) "
                                                           "beside the training points (white outline).")
        self.discrete = option_checkbox("Discretize output", "Show only the predicted class (or value bands) "
                                                             "instead of the smooth output.")
        self.options.addWidget(self.show_test)
        self.options.addWidget(self.discrete)
        item = self.plot.getPlotItem()
        item.setAspectLocked(True)
        item.setLabel("bottom", "x1")
        item.setLabel("left", "x2")
        item.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(surface_colormap())
        self.image.setZValue(-10)
        self.train_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#ffffff", width=1))
        self.test_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#000000", width=1))
        for thing in (self.image, self.train_points, self.test_points):
            item.addItem(thing)
        self.message = QLabel()           # shown instead of the plot when there is no input plane
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignCenter)
        self.message.hide()
        self.layout().addWidget(self.message, 1)
        self.show_test.toggled.connect(self._show_test)
        self.discrete.toggled.connect(lambda _: self._draw_output())
        self._levels = (0.0, 1.0)
        self._task, self._n_classes = "classification", 2
        self._output = None
        self._buffer = np.zeros((1, 1))
        self._show_test(False)

    def set_theme(self, theme: str) -> None:
        super().set_theme(theme)
        self.image.setColorMap(surface_colormap(theme))     # the surface fades into the background

    def _show_test(self, on: bool) -> None:
        self.test_points.setVisible(on and self._output_plane)

    _output_plane = False

    def set_session(self, info) -> None:
        data = info.dataset
        self._task, self._n_classes = data.task, data.n_classes
        self._output_plane = data.points_train is not None
        self.plot.setVisible(self._output_plane)
        self.message.setVisible(not self._output_plane)
        for box in (self.show_test, self.discrete):
            box.setEnabled(self._output_plane)
        self._output = None
        if not self._output_plane:
            self.image.clear()
            self.message.setText(f"This data set has {data.n_features} input features, so there is no 2-D "
                                 "input plane to draw the output on.\n\nFollow the loss curves and the "
                                 "accuracy in the status bar instead.")
            self._show_test(False)
            return
        if data.task == "regression":
            peak = float(np.max(np.abs(data.y_train))) if data.y_train.size else 1.0
            self._levels = (-max(peak, 1e-9), max(peak, 1e-9))
        elif data.n_classes > 2 or info.plan.output_width > 1:
            self._levels = (0.0, float(max(1, data.n_classes - 1)))
        else:
            self._levels = (0.0, 1.0)
        self.train_points.setData(pos=data.points_train, brush=self._brushes(data.y_train))
        self.test_points.setData(pos=data.points_test, brush=self._brushes(data.y_test))
        x0, x1, y0, y1 = GRID_EXTENT
        self.plot.getPlotItem().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.02)
        self._show_test(self.show_test.isChecked())

    def _brushes(self, y: np.ndarray) -> list:
        if self._task == "regression":
            lo, hi = self._levels
            colors = diverging_colormap().map((y[:, 0] - lo) / (hi - lo), mode="qcolor")
            return [pg.mkBrush(c) for c in colors]
        palette = [pg.mkBrush(class_color(k, self._n_classes)) for k in range(max(2, self._n_classes))]
        return [palette[int(k)] for k in y]

    def show_frame(self, frame) -> None:
        grid = frame.grid
        if grid is None or not self._output_plane:
            return
        self._output, self._extent = grid.output, grid.extent
        if self._buffer.shape != grid.output.shape:
            self._buffer = np.zeros(grid.output.shape)
        self.dirty = True

    def redraw(self) -> None:
        self._draw_output()
        x0, x1, y0, y1 = self._extent
        # setRect scales by the image's size, so it only works once an image is set.
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _draw_output(self) -> None:
        out = self._output
        if out is None:
            return
        if self.discrete.isChecked():
            shown = self._buffer
            if self._task == "regression":
                step = (self._levels[1] - self._levels[0]) / (2 * REGRESSION_BANDS)
                np.round(out / step, out=shown)
                shown *= step
            elif self._levels == (0.0, 1.0):
                np.greater(out, 0.5, out=shown, casting="unsafe")
            else:
                np.copyto(shown, out)
        else:
            shown = out
        # The grid is 50 x 50: interpolated, the smooth output reads as a surface rather
        # than as blocks; discretized, its class boundaries stay crisp.
        self.plot.setRenderHint(QPainter.SmoothPixmapTransform, not self.discrete.isChecked())
        self.image.setImage(shown, autoLevels=False, levels=self._levels)
