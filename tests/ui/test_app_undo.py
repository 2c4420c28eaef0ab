"""Edit > Undo for project edits in a real window, with real keys and clicks: the
learning rate typed in its box, a hidden layer added with the + button, and a weight
edited by hand share one history, undone in reverse order; Open and New clear it."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import EXAMPLES, WAIT_MS, wait_frame
from tests.ui.test_weight_edit import INDEX, TENSOR, click_edge, type_weight, weight_of


def hidden_layers(window) -> list[str]:
    return [s.node.id for s in window.controller.session_info.plan.dense_steps][:-1]


def type_learning_rate(qtbot, window, text: str):
    box = window.training_panel.learning_rate
    qtbot.mouseClick(box.lineEdit(), Qt.LeftButton)
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box.lineEdit(), Qt.Key_Return)
    return box


def ctrl_z(qtbot, shift=False):
    modifiers = Qt.ControlModifier | (Qt.ShiftModifier if shift else Qt.NoModifier)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Z, modifiers)


def test_ctrl_z_in_the_learning_rate_box_takes_the_typed_rate_back(qtbot, window):
    assert window.controller.latest_frame.snapshot.lr == 0.01
    box = type_learning_rate(qtbot, window, "0.03")
    wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.03)
    assert window.undo.undo_action.text() == "Undo learning rate 0.03"
    assert QApplication.focusWidget() is box            # the key goes where the user typed
    ctrl_z(qtbot)
    assert box.currentText() == "0.01" and window.keeper.project.training["optimizer"]["lr"] == 0.01
    wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.01)
    assert window.undo.redo_action.text() == "Redo learning rate 0.03"
    ctrl_z(qtbot, shift=True)
    assert box.currentText() == "0.03"
    wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.03)
    assert window.undo.stack.count() == 1               # undo and redo pushed nothing


def test_ctrl_z_takes_back_a_hidden_layer_added_with_the_plus_button(qtbot, window):
    network = window.keeper.project.document["network"]
    assert hidden_layers(window) == ["h1", "h2", "h3"]
    qtbot.mouseClick(window.network_view.controls.layers.plus, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(hidden_layers(window)) == 4, timeout=WAIT_MS)
    assert window.undo.undo_action.text() == "Undo 4 hidden layers (restarts training)"
    window.network_view.view.setFocus()
    ctrl_z(qtbot)
    assert window.keeper.project.document["network"] == network
    qtbot.waitUntil(lambda: hidden_layers(window) == ["h1", "h2", "h3"], timeout=WAIT_MS)
    assert window.undo.redo_action.text() == "Redo 4 hidden layers (restarts training)"


def test_a_weight_edit_and_a_rate_change_undo_in_reverse_order(qtbot, window):
    old_weight = weight_of(window.controller.latest_frame)
    window.controller.pause()
    type_weight(qtbot, click_edge(qtbot, window), "-1.25")
    wait_frame(qtbot, window, lambda f: weight_of(f) == -1.25)
    qtbot.keyClick(window.network_view.editor.box, Qt.Key_Escape)
    type_learning_rate(qtbot, window, "0.3")
    wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.3)
    undo = window.undo.undo_action
    assert undo.text() == "Undo learning rate 0.3"
    ctrl_z(qtbot)
    frame = wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.01)
    assert weight_of(frame) == -1.25                    # the weight edit is still there
    assert undo.text() == f"Undo weight {TENSOR}[{INDEX[0]}, {INDEX[1]}] = -1.25"
    ctrl_z(qtbot)
    wait_frame(qtbot, window, lambda f: weight_of(f) == old_weight and f.snapshot.lr == 0.01)
    assert not undo.isEnabled() and undo.text() == "Undo"


def test_a_change_the_engine_refuses_leaves_no_undo(qtbot, window):
    training = dict(window.keeper.project.training, loss="cross_entropy")   # one sigmoid output: refused
    with qtbot.waitSignal(window.keeper.reverted, timeout=WAIT_MS):
        window.keeper.failed.disconnect()           # no message box in a test
        window.keeper.rebuild({"training": training}, True)
    assert window.undo.stack.count() == 0 and not window.undo.undo_action.isEnabled()


def test_open_and_new_clear_the_history(qtbot, window):
    type_learning_rate(qtbot, window, "0.03")
    assert window.undo.stack.count() == 1
    window.documents.open_project(str(EXAMPLES / "xor.json"))
    assert window.undo.stack.count() == 0 and not window.undo.undo_action.isEnabled()
    type_learning_rate(qtbot, window, "0.07")
    assert window.undo.stack.count() == 1
    window.file_actions["new"].trigger()
    assert window.undo.stack.count() == 0


def test_the_window_undo_steps_aside_while_the_graph_editor_is_shown(qtbot, window):
    type_learning_rate(qtbot, window, "0.03")
    undo = window.undo.undo_action
    assert undo.isEnabled()
    window.views.setCurrentWidget(window.editor)
    assert not undo.isEnabled()
    window.views.setCurrentWidget(window.network_view)
    assert undo.isEnabled()


def test_ctrl_z_while_typing_undoes_the_typing_not_the_project(qtbot, window):
    type_learning_rate(qtbot, window, "0.03")
    box = window.training_panel.learning_rate
    qtbot.keyClicks(box.lineEdit(), "5")                # not sent yet
    assert box.currentText() == "0.035"
    ctrl_z(qtbot)
    assert box.currentText() != "0.035"                 # the box's own undo took the typing back...
    assert window.keeper.project.training["optimizer"]["lr"] == 0.03 and window.undo.stack.index() == 1   # ...only
