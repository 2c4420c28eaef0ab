"""``NetworkEditor``: the drag-and-drop network editor as one widget.

Palette on the left, canvas in the middle, the selected block's properties on the
right, a toolbar above.  The editor validates with the engine after each edit (not
during a drag) and reports:

* ``validity_changed(ok, reason)`` whenever the verdict changes (and after
  ``set_network``); the block at fault is outlined in red with the reason as tooltip;
* ``network_changed(network, layout)`` when an edit leaves a valid network that
  differs from the last one reported or loaded;
* ``layout_changed(layout)`` after blocks were moved; ``status_message(text)`` for
  what an edit did or why it was refused;
* ``drawing_changed(drawing)`` after an edit, with the graph as drawn
  (``{"network", "layout"}``) while it is not the network last reported or loaded
  (an unfinished drawing the project does not hold: unsaved work), else None.

``restore_drawing`` puts such a drawing back (crash recovery), exactly as drawn.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QToolButton, QVBoxLayout,
                               QWidget)

from ui.editor.commands import AddNodes, AutoLayout, RemoveItems, SetOutput
from ui.editor.model import GraphModel, GraphObserver
from ui.editor.palette import BlockPalette
from ui.editor.properties import PropertyPanel
from ui.editor.scene import EditorScene
from ui.editor.view import EditorView

DUPLICATE_OFFSET = 40.0
PANEL_WIDTH = 240
BANNER_STYLE = "QFrame#recoveredBanner { background: #fff4e5; border: 1px solid #e0a040; border-radius: 4px; }" \
               " QFrame#recoveredBanner QLabel { color: #4a3000; }"


class NetworkEditor(QWidget, GraphObserver):
    network_changed = Signal(object, object)      # (network dict, layout dict), only when valid
    validity_changed = Signal(bool, str)
    layout_changed = Signal(object)
    status_message = Signal(str)
    drawing_changed = Signal(object)              # the unfinished drawing, or None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Network editor")
        self.model = GraphModel()
        self.undo_stack = QUndoStack(self)
        self.scene = EditorScene(self.model, self.undo_stack, self)
        self.view = EditorView(self.scene)
        self.palette = BlockPalette()
        self.properties = PropertyPanel(self.model, self.undo_stack)
        # In a scroll area, rows shown or hidden per block type never change the
        # window's minimum size (and a short window can still reach every field).
        self.properties_area = QScrollArea()
        self.properties_area.setWidget(self.properties)
        self.properties_area.setWidgetResizable(True)
        self.properties_area.setFrameShape(QFrame.NoFrame)
        self.properties_area.setFixedWidth(PANEL_WIDTH)
        self.properties_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.properties_area.setAccessibleName("Block properties area")
        self.properties_area.setToolTip("The selected block's fields")
        self.validity_label = QLabel()
        self.validity_label.setWordWrap(True)
        self.validity_label.setContentsMargins(6, 2, 6, 4)
        self.validity_label.setAccessibleName("Network validity")
        self.validity_label.setToolTip("Whether the engine can run this network, and if not, why")
        self._input_width: int | None = None
        self._validity: tuple[bool, str] | None = None
        self._reported_network: dict = self.model.to_network()      # nothing drawn, nothing to keep
        self._unfinished: dict | None = None
        self._validate_timer = QTimer(self, singleShot=True, interval=0)
        self._validate_timer.timeout.connect(self._revalidate)
        self._layout_timer = QTimer(self, singleShot=True, interval=0)
        self._layout_timer.timeout.connect(self._on_moved)
        self._make_banner()

        # A row of tool buttons rather than a QToolBar: outside a QMainWindow a toolbar
        # only adds an overflow button and platform warnings.
        self.toolbar = QWidget()
        self._tools = QHBoxLayout(self.toolbar)
        self._tools.setContentsMargins(4, 2, 4, 2)
        self._tools.setSpacing(2)
        self._make_actions()
        self._tools.addStretch(1)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.palette)
        body.addWidget(self.view, 1)
        body.addWidget(self.properties_area)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        layout.addWidget(self.validity_label)

        self.model.subscribe(self)
        self.scene.selectionChanged.connect(self._on_selection)
        self.scene.block_activated.connect(self._on_activated)
        self.scene.status_message.connect(self.status_message)
        self.view.status_message.connect(self.status_message)
        self.properties.status_message.connect(self.status_message)
        self.palette.block_requested.connect(self._add_at_centre)
        self._on_selection()
        self._revalidate()

    # -- public API ---------------------------------------------------------------------
    def set_network(self, network: dict, layout: dict | None = None, keep_view: bool = False) -> None:
        """Show ``network`` (the project's section) with ``layout`` positions; not undoable.

        Nodes without a position are laid out automatically.  The view is fitted to
        the new drawing unless ``keep_view`` (the same project, changed elsewhere).
        ``validity_changed`` is emitted with the verdict; ``network_changed`` is not
        (the caller has it).
        """
        self.undo_stack.clear()
        self.model.load(network, layout)
        self._validate_timer.stop()
        self._layout_timer.stop()
        self._reported_network = self.model.to_network()
        self._validity = None
        self.banner.hide()
        self._revalidate()
        if not keep_view:
            self.view.request_fit()

    def network(self) -> dict:
        return self.model.to_network()

    def held_network(self) -> dict:
        """The network last loaded or reported: the one the project holds.  It differs
        from ``network()`` while the drawing is unfinished."""
        return self._reported_network

    def drawing(self) -> dict:
        """The graph exactly as drawn, valid or not: {"network": ..., "layout": ...}."""
        return {"network": self.model.to_network(), "layout": self.model.layout()}

    def unfinished_drawing(self) -> dict | None:
        """``drawing()`` while it is not the network the project holds, else None."""
        return self.drawing() if self.model.to_network() != self._reported_network else None

    def restore_drawing(self, drawing: dict) -> None:
        """Put back a drawing saved by a crashed session, exactly as drawn (positions
        too), over the project's network, which stays the one training uses until the
        drawing is a valid network; a notice above the canvas says so."""
        held = self._reported_network
        self.set_network(drawing["network"], drawing.get("layout"))
        self._reported_network = held
        self._revalidate()
        ok, reason = self.validity()
        if ok:
            self.banner_text.setText("Your drawing from the last session is back, exactly as you left it.")
        else:
            self.banner_text.setText("Your drawing from the last session is back, exactly as you left it. "
                                     f"It is not a valid network yet: {reason}. Training uses the last valid "
                                     "network until it is.")
        self.banner.show()
        self.status_message.emit("Recovered the graph editor's drawing from the last session")

    def layout(self) -> dict:
        """{node id: [x, y]} for every block (its centre, in scene units)."""
        return self.model.layout()

    def set_input_width(self, width: int | None) -> None:
        """The data's feature count, so ``add`` width mismatches are caught; None: unknown."""
        self._input_width = width
        self._revalidate()

    def validity(self) -> tuple[bool, str]:
        if self._validate_timer.isActive():
            self._validate_timer.stop()
            self._revalidate()
        return self._validity

    # -- validation ---------------------------------------------------------------------
    # GraphObserver
    def node_moved(self, nid: str) -> None:
        self._layout_timer.start()

    def structure_changed(self) -> None:
        # Coalesce: a command can change many things; check once when it is done.
        self._validate_timer.start()

    def _on_moved(self) -> None:
        self.layout_changed.emit(self.model.layout())
        self._report_drawing()

    def _report_drawing(self) -> None:
        unfinished = self.unfinished_drawing()
        if unfinished != self._unfinished:
            self._unfinished = unfinished
            self.drawing_changed.emit(unfinished)

    def _revalidate(self) -> None:
        verdict = self.model.validate(self._input_width)
        self.scene.show_problem(verdict.node_id if not verdict.ok else None, verdict.reason)
        count = len(self.model.nodes)
        self.validity_label.setText(f"Valid network: {count} block{'s' * (count != 1)}" if verdict.ok
                                    else f"Not runnable: {verdict.reason}")
        self.validity_label.setStyleSheet("" if verdict.ok else "color: #d62728")
        if (verdict.ok, verdict.reason) != self._validity:
            self._validity = (verdict.ok, verdict.reason)
            self.validity_changed.emit(verdict.ok, verdict.reason)
        if verdict.ok:
            self.banner.hide()      # a recovered drawing that is now complete needs no notice
            network = self.model.to_network()
            if network != self._reported_network:
                self._reported_network = network
                self.network_changed.emit(network, self.model.layout())
        self._report_drawing()

    # -- actions ------------------------------------------------------------------------
    def _make_banner(self) -> None:
        """A notice above the canvas for a drawing brought back after a crash."""
        self.banner = QFrame()
        self.banner.setObjectName("recoveredBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setAccessibleName("Recovered drawing notice")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_text.setAccessibleName("Recovered drawing")
        self.banner_text.setToolTip("The graph editor's drawing was saved by the autosave before the app closed "
                                    "unexpectedly")
        dismiss = QPushButton("Dismiss")
        dismiss.setAccessibleName("Dismiss recovered drawing notice")
        dismiss.setToolTip("Hide this notice (the drawing stays)")
        dismiss.clicked.connect(self.banner.hide)
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.banner_text, 1)
        row.addWidget(dismiss, 0, Qt.AlignTop)
        self.banner.hide()

    def _action(self, action: QAction, tip: str, shortcuts=()) -> QAction:
        sequences = []
        for s in shortcuts:
            for seq in (QKeySequence.keyBindings(s) if isinstance(s, QKeySequence.StandardKey) else [QKeySequence(s)]):
                if seq not in sequences:
                    sequences.append(seq)
        action.setShortcuts(sequences)
        action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        keys = ", ".join(s.toString(QKeySequence.NativeText) for s in sequences)
        action.setToolTip(f"{tip} ({keys})" if keys else tip)
        self.addAction(action)
        button = QToolButton()
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setAccessibleName(action.text())
        self._tools.addWidget(button)
        return action

    def _separator(self) -> None:
        self._tools.addSpacing(10)

    def _make_actions(self) -> None:
        # Fixed texts (not QUndoStack.createUndoAction's "Undo <command>"), so the toolbar
        # does not reflow after every edit; the tooltip names the command.
        self.undo_action = self._action(QAction("Undo", self), "Undo the last edit", [QKeySequence.Undo])
        self.redo_action = self._action(QAction("Redo", self), "Redo the edit just undone",
                                        ["Ctrl+Shift+Z", QKeySequence.Redo])
        self.undo_action.triggered.connect(self.undo_stack.undo)
        self.redo_action.triggered.connect(self.undo_stack.redo)
        self.undo_stack.indexChanged.connect(self._update_undo_actions)
        self.undo_stack.cleanChanged.connect(self._update_undo_actions)
        self._update_undo_actions()
        self._separator()
        self.delete_action = self._action(QAction("Delete", self), "Delete the selected blocks and wires",
                                          [QKeySequence.Delete])
        self.delete_action.triggered.connect(self.delete_selection)
        self.duplicate_action = self._action(QAction("Duplicate", self), "Duplicate the selected blocks",
                                             ["Ctrl+D"])
        self.duplicate_action.triggered.connect(self.duplicate_selection)
        self.rename_action = self._action(QAction("Rename", self), "Rename the selected block", ["F2"])
        self.rename_action.triggered.connect(self.rename_selection)
        self.output_action = self._action(QAction("Set as output", self),
                                          "Make the selected block the network's output")
        self.output_action.triggered.connect(self.set_selection_as_output)
        self._separator()
        self.layout_action = self._action(QAction("Auto-layout", self),
                                          "Arrange the blocks in columns by their distance from the input")
        self.layout_action.triggered.connect(self.auto_layout)
        self.fit_action = self._action(QAction("Fit", self), "Zoom to show every block, as far as text stays "
                                       "readable; F on the canvas", ["Ctrl+Shift+F"])
        self.fit_action.triggered.connect(lambda: self.view.fit())
        self.snap_action = self._action(QAction("Snap to grid", self), "Round block positions to the grid "
                                        "while dragging")
        self.snap_action.setCheckable(True)
        self.snap_action.setChecked(self.scene.snap_to_grid)
        self.snap_action.toggled.connect(lambda on: setattr(self.scene, "snap_to_grid", on))

    def _update_undo_actions(self, *_) -> None:
        for action, can, text, verb in ((self.undo_action, self.undo_stack.canUndo(), self.undo_stack.undoText(), "Undo"),
                                        (self.redo_action, self.undo_stack.canRedo(), self.undo_stack.redoText(), "Redo")):
            action.setEnabled(can)
            keys = action.shortcut().toString(QKeySequence.NativeText)
            tip = f"{verb}: {text} ({keys})" if can else f"Nothing to {verb.lower()} ({keys})"
            action.setToolTip(tip)

    def _on_selection(self) -> None:
        ids = self.scene.selected_ids()
        self.properties.show_node(ids[0] if len(ids) == 1 else None)
        self.delete_action.setEnabled(bool(ids or self.scene.selected_edges()))
        self.duplicate_action.setEnabled(bool(ids))
        self.rename_action.setEnabled(len(ids) == 1)
        self.output_action.setEnabled(len(ids) == 1)

    def _on_activated(self, node_id: str) -> None:
        self.scene.select_only([node_id])
        self.properties.focus_field()

    def _add_at_centre(self, kind: str) -> None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        if kind == "output":
            self.set_selection_as_output()
        else:
            self.scene.drop_block(kind, QPointF(centre))

    def delete_selection(self) -> None:
        ids, edges = self.scene.selected_ids(), self.scene.selected_edges()
        if ids or edges:
            self.undo_stack.push(RemoveItems(self.model, ids, [e for e in edges if e[0] not in ids and e[1] not in ids]))

    def duplicate_selection(self) -> None:
        ids = self.scene.selected_ids()
        if not ids:
            return
        renamed: dict[str, str] = {}
        for nid in ids:
            renamed[nid] = self.model.new_id(self.model.nodes[nid]["type"], taken=set(renamed.values()))
        nodes = [{**self.model.nodes[nid], "id": renamed[nid]} for nid in ids]
        wanted = [QPointF(*self.model.positions[nid]) + QPointF(DUPLICATE_OFFSET, DUPLICATE_OFFSET) for nid in ids]
        positions = {renamed[nid]: (at.x(), at.y()) for nid, at in zip(ids, self.scene.free_spot(wanted))}
        edges = [(renamed[s], renamed[d]) for s, d in self.model.edges if s in renamed and d in renamed]
        self.undo_stack.push(AddNodes(self.model, nodes, positions, edges, text=f"Duplicate {len(ids)} "
                                      f"block{'s' * (len(ids) != 1)}"))
        self.scene.select_only(renamed.values())

    def rename_selection(self) -> None:
        ids = self.scene.selected_ids()
        if len(ids) != 1:
            self.status_message.emit("Select one block to rename it")
            return
        self.properties.focus_field(rename=True)

    def set_selection_as_output(self) -> None:
        ids = self.scene.selected_ids()
        if len(ids) != 1:
            self.status_message.emit("Select one block to make it the output")
        elif ids[0] != self.model.output:
            self.undo_stack.push(SetOutput(self.model, ids[0]))

    def auto_layout(self) -> None:
        command = AutoLayout(self.model)
        if command.new != command.old:
            self.undo_stack.push(command)
        self.view.fit()
