"""The + and - buttons above the network: hidden layers, and neurons per layer.

They edit chain networks (input, dense layers, output); for other graphs they are
disabled and say why.  Each press emits a whole new ``network`` section, built by
``playground.edits``; the main window checks it and restarts training with it.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from engine.activations import ACTIVATIONS
from playground import edits
from ui.panels.explanations import activation_tip
from ui.panels.widgets import combo, select

ROW = 26


def _button(text: str, name: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    button.setAutoRaise(False)
    button.setFixedSize(24, 22)
    button.clicked.connect(slot)
    return button


class _Group(QWidget):
    """[-] [+] and a caption, positioned by the owner (absolute, over a column)."""

    def __init__(self, parent, caption: str, minus: QToolButton, plus: QToolButton):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(minus)
        layout.addWidget(plus)
        self.caption = QLabel(caption)
        layout.addWidget(self.caption)
        self.minus, self.plus = minus, plus
        self.adjustSize()


class LayerControls(QWidget):
    network_edited = Signal(dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedHeight(3 * ROW + 12)
        self._network: dict | None = None
        self.layers = _Group(self, "",
                             _button("−", "Remove hidden layer", "Remove the hidden layer next to the output.",
                                     lambda: self._edit(edits.remove_layer)),
                             _button("+", "Add hidden layer", "Add a hidden layer before the output (a copy of "
                                     "the last hidden layer's size and activation).", lambda: self._edit(edits.add_layer)))
        self.units: dict[str, _Group] = {}
        self.activations: dict = {}     # node id -> its own activation box
        self._columns: list[tuple[str, float]] = []
        self._map_x: Callable[[float], float] | None = None

    def _edit(self, change, *args) -> None:
        if self._network is not None:
            new = change(self._network, *args)
            if new != self._network:
                self.network_edited.emit(new)

    def set_network(self, network: dict, columns: list[tuple[str, float]]) -> None:
        """Rebuild the per-layer groups (once per session, never per frame)."""
        self._network = network
        hidden = edits.chain_hidden(network)
        chain = hidden is not None
        count = len(hidden) if chain else 0
        self.layers.caption.setText(f"{count} hidden layer{'s' * (count != 1)}" if chain
                                    else "Not a plain chain: edit the project file to change its layers")
        self.layers.minus.setEnabled(chain and count > 0)
        self.layers.plus.setEnabled(chain and count < edits.BUTTON_MAX_LAYERS)
        self.layers.adjustSize()
        for widget in (*self.units.values(), *self.activations.values()):
            widget.deleteLater()
        self.units, self.activations = {}, {}
        nodes = {n["id"]: n for n in network["nodes"]}
        for node_id in hidden or []:
            n = nodes[node_id]["units"]
            group = _Group(self, f"{n} neuron{'s' * (n != 1)}",
                           _button("−", f"Remove a neuron from {node_id}", f"One neuron fewer in layer {node_id}.",
                                   lambda _=False, i=node_id: self._edit(edits.change_units, i, -1)),
                           _button("+", f"Add a neuron to {node_id}", f"One more neuron in layer {node_id}.",
                                   lambda _=False, i=node_id: self._edit(edits.change_units, i, +1)))
            group.minus.setEnabled(n > 1)
            group.plus.setEnabled(n < edits.BUTTON_MAX_UNITS)
            group.show()
            self.units[node_id] = group
            self.activations[node_id] = self._activation_box(node_id, nodes[node_id].get("activation", "linear"))
        self._columns = [(nid, x) for nid, x in columns if nid in self.units]
        self._place()

    def _activation_box(self, node_id: str, current: str):
        """This layer's own transfer function (the Training dock sets all hidden layers at once)."""
        box = combo(f"Activation of {node_id}", f"Transfer function of layer {node_id} alone.",
                    [(n, n, activation_tip(n)) for n in ACTIVATIONS if n != "softmax"])
        select(box, current)
        box.currentIndexChanged.connect(
            lambda _=0, i=node_id, b=box: self._edit(edits.set_layer_activation, i, b.currentData()))
        box.setParent(self)
        box.setFixedWidth(96)
        box.show()
        return box

    def place(self, map_x: Callable[[float], float]) -> None:
        """``map_x`` turns a scene x into this widget's x (the view's zoom may have changed)."""
        self._map_x = map_x
        self._place()

    def _place(self) -> None:
        self.layers.move(max(0, (self.width() - self.layers.width()) // 2), 4)
        if self._map_x is None:
            return
        for node_id, x in self._columns:
            group = self.units[node_id]
            group.move(int(self._map_x(x) - group.width() / 2), ROW + 6)
            box = self.activations[node_id]
            box.move(int(self._map_x(x) - box.width() / 2), 2 * ROW + 8)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place()
