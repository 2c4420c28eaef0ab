"""engine.step_size_demo: lambda_max against the closed-form Hessian of linear regression,
0.9x of 2/lambda_max converging and 1.1x diverging, saddles said first, cancelling."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from engine.graph import chain_network
from engine.objective import FullBatchObjective
from engine.progress import Cancelled
from engine.step_size_demo import demo, gradient_descent, session_demo
from playground.project import build_session, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def regression_session(seed=0):
    doc = {"format": "nn-playground/1", "seed": seed, "dtype": "float64",
           "data": {"source": "plane", "samples": 200, "noise": 0.3, "train_fraction": 0.5},
           "network": chain_network((), 1, "linear"),
           "training": {"loss": "mse", "optimizer": {"name": "adam", "lr": 0.01}, "batch_size": 10}}
    return build_session(parse_project(doc))


def closed_form(s):
    """Linear regression with mean squared error: H = 2/n [X 1]^T [X 1] (weights, then bias),
    minimised by least squares."""
    X = np.hstack([s.X_train, np.ones((len(s.X_train), 1))])
    H = 2.0 / len(X) * X.T @ X
    w_star = np.linalg.lstsq(X, s.y_train[:, 0], rcond=None)[0]
    return H, w_star


def test_limit_is_two_over_the_closed_form_lambda_max_and_the_runs_turn_there():
    s = regression_session()
    H, w_star = closed_form(s)
    lam = np.linalg.eigvalsh(H)[-1]
    before = s.network.params.copy()
    d = session_demo(s, steps=300)
    assert np.array_equal(s.network.params, before)
    assert d.kind == "minimum" and "minimum" in d.note
    assert d.limit == pytest.approx(2.0 / lam, rel=1e-7)
    assert d.curvature.max_eigenvalue == pytest.approx(lam, rel=1e-7)
    runs = {r.factor: r for r in d.runs}
    assert set(runs) == {0.5, 0.9, 1.1}
    w0 = s.network.params
    best = np.mean((np.hstack([s.X_train, np.ones((len(s.X_train), 1))]) @ w_star - s.y_train[:, 0]) ** 2)
    for factor in (0.5, 0.9):
        r = runs[factor]
        assert r.outcome == "fell" and r.lr == pytest.approx(factor * 2.0 / lam, rel=1e-7)
        assert len(r.losses) == 301 and r.losses[0] == pytest.approx(d.start_loss)
        assert r.losses[-1] - best < 1e-6 * (r.losses[0] - best)
        assert r.distances[-1] == pytest.approx(np.linalg.norm(w_star - w0), rel=1e-5)
    grow = runs[1.1]
    assert grow.outcome == "rose"
    # along the top eigenvector the error is multiplied by |1 - 2.2| = 1.2 per step
    assert grow.distances[-1] > 1e15 and grow.losses[-1] > 1e20 * grow.losses[0]
    ratio = grow.distances[-1] / grow.distances[-2]
    assert ratio == pytest.approx(1.2, rel=1e-3)


def test_gradient_descent_is_the_plain_update():
    s = regression_session()
    H, w_star = closed_form(s)
    objective = FullBatchObjective.of_session(s)
    losses, distances, diverged = gradient_descent(objective, 0.01, 3)
    w = s.network.params.copy()
    for t in range(3):
        w = w - 0.01 * H @ (w - w_star)          # the gradient of a quadratic is H (w - w*)
    assert diverged is None and len(losses) == 4
    assert distances[-1] == pytest.approx(np.linalg.norm(w - s.network.params), rel=1e-10)


def test_overflow_ends_a_run_as_diverged():
    s = regression_session()
    objective = FullBatchObjective.of_session(s)
    losses, distances, diverged = gradient_descent(objective, 3.0, 2000)
    assert diverged is not None and len(losses) == diverged and np.all(np.isfinite(losses))
    d = demo(objective, steps=2000, factors=(40.0,))
    assert d.runs[0].outcome == "diverged"


def test_a_saddle_is_said_first():
    s = build_session(parse_project(json.loads((EXAMPLES / "spiral.json").read_text())))
    d = session_demo(s, steps=5)
    assert d.kind == "saddle" and d.curvature.negative > 0
    assert d.note.startswith("A saddle") and len(d.runs) == 3
    assert pickle.loads(pickle.dumps(d)).runs[2].factor == 1.1


def test_progress_reaches_one_and_false_cancels():
    s = regression_session()
    seen = []
    session_demo(s, steps=20, progress=lambda f: seen.append(f) or True)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and seen[0] > 0
    calls = []

    def stop_half_way(fraction):
        calls.append(fraction)
        return fraction < 0.5

    with pytest.raises(Cancelled):
        session_demo(s, steps=20, progress=stop_half_way)
    assert 0.5 <= calls[-1] < 0.6
    with pytest.raises(TypeError, match="True .* or False"):
        session_demo(s, steps=2, progress=lambda f: None)


def test_bad_arguments_are_named():
    s = regression_session()
    with pytest.raises(ValueError, match="steps"):
        session_demo(s, steps=0)
    with pytest.raises(ValueError, match="factors"):
        session_demo(s, factors=(0.9, -1.0))


def test_no_positive_curvature_means_no_runs():
    # mean absolute error of a linear model is piecewise linear in the weights: H = 0
    doc = {"format": "nn-playground/1", "seed": 0, "dtype": "float64",
           "data": {"source": "plane", "samples": 100, "noise": 0.3, "train_fraction": 0.5},
           "network": chain_network((), 1, "linear"),
           "training": {"loss": "mae", "optimizer": {"name": "sgd", "lr": 0.01}, "batch_size": 10}}
    s = build_session(parse_project(doc))
    d = session_demo(s, steps=10)
    assert d.kind == "no curvature" and d.limit is None and d.runs == ()
    assert "not clearly positive" in d.note
    assert np.array_equal(d.start, s.network.params)
