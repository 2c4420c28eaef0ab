"""Setting one weight by hand (issue 13, item 2): the engine applies it between two
chunks, the next frame holds it with the loss of the new weights, the optimiser keeps
its state, and bad requests are refused by name.  Both engine modes (the controller fixture)."""
from __future__ import annotations

import numpy as np
import pytest

from playground.project import build_session
from tests.playground.test_worker import TIMEOUT, circle, controller, loaded, qt_warnings, step_of  # noqa: F401
from tests.weight_edit_reference import bce, dense_layers, forward


def stepped(qtbot, c, n: int) -> None:
    target = step_of(c) + n
    c.step(n)
    qtbot.waitUntil(lambda: step_of(c) == target, timeout=TIMEOUT)


def frame_with(qtbot, c, tensor: str, index: tuple, value: float):
    qtbot.waitUntil(lambda: float(c.latest_frame.snapshot.weights[tensor][index]) == value, timeout=TIMEOUT)
    return c.latest_frame


def test_a_set_weight_shows_in_the_next_frame_with_the_loss_of_the_new_weights(qtbot, loaded, circle):
    stepped(qtbot, loaded, 30)
    before = {name: w.copy() for name, w in loaded.latest_frame.snapshot.weights.items()}
    loaded.set_weight("h1.weight", (2, 1), 1.75)
    frame = frame_with(qtbot, loaded, "h1.weight", (2, 1), 1.75)
    after = frame.snapshot.weights
    assert frame.snapshot.step == 30                    # set between chunks, not trained on
    changed = {name for name in before if not np.array_equal(before[name], after[name])}
    assert changed == {"h1.weight"}
    moved = np.argwhere(before["h1.weight"] != after["h1.weight"])
    assert moved.tolist() == [[2, 1]]
    info = loaded.session_info
    layers = dense_layers(circle)
    expected = bce(forward(after, info.dataset.X_train, layers), info.dataset.y_train)
    assert frame.evaluation.train_loss == pytest.approx(expected, rel=1e-10)
    assert expected != pytest.approx(bce(forward(before, info.dataset.X_train, layers), info.dataset.y_train),
                                     rel=1e-6)          # the edit changed the loss: a stale one would fail
    # The output map is the new network's: the grid's output at its first points, explicitly.
    grid = frame.grid
    x1 = np.linspace(grid.extent[0], grid.extent[1], grid.resolution)
    x2 = np.linspace(grid.extent[2], grid.extent[3], grid.resolution)
    points = np.array([[x1[c], x2[r]] for r in (0, 7) for c in (0, 13, grid.resolution - 1)])
    np.testing.assert_allclose([grid.output[r, c] for r in (0, 7) for c in (0, 13, grid.resolution - 1)],
                               forward(after, points, layers)[:, 0], rtol=1e-10)


def test_a_bias_can_be_set_too(qtbot, loaded):
    loaded.set_weight("h2.bias", (1,), -0.625)
    frame = frame_with(qtbot, loaded, "h2.bias", (1,), -0.625)
    assert frame.snapshot.weights["h2.bias"][1] == -0.625


def test_the_optimiser_keeps_its_state_across_an_edit(qtbot, loaded, circle):
    """Adam's moments survive: the next step equals a local session's that set the same
    weight in place, and differs from one whose optimiser started afresh."""
    stepped(qtbot, loaded, 25)
    loaded.set_weight("h2.weight", (0, 3), -2.0)
    frame_with(qtbot, loaded, "h2.weight", (0, 3), -2.0)
    stepped(qtbot, loaded, 1)
    engine = loaded.latest_frame.snapshot.weights

    def local(fresh_optimizer: bool):
        session = build_session(circle)
        session.step(25)
        session.network.tensors["h2.weight"][0, 3] = -2.0
        if fresh_optimizer:
            session.optimizer.reset()
        session.step(1)
        return session.network.tensors

    kept, fresh = local(False), local(True)
    for name in engine:
        np.testing.assert_array_equal(engine[name], kept[name])
    assert not np.array_equal(engine["h1.weight"], fresh["h1.weight"])


@pytest.mark.parametrize("tensor,index,value,words", [
    ("h9.weight", (0, 0), 1.0, "Cannot set 'h9.weight': this network has no such weight tensor (it has h1.weight"),
    ("h1.weight", (4, 0), 1.0, "Cannot set h1.weight at (4, 0): its row (the unit it feeds) must be an integer "
                               "in 0..3, got 4"),
    ("h1.weight", (0,), 1.0, "Cannot set h1.weight at (0,): it is indexed [row (the unit it feeds), column"),
    ("h1.bias", (0, 0), 1.0, "Cannot set h1.bias at (0, 0): it is indexed [unit], shape [4]"),
    ("h1.weight", (0, True), 1.0, "its column (the input it comes from) must be an integer in 0..1, got True"),
    ("h1.weight", (0, 1), float("nan"), "Cannot set h1.weight[0, 1] to nan: must be a finite number"),
    ("h1.weight", (0, 1), "2", "Cannot set h1.weight[0, 1] to '2': must be a number"),
    ("h1.weight", (0, 1), 1e400, "Cannot set h1.weight[0, 1] to inf: must be a finite number"),
])
def test_a_bad_edit_is_refused_by_name_and_changes_nothing(qtbot, loaded, tensor, index, value, words):
    before = {name: w.copy() for name, w in loaded.latest_frame.snapshot.weights.items()}
    with qtbot.waitSignal(loaded.error, timeout=TIMEOUT) as failed:
        loaded.set_weight(tensor, index, value)
    assert words in failed.args[0]
    with qtbot.waitSignal(loaded.frame_ready, timeout=TIMEOUT):
        loaded.request_frame()
    for name, w in loaded.latest_frame.snapshot.weights.items():
        np.testing.assert_array_equal(w, before[name])
