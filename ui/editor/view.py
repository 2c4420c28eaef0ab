"""The canvas: zoom on the wheel, pan with the middle button or space-drag, a grid,
rubber-band selection, and drops from the block palette."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView

from ui.editor.model import DEFAULT_NODES
from ui.editor.scene import GRID, EditorScene

MIME_TYPE = "application/x-nn-playground-block"
MIN_SCALE, MAX_SCALE = 0.2, 3.0
ZOOM_STEP = 1.15
DROPPABLE = (*DEFAULT_NODES, "output")


class EditorView(QGraphicsView):
    zoom_changed = Signal(float)

    def __init__(self, scene: EditorScene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHint(QPainter.Antialiasing)
        self.setDragMode(QGraphicsView.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheBackground)
        self.setAcceptDrops(True)
        # The scene is much larger than the drawing so it can be panned anywhere; its
        # scroll bars would only show that size, so they are hidden (pan moves them).
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setAccessibleName("Network editor canvas")
        self.setToolTip("Drag blocks here from the palette. Drag from a block's right port to another block's "
                        "left port to wire them. Wheel: zoom; middle button or Space + drag: pan; "
                        "drag on empty canvas: select several.")
        self._pan_from: QPointF | None = None
        self._space_down = False

    # -- zoom and fit -------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) > 1e-9:
            self.scale(factor, factor)
            self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def fit(self) -> None:
        """Show every block, no larger than 1:1."""
        scene: EditorScene = self.scene()
        rect = QRectF()
        for block in scene.blocks.values():
            rect = rect.united(block.sceneBoundingRect())
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        self.resetTransform()
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        if self.zoom() < MIN_SCALE:
            self.zoom_by(MIN_SCALE / self.zoom())
        self.centerOn(rect.center())
        self.zoom_changed.emit(self.zoom())

    # -- pan: middle button, or space held with the left button -------------------------
    def _panning(self, event) -> bool:
        return event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space_down)

    def mousePressEvent(self, event):
        if self._panning(event):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space_down else Qt.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().setCursor(Qt.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # -- drops from the palette ---------------------------------------------------------
    @staticmethod
    def _dropped_kind(event) -> str | None:
        """The block type a drag carries, if it is one the editor knows."""
        if not event.mimeData().hasFormat(MIME_TYPE):
            return None
        kind = bytes(event.mimeData().data(MIME_TYPE)).decode(errors="replace")
        return kind if kind in DROPPABLE else None

    def dragEnterEvent(self, event):
        if self._dropped_kind(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event):
        kind = self._dropped_kind(event)
        if kind is None:
            event.ignore()
            return
        self.scene().drop_block(kind, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
        self.setFocus(Qt.OtherFocusReason)

    # -- grid ---------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.palette().base())
        if self.zoom() < 0.3:
            return
        light = self.palette().base().color().lightness() > 128
        lines = [(QColor("#dedede" if light else "#3c3c3c"), GRID * 5)]
        if self.zoom() >= 0.75:
            lines.insert(0, (QColor("#f0f0f0" if light else "#2e2e2e"), GRID))
        for color, every in lines:
            painter.setPen(QPen(color, 0))
            x = math.floor(rect.left() / every) * every
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += every
            y = math.floor(rect.top() / every) * every
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += every
