"""The property panel: the selected block's id and fields, each edit an undo command.

It shows one block at a time (``show_node``) and follows the model, so an undo
elsewhere updates the fields shown.  A value the engine refuses is not applied:
the panel says why (``status_message``) and shows the model's value again.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.activations import ACTIVATIONS
from engine.errors import ConfigError
from engine.graph import MAX_UNITS
from engine.initializers import DEFAULT_INIT, INITIALIZERS
from ui.editor.commands import Rename, SetOutput, SetProperty
from ui.editor.model import GraphModel, GraphObserver

NO_ALPHA = -1.0          # the alpha spin box's "default" position


def _named(widget: QWidget, name: str, tip: str) -> QWidget:
    widget.setAccessibleName(name)
    widget.setToolTip(tip)
    return widget


def _init_params_text(init: Any) -> str:
    if isinstance(init, dict):
        return ", ".join(f"{k}={v:g}" for k, v in init.items() if k != "name")
    return ""


def _parse_init_params(name: str, text: str) -> Any:
    """'std=0.1, a=-1' -> {"name": name, "std": 0.1, "a": -1.0}; empty text -> the plain name."""
    params = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"initialiser parameter {part!r}: write it as name=number") from None
        if not sep:
            raise ConfigError(f"initialiser parameter {part!r}: write it as name=number")
    return {"name": name, **params} if params else name


class PropertyPanel(QWidget, GraphObserver):
    status_message = Signal(str)

    def __init__(self, model: GraphModel, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.model, self.undo_stack = model, undo_stack
        self.node_id: str | None = None
        self._loading = False
        self.setAccessibleName("Block properties")
        self.setToolTip("The selected block's fields; every change can be undone")
        self.hint = QLabel("Select one block to edit it.")
        self.hint.setWordWrap(True)
        _named(self.hint, "Property panel hint", "Select exactly one block on the canvas to edit its fields")
        self.id_edit = _named(QLineEdit(), "Block id", "The block's unique name (F2 to rename); wires follow it")
        self.type_label = _named(QLabel(), "Block type", "The kind of block (fixed once added)")
        self.units = _named(QSpinBox(), "Units", "Number of neurons in this dense layer")
        self.units.setRange(1, MAX_UNITS)
        self.activation = _named(QComboBox(), "Activation", "The dense layer's transfer function")
        self.fn = _named(QComboBox(), "Function", "The transfer function this block applies")
        for combo in (self.activation, self.fn):
            combo.addItems(list(ACTIVATIONS))
        self.alpha = _named(QDoubleSpinBox(), "Alpha",
                            "Slope (leaky_relu) or scale (elu) for negative inputs; 'default' uses the engine's")
        self.alpha.setRange(NO_ALPHA, 100.0)
        self.alpha.setDecimals(3)
        self.alpha.setSingleStep(0.01)
        self.alpha.setSpecialValueText("default")
        self.init = _named(QComboBox(), "Initialiser", "How this layer's first weights are drawn")
        self.init.addItems(list(INITIALIZERS))
        self.init_params = _named(QLineEdit(), "Initialiser parameters",
                                  "Parameters of the initialiser as name=number, comma separated "
                                  "(constant: value; uniform: a, b; normal: std)")
        self.bias = _named(QDoubleSpinBox(), "Initial bias", "The value every bias starts at")
        self.bias.setRange(-1e6, 1e6)
        self.bias.setDecimals(4)
        self.bias.setSingleStep(0.1)
        self.p = _named(QDoubleSpinBox(), "Dropout probability", "Chance that each value is zeroed while training")
        self.p.setRange(0.0, 0.999)
        self.p.setDecimals(3)
        self.p.setSingleStep(0.05)
        self.is_output = _named(QCheckBox("Network output"), "Is output",
                                "This block's value is the network's prediction")
        for spin in (self.units, self.alpha, self.bias, self.p):
            spin.setKeyboardTracking(False)

        self.form = QFormLayout()
        self.form.addRow("Id", self.id_edit)
        self.form.addRow("Type", self.type_label)
        self.form.addRow("Units", self.units)
        self.form.addRow("Activation", self.activation)
        self.form.addRow("Function", self.fn)
        self.form.addRow("Alpha", self.alpha)
        self.form.addRow("Initialiser", self.init)
        self.form.addRow("Init params", self.init_params)
        self.form.addRow("Bias", self.bias)
        self.form.addRow("Dropout p", self.p)
        self.form.addRow("", self.is_output)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d62728")
        _named(self.error, "Property error", "Why the last change was refused")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.hint)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addStretch(1)

        self.id_edit.editingFinished.connect(self._rename)
        self.units.valueChanged.connect(lambda v: self._set("units", int(v)))
        self.activation.currentTextChanged.connect(lambda t: self._set("activation", t))
        self.fn.currentTextChanged.connect(lambda t: self._set("fn", t))
        self.alpha.valueChanged.connect(lambda v: self._set("alpha", None if v <= NO_ALPHA else float(v)))
        self.init.currentTextChanged.connect(lambda _: self._set_init())
        self.init_params.editingFinished.connect(lambda: self._set_init(from_params=True))
        self.bias.valueChanged.connect(lambda v: self._set("bias", float(v) if v else None))
        self.p.valueChanged.connect(lambda v: self._set("p", float(v)))
        self.is_output.toggled.connect(self._set_output)
        model.subscribe(self)
        self.show_node(None)

    # -- showing --------------------------------------------------------------------
    # GraphObserver: follow the shown node through renames; drop it when it goes.
    def model_reset(self) -> None:
        self.show_node(None)

    def node_renamed(self, old: str, new: str) -> None:
        if old == self.node_id:
            self.node_id = new
        self._refresh()

    def node_changed(self, nid: str) -> None:
        self._refresh()

    def output_changed(self, old, new) -> None:
        self._refresh()

    def structure_changed(self) -> None:
        if self.node_id is not None and self.node_id not in self.model.nodes:
            self.show_node(None)

    def _refresh(self) -> None:
        self.show_node(self.node_id if self.node_id in self.model.nodes else None)

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if node_id in self.model.nodes else None
        node = self.model.nodes.get(self.node_id, {})
        kind = node.get("type")
        self._loading = True
        self.hint.setVisible(kind is None)
        rows = {self.id_edit: kind is not None, self.type_label: kind is not None,
                self.units: kind == "dense", self.activation: kind == "dense", self.fn: kind == "activation",
                self.alpha: kind in ("dense", "activation"), self.init: kind == "dense",
                self.init_params: kind == "dense", self.bias: kind == "dense", self.p: kind == "dropout",
                self.is_output: kind is not None}
        for widget, visible in rows.items():
            self.form.setRowVisible(widget, visible)
        if kind is not None:
            self.id_edit.setText(self.node_id)
            self.type_label.setText(kind)
            self.units.setValue(int(node.get("units", 1)))
            self.activation.setCurrentText(node.get("activation", "linear"))
            self.fn.setCurrentText(node.get("fn", "linear"))
            act = node.get("activation") if kind == "dense" else node.get("fn")
            self.alpha.setValue(node.get("alpha", NO_ALPHA))
            self.alpha.setEnabled("alpha" in node or (act in ACTIVATIONS and ACTIVATIONS[act].default_alpha > 0))
            init = node.get("init", DEFAULT_INIT)
            self.init.setCurrentText(init if isinstance(init, str) else init.get("name", DEFAULT_INIT))
            self.init_params.setText(_init_params_text(init))
            self.init_params.setEnabled(bool(INITIALIZERS.get(self.init.currentText())))
            self.bias.setValue(float(node.get("bias", 0.0)))
            self.p.setValue(float(node.get("p", 0.5)))
            self.is_output.setChecked(self.node_id == self.model.output)
        self._loading = False

    def focus_field(self, rename: bool = False) -> None:
        """Put the keyboard in the id field (rename) or the block's main field."""
        kind = self.model.nodes.get(self.node_id, {}).get("type")
        target = self.id_edit if rename else {"dense": self.units, "activation": self.fn,
                                              "dropout": self.p}.get(kind, self.id_edit)
        target.setFocus(Qt.ShortcutFocusReason)
        if target is self.id_edit:
            self.id_edit.selectAll()

    # -- editing --------------------------------------------------------------------
    def _refuse(self, exc: ConfigError) -> None:
        self.error.setText(str(exc))
        self.status_message.emit(str(exc))
        self.show_node(self.node_id)

    def _push(self, make) -> None:
        try:
            command = make()
        except ConfigError as exc:
            self._refuse(exc)
            return
        self.error.clear()
        self.undo_stack.push(command)

    def _set(self, key: str, value: Any) -> None:
        if self._loading or self.node_id is None or self.model.nodes[self.node_id].get(key) == value:
            return
        self._push(lambda: SetProperty(self.model, self.node_id, key, value))

    def _set_init(self, from_params: bool = False) -> None:
        """A new initialiser name starts from its required parameters (at 0); edited parameters are parsed."""
        if self._loading or self.node_id is None:
            return
        name = self.init.currentText()
        if from_params:
            try:
                value = _parse_init_params(name, self.init_params.text())
            except ConfigError as exc:
                self._refuse(exc)
                return
        else:
            required = {k: 0.0 for k, default in INITIALIZERS[name].items() if default is None}
            value = {"name": name, **required} if required else name
        current = self.model.nodes[self.node_id].get("init", DEFAULT_INIT)
        if value != current:
            self._set("init", value)

    def _rename(self) -> None:
        new = self.id_edit.text()
        if self._loading or self.node_id is None or new == self.node_id:
            return
        self._push(lambda: Rename(self.model, self.node_id, new))

    def _set_output(self, checked: bool) -> None:
        if self._loading or self.node_id is None or checked == (self.model.output == self.node_id):
            return
        self.undo_stack.push(SetOutput(self.model, self.node_id if checked else None))
