"""The Race tab while a race runs, clicked with the mouse against the real engine: a
progress bar names the running method and how far it got, Cancel stops the race within
a fraction of a second, and the cancelled race is shown as such: the finished method
ranked, the interrupted one dotted and unranked, the one that never started named."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from playground.project import load_project
from playground.worker import TrainingController
from tests.ui.conftest import EXAMPLES, WAIT_MS
from tests.ui.test_race_panel import curves, panel, tick  # noqa: F401

RACED = ("gd", "momentum", "adam")
BUDGET = 100_000            # every method runs into its 5-second limit first
CANCEL_BOUND_MS = 1000      # later than this, the cancel waited behind the race


@pytest.fixture
def controller(qtbot):
    c = TrainingController()
    with qtbot.waitSignals([c.session_changed, c.frame_ready], timeout=WAIT_MS):
        c.set_project(load_project(EXAMPLES / "spiral.json"))
    yield c
    assert c.shutdown()


def wire(panel, c) -> None:
    """The connections the main window makes."""
    panel.race_requested.connect(c.race)
    panel.cancel_requested.connect(c.cancel_race)
    c.race_progress.connect(panel.show_progress)
    c.race_busy.connect(panel.set_racing)
    c.raced.connect(panel.show_race)


def start_race(qtbot, panel) -> None:
    for name, box in panel.boxes.items():
        if box.isChecked() != (name in RACED):
            tick(qtbot, box)
    panel.budget.setFocus()
    panel.budget.lineEdit().selectAll()
    qtbot.keyClicks(panel.budget, str(BUDGET))
    qtbot.keyClick(panel.budget, Qt.Key_Return)
    qtbot.mouseClick(panel.start, Qt.LeftButton)


def test_progress_then_cancel_keeps_the_finished_method_and_marks_the_partial_one(
        qtbot, panel, controller):
    wire(panel, controller)
    start_race(qtbot, panel)
    assert not panel.start.isEnabled() and panel.cancel.isEnabled() and panel.progress.isVisible()
    qtbot.waitUntil(lambda: "gd (1 of 3)" in panel.progress.text() and panel.progress.value() > 0,
                    timeout=WAIT_MS)
    assert "of 100,000 evaluations" in panel.progress.text()
    # gd ends at its time limit; cancel while momentum runs.
    qtbot.waitUntil(lambda: "momentum (2 of 3)" in panel.progress.text(), timeout=WAIT_MS)
    assert panel.progress.value() >= panel.progress.maximum() // 3
    with qtbot.waitSignal(controller.raced, timeout=CANCEL_BOUND_MS) as raced:
        qtbot.mouseClick(panel.cancel, Qt.LeftButton)
    gd, momentum = raced.args[0]
    assert not gd.cancelled and momentum.cancelled
    qtbot.waitUntil(panel.start.isEnabled, timeout=CANCEL_BOUND_MS)
    assert not panel.cancel.isEnabled() and not panel.progress.isVisible()

    lines = panel.summary.text().split("<br>")
    assert lines[0].startswith("<b>Race cancelled</b>: 1 of 3 methods finished")
    assert "momentum stopped partway" in lines[0] and "Not run: adam." in lines[0]
    assert lines[1].startswith("1. <b>gd</b>: loss")                  # the only one ranked
    assert lines[2].startswith("– <b>momentum</b> (cancelled partway, not ranked): loss")
    assert f"after {momentum.evaluations[-1]} evaluations" in lines[2]
    drawn = curves(panel)
    assert set(drawn) == {"gd", "momentum"}
    assert drawn["momentum"].opts["pen"].style() == Qt.DotLine
    assert drawn["gd"].opts["pen"].style() == Qt.SolidLine
    assert "momentum (cancelled partway)" in panel.key.text()


def test_a_race_that_ends_without_results_frees_the_panel(qtbot, panel, controller):
    wire(panel, controller)
    start_race(qtbot, panel)
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=WAIT_MS)
    controller.reset()                  # fresh weights: the engine drops the race
    panel.clear_results()               # as the main window does on a reset
    qtbot.waitUntil(lambda: not controller.is_racing, timeout=CANCEL_BOUND_MS)
    assert panel.start.isEnabled() and not panel.cancel.isEnabled() and not panel.progress.isVisible()
    assert "start a race" in panel.summary.text() and curves(panel) == {}
