"""engine.race: every method starts from the session's weights, spends at most its budget,
never touches the session, and the quasi-Newton methods beat plain gradient descent on a
smooth (convex quadratic) problem, down to the least-squares solution."""
from __future__ import annotations

import numpy as np
import pytest

from engine.graph import chain_network
from engine.race import METHODS, race
from playground.project import build_session, parse_project

DERIVATIVE_FREE = ("nelder_mead", "hooke_jeeves")


def session_for(hidden=(("h1", 3, "tanh"),), out_act="sigmoid", loss="bce", source="xor", samples=100,
                optimizer=None, noise=0.0, reg=None, features=("x1", "x2")):
    doc = {
        "format": "nn-playground/1", "seed": 0, "dtype": "float64",
        "data": {"source": source, "samples": samples, "noise": noise, "train_fraction": 0.5,
                 "features": list(features)},
        "network": chain_network(hidden, 1, out_act),
        "training": {"loss": loss, "optimizer": optimizer or {"name": "sgd", "lr": 0.1},
                     "batch_size": 10, "regularization": reg or {"kind": "none", "rate": 0.0}},
    }
    return build_session(parse_project(doc))


def linear_regression_session(lr=0.001, features=("x1", "x2")):
    return session_for(hidden=(), out_act="linear", loss="mse", source="plane", samples=200,
                       optimizer={"name": "sgd", "lr": lr}, noise=0.3, features=features)


def state(s):
    return (s.network.params.copy(), s.network.grads.copy(), s.step_count,
            s._order_rng.bit_generator.state, s._dropout_rng.bit_generator.state)


def test_all_methods_from_the_same_start_within_budget_session_untouched():
    s = session_for(reg={"kind": "l2", "rate": 0.001})
    s.step(3)
    before = state(s)
    start = s.objective()
    params = s.network.params.copy()
    traces = race(s, list(METHODS), budget=300)
    after = state(s)
    assert np.array_equal(after[0], before[0]) and np.array_equal(after[1], before[1])
    assert after[2:] == before[2:]
    assert np.array_equal(s.network.params, params)
    assert [t.method for t in traces] == list(METHODS)
    for t in traces:
        n = len(t.losses)
        assert len(t.evaluations) == len(t.gradients) == len(t.seconds) == n >= 2, t.method
        assert t.losses[0] == pytest.approx(start, rel=1e-12), t.method
        assert t.losses[-1] <= t.losses[0], t.method
        assert t.final_loss <= t.losses[0], t.method
        assert np.all(np.diff(t.evaluations) >= 0) and np.all(np.diff(t.gradients) >= 0), t.method
        assert np.all(np.diff(t.seconds) >= 0), t.method
        assert t.evaluations[-1] <= 300 + 50, t.method
        assert np.all(t.gradients <= t.evaluations), t.method
        assert t.message, t.method
        if t.method in DERIVATIVE_FREE:
            assert np.all(t.gradients == 0), t.method
            assert np.all(np.diff(t.losses) < 0), t.method   # recorded on improvement only
        else:
            assert t.gradients[-1] > 0, t.method


def test_unknown_method_names_it_and_lists_methods():
    with pytest.raises(ValueError, match="bogus") as info:
        race(session_for(), ["gd", "bogus"])
    assert "hooke_jeeves" in str(info.value)


def test_first_order_methods_use_one_gradient_per_update():
    t, = race(session_for(), ["gd"], budget=50)
    assert t.message == "budget used"
    assert t.evaluations[-1] == 50
    assert np.array_equal(t.evaluations, t.gradients)
    assert np.array_equal(t.evaluations[1:], np.arange(2, 51))


def test_quasi_newton_beats_gradient_descent_and_reaches_least_squares():
    s = linear_regression_session()
    gd, lbfgs, newton = race(s, ["gd", "lbfgs", "newton"], budget=200)
    assert lbfgs.final_loss < gd.final_loss
    assert newton.final_loss < gd.final_loss
    X, y = s.X_train, s.y_train
    X_aug = np.hstack([X, np.ones((len(X), 1))])
    coef, *_ = np.linalg.lstsq(X_aug, y, rcond=None)
    best = float(np.mean((X_aug @ coef - y) ** 2))
    assert best > 1e-4                      # a real residual: the noise
    assert lbfgs.final_loss == pytest.approx(best, abs=1e-6)
    assert newton.final_loss == pytest.approx(best, abs=1e-6)


def test_hooke_jeeves_on_two_parameters():
    s = linear_regression_session(features=("x1",))     # y ~ w * x1 + b: two parameters
    assert s.network.params.size == 2
    t, = race(s, ["hooke_jeeves"], budget=400)
    assert t.final_loss < 0.5 * t.losses[0]
    assert np.all(t.gradients == 0)
    assert t.evaluations[-1] <= 400


def test_time_limit_stops_a_method():
    t, = race(session_for(), ["gd"], budget=10**9, seconds_limit=0.05)
    assert t.message == "time limit reached"
    assert t.seconds[-1] < 1.0


def test_cancellation_stops_every_remaining_method_at_once():
    s = session_for()
    polls = []

    def cancelled():
        polls.append(1)
        return len(polls) > 5          # let the first method take a few evaluations
    traces = race(s, list(METHODS), budget=10_000, cancelled=cancelled)
    assert [t.method for t in traces] == list(METHODS)
    assert all(t.message == "cancelled" for t in traces)
    assert sum(int(t.evaluations[-1]) for t in traces) <= 5
