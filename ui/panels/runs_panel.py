"""The Runs tab: this run and the runs kept earlier in the session, like TensorBoard's runs.

Every frame's full-data evaluation is recorded (``engine.run_history.RunRecorder``, in
bounded memory).  "Keep this run" files a copy under a name; Reset and a new project
(a new session) keep the run that ends by themselves, so it is never lost.  Each row
has a checkbox that lays the run over the loss plot (``overlays_changed``), a name
to edit and a Delete button; the summary beside it gives the last losses and
accuracies.  The project's ``note`` shows at the top.

The comparison buttons ask for a preset pair (``compare_requested``): two projects
that differ in one setting (playground/compare_presets.py).
"""
from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QScrollArea, QVBoxLayout, QWidget)

from engine.run_history import Run, RunHistory, RunRecorder
from playground.compare_presets import PRESETS
from ui.plots.loss_plot import TRAIN_COLOR, Overlay

# Kept runs' colours: the theme's series without the current run's blue and orange.
OVERLAY_COLORS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
SUMMARY_INTERVAL = 0.25     # seconds between updates of the current run's summary line
UNTITLED = "Untitled"


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%" if value == value else "–"


def _loss(value: float) -> str:
    return f"{value:.4g}" if value == value else "–"


def summary(run: Run) -> str:
    """The run's length and its last losses and accuracies (train / test)."""
    if not len(run.steps):
        return "no steps yet"
    text = f"{int(run.steps[-1]):,} steps · loss {_loss(run.train_loss[-1])} / {_loss(run.test_loss[-1])}"
    if run.has_accuracy:
        text += f" · accuracy {_percent(run.train_accuracy[-1])} / {_percent(run.test_accuracy[-1])}"
    return text


def overlay_of(run: Run, color: str) -> Overlay:
    return Overlay(run.name, color, run.steps, run.train_loss, run.test_loss, run.train_accuracy, run.test_accuracy)


class RunRow(QWidget):
    """One run: a checkbox in the run's colour (draw it on the loss plot), its name, a
    summary, and for a kept run a Delete button."""

    def __init__(self, name: str, color: str, current: bool, parent=None):
        super().__init__(parent)
        self.color = color
        what = "this run" if current else f"the kept run {name!r}"
        self.overlay = QCheckBox()
        self.overlay.setChecked(True)
        self.overlay.setAccessibleName("Show this run" if current else f"Overlay {name}")
        self.overlay.setToolTip(f"Draw {what} on the loss plot")
        swatch = QLabel()
        swatch.setFixedSize(18, 6)
        swatch.setStyleSheet(f"background: {color}; border-radius: 2px;")
        swatch.setAccessibleName("Colour of its curves")
        swatch.setToolTip("Its curves on the loss plot: train solid, test " + ("dashed" if current else "dotted"))
        self.name_edit = QLineEdit(name)
        self.name_edit.setAccessibleName("Name of this run" if current else f"Name of {name}")
        self.name_edit.setToolTip("The run's name: type a new one and press Enter" +
                                  ("; it is kept under this name" if current else ""))
        self.summary = QLabel()
        self.summary.setAccessibleName("Last losses and accuracies")
        self.summary.setToolTip("The last step, then the train / test loss and the train / test accuracy")
        self.delete = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.overlay)
        layout.addWidget(swatch)
        layout.addWidget(self.name_edit, 2)
        layout.addWidget(self.summary, 3)
        if current:
            tag = QLabel("<i>training now</i>")
            tag.setAccessibleName("Training now")
            layout.addWidget(tag)
        else:
            self.delete = QPushButton("Delete")
            self.delete.setAccessibleName(f"Delete {name}")
            self.delete.setToolTip("Forget this kept run")
            layout.addWidget(self.delete)

    def renamed(self, name: str) -> None:
        self.overlay.setAccessibleName(f"Overlay {name}")
        self.name_edit.setAccessibleName(f"Name of {name}")
        if self.delete is not None:
            self.delete.setAccessibleName(f"Delete {name}")


class RunsPanel(QWidget):
    overlays_changed = Signal(object, bool)     # [ui.plots.loss_plot.Overlay] of the ticked kept runs; show this run
    compare_requested = Signal(object)          # a playground.compare_presets.ComparePreset
    kept = Signal(str)                          # the name a run was kept under

    def __init__(self, presets=PRESETS, parent=None):
        super().__init__(parent)
        self.history = RunHistory()
        self.rows: dict[str, RunRow] = {}
        self._recorder: RunRecorder | None = None
        self._last_step: int | None = None      # the current run's newest evaluated step
        self._kept_at: int | None = None        # ...when it was last kept (nothing new to keep since)
        self._colors_used = 0
        self._summary_at = 0.0
        # The summary follows training a few times a second, and once more after the last frame.
        self._summary_timer = QTimer(self)
        self._summary_timer.setSingleShot(True)
        self._summary_timer.setInterval(int(SUMMARY_INTERVAL * 1000))
        self._summary_timer.timeout.connect(self._show_summary)
        self._project_name, self._project_note = UNTITLED, ""

        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.note.setFrameShape(QFrame.StyledPanel)
        self.note.setMargin(6)
        self.note.setAccessibleName("About this project")
        self.note.setToolTip("The project's note: what it is for and what to look for")
        self.note.hide()
        intro = QLabel("Tick a run to lay it over the loss plot. Reset and a change of project keep the run "
                       "that ends, so it is never lost.")
        intro.setWordWrap(True)
        self.current_row = RunRow(UNTITLED, TRAIN_COLOR, current=True)
        self.current_row.overlay.toggled.connect(lambda _: self._emit_overlays())
        self.current_row.name_edit.editingFinished.connect(self._rename_current)
        self.rows_box = QVBoxLayout()
        self.rows_box.setContentsMargins(0, 0, 0, 0)
        self.rows_box.addWidget(self.current_row)
        self.rows_box.addStretch(1)
        rows = QWidget()
        rows.setLayout(self.rows_box)
        scroll = QScrollArea()
        scroll.setWidget(rows)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setAccessibleName("Runs")
        self.keep_button = QPushButton("Keep this run")
        self.keep_button.setAccessibleName("Keep this run")
        self.keep_button.setToolTip("File a copy of this run's curves under its name; training goes on")
        self.keep_button.clicked.connect(self.keep_current)
        self.none_button = QPushButton("Show none")
        self.none_button.setAccessibleName("Show no kept runs")
        self.none_button.setToolTip("Untick every kept run: the loss plot shows this run alone")
        self.none_button.clicked.connect(self.hide_all_overlays)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Runs message")
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.none_button)
        buttons.addWidget(self.message, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        layout.addWidget(self._compare_box(presets))

    def _compare_box(self, presets) -> QGroupBox:
        box = QGroupBox("Compare two runs")
        box.setAccessibleName("Compare two runs")
        grid = QGridLayout(box)
        explain = QLabel("Each opens two example projects that differ in one setting: trains the first, keeps "
                         "it, then trains the second over it. Each project's note says what to look for.")
        explain.setWordWrap(True)
        grid.addWidget(explain, 0, 0, 1, 2)
        self.compare_buttons = {}
        for i, preset in enumerate(presets):
            button = QPushButton(preset.title)
            button.setAccessibleName(f"Compare: {preset.title}")
            first, second = (path.name for path in preset.paths)
            button.setToolTip(f"{preset.question}\nTrains {first} for {preset.steps:,} steps, keeps it, then "
                              f"trains {second} over it. Look at {preset.look_at}.")
            button.clicked.connect(lambda _=False, p=preset: self.compare_requested.emit(p))
            grid.addWidget(button, 1 + i // 2, i % 2)
            self.compare_buttons[preset.key] = button
        return box

    # -- the current run ----------------------------------------------------------------------
    @property
    def current_name(self) -> str:
        return self._recorder.name if self._recorder is not None else self._project_name

    def new_session(self, info) -> None:
        """A new session (a project opened or changed): keep the run that ends, start a new one."""
        self._keep_ended()
        project = info.project
        self._project_name = project.name.strip() or UNTITLED
        self._project_note = project.note
        self.note.setText(f"<b>About this project.</b> {html.escape(self._project_note)}")
        self.note.setVisible(bool(self._project_note.strip()))
        self._start_run()

    def _start_run(self) -> None:
        self._recorder = RunRecorder(self._project_name, note=self._project_note)
        self._last_step = self._kept_at = None
        self.current_row.name_edit.setText(self._project_name)
        self.current_row.summary.setText("no steps yet")

    def show_frame(self, frame) -> None:
        """Record the frame's evaluation (one per step); a step back means Reset."""
        ev = frame.evaluation
        if ev is None or self._recorder is None or ev.step == self._last_step:
            return
        if self._last_step is not None and ev.step < self._last_step:
            self._keep_ended()
            self._start_run()
        self._recorder.add(ev)
        self._last_step = ev.step
        if not self.isVisible():
            return                  # showEvent brings the summary up to date
        if time.monotonic() - self._summary_at >= SUMMARY_INTERVAL:
            self._show_summary()
        elif not self._summary_timer.isActive():
            self._summary_timer.start()

    def _show_summary(self) -> None:
        self._summary_at = time.monotonic()
        if self._recorder is not None:
            self.current_row.summary.setText(summary(self._recorder.run()))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._show_summary()

    def _has_new_steps(self) -> bool:
        return self._recorder is not None and bool(self._last_step) and self._last_step != self._kept_at

    def _keep_ended(self) -> None:
        if self._has_new_steps():
            self.keep_current()

    def keep_current(self) -> str | None:
        """Keep a copy of the current run; returns the name it was kept under (None: nothing to keep)."""
        if not self._has_new_steps():
            self.message.setText("Nothing new to keep: train a few steps first.")
            return None
        name = self.history.unique_name(self.current_name)
        run = self._recorder.run().renamed(name)
        for dropped in self.history.add(run):
            self._remove_row(dropped)
        self._kept_at = self._last_step
        self._add_row(run)
        self.message.setText(f"Kept as {name!r}.")
        self._emit_overlays()
        self.kept.emit(name)
        return name

    def _rename_current(self) -> None:
        name = self.current_row.name_edit.text().strip()
        if not name:
            self.current_row.name_edit.setText(self.current_name)
            self.message.setText("A run needs a name.")
        elif self._recorder is not None:
            self._recorder.name = name

    # -- kept runs ----------------------------------------------------------------------------
    def _next_color(self) -> str:
        used = {row.color for row in self.rows.values()}
        free = [c for c in OVERLAY_COLORS if c not in used]
        color = free[0] if free else OVERLAY_COLORS[self._colors_used % len(OVERLAY_COLORS)]
        self._colors_used += 1
        return color

    def _add_row(self, run: Run) -> None:
        row = RunRow(run.name, self._next_color(), current=False)
        row.summary.setText(summary(run))
        if run.note:
            row.name_edit.setToolTip(f"{row.name_edit.toolTip()}\n\n{run.note}")
        row.overlay.toggled.connect(lambda _: self._emit_overlays())
        row.name_edit.editingFinished.connect(lambda r=row: self._rename(r))
        row.delete.clicked.connect(lambda _=False, r=row: self.delete(self._name_of(r)))
        self.rows[run.name] = row
        self.rows_box.insertWidget(1, row)      # newest first, under the current run

    def _name_of(self, row: RunRow) -> str:
        return next(name for name, r in self.rows.items() if r is row)

    def _rename(self, row: RunRow) -> None:
        old, new = self._name_of(row), row.name_edit.text().strip()
        if new == old:
            return
        try:
            self.history.rename(old, new)
        except ValueError as exc:
            row.name_edit.setText(old)
            self.message.setText(str(exc)[0].upper() + str(exc)[1:] + ".")
            return
        self.rows = {(new if k == old else k): v for k, v in self.rows.items()}
        row.renamed(new)
        self.message.setText(f"Renamed {old!r} to {new!r}.")
        self._emit_overlays()

    def delete(self, name: str) -> None:
        self.history.remove(name)
        self._remove_row(name)
        self.message.setText(f"Deleted {name!r}.")
        self._emit_overlays()

    def _remove_row(self, name: str) -> None:
        row = self.rows.pop(name)
        self.rows_box.removeWidget(row)
        row.deleteLater()

    def set_overlay(self, name: str, on: bool) -> None:
        self.rows[name].overlay.setChecked(on)

    def hide_all_overlays(self) -> None:
        for row in self.rows.values():
            row.overlay.blockSignals(True)
            row.overlay.setChecked(False)
            row.overlay.blockSignals(False)
        self._emit_overlays()

    def overlays(self) -> list[Overlay]:
        """The ticked kept runs, oldest first."""
        return [overlay_of(run, self.rows[run.name].color) for run in self.history
                if self.rows[run.name].overlay.isChecked()]

    def _emit_overlays(self) -> None:
        self.overlays_changed.emit(self.overlays(), self.current_row.overlay.isChecked())
