"""The Training dock: transfer functions, loss, optimiser, learning rate, schedule,
regularisation, initialiser and precision.

Learning rate, optimiser and schedule are *tuned* on the running session (no
rebuild, the weights stay); everything else *rebuilds* the session from the
edited project.  The panel only builds the new sections; the project keeper
checks them and talks to the controller.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.activations import ACTIVATIONS
from engine.initializers import DEFAULT_INIT, INIT_STARTING_VALUES, INITIALIZERS
from engine.losses import LOSSES
from engine.optimizers import DEFAULTS as OPTIMIZER_DEFAULTS
from engine.schedules import SCHEDULE_DEFAULTS, SCHEDULE_STARTING_VALUES, SCHEDULES
from playground import edits
from playground.project import DEFAULT_OPTIMIZER, NO_REGULARIZATION
from ui.panels.explanations import (INIT_TIPS, LEARNING_RATE_TIP, OPTIMIZER_TIPS, PRECISION_TIP,
                                    REGULARIZATION_RATE_TIP, REGULARIZATION_TIPS, SCHEDULE_TIPS, activation_tip,
                                    loss_tip)
from ui.panels.hyper_form import HyperForm
from ui.panels.staleness import MeasuredAt
from ui.panels.teaching_text import limit_html, limit_short
from ui.panels.widgets import combo, select, signals_blocked

LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REGULARIZATION_RATES = (0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
# Values for the schedule parameters the engine requires but gives no default for.


def _init_name(init) -> str:
    return init if isinstance(init, str) else init.get("name", DEFAULT_INIT)


class TrainingPanel(QWidget):
    rebuild_requested = Signal(dict, bool)        # sections for Project.with_changes, keep_weights
    # Tuning the running session: the new training section and the changed value.
    learning_rate_requested = Signal(dict, float)
    optimizer_requested = Signal(dict, dict)
    schedule_requested = Signal(dict, object)      # a schedule spec, or None for none
    curvature_requested = Signal()                 # "what learning rate is stable here?"

    def __init__(self, parent=None):
        super().__init__(parent)
        self._project = None
        acts = [(n, n, activation_tip(n)) for n in ACTIVATIONS]
        self.hidden_activation = combo("Hidden activation", "Transfer function of the hidden neurons.",
                                       [a for a in acts if a[0] != "softmax"])
        self.output_activation = combo("Output activation", "Transfer function of the output layer.", acts)
        self.loss = combo("Loss", "What training minimises; its derivative is the error signal backprop starts from.",
                          [(n, n, loss_tip(n)) for n in LOSSES])
        self.optimizer = combo("Optimizer", "How the gradient is turned into a weight update.",
                               [(n, n, OPTIMIZER_TIPS.get(n, "")) for n in OPTIMIZER_DEFAULTS])
        self.optimizer_form = HyperForm("optimizer")
        self.learning_rate = combo("Learning rate", LEARNING_RATE_TIP,
                                   [(f"{v:g}", float(v), "") for v in LEARNING_RATES], editable=True)
        self.schedule = combo("Schedule", "How the learning rate changes with the number of updates.",
                              [(n, n, SCHEDULE_TIPS.get(n, "")) for n in SCHEDULES])
        self.schedule_form = HyperForm("schedule")
        self.regularization = combo("Regularization", "A penalty on large weights, added to the loss.",
                                    [(n.upper() if n != "none" else "None", n, t) for n, t in REGULARIZATION_TIPS.items()])
        self.regularization_rate = combo("Regularization rate", REGULARIZATION_RATE_TIP,
                                         [(f"{v:g}", float(v), "") for v in REGULARIZATION_RATES], editable=True)
        self.init = combo("Initializer", "How the weights are drawn when training starts or is reset.",
                          [(n, n, INIT_TIPS.get(n, "")) for n in INITIALIZERS])
        self.stable_lr = QPushButton("Stable limit?")
        self.stable_lr.setAccessibleName("Measure the stable learning rate")
        self.stable_lr.setToolTip("Measure how curved the loss is here (the Hessian's largest eigenvalue "
                                  "lambda): near a minimum, plain full-batch gradient descent is stable only below lr = 2 / lambda; "
                                  "momentum moves the limit, adaptive and sign methods have none.")
        self.stable_lr.clicked.connect(self.curvature_requested)
        self.curvature = QLabel("")
        self._measured = MeasuredAt()
        self.curvature.setWordWrap(True)
        self.curvature.setAccessibleName("Stable learning rate")
        limit_row = QHBoxLayout()
        limit_row.addWidget(self.stable_lr)
        limit_row.addWidget(self.curvature, 1)
        self.precision = combo("Precision", PRECISION_TIP,
                               [("float64", "float64", "Double precision."), ("float32", "float32", "Single precision.")])
        self.ablate = QCheckBox("Remove f' from backprop (experiment)")
        self.ablate.setAccessibleName("Remove the derivative of the transfer function from backprop")
        self.ablate.setToolTip("Backprop with every f'(z) replaced by 1: the forward pass is unchanged, but the "
                               "updates no longer follow the loss's gradient. Train and watch why the "
                               "derivative is there.")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        for label, widget in (("Hidden activation", self.hidden_activation), ("Output activation", self.output_activation),
                              ("Loss", self.loss), ("Optimizer", self.optimizer), (None, self.optimizer_form),
                              ("Learning rate", self.learning_rate), ("", limit_row), ("Schedule", self.schedule),
                              (None, self.schedule_form), ("Regularization", self.regularization),
                              ("Reg. rate", self.regularization_rate), ("Initializer", self.init),
                              ("Precision", self.precision), (None, self.ablate)):
            form.addRow(label, widget) if label else form.addRow(widget)
        self._connect()

    def show_curvature(self, limit, step: int) -> None:
        """``limit``: an engine.teaching.StepLimit for the session's optimiser, measured
        from the weights of ``step``."""
        self._measured.measured(step)
        self.curvature.setText(limit_short(limit))
        self.curvature.setToolTip(limit_html(limit))

    def note_step(self, step: int) -> None:
        """The weights are now those of ``step``: mark the limit out of date if it is."""
        if self._measured.moved_to(step):
            self.curvature.setText(f"out of date (measured at step {self._measured.step:,}): measure again")
            self.curvature.setToolTip(self._measured.notice(step))

    def clear_results(self) -> None:
        self._measured.clear()
        self.curvature.setText("")
        self.curvature.setToolTip("")

    def _connect(self) -> None:
        self.hidden_activation.currentIndexChanged.connect(
            lambda: self._rebuild_network(edits.set_hidden_activation, self.hidden_activation.currentData()))
        self.output_activation.currentIndexChanged.connect(
            lambda: self._rebuild_network(edits.set_output_activation, self.output_activation.currentData()))
        self.init.currentIndexChanged.connect(self._init_changed)
        self.loss.currentIndexChanged.connect(lambda: self._rebuild_training(loss=self.loss.currentData()))
        self.regularization.currentIndexChanged.connect(self._regularization_changed)
        self.regularization_rate.activated.connect(self._regularization_changed)
        self.regularization_rate.lineEdit().editingFinished.connect(self._regularization_changed)
        self.precision.currentIndexChanged.connect(
            lambda: self.rebuild_requested.emit({"dtype": self.precision.currentData()}, True))
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        self.optimizer_form.changed.connect(self._optimizer_changed)
        self.learning_rate.activated.connect(self._lr_changed)
        self.learning_rate.lineEdit().editingFinished.connect(self._lr_changed)
        self.schedule.currentIndexChanged.connect(self._schedule_changed)
        self.schedule_form.changed.connect(self._schedule_changed)
        self.ablate.toggled.connect(lambda on: self._rebuild_training(ablate_derivative=on))

    # -- showing a project ------------------------------------------------------------
    def show_project(self, project) -> None:
        self._project = project
        network, training = project.document["network"], project.training
        select(self.hidden_activation, edits.hidden_activation(network))
        out = edits.output_node(network)
        select(self.output_activation, out.get("activation", out.get("fn", "linear")))
        select(self.loss, training["loss"])
        opt = training.get("optimizer", DEFAULT_OPTIMIZER)
        select(self.optimizer, opt["name"])
        self.optimizer_form.build(opt["name"], OPTIMIZER_DEFAULTS[opt["name"]], opt)
        select(self.learning_rate, float(opt.get("lr", OPTIMIZER_DEFAULTS[opt["name"]]["lr"])))
        sched = training.get("schedule") or {"name": "constant"}
        select(self.schedule, sched["name"])
        self.schedule_form.build(sched["name"], self._schedule_defaults(sched["name"]), sched, skip=())
        reg = training.get("regularization", NO_REGULARIZATION)
        select(self.regularization, reg.get("kind", "none"))
        select(self.regularization_rate, float(reg.get("rate", 0.0)))
        self.regularization_rate.setEnabled(reg.get("kind", "none") != "none")
        select(self.init, _init_name(edits.current_init(network)))
        select(self.precision, project.document.get("dtype", "float64"))
        with signals_blocked(self.ablate):
            self.ablate.setChecked(bool(training.get("ablate_derivative", False)))

    @staticmethod
    def _schedule_defaults(name: str) -> dict:
        return {k: SCHEDULE_STARTING_VALUES.get(k, v) if v is None else v for k, v in SCHEDULE_DEFAULTS[name].items()}

    # -- edits -------------------------------------------------------------------------
    def _training(self, **changes) -> dict:
        training = copy.deepcopy(self._project.training)
        training.update(changes)
        return training

    def _rebuild_network(self, change, value) -> None:
        if self._project is not None:
            # Same shapes, so the trained weights carry over to the new transfer function.
            self.rebuild_requested.emit({"network": change(self._project.document["network"], value)}, True)

    def _init_changed(self) -> None:
        if self._project is None:
            return
        name = self.init.currentData()
        init = {"name": name, **INIT_STARTING_VALUES[name]} if name in INIT_STARTING_VALUES else name
        # A new initialiser only means something for fresh weights, so this one starts over.
        self.rebuild_requested.emit({"network": edits.set_init(self._project.document["network"], init)}, False)

    def _rebuild_training(self, **changes) -> None:
        if self._project is not None:
            self.rebuild_requested.emit({"training": self._training(**changes)}, True)

    def _regularization_changed(self) -> None:
        kind = self.regularization.currentData()
        self.regularization_rate.setEnabled(kind != "none")
        try:
            rate = float(self.regularization_rate.currentText())
        except ValueError:
            rate = 0.0
        if kind != "none" and rate == 0.0:
            rate = 0.001
            select(self.regularization_rate, rate)
        current = self._project.training.get("regularization", {}) if self._project else {}
        if self._project is not None and (current.get("kind", "none"), float(current.get("rate", 0.0))) != (kind, rate):
            self._rebuild_training(regularization={"kind": kind, "rate": rate})

    def _lr(self) -> float | None:
        try:
            return float(self.learning_rate.currentText())
        except ValueError:
            return None

    def _optimizer_spec(self) -> dict:
        name = self.optimizer.currentData()
        if self.optimizer_form.name != name:
            self.optimizer_form.build(name, OPTIMIZER_DEFAULTS[name], {})
        spec = {"name": name, **self.optimizer_form.values()}
        lr = self._lr()
        spec["lr"] = lr if lr is not None else OPTIMIZER_DEFAULTS[name]["lr"]
        return spec

    def _optimizer_changed(self) -> None:
        if self._project is not None:
            spec = self._optimizer_spec()
            self.optimizer_requested.emit(self._training(optimizer=spec), spec)

    def _lr_changed(self) -> None:
        lr = self._lr()
        if self._project is None or lr is None:
            return
        current = self._project.training.get("optimizer", {})
        if current.get("lr") != lr:
            self.learning_rate_requested.emit(self._training(optimizer=dict(current, lr=lr)), lr)

    def _schedule_changed(self) -> None:
        if self._project is None:
            return
        name = self.schedule.currentData()
        if self.schedule_form.name != name:
            self.schedule_form.build(name, self._schedule_defaults(name), {}, skip=())
        spec = {"name": name, **self.schedule_form.values()}
        self.schedule_requested.emit(self._training(schedule=spec), spec)
