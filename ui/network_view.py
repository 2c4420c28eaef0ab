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

A click on an edge opens the weight editor (ui.weight_editor) beside it: only clicks
are hit-tested, so the per-frame cost is the same with or without it.

Text is drawn at the widget's font size whatever the zoom (ui.network_labels), so
View > Zoom enlarges it and a deep network's labels stay readable.  Edges that skip
columns (a residual's shortcut) run along lanes below the columns they skip, never
through a neuron.  ``export_image`` writes the diagram alone, edges as vectors.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPainterPathStroker, QPen, QPixmap, QTransform
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QVBoxLayout, QWidget

from ui.layer_controls import LayerControls
from ui.network_labels import ABOVE, BELOW, LEFT, DiagramLabels
from ui.plots.neuron_maps import NeuronMaps
from ui.theme import NEGATIVE, NEUTRAL, POSITIVE, diverging_lut_bgra, plot_colors
from ui.weight_editor import WeightEditor

RADIUS = 17
EDGE_HIT_WIDTH = 8.0       # width (scene units) of the band around an edge where a click selects it
PITCH = 44            # vertical distance between neurons
COLUMN = 170          # horizontal distance between layers
NODE_GAP = 40         # vertical gap between two nodes sharing a column (room for a label)
MAX_DRAWN = 12        # units drawn per node; wider nodes show the first ones and "+N more"
WEIGHT_FULL = 3.0     # |w| at which an edge reaches full width and opacity
LEVELS = 12           # pen buckets per sign
MAX_SCALE = 1.4       # do not blow a small network up beyond this zoom
LANE_GAP = 16         # skip edges run this far below the columns they skip...
LANE_PITCH = 5        # ...one lane per edge, this far apart
MORE_ROOM = 30        # below a node whose "+N more" label the lanes must clear
EXPORT_PIXEL_RATIO = 2    # PNG pixels per point of the exported diagram
EDITOR_OFFSET = 14        # screen pixels between the clicked point and the weight editor's corner
PICKED_WIDTH = 7          # screen pixels: the halo under the edge being edited


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
        self.tip = tip
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

    def set_colour_note(self, note: str) -> None:
        """What the colours mean (its scale), under the unit's name in its tooltip."""
        self.ring.setToolTip(f"{self.tip}\n{note}")


def short_number(value: float) -> str:
    """A colour scale's end for a tooltip: 0.5, 6, 36, 1234, 1.2e+06."""
    return f"{value:.2g}" if value < 10 or value >= 1e5 else f"{value:.0f}"


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
    weight_clicked = Signal(str, int, int)   # dense node id, unit j, source i: "Chain rule in the Why? tab"
    editor_requested = Signal()          # "Open the Graph editor" (networks the buttons cannot edit)
    # The weight editor (ui.weight_editor): tensor name ("h2.weight") and index (unit j, source i).
    weight_selected = Signal(str, object)                # an edge was clicked: its editor opened
    weight_edited = Signal(str, object, float, float, bool)  # tensor, index, old, new, merge: one undoable edit
    weight_previewed = Signal(str, object, float)        # tensor, index, value while the slider is dragged

    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.view = _Canvas(self.scene)
        self.view.setRenderHint(QPainter.Antialiasing)
        self.view.setRenderHint(QPainter.SmoothPixmapTransform)
        # Always fitted to the widget (see _fit): a scroll bar would only shrink it again.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.view.setAccessibleName("Network diagram")
        self.view.setToolTip("Neurons layer by layer; edges are orange for negative and blue for positive "
                             "weights, thicker for larger ones. Each neuron shows its output over the input plane "
                             "(point at a neuron for its colour scale). Click an edge to edit its weight and see "
                             "the chain rule for it.")
        self.view.clicked.connect(self._on_click)
        self.controls = LayerControls(self)
        self.controls.network_edited.connect(self.network_edited)
        self.controls.editor_requested.connect(self.editor_requested)
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
        self._notes: dict[str, tuple] = {}     # node id -> the colour scales its tooltips give
        self._groups: dict[str, list[tuple[int, int, float]]] = {}   # units sharing a colour scale
        self._whose: dict[str, list[str]] = {}   # per unit: who shares its scale ("" its own)
        self._theme = "light"
        self._text = DiagramLabels(self.scene, self.font(), self._text_brush())
        self._content = QRectF()        # neurons and edges, in scene units
        self._drawing = QRectF()        # ...and their labels at the current zoom
        self._latest = None             # the newest frame (the weight editor starts from it)
        self._session_info = None
        self._picked: tuple[str, int, int] | None = None     # the edge being edited: node, unit, source
        self._picked_at = QPointF()     # where it was clicked (scene)
        self._halo = None               # the path item under that edge
        self.editor = WeightEditor(self.view.viewport())
        self._relay_editor(self.editor)

    @property
    def _labels(self) -> list:
        """The text items (recoloured with the theme)."""
        return self._text.items

    def _text_brush(self) -> QBrush:
        return QBrush(QColor(plot_colors(self._theme)[1]))

    # -- building (once per session) --------------------------------------------------
    def set_session(self, info) -> None:
        plan = info.plan
        self._frame = self._edge_frame = self._latest = None     # frames of the previous session
        self.editor.close_editor()       # its weight may be gone
        self._halo = None
        self._session_info = info
        self._edges.retire()
        self.scene.clear()
        self._neurons, self._weighted, self._columns, self._slots, self._notes = {}, [], {}, {}, {}
        self._colour_groups(plan)
        self._edges = _EdgeRaster(self.scene, self._pens)
        self._text = DiagramLabels(self.scene, self.font(), self._text_brush())
        depths = layer_depths(plan)
        positions, bottoms = self._place(plan, depths, info.dataset.feature_names)
        self._add_edges(plan, positions, depths, bottoms)
        self.controls.set_network(info.project.document["network"], list(self._columns.items()))
        rect = QRectF()
        for neurons in self._neurons.values():
            for neuron in neurons:
                rect = rect.united(neuron.ring.rect())
        for path in self._edges.paths:
            rect = rect.united(path.boundingRect())
        self._content = rect
        self._fit()

    def _colour_groups(self, plan) -> None:
        """Which units share a colour scale.  A hidden node's units share one (floor 1:
        tanh spans the colours), so a layer's units compare fairly; each input feature
        has its own (their ranges differ: x1^2 reaches 36, sin(x1) 1); a concat keeps
        the scales of what it joins, so a copied unit looks as it does in its source."""
        groups: dict[str, list[tuple[int, int, float, str]]] = {}
        for step in plan.steps:
            node = step.node
            if node.type == "input":
                groups[node.id] = [(u, u + 1, 0.0, "") for u in range(step.width)]
            elif node.type == "concat":
                groups[node.id], offset = [], 0
                for source in (plan.steps[i] for i in step.inputs):
                    for start, stop, floor, whose in groups[source.node.id]:
                        whose = whose and f"the units of {node.id} that come from {source.node.id}"
                        groups[node.id].append((offset + start, offset + stop, floor, whose))
                    offset += source.width
            else:
                groups[node.id] = [(0, step.width, 1.0, f"every unit of {node.id}")]
        self._groups = {n: [g[:3] for g in gs] for n, gs in groups.items()}
        self._whose = {n: [whose for start, stop, _, whose in gs for _ in range(start, stop)]
                       for n, gs in groups.items()}

    def _place(self, plan, depths, feature_names) -> tuple[dict[str, list[QPointF]], dict[int, float]]:
        """Neuron centres of every node, and the lowest point of each column (for skip edges)."""
        columns: dict[int, list] = {}
        for step in plan.steps:
            columns.setdefault(depths[step.node.id], []).append(step)
        positions: dict[str, list[QPointF]] = {}
        bottoms: dict[int, float] = {}
        for depth, steps in columns.items():
            drawn = [min(s.width, MAX_DRAWN) for s in steps]
            height = sum(n * PITCH for n in drawn) + NODE_GAP * (len(steps) - 1)
            y, x = -height / 2 + PITCH / 2, depth * COLUMN
            for step, n in zip(steps, drawn):
                node = step.node
                if node.type == "dense":
                    self._columns[node.id] = x
                positions[node.id] = [QPointF(x, y + u * PITCH) for u in range(n)]
                self._caption(node, QPointF(x, y - RADIUS))
                self._neurons[node.id] = [self._neuron(node, u, feature_names, p)
                                          for u, p in enumerate(positions[node.id])]
                bottoms[depth] = y + (n - 1) * PITCH + RADIUS
                if step.width > n:
                    self._text.add(f"+{step.width - n} more", QPointF(x, bottoms[depth]), BELOW)
                    bottoms[depth] += MORE_ROOM
                y += n * PITCH + NODE_GAP
        return positions, bottoms

    def _caption(self, node, anchor: QPointF) -> None:
        kind = {"dense": node.activation, "activation": node.activation, "dropout": f"p={node.p:g}"}.get(node.type, node.type)
        if node.type == "input":
            self._text.add(node.id, anchor, ABOVE)
        else:
            self._text.add(f"{node.id} · {kind}", anchor, ABOVE, narrow=f"{node.id}\n{kind}")

    def _neuron(self, node, unit, feature_names, pos) -> _Neuron:
        if node.type != "input":
            kind = "sum" if node.type == "add" else node.activation
            return _Neuron(self.scene, pos, f"{node.id}, unit {unit} ({kind})")
        name = feature_names[unit] if unit < len(feature_names) else f"feature {unit}"
        self._text.add(name, QPointF(pos.x() - RADIUS, pos.y()), LEFT)
        return _Neuron(self.scene, pos, f"input feature {name}")

    @staticmethod
    def _curve(a: QPointF, b: QPointF) -> QPainterPath:
        path = QPainterPath(QPointF(a.x() + RADIUS, a.y()))
        mid = (a.x() + b.x()) / 2
        path.cubicTo(QPointF(mid, a.y()), QPointF(mid, b.y()), QPointF(b.x() - RADIUS, b.y()))
        return path

    @staticmethod
    def _detour(a: QPointF, b: QPointF, lane: float) -> QPainterPath:
        """An edge that skips columns: down beside its source, along ``lane`` (below the
        skipped columns) and up beside its target.  Each bend stays within the half
        column gap next to its end, where no neuron is, so it crosses none."""
        start, end = QPointF(a.x() + RADIUS, a.y()), QPointF(b.x() - RADIUS, b.y())
        down, up = a.x() + COLUMN / 2, b.x() - COLUMN / 2
        bend = 0.6 * (down - start.x())
        path = QPainterPath(start)
        path.cubicTo(QPointF(start.x() + bend, a.y()), QPointF(down - bend, lane), QPointF(down, lane))
        path.lineTo(QPointF(up, lane))
        path.cubicTo(QPointF(up + bend, lane), QPointF(end.x() - bend, b.y()), end)
        return path

    def _add_edges(self, plan, positions, depths, bottoms) -> None:
        plain = []
        lanes = 0       # skip edges so far: each runs along its own lane
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
                first, last = depths[plan.steps[step.inputs[k]].node.id], depths[node.id]
                floor = max((bottoms[d] for d in range(first + 1, last)), default=None)
                for i in range(len(src)):
                    j = offset + i if node.type == "concat" else i
                    if j >= len(targets):
                        continue
                    if floor is None:
                        path = self._curve(src[i], targets[j])
                    else:       # top unit on the innermost lane: the detours nest without crossing
                        path = self._detour(src[i], targets[j], floor + LANE_GAP + lanes * LANE_PITCH)
                        lanes += 1
                    plain.append(self._edges.add(path))
                if node.type == "concat":
                    offset += plan.steps[step.inputs[k]].width
        self._edges.finish(plain)

    def edge_path(self, node_id: str, unit: int, source: int) -> QPainterPath | None:
        """The drawn curve of weight ``node_id``.weight[unit, source] (None if not drawn)."""
        for node, units, inputs, edges in self._weighted:
            if node == node_id and unit < units and source < inputs:
                return self._edges.paths[edges.start + unit * inputs + source]
        return None

    def edge_at(self, point: QPointF) -> tuple[str, int, int] | None:
        """The weighted edge under ``point`` (scene): dense node id, unit j, source i."""
        # Only clicks are hit-tested (a stroke per edge is too costly to keep per frame).
        # A narrow band first, so that where edges crowd the one under the pointer wins.
        stroker = QPainterPathStroker()
        for width in (2.0, EDGE_HIT_WIDTH):
            stroker.setWidth(width)
            for node, units, inputs, edges in self._weighted:
                for k, path in enumerate(self._edges.paths[edges]):
                    if stroker.createStroke(path).contains(point):
                        return node, k // inputs, k % inputs
        return None

    def _on_click(self, point: QPointF) -> None:
        edge = self.edge_at(point)
        if edge is None:
            self.editor.close_editor()      # a click beside the edges dismisses it, as a popup
        else:
            self.edit_weight(*edge, at=point)

    # -- the weight editor ----------------------------------------------------------------
    def edit_weight(self, node_id: str, unit: int, source: int, at: QPointF | None = None) -> None:
        """Open the weight editor on ``node_id``.weight[unit, source], beside ``at`` (scene;
        the edge's middle by default), and say which weight it is (``weight_selected``)."""
        path = self.edge_path(node_id, unit, source)
        if path is None:
            return
        self._picked = (node_id, unit, source)
        self._picked_at = path.pointAtPercent(0.5) if at is None else at
        self._show_halo(path)
        tensor, index = self._picked_weight()
        self.editor.open_for(tensor, index, f"Weight {self._source_name(node_id, source)} → {node_id}[{unit}]",
                             self._weight_in(self._latest))
        if self._latest is not None:
            self.editor.show_values(self._weight_in(self._latest), self._latest.evaluation)
        self._place_editor()
        self.weight_selected.emit(tensor, index)

    def _relay_editor(self, editor: WeightEditor) -> None:
        """The editor's signals, as the view's: each names the weight (the editor holds it)."""
        editor.committed.connect(lambda old, new, merge: self.weight_edited.emit(editor.tensor, editor.index,
                                                                                 old, new, merge))
        editor.previewed.connect(lambda value: self.weight_previewed.emit(editor.tensor, editor.index, value))
        editor.why_requested.connect(lambda: self.weight_clicked.emit(editor.tensor.rpartition(".")[0],
                                                                      *editor.index))
        editor.closed.connect(self._on_editor_closed)
        editor.resized.connect(self._place_editor)

    def _picked_weight(self) -> tuple[str, tuple[int, int]]:
        node_id, unit, source = self._picked
        return f"{node_id}.weight", (unit, source)

    def _source_name(self, node_id: str, source: int) -> str:
        """What feeds the weight: a feature's name or the neuron of the layer before."""
        info = self._session_info
        if info is None:
            return f"input {source}"
        step = next(s for s in info.plan.steps if s.node.id == node_id)
        parent = info.plan.steps[step.inputs[0]].node
        if parent.type == "input":
            names = info.dataset.feature_names
            return names[source] if source < len(names) else f"feature {source}"
        return f"{parent.id}[{source}]"

    def _weight_in(self, frame) -> float | None:
        if frame is None or self._picked is None:
            return None
        tensor, index = self._picked_weight()
        w = frame.snapshot.weights.get(tensor)
        if w is None or w.ndim != 2 or index[0] >= w.shape[0] or index[1] >= w.shape[1]:
            return None
        return float(w[index])

    def _show_halo(self, path: QPainterPath) -> None:
        if self._halo is None:
            pen = QPen(self._halo_color(), PICKED_WIDTH)
            pen.setCosmetic(True)
            pen.setCapStyle(Qt.RoundCap)
            self._halo = self.scene.addPath(path, pen)      # factory-made: paints without Python
            self._halo.setZValue(0.5)                       # under the edges: a glow around the chosen one
        self._halo.setPath(path)
        self._halo.show()

    def _halo_color(self) -> QColor:
        color = QColor(plot_colors(self._theme)[1])
        color.setAlphaF(0.35)
        return color

    def _place_editor(self) -> None:
        """Beside the clicked point, inside the canvas (left of and above it where needed)."""
        if not self.editor.isVisible():
            return
        size, room = self.editor.size(), self.view.viewport().size()
        click = self.view.mapFromScene(self._picked_at)
        x, y = click.x() + EDITOR_OFFSET, click.y() + EDITOR_OFFSET
        if x + size.width() > room.width():
            x = click.x() - EDITOR_OFFSET - size.width()
        if y + size.height() > room.height():
            y = room.height() - size.height()
        self.editor.move(max(0, min(x, room.width() - size.width())), max(0, y))

    def _on_editor_closed(self) -> None:
        self._picked = None
        if self._halo is not None:
            self._halo.hide()
        self.view.setFocus(Qt.OtherFocusReason)

    def show_explanation(self, explanation) -> None:
        """The engine's explanation of a weight: the editor shows its chain rule if it is the edited one."""
        if self.editor.isVisible():
            self.editor.show_chain(explanation.chain)

    # -- live updates (every frame) -------------------------------------------------------
    def show_frame(self, frame) -> None:
        """Keep the frame; heatmaps and edges follow on the next tick of the draw clock."""
        self._frame = self._edge_frame = self._latest = frame

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
            scales = self._maps.update(slots, values, grid.resolution, self._groups.get(node_id))
            if scales is not None:
                for neuron, slot in zip(neurons, slots):
                    neuron.set_heatmap(slot.pixmap)
                self._note_scales(node_id, neurons, scales)

    def _note_scales(self, node_id: str, neurons, scales) -> None:
        """Tooltips say what the colours span; rewritten only when a rounded scale changes."""
        ends = tuple(short_number(s) for s in scales)
        if self._notes.get(node_id) == ends:
            return
        self._notes[node_id] = ends
        for neuron, end, whose in zip(neurons, ends, self._whose.get(node_id, [])):
            scale = f"the colour scale shared by {whose}" if whose else "its own colour scale"
            what = "its output" if whose else "its value"
            neuron.set_colour_note(f"Colour: {what} over the input plane, on {scale}: "
                                   f"±{end} (orange −{end}, blue +{end}).")

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
            if node_id not in self._notes:
                self._notes[node_id] = ()
                end = short_number(WEIGHT_FULL)
                for neuron in neurons:
                    neuron.set_colour_note(f"Colour: its bias, on the edges' scale: ±{end} "
                                           f"(orange −{end}, blue +{end}).")

    # The same pacing protocol as the plots (ui.plots.base.PlotPanel).
    def pending(self) -> bool:
        return (self._edge_frame is not None or self._frame is not None) and self.isVisible()

    def due(self, now: float) -> bool:
        return self.pending()

    def draw(self, now: float) -> None:
        if self.editor.isVisible() and self._edge_frame is not None:
            frame = self._edge_frame
            self.editor.show_values(self._weight_in(frame), frame.evaluation, frame.steps_per_second > 0)
        if self._edge_frame is not None:
            self._update_buckets()
            if self._edges.stale:
                self._edges.render(self._drawing, self.view.transform().m11())
        if self._frame is not None:
            self._show_units()

    def set_theme(self, theme: str) -> None:
        """Text in the theme's foreground, on the theme's background.  The colours come
        from ui.theme, not from the widget's palette: a new application palette reaches
        the widgets only later, so reading it here gave the previous theme's colour."""
        self._theme = theme
        background, foreground = plot_colors(theme)
        self.view.setBackgroundBrush(QBrush(QColor(background)))
        self._text.set_brush(self._text_brush())
        if self._halo is not None:
            pen = self._halo.pen()
            pen.setColor(self._halo_color())
            self._halo.setPen(pen)

    def shutdown(self, timeout_ms: int = 1000) -> None:
        """Nothing runs in the background any more; kept for the window's close sequence."""
        self._edges.retire()

    # -- text size: the application's font (View > Zoom) ---------------------------------
    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            # Children (the +/- buttons) take the new font during this event: measure after it.
            QTimer.singleShot(0, self._follow_font)

    def _follow_font(self) -> None:
        self._text.set_font(self.font())
        self._fit()

    # -- fitting the drawing to the widget ------------------------------------------------
    def _fit(self) -> None:
        if self._content.isEmpty():
            return
        size = self.view.viewport().size()
        scale, self._drawing = self._text.fit(self._content, size.width(), size.height(), MAX_SCALE)
        # The scene is exactly the viewport: nothing to scroll, the drawing centred in it.
        visible = QRectF(0, 0, size.width() / scale, size.height() / scale)
        visible.moveCenter(self._drawing.center())
        self.scene.setSceneRect(visible)
        self.view.setTransform(QTransform.fromScale(scale, scale))
        self.view.centerOn(visible.center())
        self._edges.render(self._drawing, scale)      # crisp at the new zoom
        self.controls.place(lambda x: self.view.mapTo(self, self.view.mapFromScene(QPointF(x, 0))).x())
        self._place_editor()

    # -- export: the diagram alone ----------------------------------------------------------
    def export_image(self, path: str) -> None:
        """Write the diagram, without the +/- buttons and boxes above it, as PNG or SVG
        (by ``path``'s suffix).  Edges are vector paths, each heatmap one small image at
        its own resolution (the spiral network: ~100 kB of SVG).  Drawn at the on-screen
        layout, at least at scale 1.  Raises ValueError for another suffix, OSError when
        the file cannot be written."""
        suffix = Path(path).suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(f"{path}: the network diagram can be exported as PNG (.png) or SVG (.svg), "
                             f"not {suffix or 'a file without a suffix'}")
        if self._content.isEmpty():
            raise ValueError("The network has not been drawn yet: nothing to export.")
        scale = max(self.view.transform().m11(), 1.0)
        drawing = self._text.drawing(scale, self._content)
        size = QSize(math.ceil(drawing.width() * scale), math.ceil(drawing.height() * scale))
        if suffix == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(size)
            generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
            generator.setTitle("Network diagram")
            if not self._paint_export(generator, drawing, size):
                raise OSError(f"{path}: cannot write the SVG file")
        else:
            image = QImage(size * EXPORT_PIXEL_RATIO, QImage.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(EXPORT_PIXEL_RATIO)     # labels at their size, everything sharp
            self._paint_export(image, drawing, size)
            if not image.save(str(path)):
                raise OSError(f"{path}: cannot write the PNG file")

    def _paint_export(self, device, drawing: QRectF, size: QSize) -> bool:
        """Draw ``drawing`` (scene) onto ``device`` at ``size``; False if the device cannot be opened."""
        painter = QPainter()
        if not painter.begin(device):
            return False
        try:
            target = QRectF(0, 0, size.width(), size.height())
            painter.fillRect(target, QColor(plot_colors(self._theme)[0]))
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setRenderHint(QPainter.SmoothPixmapTransform)
            painter.save()
            scale = size.width() / drawing.width()
            painter.scale(scale, scale)
            painter.translate(-drawing.topLeft())
            self._paint_vector_edges(painter)
            painter.restore()
            # The on-screen edges are a bitmap at the screen's zoom: left out, drawn above as
            # vectors; the edited edge's halo is the editor's, not the network's.
            hidden = [item for item in (self._edges.item, self._halo) if item is not None and item.isVisible()]
            for item in hidden:
                item.hide()
            try:
                self.scene.render(painter, target, drawing)
            finally:
                for item in hidden:
                    item.show()
        finally:
            painter.end()
        return True

    def _paint_vector_edges(self, painter: QPainter) -> None:
        """Every edge in its real pen, one path per pen (a few dozen SVG elements)."""
        groups: dict[int, QPainterPath] = {}
        for path, bucket in zip(self._edges.paths, self._edges.buckets.tolist()):
            groups.setdefault(bucket, QPainterPath()).addPath(path)
        painter.setBrush(Qt.NoBrush)
        for bucket in sorted(groups, key=lambda b: b % LEVELS if b != PLAIN else -1):
            painter.setPen(self._pens[bucket])
            painter.drawPath(groups[bucket])
