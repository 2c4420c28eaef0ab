"""A race runs beside training: while one runs, every other command is served at once,
a cancel is answered within a fraction of a second with what the race has so far (the
interrupted method marked), and a new network abandons it.  Both engine modes."""
from __future__ import annotations

from tests.playground.test_worker import (TIMEOUT, circle, controller, loaded, pause,  # noqa: F401
                                          qt_warnings, step_of)

# Each runs until its budget or its 5-second limit (gradient steps never "converge"), so
# with this budget the race would take 15 s if nothing stopped it.
LONG_RACE = ("gd", "momentum", "adam")
HUGE_BUDGET = 10_000_000
BOUND_MS = 1000         # a command answered later than this was queued behind the race


def start_long_race(qtbot, c) -> None:
    """Start it and wait until the engine says it is racing and the first method runs."""
    with qtbot.waitSignals([c.race_busy, c.race_progress], timeout=TIMEOUT):
        c.race(LONG_RACE, HUGE_BUDGET)
    assert c.is_racing


def test_a_cancel_is_answered_at_once_with_the_partial_trace_marked(qtbot, loaded):
    start_long_race(qtbot, loaded)
    busy = []
    loaded.race_busy.connect(busy.append)
    with qtbot.waitSignal(loaded.raced, timeout=BOUND_MS) as raced:
        loaded.cancel_race()
    qtbot.waitUntil(lambda: busy == [False], timeout=BOUND_MS)
    traces = raced.args[0]
    assert [t.method for t in traces] == ["gd"]         # momentum and adam never started
    assert traces[0].cancelled and traces[0].message == "cancelled"
    assert traces[0].evaluations[-1] < HUGE_BUDGET
    assert not loaded.is_racing


def test_commands_sent_during_a_race_are_served_at_once(qtbot, loaded):
    start_long_race(qtbot, loaded)
    progress = []
    loaded.race_progress.connect(progress.append)
    loaded.step(3)
    qtbot.waitUntil(lambda: step_of(loaded) == 3, timeout=BOUND_MS)
    with qtbot.waitSignal(loaded.running_changed, timeout=BOUND_MS, check_params_cb=lambda r: r is True):
        loaded.play()
    qtbot.waitUntil(lambda: step_of(loaded) > 50, timeout=TIMEOUT)      # training beside the race
    pause(qtbot, loaded)
    loaded.set_learning_rate(0.5)
    qtbot.waitUntil(lambda: loaded.latest_frame.snapshot.lr == 0.5, timeout=BOUND_MS)
    assert loaded.is_racing                             # all of that while the race ran
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=TIMEOUT)
    assert all(p.method == "gd" and p.count == 3 for p in progress)
    assert [p.evaluations for p in progress] == sorted(p.evaluations for p in progress)
    with qtbot.waitSignal(loaded.raced, timeout=BOUND_MS) as raced:
        loaded.cancel_race()
    assert raced.args[0][0].start_step == 0             # raced from the weights it was asked for


def test_a_second_race_is_refused_while_one_runs(qtbot, loaded):
    start_long_race(qtbot, loaded)
    with qtbot.waitSignal(loaded.error, timeout=BOUND_MS) as refused:
        loaded.race(("gd",), 10)
    assert "already running" in refused.args[0] and loaded.is_racing
    with qtbot.waitSignal(loaded.race_busy, timeout=BOUND_MS, check_params_cb=lambda b: b is False):
        loaded.cancel_race()


def test_an_unknown_method_ends_the_race_it_started(qtbot, loaded):
    busy = []
    loaded.race_busy.connect(busy.append)
    with qtbot.waitSignal(loaded.error, timeout=TIMEOUT) as refused:
        loaded.race(("bogus",), 10)
    assert "bogus" in refused.args[0]
    qtbot.waitUntil(lambda: busy == [True, False], timeout=TIMEOUT)


def test_reset_abandons_the_race_without_results(qtbot, loaded):
    start_long_race(qtbot, loaded)
    raced = []
    loaded.raced.connect(raced.append)
    with qtbot.waitSignal(loaded.race_busy, timeout=BOUND_MS, check_params_cb=lambda b: b is False):
        loaded.reset()
    assert raced == []          # its traces belong to weights that are gone


def test_a_new_project_abandons_the_race_without_results(qtbot, loaded, circle):
    start_long_race(qtbot, loaded)
    raced, busy = [], []
    loaded.raced.connect(raced.append)
    loaded.race_busy.connect(busy.append)
    with qtbot.waitSignal(loaded.session_changed, timeout=TIMEOUT):
        loaded.set_project(circle)
    qtbot.waitUntil(lambda: busy == [False], timeout=BOUND_MS)
    assert raced == []


def test_shutdown_mid_race_is_prompt(qtbot, loaded):
    start_long_race(qtbot, loaded)
    assert loaded.shutdown(timeout_ms=1000)
    assert not loaded.is_racing
