"""The neuron view's text, at the widget's font size whatever the diagram's zoom.

The diagram is scaled to fit its widget, so text drawn in scene units shrank with
it (six hidden layers: ~6 px).  Each label here ignores the view's zoom
(``ItemIgnoresTransformations``): it is anchored at a scene point (a column's top, an
input neuron's left side) and laid out around it in screen pixels.  The zoom is
then the largest at which the neurons, the edges and every label fit the widget,
and captions that would run into each other break after the node id.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QFont, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSimpleTextItem

ABOVE, LEFT, BELOW = "above", "left", "below"     # where a label sits around its anchor
GAP = 4.0            # screen pixels between a label and the neuron it names
MARGIN = 6.0         # screen pixels around the whole drawing
MIN_POINTS = 8.0     # never smaller, even if the application's font is
MIN_SCALE = 0.05
APART = 8.0          # screen pixels kept between two labels (else captions break in two)


def readable(font: QFont) -> QFont:
    """``font``, but at least MIN_POINTS (or 11 px for a font sized in pixels)."""
    font = QFont(font)
    if font.pointSizeF() > 0:
        font.setPointSizeF(max(font.pointSizeF(), MIN_POINTS))
    elif font.pixelSize() > 0:
        font.setPixelSize(max(font.pixelSize(), 11))
    return font


@dataclass
class _Label:
    item: QGraphicsSimpleTextItem
    anchor: QPointF
    side: str
    wide: str        # the text on one line
    narrow: str      # the text when neighbouring captions would touch


class DiagramLabels:
    def __init__(self, scene: QGraphicsScene, font: QFont, brush: QBrush):
        self.scene = scene
        self.font, self.brush = readable(font), brush
        self.labels: list[_Label] = []
        self.narrow = False

    @property
    def items(self) -> list[QGraphicsSimpleTextItem]:
        return [label.item for label in self.labels]

    def add(self, text: str, anchor: QPointF, side: str, narrow: str | None = None) -> None:
        item = self.scene.addSimpleText(text, self.font)       # factory-made: paints without Python
        item.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        item.setBrush(self.brush)
        item.setZValue(4)
        item.setPos(anchor)
        self.labels.append(_Label(item, anchor, side, text, narrow or text))
        self._lay_out(self.labels[-1])

    def set_font(self, font: QFont) -> None:
        self.font = readable(font)
        for label in self.labels:
            label.item.setFont(self.font)
            self._lay_out(label)

    def set_brush(self, brush: QBrush) -> None:
        self.brush = brush
        for label in self.labels:
            label.item.setBrush(brush)

    @staticmethod
    def _lay_out(label: _Label) -> None:
        box = label.item.boundingRect()
        w, h = box.width(), box.height()
        dx, dy = {ABOVE: (-w / 2, -h - GAP), LEFT: (-w - GAP, -h / 2), BELOW: (-w / 2, GAP / 2)}[label.side]
        label.item.setTransform(QTransform.fromTranslate(dx, dy))

    def _set_narrow(self, narrow: bool) -> None:
        if narrow != self.narrow:
            self.narrow = narrow
            for label in self.labels:
                if label.narrow != label.wide:
                    label.item.setText(label.narrow if narrow else label.wide)
                    self._lay_out(label)

    # -- fitting ---------------------------------------------------------------------------
    def _boxes(self) -> np.ndarray:
        """[n, 6]: anchor x, anchor y (scene), then offset x, y, width, height (pixels)."""
        rows = []
        for label in self.labels:
            t, box = label.item.transform(), label.item.boundingRect()
            rows.append((label.anchor.x(), label.anchor.y(), t.dx(), t.dy(), box.width(), box.height()))
        return np.array(rows, dtype=float).reshape(-1, 6)

    @staticmethod
    def _extent(scale: float, content: QRectF, boxes: np.ndarray) -> tuple[float, float, float, float]:
        """Left, top, right, bottom in pixels of everything drawn at ``scale``."""
        x = boxes[:, 0] * scale + boxes[:, 2]
        y = boxes[:, 1] * scale + boxes[:, 3]
        return (float(np.min(x, initial=content.left() * scale)), float(np.min(y, initial=content.top() * scale)),
                float(np.max(x + boxes[:, 4], initial=content.right() * scale)),
                float(np.max(y + boxes[:, 5], initial=content.bottom() * scale)))

    def _largest_scale(self, content: QRectF, width: float, height: float, max_scale: float) -> float:
        boxes = self._boxes()

        def fits(scale: float) -> bool:
            left, top, right, bottom = self._extent(scale, content, boxes)
            return right - left <= width - 2 * MARGIN and bottom - top <= height - 2 * MARGIN

        if fits(max_scale):
            return max_scale
        low, high = MIN_SCALE, max_scale       # what fits is an interval from small scales up
        for _ in range(30):
            middle = (low + high) / 2
            low, high = (middle, high) if fits(middle) else (low, middle)
        return low

    def _overlapping(self, scale: float) -> bool:
        boxes = self._boxes()
        left = boxes[:, 0] * scale + boxes[:, 2] - APART / 2
        top = boxes[:, 1] * scale + boxes[:, 3]
        right, bottom = left + boxes[:, 4] + APART, top + boxes[:, 5]
        hit = ((left[:, None] < right[None, :]) & (left[None, :] < right[:, None])
               & (top[:, None] < bottom[None, :]) & (top[None, :] < bottom[:, None]))
        np.fill_diagonal(hit, False)
        return bool(hit.any())

    def fit(self, content: QRectF, width: float, height: float, max_scale: float) -> tuple[float, QRectF]:
        """The zoom at which ``content`` (scene) and every label fit ``width`` x ``height``
        pixels, and the scene rectangle that holds them all at that zoom."""
        self._set_narrow(False)
        scale = self._largest_scale(content, width, height, max_scale)
        if self._overlapping(scale) and any(label.narrow != label.wide for label in self.labels):
            self._set_narrow(True)
            scale = self._largest_scale(content, width, height, max_scale)
        return scale, self.drawing(scale, content)

    def drawing(self, scale: float, content: QRectF) -> QRectF:
        """The scene rectangle that holds ``content`` and every label at ``scale``, with a margin."""
        left, top, right, bottom = self._extent(scale, content, self._boxes())
        padded = QRectF(left - MARGIN, top - MARGIN, right - left + 2 * MARGIN, bottom - top + 2 * MARGIN)
        return QRectF(padded.x() / scale, padded.y() / scale, padded.width() / scale, padded.height() / scale)
