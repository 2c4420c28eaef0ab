"""The main window driven like a user: keys, toolbar clicks, combo boxes, menus."""
from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractSpinBox, QCheckBox, QComboBox, QLineEdit, QSlider,
                               QWidget)

from engine.io.weights import load_weights
from playground.export import EXPORT_FORMATS, FILE_SUFFIX
from playground.project import load_project
from tests.ui.conftest import WAIT_MS, wait_frame


def click_action(qtbot, window, action):
    qtbot.mouseClick(window.toolbar.widgetForAction(action), Qt.LeftButton)


def choose(qtbot, box: QComboBox, text: str):
    """Pick an item with the keyboard: Home, then Down until it is reached.

    (Typing the name would be shorter, but Qt's type-ahead joins keys typed within
    QApplication.keyboardInputInterval, so two quick choices would interfere.)
    """
    index = box.findText(text)
    assert index >= 0, text
    box.setFocus()
    qtbot.keyClick(box, Qt.Key_Home)
    for _ in range(index):
        qtbot.keyClick(box, Qt.Key_Down)
    assert box.currentText() == text


def type_into(qtbot, edit: QLineEdit, text: str):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key_Return)


def test_space_trains_until_the_loss_falls_and_toolbar_controls_work(qtbot, window):
    first = wait_frame(qtbot, window, lambda f: f.evaluation is not None)
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.controller.is_running, timeout=WAIT_MS)
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 300 and f.evaluation.train_loss < first.evaluation.train_loss)
    assert window.frames_received > 1 and len(window.loss_plot.history) > 1
    assert window.toolbar.play_action.text() == "Pause"

    click_action(qtbot, window, window.toolbar.play_action)
    qtbot.waitUntil(lambda: not window.controller.is_running, timeout=WAIT_MS)
    paused = wait_frame(qtbot, window, lambda f: True).snapshot.step
    qtbot.wait(100)     # let any frame already in flight arrive
    paused = window.controller.latest_frame.snapshot.step
    click_action(qtbot, window, window.toolbar.step_action)
    wait_frame(qtbot, window, lambda f: f.snapshot.step == paused + 1)

    click_action(qtbot, window, window.toolbar.epoch_action)
    epoch = wait_frame(qtbot, window, lambda f: f.snapshot.step > paused + 1).snapshot.epoch
    assert epoch >= 1

    click_action(qtbot, window, window.toolbar.reset_action)
    wait_frame(qtbot, window, lambda f: f.snapshot.step == 0)
    assert len(window.loss_plot.history) <= 1
    assert window.status.labels["step"].text() == "Step 0"


def hidden_activations(info) -> list[str]:
    return [s.node.activation for s in info.plan.dense_steps if s.node.id != "out"]


def test_activation_change_rebuilds_the_session(qtbot, window):
    # Arrowing through the list passes other activations on the way, each a rebuild
    # of its own, so wait for the session that has the one chosen.
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS,
                          check_params_cb=lambda info: hidden_activations(info) == ["relu"] * 3):
        choose(qtbot, window.training_panel.hidden_activation, "relu")
    assert window.network_view.scene.items()        # redrawn for the new session


def test_optimizer_and_learning_rate_reach_the_worker(qtbot, window):
    panel = window.training_panel
    choose(qtbot, panel.optimizer, "sgd")
    assert "momentum" in panel.optimizer_form.values()          # the form follows the optimiser
    type_into(qtbot, panel.learning_rate.lineEdit(), "0.3")
    assert window.keeper.project.training["optimizer"] == {"name": "sgd", "lr": 0.3, "momentum": 0.0,
                                                           "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}
    before = wait_frame(qtbot, window, lambda f: f.snapshot.lr == 0.3)
    click_action(qtbot, window, window.toolbar.step_action)
    after = wait_frame(qtbot, window, lambda f: f.snapshot.step == before.snapshot.step + 1)
    # Plain SGD: every weight moved by exactly -lr * its gradient (Adam would not).
    for name, w in after.snapshot.weights.items():
        expected = before.snapshot.weights[name] - 0.3 * after.snapshot.gradients[name]
        np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-12)


def _click_source(qtbot, window, name):
    sources = window.data_panel.sources
    item = next(sources.item(k) for k in range(sources.count()) if sources.item(k).text() == name)
    sources.scrollToItem(item)
    qtbot.mouseClick(sources.viewport(), Qt.LeftButton, pos=sources.visualItemRect(item).center())


def test_huge_learning_rate_diverges_pauses_and_says_so(qtbot, window):
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        _click_source(qtbot, window, "plane")
    assert blocker.args[0].task == "regression"                # output and loss were fitted to the data
    assert window.training_panel.loss.currentText() == "mse"
    choose(qtbot, window.training_panel.optimizer, "sgd")
    type_into(qtbot, window.training_panel.learning_rate.lineEdit(), "100")
    with qtbot.waitSignal(window.controller.diverged, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: not window.controller.is_running, timeout=WAIT_MS)
    assert window.banner.isVisible()
    assert "smaller learning rate" in window.banner.label.text()
    assert "diverged" in window.statusBar().currentMessage()
    click_action(qtbot, window, window.toolbar.reset_action)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=WAIT_MS)


def test_network_buttons_add_layers_and_neurons(qtbot, window):
    controls = window.network_view.controls
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(controls.layers.plus, Qt.LeftButton)
    assert len(blocker.args[0].plan.dense_steps) == 5
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(window.network_view.controls.units["h1"].plus, Qt.LeftButton)
    assert blocker.args[0].plan.steps[blocker.args[0].plan.index["h1"]].width == 9


def test_close_while_training_is_quick_and_stops_the_thread(qtbot, window):
    qtbot.keyClick(window, Qt.Key_Space)
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 50)
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 1.5
    assert window.controller.shutdown(timeout_ms=0)            # already finished


def test_open_and_save_project(qtbot, window, tmp_path):
    path = tmp_path / "mine.json"
    session = window.controller.session_changed
    with qtbot.waitSignal(session, timeout=WAIT_MS, check_params_cb=lambda info: hidden_activations(info)[0] == "relu"):
        choose(qtbot, window.training_panel.hidden_activation, "relu")
    assert window.keeper.dirty
    assert window.documents.save_project(path)
    assert load_project(path).document["network"]["nodes"][1]["activation"] == "relu"
    assert window.keeper.project.path == path and not window.keeper.dirty

    with qtbot.waitSignal(session, timeout=WAIT_MS, check_params_cb=lambda info: hidden_activations(info)[0] == "tanh"):
        choose(qtbot, window.training_panel.hidden_activation, "tanh")
    with qtbot.waitSignal(session, timeout=WAIT_MS, check_params_cb=lambda info: info.project.path == path):
        assert window.documents.open_project(path)
    assert window.training_panel.hidden_activation.currentText() == "relu"
    assert str(path.resolve()) in window.settings.recent_files


def test_open_bad_project_changes_nothing(qtbot, window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nn-playground/1"')
    before = window.keeper.project
    assert not window.documents.open_project(bad)
    assert window.keeper.project is before


class _FixedPath:
    def __init__(self, path):
        self.path = str(path)

    def open_path(self, *args):
        return self.path

    def save_path(self, *args):
        return self.path


def test_export_weights_from_the_menu_and_load_them_back(qtbot, window, tmp_path):
    click_action(qtbot, window, window.toolbar.step_action)
    frame = wait_frame(qtbot, window, lambda f: f.snapshot.step == 1)
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"weights{FILE_SUFFIX[fmt]}"
        window.documents.chooser = _FixedPath(out)
        with qtbot.waitSignal(window.documents.export_finished, timeout=WAIT_MS) as finished:
            window.file_actions[f"export_{fmt}"].trigger()
        assert finished.args == ["done", str(out)] and out.stat().st_size > 0, fmt
        if fmt in ("safetensors", "npz", "json"):
            loaded = load_weights(out)
            assert set(loaded) == set(frame.snapshot.weights)
            for name, tensor in frame.snapshot.weights.items():
                np.testing.assert_array_equal(loaded[name], tensor)


def test_plot_and_history_exports(qtbot, window, tmp_path):
    qtbot.keyClick(window, Qt.Key_Space)
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 100)
    qtbot.keyClick(window, Qt.Key_Space)
    for name in ("loss", "output"):
        for kind in ("png", "svg"):
            out = tmp_path / f"{name}.{kind}"
            assert window.documents.export_plot(name, out) and out.stat().st_size > 0
    csv = tmp_path / "history.csv"
    assert window.documents.export_history(csv)
    lines = csv.read_text().splitlines()
    assert lines[0] == "step,epoch,train_loss,test_loss,train_accuracy,test_accuracy" and len(lines) > 2


def test_every_control_has_an_accessible_name_and_tooltip(window):
    kinds = (QAbstractButton, QComboBox, QAbstractSpinBox, QSlider, QLineEdit, QCheckBox)
    controls = [w for w in window.findChildren(QWidget) if isinstance(w, kinds)]
    assert len(controls) > 40
    unnamed = [(type(w).__name__, w.objectName(), w.text() if hasattr(w, "text") else "")
               for w in controls if not w.accessibleName() or not w.toolTip()]
    assert unnamed == []


def test_screenshot_is_not_blank(qtbot, window):
    qtbot.keyClick(window, Qt.Key_Space)
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 200)
    image = window.grab().toImage()
    w, h = image.width(), image.height()
    colors = {image.pixel(x, y) for x in range(0, w, 3) for y in range(0, h, 3)}
    assert len(colors) > 500


def test_layout_and_theme_are_remembered(qtbot, make_window, settings):
    first = make_window()
    first.set_theme("dark")
    first.toolbar.speed.setCurrentIndex(1)
    first.docks["weights"].hide()
    first.close()
    second = make_window()
    assert second.theme_actions["dark"].isChecked()
    assert second.toolbar.speed.currentIndex() == 1
    assert not second.docks["weights"].isVisible()
    second.reset_layout()
    assert second.docks["weights"].isVisible()
    second.set_theme("light")
