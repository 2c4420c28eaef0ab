"""A titled plot widget with a row of options above it, themed like the rest."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.plots.pacing import due_after
from ui.theme import plot_colors


def theme_plot(plot: pg.PlotWidget, theme: str) -> None:
    """Background, axes and title in the theme's colours."""
    background, foreground = plot_colors(theme)
    plot.setBackground(background)
    item = plot.getPlotItem()
    item.titleLabel.setAttr("color", foreground)
    item.titleLabel.setText(item.titleLabel.text)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
        # No SI scaling: "loss (x0.001)" reads worse than plain numbers.  The empty
        # ranges come first because pyqtgraph's enableAutoSIPrefix(False) recomputes the
        # scale anyway and then hides it: a loss of 0.69 was labelled 690.
        axis.setSIPrefixEnableRanges(())
        axis.enableAutoSIPrefix(False)


def option_checkbox(text: str, tip: str, checked: bool = False) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(checked)
    box.setToolTip(tip)
    box.setAccessibleName(text)
    return box


class PlotPanel(QWidget):
    """``self.plot`` (a pg.PlotWidget) under ``self.options`` (an HBox for checkboxes).

    Subclasses take data every frame (cheap, into bounded buffers) and draw on the
    window's draw clock (ui.plots.pacing): every tick, or every ``draw_every`` ticks
    for the costlier plots.  ``pending`` says a redraw is waiting.
    """

    draw_every = 1

    def __init__(self, caption: str, parent=None, plot: pg.PlotWidget | None = None):
        """``caption`` names the plot for screen readers (the dock's title shows it on screen)."""
        super().__init__(parent)
        self.plot = plot or pg.PlotWidget()
        self.plot.setMinimumSize(160, 120)
        self.plot.setAccessibleName(caption)
        self.plot.setToolTip(caption)
        self._drawn_at = -1e9
        self.dirty = False
        self.options = QHBoxLayout()
        self.options.setContentsMargins(4, 0, 4, 0)
        # A colour key in plain Qt instead of a pyqtgraph legend: it is painted only
        # when it changes, not with every repaint of the plot.
        self.key = QLabel()
        self.key.setTextFormat(Qt.RichText)
        self.options.addWidget(self.key)
        self.options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(self.options)
        layout.addWidget(self.plot, 1)

    def set_theme(self, theme: str) -> None:
        theme_plot(self.plot, theme)

    def set_key(self, entries) -> None:
        """``entries``: (name, colour, dashed) for each curve, shown as coloured dashes and names."""
        self.key.setText("&nbsp;&nbsp;".join(
            f'<span style="color:{color}; font-weight:bold">{"- -" if dashed else "——"}</span>&nbsp;{name}'
            for name, color, dashed in entries))

    def needs_drawing(self) -> bool:
        """Hidden plots keep their history but skip the drawing."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def redraw(self) -> None:
        raise NotImplementedError

    def pending(self) -> bool:
        """New data is waiting to be drawn (and the plot is shown)."""
        return self.dirty and self.isVisible()

    def due(self, now: float) -> bool:
        # visibleRegion() (is it covered, or a hidden tab?) costs more than a flag:
        # asked only when it is time to draw.
        return self.pending() and due_after(self._drawn_at, now, self.draw_every) and self.needs_drawing()

    def draw(self, now: float) -> None:
        self.redraw()
        self._drawn_at, self.dirty = now, False
