"""Editing a weight by hand in the neuron view (issue 13, item 2), in a real window with
real clicks and keys: a click on an edge opens its editor, a typed value with Enter
sets the weight in the engine, and the next frame's loss, output map and the chain
rule for that weight are the new weights' (checked against an explicit forward pass
and central differences); Ctrl+Z and Edit > Undo put the old value back, Esc cancels,
the slider edits live and counts as one edit."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionSlider

from tests.ui.conftest import WAIT_MS, wait_frame
from tests.weight_edit_reference import bce, dense_layers, forward

EDGE = ("h2", 1, 3)             # h1[3] -> h2[1] in the spiral example
TENSOR, INDEX = "h2.weight", (1, 3)


@pytest.fixture
def window(make_window):
    return make_window("spiral.json")


def weight_of(frame) -> float:
    return float(frame.snapshot.weights[TENSOR][INDEX])


def click_edge(qtbot, window, edge=EDGE):
    view = window.network_view
    point = view.view.mapFromScene(view.edge_path(*edge).pointAtPercent(0.3))   # edges cross at midpoints
    qtbot.mouseClick(view.view.viewport(), Qt.LeftButton, Qt.NoModifier, point)
    return view.editor


def type_weight(qtbot, editor, text: str) -> None:
    """As a user types: into the focused box (the editor selects its text when it opens)."""
    assert QApplication.focusWidget() is editor.box
    editor.box.lineEdit().selectAll()
    qtbot.keyClicks(editor.box, text)
    qtbot.keyClick(editor.box, Qt.Key_Return)


def row_loss(weights, info, layers, row: int) -> float:
    X, y = info.dataset.X_train[row:row + 1], info.dataset.y_train[row:row + 1]
    return bce(forward(weights, X, layers), y)


def test_typing_a_weight_updates_the_loss_the_output_map_and_its_chain_rule(qtbot, window):
    view, info = window.network_view, window.controller.session_info
    layers = dense_layers(window.keeper.project)
    old = weight_of(window.controller.latest_frame)
    with qtbot.waitSignal(view.weight_selected, timeout=WAIT_MS) as picked:
        editor = click_edge(qtbot, window)
    assert picked.args == [TENSOR, INDEX] and editor.isVisible()
    assert editor.title.text() == "Weight h1[3] → h2[1]"
    # The Why? tab follows the picked weight (without taking the neuron view's place).
    assert window.views.currentWidget() is view
    assert (window.why_panel.layer.currentText(), window.why_panel.unit.value(),
            window.why_panel.source.value()) == EDGE
    assert QApplication.focusWidget() is editor.box and editor.box.lineEdit().selectedText() == editor.box.text()

    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: e.chain.value == 0.75) as explained:
        type_weight(qtbot, editor, "0.75")
    frame = wait_frame(qtbot, window, lambda f: weight_of(f) == 0.75)
    weights = frame.snapshot.weights
    assert frame.snapshot.step == 0 and old != 0.75
    # The loss of the new weights, by an explicit forward pass, in the editor and the status bar.
    loss = bce(forward(weights, info.dataset.X_train, layers), info.dataset.y_train)
    assert frame.evaluation.train_loss == pytest.approx(loss, rel=1e-10)
    qtbot.waitUntil(lambda: editor.loss.text().startswith(f"Loss: train {loss:.4f}"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.status.labels["loss"].full_text.startswith(f"Loss train {loss:.4f}"),
                    timeout=WAIT_MS)
    assert editor.now.text() == "w = 0.75 now"
    # The output map is the new network's.
    grid = frame.grid
    x1 = np.linspace(grid.extent[0], grid.extent[1], grid.resolution)
    x2 = np.linspace(grid.extent[2], grid.extent[3], grid.resolution)
    cells = [(r, c) for r in (0, 20, 49) for c in (3, 31)]
    np.testing.assert_allclose([grid.output[r, c] for r, c in cells],
                               forward(weights, np.array([[x1[c], x2[r]] for r, c in cells]), layers)[:, 0],
                               rtol=1e-10)
    # The chain rule for that weight at its new value: dL/dw by central differences of the row's loss.
    chain = explained.args[0].chain
    assert (chain.weight, chain.unit, chain.source) == (TENSOR, *INDEX)
    h, nudged = 1e-6, {k: np.array(v, dtype=np.float64) for k, v in weights.items()}
    nudged[TENSOR][INDEX] = 0.75 + h
    up = row_loss(nudged, info, layers, chain.row)
    nudged[TENSOR][INDEX] = 0.75 - h
    down = row_loss(nudged, info, layers, chain.row)
    assert chain.backprop == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)
    qtbot.waitUntil(lambda: chain.numbers in editor.chain.text(), timeout=WAIT_MS)


def test_ctrl_z_and_edit_undo_put_the_old_weight_back(qtbot, window):
    old = weight_of(window.controller.latest_frame)
    editor = click_edge(qtbot, window)
    type_weight(qtbot, editor, "-1.25")
    wait_frame(qtbot, window, lambda f: weight_of(f) == -1.25)
    edits = window.weight_edits
    assert edits.undo_action.isEnabled() and edits.undo_action.text() == f"Undo weight {TENSOR}[1, 3] = -1.25"
    qtbot.keyClick(editor.box, Qt.Key_Escape)
    assert not editor.isVisible() and QApplication.focusWidget() is window.network_view.view
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Z, Qt.ControlModifier)
    wait_frame(qtbot, window, lambda f: weight_of(f) == old)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    wait_frame(qtbot, window, lambda f: weight_of(f) == -1.25)
    menu_undo = next(a for a in window.menuBar().actions()[1].menu().actions() if a.text().startswith("Undo weight"))
    menu_undo.trigger()
    wait_frame(qtbot, window, lambda f: weight_of(f) == old)
    assert not edits.undo_action.isEnabled()


def test_escape_closes_the_editor_without_applying_what_was_typed(qtbot, window):
    before = weight_of(window.controller.latest_frame)
    editor = click_edge(qtbot, window)
    qtbot.keyClicks(editor.box, "2.5")
    qtbot.keyClick(editor.box, Qt.Key_Escape)
    assert not editor.isVisible()
    received = window.frames_received
    window.controller.request_frame()
    frame = wait_frame(qtbot, window, lambda f: window.frames_received > received)
    assert weight_of(frame) == before and window.weight_edits.stack.count() == 0


def test_a_click_beside_the_edges_closes_the_editor(qtbot, window):
    editor = click_edge(qtbot, window)
    assert editor.isVisible()
    view = window.network_view
    corner = view.view.mapFromScene(view._content.topLeft()) - QPoint(2, 2)   # outside every edge
    qtbot.mouseClick(view.view.viewport(), Qt.LeftButton, Qt.NoModifier, corner)
    assert not editor.isVisible()


def _handle_centre(slider) -> QPoint:
    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    return slider.style().subControlRect(QStyle.CC_Slider, option, QStyle.SC_SliderHandle, slider).center()


def test_dragging_the_slider_sets_the_weight_live_and_undoes_as_one_edit(qtbot, window):
    old = weight_of(window.controller.latest_frame)
    editor = click_edge(qtbot, window)
    slider = editor.slider
    start = _handle_centre(slider)
    qtbot.mousePress(slider, Qt.LeftButton, Qt.NoModifier, start)
    assert slider.isSliderDown()
    for dx in (10, 25, 40):
        where = QPointF(start + QPoint(dx, 0))
        QApplication.sendEvent(slider, QMouseEvent(QEvent.MouseMove, where, slider.mapToGlobal(where),
                                                   Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
    live = slider.value() / 100
    assert live > old
    wait_frame(qtbot, window, lambda f: weight_of(f) == live)          # before the release: live
    assert window.weight_edits.stack.count() == 0
    qtbot.mouseRelease(slider, Qt.LeftButton, Qt.NoModifier, start + QPoint(40, 0))
    assert window.weight_edits.stack.count() == 1
    assert editor.box.value() == live
    window.weight_edits.undo_action.trigger()
    wait_frame(qtbot, window, lambda f: weight_of(f) == old)


def test_the_graph_editor_keeps_ctrl_z_while_it_is_shown(qtbot, window):
    editor = click_edge(qtbot, window)
    type_weight(qtbot, editor, "0.5")
    undo = window.weight_edits.undo_action
    assert undo.isEnabled()
    window.views.setCurrentWidget(window.editor)
    assert not undo.isEnabled()         # one action per key: the editor's own Undo is not shadowed
    window.views.setCurrentWidget(window.network_view)
    assert undo.isEnabled()


def test_a_new_network_or_reset_clears_the_weight_history(qtbot, window):
    editor = click_edge(qtbot, window)
    type_weight(qtbot, editor, "0.5")
    wait_frame(qtbot, window, lambda f: weight_of(f) == 0.5)
    window.toolbar.reset_action.trigger()
    assert window.weight_edits.stack.count() == 0


def test_the_editors_why_button_opens_the_chain_rule_tab_on_that_weight(qtbot, window):
    editor = click_edge(qtbot, window)
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: (e.chain.weight, e.chain.unit, e.chain.source) == (TENSOR, *INDEX)):
        qtbot.mouseClick(editor.why_button, Qt.LeftButton)
    assert window.views.currentWidget() is window.why_panel
    qtbot.waitUntil(lambda: f"{TENSOR}[1, 3]" in window.why_panel.formula.text(), timeout=WAIT_MS)
