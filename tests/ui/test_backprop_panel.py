"""The backward-pass tab against a real engine: real clicks and keys, and every number it
shows read back from the diagram's texts and the side text, then held against the
engine's own forward and backward pass on that row (Network.forward / backward, not the
trace the panel draws from)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.backward_trace import DELTA_RULES
from playground.project import build_session, load_project
from playground.worker import TrainingController
from tests.playground.backprop_reference import row_reference
from ui.panels.backprop_panel import BackpropPanel
from ui.panels.backprop_text import BACKWARD, FORWARD, ROW, UPDATE
from ui.panels.teaching_text import number

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
WAIT = 10_000
TRAINED = 40            # steps before tracing: weights away from their start
FLOAT = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"


def close(shown: str, value: float) -> bool:
    """``shown`` is ``value`` to the four significant digits the panel prints."""
    return float(shown) == pytest.approx(value, rel=6e-4, abs=1e-300)


def wire(c: TrainingController, panel: BackpropPanel) -> None:
    """The connections the main window makes."""
    c.session_changed.connect(panel.set_session)
    c.trace_ready.connect(panel.show_trace)
    c.trace_failed.connect(panel.show_failure)
    c.frame_ready.connect(lambda frame: panel.note_step(frame.snapshot.step))
    panel.trace_requested.connect(c.request_trace)


@pytest.fixture
def circle():
    return load_project(EXAMPLES / "circle.json")


@pytest.fixture
def setup(qtbot, circle):
    """A controller trained TRAINED steps on the circle example and the tab showing its row 0."""
    c = TrainingController()
    panel = BackpropPanel()
    qtbot.addWidget(panel)
    wire(c, panel)
    with qtbot.waitSignal(c.session_changed, timeout=WAIT):
        c.set_project(circle)
    c.step(TRAINED)
    qtbot.waitUntil(lambda: c.latest_frame is not None and c.latest_frame.snapshot.step == TRAINED, timeout=WAIT)
    panel.resize(1200, 720)
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT):
        panel.show()
        qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=WAIT)
    yield c, panel
    c.shutdown()


def reference(c, project, row: int):
    snapshot = c.latest_frame.snapshot
    return row_reference(build_session(project), snapshot.weights, row, snapshot.lr)


def value_of(panel, kind: str, node: str, unit: int) -> str:
    text = panel.diagram.shown_texts()[(kind, node, unit)]
    prefix = {"z": "z=", "a": "a=", "delta": "δ=", "x": "x="}[kind]
    assert text.startswith(prefix)
    return text[len(prefix):]


def click_neuron(qtbot, panel, node: str, unit: int) -> None:
    qtbot.mouseClick(panel.diagram, Qt.LeftButton, pos=panel.diagram.neuron_center(node, unit).toPoint())
    qtbot.waitUntil(lambda: panel.focus == (node, unit), timeout=WAIT)


DENSE = ("h1", "h2", "out")


def test_forward_shows_the_engines_z_and_a_and_the_edges_w_times_a(qtbot, setup, circle):
    c, panel = setup
    assert panel.phase == ROW and not any(k[0] in ("z", "a") for k in panel.diagram.shown_texts())
    qtbot.mouseClick(panel.buttons[FORWARD], Qt.LeftButton)
    assert panel.phase == FORWARD
    ref = reference(c, circle, 0)
    for i in range(2):
        assert close(value_of(panel, "x", "in", i), ref.a["in"][i])
    for node in DENSE:
        for u in range(len(ref.a[node])):
            assert close(value_of(panel, "z", node, u), ref.z[node][u])
            assert close(value_of(panel, "a", node, u), ref.a[node][u])
    click_neuron(qtbot, panel, "h2", 1)
    shown = panel.diagram.shown_texts()
    for i in range(4):          # the edges into h2[1] carry w * a of h1
        text = shown[("edge", "h2", 1, i)]
        assert text.startswith("w·a=") and close(text[4:], ref.weight["h2"][1, i] * ref.a["h1"][i])
    side = panel.details.toPlainText()
    assert f"= {number(ref.z['h2'][1])}" in side and f"tanh(z) = {number(ref.a['h2'][1])}" in side


def test_backward_key_shows_each_delta_and_the_sum_broken_out(qtbot, setup, circle):
    c, panel = setup
    click_neuron(qtbot, panel, "h1", 2)
    qtbot.keyClick(panel.diagram, Qt.Key_B)
    assert panel.phase == BACKWARD
    ref = reference(c, circle, 0)
    for node in DENSE:
        for u in range(len(ref.delta[node])):
            assert close(value_of(panel, "delta", node, u), ref.delta[node][u])
    side = panel.details.toPlainText().replace("\n", " ")
    # delta_h1[2] = f'(z)=S × (w0×d0 + w1×d1) = ...: every factor is the engine's.
    match = re.search(rf"f'\(z\)=({FLOAT}) × \((.*?)\) = ", side)
    slope, terms = float(match.group(1)), match.group(2)
    assert slope == pytest.approx(1 - ref.a["h1"][2] ** 2, rel=6e-4)      # tanh' = 1 - a^2
    pairs = re.findall(rf"({FLOAT})×\(?({FLOAT})\)?", terms)
    assert len(pairs) == 2
    for k, (w, d) in enumerate(pairs):
        assert close(w, ref.weight["h2"][k, 2]) and close(d, ref.delta["h2"][k])
    assert f"= {number(ref.delta['h1'][2])} " in side + " "
    shown = panel.diagram.shown_texts()
    for k in range(2):          # the same terms on h1[2]'s edges to h2
        assert close(shown[("term", "h2", k, 2)][4:], ref.weight["h2"][k, 2] * ref.delta["h2"][k])
    assert f"{number(ref.delta['h1'][2])}" in panel.slope.text() and f"{number(slope)}" in panel.slope.text()


def test_the_output_delta_is_p_minus_y_where_the_loss_cancels_f_prime(qtbot, setup, circle):
    c, panel = setup
    qtbot.mouseClick(panel.buttons[BACKWARD], Qt.LeftButton)
    click_neuron(qtbot, panel, "out", 0)
    ref = reference(c, circle, 0)
    y = float(np.ravel(build_session(circle).y_train[0])[0])
    side = panel.details.toPlainText()
    p = ref.a["out"][0]
    assert f"p - y = {number(p)} - {number(y)} = {number(ref.delta['out'][0])}" in side
    assert DELTA_RULES["cancelled"] in side
    assert "cancel" in panel.slope.text() and number(p * (1 - p)) in panel.slope.text()


def test_update_shows_each_weights_step_before_and_after_and_the_rows_loss(qtbot, setup, circle):
    c, panel = setup
    click_neuron(qtbot, panel, "h2", 0)
    qtbot.keyClick(panel.diagram, Qt.Key_U)
    assert panel.phase == UPDATE
    ref = reference(c, circle, 0)
    lr = c.latest_frame.snapshot.lr
    shown = panel.diagram.shown_texts()
    side = panel.details.toPlainText()
    for i in range(4):
        step = -lr * ref.weight_grad["h2"][0, i]
        assert shown[("edge", "h2", 0, i)].startswith("Δw=") and close(shown[("edge", "h2", 0, i)][3:], step)
        before, after = ref.weight["h2"][0, i], ref.weight["h2"][0, i] + step
        assert f"= {number(step)}: {number(before)} → {number(after)}" in side
    assert f"{number(ref.loss)} before, {number(ref.loss_after)} after the step" in side
    assert f"loss {number(ref.loss)} → {number(ref.loss_after)} after the step" in panel.summary.text()
    assert "adam" in side and "not changed" in side         # what the traced step is not


def test_run_one_step_shows_all_three_phases_at_once(qtbot, setup):
    _, panel = setup
    qtbot.keyClick(panel.diagram, Qt.Key_R)
    assert panel.phase == UPDATE
    kinds = {key[0] for key in panel.diagram.shown_texts()}
    assert {"z", "a", "delta", "edge"} <= kinds
    assert [t for t in ("Forward", "Backward", "Update") if t in panel.details.toPlainText()] == \
        ["Forward", "Backward", "Update"]


def test_arrow_keys_move_the_chosen_neuron(qtbot, setup):
    _, panel = setup
    click_neuron(qtbot, panel, "h1", 0)
    qtbot.keyClick(panel.diagram, Qt.Key_Down)
    assert panel.focus == ("h1", 1)
    qtbot.keyClick(panel.diagram, Qt.Key_Right)
    assert panel.focus == ("h2", 1)
    assert panel.details.toPlainText().startswith("h2[1]")


def test_the_row_box_and_choose_row_trace_other_rows(qtbot, setup, circle):
    c, panel = setup
    panel.row.setFocus()
    panel.row.lineEdit().selectAll()
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT, check_params_cb=lambda rt: rt.trace.row == 12):
        qtbot.keyClicks(panel.row, "12")
    qtbot.keyClick(panel.row, Qt.Key_F)         # the tab's keys work from the row box too
    assert panel.phase == FORWARD and "Row 12 of the training set" in panel.summary.text()
    ref = reference(c, circle, 12)
    assert close(value_of(panel, "a", "out", 0), ref.a["out"][0])
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT):
        panel.choose_row(3)
    assert panel.row.value() == 3 and "Row 3 of the training set" in panel.summary.text()
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT):
        panel.choose_row(4, "test")
    assert panel.row.accessibleName() == "Test row" and "Row 4 of the test set" in panel.summary.text()


def test_training_on_marks_the_trace_stale_and_refresh_retraces(qtbot, setup):
    c, panel = setup
    assert not panel.stale.isVisible() and f"weights of step {TRAINED}" in panel.summary.text()
    c.step(5)
    qtbot.waitUntil(panel.stale.isVisible, timeout=WAIT)
    assert f"step {TRAINED}" in panel.stale.text() and f"step {TRAINED + 5}" in panel.stale.text()
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT):
        qtbot.mouseClick(panel.refresh, Qt.LeftButton)
    assert not panel.stale.isVisible() and f"weights of step {TRAINED + 5}" in panel.summary.text()


def test_a_concat_network_says_why_it_cannot_be_traced(qtbot, setup):
    c, panel = setup
    with qtbot.waitSignal(c.session_changed, timeout=WAIT):
        c.set_project(load_project(EXAMPLES / "concat.json"))
    assert "cannot be traced" in panel.hint.text() and "concatenates" in panel.hint.text()
    assert not any(b.isEnabled() for b in (*panel.buttons.values(), panel.run_step, panel.refresh))
    assert panel.diagram.shown_texts() == {}


def test_a_wide_layer_shows_numbers_on_the_chosen_neuron_only(qtbot, setup, circle):
    c, panel = setup
    network = dict(circle.document["network"])
    network["nodes"] = [dict(n, units=12) if n["id"] == "h1" else n for n in network["nodes"]]
    wide = circle.with_changes(network=network)
    with qtbot.waitSignal(c.trace_ready, timeout=WAIT):
        c.set_project(wide)
    qtbot.keyClick(panel.diagram, Qt.Key_R)
    click_neuron(qtbot, panel, "h1", 7)
    shown = panel.diagram.shown_texts()
    numbered = {(key[1], key[2]) for key in shown if key[0] in ("z", "a", "delta", "x")}
    assert numbered == {("h1", 7)} and not any(key[0] in ("edge", "term") for key in shown)
    ref = row_reference(build_session(wide), c.latest_frame.snapshot.weights, 0, c.latest_frame.snapshot.lr)
    assert close(value_of(panel, "delta", "h1", 7), ref.delta["h1"][7])
    assert panel.details.toPlainText().count("]: Δw =") == 2      # its two input weights, listed on the right


def test_the_why_text_can_be_hidden_and_shown(qtbot, setup):
    _, panel = setup
    assert panel.why.isVisible() and "derivative of the transfer function" in panel.why.text()
    qtbot.mouseClick(panel.why_toggle, Qt.LeftButton)
    assert not panel.why.isVisible()
    qtbot.mouseClick(panel.why_toggle, Qt.LeftButton)
    assert panel.why.isVisible()


def test_every_control_has_a_name(setup):
    _, panel = setup
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QTextBrowser
    for kind in (QAbstractButton, QAbstractSpinBox, QTextBrowser):
        for widget in panel.findChildren(kind):
            assert widget.accessibleName(), widget
    assert panel.diagram.accessibleName()
    assert np.all([b.toolTip() for b in panel.buttons.values()])
