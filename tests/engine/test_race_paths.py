"""engine.race keeps each method's path through weight space, for the loss landscape:
it starts at the session's weights, every kept row is the weights of the record it
names (checked by an independent objective), it ends at the method's final weights,
the same as running the method alone (and, for gradient descent and L-BFGS, as an
independent replay), and it stays bounded however long the method runs."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.optimize import minimize

import engine.race
from engine.race import METHODS, PATH_SNAPSHOTS, race
from tests.engine.test_race import independent_loss, independent_objective, linear_regression_session, session_for

NO_TIME_LIMIT = 600.0           # the budget ends every method here, so runs repeat exactly


def test_every_path_row_is_the_weights_of_its_record_from_the_start_to_the_final_loss():
    s = session_for(reg={"kind": "l2", "rate": 0.001})
    s.step(3)
    w0 = s.network.params.astype(np.float64)
    for t in race(s, list(METHODS), budget=300, seconds_limit=NO_TIME_LIMIT):
        assert t.path is not None and t.path.shape[1] == w0.size, t.method
        assert len(t.path) == len(t.path_records) >= 2, t.method
        np.testing.assert_array_equal(t.path[0], w0, err_msg=t.method)
        assert t.path_records[0] == 0 and np.all(np.diff(t.path_records) > 0), t.method
        for row, record in zip(t.path, t.path_records):
            assert independent_loss(s, row) == pytest.approx(t.losses[record], rel=1e-12), t.method
        assert independent_loss(s, t.path[-1]) == pytest.approx(t.final_loss, rel=1e-12), t.method
        assert t.path_records[-1] >= len(t.losses) - 2, t.method      # the last record, or the one it closes


def test_gradient_descents_path_is_every_update_of_a_hand_replay():
    s = session_for()
    t, = race(s, ["gd"], budget=30, seconds_limit=NO_TIME_LIMIT)
    f = independent_objective(s)
    w = s.network.params.astype(np.float64)
    expected = [w]
    for _ in range(29):                 # 30 gradients: the start's and one after each of 29 updates
        w = w - s.lr * f(w)[1]
        expected.append(w)
    np.testing.assert_allclose(t.path, np.array(expected), rtol=1e-12, atol=1e-15)
    assert list(t.path_records) == list(range(30))


def test_lbfgs_ends_where_scipy_alone_ends():
    s = linear_regression_session()
    t, = race(s, ["lbfgs"], budget=2000, seconds_limit=NO_TIME_LIMIT)
    f = independent_objective(s)
    alone = minimize(f, s.network.params.astype(np.float64), method="L-BFGS-B", jac=True,
                     options={"maxiter": 2000, "maxfun": 2000})
    assert alone.success and t.message == str(alone.message)
    np.testing.assert_allclose(t.path[-1], alone.x, rtol=1e-12, atol=1e-15)


def test_a_method_ends_at_the_same_weights_in_a_race_as_alone():
    s = session_for()
    s.step(2)
    methods = ["adam", "gd_armijo", "cg", "nelder_mead", "hooke_jeeves"]
    together = race(s, methods, budget=250, seconds_limit=NO_TIME_LIMIT)
    ends = {t.method: t.path[-1] for t in together}
    assert len({e.tobytes() for e in ends.values()}) == len(methods)     # each its own path
    for m in methods:
        alone, = race(s, [m], budget=250, seconds_limit=NO_TIME_LIMIT)
        np.testing.assert_array_equal(alone.path, next(t.path for t in together if t.method == m), err_msg=m)


def test_a_long_run_keeps_a_bounded_evenly_spread_path_ending_at_the_final_weights():
    s = session_for()
    t, = race(s, ["gd"], budget=5000, seconds_limit=NO_TIME_LIMIT)
    assert len(t.losses) == 5000
    assert 2 <= len(t.path) <= PATH_SNAPSHOTS + 1
    gaps = np.diff(t.path_records[:-1])
    assert gaps.min() == gaps.max() > 1                 # thinned evenly, bar the latest
    assert t.path_records[-1] == len(t.losses) - 1
    assert independent_loss(s, t.path[-1]) == pytest.approx(t.final_loss, rel=1e-12)


def test_big_networks_keep_fewer_snapshots(monkeypatch):
    s = session_for()
    n = s.network.params.size
    monkeypatch.setattr(engine.race, "PATH_BYTES", 10 * n * 8)      # room for ten weight vectors
    t, = race(s, ["gd"], budget=500, seconds_limit=NO_TIME_LIMIT)
    assert len(t.path) <= 10 + 1 and t.path_records[-1] == len(t.losses) - 1


def test_a_diverging_method_keeps_only_points_with_a_finite_loss():
    s = linear_regression_session(lr=50.0)
    t, = race(s, ["gd"], budget=400, seconds_limit=NO_TIME_LIMIT)
    assert t.message == "diverged" and not np.all(np.isfinite(t.losses))
    assert np.all(np.isfinite(t.path)) and np.all(np.isfinite(t.losses[t.path_records]))
    assert t.path_records[-1] == np.flatnonzero(np.isfinite(t.losses))[-1]


def test_a_trace_with_its_path_survives_a_pipe():
    s = session_for()
    t, = race(s, ["momentum"], budget=50, seconds_limit=NO_TIME_LIMIT)
    back = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(back.path, t.path)
    np.testing.assert_array_equal(back.path_records, t.path_records)
