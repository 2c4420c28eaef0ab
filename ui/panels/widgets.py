"""Small factories so every control gets its accessible name and tooltip in one place."""
from __future__ import annotations

import contextlib

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QComboBox


def combo(name: str, tip: str, items=(), editable: bool = False) -> QComboBox:
    """``items``: (text, data, tooltip) triples; the box's tooltip follows the chosen item."""
    box = QComboBox()
    box.setAccessibleName(name)
    box.setToolTip(tip)
    box.setProperty("general_tip", tip)
    box.setEditable(editable)
    if editable:
        box.lineEdit().setAccessibleName(name)
        box.lineEdit().setToolTip(tip)
        validator = QDoubleValidator(box)
        validator.setNotation(QDoubleValidator.ScientificNotation)
        validator.setLocale(QLocale.c())
        box.lineEdit().setValidator(validator)
        box.setInsertPolicy(QComboBox.NoInsert)
    for text, data, item_tip in items:
        box.addItem(text, data)
        if item_tip:
            box.setItemData(box.count() - 1, item_tip, Qt.ToolTipRole)
    box.currentIndexChanged.connect(lambda _=0, b=box: _follow_tip(b))
    _follow_tip(box)
    return box


def _follow_tip(box: QComboBox) -> None:
    item_tip = box.currentData(Qt.ToolTipRole)
    general = box.property("general_tip")
    box.setToolTip(f"{general}\n\n{box.currentText()}: {item_tip}" if item_tip else general)


@contextlib.contextmanager
def signals_blocked(*widgets):
    """Change ``widgets`` from code without their change signals firing (a refresh from
    the project, not a user's edit); signals resume even if the body raises."""
    previous = [w.blockSignals(True) for w in widgets]
    try:
        yield
    finally:
        for w, was in zip(widgets, previous):
            w.blockSignals(was)


def select(box: QComboBox, data) -> None:
    """Show ``data`` in ``box`` without emitting signals (for refreshing from a project)."""
    with signals_blocked(box):
        index = box.findData(data)
        if index >= 0:
            box.setCurrentIndex(index)
        elif box.isEditable():
            box.setEditText(f"{data:g}" if isinstance(data, (int, float)) else str(data))
    _follow_tip(box)

