"""Non-blocking message boxes: a modal exec() would stall the event loop (and tests)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget, title: str, text: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    ok = box.button(QMessageBox.Ok)
    ok.setAccessibleName("OK")
    ok.setToolTip("Close this message")
    box.open()
    return box
