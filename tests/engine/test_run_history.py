"""engine.run_history: thinning keeps evenly spread points in bounded memory, runs
round-trip through JSON, the history keeps names unique and its size bounded."""
from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from engine.landscape import session_landscape
from engine.run_history import Run, RunHistory, RunRecorder
from playground.project import build_session, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def test_thinning_keeps_evenly_spread_points_and_the_latest():
    rec = RunRecorder("long", max_points=100)
    for step in range(10_000):
        rec.add_evaluation(step, 1.0 / (step + 1))
    run = rec.run()
    assert len(run.steps) <= 101
    assert run.steps[0] == 0 and run.steps[-1] == 9_999
    gaps = np.diff(run.steps[:-1])
    assert np.all(gaps == gaps[0]) and gaps[0] == 128      # 10 000 calls fit 100 slots at a stride of 128
    assert np.all(run.steps[:-1] % gaps[0] == 0)
    np.testing.assert_allclose(run.train_loss, 1.0 / (run.steps + 1))
    assert np.all(np.isnan(run.test_loss)) and not run.has_accuracy


def test_snapshots_stay_within_the_memory_bound():
    n = 1000                                   # 8000 bytes per snapshot
    rec = RunRecorder("weights", max_snapshots=50, max_snapshot_bytes=80_000)
    for step in range(500):
        rec.add_weights(step, np.full(n, float(step)))
    assert rec.snapshot_capacity == 10
    run = rec.run()
    assert len(run.weights) <= 11 and run.weights.shape[1] == n
    np.testing.assert_array_equal(run.weights[:, 0], run.weight_steps)
    assert run.weight_steps[0] == 0 and run.weight_steps[-1] == 499
    with pytest.raises(ValueError, match="one network"):
        rec.add_weights(500, np.zeros(3))


def test_a_run_round_trips_through_json_and_pickle():
    rec = RunRecorder("sigmoid + mse", note="preset: saturation")
    rec.add_evaluation(0, 0.7, 0.72, 0.5, None)
    rec.add_evaluation(10, 0.6, None, 0.6, 0.55)
    rec.add_weights(0, [1.0, 2.0])
    rec.add_weights(10, [1.5, 2.5])
    run = rec.run()
    text = json.dumps(run.to_dict(include_weights=True), allow_nan=False)
    back = Run.from_dict(json.loads(text))
    for field in ("steps", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "weight_steps", "weights"):
        np.testing.assert_array_equal(getattr(back, field), getattr(run, field))
    assert back.note == "preset: saturation" and math.isnan(back.test_loss[1])
    assert pickle.loads(pickle.dumps(run)).name == "sigmoid + mse"
    assert "weights" not in run.to_dict()
    assert not run.train_loss.flags.writeable


@pytest.mark.parametrize("raw,message", [
    ({"name": "", "steps": []}, "non-empty text"),
    ({"name": "a", "steps": [0, 1], "train_loss": [0.5]}, "has 1 entries, steps has 2"),
    ({"name": "a", "steps": [0], "train_loss": ["x"]}, r"train_loss\[0\]"),
    ({"name": "a", "steps": [None]}, r"steps\[0\]: must be a finite number,"),
    ({"name": "a", "steps": [0], "weight_steps": [0], "weights": [[1.0], [2.0]]}, "one weight vector per entry"),
    ("not a run", "must be an object"),
])
def test_bad_runs_are_named(raw, message):
    with pytest.raises(ValueError, match=message):
        Run.from_dict(raw)


def test_history_names_order_and_bound():
    history = RunHistory(max_runs=3)
    for name in ("a", "b", "c"):
        rec = RunRecorder(name)
        rec.add_evaluation(0, 1.0)
        assert history.add(rec.run()) == ()
    assert history.unique_name("a") == "a (2)" and history.unique_name("new") == "new"
    with pytest.raises(ValueError, match="already a run named 'a'"):
        history.add(RunRecorder("a").run())
    assert history.add(RunRecorder("d").run()) == ("a",)
    history.rename("c", "relu")
    assert history.names == ("b", "relu", "d") and history.get("relu").name == "relu"
    with pytest.raises(ValueError, match="already a run named 'd'"):
        history.rename("b", "d")
    history.remove("b")
    with pytest.raises(KeyError, match="no run named 'b'"):
        history.get("b")
    again = RunHistory.from_list(json.loads(json.dumps(history.to_list())))
    assert again.names == ("relu", "d")


def test_recorded_session_trajectory_feeds_the_landscape():
    s = build_session(parse_project(json.loads((EXAMPLES / "spiral.json").read_text())))
    rec = RunRecorder("spiral")
    rec.add(s.evaluate())
    rec.add_weights(s.step_count, s.network.params)
    for _ in range(10):
        s.step(25)
        rec.add(s.evaluate())
        rec.add_weights(s.step_count, s.network.params)
    run = rec.run()
    assert run.has_accuracy and list(run.steps) == list(range(0, 251, 25))
    L = session_landscape(s, "pca", resolution=5, trajectory=run.weights)
    np.testing.assert_allclose(L.paths[0].coords[-1], 0.0, atol=1e-12)
    assert L.directions.values[0] > 0.5
