"""engine.teaching: the chain-rule factors against finite differences, the loss slice
along the gradient, Hessian curvature against the analytic Hessian of linear
regression (and the 2 / lambda_max learning-rate limit in practice), dead ReLU units
and activation profiles.  Every helper must leave the session untouched."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from engine.activations import ACTIVATIONS
from engine.graph import chain_network
from engine.teaching import activation_profile, chain_rule, curvature, dead_units, loss_along_gradient
from playground.project import build_session, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def session_for(hidden=(("h1", 4, "tanh"),), out_act="sigmoid", loss="bce", source="circle", samples=200,
                dtype="float64", optimizer=None, batch_size=10, reg=None, seed=0, out_units=1):
    doc = {
        "format": "nn-playground/1", "seed": seed, "dtype": dtype,
        "data": {"source": source, "samples": samples, "noise": 0.0, "train_fraction": 0.5},
        "network": chain_network(hidden, out_units, out_act),
        "training": {"loss": loss, "optimizer": optimizer or {"name": "sgd", "lr": 0.1},
                     "batch_size": batch_size, "regularization": reg or {"kind": "none", "rate": 0.0}},
    }
    return build_session(parse_project(doc))


def state(session):
    return (session.network.params.copy(), session.network.grads.copy(),
            [copy.deepcopy(r.bit_generator.state)
             for r in (session._init_rng, session._order_rng, session._dropout_rng)])


def assert_unchanged(session, before):
    params, grads, rngs = before
    assert np.array_equal(session.network.params, params)
    assert np.array_equal(session.network.grads, grads)
    assert [r.bit_generator.state for r in (session._init_rng, session._order_rng, session._dropout_rng)] == rngs


@pytest.fixture
def trained_bce():
    """tanh hidden layer, sigmoid + bce output, a few steps in (non-trivial gradients)."""
    s = session_for(hidden=(("h1", 4, "tanh"), ("h2", 3, "tanh")))
    s.step(20)
    return s


# -- chain rule -------------------------------------------------------------------------

def test_chain_rule_output_weight_cancelled(trained_bce):
    s = trained_bce
    before = state(s)
    for row in (0, 7, 33):
        for source in range(3):
            c = chain_rule(s, "out.weight", 0, source, row)
            assert c.cancelled and c.is_output and c.dL_da is None
            assert c.activation == "sigmoid"
            p, y = expit(c.z), s.y_train[row, 0]
            assert c.dL_dz == pytest.approx(p - y, rel=1e-12, abs=1e-15)
            T = s.network.tensors
            h1 = np.tanh(s.X_train[row] @ T["h1.weight"].T + T["h1.bias"])
            h2 = np.tanh(h1 @ T["h2.weight"].T + T["h2.bias"])
            assert c.input_activation == pytest.approx(h2[source], rel=1e-12)
            assert c.backprop == pytest.approx(c.dL_dz * c.input_activation, rel=1e-12, abs=1e-15)
            assert c.relative_error < 1e-6
            assert abs(c.backprop - c.finite_difference) / max(abs(c.backprop), 1e-12) < 1e-6
            assert "a_i" in c.formula
    assert_unchanged(s, before)


def test_chain_rule_hidden_weights_match_finite_differences(trained_bce):
    s = trained_bce
    before = state(s)
    for weight, unit, source in (("h2.weight", 1, 2), ("h1.weight", 3, 0), ("h1.weight", 0, 1)):
        for row in (2, 11):
            c = chain_rule(s, weight, unit, source, row)
            assert not c.cancelled and not c.is_output
            assert c.activation == "tanh"
            assert c.slope == pytest.approx(1 - np.tanh(c.z) ** 2, rel=1e-12)
            assert c.dL_da * c.slope == pytest.approx(c.dL_dz, rel=1e-10, abs=1e-15)
            assert c.dL_da * c.slope * c.input_activation == pytest.approx(c.backprop, rel=1e-10, abs=1e-15)
            assert abs(c.backprop) > 1e-8
            assert c.relative_error < 1e-6
    # the first layer's input activation is the feature itself
    c = chain_rule(s, "h1.weight", 0, 1, 5)
    assert c.input_activation == s.X_train[5, 1]
    assert c.value == s.network.tensors["h1.weight"][0, 1]
    assert_unchanged(s, before)


def test_chain_rule_mse_sigmoid_keeps_the_slope():
    s = session_for(hidden=(("h1", 4, "tanh"),), out_act="sigmoid", loss="mse")
    s.step(10)
    before = state(s)
    for row in (0, 4, 9):
        c = chain_rule(s, "out.weight", 0, 2, row)
        assert not c.cancelled and c.is_output
        p, y = expit(c.z), s.y_train[row, 0]
        assert c.slope == pytest.approx(p * (1 - p), rel=1e-12)
        assert c.dL_da == pytest.approx(2 * (p - y), rel=1e-12)
        assert c.dL_da * c.slope * c.input_activation == pytest.approx(c.backprop, rel=1e-12, abs=1e-15)
        assert c.relative_error < 1e-6
        assert c.formula == "dL/dw = dL/da_j × f'(z_j) × a_i"
        h = chain_rule(s, "h1.weight", 1, 0, row)
        assert h.relative_error < 1e-6
        assert h.dL_da * h.slope * h.input_activation == pytest.approx(h.backprop, rel=1e-10, abs=1e-15)
    assert_unchanged(s, before)


def test_chain_rule_float32_session_uses_float64_and_softmax():
    s = session_for(hidden=(("h1", 5, "relu"),), out_act="softmax", loss="cross_entropy", source="xor",
                    dtype="float32", out_units=2)
    s.step(5)
    before = state(s)
    c = chain_rule(s, "out.weight", 1, 2, 3)
    assert c.cancelled and c.slope is None and c.dL_da is None
    assert c.relative_error < 1e-6
    h = chain_rule(s, "h1.weight", 2, 1, 3)
    assert h.activation == "relu" and h.slope in (0.0, 1.0)
    assert h.relative_error < 1e-6 or (h.backprop == 0.0 and abs(h.finite_difference) < 1e-8)
    assert_unchanged(s, before)


def test_chain_rule_rejects_bad_arguments(trained_bce):
    with pytest.raises(ValueError):
        chain_rule(trained_bce, "out.bias", 0, 0, 0)
    with pytest.raises(ValueError):
        chain_rule(trained_bce, "out.weight", 1, 0, 0)
    with pytest.raises(ValueError):
        chain_rule(trained_bce, "out.weight", 0, 0, len(trained_bce.X_train))


# -- loss along the gradient -------------------------------------------------------------

def test_loss_along_gradient():
    s = session_for(hidden=(("h1", 4, "tanh"),), reg={"kind": "l2", "rate": 0.01})
    s.step(5)
    before = state(s)
    objective = s.objective()
    h = 1e-5
    steps, losses, norm = loss_along_gradient(s, np.array([-h, 0.0, h, 1e-3, 1e-2]))
    assert_unchanged(s, before)
    assert losses[1] == pytest.approx(objective, rel=1e-13)
    assert losses[3] < losses[1] and losses[4] < losses[1]
    # the slope of the slice at 0 is -||g||
    from engine.gradcheck import objective_and_gradient
    _, g = objective_and_gradient(s.network, s.head, s.X_train, s.y_train, s.regularization)
    slope = (losses[2] - losses[0]) / (2 * h)
    assert slope == pytest.approx(-np.linalg.norm(g), rel=1e-5)
    assert norm == pytest.approx(np.linalg.norm(g), rel=1e-12)
    assert np.array_equal(steps, [-h, 0.0, h, 1e-3, 1e-2])
    # steps as a function of ||g||: e.g. to span a gradient step lr * ||g||
    spanned = loss_along_gradient(s, lambda n: np.array([0.0, 0.1 * n]))
    assert spanned.steps[1] == pytest.approx(0.1 * np.linalg.norm(g), rel=1e-12)


# -- curvature ----------------------------------------------------------------------------

def linear_regression_session(lr=0.01):
    return session_for(hidden=(), out_act="linear", loss="mse", source="plane", samples=200,
                       optimizer={"name": "sgd", "lr": lr}, batch_size="full")


def test_curvature_of_linear_regression_is_analytic():
    s = linear_regression_session()
    before = state(s)
    c = curvature(s)
    assert_unchanged(s, before)
    X = s.X_train
    X_aug = np.hstack([X, np.ones((len(X), 1))])   # flat layout: weights first, then the bias
    eig = np.linalg.eigvalsh(2.0 / len(X) * X_aug.T @ X_aug)
    assert c.max_eigenvalue == pytest.approx(eig[-1], rel=1e-3)
    assert c.min_eigenvalue == pytest.approx(eig[0], rel=1e-3)
    assert c.stable_lr == pytest.approx(2.0 / c.max_eigenvalue)
    assert c.condition_number == pytest.approx(eig[-1] / eig[0], rel=1e-3)


def test_learning_rate_beyond_two_over_lambda_diverges():
    stable = curvature(linear_regression_session()).stable_lr
    results = {}
    for factor in (0.9, 1.1):
        s = linear_regression_session(lr=factor * stable)
        start = s.objective()
        s.step(150)
        results[factor] = (start, s.objective())
    start, end = results[0.9]
    assert end < 1e-6 * start
    start, end = results[1.1]
    assert end > 1e3 * start


def test_curvature_of_a_network_is_consistent(trained_bce):
    c = curvature(trained_bce, iterations=10)
    assert c.hessian_vector_products == 10
    assert c.min_eigenvalue <= c.max_eigenvalue
    assert c.max_eigenvalue > 0 and c.stable_lr == pytest.approx(2.0 / c.max_eigenvalue)
    # the Rayleigh quotient of any direction lies within [min, max]
    c_more = curvature(trained_bce, iterations=30)
    assert c_more.max_eigenvalue >= c.max_eigenvalue * (1 - 1e-6)


# -- dead units -------------------------------------------------------------------------

def test_dead_units():
    s = session_for(hidden=(("h1", 6, "relu"), ("h2", 4, "leaky_relu")))
    s.network.tensors["h1.bias"][2] = -1e3
    s.network.tensors["h2.bias"][1] = -1e3
    before = state(s)
    dead = dead_units(s)
    assert_unchanged(s, before)
    count, units = dead["h1"]
    assert 2 in units and count == len(units)
    assert dead["h2"] == (0, ())
    assert "out" not in dead


# -- activation profile -------------------------------------------------------------------

@pytest.mark.parametrize("act", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"])
def test_activation_profile(act):
    s = session_for(hidden=(("h1", 4, act),))
    before = state(s)
    z_grid, f, slope, z_values, slope_at_z = activation_profile(s, "h1")
    assert_unchanged(s, before)
    a = ACTIVATIONS[act]
    alpha = s.network.plan.steps[s.network.plan.index["h1"]].node.act_alpha
    assert len(z_grid) == 200
    np.testing.assert_allclose(f, a.forward(z_grid, alpha))
    np.testing.assert_allclose(slope, a.slope(z_grid, f, alpha))
    assert len(z_values) == len(s.X_train) * 4
    z = s.X_train @ s.network.tensors["h1.weight"].T + s.network.tensors["h1.bias"]
    np.testing.assert_allclose(np.sort(z_values), np.sort(z.ravel()))
    assert z_grid[0] <= z_values.min() and z_values.max() <= z_grid[-1]
    np.testing.assert_allclose(slope_at_z, a.slope(z_values, a.forward(z_values, alpha), alpha))


def test_activation_profile_samples_and_softmax():
    s = session_for(hidden=(("h1", 8, "sigmoid"),), out_act="softmax", loss="cross_entropy",
                    samples=1000, out_units=2)
    z_values = activation_profile(s, "h1").z_values
    assert len(z_values) == 2000                      # 500 rows x 8 units, sampled
    assert np.array_equal(z_values, activation_profile(s, "h1").z_values)   # deterministic
    grid, f, slope, z_out, _ = activation_profile(s, "out")
    assert slope is None and len(z_out) == 1000
    assert np.all((f > 0) & (f < 1))
    # a saturated sigmoid layer sits where the slope is ~0
    s.network.tensors["h1.weight"][...] *= 100
    z_sat = activation_profile(s, "h1").z_values
    a = ACTIVATIONS["sigmoid"]
    assert np.median(a.slope(z_sat, a.forward(z_sat, 0.0), 0.0)) < 0.01
    with pytest.raises(ValueError):
        activation_profile(s, "in")


def test_examples_work():
    doc = json.loads((EXAMPLES / "iris.json").read_text())
    s = build_session(parse_project(doc))
    before = state(s)
    c = chain_rule(s, "h1.weight", 0, 0, 0)
    assert c.relative_error < 1e-6 or abs(c.backprop - c.finite_difference) < 1e-9
    assert set(dead_units(s)) == {"h1"}
    assert_unchanged(s, before)
