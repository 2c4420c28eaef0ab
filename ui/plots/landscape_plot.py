"""A loss surface over a plane: heatmap, contour lines, the current point and paths on it.

It draws plain arrays (grid coordinates, a loss per grid point, paths as (alpha,
beta) points); the landscape panel turns the engine's result into them.  Colours
follow log10 of the loss when asked (a slice often spans decades: a linear scale
then shows one bright corner and a flat dark rest); the colour bar's labels stay
in loss units either way.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ui.plots.base import theme_plot
from ui.theme import plot_colors

CONTOURS = 8                    # evenly spaced in the colour scale
COLOUR_MAP = "viridis"
TINY = 1e-300                   # log10 of a loss of exactly 0


def colour_values(losses: np.ndarray, log: bool) -> np.ndarray:
    """What the colours show: the loss, or its log10; non-finite points become NaN (blank)."""
    values = np.array(losses, dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    if log:
        with np.errstate(invalid="ignore"):
            values = np.log10(np.maximum(values, TINY))
    return values


def contour_levels(values: np.ndarray, count: int = CONTOURS) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() == finite.max():
        return np.empty(0)
    return np.linspace(finite.min(), finite.max(), count + 2)[1:-1]


class LandscapePlot(pg.PlotWidget):
    """``show_slice`` draws the grid; ``show_paths`` the paths over it; ``clear_slice`` empties it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAspectLocked(True)
        self.showGrid(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(COLOUR_MAP))
        self.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(colorMap=pg.colormap.get(COLOUR_MAP), interactive=False)
        self.colour_bar.setImageItem(self.image, insert_in=self.getPlotItem())
        self.isocurves: list[pg.IsocurveItem] = []
        self.paths: dict[str, pg.PlotDataItem] = {}
        self._underlays: list[pg.PlotDataItem] = []
        self.centre = pg.ScatterPlotItem(symbol="star", size=18, brush=pg.mkBrush("w"), pen=pg.mkPen("k", width=1.5))
        self.centre.setZValue(20)
        self.addItem(self.centre)
        self.values = np.empty((0, 0))         # what the colours show (tests read it)
        self.log_colours = False
        self._theme = "light"
        self.clear_slice()

    def set_theme(self, theme: str) -> None:
        self._theme = theme
        theme_plot(self, theme)
        foreground = plot_colors(theme)[1]
        for side in ("left", "right", "top", "bottom"):      # the scale's axis and the bar's frame
            axis = self.colour_bar.getAxis(side)
            axis.setPen(foreground)
            axis.setTextPen(foreground)
        for curve in self.isocurves:
            curve.setPen(self._contour_pen())

    def _contour_pen(self):
        return pg.mkPen((255, 255, 255, 110) if self._theme == "dark" else (0, 0, 0, 90), width=1)

    def clear_slice(self) -> None:
        self.image.clear()
        self.colour_bar.setVisible(False)       # a scale with no colours to read says nothing
        self.values = np.empty((0, 0))
        self._set_contours(np.empty((0, 0)), np.empty(0))
        self.show_paths(())
        self.centre.setData([], [])
        self.setLabel("bottom", "")
        self.setLabel("left", "")

    def show_slice(self, alphas: np.ndarray, betas: np.ndarray, losses: np.ndarray, labels: tuple[str, str],
                   log_colours: bool) -> None:
        """``losses[i, j]`` at (alphas[j], betas[i]); the current weights at (0, 0)."""
        self.log_colours = log_colours
        self.values = colour_values(losses, log_colours)
        finite = self.values[np.isfinite(self.values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        hi = hi if hi > lo else lo + 1.0
        self.image.setImage(self.values, levels=(lo, hi))
        self.colour_bar.setVisible(True)
        self.colour_bar.setLevels((lo, hi))
        self.colour_bar.axis.setLogMode(False, log_colours)    # labels 10^v: loss units on a log scale
        self.colour_bar.axis.setLabel("loss (log scale)" if log_colours else "loss")
        dx = (alphas[-1] - alphas[0]) / max(len(alphas) - 1, 1)
        dy = (betas[-1] - betas[0]) / max(len(betas) - 1, 1)
        # Each grid value is the colour of a pixel centred on its grid point.
        self.image.setRect(QRectF(alphas[0] - dx / 2, betas[0] - dy / 2, dx * len(alphas), dy * len(betas)))
        self._set_contours(self.values, contour_levels(self.values))
        self.centre.setData([0.0], [0.0])
        self.setLabel("bottom", labels[0])
        self.setLabel("left", labels[1])
        self.getPlotItem().setRange(xRange=(alphas[0] - dx / 2, alphas[-1] + dx / 2),
                                    yRange=(betas[0] - dy / 2, betas[-1] + dy / 2), padding=0.0)

    def _set_contours(self, values: np.ndarray, levels: np.ndarray) -> None:
        for curve in self.isocurves:
            curve.setParentItem(None)
            self.getPlotItem().vb.removeItem(curve)
        self.isocurves = []
        if not levels.size:
            return
        # Blank (overflowed) points count as the highest level, so no line runs around them.
        filled = np.where(np.isfinite(values), values, np.nanmax(values))
        for level in levels:
            curve = pg.IsocurveItem(filled, float(level), pen=self._contour_pen(), axisOrder="row-major")
            # In the image's pixel coordinates (pyqtgraph's isocurve puts value k at pixel
            # k's centre), so the lines follow the image wherever it is placed.
            curve.setParentItem(self.image)
            curve.setZValue(5)
            self.isocurves.append(curve)

    def show_paths(self, paths) -> None:
        """``paths``: (name, coords [m, 2], colour) each, drawn over a dark underlay so
        they show on every part of the colour map; a dot marks where each starts."""
        for item in (*self.paths.values(), *self._underlays):
            self.removeItem(item)
        self.paths, self._underlays = {}, []
        for name, coords, colour in paths:
            coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
            under = pg.PlotDataItem(coords[:, 0], coords[:, 1], pen=pg.mkPen("k", width=4.5))
            line = pg.PlotDataItem(coords[:, 0], coords[:, 1], pen=pg.mkPen(colour, width=2.5), name=name)
            # Only the start gets a dot: a dot per recorded step would hide the line.
            start = pg.ScatterPlotItem(coords[:1, 0], coords[:1, 1], symbol="o", size=9, brush=pg.mkBrush(colour),
                                       pen=pg.mkPen("k"))
            for z, item in enumerate((under, line, start)):
                item.setZValue(10 + z)
                self.addItem(item)
            self.paths[name] = line
            self._underlays += [under, start]
