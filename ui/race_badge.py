"""A race runs beside training and can take a while: the status bar says so wherever
the user is, how far it got, and offers Cancel, so the race is never a silent wait."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget


class RaceBadge(QWidget):
    """Shown while the engine races (``TrainingController.race_busy``).

    ``show_requested`` when its text is clicked (the window shows the Race tab),
    ``cancel_requested`` for its Cancel button."""

    show_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.status = QToolButton()
        self.status.setAutoRaise(True)
        self.status.setAccessibleName("Race running")
        self.status.setToolTip("Optimisers are racing from the current weights beside training; "
                               "click to see the Race tab")
        self.cancel = QToolButton()
        self.cancel.setText("Cancel race")
        self.cancel.setAccessibleName("Cancel race")
        self.cancel.setToolTip("Stop the race at its next evaluation; what it finished is kept")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.cancel)
        self.status.clicked.connect(self.show_requested)
        self.cancel.clicked.connect(self._cancel)
        self.set_racing(False)

    def set_racing(self, racing: bool) -> None:
        self.status.setText("Racing optimisers…")
        self.cancel.setEnabled(racing)
        self.setVisible(racing)

    def show_progress(self, report) -> None:
        """A ``RaceProgress``: the method running and the share of its budget used."""
        used = report.evaluations / report.budget if report.budget else 0.0
        self.status.setText(f"Racing optimisers: {report.method.replace('_', '-')} "
                            f"({report.index + 1} of {report.count}, {used:.0%})")

    def _cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.status.setText("Cancelling the race…")
        self.cancel_requested.emit()
