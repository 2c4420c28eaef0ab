"""The status bar readout and the divergence banner."""
from __future__ import annotations

import math
import time

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStatusBar


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
WIDTHS = {"step": 16, "epoch": 14, "loss": 34, "accuracy": 38, "speed": 16}     # in average characters


class TrainingStatus:
    """Permanent labels in the window's status bar: step, epoch, losses, accuracy, speed."""

    def __init__(self, bar: QStatusBar):
        self.bar = bar
        self._shown_at = -1e9
        self.labels = {key: QLabel() for key in WIDTHS}
        height = bar.fontMetrics().height() + 4
        for key, label in self.labels.items():
            # A fixed size: otherwise every new number changes the size hint and
            # relays out the whole window, dozens of times a second.
            label.setFixedSize(bar.fontMetrics().averageCharWidth() * WIDTHS[key], height)
            bar.addPermanentWidget(label)
        self.clear()

    def clear(self) -> None:
        self._shown_at = -1e9
        self.labels["step"].setText("Step 0")
        self.labels["epoch"].setText("Epoch 0")
        self.labels["loss"].setText("Loss train – / test –")
        self.labels["accuracy"].setText("Accuracy –")
        self.labels["speed"].setText("0 steps/s")

    def show_frame(self, frame) -> None:
        # Five repaints of Python-made labels per frame cost the training thread more
        # than the numbers are worth; a few updates a second read just as well.
        now = time.perf_counter()
        paused = frame.steps_per_second == 0      # a single step must show at once
        if not paused and now - self._shown_at < INTERVAL:
            return
        self._shown_at = now
        snap, ev = frame.snapshot, frame.evaluation
        self.labels["step"].setText(f"Step {snap.step:,}")
        self.labels["epoch"].setText(f"Epoch {snap.epoch:,}")
        if ev is not None:
            self.labels["loss"].setText(f"Loss train {_loss(ev.train_loss)} / test {_loss(ev.test_loss)}")
            self.labels["accuracy"].setText(f"Accuracy train {_accuracy(ev.train_accuracy)} / "
                                            f"test {_accuracy(ev.test_accuracy)}" if ev.train_accuracy is not None
                                            else "Accuracy – (regression)")
        self.labels["speed"].setText(f"{frame.steps_per_second:,.0f} steps/s")


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
