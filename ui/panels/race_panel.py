"""The "Race" tab: backprop computes the gradient, an optimiser decides what to do with it.

Gradient descent (at the session's learning rate, with a line search, and at
1/lambda_max), momentum, Adam, sign steps (Rprop, sign-SGD with a decaying step),
quasi-Newton (L-BFGS), conjugate gradient, Newton with Hessian-vector products, and
two methods that use no derivative at all race from the current weights on the same
full-batch loss.  The curves show the loss against evaluations, gradient
evaluations, forward-pass equivalents (gradient calls weighted by their measured
cost), seconds or each method's own iterations.  The race itself runs in the
engine beside training (engine/race.py, playground/engine_loop.py): while it runs
every other control keeps working, this panel shows which method is running and how
far it got, and Cancel stops it.  A cancelled race keeps the methods that finished;
the one it interrupted is drawn dotted and never ranked.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSpinBox, QVBoxLayout, QWidget)

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
PROGRESS_STEPS = 1000       # the progress bar's resolution


def method_tip(name: str) -> str:
    return f"{METHODS[name]}\nOne iteration: {ITERATION_MEANING[name]}."


def progress_text(report) -> str:
    """Which method runs and how much of what stops it (budget or time limit) it has used."""
    return (f"{report.method.replace('_', '-')} ({report.index + 1} of {report.count}): "
            f"{report.evaluations:,} of {report.budget:,} evaluations, "
            f"{report.seconds:.1f} of {report.seconds_limit:g} s")


def forward_equivalents_label(cost: float | None) -> str:
    if cost is None:
        return "forward-pass equivalents (a gradient call's cost is measured when the race runs)"
    return f"forward-pass equivalents (a gradient call = {cost:.3g} loss calls, measured)"


class RacePanel(QWidget):
    race_requested = Signal(tuple, int)        # method names, evaluation budget per method
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._traces = []
        self._requested: tuple[str, ...] = ()   # the methods of the race this panel asked for
        self._awaiting = False                  # a race was asked for and its traces have not come
        self._cancelling = False                # Cancel was pressed; the race has not ended yet
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
                              "full training set. The network itself is not changed. While the race runs, "
                              "Play, Step and every other control still work (both then run slower). "
                              "Press Reset first to race from fresh initial weights.")
        self.start.clicked.connect(self._request)
        self.cancel = QPushButton("Cancel race")
        self.cancel.setAccessibleName("Cancel the race")
        self.cancel.setToolTip("Stop the race now. Methods that finished keep their results; the one it "
                               "interrupts is shown dotted as a partial run, and the rest do not run.")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setAccessibleName("Race progress")
        self.progress.setToolTip("Which method is running, and how much of its budget or of its time limit "
                                 "(whichever ends it first) it has used. Training keeps working meanwhile.")
        # Cancel at the row's start: on a small screen the end of the controls row is
        # scrolled out of sight.  The row shows only while a race runs.
        self.racing_row = QWidget()
        racing = QHBoxLayout(self.racing_row)
        racing.setContentsMargins(0, 0, 0, 0)
        racing.addWidget(self.cancel)
        racing.addWidget(self.progress, 1)
        self.racing_row.setVisible(False)
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
        layout.addWidget(self.racing_row)
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
        self._requested, self._awaiting = methods, True
        self._show_racing(True)
        self.progress.setValue(0)
        self.progress.setFormat("Starting the race…")
        self.summary.setText(f"Racing {', '.join(methods)}… Training and every other control still work "
                             f"meanwhile; Cancel stops the race.")
        self.race_requested.emit(methods, self.budget.value())     # last: a handler may answer at once

    def _cancel(self) -> None:
        self._cancelling = True
        self.cancel.setEnabled(False)
        self.progress.setFormat("Cancelling…")
        self.cancel_requested.emit()

    def _show_racing(self, racing: bool) -> None:
        self._cancelling &= racing
        self.start.setEnabled(not racing)
        self.cancel.setEnabled(racing and not self._cancelling)
        self.racing_row.setVisible(racing)

    def set_racing(self, racing: bool) -> None:
        """Whether the engine is racing (``TrainingController.race_busy``)."""
        self._show_racing(racing)
        if not racing and self._awaiting:       # it ended without traces: it failed
            self._awaiting = False
            self.summary.setText("The race stopped without results.")

    def show_progress(self, report) -> None:
        """A ``RaceProgress`` from the engine: which method runs, and how far it got."""
        if not self._awaiting:
            return                              # a race dropped with its weights (clear_results) says no more
        self._show_racing(True)
        if not self._cancelling:                # reports already on their way are old news then
            self.progress.setValue(round(report.fraction * PROGRESS_STEPS))
            self.progress.setFormat(progress_text(report))

    def show_race(self, traces) -> None:
        self._traces = list(traces)
        requested = self._requested or tuple(t.method for t in self._traces)
        self._requested, self._awaiting = (), False
        if self._traces:
            self._measured.measured(self._traces[0].start_step)
        self._show_racing(False)
        self._show_cost()
        self._draw()
        self.summary.setText(race_summary(self._traces, requested))

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
        """A new network or fresh weights: the curves belonged to other weights (and the
        engine abandons a race from the old weights)."""
        self._measured.clear()
        self._traces = []
        self._requested, self._awaiting = (), False
        self._show_racing(False)
        self._draw()
        self.key.setText("")
        self.summary.setText("A new network: tick methods and start a race.")

    def race_failed(self) -> None:
        self._awaiting = False
        self._show_racing(False)

    def _draw(self) -> None:
        self.plot.clear()
        key = self.axis.currentData()
        label = forward_equivalents_label(self._gradient_cost()) if key == "forward_equivalents" \
            else dict(X_AXES)[key]
        self.plot.setLabel("bottom", label)
        for k, trace in enumerate(self._traces):
            y = np.maximum(trace.losses, 1e-16)        # a log axis cannot show 0
            self.plot.plot(getattr(trace, key), y, pen=pg.mkPen(SERIES[k % len(SERIES)], width=2,
                                                                style=curve_style(k, trace)),
                           name=trace.method)
        self.key.setText("&nbsp;&nbsp;".join(
            f'<span style="color:{SERIES[k % len(SERIES)]}; font-weight:bold">{key_mark(k, t)}</span>'
            f'&nbsp;{html.escape(t.method)}{" (cancelled partway)" if t.cancelled else ""}'
            for k, t in enumerate(self._traces)))


def curve_style(k: int, trace):
    """Dotted: a run cut short by a cancel.  Dashed: past the palette, colours repeat."""
    if trace.cancelled:
        return Qt.DotLine
    return Qt.SolidLine if k < len(SERIES) else Qt.DashLine


def key_mark(k: int, trace) -> str:
    return {Qt.DotLine: "···", Qt.DashLine: "- -"}.get(curve_style(k, trace), "——")


def race_summary(traces, requested) -> str:
    """The finished methods ranked; after a cancel, first a line saying the race is not
    complete, and the interrupted method below the ranking, never in it."""
    finished = sorted((t for t in traces if not t.cancelled), key=lambda t: t.final_loss)
    lines = [summary_line(f"{rank}.", t) for rank, t in enumerate(finished, start=1)]
    partial = [t for t in traces if t.cancelled]
    lines += [summary_line("–", t, " (cancelled partway, not ranked)") for t in partial]
    raced = {t.method for t in traces}
    not_run = [m for m in requested if m not in raced]
    if partial or not_run:
        stopped = "".join(f" {html.escape(t.method)} stopped partway (dotted curve, not ranked)." for t in partial)
        skipped = f" Not run: {html.escape(', '.join(not_run))}." if not_run else ""
        lines.insert(0, f"<b>Race cancelled</b>: {len(finished)} of {len(requested)} methods finished, so "
                        f"this is not the full race.{stopped}{skipped}")
    return "<br>".join(lines)


def summary_line(prefix: str, t, note: str = "") -> str:
    """One result (``prefix``: its rank), naming everything the method spent (the closing
    record of its trace)."""
    lr = f", lr {t.learning_rate:.3g}" if np.isfinite(t.learning_rate) else ""
    iterations = int(t.iterations[-1])
    return (f"{prefix} <b>{t.method}</b>{note}: loss {t.final_loss:.4g} after {int(t.evaluations[-1])} "
            f"evaluations ({int(t.gradients[-1])} gradients, {t.forward_equivalents[-1]:.0f} forward-pass "
            f"equivalents), {iterations} iteration{'' if iterations == 1 else 's'}, {t.seconds[-1]:.2f} s{lr} — "
            f"{html.escape(t.message)}")
