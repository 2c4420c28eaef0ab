"""The "Why?" panel against the real training worker: the chain rule it shows is
the live session's, and the numbers it prints are backprop's and agree with the
finite difference."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from playground.project import load_project
from playground.worker import TrainingController
from ui.panels.why_panel import WhyPanel

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


@pytest.fixture
def wired(qtbot):
    controller = TrainingController()
    panel = WhyPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    controller.session_changed.connect(lambda info: panel.set_plan(info.plan, len(info.dataset.X_train)))
    controller.frame_ready.connect(lambda frame: panel.on_frame(controller.is_running))
    controller.explained.connect(panel.show_explanation)
    panel.explain_requested.connect(controller.explain)
    yield controller, panel
    assert controller.shutdown()


def test_chain_rule_for_a_hidden_weight_with_numbers(qtbot, wired):
    controller, panel = wired
    with qtbot.waitSignal(controller.explained, timeout=10_000):
        controller.set_project(load_project(EXAMPLES / "circle.json"))
    assert [panel.layer.itemText(i) for i in range(panel.layer.count())] == ["h1", "h2", "out"]
    with qtbot.waitSignal(controller.explained, timeout=10_000,
                          check_params_cb=lambda e: (e.chain.weight, e.chain.unit, e.chain.source) == ("h2.weight", 1, 3)) as got:
        panel.select_weight("h2", 1, 3)
    chain = got.args[0].chain
    assert not chain.cancelled and chain.activation == "tanh"
    text = panel.formula.text()
    assert "f'(z<sub>j</sub>)" in text and chain.numbers in text and f"{chain.slope:.4g}" in text
    assert "from h1[3] into h2[1]" in text                     # a hidden neuron, not "input 3"
    assert chain.agrees is True and "agrees" in panel.check.text()
    assert len(panel.slope_curve.getData()[0]) > 0 and len(panel.slice_curve.getData()[0]) > 0


def test_output_weight_says_the_slope_cancelled_and_curvature_gives_a_stable_rate(qtbot, wired):
    controller, panel = wired
    with qtbot.waitSignal(controller.explained, timeout=10_000):
        controller.set_project(load_project(EXAMPLES / "circle.json"))
    with qtbot.waitSignal(controller.explained, timeout=10_000,
                          check_params_cb=lambda e: e.chain.weight == "out.weight"):
        panel.select_weight("out", 0, 1)
    assert "cancelled" in panel.formula.text()
    with qtbot.waitSignal(controller.explained, timeout=20_000, check_params_cb=lambda e: e.curvature is not None):
        qtbot.mouseClick(panel.measure, Qt.LeftButton)
    assert "2/λ" in panel.curvature.text()


def test_every_control_has_a_name_and_tooltip(wired):
    _, panel = wired
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox
    controls = [w for kind in (QAbstractButton, QAbstractSpinBox, QComboBox) for w in panel.findChildren(kind)]
    assert len(controls) == 5
    for widget in controls:
        assert widget.accessibleName() and widget.toolTip(), widget
