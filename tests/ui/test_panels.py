"""The Data and Output docks and the network's +/- buttons, driven with the mouse."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from tests.ui.conftest import WAIT_MS, wait_frame
from ui.panels.csv_dialog import CsvImportDialog


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.LeftButton, pos=widget.rect().center())


def tick(qtbot, box):
    """Click a check box on its indicator (its rect may stretch far past the label)."""
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


def test_feature_checkbox_adds_an_input(qtbot, window):
    box = window.data_panel.features["x1^2"]
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        tick(qtbot, box)
    assert blocker.args[0].dataset.feature_names == ("x1", "x2", "x1^2")
    assert window.keeper.project.data["features"] == ["x1", "x2", "x1^2"]


def test_regenerate_draws_a_new_seed(qtbot, window):
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        click(qtbot, window.data_panel.regenerate)
    assert blocker.args[0].project.seed == 1 and window.data_panel.seed.value() == 1


def test_csv_import_through_the_dialog(qtbot, window, tmp_path):
    table = tmp_path / "points.csv"
    table.write_text("a,b,kind\n" + "".join(f"{i % 7},{i % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40)))

    def accept_dialog():        # the column dialog is modal: answer it like a user would
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, CsvImportDialog)
        assert dialog.target() == "kind" and "40 rows" in dialog.summary.text()
        click(qtbot, dialog.buttons.button(QDialogButtonBox.Ok))

    QTimer.singleShot(200, accept_dialog)
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        assert window.data_panel.import_csv(str(table))
    data = blocker.args[0].dataset
    assert data.feature_names == ("a", "b") and data.n_classes == 2
    assert window.boundary.plot.isVisible() and not window.boundary.message.isVisible()   # on a projected plane
    assert "points.csv" in window.data_panel.loaded.text()


def test_bad_csv_is_reported_and_changes_nothing(qtbot, window, tmp_path):
    table = tmp_path / "empty.csv"
    table.write_text("")
    before = window.keeper.project
    assert not window.data_panel.import_csv(str(table))
    assert window.keeper.project is before
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes and "empty" in boxes[0].text()
    boxes[0].close()


def test_show_test_data_toggle(qtbot, window):
    assert not window.boundary.test_points.isVisible()
    tick(qtbot, window.boundary.show_test)
    assert window.boundary.test_points.isVisible()
    assert len(window.boundary.test_points.data) == len(window.controller.session_info.dataset.points_test)


def test_remove_layer_and_neuron_buttons(qtbot, window):
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        click(qtbot, window.network_view.controls.layers.minus)
    assert [s.node.id for s in blocker.args[0].plan.dense_steps] == ["h1", "h2", "out"]
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        click(qtbot, window.network_view.controls.units["h2"].minus)
    assert blocker.args[0].plan.steps[blocker.args[0].plan.index["h2"]].width == 7
    wait_frame(qtbot, window, lambda f: "h3.weight" not in f.snapshot.weights)
