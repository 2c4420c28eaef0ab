"""The canvas: zoom on the wheel, pan with the middle button or space-drag, a grid,
rubber-band selection, and drops from the block palette.

Zoom and pan are the user's: edits and tab switches leave them alone.  The view
fits the drawing only when asked (``fit``: the Fit action) or for a new network
(``request_fit``, done when the canvas is first on screen at its real size).  A
fit never zooms out so far that block text drops below ``MIN_TEXT_PIXELS``: a
drawing too big for the canvas is shown from its input side, the rest a pan away.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsView

from ui.editor.items import SMALLEST_TEXT_POINTS
from ui.editor.model import DEFAULT_NODES
from ui.editor.scene import GRID, EditorScene

MIME_TYPE = "application/x-nn-playground-block"
MIN_SCALE, MAX_SCALE = 0.2, 3.0
ZOOM_STEP = 1.15
DROPPABLE = (*DEFAULT_NODES, "output")
MIN_TEXT_PIXELS = 8.0       # a fit keeps the smallest block text at least this tall
FIT_MARGIN = 40.0


class EditorView(QGraphicsView):
    zoom_changed = Signal(float)
    status_message = Signal(str)

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
                        "drag on empty canvas: select several; F: fit.")
        self._pan_from: QPointF | None = None
        self._space_down = False
        self._fit_pending = True        # a new drawing waits for the canvas's real size
        self._fitted = False            # the view shows the last fit; the user has not used the canvas since
        self._fit_transform = QTransform()

    # -- zoom and fit -------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        target = min(MAX_SCALE, max(MIN_SCALE, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1.0) > 1e-9:
            self.scale(factor, factor)
            self._fitted = False
            self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP ** steps)
        event.accept()

    def readable_scale(self) -> float:
        """The zoom at which the smallest text on a block is ``MIN_TEXT_PIXELS`` tall."""
        text_pixels = SMALLEST_TEXT_POINTS * self.logicalDpiY() / 72.0
        return min(1.0, max(MIN_SCALE, MIN_TEXT_PIXELS / text_pixels))

    def request_fit(self) -> None:
        """Fit a new drawing: now if the canvas is on screen, else when it is first shown."""
        self._fit_pending = True
        if self.isVisible():
            self.fit()

    def fit(self, quiet: bool = False) -> None:
        """Show every block, no larger than 1:1 and no smaller than readable; a drawing
        that does not fit is shown from its left (input) side, centred vertically, and
        (unless ``quiet``) ``status_message`` says how to reach the rest."""
        scene: EditorScene = self.scene()
        rect = QRectF()
        for block in scene.blocks.values():
            rect = rect.united(block.sceneBoundingRect())
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        size = self.viewport().size()
        whole = min(size.width() / rect.width(), size.height() / rect.height(), 1.0)
        scale = max(whole, self.readable_scale())
        self._fit_transform = QTransform.fromScale(scale, scale)
        self.setTransform(self._fit_transform)
        shown_width = size.width() / scale
        x = rect.left() + shown_width / 2 if rect.width() > shown_width else rect.center().x()
        self.centerOn(QPointF(x, rect.center().y()))
        self._fit_pending, self._fitted = False, True
        self.zoom_changed.emit(self.zoom())
        if scale > whole and not quiet:
            self.status_message.emit("The network is larger than the canvas at a readable size: pan with the "
                                     "middle button or Space + drag, or zoom out with the wheel")

    def showEvent(self, event):
        super().showEvent(event)
        if self._fit_pending:
            self.fit()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # Until the user zooms, pans or clicks on the canvas, the view keeps showing the
        # fitted drawing (the window is still settling its size, a dock was moved).
        fitted = self._fitted and self.transform() == self._fit_transform     # not zoomed by code either
        if self.isVisible() and (self._fit_pending or fitted):
            self.fit(quiet=not self._fit_pending)

    # -- pan: middle button, or space held with the left button -------------------------
    def _panning(self, event) -> bool:
        return event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space_down)

    def mousePressEvent(self, event):
        self._fitted = False        # the user works on the canvas: a resize no longer refits it
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
        if event.key() == Qt.Key_F and event.modifiers() == Qt.NoModifier:
            self.fit()      # F on the canvas only: in the property fields it is a letter
            event.accept()
            return
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
        self._fitted = False
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
