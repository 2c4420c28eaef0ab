"""The block palette: drag an entry onto the canvas to add that block.

A drag carries the block type under ``MIME_TYPE`` (QDrag), so the canvas is the only
place that decides what a drop does.  Double-clicking an entry asks for the block
to be added at the centre of the canvas (``block_requested``), for keyboard users.
"""
from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from ui.editor.items import COLORS
from ui.editor.view import MIME_TYPE

BLOCKS = (
    ("input", "Input", "The data's features enter the network here (one per network)."),
    ("dense", "Dense", "A fully connected layer: units, activation and initialiser."),
    ("activation", "Activation", "Applies a transfer function element-wise (relu, tanh, ...)."),
    ("dropout", "Dropout", "Zeroes each value with probability p while training."),
    ("add", "Add", "Element-wise sum of two or more inputs of equal width (residual links)."),
    ("concat", "Concat", "Joins two or more inputs side by side, in the order they were wired."),
    ("output", "Output marker", "Drop onto a block to make its value the network's prediction."),
)
KIND_ROLE = Qt.UserRole


def _swatch(kind: str) -> QIcon:
    body, band = COLORS.get(kind, ("#ffffff", "#303030"))
    pixmap = QPixmap(QSize(22, 16))
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(QColor("#5a5a5a"))
    painter.setBrush(QColor(body))
    painter.drawRoundedRect(1, 1, 20, 14, 3, 3)
    painter.fillRect(2, 2, 19, 5, QColor(band))
    painter.end()
    return QIcon(pixmap)


def mime_for(kind: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(MIME_TYPE, kind.encode())
    mime.setText(kind)
    return mime


class BlockPalette(QListWidget):
    block_requested = Signal(str)
    drag_started = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setIconSize(QSize(22, 16))
        self.setAccessibleName("Block palette")
        self.setToolTip("Drag a block onto the canvas to add it (or double-click it to add it in the middle).")
        for kind, label, tip in BLOCKS:
            item = QListWidgetItem(_swatch(kind), label)
            item.setData(KIND_ROLE, kind)
            item.setToolTip(tip)
            item.setData(Qt.AccessibleTextRole, label)
            item.setData(Qt.AccessibleDescriptionRole, tip)
            self.addItem(item)
        self.itemActivated.connect(lambda item: self.block_requested.emit(item.data(KIND_ROLE)))
        self.setFixedWidth(self.sizeHintForColumn(0) + 2 * self.frameWidth() + 8)

    def startDrag(self, supported_actions):
        item = self.currentItem()
        if item is None:
            return
        kind = item.data(KIND_ROLE)
        drag = QDrag(self)
        drag.setMimeData(mime_for(kind))
        drag.setPixmap(item.icon().pixmap(QSize(22, 16)))
        self.drag_started.emit(kind)
        drag.exec(Qt.CopyAction)
