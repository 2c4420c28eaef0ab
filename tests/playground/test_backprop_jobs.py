"""The engine commands behind issue 13's views: a row's backward trace (answered at once,
numbers equal to the engine's backprop), and the 2/lambda demo and the loss landscape as
background jobs beside training (progress, prompt cancel, one at a time, dropped with
their weights).  Both engine modes (the controller fixture)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.landscape import LossLandscape
from engine.step_size_demo import DEFAULT_FACTORS, StepSizeDemo
from playground.engine_jobs import TRAIL_SNAPSHOTS, WeightTrail
from playground.explain import RowTrace
from playground.project import build_session, load_project
from tests.playground.backprop_reference import row_reference
from tests.playground.test_worker import (TIMEOUT, circle, controller, loaded,  # noqa: F401
                                          qt_warnings, step_of)

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
BOUND_MS = 1000         # a cancel or command answered later than this was queued behind the job
LONG_GRID = 401         # 160,000 evaluations: far longer than any test waits


def stepped(qtbot, c, n: int) -> None:
    target = step_of(c) + n
    c.step(n)
    qtbot.waitUntil(lambda: step_of(c) == target, timeout=TIMEOUT)


def trace_of(qtbot, c, row: int, subset: str = "train") -> RowTrace:
    with qtbot.waitSignal(c.trace_ready, timeout=TIMEOUT) as ready:
        c.request_trace(row, subset)
    return ready.args[0]


def flat_weights(c) -> np.ndarray:
    """The current weights in the network's parameter order (a local network on the same plan)."""
    session = build_session(load_project(EXAMPLES / "circle.json"))
    for name, tensor in c.latest_frame.snapshot.weights.items():
        session.network.tensors[name][...] = tensor
    return session.network.params.copy()


def start_long_landscape(qtbot, c) -> None:
    with qtbot.waitSignals([c.job_busy, c.job_progress], timeout=TIMEOUT):
        c.request_landscape("random", LONG_GRID)
    assert c.busy_job == "landscape"


# -- the trace ------------------------------------------------------------------------------

@pytest.mark.parametrize("subset,row", [("train", 7), ("test", 3)])
def test_a_traced_row_equals_the_engines_own_backprop(qtbot, loaded, circle, subset, row):
    stepped(qtbot, loaded, 40)
    snapshot = loaded.latest_frame.snapshot
    traced = trace_of(qtbot, loaded, row, subset)
    assert (traced.step, traced.subset, traced.optimizer, traced.batch_size) == (40, subset, "adam", 10)
    session = build_session(circle)
    ref = row_reference(session, snapshot.weights, row, snapshot.lr, subset)
    trace = traced.trace
    assert trace.row == row and trace.lr == snapshot.lr
    X = session.X_train if subset == "train" else session.X_test
    np.testing.assert_array_equal(trace.x, X[row])
    for node in trace.nodes:
        np.testing.assert_allclose(node.a, ref.a[node.node], rtol=1e-12, atol=1e-14)
    for node in trace.dense:
        np.testing.assert_allclose(node.z, ref.z[node.node], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(node.delta, ref.delta[node.node], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(node.weight_grad, ref.weight_grad[node.node], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(node.weight_after, ref.weight[node.node] - snapshot.lr * ref.weight_grad[node.node],
                                   rtol=1e-12, atol=1e-14)
    assert trace.loss_value == pytest.approx(ref.loss, rel=1e-12)
    assert trace.loss_after == pytest.approx(ref.loss_after, rel=1e-12)


def test_a_row_that_does_not_exist_is_named_in_the_message(qtbot, loaded):
    with qtbot.waitSignal(loaded.trace_failed, timeout=TIMEOUT) as failed:
        loaded.request_trace(1_000_000)
    assert "row 1000000" in failed.args[0] and "0..249" in failed.args[0]
    with qtbot.waitSignal(loaded.trace_failed, timeout=TIMEOUT) as failed:
        loaded.request_trace(0, "validation")
    assert "'validation'" in failed.args[0] and "train, test" in failed.args[0]


def test_a_concat_network_says_why_it_cannot_be_traced(qtbot, loaded):
    with qtbot.waitSignal(loaded.session_changed, timeout=TIMEOUT):
        loaded.set_project(load_project(EXAMPLES / "concat.json"))
    with qtbot.waitSignal(loaded.trace_failed, timeout=TIMEOUT) as failed:
        loaded.request_trace(0)
    assert "concatenates" in failed.args[0] and "'cat'" in failed.args[0]
    assert "Traceback" not in failed.args[0]


# -- the 2/lambda demo ----------------------------------------------------------------------

def test_the_step_size_demo_reports_progress_then_its_result(qtbot, loaded):
    stepped(qtbot, loaded, 30)
    busy, progress = [], []
    loaded.job_busy.connect(lambda kind, b: busy.append((kind, b)))
    loaded.job_progress.connect(lambda kind, fraction, text: progress.append((kind, fraction, text)))
    with qtbot.waitSignal(loaded.step_size_demo_ready, timeout=4 * TIMEOUT) as ready:
        loaded.request_step_size_demo(3000)
    qtbot.waitUntil(lambda: busy == [("step_size_demo", True), ("step_size_demo", False)], timeout=BOUND_MS)
    demo = ready.args[0]
    assert isinstance(demo, StepSizeDemo) and demo.steps == 3000
    np.testing.assert_array_equal(demo.start, flat_weights(loaded))
    assert loaded.result_step("step_size_demo") == 30
    if demo.limit is not None:
        assert [run.factor for run in demo.runs] == list(DEFAULT_FACTORS)
    assert progress and all(kind == "step_size_demo" and 0.0 <= f <= 1.0 and text for kind, f, text in progress)
    assert [f for _, f, _ in progress] == sorted(f for _, f, _ in progress)


def test_bad_steps_fail_with_a_message(qtbot, loaded):
    with qtbot.waitSignal(loaded.job_failed, timeout=TIMEOUT) as failed:
        loaded.request_step_size_demo(0)
    assert failed.args[0] == "step_size_demo" and "steps must be a whole number" in failed.args[1]
    qtbot.waitUntil(lambda: loaded.busy_job is None, timeout=BOUND_MS)


# -- the landscape ------------------------------------------------------------------------

def test_a_landscape_around_the_current_weights_carries_the_training_path(qtbot, loaded):
    start = flat_weights(loaded)
    for _ in range(3):
        stepped(qtbot, loaded, 20)
    with qtbot.waitSignal(loaded.landscape_ready, timeout=TIMEOUT) as ready:
        loaded.request_landscape("random", 11)
    scape = ready.args[0]
    assert isinstance(scape, LossLandscape) and scape.losses.shape == (11, 11)
    now = flat_weights(loaded)
    np.testing.assert_array_equal(scape.center, now)
    assert loaded.result_step("landscape") == 60
    (path,) = scape.paths
    assert path.name == "training" and 2 <= len(path.coords) <= 4      # steps 0, 20, 40, 60 at most
    # The path ends at the centre (the current weights) and starts at the initial weights.
    np.testing.assert_allclose(path.coords[-1], 0.0, atol=1e-9)
    D = np.stack([scape.directions.d1, scape.directions.d2], axis=1)
    np.testing.assert_allclose(np.linalg.norm(start - now - D @ path.coords[0]), path.off_plane[0], rtol=1e-6)


def test_principal_directions_need_a_path_first(qtbot, loaded):
    busy = []
    loaded.job_busy.connect(lambda kind, b: busy.append(b))
    with qtbot.waitSignal(loaded.job_failed, timeout=TIMEOUT) as failed:
        loaded.request_landscape("pca", 11)
    assert failed.args == ["landscape", failed.args[1]] and "Train a few steps first" in failed.args[1]
    assert busy == []
    stepped(qtbot, loaded, 10)
    stepped(qtbot, loaded, 10)
    with qtbot.waitSignal(loaded.landscape_ready, timeout=TIMEOUT) as ready:
        loaded.request_landscape("pca", 11)
    assert ready.args[0].directions.kind == "pca"


def test_an_unknown_kind_is_named(qtbot, loaded):
    with qtbot.waitSignal(loaded.job_failed, timeout=TIMEOUT) as failed:
        loaded.request_landscape("sideways", 11)
    assert "'sideways'" in failed.args[1] and "hessian, random, pca" in failed.args[1]


# -- cancelling, one at a time, abandoning ----------------------------------------------------

def test_a_cancel_is_answered_at_once_without_a_result(qtbot, loaded):
    start_long_landscape(qtbot, loaded)
    ready = []
    loaded.landscape_ready.connect(ready.append)
    with qtbot.waitSignal(loaded.job_busy, timeout=BOUND_MS, check_params_cb=lambda kind, b: not b):
        loaded.cancel_job()
    assert loaded.busy_job is None and ready == []


def test_commands_and_traces_are_served_while_a_job_runs(qtbot, loaded):
    start_long_landscape(qtbot, loaded)
    loaded.step(3)
    qtbot.waitUntil(lambda: step_of(loaded) == 3, timeout=BOUND_MS)
    with qtbot.waitSignal(loaded.trace_ready, timeout=BOUND_MS):
        loaded.request_trace(0)
    loaded.cancel_race()                    # not a race: the landscape goes on
    with qtbot.waitSignal(loaded.job_progress, timeout=BOUND_MS):
        pass
    assert loaded.busy_job == "landscape"
    with qtbot.waitSignal(loaded.job_busy, timeout=BOUND_MS):
        loaded.cancel_job()


def test_one_background_job_at_a_time(qtbot, loaded):
    start_long_landscape(qtbot, loaded)
    with qtbot.waitSignal(loaded.job_failed, timeout=BOUND_MS) as refused:
        loaded.request_step_size_demo(10)
    assert refused.args[0] == "step_size_demo" and "landscape is already running" in refused.args[1]
    with qtbot.waitSignal(loaded.error, timeout=BOUND_MS) as refused:
        loaded.race(("gd",), 10)
    assert "already running" in refused.args[0] and not loaded.is_racing
    with qtbot.waitSignal(loaded.job_busy, timeout=BOUND_MS):
        loaded.cancel_job()


@pytest.mark.parametrize("drop", ["reset", "new project"])
def test_new_weights_abandon_the_job_without_a_result(qtbot, loaded, circle, drop):
    start_long_landscape(qtbot, loaded)
    ready = []
    loaded.landscape_ready.connect(ready.append)
    with qtbot.waitSignal(loaded.job_busy, timeout=BOUND_MS, check_params_cb=lambda kind, b: not b):
        loaded.reset() if drop == "reset" else loaded.set_project(circle)
    assert ready == []


def test_shutdown_mid_job_is_prompt(qtbot, loaded):
    start_long_landscape(qtbot, loaded)
    busy = []
    loaded.job_busy.connect(lambda kind, b: busy.append(b))
    assert loaded.shutdown(timeout_ms=1000)
    assert loaded.busy_job is None and busy == [False]


# -- the recorded trajectory ----------------------------------------------------------------

def test_the_weight_trail_stays_bounded_and_evenly_spread():
    trail = WeightTrail()
    w = np.zeros(5)
    for step in range(1, 5001):
        w = w + 1.0
        trail.record(step, w)
    trail.record(5000, np.full(5, np.nan))      # a step already recorded, and not finite: ignored
    path = trail.trajectory(5001, w + 1.0)
    assert len(path) <= TRAIL_SNAPSHOTS + 1
    steps = path[:, 0]                          # each weight equals its step here
    assert steps[0] == 1 and steps[-1] == 5001
    gaps = np.diff(steps[:-1])
    assert gaps.min() == gaps.max()             # evenly spread, bar the latest
    assert np.all(np.isfinite(path))
