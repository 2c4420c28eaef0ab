"""A stale number is a wrong number: the curvature, the stable learning rate and a race
belong to the weights of one step.  More training marks them out of date (with both
steps), Reset and another project clear them."""
from __future__ import annotations

from PySide6.QtCore import Qt

from playground.project import load_project
from tests.ui.conftest import EXAMPLES, WAIT_MS, wait_frame


def measure_everything(qtbot, window):
    window.views.setCurrentWidget(window.why_panel)
    with qtbot.waitSignal(window.controller.explained, timeout=WAIT_MS,
                          check_params_cb=lambda e: e.limit is not None):
        qtbot.mouseClick(window.training_panel.stable_lr, Qt.LeftButton)
    window.views.setCurrentWidget(window.race_panel)
    for name, box in window.race_panel.boxes.items():
        box.setChecked(name == "gd")
    window.race_panel.budget.setValue(60)
    with qtbot.waitSignal(window.controller.raced, timeout=WAIT_MS) as raced:
        qtbot.mouseClick(window.race_panel.start, Qt.LeftButton)
    return raced.args[0]


def texts(window) -> tuple[str, str, str]:
    return window.why_panel.curvature.text(), window.training_panel.curvature.text(), window.race_panel.summary.text()


def test_more_training_marks_results_out_of_date(qtbot, window):
    step = window.controller.latest_frame.snapshot.step
    traces = measure_everything(qtbot, window)
    assert traces[0].start_step == step
    assert not any("out of date" in t for t in texts(window))
    window.controller.step(5)
    wait_frame(qtbot, window, lambda f: f.snapshot.step == step + 5)
    why, limit, race = texts(window)
    assert f"step {step:,}" in why and f"step {step + 5:,}" in why and "out of date" in why
    assert "out of date" in limit and f"step {step:,}" in limit
    assert "out of date" in race and "gd" in race          # the numbers stay, marked


def test_reset_and_another_project_clear_results(qtbot, window):
    window.controller.step(20)
    wait_frame(qtbot, window, lambda f: f.snapshot.step == 20)
    measure_everything(qtbot, window)
    with qtbot.waitSignal(window.controller.frame_ready, timeout=WAIT_MS,
                          check_params_cb=lambda f: f.snapshot.step == 0):
        window.controller.reset()
    why, limit, race = texts(window)
    assert "not measured" in why and limit == "" and "start a race" in race
    assert window.race_panel.plot.getPlotItem().listDataItems() == []
    measure_everything(qtbot, window)
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS):
        window.keeper.load(load_project(EXAMPLES / "circle.json"))
    why, limit, race = texts(window)
    assert "not measured" in why and limit == "" and "start a race" in race
