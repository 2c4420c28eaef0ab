"""Trained projects in the window: Save as *.nnpg keeps the weights, the training state
and the loss history; opening the file goes on training bit for bit where it stopped.
File > Load weights takes any exported weight file, and refuses a wrong one by name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.io.weights import save_weights
from playground.checkpoint import HISTORY_COLUMNS, load_trained
from tests.ui.conftest import WAIT_MS, wait_frame
from ui.documents import SAVE_FILTERS, filter_suffix
from ui.plots.loss_plot import COLUMNS

N_STEPS, M_STEPS = 11, 3        # iris: 7 steps an epoch, so the save falls mid-pass


class Chooser:
    """Answers the file dialogs with ``answers`` in turn, recording the filters offered."""

    def __init__(self, *answers):
        self.answers, self.offered = list(answers), []

    def open_path(self, title, filters, folder=""):
        self.offered.append((filters, ""))
        return str(self.answers.pop(0))

    def save_path(self, title, filters, suggested=""):
        self.offered.append((filters, Path(suggested).name))
        return str(self.answers.pop(0))


def click_step(qtbot, window, times: int) -> None:
    """Press the toolbar's Step button ``times`` times, each answered before the next."""
    button = window.toolbar.widgetForAction(window.toolbar.step_action)
    for _ in range(times):
        step = window.controller.latest_frame.snapshot.step
        qtbot.mouseClick(button, Qt.LeftButton)
        wait_frame(qtbot, window, lambda f, s=step: f.snapshot.step == s + 1)


def trained_to(qtbot, window, steps: int):
    window.controller.step(steps)
    return wait_frame(qtbot, window, lambda f: f.snapshot.step == steps and f.evaluation is not None)


def visible_errors() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_the_loss_plot_history_has_the_saved_columns():
    assert ("step",) + COLUMNS == HISTORY_COLUMNS


def test_a_reopened_trained_project_continues_bit_for_bit(qtbot, make_window, tmp_path):
    first = make_window("iris.json")
    trained_to(qtbot, first, N_STEPS)
    history = first.loss_plot.rows().copy()
    assert history[-1, 0] == N_STEPS and len(history) >= 2
    saved = tmp_path / "iris.nnpg"
    first.documents.chooser = chooser = Chooser(saved)
    first.file_actions["save_as"].trigger()
    assert saved.is_file() and not first.keeper.dirty
    assert chooser.offered[0] == (";;".join(SAVE_FILTERS), "iris.nnpg")
    assert "iris.nnpg" in first.windowTitle()
    assert load_trained(saved).state.step == N_STEPS
    click_step(qtbot, first, M_STEPS)
    expected = first.controller.latest_frame.snapshot.weights

    second = make_window("circle.json")
    second.documents.chooser = Chooser(saved)
    second.file_actions["open"].trigger()
    opened = wait_frame(qtbot, second, lambda f: f.snapshot.step == N_STEPS)
    assert second.keeper.project.path == saved and second.keeper.project.name == first.keeper.project.name
    assert opened.snapshot.epoch == N_STEPS // 7
    # The loss plot starts from the saved curve, not from an empty one.
    np.testing.assert_array_equal(second.loss_plot.rows(), history)
    x, _ = second.loss_plot.train_curve.getData()
    assert x is not None and x[0] == 0 and x[-1] == N_STEPS
    assert not second.keeper.dirty and "*" not in second.windowTitle()
    click_step(qtbot, second, M_STEPS)
    # Trained past what the file holds: closing now would lose those steps, so it is unsaved work.
    qtbot.waitUntil(lambda: second.keeper.dirty and second.windowTitle().count("*") == 1, timeout=WAIT_MS)
    got = second.controller.latest_frame.snapshot.weights
    assert set(got) == set(expected)
    for name in expected:
        assert np.array_equal(got[name], expected[name]), name
    # Saving again (Ctrl+S) writes the trained file it came from, at the new step.
    second.file_actions["save"].trigger()
    assert load_trained(saved).state.step == N_STEPS + M_STEPS
    assert not second.keeper.dirty


def test_a_plain_project_file_still_saves_and_opens(qtbot, make_window, tmp_path):
    first = make_window()
    trained_to(qtbot, first, 5)
    plain = tmp_path / "settings.json"
    first.documents.chooser = Chooser(plain)
    assert first.documents.save_as_dialog()
    assert plain.read_text().lstrip().startswith("{") and load_trained(plain).state is None
    second = make_window("circle.json")
    second.documents.chooser = Chooser(plain)
    second.file_actions["open"].trigger()
    frame = wait_frame(qtbot, second, lambda f: second.keeper.project.path == plain)
    assert frame.snapshot.step == 0 and second.keeper.project.name == first.keeper.project.name
    assert len(second.loss_plot.rows()) <= 1


def test_save_as_offers_the_settings_alone_before_any_training(window):
    window.documents.chooser = chooser = Chooser("")      # cancelled
    assert not window.documents.save_as_dialog()
    assert chooser.offered[0][1] == "spiral.json"       # the example's own file name
    assert [filter_suffix(f) for f in SAVE_FILTERS] == ["nnpg", "json"]


def test_load_weights_from_an_exported_file(qtbot, make_window, tmp_path):
    source = make_window()
    trained = trained_to(qtbot, source, 40).snapshot.weights
    exported = tmp_path / "trained.safetensors"
    save_weights(exported, dict(trained))
    target = make_window()
    step = target.controller.latest_frame.snapshot.step
    target.documents.chooser = Chooser(exported)
    target.file_actions["load_weights"].trigger()
    frame = wait_frame(qtbot, target, lambda f: np.array_equal(f.snapshot.weights["out.weight"],
                                                               trained["out.weight"]))
    assert frame.snapshot.step == step
    for name in trained:
        assert np.array_equal(frame.snapshot.weights[name], trained[name]), name
    assert not visible_errors()


def test_load_weights_refuses_a_wrong_shape_and_changes_nothing(qtbot, window, tmp_path):
    before = trained_to(qtbot, window, 3).snapshot.weights
    wrong = {name: np.array(t) for name, t in before.items()}
    name = next(n for n in wrong if n.endswith(".weight"))
    wrong[name] = np.zeros((wrong[name].shape[0] + 1, wrong[name].shape[1]))
    path = tmp_path / "wrong.safetensors"
    save_weights(path, wrong)
    window.documents.chooser = Chooser(path)
    window.file_actions["load_weights"].trigger()
    qtbot.waitUntil(lambda: bool(visible_errors()), timeout=WAIT_MS)
    box = visible_errors()[0]
    assert box.windowTitle() == "Cannot load the weights"
    assert f"'{name}'" in box.text() and str(list(wrong[name].shape)) in box.text()
    box.close()
    count = window.frames_received
    window.controller.request_frame()
    qtbot.waitUntil(lambda: window.frames_received > count, timeout=WAIT_MS)
    after = window.controller.latest_frame.snapshot.weights
    for tensor in before:
        assert np.array_equal(after[tensor], before[tensor]), tensor


def test_restored_rows_skip_unplaceable_rows_and_the_next_frame_continues_them(qtbot):
    from types import SimpleNamespace

    from ui.plots.loss_plot import LossPlot
    plot = LossPlot()
    qtbot.addWidget(plot)
    rows = np.array([[0, 0, 1.0, 1.1, 0.5, 0.4],
                     [np.nan, 0, 9.0, 9.0, 0.0, 0.0],           # no step: cannot be placed
                     [5, 1, 0.5, np.nan, 0.8, np.nan]])
    plot.restore_rows(rows)
    np.testing.assert_array_equal(plot.rows(), rows[[0, 2]])

    def frame(step, loss):
        evaluation = SimpleNamespace(step=step, train_loss=loss, test_loss=None, train_accuracy=None,
                                     test_accuracy=None)
        return SimpleNamespace(evaluation=evaluation, snapshot=SimpleNamespace(epoch=1))

    plot.show_frame(frame(5, 0.25))          # the restored session's first frame: already there
    plot.show_frame(frame(6, 0.25))
    assert list(plot.rows()[:, 0]) == [0, 5, 6] and plot.rows()[-1, 2] == 0.25


def test_the_save_dialog_starts_on_the_suggested_files_type_and_follows_the_chosen_one(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QComboBox

    from ui.documents import PathChooser, SETTINGS_FILTER, TRAINED_FILTER
    dialog = PathChooser(window, native=False).dialog("Save project as", ";;".join(SAVE_FILTERS),
                                                      str(tmp_path / "mine.json"), save=True)
    qtbot.addWidget(dialog)
    assert (dialog.selectedNameFilter(), dialog.defaultSuffix()) == (SETTINGS_FILTER, "json")
    dialog.show()
    qtbot.waitExposed(dialog)
    types = next(c for c in dialog.findChildren(QComboBox) if c.objectName() == "fileTypeCombo")
    types.setFocus()
    qtbot.keyClick(types, Qt.Key_Up)
    assert (dialog.selectedNameFilter(), dialog.defaultSuffix()) == (TRAINED_FILTER, "nnpg")
    dialog.close()
