"""The "Race" tab: backprop computes the gradient, an optimiser decides what to do with it.

Gradient descent (at the session's learning rate, with a line search, and at
1/lambda_max), momentum, Adam, sign steps (Rprop, sign-SGD with a decaying step),
quasi-Newton (L-BFGS), conjugate gradient, Newton with Hessian-vector products, and
two methods that use no derivative at all race from the current weights on the same
full-batch loss.  The curves show the loss against evaluations, gradient
evaluations, forward-pass equivalents (gradient calls weighted by their measured
cost), seconds or each method's own iterations.  The race itself runs in the
training thread (engine/race.py); this panel only asks and draws.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.race import GRADIENT_COST_REPEATS, ITERATION_MEANING, METHODS
from ui.panels.staleness import MeasuredAt
from ui.panels.widgets import combo, fill_with, select
from ui.plots.base import theme_plot
from ui.plots.ranges import DecadeAxis
from ui.theme import SERIES

X_AXES = (("evaluations", "loss and gradient evaluations (one forward pass each)"),
          ("gradients", "gradient evaluations"),
          ("forward_equivalents", "forward-pass equivalents"),
          ("seconds", "seconds"),
          ("iterations", "iterations (each method's own kind: see its tooltip)"))
AXIS_TIPS = {
    "evaluations": "Every call of the loss counts 1, with or without a gradient.",
    "gradients": "Only the calls that also ran backprop; derivative-free methods stay at 0.",
    "forward_equivalents": "Loss-only calls count 1, a loss+gradient call counts its measured cost in "
                           "loss-only calls (timed before the race on a copy of the network).",
    "seconds": "Wall-clock time; it depends on this machine and on what else it is doing.",
    "iterations": "One iteration is a different amount of work for each method:\n" + "\n".join(
        f"{name.replace('_', '-')}: {meaning}" for name, meaning in ITERATION_MEANING.items()),
}
# Gradient descent at the session's rate is handicapped when the session trains with
# Adam's small rate: race it beside a step size chosen for gradient descent itself.
DEFAULT_METHODS = ("gd", "gd_armijo", "adam", "lbfgs", "nelder_mead")
COLUMNS = 6                 # 12 methods: two full rows
PLOT_MIN_HEIGHT = 240
UNMEASURED = "A loss+gradient call's cost in loss-only calls is measured when the race runs."


def method_tip(name: str) -> str:
    return f"{METHODS[name]}\nOne iteration: {ITERATION_MEANING[name]}."


def forward_equivalents_label(cost: float | None) -> str:
    if cost is None:
        return "forward-pass equivalents (a gradient call's cost is measured when the race runs)"
    return f"forward-pass equivalents (a gradient call = {cost:.3g} loss calls, measured)"


class RacePanel(QWidget):
    race_requested = Signal(tuple, int)        # method names, evaluation budget per method

    def __init__(self, parent=None):
        super().__init__(parent)
        self._traces = []
        self._measured = MeasuredAt()           # the step whose weights the race started from
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for k, name in enumerate(METHODS):
            box = QCheckBox(name.replace("_", "-"))
            box.setChecked(name in DEFAULT_METHODS)
            box.setAccessibleName(f"Race {name}")
            box.setToolTip(method_tip(name))
            self.boxes[name] = box
            grid.addWidget(box, k // COLUMNS, k % COLUMNS)
        self.budget = QSpinBox()
        self.budget.setRange(50, 100_000)
        self.budget.setSingleStep(250)
        self.budget.setValue(1000)
        self.budget.setAccessibleName("Evaluation budget")
        self.budget.setToolTip("How many loss or gradient evaluations each method may spend (each also stops "
                               "after a few seconds).")
        self.axis = combo("Race x axis", "What to measure the race against: a derivative-free method needs "
                          "many cheap loss evaluations, a gradient method fewer but costlier ones.",
                          [(label, key, AXIS_TIPS[key]) for key, label in X_AXES])
        self.axis.setItemText(self.axis.findData("forward_equivalents"), forward_equivalents_label(None))
        self.axis.currentIndexChanged.connect(self._draw)
        # Its item texts are long; shown elided, the row fits a 1366-pixel screen.
        self.axis.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.axis.setMinimumContentsLength(24)
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

        self.cost = QLabel(UNMEASURED)
        self.cost.setAccessibleName("Measured gradient cost")
        self.cost.setToolTip(f"Before the race a loss-only call and a loss+gradient call on the full training "
                             f"set are timed on a copy of the network ({GRADIENT_COST_REPEATS} times each, "
                             f"median). Their ratio turns gradient calls into forward-pass equivalents.")
        # Decade labels only: a log axis spanning 0.04-0.7 otherwise labels every
        # 0.1 and 0.01 step on top of each other.
        self.plot = pg.PlotWidget(title="Training loss during the race", axisItems={"left": DecadeAxis("left")})
        self.plot.setAccessibleName("Race plot")
        self.plot.setToolTip("Each method's full-batch training loss (log scale) as it spends its budget.")
        self.plot.setLogMode(y=True)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        # A colour key in a label above the plot: a legend inside it covers the curves.
        self.key = QLabel()
        self.key.setTextFormat(Qt.RichText)
        self.key.setWordWrap(True)
        self.key.setAccessibleName("Race colour key")
        self.key.setToolTip("Which colour is which method (dashed once the colours repeat).")
        self.summary = QLabel("Tick methods and start a race.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setAccessibleName("Race results")
        # On a small screen the results must not squeeze the plot flat: scroll instead.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(grid)
        layout.addLayout(controls)
        layout.addWidget(self.cost)
        layout.addWidget(self.key)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        fill_with(self, content)

    def set_theme(self, theme: str) -> None:
        theme_plot(self.plot, theme)
        self._draw()

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
        if self._traces:
            self._measured.measured(self._traces[0].start_step)
        self.start.setEnabled(True)
        self._show_cost()
        self._draw()
        ranked = sorted(self._traces, key=lambda t: t.final_loss)
        self.summary.setText("<br>".join(summary_line(rank, t) for rank, t in enumerate(ranked, start=1)))

    def _gradient_cost(self) -> float | None:
        return self._traces[0].gradient_cost if self._traces else None

    def _show_cost(self) -> None:
        # The ratio belongs to this race's network: the label and the axis name follow it.
        cost = self._gradient_cost()
        self.cost.setText(UNMEASURED if cost is None else
                          f"A loss+gradient call costs {cost:.3g} loss-only calls here (measured before "
                          f"this race, median of {GRADIENT_COST_REPEATS} timings each).")
        self.axis.setItemText(self.axis.findData("forward_equivalents"), forward_equivalents_label(cost))
        select(self.axis, self.axis.currentData())      # the box's tooltip names the current item's text

    def note_step(self, step: int) -> None:
        """The weights are now those of ``step``: mark the race out of date if it is."""
        if self._measured.moved_to(step):
            self.summary.setText(f"<i>{html.escape(self._measured.notice(step))} Race again to compare from "
                                 f"here.</i><br>{self.summary.text()}")

    def clear_results(self) -> None:
        """A new network or fresh weights: the curves belonged to other weights."""
        self._measured.clear()
        self._traces = []
        self._draw()
        self.key.setText("")
        self.summary.setText("A new network: tick methods and start a race.")

    def race_failed(self) -> None:
        self.start.setEnabled(True)

    def _draw(self) -> None:
        self.plot.clear()
        key = self.axis.currentData()
        label = forward_equivalents_label(self._gradient_cost()) if key == "forward_equivalents" \
            else dict(X_AXES)[key]
        self.plot.setLabel("bottom", label)
        for k, trace in enumerate(self._traces):
            y = np.maximum(trace.losses, 1e-16)        # a log axis cannot show 0
            # Past the palette's length colours repeat: dash those curves to keep them apart.
            style = Qt.SolidLine if k < len(SERIES) else Qt.DashLine
            self.plot.plot(getattr(trace, key), y, pen=pg.mkPen(SERIES[k % len(SERIES)], width=2, style=style),
                           name=trace.method)
        self.key.setText("&nbsp;&nbsp;".join(
            f'<span style="color:{SERIES[k % len(SERIES)]}; font-weight:bold">'
            f'{"——" if k < len(SERIES) else "- -"}</span>&nbsp;{html.escape(t.method)}'
            for k, t in enumerate(self._traces)))


def summary_line(rank: int, t) -> str:
    """One ranked result, naming everything the method spent (the closing record of its trace)."""
    lr = f", lr {t.learning_rate:.3g}" if np.isfinite(t.learning_rate) else ""
    iterations = int(t.iterations[-1])
    return (f"{rank}. <b>{t.method}</b>: loss {t.final_loss:.4g} after {int(t.evaluations[-1])} evaluations "
            f"({int(t.gradients[-1])} gradients, {t.forward_equivalents[-1]:.0f} forward-pass equivalents), "
            f"{iterations} iteration{'' if iterations == 1 else 's'}, {t.seconds[-1]:.2f} s{lr} — "
            f"{html.escape(t.message)}")
