"""The 2/λ tab, clicked with the mouse, showing real demos from the XOR example.

What a learner reads must be true for the point on screen: whether it is a saddle
or a minimum is checked against the eigenvalues of a full Hessian built here by
central differences of the gradient (not by the engine's Lanczos); the limit shown
against 2 / that Hessian's largest eigenvalue; the curves against the demo's
losses and distances, and the first steps of a run against plain gradient descent
done here.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine.objective import FullBatchObjective
from engine.step_size_demo import demo as step_size_demo, session_demo
from playground.project import build_session, load_project
from playground.worker import TrainingController
from tests.ui.conftest import EXAMPLES, WAIT_MS
from ui.panels.job_panels import connect_jobs
from ui.panels.landscape_panel import LandscapePanel
from ui.panels.step_size_panel import StepSizePanel
from ui.panels.teaching_text import number

STEPS = 60


def full_hessian_eigenvalues(session, w0: np.ndarray | None = None) -> np.ndarray:
    """Every eigenvalue of the training loss's Hessian at ``w0`` (default: the session's
    weights), column by column from central differences of full-batch gradients
    (float64, h = 1e-5)."""
    objective = FullBatchObjective.of_session(session)
    w0 = objective.start if w0 is None else w0
    n, h = objective.size, 1e-5
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (objective.gradient(w0 + e) - objective.gradient(w0 - e)) / (2 * h)
    return np.linalg.eigvalsh((H + H.T) / 2)


def xor_session(steps: int):
    s = build_session(load_project(EXAMPLES / "xor.json"))
    if steps:
        s.step(steps)
    return s


@pytest.fixture(scope="module")
def saddle():
    """XOR's initial weights: a saddle (checked in the test, independently)."""
    s = xor_session(0)
    return s, session_demo(s, steps=STEPS)


@pytest.fixture(scope="module")
def minimum():
    s = xor_session(2000)
    return s, session_demo(s, steps=STEPS)


@pytest.fixture
def panel(qtbot):
    panel = StepSizePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 800)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.LeftButton)


def ask(qtbot, panel, steps: int | None = None) -> list:
    """Type the steps (if given) and press Run; returns what the panel asked for."""
    asked = []
    panel.demo_requested.connect(asked.append)
    if steps is not None:
        panel.steps.setFocus()
        panel.steps.lineEdit().selectAll()
        qtbot.keyClicks(panel.steps, str(steps))
    click(qtbot, panel.run)
    return asked


def shown_number(text: str, before: str) -> float:
    """The number right after ``before`` in the panel's text."""
    match = re.search(re.escape(before) + r"\s*(?:<b>)?([-−0-9.e+]+)", text)
    assert match, (before, text)
    return float(match.group(1).replace("−", "-"))


def test_a_saddle_is_said_first_and_the_numbers_are_true(qtbot, panel, saddle):
    session, demo = saddle
    eigenvalues = full_hessian_eigenvalues(session)
    assert eigenvalues[0] < -1e-3                       # a saddle, by the full Hessian
    assert ask(qtbot, panel, STEPS) == [STEPS]
    panel.set_busy(True)
    panel.show_result(demo, step=0)
    panel.set_busy(False)

    verdict = panel.summary.text()
    assert verdict.startswith("<b>This point is a saddle, not a minimum.</b>")
    negative = int(np.sum(eigenvalues < -demo.curvature.noise))
    assert f"along {negative} direction" in verdict
    assert abs(shown_number(verdict, "λ<sub>min</sub> =") - eigenvalues[0]) < 1e-3 * abs(eigenvalues[0])
    assert "minimum." not in verdict.replace("not a minimum.", "")
    details = panel.details.text()
    limit = shown_number(details, "2/λ<sub>max</sub> =")
    assert abs(limit - 2 / eigenvalues[-1]) < 1e-3 * limit
    assert f"{STEPS:,} steps of plain gradient descent on the full training set" in details
    for run in demo.runs:
        assert f"the loss {'rose' if run.outcome == 'rose' else 'fell'} from {number(run.losses[0])} to " \
               f"{number(run.losses[-1])}" in details
        assert f"<b>{run.factor:g}× the limit</b> (lr = {number(run.factor * limit)}" in details


def test_a_minimum_is_called_one_only_when_every_curvature_is_positive(qtbot, panel, minimum):
    session, demo = minimum
    eigenvalues = full_hessian_eigenvalues(session)
    assert eigenvalues[0] > 0
    ask(qtbot, panel)
    panel.show_result(demo, step=2000)
    assert panel.summary.text().startswith("<b>A minimum.</b> All 9 curvatures are positive")
    assert "saddle" not in panel.summary.text()
    # Below the limit the bowl's factor 1 − lr·λ_max is 1 − 2·factor: 0 and −0.8 (true minus signs).
    details = panel.details.text()
    assert "(lr = " in details and "1 − lr·λ<sub>max</sub> = 0)" in details
    assert "1 − lr·λ<sub>max</sub> = −0.8)" in details and "1 − lr·λ<sub>max</sub> = −1.2)" in details


def test_too_few_products_cannot_tell_a_minimum(qtbot, panel, minimum):
    """3 Hessian-vector products for 9 weights: no downward curvature found, none ruled
    out; the panel says it cannot tell, and that the true lambda_max may be larger."""
    session, _ = minimum
    partial = step_size_demo(FullBatchObjective.of_session(session), steps=20, iterations=3)
    assert partial.kind == "unknown"
    ask(qtbot, panel)
    panel.show_result(partial, step=2000)
    verdict = panel.summary.text()
    assert verdict.startswith("<b>Cannot tell whether this is a minimum.</b> 3 Hessian-vector products for 9 "
                              "weights")
    assert "minimum.</b>" not in verdict.replace("whether this is a minimum.</b>", "")
    shown = shown_number(panel.details.text(), "λ<sub>max</sub> =")
    assert "from 3 Hessian-vector products for 9 weights" in panel.details.text()
    assert full_hessian_eigenvalues(session)[-1] >= shown * (1 - 1e-4)    # "may be larger": true


def test_no_upward_curvature_means_no_limit_and_no_runs(qtbot, panel):
    """A trained circle network with its weights scaled 50x: every unit saturates and
    the loss does not curve measurably; there is no 2/lambda to test."""
    session = build_session(load_project(EXAMPLES / "circle.json"))
    session.step(3000)
    objective = FullBatchObjective.of_session(session)
    objective.start = objective.start * 50
    flat = step_size_demo(objective, steps=20)
    assert flat.kind == "no curvature" and flat.runs == ()
    assert full_hessian_eigenvalues(session, objective.start)[-1] < 1e-8
    ask(qtbot, panel)
    panel.show_result(flat, step=3000)
    assert panel.summary.text().startswith("<b>No limit to test here</b>")
    assert "Nothing was run." in panel.summary.text()
    assert panel.details.text() == "" and panel.curves(panel.loss_plot) == {}


def test_the_curves_are_the_runs_losses_and_distances(qtbot, panel, saddle):
    session, demo = saddle
    ask(qtbot, panel)
    panel.show_result(demo, step=0)
    for plot, field in ((panel.loss_plot, "losses"), (panel.distance_plot, "distances")):
        curves = panel.curves(plot)
        assert sorted(curves) == [0.5, 0.9, 1.1]
        for run in demo.runs:
            x, y = curves[run.factor].xData, curves[run.factor].yData
            np.testing.assert_array_equal(x, np.arange(len(run.losses)))
            np.testing.assert_array_equal(y, getattr(run, field))
    # The plotted 1.1x curve is plain gradient descent at 1.1 x 2 / lambda_max, done here.
    objective = FullBatchObjective.of_session(session)
    lr = 1.1 * 2 / full_hessian_eigenvalues(session)[-1]
    w, losses = objective.start.copy(), []
    for _ in range(5):
        loss, g = objective.value_and_gradient(w)
        losses.append(loss)
        w -= lr * g
    np.testing.assert_allclose(panel.curves(panel.loss_plot)[1.1].yData[:5], losses, rtol=1e-4)
    # How often the loss went up by more than round-off (1e-12 of it), counted here.
    for run in demo.runs:
        ups = sum(1 for a, b in zip(run.losses, run.losses[1:]) if b - a > 1e-12 * abs(a))
        text = "it never went up" if ups == 0 else f"it went up at {ups:,} of the {STEPS:,} steps"
        assert text in panel.details.text()


def test_log_scale_follows_the_losses_and_the_box(qtbot, panel, saddle):
    _, demo = saddle
    ask(qtbot, panel)
    panel.show_result(demo, step=0)
    finite = np.concatenate([r.losses for r in demo.runs])
    wanted = finite.max() > 10 * finite.min() or any(r.diverged_at is not None for r in demo.runs)
    assert panel.log_scale.isChecked() == wanted
    qtbot.mouseClick(panel.log_scale, Qt.LeftButton, pos=QPoint(8, panel.log_scale.height() // 2))
    assert panel.log_scale.isChecked() != wanted
    log = panel.log_scale.isChecked()
    assert panel.loss_plot.getPlotItem().ctrl.logYCheck.isChecked() == log
    run = demo.runs[0]
    np.testing.assert_array_equal(panel.curves(panel.loss_plot)[0.5].yData, run.losses)
    # The distance's first point is 0 (the start): a log axis leaves it out.
    np.testing.assert_array_equal(panel.curves(panel.distance_plot)[0.5].yData, run.distances[1 if log else 0:])


def test_busy_progress_and_cancel(qtbot, panel):
    assert not panel.busy_row.isVisible() and not panel.cancel.isEnabled()
    asked = ask(qtbot, panel, 250)
    assert asked == [250]
    assert not panel.run.isEnabled() and panel.cancel.isEnabled() and panel.busy_row.isVisible()
    panel.set_busy(True)
    panel.show_progress(0.42, "Gradient descent at 0.9 × 2/lambda_max")
    assert panel.progress.value() == 420
    assert panel.progress.text() == "Gradient descent at 0.9 × 2/lambda_max"
    with qtbot.waitSignal(panel.cancel_requested, timeout=1000):
        click(qtbot, panel.cancel)
    assert not panel.cancel.isEnabled() and panel.progress.text() == "Cancelling…"
    panel.show_progress(0.5, "late report")             # already on its way: not shown
    assert panel.progress.value() == 420
    panel.set_busy(False)                               # the engine sends no result after a cancel
    assert panel.run.isEnabled() and not panel.busy_row.isVisible()
    assert panel.summary.text().startswith("Cancelled")
    assert panel.curves(panel.loss_plot) == {}


def test_a_refused_request_frees_the_panel_and_says_why(qtbot, panel):
    ask(qtbot, panel)
    panel.show_failure("A race is already running: cancel it or wait for it to finish.")
    assert panel.run.isEnabled() and not panel.busy_row.isVisible()
    assert "could not run</b>: A race is already running" in panel.summary.text()


def test_results_from_older_weights_are_marked_then_cleared(qtbot, panel, saddle):
    _, demo = saddle
    panel.note_step(40)
    ask(qtbot, panel)
    panel.show_result(demo, step=40)
    panel.note_step(40)
    assert not panel.stale.isVisible()
    panel.note_step(55)
    assert panel.stale.isVisible()
    assert "step 40" in panel.stale.text() and "step 55" in panel.stale.text()
    panel.clear_results()
    assert not panel.stale.isVisible() and panel.curves(panel.loss_plot) == {}
    assert panel.details.text() == ""


def test_a_result_from_steps_ago_is_stale_at_once(qtbot, panel, saddle):
    """Training went on while the demo ran: the result says so as it arrives."""
    _, demo = saddle
    panel.note_step(10)
    ask(qtbot, panel)
    panel.note_step(30)
    panel.show_result(demo, step=10)
    assert panel.stale.isVisible() and "step 10" in panel.stale.text() and "step 30" in panel.stale.text()


@pytest.fixture
def controller(qtbot):
    c = TrainingController()
    with qtbot.waitSignals([c.session_changed, c.frame_ready], timeout=WAIT_MS):
        c.set_project(load_project(EXAMPLES / "xor.json"))
    yield c
    assert c.shutdown()


def test_the_real_engine_runs_the_demo_the_button_asks_for(qtbot, panel, controller):
    landscape = LandscapePanel()
    qtbot.addWidget(landscape)
    connect_jobs(controller, panel, landscape)
    with qtbot.waitSignal(controller.step_size_demo_ready, timeout=WAIT_MS) as ready:
        ask(qtbot, panel, 40)
    qtbot.waitUntil(panel.run.isEnabled, timeout=WAIT_MS)
    demo = ready.args[0]
    assert demo.steps == 40 and len(demo.runs) == 3
    assert not panel.busy_row.isVisible()
    np.testing.assert_array_equal(panel.curves(panel.loss_plot)[0.9].yData, demo.runs[1].losses)
    # From the initial weights (step 0) of a fresh XOR session: the same saddle.
    assert controller.result_step("step_size_demo") == 0
    assert panel.summary.text().startswith("<b>This point is a saddle")
