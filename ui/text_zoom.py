"""View > Zoom In / Zoom Out / Reset Zoom: every text in the window larger for a projector.

The application font is scaled, so every widget that does not set its own font follows
(the neuron view's labels too).  pyqtgraph draws its axes with its own fonts, so the
plots' tick numbers, axis labels and titles are set here, on every plot in the window:
also on plots made later (a new session's layers, a race), when ``apply_to_plots`` is
called again.  The zoom factor is remembered in the settings.
"""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QDockWidget, QStyle, QStyleOptionDockWidget, QStylePainter, QWidget

STEPS = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
TITLE_POINTS = 11.0       # pyqtgraph's plot titles
TITLE_ROW = 30            # ... and the row it gives them, at zoom 1
_BASE_FONT = "nn_playground_base_font"     # the system's font, before any zoom


def base_font() -> QFont:
    """The application font as the system set it, remembered before the first zoom."""
    app = QApplication.instance()
    font = app.property(_BASE_FONT)
    if not isinstance(font, QFont):
        font = QFont(app.font())
        app.setProperty(_BASE_FONT, font)
    return QFont(font)


def scaled_font(factor: float) -> QFont:
    font = base_font()
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * factor)
    else:
        font.setPixelSize(max(1, round(font.pixelSize() * factor)))
    return font


def _nearest_step(factor: float) -> int:
    return min(range(len(STEPS)), key=lambda i: abs(STEPS[i] - factor))


def style_plot(plot: pg.PlotWidget, factor: float) -> None:
    """Tick numbers, axis labels and the title of ``plot`` at ``factor`` times the system size.

    At 1.0 the axes go back to pyqtgraph's own defaults, so Reset Zoom restores them exactly."""
    item = plot.getPlotItem()
    font = scaled_font(factor)
    for name in item.axes:
        axis = item.getAxis(name)
        axis.setTickFont(None if factor == 1.0 else font)
        axis.label.setFont(font)
        axis.showLabel(axis.label.isVisible())     # makes room for the label at its new size
        axis.resizeEvent()
    title = item.titleLabel
    title.setAttr("size", f"{TITLE_POINTS * factor:g}pt")
    if title.isVisible():
        row = round(TITLE_ROW * max(1.0, factor))
        title.setMaximumHeight(row)
        item.layout.setRowFixedHeight(0, row)
        title.setText(title.text)


class ZoomableDock(QDockWidget):
    """A dock whose title follows the text zoom.

    QDockWidget paints its title in the font the application had when the dock was
    made (it keeps a copy), so after a zoom the titles stayed small.  Docked, the
    title is painted here with the dock's own font; floating, the window manager
    draws it."""

    def paintEvent(self, event) -> None:
        if self.isFloating() or self.titleBarWidget() is not None:
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        option = QStyleOptionDockWidget()
        self.initStyleOption(option)
        painter.drawControl(QStyle.CE_DockWidgetTitle, option)


class TextZoom(QObject):
    """The window's text size; ``changed(factor)`` after every change."""

    changed = Signal(float)

    def __init__(self, window: QWidget, settings):
        super().__init__(window)
        self.window, self.settings = window, settings
        self.index = _nearest_step(settings.text_zoom)

    @property
    def factor(self) -> float:
        return STEPS[self.index]

    def zoom_in(self) -> None:
        self._set(min(self.index + 1, len(STEPS) - 1))

    def zoom_out(self) -> None:
        self._set(max(self.index - 1, 0))

    def reset(self) -> None:
        self._set(STEPS.index(1.0))

    def _set(self, index: int) -> None:
        self.index = index
        self.settings.text_zoom = self.factor
        self.apply()

    def apply(self) -> None:
        """Set the application font and the plots' fonts for the current factor."""
        QApplication.instance().setFont(scaled_font(self.factor))
        self.apply_to_plots()
        self.changed.emit(self.factor)

    def apply_to_plots(self) -> None:
        for plot in self.window.findChildren(pg.PlotWidget):
            style_plot(plot, self.factor)
