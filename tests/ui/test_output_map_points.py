"""The output map, clicked with the mouse: points added and removed, rows picked, and
the projected plane drawn for data with more than two inputs."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from engine.data import load_dataset
from tests.ui.conftest import WAIT_MS, wait_frame
from ui.plots.boundary_plot import BoundaryPlot


def session_info(data: dict, seed: int = 0):
    """What the controller hands the plot for a project with this data section."""
    dataset = load_dataset(data["source"], samples=data.get("samples", 500), seed=seed,
                           added=data.get("added", ()), removed=data.get("removed", ()))
    return SimpleNamespace(dataset=dataset, project=SimpleNamespace(data=data),
                           plan=SimpleNamespace(output_width=1))


@pytest.fixture
def make_plot(qtbot):
    def make(data: dict) -> BoundaryPlot:
        plot = BoundaryPlot()
        qtbot.addWidget(plot)
        plot.resize(520, 560)
        plot.show()
        qtbot.waitExposed(plot)
        plot.set_session(session_info(data))
        box = plot.plot.getPlotItem().getViewBox()
        qtbot.waitUntil(lambda: box.width() > 300 and box.viewRange()[0][0] <= -5.9, timeout=WAIT_MS)
        return plot
    return make


def pixel_of(plot: BoundaryPlot, x1: float, x2: float) -> QPoint:
    """Where the data point (x1, x2) is on the plot's viewport, in widget pixels."""
    scene = plot.plot.getPlotItem().vb.mapViewToScene(QPointF(x1, x2))
    return plot.plot.mapFromScene(scene)


def click_at(qtbot, plot, x1, x2, button=Qt.LeftButton, modifier=Qt.NoModifier):
    qtbot.mouseClick(plot.plot.viewport(), button, modifier, pixel_of(plot, x1, x2))


def tick(qtbot, box):
    qtbot.mouseClick(box, Qt.LeftButton, pos=QPoint(8, box.height() // 2))


def pixel_size(plot) -> float:
    return max(plot.plot.getPlotItem().vb.viewPixelSize())


def lonely_row(points: np.ndarray) -> int:
    """The point farthest from its nearest neighbour: a click on it hits it alone."""
    d = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    return int(np.argmax(d.min(axis=1)))


SPIRAL = {"source": "spiral", "samples": 60}


def test_left_click_adds_the_chosen_class_and_right_click_the_other(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL))
    assert not plot.add_class.isVisible()
    tick(qtbot, plot.edit_points)
    assert plot.add_class.isVisible() and plot.add_class.currentText() == "class 1"
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, 5.2, -5.5)
    (x1, x2, label), = blocker.args[0]["added"]
    assert abs(x1 - 5.2) < 2 * pixel_size(plot) and abs(x2 + 5.5) < 2 * pixel_size(plot) and label == 1
    assert blocker.args[0]["source"] == "spiral" and blocker.args[0]["samples"] == 60

    qtbot.keyClick(plot.add_class, Qt.Key_Up)           # choose class 0 with the keyboard
    assert plot.add_class.currentText() == "class 0"
    assert "Click adds class 0 (orange), right click adds class 1 (blue)" in plot.note.text()
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, -4.0, 5.0)
    assert [p[2] for p in blocker.args[0]["added"]] == [1, 0]     # a second click builds on the first
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, 3.0, 3.0, Qt.RightButton)
    assert blocker.args[0]["added"][-1][2] == 1
    assert abs(blocker.args[0]["added"][-1][0] - 3.0) < 2 * pixel_size(plot)
    assert QApplication.activePopupWidget() is None               # no context menu over the map


def test_shift_click_removes_the_nearest_point(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL, added=[[5.5, 5.5, 0]]))
    data = plot._dataset
    tick(qtbot, plot.edit_points)
    row = lonely_row(data.points_train[:-1])
    x1, x2 = data.points_train[row]
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, x1 + 3 * pixel_size(plot), x2, modifier=Qt.ShiftModifier)   # a little off it
    assert blocker.args[0]["removed"] == [int(data.generated_train[row])]
    assert blocker.args[0]["added"] == [[5.5, 5.5, 0]]
    # The hand-added point (a diamond) goes from "added" instead.
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, 5.5, 5.5, modifier=Qt.ShiftModifier)
    assert "added" not in blocker.args[0] and blocker.args[0]["removed"] == [int(data.generated_train[row])]
    # Test points are removed only when they are shown.
    tick(qtbot, plot.show_test)
    row = lonely_row(data.points_test)
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, *data.points_test[row], modifier=Qt.ShiftModifier)
    assert int(data.generated_test[row]) in blocker.args[0]["removed"]


def test_clicks_faster_than_sessions_build_on_each_other(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL))
    tick(qtbot, plot.edit_points)

    def add_at(x1, x2) -> dict:
        with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
            click_at(qtbot, plot, x1, x2)
        return blocker.args[0]

    first = add_at(5.0, -5.0)
    second = add_at(-5.0, 5.0)
    plot.set_session(session_info(first))             # the first click's session comes late
    third = add_at(5.0, 5.0)
    assert len(third["added"]) == 3 and third["added"][:2] == second["added"]
    plot.set_session(session_info(second))
    plot.set_session(session_info(third))
    # The window refuses an edit and shows the project as it was: the next click starts there.
    plot.show_project(SimpleNamespace(data=first))
    assert len(add_at(-5.0, -5.0)["added"]) == 2
    # Another project is shown: edits start from its data.
    plot.show_project(SimpleNamespace(data={"source": "xor", "samples": 60}))
    plot.set_session(session_info({"source": "xor", "samples": 60}))
    assert add_at(1.0, 1.0)["source"] == "xor"


def test_shift_click_far_from_every_point_removes_nothing(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL))
    tick(qtbot, plot.edit_points)
    with qtbot.assertNotEmitted(plot.data_edit_requested):
        click_at(qtbot, plot, 5.8, -5.8, modifier=Qt.ShiftModifier)


def test_regression_adds_the_typed_value_and_its_negative(qtbot, make_plot):
    plot = make_plot({"source": "plane", "samples": 40})
    tick(qtbot, plot.edit_points)
    assert plot.add_value.isVisible() and not plot.add_class.isVisible()
    plot.add_value.lineEdit().selectAll()
    qtbot.keyClicks(plot.add_value, "0.75")
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, 1.0, 1.0)
    assert blocker.args[0]["added"][0][2] == 0.75
    with qtbot.waitSignal(plot.data_edit_requested, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, 2.0, 1.0, Qt.RightButton)
    assert blocker.args[0]["added"][1][2] == -0.75


def test_a_click_on_a_training_point_picks_its_row(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL, added=[[5.5, 5.5, 1]]))
    data = plot._dataset
    assert not plot.editing
    row = lonely_row(data.points_train)
    with qtbot.waitSignal(plot.row_picked, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, *data.points_train[row])
    assert blocker.args == [row] and plot.picked_row == row
    x, y = plot.picked.getData()
    assert [x[0], y[0]] == data.points_train[row].tolist()        # ringed on the map
    with qtbot.waitSignal(plot.row_picked, timeout=WAIT_MS) as blocker:   # an added point is a row too
        click_at(qtbot, plot, 5.5, 5.5)
    assert blocker.args == [len(data.points_train) - 1]
    with qtbot.assertNotEmitted(plot.row_picked):
        click_at(qtbot, plot, 5.8, -5.8)                            # empty space picks nothing
    with qtbot.assertNotEmitted(plot.row_picked):                   # while editing, clicks edit
        tick(qtbot, plot.edit_points)
        click_at(qtbot, plot, *data.points_train[row])


def test_editing_is_offered_on_generated_sets_only(qtbot, make_plot):
    plot = make_plot(dict(SPIRAL))
    tick(qtbot, plot.edit_points)
    assert plot.editing
    plot.set_session(SimpleNamespace(dataset=load_dataset("iris", standardize=True),
                                     project=SimpleNamespace(data={"source": "iris"}),
                                     plan=SimpleNamespace(output_width=3)))
    assert not plot.edit_points.isEnabled() and not plot.editing and not plot.add_class.isVisible()
    assert "generated 2-D" in plot.edit_points.toolTip()


def test_iris_is_drawn_on_its_projected_plane(qtbot, make_window):
    window = make_window("iris.json")
    plot = window.boundary
    window.controller.step(40)
    frame = wait_frame(qtbot, window, lambda f: f.snapshot.step == 40 and f.grid is not None)
    qtbot.waitUntil(lambda: plot.plot.isVisible() and not plot.pending(), timeout=WAIT_MS)
    grid = frame.grid
    assert not plot.message.isVisible()
    assert np.array_equal(plot.image.image, grid.output)
    x, y = plot.train_points.getData()
    assert np.array_equal(np.column_stack([x, y]), grid.points_train)
    assert len(grid.points_train) == len(window.controller.session_info.dataset.X_train)
    x, y = plot.test_points.getData()
    assert np.array_equal(np.column_stack([x, y]), grid.points_test)
    item = plot.plot.getPlotItem()
    assert (item.getAxis("bottom").labelText, item.getAxis("left").labelText) == grid.axes
    assert grid.axes[0].startswith("PC1")
    # The range follows the grid's extent, not the input plane's (-6, 6).
    (x0, x1), (y0, y1) = item.vb.viewRange()
    e = grid.extent
    assert x0 <= e[0] and x1 >= e[1] and y0 <= e[2] and y1 >= e[3]
    # The aspect is locked, so the view fits the extent tightly along one axis at least.
    assert min((x1 - x0) / (e[1] - e[0]), (y1 - y0) / (e[3] - e[2])) < 1.1
    rect = plot.image.mapRectToParent(plot.image.boundingRect())
    assert rect.getCoords() == pytest.approx((e[0], e[2], e[1], e[3]))
    assert plot.note.isVisible() and plot.note.text().startswith("PCA plane: other directions held at the data's mean")
    assert "may sit in a region of another class" in plot.note.toolTip()
    # Points are coloured by class, in the image's class colours.
    colors = {plot.train_points.data[i]["brush"].color().name() for i in range(len(x))}
    assert len(colors) == 3
    assert not plot.edit_points.isEnabled()
    # A click on a projected training point picks its row too.
    row = lonely_row(grid.points_train)
    with qtbot.waitSignal(plot.row_picked, timeout=WAIT_MS) as blocker:
        click_at(qtbot, plot, *grid.points_train[row])
    assert blocker.args == [row]
