"""The "Backprop, step by step" tab: one training row through forward, backward and update.

Pick a row (the spin box, or a click on a training point of the output map, which
calls ``choose_row``) and step: Forward (F) shows each neuron's z and a, and w·a on
the edges; Backward (B) each neuron's δ, the sum Σ_k w_kj δ_k broken out over the
next layer and the output's δ = p - y where the loss cancels f'; Update (U) each
weight's Δw = -lr δ_j a_i with its value before and after, and the row's loss before
and after.  "Run one step" (R) shows all three.  Click a neuron (or use the arrow
keys on the diagram) to see its numbers written out beside the diagram; the line under
it says what f'(z) does for that neuron.  The keys work while the focus is in this tab.

The numbers are the engine's (``playground.explain.RowTrace``, from
engine/backward_trace.py), asked for with ``trace_requested(row, subset)`` and shown
by ``show_trace``.  They belong to the weights of one step: once training moves on
the tab says so and offers Refresh.
"""
from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (QButtonGroup, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSpinBox, QSplitter,
                               QTextBrowser, QToolButton, QVBoxLayout, QWidget)

from engine.backward_trace import trace_support
from ui.panels.backprop_diagram import BackpropDiagram
from ui.panels.backprop_text import (BACKWARD, FORWARD, PHASE_HINTS, ROW, UPDATE, WHY_F_PRIME, focus_html,
                                     row_summary, slope_note)
from ui.panels.staleness import MeasuredAt
from ui.panels.widgets import fill_with, signals_blocked, space_plays

TITLE = "Backprop, step by step"
PHASE_KEYS = {FORWARD: "F", BACKWARD: "B", UPDATE: "U"}
RUN_KEY = "R"
NO_SESSION = "Open or build a network to trace a row through it."
SUBSET_NAMES = {"train": "Training row", "test": "Test row"}


class _LettersAreShortcuts(QObject):
    """The row box holds a number: let this tab's letter keys reach their shortcuts."""

    def __init__(self, keys, parent=None):
        super().__init__(parent)
        self._keys = {QKeySequence(k)[0].key() for k in keys}

    def eventFilter(self, obj, event):
        if event.type() == QEvent.ShortcutOverride and event.key() in self._keys and not event.modifiers():
            event.ignore()
            return True
        return False


def _label(name: str, rich: bool = True) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setAccessibleName(name)
    label.setTextFormat(Qt.RichText if rich else Qt.PlainText)
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)     # wraps, never widens the tab
    return label


class BackpropPanel(QWidget):
    """Emits ``trace_requested(row, subset)``; shows what ``show_trace`` and ``show_failure`` get."""

    trace_requested = Signal(int, str)      # row index, "train" or "test"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._row_trace = None
        self._phase = ROW
        self._focus: tuple[str, int] | None = None
        self._rows = {"train": 0, "test": 0}
        self._subset = "train"
        self._unsupported: str | None = NO_SESSION
        self._measured = MeasuredAt()
        self._ask = QTimer(self)           # after a new session or fresh weights: ask once, when shown
        self._ask.setSingleShot(True)
        self._ask.setInterval(0)
        self._ask.timeout.connect(self._request_if_shown)

        self.summary = _label("Traced row")
        self.row = QSpinBox()
        self.row.setAccessibleName(SUBSET_NAMES["train"])
        self.row.setToolTip("The row to trace (or click a training point on the output map).")
        self.row.setRange(0, 0)
        self.row.valueChanged.connect(lambda _: self.request())
        self.row_name = QLabel(SUBSET_NAMES["train"])
        self.phase_buttons = QButtonGroup(self)
        self.buttons: dict[int, QPushButton] = {}
        for phase, (text, tip) in {
                FORWARD: ("Forward", "Push the row through: each neuron's z and a, each edge's w·a."),
                BACKWARD: ("Backward", "Each neuron's δ = f'(z) × Σ w·δ over the next layer, from the output back."),
                UPDATE: ("Update", "Each weight's step Δw = -lr × δ × a, before and after, and the row's loss "
                                   "after it.")}.items():
            self.buttons[phase] = self._button(text, f"{tip} ({PHASE_KEYS[phase]})", PHASE_KEYS[phase],
                                               lambda _=False, p=phase: self.show_phase(p), checkable=True)
            self.phase_buttons.addButton(self.buttons[phase])
        self.run_step = self._button("Run one step", f"Forward, backward and update at once ({RUN_KEY}).",
                                     RUN_KEY, lambda: self.show_phase(UPDATE))
        self.refresh = QPushButton("Refresh")
        self.refresh.setAccessibleName("Refresh the trace")
        self.refresh.setToolTip("Trace the row again with the current weights.")
        self.refresh.clicked.connect(self.request)
        self._letters = _LettersAreShortcuts([*PHASE_KEYS.values(), RUN_KEY], self)
        for box in (self.row, self.row.lineEdit()):
            box.installEventFilter(self._letters)
        space_plays(self.row)

        self.stale = _label("Trace out of date")
        self.stale.setVisible(False)
        self.hint = _label("What this phase shows")
        self.diagram = BackpropDiagram()
        self.diagram.neuron_chosen.connect(self.choose_neuron)
        self.details = QTextBrowser()
        self.details.setAccessibleName("Chosen neuron's numbers")
        self.details.setToolTip("The chosen neuron's numbers written out, up to the phase shown.")
        self.details.setMinimumWidth(240)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(self.diagram)
        split.addWidget(self.details)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setMinimumHeight(260)
        self.slope = _label("What f'(z) does here")
        bold = QFont()
        bold.setItalic(True)
        self.slope.setFont(bold)
        self.why_toggle = QToolButton()
        self.why_toggle.setText("Why does backprop take f'(z)?")
        self.why_toggle.setAccessibleName("Why f'(z)? (show or hide)")
        self.why_toggle.setToolTip("Show or hide why the transfer function's derivative is part of every step.")
        self.why_toggle.setCheckable(True)
        self.why_toggle.setChecked(True)
        self.why = _label("Why f'(z)?")
        self.why.setText(WHY_F_PRIME)
        self.why_toggle.toggled.connect(self.why.setVisible)

        controls = QHBoxLayout()
        controls.addWidget(self.row_name)
        controls.addWidget(self.row)
        for button in (*self.buttons.values(), self.run_step):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.refresh)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(controls)
        for widget in (self.summary, self.stale, self.hint):
            layout.addWidget(widget)
        layout.addWidget(split, 1)
        layout.addWidget(self.slope)
        layout.addWidget(self.why_toggle)
        layout.addWidget(self.why)
        fill_with(self, content)
        self._show_unsupported()

    def _button(self, text: str, tip: str, key: str, slot, checkable: bool = False) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text)
        button.setToolTip(tip)
        button.setCheckable(checkable)
        button.clicked.connect(slot)
        # Only while the focus is in this tab: elsewhere these letters are text or other keys.
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.WidgetWithChildrenShortcut)
        shortcut.activated.connect(button.click)
        return button

    # -- the session and the row -----------------------------------------------------------
    def set_session(self, info) -> None:
        """A new network or data (``SessionInfo``): which rows exist, and can it be traced."""
        self._rows = {"train": len(info.dataset.X_train), "test": len(info.dataset.X_test)}
        reason = trace_support(info.plan)
        self._unsupported = None if reason is None else f"This network cannot be traced: {reason}."
        self._forget()
        self._set_row_range()
        self._show_unsupported()
        self._ask.start()

    def choose_row(self, index: int, subset: str = "train") -> None:
        """Trace row ``index`` of the training (or test) set: the output map's click."""
        if subset not in self._rows or not 0 <= index < self._rows[subset]:
            self.hint.setText(html.escape(f"There is no {subset} row {index}."))
            return
        self._subset = subset
        self._set_row_range()
        with signals_blocked(self.row):
            self.row.setValue(index)
        self.request()

    def _set_row_range(self) -> None:
        name = SUBSET_NAMES[self._subset]
        self.row_name.setText(name)
        self.row.setAccessibleName(name)
        with signals_blocked(self.row):
            self.row.setRange(0, max(0, self._rows[self._subset] - 1))

    def request(self) -> None:
        """Ask the engine for the chosen row's trace at the current weights."""
        if self._unsupported is None:
            self.trace_requested.emit(self.row.value(), self._subset)

    def _request_if_shown(self) -> None:
        if self.isVisible() and self._row_trace is None:
            self.request()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._ask.start()

    # -- what the engine answers -------------------------------------------------------------
    def show_trace(self, row_trace) -> None:
        if (row_trace.trace.row, row_trace.subset) != (self.row.value(), self._subset) or self._unsupported:
            return                          # an answer to an earlier request: a newer one is on its way
        self._row_trace = row_trace
        self._measured.measured(row_trace.step)
        self.stale.setVisible(False)
        ids = {(n.node, u) for n in row_trace.trace.nodes for u in range(n.width)}
        if self._focus not in ids:
            self._focus = (row_trace.trace.dense[0].node, 0)
        self._set_controls(True)
        self._draw()

    def show_failure(self, message: str) -> None:
        """The engine could not trace the row (``TrainingController.trace_failed``)."""
        self.hint.setText(f"<b>{html.escape(message)}</b>")

    def show_phase(self, phase: int) -> None:
        self._phase = phase
        if phase in self.buttons:
            self.buttons[phase].setChecked(True)
        self._draw()

    def choose_neuron(self, node_id: str, unit: int) -> None:
        self._focus = (node_id, unit)
        self._draw()

    @property
    def phase(self) -> int:
        return self._phase

    @property
    def focus(self) -> tuple[str, int] | None:
        return self._focus

    def _draw(self) -> None:
        rt = self._row_trace
        if rt is None:
            return
        self.summary.setText(row_summary(rt, self._phase))
        self.hint.setText(html.escape(PHASE_HINTS[self._phase]))
        self.diagram.show_trace(rt.trace, self._phase, self._focus)
        self.details.setHtml(focus_html(rt, *self._focus, self._phase))
        self.slope.setText(html.escape(slope_note(rt, *self._focus, self._phase)))

    # -- results that belong to one step's weights ----------------------------------------
    def note_step(self, step: int) -> None:
        """The weights are now those of ``step``: mark the trace out of date if it is."""
        if self._measured.moved_to(step):
            self.stale.setText(f"<i>{html.escape(self._measured.notice(step))} Press Refresh to trace the row "
                               "with the current weights.</i>")
            self.stale.setVisible(True)

    def clear_results(self) -> None:
        """A new network or fresh weights: the trace belonged to other weights."""
        self._forget()
        self._show_unsupported()
        self._ask.start()

    def _forget(self) -> None:
        self._row_trace = None
        self._measured.clear()
        self.stale.setVisible(False)
        self.diagram.clear()
        self.details.clear()
        self.slope.clear()
        self.summary.clear()

    def _show_unsupported(self) -> None:
        self.hint.setText(html.escape(self._unsupported or "Tracing the row…"))
        self._set_controls(False)

    def _set_controls(self, enabled: bool) -> None:
        for button in (*self.buttons.values(), self.run_step):
            button.setEnabled(enabled)
        self.row.setEnabled(self._unsupported is None)
        self.refresh.setEnabled(self._unsupported is None)

    def set_theme(self, _theme: str) -> None:
        """The diagram paints with the application palette: repaint in the new one."""
        self.diagram.update()
