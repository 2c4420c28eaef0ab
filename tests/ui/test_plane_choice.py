"""Choosing the plane data with many inputs is drawn over, with the keyboard and the dialog."""
from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from engine.data import load_dataset
from ui.plots.boundary_plot import BoundaryPlot
from ui.plots.plane_choice import PairDialog


def iris_plot(qtbot) -> BoundaryPlot:
    plot = BoundaryPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 560)
    plot.show()
    qtbot.waitExposed(plot)
    data = load_dataset("iris", standardize=True)
    plot.set_session(SimpleNamespace(dataset=data, project=SimpleNamespace(data={"source": "iris"}),
                                     plan=SimpleNamespace(output_width=3)))
    return plot


def test_two_inputs_are_asked_for_and_requested(qtbot):
    plot = iris_plot(qtbot)
    box = plot.plane.box
    assert box.isVisible() and box.currentText() == "Principal plane"
    names = load_dataset("iris").feature_names

    def answer():
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, PairDialog)
        dialog.up.setFocus()
        qtbot.keyClick(dialog.up, Qt.Key_Down)               # the second input -> the third
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.Ok), Qt.LeftButton)

    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    QTimer.singleShot(100, answer)
    with qtbot.waitSignal(plot.plane_requested) as blocker:
        qtbot.keyClick(box, Qt.Key_Down)                      # "Two inputs…"
    assert blocker.args[0] == (names[0], names[2])
    assert box.currentText() == f"{names[0]} × {names[2]}"
    with qtbot.waitSignal(plot.plane_requested) as blocker:
        qtbot.keyClick(box, Qt.Key_Up)                        # back to the principal plane
    assert blocker.args[0] is None


def test_the_same_input_twice_cannot_be_chosen(qtbot):
    dialog = PairDialog(("a", "b", "c"))
    qtbot.addWidget(dialog)
    dialog.up.setCurrentIndex(0)
    assert not dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()


def test_two_d_sets_have_no_plane_choice(qtbot):
    plot = BoundaryPlot()
    qtbot.addWidget(plot)
    plot.show()
    data = load_dataset("spiral")
    plot.set_session(SimpleNamespace(dataset=data, project=SimpleNamespace(data={"source": "spiral"}),
                                     plan=SimpleNamespace(output_width=1)))
    assert not plot.plane.box.isVisible()
