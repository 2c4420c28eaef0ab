"""Small factories so every control gets its accessible name and tooltip in one place."""
from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QLocale, QObject, Qt
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QComboBox, QFrame, QScrollArea, QVBoxLayout, QWidget


class _SpaceIsNotText(QObject):
    """Lets Space reach the window's Play shortcut from a field that holds a number.

    A text field claims every printable key before shortcuts see it; a number has
    no use for a space, and a learner expects Space to play wherever the focus is."""

    def eventFilter(self, obj, event):
        if event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_Space and not event.modifiers():
            event.ignore()              # not ours: the shortcut system takes it
            return True
        return False


_SPACE_FILTER = _SpaceIsNotText()


def space_plays(field: QWidget) -> None:
    """Install the Space pass-through on a numeric field (see _SpaceIsNotText)."""
    field.installEventFilter(_SPACE_FILTER)


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
        # No inline completion: typing "1" must mean 1, not the first preset that
        # starts with "1" (1e-05) with the rest selected, accepted by Enter.
        box.setCompleter(None)
        space_plays(box.lineEdit())
        space_plays(box)            # an ignored override goes on to the box, which would claim it
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



def scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless vertical scroll area: on a small screen it scrolls
    instead of squeezing its text into clipped lines."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area


def fill_with(panel: QWidget, content: QWidget) -> None:
    """Make the scrolling ``content`` the whole of ``panel``."""
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scrolling(content))
