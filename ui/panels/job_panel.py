"""What the panels of the engine's background jobs (the 2/λ demo, the loss landscape)
share: a Cancel button and a progress bar that show while the job runs, and the
life of one request — asked for, busy, progress, a result or a failure or a
cancel — with the result marked out of date once training moves past the step
its weights were taken at.

A subclass builds its own controls and start button, and says in class constants
what its job is called; it implements ``_forget_result`` (drop the shown result)
and ``_draw``.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.panels.staleness import MeasuredAt

PROGRESS_STEPS = 1000           # the progress bar's resolution


def rich_label(name: str, text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.RichText)
    label.setWordWrap(True)
    label.setAccessibleName(name)
    return label


class JobPanel(QWidget):
    TITLE = "The job"           # the job's name at the start of a sentence
    CANCELLED = "Cancelled."
    FAILED = "could not run"    # "<TITLE> could not run: <reason>"
    STALE_HINT = ""             # what to do about an out-of-date result

    def __init__(self, parent=None):
        super().__init__(parent)
        self._now: int | None = None            # the newest step the weights were seen at
        self._asked_at: int | None = None       # ... when the job was asked for
        self._awaiting = False                  # asked for; neither its result nor its failure came
        self._cancelling = False
        self._measured = MeasuredAt()

    def _build_job_controls(self, start: QPushButton, name: str, cancel_tip: str, progress_tip: str) -> None:
        """The Cancel button, progress bar (``busy_row``) and out-of-date notice (``stale``);
        ``start`` is the button that asks for the job, ``name`` the job for screen readers."""
        self.start = start
        self.start.clicked.connect(self._request)
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName(f"Cancel the {name}")
        self.cancel.setToolTip(cancel_tip)
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setAccessibleName(f"{name[0].upper()}{name[1:]} progress")
        self.progress.setToolTip(progress_tip)
        self.busy_row = QWidget()
        busy = QHBoxLayout(self.busy_row)
        busy.setContentsMargins(0, 0, 0, 0)
        busy.addWidget(self.cancel)
        busy.addWidget(self.progress, 1)
        self.busy_row.setVisible(False)
        self.stale = QLabel()
        self.stale.setWordWrap(True)
        self.stale.setTextFormat(Qt.RichText)
        self.stale.setAccessibleName(f"{name[0].upper()}{name[1:]} is out of date")
        self.stale.setVisible(False)

    # -- the window's connections -------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        """Whether the engine runs this job (the controller's job_busy for its kind)."""
        if not busy and self._awaiting:             # it ended with neither a result nor a failure
            self._awaiting = False
            self.summary.setText(self.CANCELLED if self._cancelling else f"{self.TITLE} stopped without results.")
        self._cancelling &= busy
        self.start.setEnabled(not busy)
        self.cancel.setEnabled(busy and not self._cancelling)
        self.busy_row.setVisible(busy)

    def show_progress(self, fraction: float, text: str) -> None:
        if not self._awaiting or self._cancelling:
            return
        self.progress.setValue(round(min(1.0, max(0.0, fraction)) * PROGRESS_STEPS))
        self.progress.setFormat(text or "%p%")         # the engine's words say how far, when it sends them

    def show_failure(self, message: str) -> None:
        """Refused (another job runs) or failed: no job_busy(False) may follow, so end here."""
        text = self.CANCELLED if self._cancelling else f"<b>{self.TITLE} {self.FAILED}</b>: {html.escape(message)}"
        self._awaiting = False
        self.set_busy(False)
        self.summary.setText(text)

    def note_step(self, step: int) -> None:
        self._now = step
        if self._measured.moved_to(step):
            self.stale.setText(f"<i>{html.escape(self._measured.notice(step))} {self.STALE_HINT}</i>")
            self.stale.setVisible(True)

    def clear_results(self) -> None:
        """A new network or fresh weights: the result belonged to other weights."""
        self._forget()
        self._awaiting = False
        self.set_busy(False)
        self.summary.setText(self.IDLE)
        self._draw()

    # -- for the subclass -----------------------------------------------------------------------
    def _result_arrived(self, step: int | None) -> None:
        """A result came; ``step``: the step of its weights (default: the step the weights
        were at when it was asked for)."""
        self._awaiting = False
        at = step if step is not None else self._asked_at if self._asked_at is not None else self._now
        self._measured.clear()
        self.stale.setVisible(False)
        if at is not None:
            self._measured.measured(at)
            if self._now is not None:
                self.note_step(self._now)

    def _begin(self, busy_text: str) -> None:
        """Before the subclass emits its request: the old result goes (a cancel must not
        leave it under the new request's words) and the busy row shows."""
        self._awaiting, self._cancelling = True, False
        self._asked_at = self._now
        self._forget()
        self._draw()
        self.progress.setValue(0)
        self.progress.setFormat("Starting…")
        self.set_busy(True)
        self.summary.setText(busy_text)

    def _forget(self) -> None:
        self._forget_result()
        self._measured.clear()
        self.stale.setVisible(False)

    def _cancel(self) -> None:
        self._cancelling = True
        self.cancel.setEnabled(False)
        self.progress.setFormat("Cancelling…")
        self.cancel_requested.emit()

    def _request(self) -> None:
        raise NotImplementedError

    def _forget_result(self) -> None:
        raise NotImplementedError

    def _draw(self) -> None:
        raise NotImplementedError
