"""The Race tab on its own, driven with the mouse and keyboard, showing real races.

What a learner reads off the panel must be what the methods spent: the summary's
evaluation counts and the curves' last points are checked against the traces that
engine.race returned for the spiral example after 300 training steps.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt

from engine.race import ITERATION_MEANING, METHODS, race
from playground.project import build_session, load_project
from ui.panels.race_panel import RacePanel

SPIRAL = Path(__file__).resolve().parents[2] / "assets" / "examples" / "spiral.json"
RACED = ("gd_armijo", "newton", "nelder_mead")


@pytest.fixture
def panel(qtbot):
    panel = RacePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture(scope="module")
def session():
    s = build_session(load_project(SPIRAL))
    s.step(300)
    return s


def tick(qtbot, box):
    """Click a check box on its indicator (its rect may stretch far past the label)."""
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


def choose(qtbot, box, key):
    """Pick the item whose data is ``key`` with the keyboard: Home, then Down."""
    index = box.findData(key)
    assert index >= 0, key
    box.setFocus()
    qtbot.keyClick(box, Qt.Key_Home)
    for _ in range(index):
        qtbot.keyClick(box, Qt.Key_Down)
    assert box.currentData() == key


def run_race(qtbot, panel, session, methods, budget):
    """Tick ``methods`` (untick the rest), type the budget, press Start; the race runs
    where the application's worker would run it, and its traces go back to the panel."""
    got = []

    def on_request(names, evaluations):
        got.extend(race(session, names, budget=evaluations))
        panel.show_race(got)

    panel.race_requested.connect(on_request)
    for name, box in panel.boxes.items():
        if box.isChecked() != (name in methods):
            tick(qtbot, box)
    panel.budget.setFocus()
    panel.budget.lineEdit().selectAll()
    qtbot.keyClicks(panel.budget, str(budget))
    qtbot.keyClick(panel.budget, Qt.Key_Return)
    assert panel.budget.value() == budget
    qtbot.mouseClick(panel.start, Qt.LeftButton)
    assert [t.method for t in got] == list(methods)
    return got


def curves(panel) -> dict:
    return {item.name(): item for item in panel.plot.getPlotItem().listDataItems()}


def test_summary_and_curves_end_at_what_each_method_spent(qtbot, panel, session):
    traces = run_race(qtbot, panel, session, RACED, 400)
    text = panel.summary.text()
    drawn = curves(panel)
    for t in traces:
        line = next(line for line in text.split("<br>") if f"<b>{t.method}</b>" in line)
        assert f"after {t.evaluations[-1]} evaluations ({t.gradients[-1]} gradients" in line
        assert f", {t.iterations[-1]} iteration" in line
        assert drawn[t.method].xData[-1] == t.evaluations[-1]
    # Nelder-Mead improves rarely late on, but it spent the whole budget.
    assert "<b>nelder_mead</b>: loss" in text and drawn["nelder_mead"].xData[-1] == 400

    choose(qtbot, panel.axis, "forward_equivalents")
    cost = traces[0].gradient_cost
    assert f"a gradient call = {cost:.3g} loss calls, measured" in panel.axis.currentText()
    assert f"{cost:.3g}" in panel.cost.text()
    assert f"{cost:.3g}" in panel.plot.getPlotItem().getAxis("bottom").labelText
    for t in traces:
        assert curves(panel)[t.method].xData[-1] == pytest.approx(
            (t.evaluations[-1] - t.gradients[-1]) + t.gradients[-1] * cost)

    choose(qtbot, panel.axis, "iterations")
    for t in traces:
        assert list(curves(panel)[t.method].xData) == list(t.iterations)     # not the record index
    assert all(ITERATION_MEANING[m] in panel.axis.toolTip() for m in RACED)


def test_every_method_says_what_it_does_and_what_one_iteration_is(panel):
    assert set(panel.boxes) == set(METHODS)
    for name, box in panel.boxes.items():
        assert box.accessibleName() and METHODS[name] in box.toolTip()
        assert ITERATION_MEANING[name] in box.toolTip()
    assert panel.cost.accessibleName() and panel.cost.toolTip()
    assert "session's learning rate" in METHODS["gd"]
    assert "per weight from sign agreement" in METHODS["rprop"]
    assert "global step" in METHODS["sign_decay"] and "sqrt(1 + k)" in METHODS["sign_decay"]
    # Plain GD at the session's rate is never raced alone by default.
    assert any(panel.boxes[m].isChecked() for m in ("gd_armijo", "gd_curvature"))


def test_the_method_grid_fits_without_overlap_or_clipping(panel):
    boxes = list(panel.boxes.values())
    rects = [box.geometry() for box in boxes]
    assert len({r.top() for r in rects}) == 2                  # two full rows of six
    for i, box in enumerate(boxes):
        assert box.isVisible() and box.width() >= box.sizeHint().width(), box.text()
        assert box.geometry().right() < panel.width()
        assert not any(rects[i].intersects(rects[j]) for j in range(i + 1, len(rects)))
