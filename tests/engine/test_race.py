"""engine.race: every method starts from the session's weights, spends at most its budget,
never touches the session, and the quasi-Newton methods beat plain gradient descent on a
smooth (convex quadratic) problem, down to the least-squares solution."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.gradcheck import objective_and_gradient
from engine.graph import chain_network
from engine.network import Network
from engine.race import DERIVATIVE_FREE, ITERATION_MEANING, METHODS, _Problem, race
from engine.teaching import copy_network
from playground.project import build_session, load_project, parse_project



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
        assert t.evaluations[-1] <= 300, t.method
        if t.message.startswith("budget used"):
            assert t.evaluations[-1] == 300, t.method        # the closing record: all it spent
        assert np.all(t.gradients <= t.evaluations), t.method
        assert np.all(np.diff(t.iterations) >= 0), t.method
        assert t.message, t.method
        if t.method in DERIVATIVE_FREE:
            assert np.all(t.gradients == 0), t.method
            assert np.all(np.diff(t.losses[:-1]) < 0), t.method   # recorded on improvement only...
            assert t.losses[-1] == t.final_loss == t.losses.min(), t.method   # ...then closed at the best
        else:
            assert t.gradients[-1] > 0, t.method
            assert t.final_loss == t.losses[-1], t.method        # the last iterate


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


def test_cancellation_stops_the_race_at_once():
    s = session_for()
    polls = []

    def cancelled():
        polls.append(1)
        return len(polls) > 5          # let the first method take a few evaluations
    traces = race(s, list(METHODS), budget=10_000, cancelled=cancelled)
    assert [t.method for t in traces] == list(METHODS)[:1]     # no later method starts
    assert traces[0].cancelled and traces[0].message == "cancelled"
    assert traces[0].evaluations[-1] <= 5


# -- honest accounting: every pass a method makes is in its trace -----------------------

SPIRAL = Path(__file__).resolve().parents[2] / "assets" / "examples" / "spiral.json"


@pytest.fixture(scope="module")
def spiral_after_300_steps():
    s = build_session(load_project(SPIRAL))
    s.step(300)
    return s


def count_passes(monkeypatch) -> list:
    """Wrap Network.forward/backward (the real methods still run) to log (network, kind).

    The log holds the networks themselves, not their id(): a freed copy's id can be
    reused by the next copy."""
    log = []
    forward, backward = Network.forward, Network.backward

    def counted_forward(self, *args, **kwargs):
        log.append((self, "forward"))
        return forward(self, *args, **kwargs)

    def counted_backward(self, *args, **kwargs):
        log.append((self, "backward"))
        return backward(self, *args, **kwargs)

    monkeypatch.setattr(Network, "forward", counted_forward)
    monkeypatch.setattr(Network, "backward", counted_backward)
    return log


@pytest.mark.parametrize("method", ["nelder_mead", "newton", "lbfgs", "cg", "hooke_jeeves", "gd", "adam",
                                    "gd_armijo", "gd_curvature", "sign_decay", "momentum", "rprop"])
def test_the_trace_ends_at_every_forward_and_backward_pass_the_method_made(
        spiral_after_300_steps, monkeypatch, method):
    log = count_passes(monkeypatch)
    t, = race(spiral_after_300_steps, [method], budget=400)
    forwards = Counter(net for net, kind in log if kind == "forward")
    working = forwards.most_common(1)[0][0]      # the method's own copy does nearly all the work
    assert forwards[working] == t.evaluations[-1], t.message
    assert sum(1 for net, kind in log if net is working and kind == "backward") == t.gradients[-1]
    # No other network ran while the method did (an uncharged look-up would show here).
    mine = [i for i, (net, _) in enumerate(log) if net is working]
    assert mine == list(range(mine[0], mine[-1] + 1))
    if method in DERIVATIVE_FREE:
        assert t.evaluations[-1] == 400 and t.gradients[-1] == 0
    assert t.final_loss == (t.losses.min() if method in DERIVATIVE_FREE else t.losses[-1])


def test_forward_equivalents_weigh_gradient_calls_by_one_measured_ratio(spiral_after_300_steps):
    traces = race(spiral_after_300_steps, ["gd", "gd_armijo", "nelder_mead"], budget=120)
    cost = traces[0].gradient_cost
    assert np.isfinite(cost) and cost >= 1.0
    for t in traces:
        assert t.gradient_cost == cost                      # one measurement for the whole race
        assert len(t.forward_equivalents) == len(t.iterations) == len(t.losses)
        np.testing.assert_allclose(t.forward_equivalents, (t.evaluations - t.gradients) + t.gradients * cost)
    gd, armijo, nelder_mead = traces
    assert np.array_equal(gd.iterations[1:], gd.evaluations[1:] - 1)         # one gradient per update
    assert np.array_equal(armijo.iterations[1:], armijo.gradients[1:] - 1)   # one gradient per accepted step
    assert np.array_equal(nelder_mead.forward_equivalents, nelder_mead.evaluations)
    assert set(ITERATION_MEANING) == set(METHODS)


def test_a_cache_miss_is_recomputed_on_a_separate_copy_uncharged():
    s = session_for()
    p = _Problem(s, s.objective(), budget=10, seconds_limit=10.0)
    w = p.w0 + 0.1
    working = p.objective.net.params.copy()
    assert p.known_loss(w) == pytest.approx(independent_loss(s, w), rel=1e-12)
    assert p.bookkeeping_passes == 1 and p.evals == 0
    assert np.array_equal(p.objective.net.params, working)
    value = p.loss(w)                   # charged, and remembered for the next look-up
    assert p.known_loss(w) == value and p.bookkeeping_passes == 1 and p.evals == 1


# -- gradient descent given a fair step -------------------------------------------------

def independent_objective(s):
    net = copy_network(s.network)
    y = s.y_train if s.head.targets_are_indices else np.asarray(s.y_train, dtype=np.float64)

    def f(w):
        net.params[...] = w
        value, g = objective_and_gradient(net, s.head, np.asarray(s.X_train, dtype=np.float64), y,
                                          s.regularization)
        return float(value), g
    return f


def independent_loss(s, w):
    return independent_objective(s)(w)[0]


def test_gd_curvature_steps_at_one_over_the_full_hessians_largest_eigenvalue():
    s = session_for()
    s.step(3)
    f = independent_objective(s)
    w0 = s.network.params.astype(np.float64)
    n, h = w0.size, 1e-5
    H = np.empty((n, n))
    for i in range(n):                  # central differences of gradients, one coordinate at a time
        e = np.zeros(n)
        e[i] = h
        H[:, i] = (f(w0 + e)[1] - f(w0 - e)[1]) / (2 * h)
    lam = np.linalg.eigvalsh((H + H.T) / 2)[-1]
    assert lam > 0 and n <= 20          # 20 Lanczos products span the whole space
    t, = race(s, ["gd_curvature"], budget=100)
    assert t.learning_rate == pytest.approx(1 / lam, rel=1e-5)
    assert f"{1 / lam:.4g}" in t.message
    # Measuring lambda_max cost n products of 2 gradients each, all charged.
    assert t.evaluations[1] == 2 * n + 2 and np.array_equal(t.gradients, t.evaluations)
    assert t.final_loss < t.losses[0]


def test_armijo_accepts_only_sufficient_decrease_and_beats_session_lr_gd():
    s = linear_regression_session()
    gd, armijo = race(s, ["gd", "gd_armijo"], budget=200)
    assert armijo.final_loss < gd.final_loss
    assert np.all(np.diff(armijo.losses) <= 0)
    # Replay it independently: from 1.0, then twice the last accepted step, halve
    # until f(w - t g) <= f(w) - 1e-4 t |g|^2; each trial is a loss call, each
    # accepted point one more loss+gradient call.
    f = independent_objective(s)
    w = s.network.params.astype(np.float64)
    loss, g = f(w)
    evals, step = 1, 1.0
    accepted = np.flatnonzero(np.diff(armijo.iterations)) + 1
    assert len(accepted) > 5
    for i in accepted:
        while True:
            evals += 1
            trial_loss = f(w - step * g)[0]
            if trial_loss <= loss - 1e-4 * step * float(g @ g):
                break
            step /= 2
        w = w - step * g
        loss, g = f(w)
        evals += 1
        step *= 2
        assert armijo.losses[i] == pytest.approx(loss, rel=1e-12)
        assert armijo.evaluations[i] == evals and armijo.gradients[i] == armijo.iterations[i] + 1
    assert armijo.evaluations[-1] == 200


def test_sign_decay_steps_by_the_gradients_sign_with_a_decaying_step():
    s = session_for()
    t, = race(s, ["sign_decay"], budget=4)      # a gradient at the start and after each of 3 updates
    f = independent_objective(s)
    w = s.network.params.astype(np.float64)
    expected, constant = [], []
    w_constant = w.copy()
    for k in range(3):
        w = w - 0.01 / np.sqrt(1 + k) * np.sign(f(w)[1])
        w_constant = w_constant - 0.01 * np.sign(f(w_constant)[1])
        expected.append(f(w)[0])
        constant.append(f(w_constant)[0])
    np.testing.assert_allclose(t.losses[1:], expected, rtol=1e-12)
    assert abs(constant[2] - expected[2]) > 1e-6        # the decay is visible in the losses
    assert list(t.iterations) == [0, 1, 2, 3] and t.learning_rate == 0.01


def test_gd_curvature_falls_back_to_the_session_lr_where_nothing_is_curved():
    # Mean absolute error of a linear model is piecewise linear in the weights: H = 0.
    s = session_for(hidden=(), out_act="linear", loss="mae", source="plane", samples=200, noise=0.3,
                    optimizer={"name": "sgd", "lr": 0.05})
    t, = race(s, ["gd_curvature"], budget=60)
    assert t.learning_rate == 0.05
    assert "lambda_max = 0 is not positive" in t.message and "session's lr 0.05" in t.message
