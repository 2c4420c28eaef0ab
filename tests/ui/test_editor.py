"""The network editor, driven like a user: real mouse and key events on the canvas.

Drag and drop from the palette: Qt's offscreen platform has no drag-and-drop
back end, so ``QDrag.exec`` returns at once without entering its nested loop and
no drop can reach the canvas that way.  The tests therefore check the two halves
separately: pressing and moving on a palette entry starts a QDrag carrying the
block's mime data, and the canvas handles real DragEnter/DragMove/Drop events (sent
with ``QApplication.sendEvent``) carrying that same mime data.  Everything else
(wiring port to port, moving, rubber-band selection, keys) uses real input events.
"""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QWheelEvent
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QApplication, QComboBox,
                               QGraphicsView, QLineEdit, QWidget)

from engine.graph import compile_plan, parse_network
from engine.io.weights import load_weights
from playground.project import build_session, load_project, parse_project, save_project
from ui.editor.commands import MoveNodes
from ui.editor.items import INVALID
from ui.editor.palette import mime_for
from ui.editor.widget import NetworkEditor

# Any Qt warning fails a test, except the offscreen platform's note when a top-level
# window first shows (it has no window manager to pass size hints to).
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]
EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
TIMEOUT = 3000


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


@pytest.fixture
def editor(qtbot):
    widget = NetworkEditor()
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitActive(widget)
    return widget


@pytest.fixture
def residual(editor):
    doc = example("residual")
    editor.set_network(doc["network"], doc.get("layout"))
    return editor


# -- gestures ---------------------------------------------------------------------------
def view_point(editor, scene_point: QPointF) -> QPoint:
    return editor.view.mapFromScene(scene_point)


def drag(qtbot, editor, start: QPoint, end: QPoint, steps: int = 8, button=Qt.LeftButton) -> None:
    viewport = editor.view.viewport()
    qtbot.mousePress(viewport, button, Qt.NoModifier, start)
    for k in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * k / steps)
    qtbot.mouseRelease(viewport, button, Qt.NoModifier, end)


def wire(qtbot, editor, src: str, dst: str, miss: QPoint = QPoint(0, 0)) -> None:
    """Drag from src's output port to dst's input port, released ``miss`` pixels away from it."""
    blocks = editor.scene.blocks
    start = view_point(editor, blocks[src].out_port.scenePos())
    end = view_point(editor, blocks[dst].in_port.scenePos()) + miss
    drag(qtbot, editor, start, end)


def click_block(qtbot, editor, node_id: str, modifier=Qt.NoModifier) -> None:
    block = editor.scene.blocks[node_id]
    qtbot.mouseClick(editor.view.viewport(), Qt.LeftButton, modifier,
                     view_point(editor, block.scenePos() + QPointF(0, 12)))


def drop(editor, kind: str, at: QPoint) -> bool:
    """The events a real drop delivers to the canvas; True if the canvas accepted the drag."""
    viewport, mime = editor.view.viewport(), mime_for(kind)
    enter = QDragEnterEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, enter)
    move = QDragMoveEvent(at, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, move)
    event = QDropEvent(QPointF(at), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(viewport, event)
    return enter.isAccepted() and move.isAccepted() and event.isAccepted()


def key(qtbot, editor, k, modifier=Qt.NoModifier) -> None:
    editor.view.setFocus()
    qtbot.keyClick(editor.view, k, modifier)


def project_with(network: dict, layout: dict | None = None, source: str = "circle") -> dict:
    doc = example(source)
    doc["network"] = network
    if layout is not None:
        doc["layout"] = layout
    return doc


def train_loss_falls(network: dict, steps: int = 200) -> tuple[float, float]:
    session = build_session(parse_project(project_with(network)))
    before = session.evaluate().train_loss
    session.step(steps)
    return before, session.evaluate().train_loss


# -- building a network with the mouse ------------------------------------------------------
def test_palette_entry_starts_a_drag_with_the_block_type(qtbot, editor):
    palette = editor.palette
    row = next(i for i in range(palette.count()) if palette.item(i).text() == "Dense")
    start = palette.visualItemRect(palette.item(row)).center()
    with qtbot.waitSignal(palette.drag_started, timeout=TIMEOUT) as started:
        qtbot.mousePress(palette.viewport(), Qt.LeftButton, Qt.NoModifier, start)
        for dx in (10, 20, 40):
            qtbot.mouseMove(palette.viewport(), start + QPoint(dx, 0))
    assert started.args == ["dense"]
    qtbot.mouseRelease(palette.viewport(), Qt.LeftButton, Qt.NoModifier, start + QPoint(40, 0))


def test_build_by_drop_and_wire_then_train(qtbot, editor):
    centre = editor.view.viewport().rect().center()
    assert drop(editor, "input", centre + QPoint(-300, 0))
    assert drop(editor, "dense", centre)
    assert drop(editor, "dense", centre + QPoint(250, 40))
    assert list(editor.model.nodes) == ["in1", "dense1", "dense2"]
    assert editor.model.output == "dense1"          # the first non-input block, until told otherwise
    assert editor.undo_stack.count() == 3           # one command per drop
    assert not drop(editor, "nonsense", centre) and len(editor.model.nodes) == 3
    # The output marker goes onto the last block.
    assert drop(editor, "output", view_point(editor, editor.scene.blocks["dense2"].scenePos()))
    assert editor.model.output == "dense2" and editor.scene.blocks["dense2"].is_output

    # The last block becomes a 1-unit sigmoid through the property panel.
    click_block(qtbot, editor, "dense2")
    assert editor.properties.node_id == "dense2"
    editor.properties.units.setValue(1)
    editor.properties.activation.setCurrentText("sigmoid")
    assert editor.model.nodes["dense2"] == {"id": "dense2", "type": "dense", "units": 1, "activation": "sigmoid"}

    # Wires: released 12 px off the port, the wire snaps to it.
    wire(qtbot, editor, "in1", "dense1", miss=QPoint(8, 12))
    with qtbot.waitSignal(editor.network_changed, timeout=TIMEOUT) as changed:
        wire(qtbot, editor, "dense1", "dense2", miss=QPoint(-6, -10))
    assert editor.model.edges == [("in1", "dense1"), ("dense1", "dense2")]
    network, layout = changed.args
    assert network == editor.network() and layout == editor.layout()
    plan = compile_plan(parse_network(network), 2)
    assert [s.node.id for s in plan.steps] == ["in1", "dense1", "dense2"]
    assert editor.validity() == (True, "")

    before, after = train_loss_falls(network)
    assert after < 0.8 * before


def test_wire_follows_the_mouse_and_snaps(qtbot, editor):
    editor.set_network({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "dense", "units": 2}],
                        "edges": [], "output": "a"}, {"in": [0, 0], "a": [300, 0]})
    viewport, scene = editor.view.viewport(), editor.scene
    start = view_point(editor, scene.blocks["in"].out_port.scenePos())
    port = view_point(editor, scene.blocks["a"].in_port.scenePos())
    qtbot.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    far = start + QPoint(60, 80)
    qtbot.mouseMove(viewport, far)
    assert scene._drag_wire.isVisible()
    assert scene._drag_wire.path().currentPosition() == editor.view.mapToScene(far)
    qtbot.mouseMove(viewport, port + QPoint(10, 10))
    assert scene._drag_wire.path().currentPosition() == scene.blocks["a"].in_port.scenePos()
    qtbot.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, port + QPoint(10, 10))
    assert not scene._drag_wire.isVisible()
    assert editor.model.edges == [("in", "a")]


CASES = {
    "cycle": ({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "dense", "units": 2},
                         {"id": "b", "type": "dense", "units": 2}], "edges": [["a", "b"]], "output": "b"},
              ("b", "a"), "cycle"),
    "second input into dense": ({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "dense", "units": 2},
                                           {"id": "b", "type": "dense", "units": 2}],
                                 "edges": [["in", "a"], ["in", "b"]], "output": "a"},
                                ("b", "a"), "exactly one input"),
    "self-loop": ({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "add"}], "edges": [],
                   "output": "a"}, ("a", "a"), "itself"),
    "duplicate": ({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "concat"}],
                   "edges": [["in", "a"]], "output": "a"}, ("in", "a"), "already wired"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_illegal_wire_is_refused_with_the_reason(qtbot, editor, case):
    network, (src, dst), reason = CASES[case]
    layout = {"in": [0, 0], "a": [250, 0], "b": [500, 0]}
    editor.set_network(network, {k: v for k, v in layout.items() if k in {n["id"] for n in network["nodes"]}})
    before = editor.network()
    with qtbot.waitSignal(editor.status_message, timeout=TIMEOUT,
                          check_params_cb=lambda text: reason in text) as refused:
        wire(qtbot, editor, src, dst)
    assert refused.args[0].startswith(f"Cannot wire {src}")
    assert editor.network() == before and editor.undo_stack.count() == 0
    assert editor.scene.notice.isVisible() and reason in editor.scene.notice.text


def test_wire_into_an_input_block_is_refused(qtbot, editor):
    editor.set_network({"nodes": [{"id": "in", "type": "input"}, {"id": "a", "type": "dense", "units": 2}],
                        "edges": [], "output": "a"}, {"in": [300, 0], "a": [0, 0]})
    start = view_point(editor, editor.scene.blocks["a"].out_port.scenePos())
    end = view_point(editor, editor.scene.blocks["in"].scenePos())
    with qtbot.waitSignal(editor.status_message, timeout=TIMEOUT,
                          check_params_cb=lambda text: "input block" in text):
        drag(qtbot, editor, start, end)
    assert editor.model.edges == []


# -- editing and undo ---------------------------------------------------------------------------
def test_delete_undo_redo_restore_the_graph_exactly(qtbot, residual):
    editor = residual
    network, layout = editor.network(), editor.layout()
    click_block(qtbot, editor, "h2")
    click_block(qtbot, editor, "sum", Qt.ControlModifier)
    assert editor.scene.selected_ids() == ["h2", "sum"]
    key(qtbot, editor, Qt.Key_Delete)
    assert "h2" not in editor.model.nodes and "sum" not in editor.model.nodes
    assert editor.model.edges == [("in", "h1"), ("act", "out")]
    assert len(editor.scene.blocks) == 5 and len(editor.scene.wires) == 2
    key(qtbot, editor, Qt.Key_Z, Qt.ControlModifier)
    assert editor.network() == network and editor.layout() == layout
    assert len(editor.scene.blocks) == 7 and len(editor.scene.wires) == 7
    key(qtbot, editor, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    assert "h2" not in editor.model.nodes and len(editor.scene.blocks) == 5


def test_move_is_one_command_and_undo_restores_the_position(qtbot, residual):
    editor = residual
    editor.view.resetTransform()
    editor.view.centerOn(editor.scene.blocks["h1"])
    start = editor.layout()["h1"]
    grab = view_point(editor, editor.scene.blocks["h1"].scenePos() + QPointF(0, 12))
    with qtbot.waitSignal(editor.layout_changed, timeout=TIMEOUT):
        drag(qtbot, editor, grab, grab + QPoint(93, 47), steps=20)
    assert editor.undo_stack.count() == 1
    moved = editor.layout()["h1"]
    assert moved == [start[0] + 100, start[1] + 40]         # (93, 47) snapped to the 20-unit grid
    wire_end = editor.scene.wires[("in", "h1")].path().currentPosition()
    assert wire_end == editor.scene.blocks["h1"].in_port.scenePos()
    key(qtbot, editor, Qt.Key_Z, Qt.ControlModifier)
    assert editor.layout()["h1"] == start
    assert editor.scene.blocks["h1"].pos() == QPointF(*start)


def test_property_change_and_undo(qtbot, residual):
    editor = residual
    click_block(qtbot, editor, "h2")
    panel = editor.properties
    panel.units.setValue(12)
    panel.units.setValue(16)            # consecutive changes of one field merge
    panel.activation.setCurrentText("leaky_relu")
    panel.alpha.setValue(0.2)
    node = editor.model.nodes["h2"]
    assert node["units"] == 16 and node["activation"] == "leaky_relu" and node["alpha"] == 0.2
    assert editor.scene.blocks["h2"].node["units"] == 16
    assert editor.undo_stack.count() == 3
    editor.undo_stack.undo()
    editor.undo_stack.undo()
    assert editor.model.nodes["h2"] == {"id": "h2", "type": "dense", "units": 16, "activation": "tanh"}
    assert panel.activation.currentText() == "tanh"
    editor.undo_stack.undo()
    assert editor.network() == example("residual")["network"]
    assert panel.units.value() == 8


def test_double_click_edits_and_arrow_nudges_merge(qtbot, residual):
    editor = residual
    block = editor.scene.blocks["act"]
    qtbot.mouseDClick(editor.view.viewport(), Qt.LeftButton, Qt.NoModifier,
                      view_point(editor, block.scenePos() + QPointF(0, 12)))
    assert editor.scene.selected_ids() == ["act"] and editor.properties.fn.hasFocus()
    editor.properties.fn.setCurrentText("gelu")
    assert editor.scene.blocks["act"].node["fn"] == "gelu"
    start = editor.layout()["act"]
    for _ in range(3):
        key(qtbot, editor, Qt.Key_Right)
    key(qtbot, editor, Qt.Key_Down)
    assert editor.layout()["act"] == [start[0] + 60, start[1] + 20]
    assert editor.undo_stack.count() == 2               # the property, then one merged nudge
    editor.undo_stack.undo()
    assert editor.layout()["act"] == start


def test_rubber_band_duplicate_and_rename(qtbot, residual):
    editor = residual
    blocks = editor.scene.blocks
    # A band from above-left of h2 to below-right of h3 takes those two.
    corner_a = view_point(editor, blocks["h2"].sceneBoundingRect().topLeft() - QPointF(10, 30))
    corner_b = view_point(editor, blocks["h3"].sceneBoundingRect().bottomRight() + QPointF(10, 5))
    drag(qtbot, editor, corner_a, corner_b)
    assert editor.scene.selected_ids() == ["h2", "h3"]
    key(qtbot, editor, Qt.Key_D, Qt.ControlModifier)
    assert list(editor.model.nodes)[-2:] == ["dense1", "dense2"]
    assert ("dense1", "dense2") in editor.model.edges and editor.scene.selected_ids() == ["dense1", "dense2"]
    editor.undo_stack.undo()
    assert editor.network() == example("residual")["network"]

    click_block(qtbot, editor, "h3")
    key(qtbot, editor, Qt.Key_F2)
    id_edit = editor.properties.id_edit
    assert id_edit.hasFocus()
    id_edit.selectAll()
    qtbot.keyClicks(id_edit, "h1")                # taken: refused, with the reason
    with qtbot.waitSignal(editor.status_message, check_params_cb=lambda t: "already used" in t):
        qtbot.keyClick(id_edit, Qt.Key_Return)
    assert "h3" in editor.model.nodes and id_edit.text() == "h3"
    id_edit.selectAll()
    qtbot.keyClicks(id_edit, "skip")
    qtbot.keyClick(id_edit, Qt.Key_Return)
    assert ("h2", "skip") in editor.model.edges and ("skip", "sum") in editor.model.edges
    assert "skip" in editor.layout() and "skip" in editor.scene.blocks
    editor.undo_stack.undo()
    assert editor.network() == example("residual")["network"]


def test_zoom_pan_fit_and_auto_layout(qtbot, residual):
    editor, view = residual, residual.view
    viewport = view.viewport()
    zoom = view.zoom()
    centre = QPointF(viewport.rect().center())
    wheel = QWheelEvent(centre, QPointF(viewport.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 240),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert view.zoom() == pytest.approx(min(zoom * 1.15 ** 2, 3.0))
    before = view.mapToScene(viewport.rect().center())
    drag(qtbot, editor, viewport.rect().center(), viewport.rect().center() + QPoint(-120, 0),
         button=Qt.MiddleButton)
    after = view.mapToScene(viewport.rect().center())
    assert after.x() - before.x() == pytest.approx(120 / view.zoom(), abs=2)
    # Space held: a left drag on empty canvas pans instead of drawing a rubber band.
    view.setFocus()
    qtbot.keyPress(view, Qt.Key_Space)
    drag(qtbot, editor, QPoint(20, 20), QPoint(20, 100))
    qtbot.keyRelease(view, Qt.Key_Space)
    assert view.mapToScene(viewport.rect().center()).y() - after.y() == pytest.approx(-80 / view.zoom(), abs=2)
    assert editor.scene.selected_ids() == [] and editor.undo_stack.count() == 0    # panning is not an edit

    editor.undo_stack.push(MoveNodes(editor.model, {"act": (1000, 0)}, {"act": (50, 400)}))
    # Wide enough for the laid-out network at a readable size (a fit never shrinks text
    # below that; a wider drawing would be shown from its input side).
    editor.resize(1500, 700)
    qtbot.waitUntil(lambda: editor.view.viewport().width() > 1000)
    editor.auto_layout()
    assert editor.layout() == {"in": [0, 0], "h1": [200, 0], "h2": [400, -50], "h3": [600, -50],
                               "sum": [800, 0], "act": [1000, 0], "out": [1200, 0]}
    visible = view.mapToScene(viewport.rect()).boundingRect()
    assert all(visible.contains(b.sceneBoundingRect()) for b in editor.scene.blocks.values())
    editor.undo_stack.undo()
    assert editor.layout()["act"] == [50, 400]


# -- loading, validity, saving ---------------------------------------------------------------------
def test_residual_example_loads_validates_and_trains(qtbot, editor):
    doc = example("residual")
    with qtbot.waitSignal(editor.validity_changed, timeout=TIMEOUT) as verdict:
        editor.set_network(doc["network"], None)
    assert verdict.args == [True, ""]
    assert set(editor.scene.blocks) == {n["id"] for n in doc["network"]["nodes"]}
    assert len(editor.scene.wires) == len(doc["network"]["edges"])
    assert editor.scene.blocks["out"].is_output
    assert editor.undo_stack.count() == 0 and editor.network() == doc["network"]
    editor.set_input_width(2)
    assert editor.validity() == (True, "")
    before, after = train_loss_falls(editor.network())
    assert after < before


def test_invalid_graph_outlines_the_block_in_red(qtbot, residual):
    editor = residual
    editor.view.fit()
    wire_item = editor.scene.wires[("act", "out")]
    mid = view_point(editor, wire_item.path().pointAtPercent(0.5))
    qtbot.mouseClick(editor.view.viewport(), Qt.LeftButton, Qt.NoModifier, mid)
    assert editor.scene.selected_edges() == [("act", "out")]
    with qtbot.waitSignal(editor.validity_changed, timeout=TIMEOUT) as verdict:
        key(qtbot, editor, Qt.Key_Delete)
    ok, reason = verdict.args
    assert not ok and "'out'" in reason and "exactly one incoming edge" in reason
    block = editor.scene.blocks["out"]
    assert block.problem == reason and reason in block.toolTip()
    assert all(b.problem is None for nid, b in editor.scene.blocks.items() if nid != "out")
    assert reason in editor.validity_label.text()
    # The outline is drawn: the block's frame on screen holds the warning red.
    image = editor.view.viewport().grab(editor.view.mapFromScene(block.sceneBoundingRect()).boundingRect()).toImage()
    reds = sum(QColor(image.pixel(x, y)) == INVALID for x in range(image.width()) for y in range(image.height()))
    assert reds > 50
    received = []
    editor.network_changed.connect(lambda n, l: received.append(n))
    with qtbot.waitSignal(editor.validity_changed, timeout=TIMEOUT) as verdict:
        key(qtbot, editor, Qt.Key_Z, Qt.ControlModifier)
    assert verdict.args == [True, ""] and block.problem is None
    assert received == []          # back to the network last reported: nothing to rebuild


def test_add_width_mismatch_needs_the_input_width(qtbot, editor):
    network = copy.deepcopy(example("residual")["network"])
    network["nodes"][3]["units"] = 4                    # h3 -> 4 units, h1 has 8: sum cannot add them
    editor.set_network(network, None)
    assert editor.validity() == (True, "")
    with qtbot.waitSignal(editor.validity_changed, timeout=TIMEOUT) as verdict:
        editor.set_input_width(2)
    assert not verdict.args[0] and "equal width" in verdict.args[1]
    assert editor.scene.blocks["sum"].problem == verdict.args[1]


def test_no_output_and_empty_graph_say_why(qtbot, editor):
    assert editor.validity()[0] is False and "empty" in editor.validity()[1]
    editor.set_network({"nodes": [{"id": "in", "type": "input"}], "edges": [], "output": None})
    assert "output" in editor.validity()[1]


def test_save_and_reopen_keeps_the_project_and_trains_the_same(qtbot, editor, tmp_path):
    original = load_project(EXAMPLES / "residual.json")
    editor.set_network(original.document["network"], original.document.get("layout"))
    click_block(qtbot, editor, "h3")
    key(qtbot, editor, Qt.Key_Right)                      # one nudge so the layout is not the automatic one
    saved = original.with_changes(network=editor.network(), layout=editor.layout())
    path = tmp_path / "edited.json"
    save_project(saved, path)
    reopened = load_project(path)
    assert reopened.document == saved.document
    assert reopened.document["layout"]["h3"] == [620, -50]

    editor.set_network(reopened.document["network"], reopened.document["layout"])
    assert editor.network() == original.document["network"] and editor.layout() == saved.document["layout"]

    weights = tmp_path / "w.npz"
    run = subprocess.run([sys.executable, "-m", "playground", "train", str(path), "--steps", "50",
                          "--save-weights", str(weights), "--quiet"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    session = build_session(original)
    session.step(50)
    from_cli = load_weights(weights)
    assert set(from_cli) == set(session.weights())
    for name, value in session.weights().items():
        np.testing.assert_array_equal(from_cli[name], value)


def _inside_compound(widget) -> bool:
    """Part of a spin box or combo box (its line edit, its popup list): named through its owner."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            return True
        parent = parent.parentWidget()
    return False


def test_every_control_has_an_accessible_name_and_a_tooltip(residual):
    editor = residual
    editor.scene.select_only(["h1"])
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView, QGraphicsView)
    controls = [w for w in editor.findChildren(QWidget) if isinstance(w, kinds) and not _inside_compound(w)]
    assert len(controls) >= 20
    missing = [f"{type(w).__name__} {w.objectName() or w.accessibleName()!r}" for w in controls
               if not w.accessibleName() or not w.toolTip()]
    assert missing == []
    palette = editor.palette
    assert all(palette.item(i).toolTip() for i in range(palette.count()))
