"""The loss-landscape tab, clicked with the mouse, showing real slices.

The picture must be the slice the engine computed, the right way round: a grid
point's pixel sits at its (alpha, beta), and its loss is recomputed here at
w0 + alpha d1 + beta d2 on a fresh objective; the centre's loss is the session's
own evaluation; each path is drawn at its projected coordinates, and the distance
off the plane the panel states is recomputed here from an orthonormal basis of the
plane (not the engine's least squares).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from scipy.interpolate import RegularGridInterpolator

from engine.landscape import (DEFAULT_RESOLUTION, loss_landscape, random_directions, session_landscape)
from engine.objective import FullBatchObjective
from playground.project import build_session, load_project
from playground.worker import TrainingController
from tests.ui.conftest import EXAMPLES, WAIT_MS
from tests.ui.test_race_panel import choose
from tests.ui.test_step_size_panel import full_hessian_eigenvalues
from ui.panels.job_panels import connect_jobs
from ui.panels.landscape_panel import LandscapePanel
from ui.panels.step_size_panel import StepSizePanel
from ui.panels.teaching_text import number

GRID = 15


def recorded_session(example: str, steps: int, every: int):
    """A session trained ``steps`` steps, its weights recorded every ``every`` steps."""
    s = build_session(load_project(EXAMPLES / example))
    trail = [s.network.params.copy()]
    for _ in range(steps // every):
        s.step(every)
        trail.append(s.network.params.copy())
    return s, np.array(trail)


def gradient_descent_path(session, lr: float, steps: int) -> np.ndarray:
    """Plain full-batch GD from the current weights, done here: a second path to draw."""
    objective = FullBatchObjective.of_session(session)
    w, path = objective.start.copy(), [objective.start.copy()]
    for _ in range(steps):
        w = w - lr * objective.gradient(w)
        path.append(w.copy())
    return np.array(path)


@pytest.fixture(scope="module")
def xor_slice():
    s, trail = recorded_session("xor.json", 600, 20)
    gd = gradient_descent_path(s, 0.5, 30)
    landscape = session_landscape(s, "random", GRID, trajectory=trail, paths={"gd": gd})
    return s, trail, gd, landscape


@pytest.fixture
def panel(qtbot):
    panel = LandscapePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 900)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def ask(qtbot, panel, kind: str | None = None, grid: int | None = None) -> list:
    asked = []
    panel.landscape_requested.connect(lambda k, r: asked.append((k, r)))
    if kind is not None:
        choose(qtbot, panel.kind, kind)
    if grid is not None:
        panel.grid.setFocus()
        panel.grid.lineEdit().selectAll()
        qtbot.keyClicks(panel.grid, str(grid))
    click(qtbot, panel.compute)
    return asked


def off_plane(trajectory: np.ndarray, w0: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(np.stack([d1, d2], axis=1))
    offsets = trajectory - w0
    return np.linalg.norm(offsets - (offsets @ q) @ q.T, axis=1)


def contour_points_checked(plot, curve, landscape, log: bool) -> int:
    """Every point of a contour line, where it lies inside the grid, has the contour's
    level by linear interpolation of the grid's values (the lines run along cell
    edges); returns how many points were checked."""
    curve.generatePath()
    view = plot.getPlotItem().vb.childGroup
    points = [curve.mapToItem(view, curve.path.elementAt(k).x, curve.path.elementAt(k).y)
              for k in range(curve.path.elementCount())]
    values = np.log10(landscape.losses) if log else landscape.losses
    interpolate = RegularGridInterpolator((landscape.betas, landscape.alphas), values)
    a, b = landscape.alphas, landscape.betas
    inside = [(p.y(), p.x()) for p in points if a[0] <= p.x() <= a[-1] and b[0] <= p.y() <= b[-1]]
    if inside:
        np.testing.assert_allclose(interpolate(inside), curve.level, atol=1e-6 * (np.ptp(values) + 1))
    return len(inside)


def test_requests_name_the_directions_and_grid(qtbot, panel):
    assert ask(qtbot, panel) == [("hessian", None)]          # auto grid by default
    assert panel.grid.text().startswith(f"auto (≤ {DEFAULT_RESOLUTION})")
    panel.set_busy(False)
    assert ask(qtbot, panel, "random", 21) == [("random", 21)]
    panel.set_busy(False)
    assert ask(qtbot, panel, "pca") == [("pca", 21)]


def test_the_heatmap_is_the_slice_the_right_way_round(qtbot, panel, xor_slice):
    session, _, _, landscape = xor_slice
    ask(qtbot, panel, "random", GRID)
    panel.show_result(landscape, step=600)
    plot = panel.plot
    log = panel.log_colours.isChecked()
    expected = np.log10(landscape.losses) if log else landscape.losses
    np.testing.assert_allclose(plot.values, expected)
    np.testing.assert_array_equal(plot.image.image, plot.values)
    # Each pixel's centre is its grid point, and its loss is the loss there (recomputed).
    objective = FullBatchObjective.of_session(session)
    d = landscape.directions
    for i, j in ((0, 0), (0, GRID - 1), (GRID - 1, 3), (GRID // 2, GRID // 2)):
        where = plot.image.mapToParent(QPointF(j + 0.5, i + 0.5))
        assert where.x() == pytest.approx(landscape.alphas[j], abs=1e-9)
        assert where.y() == pytest.approx(landscape.betas[i], abs=1e-9)
        w = objective.start + landscape.alphas[j] * d.d1 + landscape.betas[i] * d.d2
        assert landscape.losses[i, j] == pytest.approx(objective.value(w), rel=1e-12)
    assert plot.colour_bar.isVisible()
    assert plot.centre.data["x"].tolist() == [0.0] and plot.centre.data["y"].tolist() == [0.0]
    assert len(plot.isocurves) == 8
    assert sum(contour_points_checked(plot, curve, landscape, log) for curve in plot.isocurves) > 8 * GRID
    assert plot.getPlotItem().getAxis("bottom").labelText == d.labels[0]


def test_the_summary_states_true_numbers(qtbot, panel, xor_slice):
    session, _, _, landscape = xor_slice
    ask(qtbot, panel, "random", GRID)
    panel.show_result(landscape, step=600)
    text = panel.summary.text()
    assert f"on a {GRID}×{GRID} grid" in text
    assert f"(★, loss {number(session.objective())})" in text          # the session's own evaluation
    assert f"{GRID * GRID + 1:,} evaluations" in text
    i, j = np.unravel_index(np.argmin(landscape.losses), landscape.losses.shape)
    assert (f"runs from {number(landscape.losses[i, j])} (at α = {number(landscape.alphas[j], 3)}, β = "
            f"{number(landscape.betas[i], 3)}) to {number(landscape.losses.max())}.") in text
    assert "filter-normalised" in text and "points overflowed" not in text


def test_paths_are_drawn_where_they_project_with_their_distance_off_the_plane(qtbot, panel, xor_slice):
    session, trail, gd, landscape = xor_slice
    ask(qtbot, panel, "random", GRID)
    panel.show_result(landscape, step=600)
    assert list(panel.plot.paths) == ["training", "gd"]          # training first: it keeps its colour
    d = landscape.directions
    w0 = FullBatchObjective.of_session(session).start
    text = panel.summary.text()
    for name, trajectory in (("training", trail), ("gd", gd)):
        drawn = panel.plot.paths[name]
        projected = next(p for p in landscape.paths if p.name == name)
        np.testing.assert_array_equal(drawn.xData, projected.coords[:, 0])
        np.testing.assert_array_equal(drawn.yData, projected.coords[:, 1])
        # The drawn point, mapped back into weight space, is the nearest point of the plane.
        nearest = w0 + drawn.xData[:, None] * d.d1 + drawn.yData[:, None] * d.d2
        np.testing.assert_allclose(np.linalg.norm(trajectory - nearest, axis=1),
                                   off_plane(trajectory, w0, d.d1, d.d2), atol=1e-9)
        off = off_plane(trajectory, w0, d.d1, d.d2).max()
        far = np.linalg.norm(trajectory - w0, axis=1).max()
        label = "the training path" if name == "training" else f"{name}'s path"
        assert (f"{label} ({len(trajectory):,} points): at most {number(far, 3)} from the current weights and "
                f"up to {number(off, 3)} off the plane ({off / far:.0%} of that)") in text


# A loss of 1e300 on a log colour scale: pyqtgraph's axis computes 10**(its range), which overflows.
@pytest.mark.filterwarnings("ignore:overflow encountered in power:RuntimeWarning")
def test_log_colours_follow_the_range_and_the_box(qtbot, panel):
    """A slice spanning decades gets log colours; points that overflowed are blank and said."""
    s = build_session(load_project(EXAMPLES / "iris.json"))
    s.step(100)
    objective = FullBatchObjective.of_session(s)
    landscape = loss_landscape(objective, random_directions(objective.network, 0, objective.start), 9, 1e153)
    blank = ~np.isfinite(landscape.losses)
    assert 0 < blank.sum() < blank.size
    ask(qtbot, panel, "random", 9)
    panel.show_result(landscape, step=100)
    assert panel.log_colours.isChecked()
    assert np.all(np.isnan(panel.plot.values[blank]))
    np.testing.assert_allclose(panel.plot.values[~blank], np.log10(landscape.losses[~blank]))
    assert panel.plot.colour_bar.axis.logMode
    assert f"{int(blank.sum()):,} points overflowed: shown blank." in panel.summary.text()
    qtbot.mouseClick(panel.log_colours, Qt.LeftButton, pos=QPoint(8, panel.log_colours.height() // 2))
    assert not panel.log_colours.isChecked()
    np.testing.assert_allclose(panel.plot.values[~blank], landscape.losses[~blank])
    assert not panel.plot.colour_bar.axis.logMode


def test_hessian_axes_name_their_eigenvalues(qtbot, panel):
    s, trail = recorded_session("xor.json", 200, 20)
    landscape = session_landscape(s, "hessian", GRID, trajectory=trail)
    ask(qtbot, panel, "hessian", GRID)
    panel.show_result(landscape, step=200)
    l1, l2 = landscape.directions.values
    top_two = full_hessian_eigenvalues(s)[-2:][::-1]          # 9 weights: Lanczos finds them all
    np.testing.assert_allclose([l1, l2], top_two, rtol=1e-4)
    text = panel.summary.text()
    assert f"λ₁ = {number(l1)} and λ₂ = {number(l2)}" in text
    if l1 > 0 and l2 > 0:
        assert f"√(λ₁/λ₂) = {number((l1 / l2) ** 0.5, 3)} times narrower along α" in text


def test_busy_progress_cancel_and_failure(qtbot, panel):
    assert not panel.busy_row.isVisible()
    ask(qtbot, panel, "random")
    assert not panel.compute.isEnabled() and panel.cancel.isEnabled() and panel.busy_row.isVisible()
    panel.set_busy(True)
    panel.show_progress(0.25, "The loss on a 61 × 61 grid: 25%")
    assert panel.progress.value() == 250 and panel.progress.text() == "The loss on a 61 × 61 grid: 25%"
    with qtbot.waitSignal(panel.cancel_requested, timeout=1000):
        click(qtbot, panel.cancel)
    assert not panel.cancel.isEnabled()
    panel.set_busy(False)
    assert panel.compute.isEnabled() and not panel.busy_row.isVisible()
    assert panel.summary.text().startswith("Cancelled")
    ask(qtbot, panel, "pca")
    panel.show_failure("Cannot compute the loss landscape: there is no path yet. Train a few steps first.")
    assert panel.compute.isEnabled() and not panel.busy_row.isVisible()
    assert "could not be computed</b>: Cannot compute" in panel.summary.text()


def test_a_slice_around_older_weights_is_marked_then_cleared(qtbot, panel, xor_slice):
    *_, landscape = xor_slice
    panel.note_step(600)
    ask(qtbot, panel, "random", GRID)
    panel.show_result(landscape, step=600)
    assert not panel.stale.isVisible()
    panel.note_step(650)
    assert panel.stale.isVisible() and "step 600" in panel.stale.text() and "step 650" in panel.stale.text()
    panel.clear_results()
    assert not panel.stale.isVisible() and panel.plot.paths == {} and panel.plot.image.image is None
    assert panel.plot.isocurves == [] and not panel.plot.colour_bar.isVisible()


@pytest.fixture
def controller(qtbot):
    c = TrainingController()
    with qtbot.waitSignals([c.session_changed, c.frame_ready], timeout=WAIT_MS):
        c.set_project(load_project(EXAMPLES / "xor.json"))
    yield c
    assert c.shutdown()


@pytest.fixture
def wired(qtbot, panel, controller):
    demo = StepSizePanel()
    qtbot.addWidget(demo)
    connect_jobs(controller, demo, panel)
    return panel, controller


def test_the_real_engine_computes_the_slice_the_panel_asks_for(qtbot, wired):
    panel, controller = wired
    with qtbot.waitSignal(controller.landscape_ready, timeout=WAIT_MS) as ready:
        ask(qtbot, panel, "random", 11)
    qtbot.waitUntil(panel.compute.isEnabled, timeout=WAIT_MS)
    landscape = ready.args[0]
    assert landscape.losses.shape == (11, 11) and landscape.directions.kind == "random"
    np.testing.assert_array_equal(panel.plot.image.image, panel.plot.values)
    assert "on a 11×11 grid" in panel.summary.text() and not panel.busy_row.isVisible()


def test_cancel_stops_the_real_engine_with_nothing_shown(qtbot, wired):
    panel, controller = wired
    shown = []
    controller.landscape_ready.connect(shown.append)
    ask(qtbot, panel, "random", 401)         # 160,801 evaluations: seconds, even for XOR
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=WAIT_MS)
    assert re.match(r"The loss on a 401 × 401 grid: \d+%", panel.progress.text())
    with qtbot.waitSignal(controller.job_busy, timeout=WAIT_MS, check_params_cb=lambda kind, busy: not busy):
        click(qtbot, panel.cancel)
    assert panel.compute.isEnabled() and not panel.busy_row.isVisible()
    assert panel.summary.text().startswith("Cancelled") and shown == []
    assert panel.plot.image.image is None
