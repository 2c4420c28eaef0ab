"""Where the docks go at first start and on View > Reset layout, sized from the screen.

Two arrangements, chosen by the space the window has:

* roomy (about 1700 x 900 and up): Data on the left; the output map over the
  training settings on the right; loss, weights and gradients in a row under the
  central views.
* compact (e.g. 1366 x 768): a single column on the right, the output map over
  Data and Training as two tabs, and the live plots in a low row under the central
  views, so those keep nearly all the width: the graph editor's canvas stays usable
  and the Why? tab is not squeezed.  Every live view stays on screen.

Sizes come from the panels' own size hints, so no panel is cut off at the side.
For data with no plane to draw the output on (a single input column) the output
dock shrinks to its one message and gives the height to the panels beside it; it
grows back for data with a plane.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QStyle, QWidget

# The central views need this much to show the graph editor's canvas at about
# 600 x 400 (its palette and property panel take ~370 px of the width, its toolbar,
# status line and the tab bar ~80 px of the height).
CENTRAL_MIN = QSize(1000, 480)
BOTTOM_ROW_MIN = 180            # the loss/weights/gradients row in the roomy layout
BOTTOM_ROW_MAX = 300
COMPACT_ROW_MIN = 150           # ... and at least this in the compact one
CHROME_HEIGHT = 90              # menu bar, toolbar and status bar
RIGHT_COLUMN = 400              # the roomy layout's right column (output map over training)
MAP_EXTRA = 60                  # the output dock's title, option row and axis beside the square map
MAX_DEFAULT = QSize(1920, 1200)  # a first window no bigger than this, even on a large screen


class PanelScroll(QScrollArea):
    """A panel that scrolls on a short screen and is never cut off at the side.

    Its preferred width is the panel's (the default layout gives it that, also after
    the panel grows: more optimiser fields, a larger text zoom); narrowed below it by
    hand or by a small screen, a horizontal scroll bar appears instead of the panel's
    right edge disappearing."""

    MIN_WIDTH = 200

    def __init__(self, panel: QWidget):
        super().__init__()
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        panel.installEventFilter(self)

    def content_width(self) -> int:
        scrollbar = self.style().pixelMetric(QStyle.PM_ScrollBarExtent)
        return self.widget().sizeHint().width() + scrollbar + 2 * self.frameWidth() + 2

    def minimumSizeHint(self) -> QSize:
        return QSize(min(self.MIN_WIDTH, self.content_width()), super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(self.content_width(), super().sizeHint().height())

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.LayoutRequest:
            self.updateGeometry()       # the panel's size hint may have changed: so has ours
        return super().eventFilter(watched, event)


class DockLayout:
    """Arranges ``docks`` (data, output, training, loss, weights, gradients) in ``window``.

    The data and training docks hold ``PanelScroll`` areas: their panels' size hints
    decide the width of the column that holds them.
    """

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget]):
        self.window, self.docks = window, docks
        self.compact = False

    # -- the two arrangements -------------------------------------------------------------
    def _width(self, key: str) -> int:
        return self.docks[key].widget().content_width()

    def column_width(self) -> int:
        return max(self._width("data"), self._width("training"), 300)

    def is_compact(self, size: QSize) -> bool:
        """Too small for two side columns plus central views of CENTRAL_MIN and a bottom row."""
        side = self._width("data") + max(RIGHT_COLUMN, self._width("training"))
        return size.width() < side + CENTRAL_MIN.width() or size.height() < CENTRAL_MIN.height() + 300

    def arrange(self, size: QSize) -> None:
        """Put every dock back, docked and shown, in the arrangement for a window of ``size``."""
        w = self.window
        for dock in self.docks.values():
            dock.setFloating(False)
            w.removeDockWidget(dock)
        self.compact = self.is_compact(size)
        (self._arrange_compact if self.compact else self._arrange_roomy)(size)

    def _tabify_outcomes(self) -> None:
        """The outcomes (confusion matrix, predicted against actual) share the output's place."""
        if "outcomes" in self.docks:
            self.window.tabifyDockWidget(self.docks["output"], self.docks["outcomes"])

    def _show_all(self) -> None:
        """Before resizeDocks: it passes over hidden docks (and removeDockWidget hid them)."""
        for dock in self.docks.values():
            dock.show()

    def _arrange_roomy(self, size: QSize) -> None:
        w, d = self.window, self.docks
        w.addDockWidget(Qt.LeftDockWidgetArea, d["data"])
        w.addDockWidget(Qt.RightDockWidgetArea, d["output"])
        w.splitDockWidget(d["output"], d["training"], Qt.Vertical)
        self._tabify_outcomes()
        for key in ("loss", "weights", "gradients"):
            w.addDockWidget(Qt.BottomDockWidgetArea, d[key], Qt.Horizontal)
        self._show_all()
        d["output"].raise_()
        right = max(RIGHT_COLUMN, self._width("training"))
        w.resizeDocks([d["data"], d["output"]], [self._width("data"), right], Qt.Horizontal)
        column = size.height() - CHROME_HEIGHT
        training = d["training"].widget().widget().sizeHint().height() + 40
        output = max(column // 3, min(right + MAP_EXTRA, column - training))
        w.resizeDocks([d["output"], d["training"]], [output, column - output], Qt.Vertical)
        bottom = max(BOTTOM_ROW_MIN, min(BOTTOM_ROW_MAX, int(size.height() * 0.26)))
        w.resizeDocks([d["loss"]], [bottom], Qt.Vertical)
        self._even_bottom_row(size.width() - self._width("data") - right)

    def _arrange_compact(self, size: QSize) -> None:
        w, d = self.window, self.docks
        w.addDockWidget(Qt.RightDockWidgetArea, d["output"])
        self._tabify_outcomes()
        w.addDockWidget(Qt.RightDockWidgetArea, d["data"], Qt.Vertical)
        w.tabifyDockWidget(d["data"], d["training"])
        for key in ("loss", "weights", "gradients"):
            w.addDockWidget(Qt.BottomDockWidgetArea, d[key], Qt.Horizontal)
        self._show_all()
        d["data"].raise_()
        d["output"].raise_()
        width = self.column_width()
        w.resizeDocks([d["output"]], [width], Qt.Horizontal)
        column = size.height() - CHROME_HEIGHT
        output = min(width + MAP_EXTRA, column // 2)
        w.resizeDocks([d["output"], d["data"]], [output, column - output], Qt.Vertical)
        # What the central views do not need goes to the plots, within reason.
        spare = size.height() - CENTRAL_MIN.height() - CHROME_HEIGHT
        w.resizeDocks([d["loss"]], [max(COMPACT_ROW_MIN, min(BOTTOM_ROW_MAX, spare))], Qt.Vertical)
        self._even_bottom_row(size.width() - width)

    def _even_bottom_row(self, width: int) -> None:
        row = [self.docks[key] for key in ("loss", "weights", "gradients")]
        self.window.resizeDocks(row, [width // 3] * 3, Qt.Horizontal)

    def fit_panel_widths(self) -> None:
        """Widen the data and training docks to their panels again (after a text zoom)."""
        for key in ("data", "training"):
            dock = self.docks[key]
            if dock.isVisible() and not dock.isFloating():
                self.window.resizeDocks([dock], [max(dock.width(), self._width(key))], Qt.Horizontal)
