"""What the editor's scene draws: blocks, their ports, wires and a transient notice.

Items only draw and report geometry; they never edit the model.  A block's local
origin is its centre, so its position is the ``layout`` entry of its node.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QStyle

WIDTH, HEIGHT = 150.0, 60.0
HEADER = 26.0
PORT_RADIUS = 7.0
# Font sizes on a block, in points at zoom 1; the view never fits the drawing so
# small that the smallest of them drops below a readable size.
TITLE_POINTS, BODY_POINTS, BADGE_POINTS = 11.5, 10.5, 10.0
SMALLEST_TEXT_POINTS = min(TITLE_POINTS, BODY_POINTS, BADGE_POINTS)
BADGE_HEIGHT = 19.0
INVALID = QColor("#d62728")
SELECTED = QColor("#0877bd")
OUTLINE = QColor("#5a5a5a")
TEXT = QColor("#1b1b1b")
WIRE = QColor("#7a7a7a")
# (body, header band) per node type
COLORS = {
    "input": ("#e6f4ea", "#8cc79b"),
    "dense": ("#e3eefa", "#7fb0e0"),
    "activation": ("#f1e8fa", "#b896dd"),
    "dropout": ("#eeeeee", "#a8a8a8"),
    "add": ("#fdeede", "#f0ad68"),
    "concat": ("#e0f5f3", "#6cc3b8"),
}


def subtitle(node: dict) -> str:
    """A one-line summary of a node's fields: 'dense 8 tanh', 'dropout p=0.5'."""
    kind = node["type"]
    alpha = f" α={node['alpha']:g}" if "alpha" in node else ""
    if kind == "dense":
        return f"dense {node.get('units', '?')} {node.get('activation', 'linear')}{alpha}"
    if kind == "activation":
        return f"activation {node.get('fn', '?')}{alpha}"
    if kind == "dropout":
        return f"dropout p={node.get('p', 0.5):g}"
    return {"add": "add (sum)", "concat": "concat (join)"}.get(kind, kind)


class PortItem(QGraphicsEllipseItem):
    """An input (left) or output (right) connector of a block."""

    def __init__(self, block: "BlockItem", is_input: bool):
        super().__init__(-PORT_RADIUS, -PORT_RADIUS, 2 * PORT_RADIUS, 2 * PORT_RADIUS, block)
        self.block, self.is_input = block, is_input
        self.setPos(-WIDTH / 2 if is_input else WIDTH / 2, 0)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CrossCursor)
        self.setToolTip("Input: drag a wire from here to another block's output" if is_input else
                        "Output: drag from here to another block's input to connect them")
        self.set_highlight(None)

    def set_highlight(self, state: str | None) -> None:
        """None: plain; 'candidate': a compatible end while wiring; 'snap': the end the wire will take."""
        fill = {"candidate": "#b7e0c0", "snap": "#2ca02c"}.get(state, "#ffffff")
        self.setBrush(QBrush(QColor(fill)))
        self.setPen(QPen(QColor("#2ca02c") if state else OUTLINE, 2.0 if state else 1.4))

    def hoverEnterEvent(self, event):
        self.setScale(1.3)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event):
        self.setScale(1.0)
        super().hoverLeaveEvent(event)


class BlockItem(QGraphicsItem):
    """One node: a rounded box titled with its id, its fields below, ports on the sides."""

    def __init__(self, node: dict):
        super().__init__()
        self.node_id = node["id"]
        self.node = node
        self.is_output = False
        self.problem: str | None = None
        self.wires: list["WireItem"] = []
        self.setFlags(QGraphicsItem.ItemIsMovable | QGraphicsItem.ItemIsSelectable |
                      QGraphicsItem.ItemSendsGeometryChanges | QGraphicsItem.ItemIsFocusable)
        # Text is the costly part of painting: cache the block as a pixmap, so moving
        # it only blits.
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.setZValue(1)
        self.in_port = PortItem(self, True) if node["type"] != "input" else None
        self.out_port = PortItem(self, False)
        self._update_tooltip()

    # -- state from the model -----------------------------------------------------------
    def set_node(self, node: dict) -> None:
        self.node_id, self.node = node["id"], node
        self._update_tooltip()
        self.update()

    def set_output(self, is_output: bool) -> None:
        if is_output != self.is_output:
            self.prepareGeometryChange()
            self.is_output = is_output
            self._update_tooltip()
            self.update()

    def set_problem(self, reason: str | None) -> None:
        if reason != self.problem:
            self.problem = reason
            self._update_tooltip()
            self.update()

    def _update_tooltip(self) -> None:
        lines = [f"{self.node_id}: {subtitle(self.node)}"]
        if self.node["type"] == "dense":
            lines.append(f"initialiser {_init_name(self.node.get('init', 'glorot_uniform'))}")
        if self.node["type"] == "concat":
            lines.append("inputs are joined in the order their wires were made")
        if self.is_output:
            lines.append("this block's value is the network's prediction")
        if self.problem:
            lines.insert(0, f"Problem: {self.problem}")
        self.setToolTip("\n".join(lines))

    # -- geometry and painting --------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        top = BADGE_HEIGHT + 5.0 if self.is_output else 4.0
        return QRectF(-WIDTH / 2 - 4, -HEIGHT / 2 - top, WIDTH + 8, HEIGHT + top + 4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-WIDTH / 2, -HEIGHT / 2, WIDTH, HEIGHT), 8, 8)
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        body, band = COLORS.get(self.node["type"], ("#ffffff", "#cccccc"))
        rect = QRectF(-WIDTH / 2, -HEIGHT / 2, WIDTH, HEIGHT)
        painter.setRenderHint(QPainter.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(rect, 8, 8)
        painter.fillPath(path, QColor(body))
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width(), HEADER), QColor(band))
        painter.restore()
        if self.problem:
            pen = QPen(INVALID, 3.0)
        elif self.isSelected():
            pen = QPen(SELECTED, 2.5)
        else:
            pen = QPen(OUTLINE, 1.2)
        painter.setPen(pen)
        painter.drawPath(path)
        title = QFont(painter.font())
        title.setBold(True)
        title.setPointSizeF(TITLE_POINTS)
        painter.setFont(title)
        painter.setPen(TEXT)
        text_rect = QRectF(rect.left() + 12, rect.top(), rect.width() - 40, HEADER)
        painter.drawText(text_rect, Qt.AlignVCenter | Qt.AlignLeft,
                         QFontMetricsF(title).elidedText(self.node_id, Qt.ElideRight, text_rect.width()))
        plain = QFont(painter.font())
        plain.setBold(False)
        plain.setPointSizeF(BODY_POINTS)
        painter.setFont(plain)
        sub_rect = QRectF(rect.left() + 12, rect.top() + HEADER, rect.width() - 24, rect.height() - HEADER)
        painter.drawText(sub_rect, Qt.AlignVCenter | Qt.AlignLeft,
                         QFontMetricsF(plain).elidedText(subtitle(self.node), Qt.ElideRight, sub_rect.width()))
        if self.is_output:
            self._paint_badge(painter, rect)
        if self.problem:
            self._paint_warning(painter, rect)

    def _paint_warning(self, painter: QPainter, rect: QRectF) -> None:
        mark = QRectF(rect.right() - 24, rect.top() + 4, 18, 18)
        painter.setPen(Qt.NoPen)
        painter.setBrush(INVALID)
        painter.drawEllipse(mark)
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(BADGE_POINTS)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(mark, Qt.AlignCenter, "!")

    def _paint_badge(self, painter: QPainter, rect: QRectF) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(BADGE_POINTS)
        painter.setFont(font)
        width = QFontMetricsF(font).horizontalAdvance("OUTPUT") + 14
        badge = QRectF(rect.right() - width - 6, rect.top() - BADGE_HEIGHT - 2, width, BADGE_HEIGHT)
        painter.setPen(Qt.NoPen)
        painter.setBrush(SELECTED.darker(115))
        painter.drawRoundedRect(badge, BADGE_HEIGHT / 2, BADGE_HEIGHT / 2)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(badge, Qt.AlignCenter, "OUTPUT")

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and self.scene() is not None:
            return self.scene().snapped(value, self)
        if change == QGraphicsItem.ItemPositionHasChanged:
            for wire in self.wires:
                wire.update_path()
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self.update()
        return super().itemChange(change, value)


def block_footprint(centre: QPointF) -> QRectF:
    """The scene area a block centred at ``centre`` may cover (with an output badge)."""
    return QRectF(centre.x() - WIDTH / 2 - 4, centre.y() - HEIGHT / 2 - BADGE_HEIGHT - 5, WIDTH + 8,
                  HEIGHT + BADGE_HEIGHT + 9)


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A horizontal S-curve from an output port to an input port."""
    bend = max(40.0, abs(end.x() - start.x()) / 2)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    return path


class WireItem(QGraphicsPathItem):
    """An edge from ``src`` block's output port to ``dst`` block's input port."""

    def __init__(self, src: BlockItem, dst: BlockItem):
        super().__init__()
        self.src, self.dst = src, dst
        self.setFlag(QGraphicsItem.ItemIsSelectable)
        self.setZValue(0)
        self.setPen(QPen(WIRE, 2.2))
        src.wires.append(self)
        dst.wires.append(self)
        self.update_tooltip()
        self.update_path()

    @property
    def edge(self) -> tuple[str, str]:
        return self.src.node_id, self.dst.node_id

    def update_tooltip(self) -> None:
        self.setToolTip(f"Wire {self.src.node_id} → {self.dst.node_id} (select it and press Del to remove it)")

    def update_path(self) -> None:
        self.setPath(wire_path(self.src.out_port.scenePos(), self.dst.in_port.scenePos()))

    def detach(self) -> None:
        for block in (self.src, self.dst):
            if self in block.wires:
                block.wires.remove(self)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self.setPen(QPen(SELECTED if value else WIRE, 3.2 if value else 2.2))
        return super().itemChange(change, value)

    def paint(self, painter, option, widget=None):
        # The pen shows the selection; skip Qt's dashed selection box around the curve.
        option.state &= ~QStyle.State_Selected
        super().paint(painter, option, widget)


class DragWire(QGraphicsPathItem):
    """The wire that follows the mouse while connecting; dashed until it snaps."""

    def __init__(self):
        super().__init__()
        self.setZValue(3)
        self.set_snapped(False)

    def set_snapped(self, snapped: bool) -> None:
        self.setPen(QPen(QColor("#2ca02c") if snapped else WIRE, 2.4, Qt.SolidLine if snapped else Qt.DashLine))

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        self.setPath(wire_path(start, end))


class NoticeItem(QGraphicsItem):
    """A short message on the canvas (why a wire was refused); unscaled by zoom.

    Its size is in screen pixels: ``set_text`` wraps the text to a width that fits
    the canvas, and the scene places it so that all of it is on screen."""

    MAX_WIDTH = 360.0

    def __init__(self):
        super().__init__()
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        self.setZValue(10)
        self.text = ""
        self._wrap = self.MAX_WIDTH
        self._font = QFont()
        self._font.setPointSizeF(9)

    def set_text(self, text: str, width: float = MAX_WIDTH) -> None:
        """Show ``text`` wrapped to at most ``width`` pixels (the bubble's border included)."""
        self.prepareGeometryChange()
        self.text = text
        self._wrap = max(60.0, min(self.MAX_WIDTH, width - 16))

    def boundingRect(self) -> QRectF:
        metrics = QFontMetricsF(self._font)
        rect = metrics.boundingRect(QRectF(0, 0, self._wrap, 1000), Qt.TextWordWrap, self.text)
        return rect.adjusted(-8, -6, 8, 6).translated(12, 12)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        rect = self.boundingRect()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(INVALID, 1.2))
        painter.setBrush(QColor("#fff4f4"))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setFont(self._font)
        painter.setPen(QColor("#7a1010"))
        painter.drawText(rect.adjusted(8, 6, -8, -6), Qt.TextWordWrap, self.text)


def _init_name(init) -> str:
    return init if isinstance(init, str) else f"{init.get('name')} {', '.join(f'{k}={v}' for k, v in init.items() if k != 'name')}"
