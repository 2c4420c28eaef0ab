"""The status bar readout and the divergence banner."""
from __future__ import annotations

import math
import time

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStatusBar

from ui.status_fields import StatusField, StatusFields


def _loss(value) -> str:
    """Four decimals while the loss is ordinary; significant digits once it is huge
    (a diverging loss of 1.2e17 printed with .4f filled the status bar with digits)."""
    if value is None:
        return "–"
    if math.isnan(value):
        return "NaN"
    return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"


def _accuracy(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


INTERVAL = 0.2         # seconds between updates while training
# The widest text each field can show (digits as 8s): the fields are sized for these.
WIDEST = {"step": "Step 888,888,888", "epoch": "Epoch 88,888,888",
          "loss": f"Loss train {_loss(8.888e288)} / test {_loss(8.888e288)}",
          "accuracy": f"Accuracy train {_accuracy(1.0)} / test {_accuracy(1.0)}",
          "speed": "888,888 steps/s"}
NAMES = {"step": "Step", "epoch": "Epoch", "loss": "Loss", "accuracy": "Accuracy", "speed": "Training speed"}


class TrainingStatus:
    """Permanent fields in the window's status bar: step, epoch, losses, accuracy, speed."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self._shown_at = -1e9
        self.labels = {key: StatusField(NAMES[key], widest) for key, widest in WIDEST.items()}
        self.fields = StatusFields(self.labels)
        bar.addPermanentWidget(self.fields)
        self.clear()

    def clear(self) -> None:
        self._shown_at = -1e9
        self.labels["step"].show_text("Step 0")
        self.labels["epoch"].show_text("Epoch 0")
        self.labels["loss"].show_text("Loss train – / test –")
        self.labels["accuracy"].show_text("Accuracy –")
        self.labels["speed"].show_text("0 steps/s")

    def show_frame(self, frame) -> None:
        # Five repaints of Python-made labels per frame cost the training thread more
        # than the numbers are worth; a few updates a second read just as well.
        now = time.perf_counter()
        paused = frame.steps_per_second == 0      # a single step must show at once
        if not paused and now - self._shown_at < INTERVAL:
            return
        self._shown_at = now
        snap, ev = frame.snapshot, frame.evaluation
        self.labels["step"].show_text(f"Step {snap.step:,}")
        self.labels["epoch"].show_text(f"Epoch {snap.epoch:,}")
        if ev is not None:
            self.labels["loss"].show_text(f"Loss train {_loss(ev.train_loss)} / test {_loss(ev.test_loss)}")
            self.labels["accuracy"].show_text(f"Accuracy train {_accuracy(ev.train_accuracy)} / "
                                              f"test {_accuracy(ev.test_accuracy)}" if ev.train_accuracy is not None
                                              else "Accuracy – (regression)")
        self.labels["speed"].show_text(f"{frame.steps_per_second:,.0f} steps/s")


class DivergenceBanner(QFrame):
    """A strip above the network, shown when training blew up; it never blocks."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("divergence_banner")
        self.setStyleSheet("#divergence_banner { background: #fde2e1; border: 1px solid #d9534f; }"
                           "#divergence_banner QLabel { color: #7a1f1c; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setAccessibleName("Dismiss divergence message")
        self.dismiss.setToolTip("Hide this message")
        self.dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss)
        self.hide()

    def show_divergence(self, divergence, lr: float | None) -> str:
        suggestion = f" (try {lr / 10:g} instead of {lr:g})" if lr else ""
        text = (f"Training diverged: {divergence.reason}. Training stopped and the weights from before that "
                f"step were kept. The steps overshot the minimum: choose a smaller learning rate{suggestion}, "
                "then press Reset.")
        self.label.setText(text)
        self.show()
        return text
