"""The engine's side of trained projects: its state sent on request, a project started
from a saved state (bit for bit), and weights loaded from a file; every refusal is a
message and leaves the running session as it was.  Both engine modes."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.session import Divergence
from playground.project import build_session, load_project
from playground.worker import TrainingController

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
TIMEOUT = 10_000


@pytest.fixture(params=["process", "thread"])
def controller(request, qtbot, monkeypatch):
    monkeypatch.setenv("NNPG_ENGINE", request.param)
    c = TrainingController()
    yield c
    assert c.shutdown()


def started(qtbot, c, project, state=None):
    with qtbot.waitSignals([c.session_changed, c.frame_ready], timeout=TIMEOUT):
        c.set_project(project, state=state)
    return c.latest_frame


def stepped(qtbot, c, n):
    target = c.latest_frame.snapshot.step + n
    c.step(n)
    qtbot.waitUntil(lambda: c.latest_frame.snapshot.step == target, timeout=TIMEOUT)
    return c.latest_frame


def asked_state(qtbot, c, token):
    with qtbot.waitSignal(c.state_ready, timeout=TIMEOUT) as answer:
        c.request_state(token)
    assert answer.args[0] == token
    return answer.args[1]


def test_no_state_before_a_project(qtbot, controller):
    assert asked_state(qtbot, controller, 7) is None


def test_a_state_sent_and_restored_continues_as_the_session_would(qtbot, controller):
    iris = load_project(EXAMPLES / "iris.json")
    reference = build_session(iris)
    reference.step(10 + 4)
    started(qtbot, controller, iris)
    stepped(qtbot, controller, 10)
    state = asked_state(qtbot, controller, "save")
    assert state.step == 10
    started(qtbot, controller, load_project(EXAMPLES / "circle.json"))
    frame = started(qtbot, controller, iris, state)
    assert frame.snapshot.step == 10
    frame = stepped(qtbot, controller, 4)
    for name, tensor in reference.network.tensors.items():
        assert np.array_equal(frame.snapshot.weights[name], tensor), name


def test_a_state_that_does_not_fit_keeps_the_old_session(qtbot, controller):
    iris = load_project(EXAMPLES / "iris.json")
    started(qtbot, controller, iris)
    stepped(qtbot, controller, 3)
    state = asked_state(qtbot, controller, 1)
    circle = load_project(EXAMPLES / "circle.json")
    before = controller.latest_frame.snapshot.weights
    with qtbot.waitSignal(controller.error, timeout=TIMEOUT) as error:
        controller.set_project(circle, state=state)
    assert error.args[0].endswith("trained on 4 input features, this data has 2")
    assert controller.session_info.project == iris
    frame = stepped(qtbot, controller, 1)
    assert frame.snapshot.step == 4 and not np.array_equal(frame.snapshot.weights["h1.weight"],
                                                           before["h1.weight"])


def test_a_state_saved_after_a_divergence_says_so(qtbot, controller):
    circle = load_project(EXAMPLES / "circle.json")
    started(qtbot, controller, circle)
    state = asked_state(qtbot, controller, 2)
    diverged = dataclasses.replace(state, divergence=Divergence(1, "the loss became infinite"))
    with qtbot.waitSignal(controller.diverged, timeout=TIMEOUT) as signal:
        controller.set_project(circle, state=diverged)
    assert signal.args[0].reason == "the loss became infinite"


def test_loaded_weights_replace_the_weights_and_keep_the_step(qtbot, controller):
    circle = load_project(EXAMPLES / "circle.json")
    started(qtbot, controller, circle)
    stepped(qtbot, controller, 5)
    rng = np.random.default_rng(3)
    other = {n: rng.normal(size=t.shape) for n, t in controller.latest_frame.snapshot.weights.items()}
    with qtbot.waitSignal(controller.reset_requested, timeout=TIMEOUT):
        controller.load_weights(other, "other.safetensors")
    qtbot.waitUntil(lambda: all(np.array_equal(controller.latest_frame.snapshot.weights[n], t)
                                for n, t in other.items()), timeout=TIMEOUT)
    assert controller.latest_frame.snapshot.step == 5


def test_weights_that_do_not_fit_are_refused_by_name(qtbot, controller):
    circle = load_project(EXAMPLES / "circle.json")
    before = started(qtbot, controller, circle).snapshot.weights
    wrong = {name: np.array(t) for name, t in before.items()}
    name = next(iter(wrong))
    wrong[name] = np.zeros(wrong[name].shape[:-1] + (wrong[name].shape[-1] + 1,))
    with qtbot.waitSignal(controller.error, timeout=TIMEOUT) as error:
        controller.load_weights(wrong, "wrong.npz")
    assert "wrong.npz" in error.args[0] and name in error.args[0]
    with qtbot.waitSignal(controller.frame_ready, timeout=TIMEOUT):
        controller.request_frame()
    for tensor, value in before.items():
        assert np.array_equal(controller.latest_frame.snapshot.weights[tensor], value), tensor
