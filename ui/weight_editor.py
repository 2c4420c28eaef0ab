"""The neuron view's weight editor: one edge's weight, typed or dragged by hand.

A click on an edge opens it beside the edge (ui.network_view), floating over the
diagram.  Typing a value and pressing Enter (or Apply) commits it: ``committed(old,
new, merge)`` goes to the window's undo history (ui.weight_edits), which has the
engine apply it between two training chunks, so the next frame shows the new loss,
output map and edge together.  Dragging the slider previews each value live
(``previewed``) and commits once, on release; the slider's keys commit steps that
one Undo takes back together (``merge``).  Esc closes it without applying what was
typed.  While open it shows the weight's value in the newest frame, the loss, and
the chain rule for the weight (from the explanations the window passes on).
"""
from __future__ import annotations

import html
import math
import re
import time

from PySide6.QtCore import QEvent, QLocale, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractSpinBox, QDoubleSpinBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSlider, QToolButton)

from ui.panels.widgets import space_plays

LIMIT = 100.0          # the largest |w| the box takes: far beyond where tanh or sigmoid saturate
DECIMALS = 4
SLIDER_STEPS = 100     # slider positions per unit of weight: steps of 0.01
SLIDER_SPAN = 4.0      # the slider spans at least -4..4 (WEIGHT_FULL is 3), wider for a larger weight
WIDTH_EM = 24          # the editor's width in the font's "m" widths
RUNNING_INTERVAL = 0.2     # seconds between updates of its numbers while training runs (as the status bar)


def _subscripts(text: str) -> str:
    """dL/da_j -> dL/da<sub>j</sub>, as the Why? tab writes it."""
    return re.sub(r"_([a-z])\b", r"<sub>\1</sub>", html.escape(text, quote=False))


def _number(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.{DECIMALS}g}"


def _loss(value: float | None) -> str:
    """As the status bar writes it: four decimals, significant digits once huge."""
    if value is None or math.isnan(value):
        return "–" if value is None else "NaN"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


class WeightEditor(QFrame):
    committed = Signal(float, float, bool)     # old, new, merge with the previous slider step
    previewed = Signal(float)                  # a value while the slider is dragged (not undoable alone)
    why_requested = Signal()                   # "Chain rule in the Why? tab"
    closed = Signal()
    resized = Signal()                         # its height follows the chain rule's text

    def __init__(self, parent=None):
        super().__init__(parent)
        # A plain line in the text's colour: a styled panel's shading vanished on the dark canvas.
        self.setFrameShape(QFrame.Box)
        self.setFrameShadow(QFrame.Plain)
        self.setAutoFillBackground(True)
        self.setAccessibleName("Weight editor")
        self.tensor, self.index = "", ()
        self.current: float | None = None      # the weight in the newest frame
        self._shown = 0.0                      # the box's value when last set (Enter without a change: nothing)
        self._drag_from: float | None = None
        self._shown_at = -1e9

        self.title = QLabel()
        self.title.setAccessibleName("Edited weight")
        bold = QFont()
        bold.setBold(True)
        self.title.setFont(bold)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setAutoRaise(True)
        self.close_button.setAccessibleName("Close weight editor")
        self.close_button.setToolTip("Close the editor without applying what was typed (Esc)")
        self.close_button.clicked.connect(self.close_editor)
        self.now = QLabel()
        self.now.setAccessibleName("Weight now")
        self.now.setToolTip("The weight's value in the newest frame (training moves it while it runs)")

        self.box = QDoubleSpinBox()
        self.box.setLocale(QLocale.c())        # "0.5" everywhere, as typed in the other number fields
        self.box.setRange(-LIMIT, LIMIT)
        self.box.setDecimals(DECIMALS)
        self.box.setSingleStep(0.1)
        self.box.setKeyboardTracking(False)
        self.box.setCorrectionMode(QAbstractSpinBox.CorrectToNearestValue)
        self.box.setAccessibleName("New weight value")
        self.box.setToolTip(f"Type a value between {-LIMIT:g} and {LIMIT:g} and press Enter to apply it "
                            "(Esc closes without applying; Edit > Undo takes it back)")
        self.box.lineEdit().setAccessibleName(self.box.accessibleName())
        self.box.lineEdit().setToolTip(self.box.toolTip())
        space_plays(self.box)
        self.box.installEventFilter(self)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setAccessibleName("Apply weight")
        self.apply_button.setToolTip("Set the weight to the typed value (Enter); Edit > Undo takes it back")
        self.apply_button.clicked.connect(self.apply_typed)

        self.slider = QSlider(Qt.Horizontal)
        self.slider.setAccessibleName("Drag weight")
        self.slider.setToolTip("Drag to change the weight live: the loss, the output map and the edges follow; "
                               "releasing it makes one undoable edit")
        self.slider.setSingleStep(1)
        self.slider.setPageStep(SLIDER_STEPS // 10)
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.sliderPressed.connect(self._on_drag_start)
        self.slider.sliderReleased.connect(self._on_drag_end)

        self.loss = QLabel()
        self.loss.setAccessibleName("Loss after the edit")
        self.loss.setToolTip("The full-data loss at the weights of the newest frame (as in the status bar)")
        self.chain = QLabel()
        self.chain.setWordWrap(True)
        self.chain.setTextFormat(Qt.RichText)
        self.chain.setAccessibleName("Chain rule for this weight")
        self.chain.setToolTip("dL/dw for this weight on one training row (the Why? tab's row), factor by factor")
        self.chain.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.why_button = QPushButton("Chain rule in the Why? tab")
        self.why_button.setAccessibleName("Open the Why? tab for this weight")
        self.why_button.setToolTip("Show the whole chain rule for this weight, with its finite-difference check")
        self.why_button.clicked.connect(self.why_requested)

        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 6, 8)
        grid.setVerticalSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.close_button)
        grid.addLayout(top, 0, 0, 1, 2)
        grid.addWidget(self.now, 1, 0, 1, 2)
        grid.addWidget(self.box, 2, 0)
        grid.addWidget(self.apply_button, 2, 1)
        grid.addWidget(self.slider, 3, 0, 1, 2)
        grid.addWidget(self.loss, 4, 0, 1, 2)
        grid.addWidget(self.chain, 5, 0, 1, 2)
        grid.addWidget(self.why_button, 6, 0, 1, 2)
        self._fit_width()
        self.hide()

    # -- opening and closing ----------------------------------------------------------
    def open_for(self, tensor: str, index: tuple, title: str, value: float | None) -> None:
        """Edit ``tensor``[``index``] (``title`` names it), starting from ``value``."""
        self.tensor, self.index = tensor, tuple(index)
        self.title.setText(title)
        self.title.setToolTip(f"{tensor}[{', '.join(map(str, self.index))}]")
        self.chain.setText("<i>Working out the chain rule…</i>")
        self._fit_height()
        self.current = value
        self._set_box(0.0 if value is None or not math.isfinite(value) else value)
        self._show_now()
        self.show()
        self.raise_()
        self.box.setFocus(Qt.PopupFocusReason)
        self.box.selectAll()

    def close_editor(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()

    def eventFilter(self, obj, event):
        if obj is self.box and event.type() == QEvent.KeyPress:
            if event.key() in (Qt.Key_Return, Qt.Key_Enter):
                self.apply_typed()
                return True
            if event.key() == Qt.Key_Escape:
                self.close_editor()
                return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Escape:
            self.close_editor()
        else:
            super().keyPressEvent(event)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self._fit_width()

    def _fit_width(self) -> None:
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("m") * WIDTH_EM)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the word-wrapped text needs at the fixed width (it is no layout's child)."""
        height = self.layout().totalHeightForWidth(self.width())
        if height > 0 and height != self.height():
            self.resize(self.width(), height)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.resized.emit()

    # -- editing ---------------------------------------------------------------------
    def apply_typed(self) -> None:
        self.box.interpretText()
        new = self.box.value()
        if new == self._shown:             # Enter on the value as shown: nothing to do
            return
        self._commit(new)
        self.box.selectAll()               # ready for the next value

    def _commit(self, new: float, merge: bool = False, old: float | None = None) -> None:
        old = self.current if old is None else old
        self._set_box(new)
        if old is not None and math.isfinite(old) and old != new:
            self.committed.emit(old, new, merge)

    def _set_box(self, value: float) -> None:
        """The box and the slider show ``value`` (no signals: showing is not editing)."""
        span = max(SLIDER_SPAN, math.ceil(abs(value) * 1.5))
        for widget in (self.box, self.slider):
            widget.blockSignals(True)
        self.box.setValue(value)
        self.slider.setRange(round(-span * SLIDER_STEPS), round(span * SLIDER_STEPS))
        self.slider.setValue(round(value * SLIDER_STEPS))
        for widget in (self.box, self.slider):
            widget.blockSignals(False)
        self._shown = self.box.value()

    def _on_drag_start(self) -> None:
        self._drag_from = self.current

    def _on_slider(self, position: int) -> None:
        value = position / SLIDER_STEPS
        if self.slider.isSliderDown():
            self.box.blockSignals(True)
            self.box.setValue(value)
            self.box.blockSignals(False)
            self.previewed.emit(value)
        else:                              # a key or a click on the groove: one step, merged
            self._commit(value, merge=True)

    def _on_drag_end(self) -> None:
        old, self._drag_from = self._drag_from, None
        self._commit(self.slider.value() / SLIDER_STEPS, old=old)

    # -- what the window shows it ------------------------------------------------------
    def show_values(self, value: float | None, evaluation, running: bool = False) -> None:
        """The weight and the losses in the newest frame (a few times a second while ``running``)."""
        self.current = value
        now = time.monotonic()
        if running and now - self._shown_at < RUNNING_INTERVAL:
            return
        self._shown_at = now
        self._show_now()
        if evaluation is not None:
            test = "" if evaluation.test_loss is None else f", test {_loss(evaluation.test_loss)}"
            self.loss.setText(f"Loss: train {_loss(evaluation.train_loss)}{test}")

    def _show_now(self) -> None:
        self.now.setText(f"w = {_number(self.current)} now")

    def show_chain(self, chain) -> None:
        """The engine's ChainRule for this weight (others are ignored)."""
        if (chain.weight, chain.unit, chain.source) != (self.tensor, *self.index[:2]):
            return
        self.chain.setText(f"Chain rule on training row {chain.row}:<br><b>{_subscripts(chain.formula)}</b><br>"
                           f"{html.escape(chain.numbers)}")
        self._fit_height()
