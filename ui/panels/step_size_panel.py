"""The "2/λ" tab: plain gradient descent just below and above the step-size limit, shown.

A button runs plain full-batch gradient descent from the current weights, on a copy,
at 0.5×, 0.9× and 1.1× of 2/λ_max (engine/step_size_demo.py, in the engine's
process); this panel draws each run's loss and its distance from the start, and
says in words what the point is (a saddle or an unproven minimum first, since the
rule is about a minimum), what the rule assumes, and what each run actually did.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget

from engine.step_size_demo import DEFAULT_FACTORS, DEFAULT_STEPS, MAX_STEPS
from ui.panels.job_panel import JobPanel, rich_label
from ui.panels.teaching_text import number
from ui.panels.widgets import scrolling
from ui.plots.base import theme_plot
from ui.plots.ranges import DecadeAxis
from ui.theme import SERIES

PLOT_MIN_HEIGHT = 120           # each of the two stacked plots
LOG_WHEN_RATIO = 10.0           # losses spanning more than a decade get a log axis
TINY = 1e-300                   # a log axis cannot show 0
ROUND_OFF = 1e-12               # relative change of a float64 full-batch loss below which a rise is noise
# Green, blue, red: below, near and above the limit.
FACTOR_COLOURS = (SERIES[2], SERIES[0], SERIES[1])

HELP = ("<b>What you see.</b> Near a minimum the loss is close to a bowl, and plain gradient descent multiplies "
        "the distance to the bottom along the most curved direction by (1 − lr·λ<sub>max</sub>) every step. "
        "At 0.5× the limit that factor is 0: one step lands on the bottom along that direction. At 0.9× it is "
        "−0.8: the weights jump across the valley each step but the jumps shrink. At 1.1× it is −1.2: each step "
        "overshoots the bottom by more than it started, so the zig-zag grows. A network's loss is only a bowl "
        "close to the point: a growing zig-zag can throw the weights into a flatter region, where the limit is "
        "larger, instead of blowing up. Momentum, Adam and minibatches have other limits; these runs use none "
        "of them.")
CANCELLED = "Cancelled: nothing is shown, since half a demo is not a demo."
IDLE = "Press the button to run plain gradient descent from the current weights at three step sizes."


def colour(k: int, count: int) -> str:
    return FACTOR_COLOURS[k] if count == len(FACTOR_COLOURS) else SERIES[k % len(SERIES)]


def point_html(demo) -> str:
    """What kind of point the runs start from, first: the limit is a minimum's."""
    k = demo.curvature
    if demo.kind == "invalid":
        return ("<b>The curvature could not be measured</b>: the loss or its gradient is not finite at these "
                "weights, so there is no limit to test and nothing was run.")
    if demo.kind == "no curvature":
        return (f"<b>No limit to test here</b>: the largest curvature λ<sub>max</sub> = {number(k.max_eigenvalue)} "
                f"is not clearly above 0 (differences of gradients cannot tell values within ±{number(k.noise, 2)} "
                f"from 0), so the loss does not curve upwards and 2/λ<sub>max</sub> does not exist. Nothing was run.")
    if demo.kind == "saddle":
        n = k.negative
        return (f"<b>This point is a saddle, not a minimum.</b> The loss curves downwards along {n} "
                f"direction{'s' if n != 1 else ''} (λ<sub>min</sub> = {number(k.min_eigenvalue)}). Along "
                f"{'those' if n != 1 else 'that one'} every step size makes the weights move further away, so the "
                f"rule 2/λ<sub>max</sub> says nothing there; it still limits the steps along the most curved "
                f"direction. The curves show both at once.")
    if demo.kind == "unknown":
        return (f"<b>Cannot tell whether this is a minimum.</b> {k.hessian_vector_products} Hessian-vector "
                f"products for {k.weights} weights found no downward curvature, but fewer products than weights "
                f"do not prove there is none. The true λ<sub>max</sub> may also be larger than the one measured, "
                f"so the true limit may be lower than the one used below.")
    if demo.kind == "flat":
        return (f"<b>A flat valley floor.</b> No direction curves downwards, but some curvatures are within "
                f"±{number(k.noise, 2)} of 0: along those, steps neither come back nor run away. "
                f"2/λ<sub>max</sub> limits the steps along the curved directions.")
    return (f"<b>A minimum.</b> All {k.weights} curvatures are positive (λ<sub>min</sub> = "
            f"{number(k.min_eigenvalue)}), so 2/λ<sub>max</sub> is the stable limit of plain full-batch gradient "
            f"descent here.")


def limit_html(demo) -> str:
    k = demo.curvature
    found = (f"all {k.weights} eigenvalues" if k.complete else
             f"{k.hessian_vector_products} Hessian-vector products for {k.weights} weights")
    unsettled = "" if k.complete or k.max_settled else " (not yet converged: the true value is larger)"
    return (f"λ<sub>max</sub> = {number(k.max_eigenvalue)}{unsettled}, from {found}, so 2/λ<sub>max</sub> = "
            f"<b>{number(demo.limit)}</b>. Each run: {demo.steps:,} steps of plain gradient descent on the full "
            f"training set (no momentum, no minibatches) from a copy of the current weights, starting at loss "
            f"{number(demo.start_loss)}. Your network is not changed.")


def signed(x: float) -> str:
    """0, −0.8, 1.2: a true minus sign, and no "+0" or "-0"."""
    text = f"{x:.2g}"
    return "0" if float(text) == 0 else text.replace("-", "−")


def rises(losses: np.ndarray) -> int:
    """Steps after which the loss was higher than before (a bowl below the limit has none),
    by more than the full-batch sum's round-off: a rise of 1e-16 says nothing."""
    return int(np.sum(np.diff(losses) > ROUND_OFF * np.abs(losses[:-1])))


def run_html(run, kind: str, key: str) -> str:
    """What one run did, in numbers, and the quadratic model's factor for its step size."""
    shrink = 1.0 - 2.0 * run.factor           # 1 - lr * lambda_max, with lr = factor * 2 / lambda_max
    head = (f'<span style="color:{key}; font-weight:bold">——</span> <b>{run.factor:g}× the limit</b> '
            f"(lr = {number(run.lr)}; 1 − lr·λ<sub>max</sub> = {signed(shrink)}): ")
    done = len(run.losses) - 1
    if run.diverged_at is not None:
        what = (f"the loss or a weight overflowed to infinity at step {run.diverged_at:,}, so the run stops there "
                f"(last finite loss {number(run.losses[-1])}, {number(run.distances[-1])} from the start).")
    else:
        verb = "rose" if run.outcome == "rose" else "fell"
        peak = f", highest {number(float(np.max(run.losses)))}" if np.max(run.losses) > run.losses[0] else ""
        up = rises(run.losses)
        ups = "it never went up from one step to the next (beyond round-off)" if up == 0 else \
            f"it went up at {up:,} of the {done:,} steps"
        what = (f"the loss {verb} from {number(run.losses[0])} to {number(run.losses[-1])}{peak}; {ups}; the "
                f"weights ended {number(run.distances[-1])} from the start.")
    if kind != "saddle":
        what += _against_the_rule(run, shrink)
    return head + what


def _against_the_rule(run, shrink: float) -> str:
    """The run next to what the bowl predicts, where they differ or the rule shows."""
    went_up = run.diverged_at is not None or rises(run.losses) > 0
    if run.factor > 1 and went_up:
        return " The overshoot shows, as the rule predicts above the limit."
    if run.factor > 1:
        return (f" Above the limit, yet the loss never went up: in the bowl the overshooting part grows "
                f"{abs(shrink):.2g}× a step, but from its size at the start, which may be tiny, and a growing "
                f"zig-zag can carry the weights somewhere flatter. Try more steps.")
    if went_up:
        return (" Below the limit, yet the loss went up: so somewhere on its path the curvature was above "
                "2/lr, larger than measured at the start; the bowl there no longer describes where it went.")
    return ""


def runs_html(demo) -> str:
    """The limit and each run, in numbers (empty when nothing ran)."""
    if demo.limit is None:
        return ""
    runs = "<br>".join(run_html(run, demo.kind, colour(k, len(demo.runs))) for k, run in enumerate(demo.runs))
    return f"{limit_html(demo)}<br>{runs}"


def log_is_useful(demo) -> bool:
    """A diverged run, or losses spanning more than a decade."""
    if any(run.diverged_at is not None for run in demo.runs):
        return True
    values = np.concatenate([run.losses for run in demo.runs]) if demo.runs else np.empty(0)
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 0 and float(values.max()) > LOG_WHEN_RATIO * float(values.min())


class StepSizePanel(JobPanel):
    demo_requested = Signal(int)            # steps per run
    cancel_requested = Signal()
    TITLE, FAILED, CANCELLED, IDLE = "The demo", "could not run", CANCELLED, IDLE
    STALE_HINT = "Run the demo again to see the limit at the new weights."

    def __init__(self, parent=None):
        super().__init__(parent)
        self._demo = None
        self.steps = QSpinBox()
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setAccessibleName("Gradient-descent steps per run")
        self.steps.setToolTip("How many plain gradient-descent steps each of the three runs takes.")
        factors = ", ".join(f"{f:g}×" for f in DEFAULT_FACTORS)
        self.run = QPushButton(f"Run GD at {factors} of 2/λ_max")
        self.run.setAccessibleName("Run the step-size demo")
        self.run.setToolTip("Measure the curvature at the current weights, then run plain full-batch gradient "
                            "descent from a copy of them at each step size. Your network is not changed.")
        self._build_job_controls(self.run, "step-size demo", "Stop the demo now; a half-finished demo shows nothing.",
                                 "Measuring the curvature, then the runs one after another.")
        self.log_scale = QCheckBox("log scale")
        self.log_scale.setAccessibleName("Log scale for the step-size plots")
        self.log_scale.setToolTip("Log axes for the loss and the distance. Switched on by itself when the "
                                  "losses span more than a factor of 10 or a run overflowed.")
        self.log_scale.toggled.connect(self._draw)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("steps"))
        controls.addWidget(self.steps)
        controls.addWidget(self.run)
        controls.addStretch(1)
        controls.addWidget(self.log_scale)

        # What the point is goes above the curves (said first); the numbers under them.
        self.summary = rich_label("Step-size demo verdict", IDLE)
        self.details = rich_label("Step-size demo results", "")
        self.loss_plot = self._plot("Full-batch training loss", "loss", "Step-size demo loss plot",
                                    "Each run's loss on the full training set after every step.")
        self.distance_plot = self._plot("Distance from the start ‖w − w₀‖", "distance",
                                        "Step-size demo distance plot",
                                        "How far each run's weights are from where they all started.")
        self.help = rich_label("About the step-size demo", HELP)
        # Curves on the left, their numbers and the explanation scrolling beside them:
        # on a small screen the plots keep their height and the words scroll.
        plots = QWidget()
        column = QVBoxLayout(plots)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.loss_plot, 1)
        column.addWidget(self.distance_plot, 1)
        words = QWidget()
        text = QVBoxLayout(words)
        text.addWidget(self.details)
        text.addWidget(self.help)
        text.addStretch(1)
        split = QSplitter(Qt.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(plots)
        split.addWidget(scrolling(words))
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.stale)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    @staticmethod
    def _plot(title: str, y_label: str, name: str, tip: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(title=title, axisItems={"left": DecadeAxis("left")})
        plot.setAccessibleName(name)
        plot.setToolTip(tip)
        plot.setLabel("bottom", "step")
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setMinimumHeight(PLOT_MIN_HEIGHT)
        return plot

    # -- the window's connections -------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        theme_plot(self.loss_plot, theme)
        theme_plot(self.distance_plot, theme)
        self._draw()

    def show_result(self, demo, step: int | None = None) -> None:
        """A StepSizeDemo; ``step``: the step of the weights it started from (default: the
        step the weights were at when it was asked for)."""
        self._result_arrived(step)
        self._demo = demo
        if demo.runs:
            self.log_scale.blockSignals(True)
            self.log_scale.setChecked(log_is_useful(demo))
            self.log_scale.blockSignals(False)
        self.summary.setText(point_html(demo))
        self.details.setText(runs_html(demo))
        self._draw()

    # -- inside --------------------------------------------------------------------------------
    def _request(self) -> None:
        self._begin("Measuring the curvature, then running gradient descent…")
        self.demo_requested.emit(self.steps.value())     # last: a handler may answer at once

    def _forget_result(self) -> None:
        self._demo = None
        self.details.setText("")

    def curves(self, plot: pg.PlotWidget) -> dict[float, pg.PlotDataItem]:
        """The drawn curve of each run, by factor (for tests and screen readers)."""
        return {item.opts["name"]: item for item in plot.getPlotItem().listDataItems() if item.opts.get("name")
                is not None}

    def _draw(self) -> None:
        log = self.log_scale.isChecked()
        for plot in (self.loss_plot, self.distance_plot):
            plot.clear()
            plot.setLogMode(y=log)
        runs = self._demo.runs if self._demo is not None else ()
        for k, run in enumerate(runs):
            pen = pg.mkPen(colour(k, len(runs)), width=2)
            steps = np.arange(len(run.losses))
            losses = np.maximum(run.losses, TINY) if log else run.losses
            # On a log axis the distance's first point (0, the start itself) cannot show.
            first = 1 if log else 0
            self.loss_plot.plot(steps, losses, pen=pen, name=run.factor)
            self.distance_plot.plot(steps[first:], run.distances[first:], pen=pen, name=run.factor)
            if run.diverged_at is not None and len(steps):
                for plot, y in ((self.loss_plot, losses), (self.distance_plot, run.distances)):
                    plot.plot(steps[-1:], y[-1:], pen=None, symbol="x", symbolSize=14,
                              symbolPen=pg.mkPen(colour(k, len(runs)), width=2))
