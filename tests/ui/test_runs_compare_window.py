"""Runs side by side in the real window: a comparison preset trains both projects in
the training engine, keeps the first and lays it over the second in the loss plot.

Until ui/main_window.py builds the Runs tab itself, ``wired`` adds it with the lines
the window is to have (the same lines, so this test checks them too).
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from playground.compare_presets import PRESETS
from playground.project import build_session, load_project
from tests.ui.conftest import WAIT_MS, wait_frame
from ui.panels.compare_player import CHUNKS

FPRIME = next(p for p in PRESETS if p.key == "fprime")


def wired(window):
    if not hasattr(window, "runs_panel"):
        from ui.panels.compare_player import ComparePlayer
        from ui.panels.runs_panel import RunsPanel
        c = window.controller
        window.runs_panel = RunsPanel()
        window.views.addTab(window.runs_panel, "Runs")
        c.session_changed.connect(window.runs_panel.new_session)
        c.frame_ready.connect(window.runs_panel.show_frame)
        window.runs_panel.overlays_changed.connect(window.loss_plot.set_overlays)
        window.compare_player = ComparePlayer(c, window.documents.new_from_example, window.runs_panel,
                                              window.loss_plot, window)
        window.runs_panel.compare_requested.connect(window.compare_player.start)
        window.compare_player.message.connect(lambda text: window.statusBar().showMessage(text, 20000))
        window.runs_panel.new_session(c.session_info)       # the session built before the tab existed
    return window


def drawn(curve):
    x, y = curve.getData()
    return np.asarray(x), np.asarray(y)


def test_a_compare_preset_trains_both_and_overlays_the_first(qtbot, window):
    window = wired(window)
    panel, plot = window.runs_panel, window.loss_plot
    window.views.setCurrentWidget(panel)
    window.controller.step(40)                  # the spiral trains a little first...
    wait_frame(qtbot, window, lambda f: f.snapshot.step >= 40)
    kept_before = panel.keep_current()          # ...and is kept; the preset unticks it
    assert kept_before == window.keeper.project.name
    with qtbot.waitSignal(window.compare_player.finished, timeout=3 * WAIT_MS) as done:
        qtbot.mouseClick(panel.compare_buttons["fprime"], Qt.LeftButton)
    assert done.args == [FPRIME]
    reference, watched = (load_project(path) for path in FPRIME.paths)
    assert window.keeper.project.name == watched.name
    assert window.controller.latest_frame.snapshot.step == FPRIME.steps
    assert panel.current_row.name_edit.text() == watched.name
    assert "ablate_derivative" in panel.note.text()
    # The reference run was kept when the second project opened, and only it is drawn.
    assert panel.history.names == (kept_before, reference.name)
    assert [o.name for o in plot.overlays] == [reference.name]
    kept = panel.history.get(reference.name)
    # One recorded point per chunk the player asked for: evenly spread, however fast it trained.
    np.testing.assert_array_equal(kept.steps, np.arange(0, FPRIME.steps + 1, FPRIME.steps // CHUNKS))
    qtbot.waitUntil(lambda: not plot.pending(), timeout=WAIT_MS)
    x, y = drawn(plot.overlay_curves[0][0])
    np.testing.assert_array_equal(x, kept.steps)
    np.testing.assert_array_equal(y, kept.train_loss)
    # The kept curve is the reference project's own training, recomputed here headless.
    session = build_session(reference)
    session.step(int(kept.steps[-1]))
    assert session.evaluate().train_loss == kept.train_loss[-1]
    # What the preset shows: without f' the loss stays near ln 2, far above the reference.
    now = window.controller.latest_frame.evaluation
    assert abs(now.train_loss - np.log(2)) < 0.05 and kept.train_loss[-1] < 0.1
    assert "done" in window.statusBar().currentMessage()


def test_ticking_an_earlier_run_brings_it_back_beside_the_pair(qtbot, window):
    window = wired(window)
    panel, plot = window.runs_panel, window.loss_plot
    window.views.setCurrentWidget(panel)
    window.controller.step(30)
    wait_frame(qtbot, window, lambda f: f.snapshot.step >= 30)
    spiral = panel.keep_current()
    preset = next(p for p in PRESETS if p.key == "mse-vs-ce")
    with qtbot.waitSignal(window.compare_player.finished, timeout=3 * WAIT_MS):
        qtbot.mouseClick(panel.compare_buttons[preset.key], Qt.LeftButton)
    assert plot.showing_accuracy                    # the pair trains different losses
    box = panel.rows[spiral].overlay
    assert not box.isChecked()
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert [o.name for o in plot.overlays] == [spiral, load_project(preset.paths[0]).name]
    x, y = drawn(plot.overlay_curves[0][0])
    np.testing.assert_array_equal(y, panel.history.get(spiral).train_accuracy)



def test_reset_during_a_comparison_stops_it(qtbot, window):
    window = wired(window)
    panel, player = window.runs_panel, window.compare_player
    qtbot.mouseClick(panel.compare_buttons["deep"], Qt.LeftButton)
    wait_frame(qtbot, window, lambda f: f.snapshot.step >= 100)
    window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: not player.busy, timeout=WAIT_MS)
    assert "stopped" in window.statusBar().currentMessage()
