"""The "Why?" panel: backprop's chain rule for one weight, with the numbers.

It answers the learners' first questions on screen (see the teaching notes): why the
transfer function's derivative appears (the product dL/da x f'(z) x a_i for the
chosen weight, checked by a central difference), why it vanishes with cross-entropy
(the output case says so), where a layer's neurons sit on f'(z) (saturation), what
the learning rate may be (the curvature's stable limit 2 / lambda_max), the loss
along the gradient, and dead ReLU units.  It only draws ``Explanation`` values that
the worker computes (playground/explain.py) and sends requests.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from playground.explain import Explanation, ExplainRequest
from ui.panels.staleness import MeasuredAt
from ui.panels.teaching_text import chain_rule_html, check_text, curvature_html, limit_html
from ui.panels.widgets import fill_with, signals_blocked
from ui.plots.base import theme_plot
from ui.theme import NEGATIVE, POSITIVE

PLOT_MIN_HEIGHT = 170     # below this the curves are hard to read: the tab scrolls instead
HEADING = "Why the derivative of the transfer function?"
NOT_MEASURED = "Curvature not measured yet for these weights."
AUTO_INTERVAL_S = 0.5      # while training runs, ask for a fresh explanation at most this often


def _wrapping_label(text: str, name: str) -> QLabel:
    """A title that wraps onto a second line in a narrow column instead of being cut off."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignHCenter)
    label.setAccessibleName(name)
    label.setToolTip(text)
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)     # never widens the panel
    return label


class _ShortPlot(pg.PlotWidget):
    """A plot that asks for PLOT_MIN_HEIGHT, not pyqtgraph's 480 px: the scroll area sizes
    the panel by its height for the width, and should only scroll when the text needs it.
    Spare height still goes to the plots (they stretch)."""

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), PLOT_MIN_HEIGHT)


def _spin(name: str, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setAccessibleName(name)
    box.setToolTip(tip)
    box.setRange(0, 0)
    return box


class WhyPanel(QWidget):
    """Emits ``explain_requested(ExplainRequest)``; shows what ``show_explanation`` gets."""

    explain_requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._asked_at = -1e9
        self._measured = MeasuredAt()           # the step the curvature shown was measured at
        self._curvature_html = ""
        self._widths: dict[str, tuple[int, int]] = {}     # dense id -> (units, inputs)

        self.layer = QComboBox()
        self.layer.setAccessibleName("Weight's layer")
        self.layer.setToolTip("The dense layer whose incoming weight to follow (click an edge in the network "
                              "view to choose one directly).")
        self.unit = _spin("Neuron j (receives)", "j: the neuron the weight feeds, in the chosen layer.")
        self.source = _spin("Neuron i (sends)", "i: the neuron of the previous layer the weight comes from.")
        self.row = _spin("Training row", "The chain rule is shown for this one training example's loss; "
                                         "the batch gradient is the mean of these over the batch.")
        self.measure = QPushButton("Measure curvature")
        self.measure.setAccessibleName("Measure curvature")
        self.measure.setToolTip("Estimate the Hessian's largest eigenvalue (how sharply the loss curves) and "
                                "the stable learning-rate limit 2 / lambda_max for plain gradient descent.")
        for widget in (self.layer, self.unit, self.source, self.row):
            signal = widget.currentIndexChanged if widget is self.layer else widget.valueChanged
            signal.connect(self._on_selection)
        self.layer.currentIndexChanged.connect(self._update_ranges)
        self.measure.clicked.connect(lambda: self.request(with_curvature=True))

        chooser = QGridLayout()
        chooser.addWidget(QLabel("weight into"), 0, 0)
        chooser.addWidget(self.layer, 0, 1)
        chooser.addWidget(QLabel("neuron j"), 0, 2)
        chooser.addWidget(self.unit, 0, 3)
        chooser.addWidget(QLabel("from i"), 1, 0)
        chooser.addWidget(self.source, 1, 1)
        chooser.addWidget(QLabel("row"), 1, 2)
        chooser.addWidget(self.row, 1, 3)

        self.formula = QLabel("Press play or step to see the chain rule for a weight.")
        self.formula.setWordWrap(True)
        self.formula.setTextFormat(Qt.RichText)
        self.formula.setAccessibleName("Chain rule")
        self.check = QLabel()
        self.check.setWordWrap(True)
        self.check.setAccessibleName("Finite-difference check")
        # A label, not the group box's title: a title cannot wrap, so a narrow tab cut it off.
        self.heading = _wrapping_label(HEADING, "Why? heading")
        self.heading.setAlignment(Qt.AlignLeft)
        bold = QFont()              # only the weight: the size follows the text zoom
        bold.setBold(True)
        self.heading.setFont(bold)
        rule = QGroupBox()
        rule_layout = QVBoxLayout(rule)
        rule_layout.addWidget(self.heading)
        rule_layout.addLayout(chooser)
        rule_layout.addWidget(self.formula)
        rule_layout.addWidget(self.check)

        self.profile_plot = self._plot("f(z) and f'(z) with this layer's neurons",
                                       "The layer's transfer function (grey), its derivative (blue) and where "
                                       "its neurons' pre-activations z sit on the derivative (dots): dots "
                                       "where f' is near 0 are saturated and barely learn.")
        self.f_curve = self.profile_plot.plot(pen=pg.mkPen("#888888", width=2))
        self.slope_curve = self.profile_plot.plot(pen=pg.mkPen(POSITIVE, width=2))
        self.z_dots = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(QColor(NEGATIVE).red(),
                                                                          QColor(NEGATIVE).green(),
                                                                          QColor(NEGATIVE).blue(), 90))
        self.profile_plot.addItem(self.z_dots)
        self.slope_curve.setZValue(1)       # the derivative stays visible over the dots

        self.slice_plot = self._plot("Loss along the gradient",
                                     "The training loss at w - s * g/|g|: moving against the gradient (s > 0) "
                                     "lowers it first; its steepness at 0 is the gradient's size.")
        self.slice_curve = self.slice_plot.plot(pen=pg.mkPen(POSITIVE, width=2))
        self.slice_plot.setLabel("bottom", "step s along -g/|g|")
        # Where a plain gradient step at the session's learning rate lands: s = lr * |g|.
        self.step_mark = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(NEGATIVE, width=1.5, style=Qt.DashLine),
                                         label="lr·|g|", labelOpts={"position": 0.9, "color": NEGATIVE})
        self.step_mark.setVisible(False)
        self.slice_plot.addItem(self.step_mark)

        self.spectrum_plot = self._plot("Hessian eigenvalues",
                                        "Every eigenvalue of the Hessian found by the curvature measurement, "
                                        "smallest to largest: blue curve upwards, orange downwards (a saddle). "
                                        "Press Measure curvature to fill it.")
        self.spectrum_plot.setLabel("bottom", "rank")
        self.spectrum_plot.addItem(pg.InfiniteLine(angle=0, pos=0.0, pen=pg.mkPen("#888888", width=1)))
        self.spectrum_dots = pg.ScatterPlotItem(size=6, pen=None)
        self.spectrum_plot.addItem(self.spectrum_dots)

        self.curvature = QLabel(NOT_MEASURED)
        self.curvature.setWordWrap(True)
        self.curvature.setTextFormat(Qt.RichText)
        self.curvature.setAccessibleName("Curvature and stable learning rate")
        self.dead = QLabel()
        self.dead.setWordWrap(True)
        self.dead.setAccessibleName("Dead ReLU units")
        facts = QFormLayout()
        facts.addRow(self.measure, self.curvature)
        facts.addRow("Dead units:", self.dead)

        plots = QHBoxLayout()
        for plot in (self.profile_plot, self.slice_plot, self.spectrum_plot):
            column = QVBoxLayout()
            column.setSpacing(0)
            column.addWidget(self.titles[plot])
            column.addWidget(plot, 1)
            plots.addLayout(column)
        # On a small screen the text is not squeezed into clipped lines: the scroll
        # area gives the word-wrapped labels their height for the width, and the plots
        # keep PLOT_MIN_HEIGHT; the rest scrolls.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(rule)
        layout.addLayout(plots, 1)
        layout.addLayout(facts)
        fill_with(self, content)

    def set_theme(self, theme: str) -> None:
        for plot in (self.profile_plot, self.slice_plot, self.spectrum_plot):
            theme_plot(plot, theme)

    def _plot(self, title: str, tip: str) -> pg.PlotWidget:
        """A plot with its title in a QLabel above it (pyqtgraph's title cannot wrap)."""
        plot = _ShortPlot()
        plot.setAccessibleName(title)
        plot.setToolTip(tip)
        plot.setMinimumSize(160, PLOT_MIN_HEIGHT)
        plot.showGrid(x=True, y=True, alpha=0.2)
        if not hasattr(self, "titles"):
            self.titles: dict[pg.PlotWidget, QLabel] = {}
        self.titles[plot] = _wrapping_label(title, f"{title} (title)")
        return plot

    def set_title(self, plot: pg.PlotWidget, text: str) -> None:
        label = self.titles[plot]
        label.setText(text)
        label.setToolTip(text)

    def title(self, plot: pg.PlotWidget) -> str:
        return self.titles[plot].text()

    # -- what to explain ---------------------------------------------------------------
    def set_plan(self, plan, n_train_rows: int) -> None:
        """A new network (from SessionInfo): offer its dense layers' weights."""
        self._widths = {s.node.id: (s.width, s.in_width) for s in plan.dense_steps}
        current = self.layer.currentText()
        with signals_blocked(self.layer):
            self.layer.clear()
            self.layer.addItems(list(self._widths))
            if current in self._widths:
                self.layer.setCurrentText(current)
        self.row.setRange(0, max(0, n_train_rows - 1))
        self._update_ranges()

    def select_weight(self, node_id: str, unit: int, source: int) -> None:
        """Follow the weight from neuron ``source`` into neuron ``unit`` of ``node_id``."""
        if node_id not in self._widths:
            return
        with signals_blocked(self.layer, self.unit, self.source):     # one request, not three
            self.layer.setCurrentText(node_id)
            self._update_ranges()
            self.unit.setValue(unit)
            self.source.setValue(source)
        self.request()

    def _update_ranges(self) -> None:
        units, inputs = self._widths.get(self.layer.currentText(), (1, 1))
        self.unit.setRange(0, units - 1)
        self.source.setRange(0, inputs - 1)

    def _on_selection(self) -> None:
        self.request()

    def current_request(self, with_curvature: bool = False) -> ExplainRequest | None:
        """The explanation of the chosen weight (None before a network is known)."""
        if not self._widths:
            return None
        return ExplainRequest(f"{self.layer.currentText()}.weight", self.unit.value(), self.source.value(),
                              self.row.value(), with_curvature)

    def request(self, with_curvature: bool = False) -> None:
        if not self.isVisible() or self.current_request() is None:
            return
        self._asked_at = time.monotonic()
        self.explain_requested.emit(self.current_request(with_curvature))

    def on_frame(self, running: bool) -> None:
        """Keep the numbers current: every frame while paused, every AUTO_INTERVAL_S while training."""
        if not running or time.monotonic() - self._asked_at >= AUTO_INTERVAL_S:
            self.request()

    # -- drawing -------------------------------------------------------------------------
    def show_explanation(self, e: Explanation) -> None:
        c = e.chain
        self.formula.setText(f"Step {e.step}, row {c.row}, weight {c.weight}[{c.unit}, {c.source}] "
                             f"= {c.value:.4g} (from {c.source_label} into {c.node}[{c.unit}])<br>"
                             f"{chain_rule_html(c)}")
        self.check.setText(check_text(c))
        p = e.profile
        self.f_curve.setData(p.z_grid, p.f)
        if p.slope is not None:
            self.slope_curve.setData(p.z_grid, p.slope)
            self.z_dots.setData(p.z_values, p.slope_at_z)
        else:
            self.slope_curve.setData([], [])
            self.z_dots.setData(p.z_values, np.zeros_like(p.z_values))
        self.set_title(self.profile_plot, f"{c.node} ({c.activation}): f grey, f' blue")
        self.slice_curve.setData(e.loss_slice.steps, e.loss_slice.losses)
        self.step_mark.setValue(e.gradient_step)
        self.step_mark.setVisible(bool(np.isfinite(e.gradient_step)))
        self.slice_plot.setToolTip("The training loss at w - s * g/|g|: moving against the gradient (s > 0) lowers "
                                   "it first; its steepness at 0 is the gradient's size |g|. The dashed line is "
                                   f"where a plain gradient step at lr = {e.lr:.4g} lands: s = lr·|g| = "
                                   f"{e.gradient_step:.4g}"
                                   + (" (your optimiser's own step differs)." if e.optimizer != "sgd" else "."))
        if e.limit is not None:
            self._measured.measured(e.step)
            self._curvature_html = f"{curvature_html(e.limit.curvature)}<br>{limit_html(e.limit)}"
            self.curvature.setText(self._curvature_html)
            self._show_spectrum(e.limit.curvature)
        self.dead.setText(", ".join(f"{node}: {d.count} of {self._widths.get(node, (0,))[0]}"
                                    for node, d in e.dead.items()) or "no ReLU layers")

    # -- results that belong to one step's weights ----------------------------------------
    def note_step(self, step: int) -> None:
        """The weights are now those of ``step``: mark the curvature out of date if it is."""
        if self._measured.moved_to(step):
            self.curvature.setText(f"<i>{self._measured.notice(step)} Press Measure curvature again.</i><br>"
                                   f"{self._curvature_html}")
            if not self.title(self.spectrum_plot).endswith("(out of date)"):
                self.set_title(self.spectrum_plot, f"{self.title(self.spectrum_plot)} (out of date)")

    def clear_results(self) -> None:
        """A new network or fresh weights: earlier measurements say nothing about them."""
        self._measured.clear()
        self.curvature.setText(NOT_MEASURED)
        self.spectrum_dots.setData([], [])
        self.set_title(self.spectrum_plot, "Hessian eigenvalues")

    def _show_spectrum(self, k) -> None:
        values = np.asarray(k.ritz_values, dtype=np.float64)
        brushes = [pg.mkBrush(NEGATIVE if v < -k.noise else POSITIVE) for v in values]
        self.spectrum_dots.setData(np.arange(len(values)), values, brush=brushes)
        self.set_title(self.spectrum_plot, f"Hessian: {k.negative} of {len(values)} negative")
