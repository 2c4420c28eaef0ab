"""Typing into the number fields does what was typed, and Space still plays."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import WAIT_MS


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=WAIT_MS)
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key_Return)


@pytest.mark.parametrize("typed,expected", [("1", 1.0), ("3", 3.0), ("0.5", 0.5), ("1e-3", 0.001)])
def test_typed_learning_rate_is_the_learning_rate(qtbot, window, typed, expected):
    """Old: typing 1 + Enter gave 1e-05, the first preset starting with "1"."""
    box = window.training_panel.learning_rate
    with qtbot.waitSignal(window.controller.frame_ready, timeout=WAIT_MS,
                          check_params_cb=lambda f: f.snapshot.lr == expected):
        type_into(qtbot, box.lineEdit(), typed)
    assert window.keeper.project.training["optimizer"]["lr"] == expected
    assert float(box.lineEdit().text()) == expected


def test_typed_regularisation_rate(qtbot, window):
    panel = window.training_panel
    panel.regularization.setCurrentIndex(panel.regularization.findData("l2"))
    qtbot.waitUntil(lambda: window.keeper.project.training["regularization"]["kind"] == "l2", timeout=WAIT_MS)
    type_into(qtbot, panel.regularization_rate.lineEdit(), "1")
    qtbot.waitUntil(lambda: window.keeper.project.training["regularization"]["rate"] == 1.0, timeout=WAIT_MS)


def test_space_in_a_number_field_plays_and_leaves_the_number(qtbot, window):
    field = window.training_panel.learning_rate.lineEdit()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=WAIT_MS)
    before = field.text()
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS, check_params_cb=lambda r: r):
        qtbot.keyClick(field, Qt.Key_Space)
    assert field.text() == before
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS, check_params_cb=lambda r: not r):
        qtbot.keyClick(field, Qt.Key_Space)
