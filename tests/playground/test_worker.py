"""TrainingController: training in its own process (or, as a fallback, a thread),
commands in order, throttled frames; every test runs in both modes."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QtMsgType, qInstallMessageHandler

from playground.frames import TrainingFrame
from playground.project import load_project
from playground.worker import SessionInfo, TrainingController

CIRCLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "circle.json"
TIMEOUT = 5000


@pytest.fixture
def circle():
    return load_project(CIRCLE)


@pytest.fixture
def qt_warnings():
    """Qt warnings (and worse) printed while the test runs."""
    messages = []

    def handler(kind, context, text):
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
            messages.append(text)

    previous = qInstallMessageHandler(handler)
    yield messages
    qInstallMessageHandler(previous)


@pytest.fixture(params=["process", "thread"])
def controller(request, qtbot, qt_warnings, monkeypatch):
    monkeypatch.setenv("NNPG_ENGINE", request.param)
    c = TrainingController()
    assert c.separate_process == (request.param == "process")
    yield c
    assert c.shutdown(), "the training thread did not stop within a second"
    assert qt_warnings == []


@pytest.fixture
def loaded(qtbot, controller, circle):
    """A controller with the circle project in place and its first frame delivered."""
    with qtbot.waitSignals([controller.session_changed, controller.frame_ready], timeout=TIMEOUT):
        controller.set_project(circle)
    return controller


def step_of(c: TrainingController) -> int:
    return c.latest_frame.snapshot.step


def fresh_frame(qtbot, c: TrainingController) -> TrainingFrame:
    with qtbot.waitSignal(c.frame_ready, timeout=TIMEOUT) as blocker:
        c.request_frame()
    return blocker.args[0]


def pause(qtbot, c: TrainingController) -> None:
    with qtbot.waitSignal(c.running_changed, timeout=TIMEOUT, check_params_cb=lambda r: r is False):
        c.pause()


def test_training_runs_outside_the_gui_process(loaded, qtbot):
    """The point of the design: training never holds the GUI's GIL."""
    import os
    if loaded.separate_process:
        assert loaded.engine_pid != os.getpid()
    loaded.play()
    qtbot.waitUntil(lambda: step_of(loaded) > 100, timeout=TIMEOUT)
    # grids that the engine did not re-evaluate arrive as the previous one, never as None
    seen = []
    loaded.frame_ready.connect(lambda f: seen.append(f.grid))
    qtbot.waitUntil(lambda: len(seen) >= 10, timeout=TIMEOUT)
    pause(qtbot, loaded)
    assert all(g is not None for g in seen)


def test_first_session_and_frame(loaded):
    info, frame = loaded.session_info, loaded.latest_frame
    assert isinstance(info, SessionInfo) and info.task == "classification" and info.loss == "bce"
    assert frame.snapshot.step == 0 and frame.grid is not None and not loaded.is_running


def test_play_trains_and_pause_stops(qtbot, loaded):
    first_loss = loaded.latest_frame.evaluation.train_loss
    with qtbot.waitSignal(loaded.running_changed, timeout=TIMEOUT):
        loaded.play()
    assert loaded.is_running
    qtbot.waitUntil(lambda: step_of(loaded) > 200 and loaded.latest_frame.evaluation.train_loss < first_loss,
                    timeout=10000)
    assert loaded.latest_frame.steps_per_second > 0
    pause(qtbot, loaded)
    assert not loaded.is_running
    a, b = fresh_frame(qtbot, loaded), fresh_frame(qtbot, loaded)
    assert a.snapshot.step == b.snapshot.step > 200
    assert b.steps_per_second == 0.0


def test_step_epoch_reset_while_paused(qtbot, loaded):
    loaded.step(1)
    qtbot.waitUntil(lambda: step_of(loaded) == 1, timeout=TIMEOUT)
    assert fresh_frame(qtbot, loaded).snapshot.step == 1
    loaded.step(3)
    qtbot.waitUntil(lambda: step_of(loaded) == 4, timeout=TIMEOUT)
    assert fresh_frame(qtbot, loaded).snapshot.step == 4

    loaded.reset()
    qtbot.waitUntil(lambda: step_of(loaded) == 0, timeout=TIMEOUT)
    start = loaded.latest_frame
    loaded.epoch()
    qtbot.waitUntil(lambda: step_of(loaded) > 0, timeout=TIMEOUT)
    frame = fresh_frame(qtbot, loaded)
    assert frame.snapshot.step == 25 and frame.snapshot.epoch == 1    # 250 training rows, batch 10

    loaded.reset()
    qtbot.waitUntil(lambda: step_of(loaded) == 0, timeout=TIMEOUT)
    again = loaded.latest_frame.snapshot.weights
    assert any(not np.array_equal(again[name], start.snapshot.weights[name]) for name in again)


def test_learning_rate_and_optimizer_changes(qtbot, loaded):
    loaded.set_learning_rate(0.5)
    qtbot.waitUntil(lambda: loaded.latest_frame.snapshot.lr == 0.5, timeout=TIMEOUT)
    loaded.set_schedule({"name": "step", "step_size": 1, "gamma": 0.5})    # decays from the new lr
    loaded.step(1)
    qtbot.waitUntil(lambda: step_of(loaded) == 1, timeout=TIMEOUT)
    assert loaded.latest_frame.snapshot.lr == 0.25
    loaded.set_schedule(None)

    loaded.set_optimizer({"name": "sgd", "lr": 0.1, "momentum": 0.9})
    qtbot.waitUntil(lambda: loaded.latest_frame.snapshot.lr == 0.1, timeout=TIMEOUT)
    before = loaded.latest_frame
    loaded.step(100)
    qtbot.waitUntil(lambda: step_of(loaded) == 101, timeout=TIMEOUT)
    after = loaded.latest_frame
    assert after.snapshot.lr == 0.1
    assert after.evaluation.train_loss < before.evaluation.train_loss

    with qtbot.waitSignal(loaded.error, timeout=TIMEOUT) as blocker:
        loaded.set_learning_rate(-1.0)
    assert "lr" in blocker.args[0]
    assert fresh_frame(qtbot, loaded).snapshot.lr == 0.1


def with_hidden_activation(project, activation):
    network = project.document["network"]
    nodes = [dict(n, activation=activation) if n["id"] in ("h1", "h2") else n for n in network["nodes"]]
    return project.with_changes(network=dict(network, nodes=nodes))


def test_divergence_pauses_and_keeps_finite_weights(qtbot, loaded, circle):
    # The shipped tanh net saturates instead of overflowing; linear hidden layers blow up.
    with qtbot.waitSignal(loaded.session_changed, timeout=TIMEOUT):
        loaded.set_project(with_hidden_activation(circle, "linear"))
    loaded.set_optimizer({"name": "sgd", "lr": 100.0})
    changes = []
    loaded.running_changed.connect(changes.append)
    with qtbot.waitSignal(loaded.diverged, timeout=TIMEOUT):
        loaded.play()
    assert changes == [True, False]
    qtbot.waitUntil(lambda: loaded.latest_frame.snapshot.divergence is not None, timeout=TIMEOUT)
    stopped_at = loaded.latest_frame.snapshot
    assert "NaN or infinite" in stopped_at.divergence.reason
    assert not loaded.is_running
    assert all(np.all(np.isfinite(w)) for w in loaded.latest_frame.snapshot.weights.values())
    with qtbot.waitSignal(loaded.diverged, timeout=TIMEOUT):    # play again: told again, stays paused
        loaded.play()
    assert not loaded.is_running and fresh_frame(qtbot, loaded).snapshot.step == stopped_at.step


def test_frames_are_throttled(qtbot, loaded):
    times = []
    loaded.frame_ready.connect(lambda frame: times.append(time.perf_counter()))
    start = time.perf_counter()
    loaded.play()
    qtbot.waitUntil(lambda: time.perf_counter() - start > 0.5 and len(times) >= 5, timeout=TIMEOUT)
    pause(qtbot, loaded)
    elapsed = time.perf_counter() - start
    assert len(times) / elapsed <= 60
    assert step_of(loaded) > len(times)          # many steps per frame


def test_paced_speed(qtbot, loaded):
    loaded.set_speed(20)
    loaded.play()
    qtbot.waitUntil(lambda: step_of(loaded) >= 5, timeout=TIMEOUT)
    start, started = time.perf_counter(), step_of(loaded)
    qtbot.waitUntil(lambda: step_of(loaded) >= started + 5, timeout=TIMEOUT)
    rate = (step_of(loaded) - started) / (time.perf_counter() - start)
    assert 8 < rate < 40
    loaded.set_speed(None)
    qtbot.waitUntil(lambda: step_of(loaded) > started + 200, timeout=TIMEOUT)
    pause(qtbot, loaded)


def test_shutdown_while_training(qtbot, controller, circle):
    controller.set_project(circle)
    controller.play()
    qtbot.waitUntil(lambda: controller.latest_frame is not None and step_of(controller) > 50, timeout=TIMEOUT)
    begin = time.perf_counter()
    assert controller.shutdown(1000)
    assert time.perf_counter() - begin < 1.0
    assert not controller.engine_alive
    assert controller.shutdown()                  # idempotent
    controller.play()                             # ignored once shut down


def test_invalid_project_keeps_old_session(qtbot, loaded, circle):
    bad = circle.with_changes(training=dict(circle.training, loss="cross_entropy"))
    old_info = loaded.session_info
    with qtbot.waitSignal(loaded.error, timeout=TIMEOUT) as blocker:
        loaded.set_project(bad)
    assert "cross_entropy" in blocker.args[0] and "training.loss" in blocker.args[0]
    assert loaded.session_info is old_info
    loaded.step(10)
    qtbot.waitUntil(lambda: step_of(loaded) == 10, timeout=TIMEOUT)


def test_set_project_keep_weights(qtbot, loaded, circle):
    loaded.step(50)
    qtbot.waitUntil(lambda: step_of(loaded) == 50, timeout=TIMEOUT)
    trained = loaded.latest_frame.snapshot.weights
    relu = with_hidden_activation(circle, "relu")
    with qtbot.waitSignals([loaded.session_changed, loaded.frame_ready], timeout=TIMEOUT):
        loaded.set_project(relu, keep_weights=True)
    frame = loaded.latest_frame
    assert loaded.session_info.project == relu and frame.snapshot.step == 0
    assert all(np.array_equal(frame.snapshot.weights[name], trained[name]) for name in trained)


def test_a_burst_of_projects_ends_with_the_last(qtbot, loaded, circle):
    projects = [with_hidden_activation(circle, a) for a in ("relu", "sigmoid", "linear", "relu", "tanh")]
    for project in projects:
        loaded.set_project(project)
    qtbot.waitUntil(lambda: loaded.session_info.project == projects[-1], timeout=TIMEOUT)
    assert fresh_frame(qtbot, loaded).snapshot.step == 0


def test_explain_answers_with_the_chain_rule_of_the_live_session(loaded, qtbot):
    from playground.explain import ExplainRequest

    controller = loaded
    controller.step(20)
    qtbot.waitUntil(lambda: step_of(controller) >= 20, timeout=TIMEOUT)
    request = ExplainRequest("out.weight", unit=0, source=1, row=3, with_curvature=True)
    with qtbot.waitSignal(controller.explained, timeout=10_000) as blocker:
        controller.explain(request)
    explanation = blocker.args[0]
    assert explanation.request == request and explanation.step == 20
    assert explanation.chain.cancelled            # sigmoid + bce: dL/dz = p - y
    assert abs(explanation.chain.backprop - explanation.chain.finite_difference) < 1e-6
    assert explanation.curvature.max_eigenvalue > 0
    with qtbot.waitSignal(controller.error, timeout=10_000) as failed:
        controller.explain(ExplainRequest("nope.weight", 0, 0))
    assert "nope.weight" in failed.args[0]


def test_shutdown_during_a_race_stops_within_a_second(loaded, qtbot):
    from engine.race import METHODS

    with qtbot.waitSignal(loaded.running_changed, timeout=TIMEOUT):
        loaded.play()
    # The race pauses training as it begins: that signal says the worker is inside it.
    with qtbot.waitSignal(loaded.running_changed, timeout=TIMEOUT, check_params_cb=lambda r: r is False):
        loaded.race(tuple(METHODS), 1_000_000)   # 12 methods x 5 s if nothing stopped it
    assert loaded.shutdown(timeout_ms=1000)


def test_only_engine_commands_run_in_the_engine(loaded, qtbot, tmp_path):
    """Commands are EngineLoop's own methods; anything else sent down the pipe is refused."""
    import os
    marker = tmp_path / "ran"
    with qtbot.waitSignal(loaded.error, timeout=TIMEOUT) as refused:
        loaded._send(os.mkdir, str(marker))
    assert "Unknown engine command" in refused.args[0] and not marker.exists()
    loaded.step(3)                                # the engine carries on
    qtbot.waitUntil(lambda: step_of(loaded) == 3, timeout=TIMEOUT)
