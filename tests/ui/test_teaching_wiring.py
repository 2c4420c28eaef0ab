"""The teaching views wired into the real window: clicks on the output map reach the
project and the backprop view, and the outcomes dock counts what the network does."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from tests.ui.conftest import WAIT_MS


def pixel_of(plot, x1: float, x2: float) -> QPoint:
    scene = plot.plot.getPlotItem().vb.mapViewToScene(QPointF(x1, x2))
    return plot.plot.mapFromScene(scene)


def lonely_row(points: np.ndarray) -> int:
    d = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(axis=1)))


def test_a_point_clicked_onto_the_map_joins_the_training_data(qtbot, window):
    plot = window.boundary
    before = len(window.controller.session_info.dataset.X_train)
    box = plot.edit_points
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked()
    with qtbot.waitSignal(window.controller.session_changed, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(plot.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pixel_of(plot, 5.5, -5.5))
    data = blocker.args[0].dataset
    assert len(data.X_train) == before + 1
    (x1, x2, label), = window.keeper.project.data["added"]
    assert abs(x1 - 5.5) < 0.2 and abs(x2 + 5.5) < 0.2
    assert np.allclose(data.points_train[-1], [x1, x2]) and data.y_train[-1] == label


def test_clicking_a_training_point_traces_that_row_in_the_backprop_tab(qtbot, window):
    plot = window.boundary
    points = window.controller.session_info.dataset.points_train
    row = lonely_row(points)
    with qtbot.waitSignal(window.controller.trace_ready, timeout=WAIT_MS,
                          check_params_cb=lambda traced: traced.trace.row == row):
        qtbot.mouseClick(plot.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pixel_of(plot, *points[row]))
    assert window.views.currentWidget() is window.teaching.backprop


def test_the_outcomes_dock_counts_the_test_rows(qtbot, window):
    window.docks["outcomes"].raise_()
    view = window.outcomes
    qtbot.waitUntil(lambda: view.texts() != [], timeout=WAIT_MS)
    frame = window.controller.latest_frame
    total = sum(int(t.replace(",", "")) for t in view.texts())
    assert total == len(window.controller.session_info.dataset.y_test)
    assert frame.grid.outcomes.test.sum() == total


def test_choosing_two_inputs_redraws_iris_over_them(qtbot, make_window):
    window = make_window("iris.json")
    names = window.controller.session_info.dataset.feature_names
    with qtbot.waitSignal(window.controller.frame_ready, timeout=WAIT_MS,
                          check_params_cb=lambda f: f.grid is not None and f.grid.axes[0].startswith(names[1])):
        window.boundary.plane_requested.emit((names[1], names[3]))
    frame = window.controller.latest_frame
    X = window.controller.session_info.dataset.X_train
    assert np.allclose(frame.grid.points_train, X[:, [1, 3]])
    qtbot.waitUntil(lambda: window.boundary.plot.getPlotItem().getAxis("bottom").labelText.startswith(names[1]),
                    timeout=WAIT_MS)
