"""The backward-pass diagram: the network as columns of neurons, with one row's numbers.

A pure view: ``show_trace(trace, phase, focus)`` in, a picture out.  ``layout_diagram``
places every circle, edge and number for a size (plain data, so a test reads exactly
the numbers on screen from ``BackpropDiagram.shown_texts``); ``paintEvent`` draws it.
Which numbers appear follows the phase (engine/backward_trace.py names them):

* every phase: the row's features on the inputs;
* forward: z and a on each neuron, and w·a on the edges into the chosen one;
* backward: δ on each neuron too, and on the chosen neuron's edges to the next layer
  its terms w_kj·δ_k of the sum Σ_k w_kj δ_k;
* update: Δw = -lr δ_j a_i on the edges into the chosen neuron.

With more than COMPACT_UNITS units in a column, only the chosen neuron carries
numbers and no edge is labelled: the side text lists them instead.  Where texts would
overlap, the less telling one is left out (``_Placer``): the chosen neuron's numbers
first, then its edge labels, then each neuron's main number for the phase.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.panels.backprop_text import BACKWARD, FORWARD, UPDATE
from ui.panels.teaching_text import number
from ui.theme import NEGATIVE, POSITIVE

COMPACT_UNITS = 8           # more units than this in a column: numbers on the chosen neuron only
HEADER = 22                 # pixels above the columns for their names
MARGIN = 14
MAX_RADIUS, MIN_RADIUS = 13.0, 2.5
PICK_SLACK = 6.0            # a click this close to a circle picks it
EDGE_SHADES = 6             # faint edges come in this many strengths (one batch each)
MAX_FAINT_EDGES = 600       # a wider network draws only its strongest edges


@dataclass(frozen=True)
class ShownText:
    """One piece of text on the diagram: ``key`` says what it is, e.g. ("z", "h1", 2),
    ("edge", "h1", 2, 0) for the edge from unit 0 of h1's source into h1[2], or
    ("term", "h2", 1, 2) for the term w·δ of consumer unit 1 in h1[2]'s sum."""

    key: tuple
    text: str
    rect: QRectF


@dataclass
class DiagramLayout:
    centers: dict = field(default_factory=dict)     # (node id, unit) -> QPointF
    radius: float = MAX_RADIUS
    edges: list = field(default_factory=list)       # (from key, to key, weight or None, chosen)
    texts: list = field(default_factory=list)       # ShownText
    compact: bool = False


def _column_x(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [(left + right) / 2]
    return [left + k * (right - left) / (count - 1) for k in range(count)]


def _header(node) -> str:
    if node.kind == "input":
        return node.node
    if node.kind == "dropout":
        return f"{node.node} · dropout (off)"
    return f"{node.node} · {node.activation}"


def _values(node, unit: int, phase: int) -> list[tuple[str, str]]:
    """(kind, text) of the numbers a neuron carries in ``phase``, the one that matters most first."""
    if node.kind == "input":
        return [("x", f"x={number(node.a[unit])}")]
    if phase < FORWARD:
        return []
    shown = [("a", f"a={number(node.a[unit])}"), ("z", f"z={number(node.z[unit])}")]
    if phase >= BACKWARD and node.delta is not None:
        shown.insert(0, ("delta", f"δ={number(node.delta[unit])}"))
    return shown


ORDER = {"z": 0, "a": 1, "delta": 2, "x": 0}         # top to bottom beside a neuron


def _edge_labels(trace, focus: tuple[str, int], phase: int) -> list[tuple[tuple, tuple, tuple, str]]:
    """(key, from, to, text) for the chosen neuron's labelled edges in ``phase``."""
    node_id, j = focus
    node = trace.node(node_id)
    if phase in (FORWARD, UPDATE) and node.kind == "dense":
        values = node.contributions[j] if phase == FORWARD else node.weight_step[j]
        symbol = "w·a" if phase == FORWARD else "Δw"
        return [(("edge", node_id, j, i), (node.source, i), focus, f"{symbol}={number(v)}")
                for i, v in enumerate(values)]
    if phase == BACKWARD and node.consumer is not None and trace.node(node.consumer).kind == "dense":
        terms = node.back_terms[:, j]
        return [(("term", node.consumer, k, j), focus, (node.consumer, k), f"w·δ={number(v)}")
                for k, v in enumerate(terms)]
    return []


class _Placer:
    """Greedy label placement: texts in priority order, each kept only where it overlaps
    nothing kept before it (nor a neuron), so nothing on the diagram is unreadable."""

    def __init__(self, blocked: list[QRectF]):
        self._boxes = np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in blocked]).reshape(-1, 4)
        self.kept: list[ShownText] = []

    def offer(self, text: ShownText) -> None:
        r, b = text.rect, self._boxes
        if np.any((b[:, 0] < r.right()) & (b[:, 2] > r.left()) & (b[:, 1] < r.bottom()) & (b[:, 3] > r.top())):
            return
        self._boxes = np.vstack([b, [r.left(), r.top(), r.right(), r.bottom()]])
        self.kept.append(text)


def _label_position(a: QPointF, b: QPointF, fan_in: bool, spread: float, clear: float, line: float) -> QPointF:
    """Where along a->b a label goes (``clear``: pixels from an end to the label's centre).

    Into the chosen neuron (fan in): as near the sources as its neighbours allow (the
    edges converge, ``spread`` pixels apart at the sources).  Out of it (fan out): by
    the neuron at the far end, whose δ the term carries."""
    dx = max(1.0, b.x() - a.x())
    if fan_in:
        t = min(1.0 - (line + 2) / max(spread, 1e-9), max(clear / dx, 0.5))
    else:
        t = 1.0 - clear / dx
    return a + (b - a) * float(np.clip(t, 0.05, 0.95))


def layout_diagram(trace, phase: int, focus: tuple[str, int], width: float, height: float,
                   metrics: QFontMetricsF) -> DiagramLayout:
    """Where everything goes for a widget of ``width`` x ``height`` pixels."""
    out = DiagramLayout()
    out.compact = max(n.width for n in trace.nodes) > COMPACT_UNITS
    line = metrics.height()
    value_width = metrics.horizontalAdvance("δ=-0.0001234") + 6
    xs = _column_x(len(trace.nodes), MARGIN + MAX_RADIUS, width - MARGIN - value_width - MAX_RADIUS)
    top, bottom = HEADER + MARGIN, height - MARGIN
    tallest = max(n.width for n in trace.nodes)
    out.radius = r = float(np.clip((bottom - top) / tallest * 0.3, MIN_RADIUS, MAX_RADIUS))
    offers: list[tuple[int, ShownText]] = []        # (priority: lower is placed first, text)
    spacings = {}
    for node, x in zip(trace.nodes, xs):
        text = _header(node)
        w = metrics.horizontalAdvance(text)
        offers.append((0, ShownText(("header", node.node), text, QRectF(x - w / 2, MARGIN / 2, w, line))))
        spacings[node.node] = spacing = (bottom - top) / node.width
        for u in range(node.width):
            center = out.centers[(node.node, u)] = QPointF(x, top + spacing * (u + 0.5))
            chosen = (node.node, u) == focus
            if out.compact and not chosen:
                continue
            values = _values(node, u, phase)
            if not chosen:      # what fits beside it, the most telling first
                values = values[:max(1, int(spacing // line))]
            values.sort(key=lambda v: ORDER[v[0]])
            y0 = center.y() - len(values) * line / 2
            for k, (kind, value) in enumerate(values):
                rank = 1 if chosen else (3 if k == 0 or kind in ("delta", "x") else 4)
                rect = QRectF(x + r + 3, y0 + k * line, metrics.horizontalAdvance(value) + 4, line)
                offers.append((rank, ShownText((kind, node.node, u), value, rect)))
    for node in trace.nodes:
        if node.source is None:
            continue
        pairs = ((i, j) for j in range(node.width) for i in range(trace.node(node.source).width)) \
            if node.kind == "dense" else ((j, j) for j in range(node.width))
        for i, j in pairs:
            weight = node.weight[j, i] if node.kind == "dense" else None
            # Backward follows the chosen neuron's edges to the next layer, the others its inputs.
            chosen = (node.source, i) == focus if phase == BACKWARD else (node.node, j) == focus
            out.edges.append(((node.source, i), (node.node, j), weight, chosen))
    if not out.compact:
        for key, start, end, text in _edge_labels(trace, focus, phase):
            fan_in = end == focus
            w = metrics.horizontalAdvance(text) + 4
            at = _label_position(out.centers[start], out.centers[end], fan_in,
                                 spacings[(start if fan_in else end)[0]], r + 3 + w / 2, line)
            offers.append((2, ShownText(key, text, QRectF(at.x() - w / 2, at.y() - line / 2, w, line))))
    circles = [QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r) for c in out.centers.values()]
    placer = _Placer(circles)
    for _, text in sorted(offers, key=lambda offer: offer[0]):
        placer.offer(text)
    out.texts = placer.kept
    return out


def _edge_color(weight: float | None) -> str:
    """The weight's sign (grey: a one-to-one edge into an activation or dropout node)."""
    return "#909090" if weight is None else (POSITIVE if weight >= 0 else NEGATIVE)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    t = min(1.0, max(0.0, t))
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in zip((a.redF(), a.greenF(), a.blueF()),
                                                              (b.redF(), b.greenF(), b.blueF()))))


class BackpropDiagram(QWidget):
    """Click a neuron (or move with the arrow keys) to choose it: ``neuron_chosen(node id, unit)``."""

    neuron_chosen = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Backward-pass diagram")
        self.setToolTip("The network on the chosen row: click a neuron (or use the arrow keys) to see its "
                        "numbers. Edge colour: the weight's sign (blue +, orange -); bold: the chosen neuron's "
                        "edges for this phase. Numbers that do not fit are listed on the right.")
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(320, 220)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._trace = None
        self._phase = 0
        self._focus: tuple[str, int] | None = None
        self._layout: DiagramLayout | None = None
        self._faint: QPixmap | None = None      # every edge, faint: redrawn for a new trace or size only

    def show_trace(self, trace, phase: int, focus: tuple[str, int]) -> None:
        if trace is not self._trace:
            self._faint = None
        self._trace, self._phase, self._focus = trace, phase, focus
        self._layout = None
        self.update()

    def clear(self) -> None:
        self._trace, self._layout, self._faint = None, None, None
        self.update()

    # -- what is on screen (for tests and assistive tools) ---------------------------------
    def diagram_layout(self) -> DiagramLayout | None:
        if self._trace is None:
            return None
        if self._layout is None:
            self._layout = layout_diagram(self._trace, self._phase, self._focus, self.width(), self.height(),
                                          QFontMetricsF(self._small_font()))
        return self._layout

    def shown_texts(self) -> dict[tuple, str]:
        shown = self.diagram_layout()
        return {} if shown is None else {t.key: t.text for t in shown.texts}

    def neuron_center(self, node_id: str, unit: int) -> QPointF:
        return self.diagram_layout().centers[(node_id, unit)]

    def resizeEvent(self, event) -> None:
        self._layout, self._faint = None, None
        super().resizeEvent(event)

    def _small_font(self):
        font = self.font()
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        return font

    # -- input ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        shown = self.diagram_layout()
        if shown is None:
            return
        at = event.position()
        best = min(shown.centers.items(), key=lambda item: (item[1] - at).manhattanLength())
        if (best[1] - at).manhattanLength() <= 1.5 * (shown.radius + PICK_SLACK):
            self.setFocus(Qt.MouseFocusReason)
            self.neuron_chosen.emit(*best[0])

    def keyPressEvent(self, event) -> None:
        if self._trace is None or self._focus is None:
            return super().keyPressEvent(event)
        ids = [n.node for n in self._trace.nodes]
        column, unit = ids.index(self._focus[0]), self._focus[1]
        moves = {Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1), Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0)}
        if event.key() not in moves or event.modifiers() not in (Qt.NoModifier, Qt.KeypadModifier):
            return super().keyPressEvent(event)
        dc, du = moves[event.key()]
        column = int(np.clip(column + dc, 0, len(ids) - 1))
        unit = int(np.clip(unit + du, 0, self._trace.nodes[column].width - 1))
        self.neuron_chosen.emit(ids[column], unit)

    # -- drawing -------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        shown = self.diagram_layout()
        if shown is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        palette = self.palette()
        self._paint_edges(painter, shown)
        self._paint_neurons(painter, shown, palette)
        self._paint_texts(painter, shown, palette)
        painter.end()

    def _paint_edges(self, painter: QPainter, shown: DiagramLayout) -> None:
        """Every edge faint (from a cache: a 1-pixel line costs 30-50 µs, 0.1 s for the
        digits network), then the chosen neuron's few edges bold on top."""
        if self._faint is None:
            self._faint = self._faint_edges(shown)
        painter.drawPixmap(0, 0, self._faint)
        for start, end, weight, chosen in shown.edges:
            if chosen:
                painter.setPen(QPen(QColor(_edge_color(weight)), 2.6))
                painter.drawLine(shown.centers[start], shown.centers[end])

    def _faint_edges(self, shown: DiagramLayout) -> QPixmap:
        """The edges, alpha by |w|, in a few batches of one pen each; in a wide network
        only the MAX_FAINT_EDGES strongest (thousands of faint lines show nothing more)."""
        edges = [e for e in shown.edges if e[2] is not None] or shown.edges
        if len(edges) > MAX_FAINT_EDGES:
            edges = sorted(edges, key=lambda e: -abs(e[2]))[:MAX_FAINT_EDGES]
        largest = max((abs(e[2]) for e in edges if e[2] is not None), default=1.0) or 1.0
        batches: dict[tuple[str, int], list[QLineF]] = {}
        for start, end, weight, _ in edges:
            level = round(EDGE_SHADES * abs(weight or 0.0) / largest)
            batches.setdefault((_edge_color(weight), level), []).append(
                QLineF(shown.centers[start], shown.centers[end]))
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing)
        for (shade, level), lines in batches.items():
            color = QColor(shade)
            color.setAlphaF(0.15 + 0.45 * level / EDGE_SHADES)
            painter.setPen(QPen(color, 1.0))
            painter.drawLines(lines)
        painter.end()
        return pixmap

    def _fills(self, node, palette: QPalette) -> list[QColor]:
        """Each neuron's colour: a (forward) or δ (backward) by sign, its strength
        relative to the largest in the column; blank before the forward pass."""
        base = palette.color(QPalette.Base)
        if self._phase < FORWARD and node.kind != "input":
            return [base] * node.width
        values = node.a if self._phase < BACKWARD or node.delta is None else node.delta
        largest = float(np.max(np.abs(values))) or 1.0
        ends = QColor(POSITIVE), QColor(NEGATIVE)
        return [_mix(base, ends[v < 0], abs(v) / largest) for v in values.tolist()]

    def _paint_neurons(self, painter: QPainter, shown: DiagramLayout, palette: QPalette) -> None:
        r = shown.radius
        text = palette.color(QPalette.WindowText)
        plain, bold = QPen(text, 1.0), QPen(palette.color(QPalette.Highlight), 3.0)
        painter.setFont(self._small_font())
        for node in self._trace.nodes:
            for u, fill in enumerate(self._fills(node, palette)):
                center = shown.centers[(node.node, u)]
                chosen = (node.node, u) == self._focus
                painter.setBrush(fill)
                painter.setPen(bold if chosen else plain)
                painter.drawEllipse(center, r + (2 if chosen else 0), r + (2 if chosen else 0))
                if r >= 8:
                    painter.setPen(plain)
                    painter.drawText(QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r), Qt.AlignCenter,
                                     node.labels[u] if node.kind == "input" and len(node.labels[u]) <= 3 else str(u))

    def _paint_texts(self, painter: QPainter, shown: DiagramLayout, palette: QPalette) -> None:
        painter.setFont(self._small_font())
        backing = QColor(palette.color(QPalette.Base))
        backing.setAlphaF(0.85)
        for item in shown.texts:
            if item.key[0] in ("edge", "term"):
                painter.fillRect(item.rect, backing)
                painter.setPen(palette.color(QPalette.WindowText))
                painter.drawText(item.rect, Qt.AlignCenter, item.text)
            else:
                painter.setPen(palette.color(QPalette.WindowText))
                align = Qt.AlignCenter if item.key[0] == "header" else Qt.AlignLeft | Qt.AlignVCenter
                painter.drawText(item.rect, align, item.text)
