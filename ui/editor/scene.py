"""The editor's scene: draws the ``GraphModel`` and turns mouse gestures into commands.

It observes the model (one item per node and per edge, kept and moved, never
rebuilt for a move) and pushes commands on the undo stack for what the mouse does
in it: wiring port to port, moving blocks (one command per drag, pushed on release)
and dropping palette blocks.  While a wire is dragged it snaps to the nearest port
that ``GraphModel.can_connect`` accepts; a refused wire says why, both through
``status_message`` and as a notice on the canvas.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QTransform, QUndoStack
from PySide6.QtWidgets import QGraphicsScene

from ui.editor.commands import AddEdge, AddNodes, MoveNodes, SetOutput
from ui.editor.items import BlockItem, DragWire, NoticeItem, PortItem, WireItem, block_footprint
from ui.editor.model import GraphModel, GraphObserver, default_node
from ui.editor.placement import free_offset

GRID = 20.0
SNAP_PIXELS = 40.0      # a wire snaps to a compatible port this close (in screen pixels)
NOTICE_MS = 4000
SCENE_EXTENT = QRectF(-5000, -5000, 10000, 10000)
NOTICE_MARGIN = 6.0     # screen pixels kept between the notice and the canvas's edge


class EditorScene(QGraphicsScene, GraphObserver):
    status_message = Signal(str)
    block_activated = Signal(str)        # double-click on a block

    def __init__(self, model: GraphModel, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.model, self.undo_stack = model, undo_stack
        self.setSceneRect(SCENE_EXTENT)
        self.snap_to_grid = True
        self.blocks: dict[str, BlockItem] = {}
        self.wires: dict[tuple[str, str], WireItem] = {}
        self._wiring: PortItem | None = None
        self._candidates: list[PortItem] = []
        self._snap: PortItem | None = None
        self._drag_wire = DragWire()
        self._drag_wire.setVisible(False)
        self.addItem(self._drag_wire)
        self._press_positions: dict[str, QPointF] = {}
        self._user_moving = False
        self.notice = NoticeItem()
        self.notice.setVisible(False)
        self.addItem(self.notice)
        self._notice_timer = QTimer(self, singleShot=True, interval=NOTICE_MS)
        self._notice_timer.timeout.connect(lambda: self.notice.setVisible(False))
        model.subscribe(self)

    # -- drawing the model (GraphObserver) ---------------------------------------------------
    def model_reset(self) -> None:
        self.notice.setVisible(False)       # it spoke of the drawing that is gone
        for wire in list(self.wires.values()):
            self.removeItem(wire)
        for block in list(self.blocks.values()):
            self.removeItem(block)
        self.wires, self.blocks = {}, {}
        for nid in self.model.nodes:
            self.node_added(nid)
        for edge in self.model.edges:
            self.edge_added(edge)

    def node_added(self, nid: str) -> None:
        block = BlockItem(self.model.nodes[nid])
        block.setPos(QPointF(*self.model.positions[nid]))
        block.set_output(nid == self.model.output)
        self.blocks[nid] = block
        self.addItem(block)

    def node_removed(self, nid: str) -> None:
        self.removeItem(self.blocks.pop(nid))

    def node_changed(self, nid: str) -> None:
        self.blocks[nid].set_node(self.model.nodes[nid])

    def node_renamed(self, old: str, new: str) -> None:
        block = self.blocks.pop(old)
        self.blocks[new] = block
        block.set_node(self.model.nodes[new])
        self.wires = {wire.edge: wire for wire in self.wires.values()}
        for wire in block.wires:
            wire.update_tooltip()

    def node_moved(self, nid: str) -> None:
        self.blocks[nid].setPos(QPointF(*self.model.positions[nid]))

    def edge_added(self, edge) -> None:
        wire = WireItem(self.blocks[edge[0]], self.blocks[edge[1]])
        self.wires[tuple(edge)] = wire
        self.addItem(wire)

    def edge_removed(self, edge) -> None:
        wire = self.wires.pop(tuple(edge))
        wire.detach()
        self.removeItem(wire)

    def output_changed(self, old: str | None, new: str | None) -> None:
        for nid in (old, new):
            if nid in self.blocks:
                self.blocks[nid].set_output(nid == new)

    def show_problem(self, node_id: str | None, reason: str) -> None:
        """Outline the block at fault in red (its tooltip gives ``reason``); clear the others."""
        for nid, block in self.blocks.items():
            block.set_problem(reason if nid == node_id else None)

    def show_notice(self, text: str, at: QPointF) -> None:
        """A bubble near ``at`` saying ``text``, wholly inside the visible canvas."""
        view = self.views()[0] if self.views() else None
        if view is None:
            self.notice.set_text(text)
            self.notice.setPos(at)
        else:
            area = QRectF(view.viewport().rect()).adjusted(NOTICE_MARGIN, NOTICE_MARGIN,
                                                          -NOTICE_MARGIN, -NOTICE_MARGIN)
            self.notice.set_text(text, area.width())
            bubble = self.notice.boundingRect()          # in screen pixels: the notice ignores zoom
            anchor = view.viewportTransform().map(at)
            # Slide the bubble back inside the canvas where it would stick out.
            anchor.setX(min(max(anchor.x(), area.left() - bubble.left()), area.right() - bubble.right()))
            anchor.setY(min(max(anchor.y(), area.top() - bubble.top()), area.bottom() - bubble.bottom()))
            self.notice.setPos(view.viewportTransform().inverted()[0].map(anchor))
        self.notice.setVisible(True)
        self._notice_timer.start()
        self.status_message.emit(text)

    # -- selection ------------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        """Selected blocks, in the model's node order."""
        chosen = {item.node_id for item in self.selectedItems() if isinstance(item, BlockItem)}
        return [nid for nid in self.model.nodes if nid in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [item.edge for item in self.selectedItems() if isinstance(item, WireItem)]

    def select_only(self, node_ids) -> None:
        self.clearSelection()
        for nid in node_ids:
            self.blocks[nid].setSelected(True)

    # -- adding blocks (palette drops) -------------------------------------------------------
    def snapped(self, pos: QPointF, item=None) -> QPointF:
        """Grid-rounded position while the user drags (never for positions the model sets)."""
        if not self.snap_to_grid or (item is not None and not self._user_moving):
            return pos
        return QPointF(round(pos.x() / GRID) * GRID, round(pos.y() / GRID) * GRID)

    def drop_block(self, kind: str, pos: QPointF) -> None:
        """A palette block dropped at ``pos``: a new node, or the output marker onto a block."""
        if kind == "output":
            block = self.block_at(pos)
            if block is None:
                self.show_notice("Drop the output marker onto a block to make it the network's output", pos)
            elif block.node_id != self.model.output:
                self.undo_stack.push(SetOutput(self.model, block.node_id))
                self.status_message.emit(f"'{block.node_id}' is now the output")
            return
        node = default_node(kind, self.model.new_id(kind))
        at = self.free_spot([self.snapped(pos)])[0]
        self.undo_stack.beginMacro(f"Add {node['id']}")
        self.undo_stack.push(AddNodes(self.model, [node], {node["id"]: (at.x(), at.y())}))
        if self.model.output is None and kind != "input":
            # Until told otherwise, the first computing block is the output: a network
            # needs one to be valid, and the output marker can move it later.
            self.undo_stack.push(SetOutput(self.model, node["id"]))
        self.undo_stack.endMacro()
        self.select_only([node["id"]])
        self.status_message.emit(f"Added '{node['id']}'")

    def free_spot(self, centres: list[QPointF]) -> list[QPointF]:
        """New blocks' centres moved together, by whole grid steps, to the nearest place
        where none of them covers a block already on the canvas."""
        occupied = [block.sceneBoundingRect() for block in self.blocks.values()]
        dx, dy = free_offset([block_footprint(c) for c in centres], occupied, GRID)
        return [c + QPointF(dx, dy) for c in centres]

    def block_at(self, pos: QPointF) -> BlockItem | None:
        for item in self.items(pos):
            if isinstance(item, BlockItem):
                return item
            if isinstance(item, PortItem):
                return item.block
        return None

    # -- wiring ------------------------------------------------------------------------
    def connect_blocks(self, src: str, dst: str, at: QPointF | None = None) -> bool:
        ok, reason = self.model.can_connect(src, dst)
        if not ok:
            self.show_notice(f"Cannot wire {src} → {dst}: {reason}",
                             at if at is not None else self.blocks[dst].scenePos())
            return False
        self.undo_stack.push(AddEdge(self.model, (src, dst)))
        self.status_message.emit(f"Wired '{src}' to '{dst}'")
        return True

    def _start_wiring(self, port: PortItem) -> None:
        self._wiring = port
        me = port.block.node_id
        self._candidates = []
        for block in self.blocks.values():
            other = block.out_port if port.is_input else block.in_port
            if other is None:
                continue
            src, dst = (block.node_id, me) if port.is_input else (me, block.node_id)
            if self.model.can_connect(src, dst)[0]:
                self._candidates.append(other)
                other.set_highlight("candidate")
        self._snap = None
        self._drag_wire.set_snapped(False)
        self._drag_wire.setVisible(True)
        self._drag_wire.set_ends(port.scenePos(), port.scenePos())

    def _update_wiring(self, pos: QPointF, scale: float) -> None:
        limit = SNAP_PIXELS / max(scale, 1e-6)
        best, best_d = None, limit
        for port in self._candidates:
            d = (port.scenePos() - pos).manhattanLength()
            if d < best_d:
                best, best_d = port, d
        if best is not self._snap:
            if self._snap is not None:
                self._snap.set_highlight("candidate")
            if best is not None:
                best.set_highlight("snap")
            self._snap = best
            self._drag_wire.set_snapped(best is not None)
        anchor, free = self._wiring.scenePos(), best.scenePos() if best is not None else pos
        if self._wiring.is_input:
            self._drag_wire.set_ends(free, anchor)
        else:
            self._drag_wire.set_ends(anchor, free)

    def _finish_wiring(self, pos: QPointF) -> None:
        port, target = self._wiring, self._snap
        self._wiring, self._snap = None, None
        for candidate in self._candidates:
            candidate.set_highlight(None)
        self._candidates = []
        self._drag_wire.setVisible(False)
        if target is None:
            block = self.block_at(pos)
            if block is None:
                self.status_message.emit("Wire dropped on empty canvas: nothing connected")
                return
            if block is port.block:
                self.show_notice(f"Cannot wire {block.node_id} to itself: a block cannot feed itself", pos)
                return
            target = block.out_port if port.is_input else block.in_port
            if target is None:
                self.show_notice(f"Cannot wire {port.block.node_id} → {block.node_id}: "
                                 f"'{block.node_id}' is an input block: it takes no incoming wire", pos)
                return
        src, dst = (target.block, port.block) if port.is_input else (port.block, target.block)
        self.connect_blocks(src.node_id, dst.node_id, pos)

    # -- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            item = self.itemAt(event.scenePos(), self._view_transform(event))
            if isinstance(item, PortItem):
                self._start_wiring(item)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.LeftButton:
            self._user_moving = True
            self._press_positions = {nid: self.blocks[nid].pos() for nid in self.selected_ids()}

    def mouseMoveEvent(self, event):
        if self._wiring is not None:
            self._update_wiring(event.scenePos(), self._view_transform(event).m11())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._wiring is not None and event.button() == Qt.LeftButton:
            self._finish_wiring(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.LeftButton and self._user_moving:
            self._user_moving = False
            self._push_moves(self._press_positions, merge_key=None)
            self._press_positions = {}

    def mouseDoubleClickEvent(self, event):
        block = self.block_at(event.scenePos())
        if block is not None:
            self.block_activated.emit(block.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event):
        steps = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}
        if event.key() in steps and self.selected_ids():
            dx, dy = steps[event.key()]
            before = {nid: self.blocks[nid].pos() for nid in self.selected_ids()}
            for nid, pos in before.items():
                self.blocks[nid].setPos(pos + QPointF(dx * GRID, dy * GRID))
            self._push_moves(before, merge_key="nudge")
            event.accept()
            return
        super().keyPressEvent(event)

    def _push_moves(self, before: dict[str, QPointF], merge_key) -> None:
        old, new = {}, {}
        for nid, pos in before.items():
            block = self.blocks.get(nid)
            if block is not None and block.pos() != pos:
                old[nid], new[nid] = (pos.x(), pos.y()), (block.x(), block.y())
        if new:
            self.undo_stack.push(MoveNodes(self.model, old, new, merge_key=merge_key))

    @staticmethod
    def _view_transform(event) -> QTransform:
        view = event.widget().parentWidget() if event.widget() is not None else None
        return view.transform() if view is not None and hasattr(view, "transform") else QTransform()
