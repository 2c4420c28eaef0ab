"""Crash recovery keeps the graph editor's drawing as drawn (issue 12, item 3).

A drawing that is not a valid network yet (a block not wired, no output) never
reaches the project, so an autosave of the project alone lost it.  The autosave
record now carries the editor's graph beside the project (the project file format
is untouched), and recovery puts it back into the editor, positions and all, saying
that it is not a valid network yet.
"""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QTabBar

from tests.ui.conftest import EXAMPLES, WAIT_MS, Answers
from tests.ui.test_editor import drag, view_point

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"^This plugin does not support propagateSizeHints\(\)$")]


def click_tab(qtbot, window, widget) -> None:
    bar = window.views.findChild(QTabBar)
    qtbot.mouseClick(bar, Qt.LeftButton, Qt.NoModifier, bar.tabRect(window.views.indexOf(widget)).center())
    assert window.views.currentWidget() is widget


def add_from_palette(qtbot, editor, label: str) -> None:
    """Double-click a palette entry: the block is added on the canvas."""
    palette = editor.palette
    row = next(i for i in range(palette.count()) if palette.item(i).text() == label)
    entry = palette.visualItemRect(palette.item(row)).center()
    before = len(editor.model.nodes)
    qtbot.mouseClick(palette.viewport(), Qt.LeftButton, Qt.NoModifier, entry)
    qtbot.mouseDClick(palette.viewport(), Qt.LeftButton, Qt.NoModifier, entry)
    assert len(editor.model.nodes) == before + 1


def draw_unfinished(qtbot, window) -> tuple[dict, dict]:
    """Add a block that is wired to nothing, and drag another to a new place."""
    editor = window.editor
    click_tab(qtbot, window, editor)
    with qtbot.waitSignal(editor.validity_changed, timeout=WAIT_MS, check_params_cb=lambda ok, _: not ok):
        add_from_palette(qtbot, editor, "Dense")
    grab = view_point(editor, editor.scene.blocks["h1"].scenePos() + QPointF(0, 12))
    with qtbot.waitSignal(editor.layout_changed, timeout=WAIT_MS):
        drag(qtbot, editor, grab, grab + QPoint(30, 60), steps=10)
    ok, reason = editor.validity()
    assert not ok and "dense1" in reason
    return editor.network(), editor.layout()


def crash_and_restart(qtbot, window, make_window):
    window.controller.shutdown()            # a crash: no close, the recovery file stays
    second = make_window("spiral.json")
    second.resize(1366, 768)
    return second


def test_unfinished_drawing_comes_back_after_a_crash(qtbot, make_window):
    window = make_window("circle.json")
    project_network = window.keeper.project.document["network"]
    network, layout = draw_unfinished(qtbot, window)
    assert network != project_network and "dense1" in layout
    assert window.keeper.dirty              # unsaved work, even though the project itself is unchanged
    assert window.windowTitle().split(" — ")[0].endswith("*")
    window.autosave.save_now()
    record = json.loads(window.autosave.path.read_text())
    assert record["drawing"] == {"network": network, "layout": layout}
    assert record["project"]["network"] == project_network         # the project stays a valid project

    second = crash_and_restart(qtbot, window, make_window)
    assert second.offer_recovery()
    editor = second.editor
    assert second.views.currentWidget() is editor
    assert editor.network() == network and editor.layout() == layout
    assert {nid: [b.pos().x(), b.pos().y()] for nid, b in editor.scene.blocks.items()} == layout
    ok, reason = editor.validity()
    assert not ok and "dense1" in reason
    assert editor.banner.isVisible() and "not a valid network yet" in editor.banner_text.text()
    assert reason in editor.banner_text.text()
    assert not second.toolbar.play_action.isEnabled()
    # The project trains the last valid network; the drawing is still unsaved work.
    assert second.keeper.project.document["network"] == project_network
    assert second.keeper.dirty
    second.autosave.save_now()
    assert json.loads(second.autosave.path.read_text())["drawing"]["network"] == network

    # Deleting the stray block makes the drawing a valid network again: the notice goes.
    editor.scene.select_only(["dense1"])
    with qtbot.waitSignal(editor.validity_changed, timeout=WAIT_MS, check_params_cb=lambda ok, _: ok):
        editor.view.setFocus()
        qtbot.keyClick(editor.view, Qt.Key_Delete)
    assert not editor.banner.isVisible()
    second.prompter = Answers(unsaved="discard")
    assert second.close() and not second.autosave.path.exists()


def test_drawing_survives_a_training_setting_change(qtbot, make_window):
    """Changing the learning rate (any project change that is not the network) keeps the drawing."""
    window = make_window("circle.json")
    network, layout = draw_unfinished(qtbot, window)
    training = json.loads(json.dumps(window.keeper.project.training))
    training["optimizer"]["lr"] = 0.05
    assert window.keeper.set_learning_rate(training, 0.05)
    assert window.editor.network() == network and window.editor.layout() == layout


def test_recovery_without_a_drawing_shows_the_project(qtbot, make_window):
    window = make_window("circle.json")
    click_tab(qtbot, window, window.network_view)
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS):
        qtbot.mouseClick(window.network_view.controls.units["h1"].plus, Qt.LeftButton)
    network = window.keeper.project.document["network"]
    window.autosave.save_now()
    assert "drawing" not in json.loads(window.autosave.path.read_text())
    second = crash_and_restart(qtbot, window, make_window)
    assert second.offer_recovery()
    assert second.editor.network() == network and not second.editor.banner.isVisible()
    assert second.editor.validity() == (True, "")


BAD_DRAWINGS = {
    "not an object": [],
    "no network": {"layout": {}},
    "nodes not a list": {"network": {"nodes": {}, "edges": [], "output": None}, "layout": {}},
    "unknown block type": {"network": {"nodes": [{"id": "x", "type": "lstm"}], "edges": [], "output": None},
                           "layout": {}},
    "two blocks with one id": {"network": {"nodes": [{"id": "x", "type": "input"}, {"id": "x", "type": "input"}],
                                           "edges": [], "output": None}, "layout": {}},
    "a wire to nowhere": {"network": {"nodes": [{"id": "in", "type": "input"}], "edges": [["in", "gone"]],
                                      "output": None}, "layout": {}},
    "bad units": {"network": {"nodes": [{"id": "d", "type": "dense", "units": "many"}], "edges": [],
                              "output": "d"}, "layout": {}},
    "position not numbers": {"network": {"nodes": [{"id": "in", "type": "input"}], "edges": [], "output": None},
                             "layout": {"in": ["left", 0]}},
    "position far away": {"network": {"nodes": [{"id": "in", "type": "input"}], "edges": [], "output": None},
                          "layout": {"in": [1e300, 0]}},
}


@pytest.mark.parametrize("case", list(BAD_DRAWINGS))
def test_a_damaged_drawing_is_set_aside_with_its_reason(qtbot, make_window, case):
    window = make_window("circle.json")
    project = json.loads((EXAMPLES / "circle.json").read_text())
    window.autosave.path.write_text(json.dumps({"source": None, "project": project, "drawing": BAD_DRAWINGS[case]}))
    second = crash_and_restart(qtbot, window, make_window)
    assert second.offer_recovery() is False
    (kind, kept_as, reason), = second.prompter.asked
    assert kind == "unreadable" and kept_as.exists() and "drawing" in reason
    assert not second.autosave.path.exists()
