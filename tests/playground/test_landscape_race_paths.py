"""Issue 13 item 4: after a race, the loss landscape draws each race method's path beside
the training path, named with the step the race started from.  The race's own message
goes without the weights (they stay in the engine); a new race replaces the paths, and
Reset or a new network drops them.  The jobs alone, then through the real engine loop
(both engine modes, the controller fixture)."""
from __future__ import annotations

import itertools
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.landscape import project_path
from engine.race import RaceStart, race
from playground.engine_jobs import LandscapeJob, RaceJob, WeightTrail, race_path_name
from playground.project import build_session, load_project
from tests.playground.test_worker import TIMEOUT, circle, controller, loaded, qt_warnings, step_of  # noqa: F401

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
METHODS = ("gd", "adam", "nelder_mead")
BUDGET = 60
JOB_SECONDS = 60


def circle_session(weights: np.ndarray | None = None):
    session = build_session(load_project(EXAMPLES / "circle.json"))
    if weights is not None:
        session.network.params[...] = weights
    return session


def run_job(job_class, *args) -> list[tuple]:
    """A job on its own thread with a recording ``send``: the messages it sent."""
    sent = []
    job = job_class(*args[:1], lambda *message: sent.append(message), threading.Event(), *args[1:])
    job.start()
    job.join(JOB_SECONDS)
    assert not job.alive()
    return sent


def payload(sent: list[tuple], kind: str):
    (message,) = [m for m in sent if m[0] == kind]
    return message[1:]


def projected_alone(start_weights, centre, directions, methods=METHODS, start_step=0):
    """Each method's path from an independent local race, projected onto the landscape's plane."""
    session = circle_session(start_weights)
    session.step_count = start_step
    traces = race(session, methods, budget=BUDGET, seconds_limit=JOB_SECONDS)
    return {race_path_name(t): project_path(race_path_name(t), t.path, centre, directions.d1, directions.d2)
            for t in traces}


# -- the jobs ----------------------------------------------------------------------------------

def test_a_race_job_keeps_its_paths_for_the_landscape_and_sends_its_traces_without_them():
    session = circle_session()
    session.step(7)
    trail = WeightTrail()
    (traces,) = payload(run_job(RaceJob, RaceStart.of(session), METHODS, BUDGET, trail), "raced")
    assert [t.method for t in traces] == list(METHODS)
    assert all(t.path is None and t.path_records is None for t in traces)
    kept = trail.race_paths()
    assert set(kept) == {f"{m} (race from step 7)" for m in METHODS}
    alone = race(session, METHODS, budget=BUDGET, seconds_limit=JOB_SECONDS)
    for t in alone:
        np.testing.assert_array_equal(kept[race_path_name(t)], t.path)


def test_a_new_race_replaces_the_paths_and_a_cancelled_one_says_so():
    session = circle_session()
    trail = WeightTrail()
    run_job(RaceJob, RaceStart.of(session), ("gd", "adam"), BUDGET, trail)
    run_job(RaceJob, RaceStart.of(session), ("cg",), BUDGET, trail)
    assert list(trail.race_paths()) == ["cg (race from step 0)"]
    polls = itertools.count()
    (partial,) = race(session, ["gd"], budget=BUDGET, cancelled=lambda: next(polls) > 10)
    assert partial.cancelled and len(partial.path) >= 2
    trail.keep_race([partial])
    assert list(trail.race_paths()) == ["gd (race from step 0, cancelled)"]


def test_a_landscape_job_projects_the_race_paths_with_the_training_path():
    session = circle_session()
    trail = WeightTrail()
    trail.record(0, session.network.params)
    run_job(RaceJob, RaceStart.of(session), METHODS, BUDGET, trail)
    start = session.network.params.copy()
    session.step(30)                # the landscape is centred where training has gone since
    trajectory = trail.trajectory(30, session.network.params)
    (scape, step) = payload(run_job(LandscapeJob, RaceStart.of(session), "random", 11, trajectory,
                                    trail.race_paths()), "job done")[1:]
    assert step == 30
    paths = {p.name: p for p in scape.paths}
    assert set(paths) == {"training"} | {f"{m} (race from step 0)" for m in METHODS}
    for name, expected in projected_alone(start, scape.center, scape.directions).items():
        np.testing.assert_allclose(paths[name].coords, expected.coords, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(paths[name].off_plane, expected.off_plane, rtol=1e-9, atol=1e-12)


# -- through the engine loop ------------------------------------------------------------------

def stepped(qtbot, c, n: int) -> None:
    target = step_of(c) + n
    c.step(n)
    qtbot.waitUntil(lambda: step_of(c) == target, timeout=TIMEOUT)


def flat_weights(c) -> np.ndarray:
    session = circle_session()
    for name, tensor in c.latest_frame.snapshot.weights.items():
        session.network.tensors[name][...] = tensor
    return session.network.params.copy()


def raced(qtbot, c, methods=METHODS) -> list:
    with qtbot.waitSignal(c.raced, timeout=4 * TIMEOUT) as done:
        c.race(methods, BUDGET)
    qtbot.waitUntil(lambda: not c.is_racing, timeout=TIMEOUT)
    return done.args[0]


def landscape_of(qtbot, c):
    with qtbot.waitSignal(c.landscape_ready, timeout=4 * TIMEOUT) as ready:
        c.request_landscape("random", 11)
    return ready.args[0]


def test_after_a_race_the_landscape_carries_each_methods_path(qtbot, loaded):
    stepped(qtbot, loaded, 20)
    start = flat_weights(loaded)
    traces = raced(qtbot, loaded)
    assert all(t.path is None for t in traces)          # the GUI gets no weights
    stepped(qtbot, loaded, 10)
    scape = landscape_of(qtbot, loaded)
    paths = {p.name: p for p in scape.paths}
    assert set(paths) == {"training"} | {f"{m} (race from step 20)" for m in METHODS}
    for name, expected in projected_alone(start, scape.center, scape.directions, start_step=20).items():
        np.testing.assert_allclose(paths[name].coords, expected.coords, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("drop", ["reset", "new project"])
def test_reset_and_a_new_network_drop_the_race_paths(qtbot, loaded, circle, drop):
    raced(qtbot, loaded, ("gd",))
    assert any("race from" in p.name for p in landscape_of(qtbot, loaded).paths)
    loaded.reset() if drop == "reset" else loaded.set_project(circle)     # commands run in order
    stepped(qtbot, loaded, 10)
    stepped(qtbot, loaded, 10)
    assert [p.name for p in landscape_of(qtbot, loaded).paths] == ["training"]
