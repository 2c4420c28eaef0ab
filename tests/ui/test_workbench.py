"""The main window as one workbench: the graph editor, the neuron view, the
project file and the training session stay in step; unsaved work is protected;
the "Why?" dock explains the live network."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt

from playground.project import load_project
from ui.editor.commands import MoveNodes
from tests.ui.conftest import WAIT_MS, Answers, wait_frame


def units_of(info, node_id):
    return next(s.width for s in info.plan.steps if s.node.id == node_id)


def set_units_outside_the_editor(qtbot, window, node_id: str, units: int) -> None:
    """What the neuron view's +/- buttons send: a new network section; waits for the rebuild."""
    network = json.loads(json.dumps(window.keeper.project.document["network"]))
    next(n for n in network["nodes"] if n["id"] == node_id)["units"] = units
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS,
                          check_params_cb=lambda info: units_of(info, node_id) == units):
        window.network_view.network_edited.emit(network)


def test_editor_edit_rebuilds_the_session_and_trains(qtbot, make_window):
    window = make_window("residual.json")
    window.views.setCurrentWidget(window.editor)
    editor = window.editor
    assert set(editor.model.nodes) == {"in", "h1", "h2", "h3", "sum", "act", "out"}
    editor.scene.blocks["h2"].setSelected(True)
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS,
                          check_params_cb=lambda info: units_of(info, "h2") == 12):
        editor.properties.units.setValue(12)
    assert window.keeper.dirty and window.keeper.project.graph.node("h2").units == 12
    qtbot.keyClick(window.network_view, Qt.Key_Space)
    first = window.controller.latest_frame.evaluation.train_loss
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 300 and f.evaluation.train_loss < first)
    window.controller.pause()


def test_invalid_graph_disables_play_with_the_reason(qtbot, make_window):
    window = make_window("residual.json")
    editor = window.editor
    window.views.setCurrentWidget(editor)
    with qtbot.waitSignal(editor.validity_changed, timeout=WAIT_MS):
        editor.scene.wires[("act", "out")].setSelected(True)
        editor.delete_selection()
    play = window.toolbar.play_action
    assert not play.isEnabled()
    assert "exactly one incoming edge" in window.statusBar().currentMessage()
    assert "exactly one incoming edge" in play.toolTip()
    with qtbot.waitSignal(editor.validity_changed, timeout=WAIT_MS):
        editor.undo_stack.undo()
    assert play.isEnabled()


def test_plus_button_change_reaches_the_editor(qtbot, window):
    """An edit outside the editor (the neuron view's +/- buttons) is drawn in it."""
    set_units_outside_the_editor(qtbot, window, "h1", 5)
    assert window.editor.model.nodes["h1"]["units"] == 5


def test_save_keeps_the_editor_layout(qtbot, window, tmp_path):
    editor = window.editor
    block = editor.scene.blocks["h1"]
    start = [block.pos().x(), block.pos().y()]
    with qtbot.waitSignal(editor.layout_changed, timeout=WAIT_MS):
        editor.undo_stack.push(MoveNodes(editor.model, {"h1": start}, {"h1": [start[0] + 200, 40]}))
    path = tmp_path / "moved.json"
    assert window.documents.save_project(path)
    saved = load_project(path)
    assert saved.document["layout"]["h1"] == editor.layout()["h1"]
    assert not window.keeper.dirty


def test_unsaved_changes_prompt_on_close(qtbot, make_window):
    window = make_window("circle.json")
    set_units_outside_the_editor(qtbot, window, "h1", 6)
    window.prompter = Answers(unsaved="cancel")
    assert not window.close()
    assert window.isVisible() and window.prompter.asked == [("unsaved", window.keeper.project.name)]
    window.prompter = Answers(unsaved="discard")
    assert window.close()


def test_autosave_is_offered_back_after_a_crash(qtbot, make_window):
    window = make_window("circle.json")
    set_units_outside_the_editor(qtbot, window, "h1", 7)
    window.autosave.save_now()
    assert window.autosave.path.is_file()
    window.controller.shutdown()        # a crash: no close, the recovery file stays
    second = make_window("spiral.json")
    with qtbot.waitSignal(second.controller.session_changed, timeout=WAIT_MS,
                          check_params_cb=lambda info: units_of(info, "h1") == 7):
        assert second.offer_recovery()
    assert second.keeper.dirty and second.prompter.asked[0][0] == "restore"
    second.prompter = Answers(unsaved="discard")
    assert second.close() and not second.autosave.path.exists()


def test_why_dock_explains_the_live_network(qtbot, window):
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS):
        window.views.setCurrentWidget(window.why_panel)         # showing the tab asks for numbers
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: e.chain.weight == "h2.weight"):
        window.why_panel.select_weight("h2", 0, 0)
    assert "dL/dw" in window.why_panel.formula.text() and "agrees" in window.why_panel.check.text()


def test_clicking_an_edge_shows_the_chain_rule_for_that_weight(qtbot, window):
    view = window.network_view
    path = view.edge_path("h2", 1, 3)
    point = view.view.mapFromScene(path.pointAtPercent(0.3))   # (edges cross at their midpoints)
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: (e.chain.weight, e.chain.unit, e.chain.source) == ("h2.weight", 1, 3)):
        qtbot.mouseClick(view.view.viewport(), Qt.LeftButton, Qt.NoModifier, point)
    # The click opens the weight editor on the diagram; its button leads to the chain rule.
    assert view.editor.isVisible() and window.views.currentWidget() is view
    qtbot.mouseClick(view.editor.why_button, Qt.LeftButton)
    assert window.views.currentWidget() is window.why_panel
    qtbot.waitUntil(lambda: "h2.weight[1, 3]" in window.why_panel.formula.text(), timeout=WAIT_MS)


def test_race_tab_runs_the_ticked_optimisers_from_the_same_weights(qtbot, make_window):
    window = make_window("xor.json")
    panel = window.race_panel
    window.views.setCurrentWidget(panel)
    for name, box in panel.boxes.items():
        box.setChecked(name in ("gd", "lbfgs", "nelder_mead"))
    panel.budget.setValue(200)
    before = window.controller.latest_frame.snapshot.weights["h1.weight"].copy()
    with qtbot.waitSignal(window.controller.raced, timeout=60_000) as raced:
        qtbot.mouseClick(panel.start, Qt.LeftButton)
    traces = raced.args[0]
    assert [t.method for t in traces] == ["gd", "lbfgs", "nelder_mead"]
    assert len({round(float(t.losses[0]), 12) for t in traces}) == 1      # one common start
    assert all(t.method in panel.summary.text() for t in traces)
    assert len(panel.plot.getPlotItem().listDataItems()) == 3 and panel.start.isEnabled()
    frame = wait_frame(qtbot, window, lambda f: True)
    assert (frame.snapshot.weights["h1.weight"] == before).all()          # the race used copies


def test_stable_learning_rate_is_shown_beside_the_learning_rate(qtbot, window):
    panel = window.training_panel
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: e.curvature is not None) as got:
        qtbot.mouseClick(panel.stable_lr, Qt.LeftButton)
    curvature = got.args[0].curvature
    assert f"{curvature.stable_lr:.3g}" in panel.curvature.text() and "2/λ" in panel.curvature.text()
    # the example trains with Adam: the limit is plain GD's, not Adam's
    assert got.args[0].optimizer == "adam" and "no limit for adam" in panel.curvature.text()


def test_one_hidden_layer_gets_its_own_activation(qtbot, window):
    box = window.network_view.controls.activations["h2"]
    assert box.accessibleName() == "Activation of h2" and box.toolTip()

    def relu_in_h2_only(info):
        acts = {s.node.id: s.node.activation for s in info.plan.dense_steps}
        return acts == {"h1": "tanh", "h2": "relu", "h3": "tanh", "out": "sigmoid"}
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS, check_params_cb=relu_in_h2_only):
        box.setCurrentIndex(box.findData("relu"))
    assert window.editor.model.nodes["h2"]["activation"] == "relu"       # the editor shows it too
    assert window.network_view.controls.activations["h2"].currentData() == "relu"
