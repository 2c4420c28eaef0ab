"""A small form built from a dict of defaults (an optimiser's or a schedule's).

Numbers get a line edit (so 1e-8 can be typed), flags a check box, pairs two
line edits.  ``values()`` returns the current settings; ``changed`` fires when
the user finishes an edit.  The engine validates the values, not this form.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QLocale, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLineEdit, QWidget

from ui.panels.explanations import HYPER_TIPS
from ui.panels.widgets import signals_blocked, space_plays


def _number_text(value) -> str:
    return "" if value is None else f"{value:g}"


def _parse(text: str, like):
    value = float(text)
    return int(value) if isinstance(like, int) and not isinstance(like, bool) and value.is_integer() else value


class HyperForm(QWidget):
    changed = Signal()

    def __init__(self, owner: str, parent=None):
        super().__init__(parent)
        self.owner = owner      # "optimiser" or "schedule": used in accessible names
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(12, 0, 0, 0)
        self._fields: dict[str, tuple[Any, list]] = {}
        self.name = None

    def build(self, name: str, defaults: dict, current: dict, skip=("lr",)) -> None:
        """One row per parameter of ``name``; widgets are rebuilt only when ``name`` changes."""
        if name == self.name:
            self.set_values(current)
            return
        self.name = name
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self._fields = {}
        for key, default in defaults.items():
            if key in skip:
                continue
            value = current.get(key, default)
            tip = HYPER_TIPS.get(key, key)
            if isinstance(default, bool):
                widget = QCheckBox()
                widget.setChecked(bool(value))
                widget.toggled.connect(self.changed)
                editors = [widget]
            elif isinstance(default, (tuple, list)):
                editors = [self._line(_number_text(v), f"{key} [{i}]", tip) for i, v in enumerate(value)]
                widget = QWidget()
                row = QHBoxLayout(widget)
                row.setContentsMargins(0, 0, 0, 0)
                for e in editors:
                    row.addWidget(e)
            else:
                widget = self._line(_number_text(value), key, tip)
                editors = [widget]
            for e in editors:
                e.setToolTip(tip)
                if not e.accessibleName():
                    e.setAccessibleName(f"{self.owner} {key}")
            self._layout.addRow(key, widget)
            self._fields[key] = (default, editors)

    def _line(self, text: str, name: str, tip: str) -> QLineEdit:
        edit = QLineEdit(text)
        validator = QDoubleValidator(edit)
        validator.setNotation(QDoubleValidator.ScientificNotation)
        validator.setLocale(QLocale.c())   # "0.9" everywhere, as float() reads it
        edit.setValidator(validator)
        edit.setAccessibleName(f"{self.owner} {name}")
        edit.setToolTip(tip)
        edit.setMaximumWidth(90)
        space_plays(edit)
        edit.editingFinished.connect(self._finished)
        edit.setProperty("last", text)
        return edit

    def _finished(self) -> None:
        edit = self.sender()
        # editingFinished also fires on focus loss without a change: only real edits count.
        if edit is not None and edit.text() != edit.property("last"):
            edit.setProperty("last", edit.text())
            self.changed.emit()

    def set_values(self, current: dict) -> None:
        for key, (default, editors) in self._fields.items():
            value = current.get(key, default)
            values = list(value) if isinstance(default, (tuple, list)) else [value]
            for e, v in zip(editors, values):
                with signals_blocked(e):
                    if isinstance(e, QCheckBox):
                        e.setChecked(bool(v))
                    else:
                        e.setText(_number_text(v))
                        e.setProperty("last", e.text())

    def values(self) -> dict:
        """Current settings; a blank or unparsable box falls back to the default."""
        out = {}
        for key, (default, editors) in self._fields.items():
            try:
                if isinstance(default, bool):
                    out[key] = editors[0].isChecked()
                elif isinstance(default, (tuple, list)):
                    out[key] = [_parse(e.text(), d) for e, d in zip(editors, default)]
                else:
                    out[key] = None if not editors[0].text() and default is None else _parse(editors[0].text(), default)
            except ValueError:
                out[key] = default
        return {k: v for k, v in out.items() if v is not None}
