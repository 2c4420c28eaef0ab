"""The "Race" tab: backprop computes the gradient, an optimiser decides what to do with it.

Gradient descent, momentum, Adam, sign steps (Rprop), quasi-Newton (L-BFGS),
conjugate gradient, Newton with Hessian-vector products, and two methods that use
no derivative at all race from the current weights on the same full-batch loss.
The curves show the loss against evaluations, gradient evaluations or seconds.
The race itself runs in the training thread (engine/race.py); this panel only asks
and draws.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from engine.race import METHODS
from ui.panels.widgets import combo
from ui.plots.base import theme_plot
from ui.theme import SERIES, plot_colors

X_AXES = (("evaluations", "loss and gradient evaluations"), ("gradients", "gradient evaluations"),
          ("seconds", "seconds"), ("iterations", "recorded iterations"))
DEFAULT_METHODS = ("gd", "adam", "lbfgs", "nelder_mead")


class RacePanel(QWidget):
    race_requested = Signal(tuple, int)        # method names, evaluation budget per method

    def __init__(self, parent=None):
        super().__init__(parent)
        self._traces = []
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for k, (name, description) in enumerate(METHODS.items()):
            box = QCheckBox(name.replace("_", "-"))
            box.setChecked(name in DEFAULT_METHODS)
            box.setAccessibleName(f"Race {name}")
            box.setToolTip(description)
            self.boxes[name] = box
            grid.addWidget(box, k // 5, k % 5)
        self.budget = QSpinBox()
        self.budget.setRange(50, 100_000)
        self.budget.setSingleStep(250)
        self.budget.setValue(1000)
        self.budget.setAccessibleName("Evaluation budget")
        self.budget.setToolTip("How many loss or gradient evaluations each method may spend (each also stops "
                               "after a few seconds).")
        self.axis = combo("Race x axis", "What to measure the race against: a derivative-free method needs "
                          "many cheap loss evaluations, a gradient method fewer but costlier ones.",
                          [(label, key, "") for key, label in X_AXES])
        self.axis.currentIndexChanged.connect(self._draw)
        self.start = QPushButton("Race from the current weights")
        self.start.setAccessibleName("Start the race")
        self.start.setToolTip("Pause training and run every ticked method from the same weights on the "
                              "full training set. The network itself is not changed. Press Reset first to "
                              "race from fresh initial weights.")
        self.start.clicked.connect(self._request)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("budget"))
        controls.addWidget(self.budget)
        controls.addWidget(QLabel("x axis"))
        controls.addWidget(self.axis)
        controls.addStretch(1)
        controls.addWidget(self.start)

        self.plot = pg.PlotWidget(title="Training loss during the race")
        self.plot.setAccessibleName("Race plot")
        self.plot.setToolTip("Each method's full-batch training loss (log scale) as it spends its budget.")
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        self.summary = QLabel("Tick methods and start a race.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setAccessibleName("Race results")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)

    def set_theme(self, theme: str) -> None:
        theme_plot(self.plot, theme)
        self.legend.setLabelTextColor(plot_colors(theme)[1])
        self._draw()        # legend entries take the colour when they are made

    def _request(self) -> None:
        methods = tuple(name for name, box in self.boxes.items() if box.isChecked())
        if not methods:
            self.summary.setText("Tick at least one method.")
            return
        self.start.setEnabled(False)
        self.summary.setText(f"Racing {', '.join(methods)}…")
        self.race_requested.emit(methods, self.budget.value())

    def show_race(self, traces) -> None:
        self._traces = list(traces)
        self.start.setEnabled(True)
        self._draw()
        ranked = sorted(self._traces, key=lambda t: t.final_loss)
        self.summary.setText("<br>".join(
            f"{rank}. <b>{t.method}</b>: loss {t.final_loss:.4g} after {int(t.evaluations[-1])} evaluations "
            f"({int(t.gradients[-1])} gradients), {t.seconds[-1]:.2f} s — {html.escape(t.message)}"
            for rank, t in enumerate(ranked, start=1)))

    def race_failed(self) -> None:
        self.start.setEnabled(True)

    def _draw(self) -> None:
        self.plot.clear()
        self.legend.clear()
        key = self.axis.currentData()
        self.plot.setLabel("bottom", dict(X_AXES)[key])
        for k, trace in enumerate(self._traces):
            x = np.arange(len(trace.losses)) if key == "iterations" else getattr(trace, key)
            y = np.maximum(trace.losses, 1e-16)        # a log axis cannot show 0
            self.plot.plot(x, y, pen=pg.mkPen(SERIES[k % len(SERIES)], width=2), name=trace.method)
