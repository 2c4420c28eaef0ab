"""The + and - buttons above the network: hidden layers, and neurons per layer.

They edit chain networks (input, dense layers, output).  Other graphs (branches
joined by ``add`` or ``concat``, activation or dropout nodes) are edited in the Graph
editor tab beside the neuron view: for those the buttons give way to a pointer and a
button that asks for that tab (``editor_requested``).  Each press emits a whole new
``network`` section, built by ``playground.edits``; the main window checks it and
restarts training with it.

Everything follows the application's font (View > Zoom); where columns stand too
close for "8 neurons" the groups shorten to "8", then to the buttons alone (the
diagram below shows the neurons; the group's tooltip keeps the words).
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QSize, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from engine.activations import ACTIVATIONS
from playground import edits
from ui.panels.explanations import activation_tip
from ui.panels.widgets import combo, select

ROW = 26              # smallest row height (px); a larger font makes the rows taller
SPACING = 3           # between a group's buttons and caption
APART = 4             # px kept between neighbouring groups
BOX_WIDTH = 96        # an activation box's width where the columns leave room for it


def _button(text: str, name: str, tip: str, slot) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    button.setAutoRaise(False)
    button.clicked.connect(slot)
    return button


class _Group(QWidget):
    """[-] [+] and a caption, positioned by the owner (absolute, over a column)."""

    def __init__(self, parent, caption: str, minus: QToolButton, plus: QToolButton, short: str | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        layout.addWidget(minus)
        layout.addWidget(plus)
        self.caption = QLabel(caption)
        self.setToolTip(caption)
        layout.addWidget(self.caption)
        self.minus, self.plus = minus, plus
        self.full, self.short = caption, short or caption
        self.adjustSize()

    def width_for(self, text: str) -> int:
        """Its width with ``text`` as the caption ("" for none)."""
        caption = self.caption.fontMetrics().horizontalAdvance(text) + 4 + SPACING if text else 0
        return self.minus.width() + self.plus.width() + SPACING + caption

    def show_caption(self, text: str) -> None:
        if self.caption.text() != text:
            self.caption.setText(text)
        self.caption.setVisible(bool(text))
        self.adjustSize()


class LayerControls(QWidget):
    network_edited = Signal(dict)
    editor_requested = Signal()       # the network is not a chain: its layers are edited in the Graph editor

    def __init__(self, parent=None):
        super().__init__(parent)
        self._network: dict | None = None
        self.layers = _Group(self, "",
                             _button("−", "Remove hidden layer", "Remove the hidden layer next to the output.",
                                     lambda: self._edit(edits.remove_layer)),
                             _button("+", "Add hidden layer", "Add a hidden layer before the output (a copy of "
                                     "the last hidden layer's size and activation).", lambda: self._edit(edits.add_layer)))
        self.open_editor = QPushButton("Open the Graph editor")
        self.open_editor.setAccessibleName("Open the Graph editor")
        self.open_editor.setToolTip("Show the Graph editor tab, where networks with branches (add, concat) "
                                    "are drawn and their layers changed.")
        self.open_editor.clicked.connect(self.editor_requested)
        self.open_editor.hide()
        self.layers.layout().addWidget(self.open_editor)
        self.units: dict[str, _Group] = {}
        self.activations: dict = {}     # node id -> its own activation box
        self._columns: list[tuple[str, float]] = []
        self._map_x: Callable[[float], float] | None = None
        self._rows = 3
        self._row = ROW
        self._restyle()

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
                                    else "Not a plain chain: edit its layers in the Graph editor tab")
        self.layers.minus.setVisible(chain)
        self.layers.plus.setVisible(chain)
        self.open_editor.setVisible(not chain)
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
                                   lambda _=False, i=node_id: self._edit(edits.change_units, i, +1)),
                           short=str(n))
            group.minus.setEnabled(n > 1)
            group.plus.setEnabled(n < edits.BUTTON_MAX_UNITS)
            group.show()
            self.units[node_id] = group
            self.activations[node_id] = self._activation_box(node_id, nodes[node_id].get("activation", "linear"))
        self._columns = [(nid, x) for nid, x in columns if nid in self.units]
        self._rows = 3 if chain else 1      # no per-layer rows to show: give the room to the diagram
        self._restyle()

    def _activation_box(self, node_id: str, current: str):
        """This layer's own transfer function (the Training dock sets all hidden layers at once)."""
        box = combo(f"Activation of {node_id}", f"Transfer function of layer {node_id} alone.",
                    [(n, n, activation_tip(n)) for n in ACTIVATIONS if n != "softmax"])
        select(box, current)
        box.currentIndexChanged.connect(
            lambda _=0, i=node_id, b=box: self._edit(edits.set_layer_activation, i, b.currentData()))
        box.setParent(self)
        box.show()
        return box

    # -- size: the font's ------------------------------------------------------------------
    def _restyle(self) -> None:
        """Buttons and rows sized for the current font (the app font may have grown)."""
        metrics = self.fontMetrics()
        button = QSize(max(24, metrics.horizontalAdvance("+") + 14), max(22, metrics.height() + 6))
        groups = (self.layers, *self.units.values())
        for group in groups:
            group.minus.setFixedSize(button)
            group.plus.setFixedSize(button)
        boxes = [box.sizeHint().height() for box in self.activations.values()]
        self._row = max([ROW, button.height() + 4, self.open_editor.sizeHint().height(), *boxes])
        self.setFixedHeight(self._rows * self._row + 4 * self._rows)
        for group in groups:
            group.adjustSize()
        self._place()

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            QTimer.singleShot(0, self._restyle)     # after the children have taken the new font

    # -- placing the groups over their columns ------------------------------------------------
    def place(self, map_x: Callable[[float], float]) -> None:
        """``map_x`` turns a scene x into this widget's x (the view's zoom may have changed)."""
        self._map_x = map_x
        self._place()

    def _pitch(self) -> float:
        """Pixels between neighbouring hidden columns (any width if there is one)."""
        xs = sorted(self._map_x(x) for _, x in self._columns)
        return min((b - a for a, b in zip(xs, xs[1:])), default=float(self.width()))

    def _place(self) -> None:
        self.layers.move(max(0, (self.width() - self.layers.width()) // 2), 4)
        if self._map_x is None or not self._columns:
            return
        room = self._pitch() - APART
        groups = self.units.values()
        captions = next((pick for pick in (lambda g: g.full, lambda g: g.short, lambda g: "")
                         if all(g.width_for(pick(g)) <= room for g in groups)), lambda g: "")
        for node_id, x in self._columns:
            centre = self._map_x(x)
            group = self.units[node_id]
            group.show_caption(captions(group))
            group.move(int(centre - group.width() / 2), self._row + 8)
            box = self.activations[node_id]
            box.setFixedWidth(int(max(40, min(max(BOX_WIDTH, box.sizeHint().width()), room))))
            box.move(int(centre - box.width() / 2), 2 * self._row + 12)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place()
