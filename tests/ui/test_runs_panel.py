"""The Runs tab and the loss plot's overlays, driven with the mouse and keyboard.

Frames carry real evaluations of real training sessions (the circle and XOR
examples); what the loss plot draws for a kept run must be exactly the losses
and accuracies those evaluations reported.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.run_history import RunHistory
from playground.compare_presets import PRESETS
from playground.project import build_session, load_project
from tests.ui.conftest import EXAMPLES
from ui.panels.runs_panel import RunsPanel
from ui.plots.loss_plot import LossPlot


def tick(qtbot, box):
    """Click a check box on its indicator."""
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


class Trainer:
    """A real session whose evaluations go to the views as the app's frames would."""

    def __init__(self, example: str, views):
        self.project = load_project(EXAMPLES / example)
        self.session = build_session(self.project)
        self.views = views
        self.evaluations = []
        for view in views:
            if hasattr(view, "new_session"):
                view.new_session(SimpleNamespace(project=self.project))
        self.send()

    def send(self) -> None:
        ev = self.session.evaluate()
        self.evaluations.append(ev)
        frame = SimpleNamespace(evaluation=ev, snapshot=SimpleNamespace(step=ev.step, epoch=self.session.epoch_count))
        for view in self.views:
            view.show_frame(frame)

    def train(self, steps: int, every: int = 10) -> None:
        for _ in range(steps // every):
            self.session.step(every)
            self.send()

    def reset(self) -> None:
        self.session.reset()
        self.evaluations = []
        self.send()

    def column(self, name: str) -> np.ndarray:
        return np.array([np.nan if getattr(e, name) is None else getattr(e, name) for e in self.evaluations])


@pytest.fixture
def views(qtbot):
    panel, plot = RunsPanel(), LossPlot()
    panel.overlays_changed.connect(plot.set_overlays)
    host = QWidget()
    column = QVBoxLayout(host)
    column.addWidget(panel, 2)
    column.addWidget(plot, 1)
    qtbot.addWidget(host)
    host.resize(1000, 800)
    host.show()
    qtbot.waitExposed(host)
    yield panel, plot           # the host lives (and holds the two) until the test ends
    host.close()


def drawn(curve):
    x, y = curve.getData()
    return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))


def assert_curve(curve, steps, values):
    x, y = drawn(curve)
    np.testing.assert_array_equal(x, steps)
    np.testing.assert_array_equal(y, values)


def test_keep_files_the_run_and_the_plot_draws_its_exact_losses(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(200)
    qtbot.mouseClick(panel.keep_button, Qt.LeftButton)
    assert panel.history.names == ("Circle, 4-2 tanh",)
    kept = panel.history.get("Circle, 4-2 tanh")
    steps = [e.step for e in run.evaluations]
    np.testing.assert_array_equal(kept.steps, steps)
    np.testing.assert_array_equal(kept.train_loss, run.column("train_loss"))
    np.testing.assert_array_equal(kept.test_accuracy, run.column("test_accuracy"))
    train, test = plot.overlay_curves[0]
    assert_curve(train, steps, run.column("train_loss"))
    assert_curve(test, steps, run.column("test_loss"))
    assert "Circle, 4-2 tanh" in plot.overlay_key.text() and plot.overlay_key.isVisible()
    # The row says where the run ended.
    assert panel.rows["Circle, 4-2 tanh"].summary.text().startswith("200 steps · loss ")
    # Training goes on; the kept run stays as it was.
    run.train(100)
    plot.redraw()
    assert len(drawn(plot.train_curve)[0]) == len(run.evaluations)
    assert_curve(train, steps, run.column("train_loss")[:len(steps)])


def test_the_overlay_checkbox_shows_and_hides_a_kept_run(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(100)
    name = panel.keep_current()
    box = panel.rows[name].overlay
    assert box.isChecked()
    with qtbot.waitSignal(panel.overlays_changed):
        tick(qtbot, box)
    assert not box.isChecked() and plot.overlays == () and not plot.overlay_key.isVisible()
    assert all(len(drawn(c)[0]) == 0 for pair in plot.overlay_curves for c in pair)
    tick(qtbot, box)
    assert [o.name for o in plot.overlays] == [name]
    assert_curve(plot.overlay_curves[0][0], [e.step for e in run.evaluations], run.column("train_loss"))


def test_this_runs_checkbox_hides_the_current_curves_only(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(100)
    panel.keep_current()
    run.train(50)
    plot.redraw()
    assert len(drawn(plot.train_curve)[0]) > 0
    tick(qtbot, panel.current_row.overlay)
    assert not plot.show_current
    assert len(drawn(plot.train_curve)[0]) == 0 and len(drawn(plot.test_curve)[0]) == 0
    assert len(drawn(plot.overlay_curves[0][0])[0]) == 11
    tick(qtbot, panel.current_row.overlay)
    assert len(drawn(plot.train_curve)[0]) == len(run.evaluations)


def test_reset_and_a_new_project_keep_the_run_that_ends(qtbot, views):
    panel, plot = views
    circle = Trainer("circle.json", views)
    circle.train(150)
    first = list(circle.evaluations)
    circle.reset()                       # a step back: the app's Reset
    assert panel.history.names == ("Circle, 4-2 tanh",)
    np.testing.assert_array_equal(panel.history.get("Circle, 4-2 tanh").train_loss,
                                  [e.train_loss for e in first])
    circle.train(80)
    xor = Trainer("xor.json", views)     # a new session: the circle's second run is kept too
    assert panel.history.names == ("Circle, 4-2 tanh", "Circle, 4-2 tanh (2)")
    assert len(panel.history.get("Circle, 4-2 tanh (2)").steps) == 9
    assert panel.current_row.name_edit.text() == xor.project.name
    # Nothing trained: nothing to keep.
    Trainer("circle.json", views)
    assert len(panel.history) == 2
    assert [o.name for o in plot.overlays] == ["Circle, 4-2 tanh", "Circle, 4-2 tanh (2)"]
    assert len({o.color for o in plot.overlays}) == 2


def test_a_run_kept_by_hand_is_not_kept_twice(qtbot, views):
    panel, _ = views
    run = Trainer("circle.json", views)
    run.train(100)
    qtbot.mouseClick(panel.keep_button, Qt.LeftButton)
    qtbot.mouseClick(panel.keep_button, Qt.LeftButton)
    assert "Nothing new to keep" in panel.message.text()
    run.reset()
    assert len(panel.history) == 1
    run.train(30)
    run.reset()                          # trained on after keeping: that run is kept
    assert len(panel.history) == 2


def test_renaming_a_kept_run_by_typing(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(100)
    name = panel.keep_current()
    edit = panel.rows[name].name_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "lr 0.03")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert panel.history.names == ("lr 0.03",)
    assert [o.name for o in plot.overlays] == ["lr 0.03"]
    assert "lr 0.03" in plot.overlay_key.text()
    assert panel.rows["lr 0.03"].delete.accessibleName() == "Delete lr 0.03"
    # A name another run has is refused and the old one comes back.
    run.train(20)
    other = panel.keep_current()
    edit = panel.rows[other].name_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "lr 0.03")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert edit.text() == other and "already a run named 'lr 0.03'" in panel.message.text()
    assert set(panel.history.names) == {"lr 0.03", other}


def test_renaming_this_run_names_it_when_kept(qtbot, views):
    panel, _ = views
    run = Trainer("circle.json", views)
    run.train(50)
    edit = panel.current_row.name_edit
    edit.selectAll()
    qtbot.keyClicks(edit, "four-two")
    qtbot.keyClick(edit, Qt.Key_Return)
    run.reset()
    assert panel.history.names == ("four-two",)


def test_delete_forgets_the_run_and_its_curves(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(50)
    first = panel.keep_current()
    run.train(50)
    second = panel.keep_current()
    qtbot.mouseClick(panel.rows[first].delete, Qt.LeftButton)
    assert panel.history.names == (second,) and first not in panel.rows
    assert [o.name for o in plot.overlays] == [second]
    assert len(plot.overlay_curves) == 1
    assert_curve(plot.overlay_curves[0][0], panel.history.get(second).steps, panel.history.get(second).train_loss)


def test_accuracy_shows_every_runs_accuracy(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(120)
    panel.keep_current()
    run.train(40)
    plot.redraw()
    tick(qtbot, plot.accuracy)
    assert plot.showing_accuracy and not plot.log_y.isEnabled()
    kept = panel.history.get(panel.history.names[0])
    assert_curve(plot.overlay_curves[0][0], kept.steps, kept.train_accuracy)
    assert_curve(plot.overlay_curves[0][1], kept.steps, kept.test_accuracy)
    assert_curve(plot.train_curve, [e.step for e in run.evaluations], run.column("train_accuracy"))
    assert "train accuracy" in plot.key.text()
    assert plot.plot.getPlotItem().getAxis("left").labelText == "accuracy"
    tick(qtbot, plot.accuracy)
    assert_curve(plot.overlay_curves[0][0], kept.steps, kept.train_loss)


def test_show_none_unticks_every_kept_run(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    for _ in range(3):
        run.train(30)
        panel.keep_current()
    assert len(plot.overlays) == 3
    qtbot.mouseClick(panel.none_button, Qt.LeftButton)
    assert plot.overlays == () and not any(r.overlay.isChecked() for r in panel.rows.values())


def test_the_projects_note_is_shown(qtbot, views):
    panel, _ = views
    Trainer("circle.json", views)
    assert panel.note.isHidden()
    project = load_project(PRESETS[0].paths[1])
    panel.new_session(SimpleNamespace(project=project))
    assert panel.note.isVisible() and "ablate_derivative" in panel.note.text()


def test_a_compare_button_asks_for_its_preset(qtbot, views):
    panel, _ = views
    for preset in PRESETS:
        button = panel.compare_buttons[preset.key]
        assert button.accessibleName() == f"Compare: {preset.title}"
        with qtbot.waitSignal(panel.compare_requested) as blocker:
            qtbot.mouseClick(button, Qt.LeftButton)
        assert blocker.args == [preset]


def test_a_removed_run_no_longer_widens_the_axes(qtbot, views):
    panel, plot = views
    run = Trainer("circle.json", views)
    run.train(400, every=40)
    long_run = panel.keep_current()
    run.reset()
    run.train(50)
    plot.redraw()
    x_range = plot.plot.getPlotItem().viewRange()[0]
    assert x_range[1] >= 400
    qtbot.mouseClick(panel.rows[long_run].delete, Qt.LeftButton)
    plot.redraw()
    assert plot.plot.getPlotItem().viewRange()[0][1] < 400


def test_the_oldest_runs_go_first_when_the_list_is_full(qtbot, views):
    panel, plot = views
    panel.history = RunHistory(max_runs=2)
    run = Trainer("circle.json", views)
    kept = []
    for _ in range(3):
        run.train(20)
        kept.append(panel.keep_current())
    assert panel.history.names == tuple(kept[1:]) and set(panel.rows) == set(kept[1:])
    assert [o.name for o in plot.overlays] == kept[1:]
