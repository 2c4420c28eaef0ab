"""Which plane data with many inputs is drawn on: its principal plane, or two chosen
inputs with the others held at their mean (playground.frames.plane_of).

A combo box in the output map's option row; "Two inputs…" asks for the pair in a
small dialog.  The choice travels to the engine as None (principal plane) or a
pair of input names.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout

PRINCIPAL, PAIR, ASK = "principal", "pair", "ask"


class PairDialog(QDialog):
    def __init__(self, names, current=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Draw the output over two inputs")
        self.across, self.up = QComboBox(), QComboBox()
        for box, name, default in ((self.across, "Input across", 0), (self.up, "Input up", 1)):
            box.addItems(list(names))
            box.setAccessibleName(name)
            box.setToolTip(f"{name}: its real values on that axis; every other input is held at its mean.")
            box.setCurrentIndex(list(names).index(current[default]) if current else min(default, len(names) - 1))
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setAccessibleName("Use these inputs")
        self.buttons.button(QDialogButtonBox.Cancel).setAccessibleName("Keep the plane")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.across.currentIndexChanged.connect(self._check)
        self.up.currentIndexChanged.connect(self._check)
        form = QFormLayout(self)
        form.addRow("Across", self.across)
        form.addRow("Up", self.up)
        form.addRow(self.buttons)
        self._check()

    def _check(self) -> None:
        # The same input twice is no plane.
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(self.across.currentIndex() != self.up.currentIndex())

    def pair(self) -> tuple[str, str]:
        return self.across.currentText(), self.up.currentText()


class PlaneChoice(QObject):
    """The combo box (``box``) and what it asks for (``requested``: None or a pair)."""

    requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.box = QComboBox()
        self.box.setAccessibleName("Plane")
        self.box.setToolTip("Which plane of a data set with many inputs the output is drawn over: the two "
                            "directions the data spreads most (principal components), or two inputs you "
                            "choose with the others held at their mean.")
        self._names: tuple[str, ...] = ()
        self._pair: tuple[str, str] | None = None
        self.box.activated.connect(self._activated)
        self.set_inputs(())

    def set_inputs(self, names) -> None:
        """A new data set: its inputs, and back to the principal plane (asked for, if a
        pair was chosen, so the engine does not keep a pair of the old data's inputs)."""
        had_pair = self._pair is not None
        self._names, self._pair = tuple(names), None
        self._fill()
        self.box.setVisible(len(self._names) > 2)
        if had_pair:
            self.requested.emit(None)

    def _fill(self) -> None:
        self.box.blockSignals(True)
        self.box.clear()
        self.box.addItem("Principal plane", PRINCIPAL)
        if self._pair is not None:
            self.box.addItem(f"{self._pair[0]} × {self._pair[1]}", PAIR)
        self.box.addItem("Two inputs…", ASK)
        self.box.setCurrentIndex(1 if self._pair is not None else 0)
        self.box.blockSignals(False)

    def _activated(self, _index: int) -> None:
        kind = self.box.currentData()
        if kind == ASK:
            dialog = PairDialog(self._names, self._pair, self.box.window())
            if dialog.exec() == QDialog.Accepted:
                self._pair = dialog.pair()
                self.requested.emit(self._pair)
            self._fill()
        elif kind == PRINCIPAL and self._pair is not None:
            self._pair = None
            self._fill()
            self.requested.emit(None)
