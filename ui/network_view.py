"""The network drawn as neurons and weighted edges, updated live from each frame.

Columns are layers: a node's column is its longest-path depth from the input, so
any DAG (branches joined by ``add`` or ``concat``) lays out left to right.  Edges
are orange for negative and blue for positive weights, thicker for larger |w|;
for 2-D data each neuron shows its output over the input plane as a heatmap.

Built once per session (``set_session``); a frame only swaps pixmaps.  Two
measured costs shape the code, both from painting while the training thread
holds the GIL:

* Items constructed in Python are shiboken wrappers: every virtual call Qt makes
  on them while painting (boundingRect, paint, ...) takes the GIL, waiting up to a
  switch interval each.  So every item here comes from the scene's C++ factories
  (addEllipse, addPixmap, addSimpleText), which paint without Python.
* Stroking a few hundred wide antialiased curves takes ~20 ms, and every heatmap
  change dirties regions all edges cross.  So the edges are rendered into one
  image (``_EdgeRaster``) as thin cosmetic strands (~4 ms), only when their pen
  buckets change; heatmaps repaint on top of it by blitting.  Both follow the
  window's draw clock (ui.plots.pacing).
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPainterPathStroker, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QVBoxLayout, QWidget

from ui.layer_controls import LayerControls
from ui.plots.neuron_maps import NeuronMaps
from ui.theme import NEGATIVE, NEUTRAL, POSITIVE, diverging_lut_bgra, plot_colors

RADIUS = 17
EDGE_HIT_WIDTH = 8.0       # width (scene units) of the band around an edge where a click selects it
PITCH = 44            # vertical distance between neurons
COLUMN = 170          # horizontal distance between layers
NODE_GAP = 34         # vertical gap between two nodes sharing a column (room for a label)
MAX_DRAWN = 12        # units drawn per node; wider nodes show the first ones and "+N more"
WEIGHT_FULL = 3.0     # |w| at which an edge reaches full width and opacity
LEVELS = 12           # pen buckets per sign
MAX_SCALE = 1.4       # do not blow a small network up beyond this zoom


def layer_depths(plan) -> dict[str, int]:
    """Longest-path depth from the input of every node (plan steps are in topological order)."""
    depth: dict[str, int] = {}
    for step in plan.steps:
        parents = [plan.steps[i].node.id for i in step.inputs]
        depth[step.node.id] = 1 + max(depth[p] for p in parents) if parents else 0
    return depth


def _edge_pens() -> list[QPen]:
    """Index sign * LEVELS + level (faint and thin for small |w|), then the plain structural pen."""
    pens = []
    for color in (POSITIVE, NEGATIVE):
        for level in range(LEVELS):
            share = (level + 0.5) / LEVELS
            c = QColor(color)
            c.setAlphaF(0.2 + 0.8 * share)
            pens.append(QPen(c, 0.5 + 3.5 * share))
    pens.append(QPen(QColor("#a0a0a0"), 1.0, Qt.DashLine))
    return pens


PLAIN = 2 * LEVELS      # index of the structural pen


class _Neuron:
    """A ring over the unit's heatmap (both factory-made, see the module docstring)."""

    def __init__(self, scene: QGraphicsScene, pos: QPointF, tip: str):
        self.ring = scene.addEllipse(QRectF(pos.x() - RADIUS, pos.y() - RADIUS, 2 * RADIUS, 2 * RADIUS),
                                     QPen(QColor("#606060"), 1.2), QBrush(QColor(NEUTRAL)))
        self.ring.setZValue(3)
        self.ring.setToolTip(tip)
        self.heat = scene.addPixmap(QPixmap())
        self.heat.setZValue(2)
        self.heat.setTransformationMode(Qt.SmoothTransformation)
        self.heat.setPos(pos.x() - RADIUS, pos.y() - RADIUS)

    def set_heatmap(self, pixmap: QPixmap) -> None:
        if self.heat.pixmap().width() != pixmap.width():
            self.heat.setScale(2 * RADIUS / pixmap.width())
            self.ring.setBrush(Qt.NoBrush)
        self.heat.setPixmap(pixmap)

    def set_fill(self, color: QColor) -> None:
        self.ring.setBrush(QBrush(color))


STRAND_SPACING = 0.9   # device pixels between the parallel 1-px strands that make a wide edge


class _EdgeRaster:
    """Every edge painted into one image at the view's zoom, shown by one item.

    Measured on the spiral example (152 edges in 912 x 533 px): Qt's antialiased
    stroker takes ~20 ms for the wide curves, and PySide6 holds the GIL all along, so
    even on a pool thread it stalled the GUI thread.  Antialiased *cosmetic* 1-px
    curves take ~1.6 ms: a weight's thickness is drawn as that many parallel
    strands (~3.6 ms for the whole network), cheap enough to repaint on the GUI thread
    whenever a pen bucket changes.
    """

    def __init__(self, scene: QGraphicsScene, pens: list[QPen]):
        self.item = scene.addPixmap(QPixmap())
        self.item.setZValue(1)
        # Rendered at the view's zoom, so it is drawn 1:1: no smoothing pass needed.
        self.item.setTransformationMode(Qt.FastTransformation)
        self.strands = [(self._strand_pen(pen), max(1, round(pen.widthF()))) for pen in pens]
        self.paths: list[QPainterPath] = []
        self.buckets = np.zeros(0, dtype=np.int64)
        self.stale = True           # the image on screen is older than the buckets

    @staticmethod
    def _strand_pen(pen: QPen) -> QPen:
        strand = QPen(pen)
        strand.setCosmetic(True)
        strand.setWidthF(1.0)
        return strand

    def add(self, path: QPainterPath) -> int:
        self.paths.append(path)
        return len(self.paths) - 1

    def finish(self, plain: list[int]) -> None:
        self.buckets = np.zeros(len(self.paths), dtype=np.int64)
        self.buckets[plain] = PLAIN

    def set_buckets(self, edges: slice, buckets: np.ndarray) -> None:
        if not np.array_equal(self.buckets[edges], buckets):
            self.buckets[edges] = buckets
            self.stale = True

    def render(self, rect: QRectF, scale: float) -> None:
        if self.item is None:
            return
        scale = max(scale, 0.1)
        size = QSize(math.ceil(rect.width() * scale), math.ceil(rect.height() * scale))
        image = QImage(size, QImage.Format_ARGB32_Premultiplied)
        image.fill(Qt.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.scale(scale, scale)
        painter.translate(-rect.topLeft())
        # One path per pen: a few dozen drawPath calls instead of one per edge and strand.
        groups: dict[int, QPainterPath] = {}
        for path, bucket in zip(self.paths, self.buckets.tolist()):
            groups.setdefault(bucket, QPainterPath()).addPath(path)
        # Faint pens first, so strong edges are drawn over them.
        for bucket in sorted(groups, key=lambda b: b % LEVELS if b != PLAIN else -1):
            pen, strands = self.strands[bucket]
            painter.setPen(pen)
            for k in range(strands):
                offset = (k - (strands - 1) / 2) * STRAND_SPACING / scale
                painter.translate(0, offset)
                painter.drawPath(groups[bucket])
                painter.translate(0, -offset)
        painter.end()
        self.item.setPixmap(QPixmap.fromImage(image))
        self.item.setScale(1.0 / scale)
        self.item.setPos(rect.topLeft())
        self.stale = False

    def retire(self) -> None:
        """The scene is being cleared: its item goes with it."""
        self.item = None


class _Canvas(QGraphicsView):
    resized = Signal()
    clicked = Signal(QPointF)       # a left click, in scene coordinates

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self.clicked.emit(self.mapToScene(event.position().toPoint()))
        super().mousePressEvent(event)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.resized.emit()


class NetworkView(QWidget):
    network_edited = Signal(dict)        # a new ``network`` section from the +/- buttons
    weight_clicked = Signal(str, int, int)   # dense node id, unit j, source i of the clicked edge

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.view = _Canvas(self.scene)
        self.view.setRenderHint(QPainter.Antialiasing)
        self.view.setRenderHint(QPainter.SmoothPixmapTransform)
        self.view.setAccessibleName("Network diagram")
        self.view.setToolTip("Neurons layer by layer; edges are orange for negative and blue for positive "
                             "weights, thicker for larger ones. Each neuron shows its output over the input plane. "
                             "Click an edge to see the chain rule for that weight.")
        self.view.clicked.connect(self._on_click)
        self.controls = LayerControls(self)
        self.controls.network_edited.connect(self.network_edited)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.controls)
        layout.addWidget(self.view, 1)
        self.view.resized.connect(self._fit)
        self._lut = diverging_lut_bgra()
        self._maps = NeuronMaps()
        self._pens = _edge_pens()
        self._edges = _EdgeRaster(self.scene, self._pens)
        self._frame = None              # newest frame whose heatmaps are not shown yet
        self._edge_frame = None         # newest frame whose weights the edges do not show yet
        self._neurons: dict[str, list[_Neuron]] = {}
        self._weighted: list[tuple[str, int, int, slice]] = []     # node, units, inputs, its edges
        self._columns: dict[str, float] = {}
        self._slots: dict = {}          # node id -> heatmap images, one per drawn unit
        self._labels: list = []         # text items, recoloured with the theme
        self._theme = "light"

    # -- building (once per session) --------------------------------------------------
    def set_session(self, info) -> None:
        plan = info.plan
        self._frame = self._edge_frame = None     # frames of the previous session
        self._edges.retire()
        self.scene.clear()
        self._neurons, self._weighted, self._columns, self._slots, self._labels = {}, [], {}, {}, []
        self._edges = _EdgeRaster(self.scene, self._pens)
        positions = self._place(plan, layer_depths(plan), info.dataset.feature_names)
        self._add_edges(plan, positions)
        self.controls.set_network(info.project.document["network"], list(self._columns.items()))
        rect = self.scene.itemsBoundingRect()
        for path in self._edges.paths:
            rect = rect.united(path.boundingRect())
        self.scene.setSceneRect(rect.adjusted(-30, -20, 30, 20))
        self._fit()

    def _place(self, plan, depths, feature_names) -> dict[str, list[QPointF]]:
        columns: dict[int, list] = {}
        for step in plan.steps:
            columns.setdefault(depths[step.node.id], []).append(step)
        positions: dict[str, list[QPointF]] = {}
        for depth, steps in columns.items():
            drawn = [min(s.width, MAX_DRAWN) for s in steps]
            height = sum(n * PITCH for n in drawn) + NODE_GAP * (len(steps) - 1)
            y, x = -height / 2 + PITCH / 2, depth * COLUMN
            for step, n in zip(steps, drawn):
                node = step.node
                if node.type == "dense":
                    self._columns[node.id] = x
                positions[node.id] = [QPointF(x, y + u * PITCH) for u in range(n)]
                self._text(self._caption(node), x, y - PITCH / 2 - 4, centre=True)
                self._neurons[node.id] = [self._neuron(node, u, feature_names, p)
                                          for u, p in enumerate(positions[node.id])]
                if step.width > n:
                    self._text(f"+{step.width - n} more", x, y + n * PITCH - RADIUS + 12, centre=True)
                y += n * PITCH + NODE_GAP
        return positions

    @staticmethod
    def _caption(node) -> str:
        kind = {"dense": node.activation, "activation": node.activation, "dropout": f"p={node.p:g}"}.get(node.type, node.type)
        return node.id if node.type == "input" else f"{node.id} · {kind}"

    def _text(self, text: str, x: float, y: float, centre: bool = False, right: bool = False) -> None:
        label = self.scene.addSimpleText(text)
        label.setBrush(QBrush(QColor(plot_colors(self._theme)[1])))
        self._labels.append(label)
        box = label.boundingRect()
        label.setPos(x - (box.width() / 2 if centre else box.width() if right else 0),
                     y - (box.height() if centre else box.height() / 2))

    def _neuron(self, node, unit, feature_names, pos) -> _Neuron:
        if node.type != "input":
            kind = "sum" if node.type == "add" else node.activation
            return _Neuron(self.scene, pos, f"{node.id}, unit {unit} ({kind})")
        name = feature_names[unit] if unit < len(feature_names) else f"feature {unit}"
        self._text(name, pos.x() - RADIUS - 8, pos.y(), right=True)
        return _Neuron(self.scene, pos, f"input feature {name}")

    @staticmethod
    def _curve(a: QPointF, b: QPointF) -> QPainterPath:
        path = QPainterPath(QPointF(a.x() + RADIUS, a.y()))
        mid = (a.x() + b.x()) / 2
        path.cubicTo(QPointF(mid, a.y()), QPointF(mid, b.y()), QPointF(b.x() - RADIUS, b.y()))
        return path

    def _add_edges(self, plan, positions) -> None:
        plain = []
        for step in plan.steps:
            node, targets = step.node, positions[step.node.id]
            sources = [positions[plan.steps[i].node.id] for i in step.inputs]
            if node.type == "dense":
                src = sources[0]
                index = [self._edges.add(self._curve(src[i], targets[j]))
                         for j in range(len(targets)) for i in range(len(src))]
                self._weighted.append((node.id, len(targets), len(src), slice(index[0], index[-1] + 1)))
                continue
            offset = 0      # structural edges (add, concat, activation, dropout) carry no weight
            for k, src in enumerate(sources):
                for i in range(len(src)):
                    j = offset + i if node.type == "concat" else i
                    if j < len(targets):
                        plain.append(self._edges.add(self._curve(src[i], targets[j])))
                if node.type == "concat":
                    offset += plan.steps[step.inputs[k]].width
        self._edges.finish(plain)

    def edge_path(self, node_id: str, unit: int, source: int) -> QPainterPath | None:
        """The drawn curve of weight ``node_id``.weight[unit, source] (None if not drawn)."""
        for node, units, inputs, edges in self._weighted:
            if node == node_id and unit < units and source < inputs:
                return self._edges.paths[edges.start + unit * inputs + source]
        return None

    def _on_click(self, point: QPointF) -> None:
        # Only clicks are hit-tested (a stroke per edge is too costly to keep per frame).
        # A narrow band first, so that where edges crowd the one under the pointer wins.
        stroker = QPainterPathStroker()
        for width in (2.0, EDGE_HIT_WIDTH):
            stroker.setWidth(width)
            for node, units, inputs, edges in self._weighted:
                for k, path in enumerate(self._edges.paths[edges]):
                    if stroker.createStroke(path).contains(point):
                        self.weight_clicked.emit(node, k // inputs, k % inputs)
                        return

    # -- live updates (every frame) -------------------------------------------------------
    def show_frame(self, frame) -> None:
        """Keep the frame; heatmaps and edges follow on the next tick of the draw clock."""
        self._frame = self._edge_frame = frame

    def _update_buckets(self) -> None:
        """Pen bucket of every weighted edge, from the newest frame's weights."""
        frame, self._edge_frame = self._edge_frame, None
        if frame is None:
            return
        weights = frame.snapshot.weights
        for node_id, n_out, n_in, edges in self._weighted:
            w = weights.get(f"{node_id}.weight")
            if w is None or w.shape[0] < n_out or w.shape[1] < n_in:
                continue          # a frame from before the last rebuild
            w = w[:n_out, :n_in].ravel()
            # fmin ignores NaN, and clipping before scaling keeps a huge weight from
            # overflowing into a garbage integer.
            level = (np.fmin(np.abs(w), WEIGHT_FULL) * ((LEVELS - 1e-9) / WEIGHT_FULL)).astype(np.int64)
            self._edges.set_buckets(edges, level + (w < 0) * LEVELS)

    def _show_units(self) -> None:
        frame, self._frame = self._frame, None
        if frame is None:
            return
        if frame.grid is not None:
            self._show_heatmaps(frame.grid)
        else:
            self._show_biases(frame.snapshot.weights)

    def _show_heatmaps(self, grid) -> None:
        for node_id, neurons in self._neurons.items():
            values = grid.node_outputs.get(node_id)
            if values is None or values.shape[2] < len(neurons):
                continue
            slots = self._slots.get(node_id)
            if slots is None:
                slots = self._slots[node_id] = self._maps.slots(len(neurons), grid.resolution)
            if self._maps.update(slots, values, grid.resolution):
                for neuron, slot in zip(neurons, slots):
                    neuron.set_heatmap(slot.pixmap)

    def _show_biases(self, weights) -> None:
        """Without an input plane, a neuron's fill shows its bias (same colour scale as edges)."""
        for node_id, neurons in self._neurons.items():
            bias = weights.get(f"{node_id}.bias")
            if bias is None:
                continue
            index = np.clip(np.nan_to_num(bias[:len(neurons)]) * (127.5 / WEIGHT_FULL) + 127.5, 0, 255)
            for neuron, k in zip(neurons, index.astype(np.int64)):
                b, g, r, _ = self._lut[k]
                neuron.set_fill(QColor(int(r), int(g), int(b)))

    # The same pacing protocol as the plots (ui.plots.base.PlotPanel).
    def pending(self) -> bool:
        return (self._edge_frame is not None or self._frame is not None) and self.isVisible()

    def due(self, now: float) -> bool:
        return self.pending()

    def draw(self, now: float) -> None:
        if self._edge_frame is not None:
            self._update_buckets()
            if self._edges.stale:
                self._edges.render(self.scene.sceneRect(), self.view.transform().m11())
        if self._frame is not None:
            self._show_units()

    def set_theme(self, theme: str) -> None:
        """Text in the theme's foreground, on the theme's background.  The colours come
        from ui.theme, not from the widget's palette: a new application palette reaches
        the widgets only later, so reading it here gave the previous theme's colour."""
        self._theme = theme
        background, foreground = plot_colors(theme)
        self.view.setBackgroundBrush(QBrush(QColor(background)))
        brush = QBrush(QColor(foreground))
        for label in self._labels:
            label.setBrush(brush)

    def shutdown(self, timeout_ms: int = 1000) -> None:
        """Nothing runs in the background any more; kept for the window's close sequence."""
        self._edges.retire()

    # -- fitting the drawing to the widget ------------------------------------------------
    def _fit(self) -> None:
        rect: QRectF = self.scene.sceneRect()
        if rect.isEmpty():
            return
        self.view.fitInView(rect, Qt.KeepAspectRatio)
        if self.view.transform().m11() > MAX_SCALE:
            self.view.resetTransform()
            self.view.scale(MAX_SCALE, MAX_SCALE)
            self.view.centerOn(rect.center())
        self._edges.render(rect, self.view.transform().m11())      # crisp at the new zoom
        self.controls.place(lambda x: self.view.mapTo(self, self.view.mapFromScene(QPointF(x, 0))).x())
