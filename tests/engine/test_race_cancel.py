"""A race the user cancels: the methods that finished keep their traces, the one it
interrupted keeps a partial trace marked as such, later methods never start; progress
reports say which method runs and how far it got; a race works from a copy, so the
session may train on while it runs."""
from __future__ import annotations

import numpy as np
import pytest

from engine.race import RaceStart, race
from tests.engine.test_race import independent_loss, session_for

BUDGET = 300


def cancel_after(evaluations: int):
    """A cancel flag that turns on once ``evaluations`` objective calls have been polled."""
    polls = []

    def cancelled() -> bool:
        polls.append(1)
        return len(polls) > evaluations
    return cancelled


def test_a_cancel_between_steps_keeps_finished_traces_and_marks_the_partial_one():
    s = session_for()
    # race() polls once before each method, then once per evaluation: gd spends its whole
    # budget, adam gets 41 evaluations (its start gradient and 40 updates), then the cancel.
    cancelled = cancel_after(1 + BUDGET + 1 + 41)
    gd, adam, *rest = race(s, ["gd", "adam", "lbfgs"], budget=BUDGET, cancelled=cancelled)
    assert rest == []                                     # lbfgs never started
    assert not gd.cancelled and gd.message == "budget used" and gd.evaluations[-1] == BUDGET
    assert adam.cancelled and adam.message == "cancelled"
    assert adam.evaluations[-1] == 41 and list(adam.iterations) == list(range(41))
    # The partial trace is honest: its losses are those of the weights adam reached.
    full, = race(s, ["adam"], budget=41)
    np.testing.assert_array_equal(adam.losses, full.losses)
    assert not full.cancelled


def test_a_cancel_before_the_first_method_returns_no_traces():
    assert race(session_for(), ["gd", "adam"], budget=BUDGET, cancelled=lambda: True) == []


def test_progress_names_each_method_and_counts_its_evaluations(monkeypatch):
    import engine.race
    monkeypatch.setattr(engine.race, "PROGRESS_INTERVAL", 0.0)     # a report before every evaluation
    reports = []
    traces = race(session_for(), ["gd", "nelder_mead"], budget=50, progress=reports.append)
    for index, trace in enumerate(traces):
        mine = [r for r in reports if r.method == trace.method]
        assert {(r.index, r.count, r.budget) for r in mine} == {(index, 2, 50)}
        # One report as the method starts, then one before each evaluation it spends.
        assert [r.evaluations for r in mine] == [0, *range(trace.evaluations[-1])]
        assert all(0 <= r.seconds <= trace.seconds[-1] for r in mine)
        assert mine[0].fraction == index / 2
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx((1 + 49 / 50) / 2)


def test_a_race_from_a_copy_ignores_training_that_happens_after_the_copy():
    s = session_for()
    s.step(3)
    start, expected = RaceStart.of(s), s.objective()
    w = s.network.params.astype(np.float64)
    s.step(20)                                          # training goes on beside the race
    t, = race(start, ["gd"], budget=5)
    assert t.losses[0] == pytest.approx(expected, rel=1e-12)
    assert t.losses[0] == pytest.approx(independent_loss(s, w), rel=1e-12)
    assert t.start_step == 3
