"""Backprop against central differences (engine.gradcheck) for every sensible
hidden activation x output/loss pairing, merge nodes, activation and dropout nodes,
L1 / L2 regularisation; and a check that gradcheck does catch a wrong slope."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine import activations
from engine.gradcheck import gradcheck, objective_and_gradient
from engine.graph import compile_plan, parse_network
from engine.losses import make_loss_head
from engine.network import Network
from engine.session import Regularization

N_ROWS, N_FEATURES, N_CLASSES = 20, 3, 3
TOL = 1e-6

HIDDEN = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu"]
HEADS = [("sigmoid", "bce"), ("softmax", "cross_entropy"), ("linear", "cross_entropy"), ("linear", "mse"),
         ("sigmoid", "mse"), ("tanh", "mae"), ("linear", "huber"), ("linear", "hinge")]
KINKED = {"relu", "leaky_relu", "elu"}


def make_data(loss, out_act, rng):
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    if loss == "bce":
        return X, rng.integers(0, 2, N_ROWS), "classification", 2, 1
    if loss in ("cross_entropy", "hinge"):
        return X, rng.integers(0, N_CLASSES, N_ROWS), "classification", N_CLASSES, N_CLASSES
    if loss == "mae":
        # tanh output lies in (-1, 1): targets at +-1.5 keep every error away from 0
        y = np.where(rng.random((N_ROWS, 1)) > 0.5, 1.5, -1.5)
        return X, y, "regression", 0, 1
    if loss == "huber":
        # big enough targets that both Huber branches are used
        return X, rng.normal(scale=2.0, size=(N_ROWS, 2)), "regression", 0, 2
    if out_act == "sigmoid":
        return X, rng.random((N_ROWS, 1)), "regression", 0, 1
    return X, rng.normal(size=(N_ROWS, 2)), "regression", 0, 2


def build(nodes, edges, rng, n_features=N_FEATURES):
    graph = parse_network({"nodes": nodes, "edges": edges, "output": "out"})
    network = Network(compile_plan(graph, n_features), np.float64)
    network.initialize(rng)
    return network


def head_for(network, loss, task, n_classes):
    plan = network.plan
    return make_loss_head(loss, plan.output_activation, plan.output_width, task, n_classes)


def pre_activations(network, X, node_ids):
    network.forward(X)
    return [network.ops[network.plan.index[n]].z for n in node_ids]


def assert_gradcheck(network, head, X, y, reg=Regularization()):
    results = gradcheck(network, head, X, y, reg)
    assert {r.name for r in results} == set(network.tensors)
    worst = max(results, key=lambda r: r.max_relative_error)
    assert worst.max_relative_error < TOL, results
    return results


@pytest.mark.parametrize("out_act, loss", HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_loss_pairing(hidden, out_act, loss):
    for seed in range(20):
        rng = np.random.default_rng(seed)
        X, y_raw, task, n_classes, n_out = make_data(loss, out_act, rng)
        nodes = [{"id": "in", "type": "input"},
                 {"id": "h1", "type": "dense", "units": 5, "activation": hidden},
                 {"id": "h2", "type": "dense", "units": 4, "activation": hidden, "init": "glorot_normal"},
                 {"id": "out", "type": "dense", "units": n_out, "activation": out_act, "bias": 0.1}]
        edges = [["in", "h1"], ["h1", "h2"], ["h2", "out"]]
        network = build(nodes, edges, rng)
        # the non-smooth cases: stay 1e-3 away from every kink (the step is 1e-5)
        if hidden in KINKED and min(np.abs(z).min() for z in pre_activations(network, X, ["h1", "h2"])) < 1e-3:
            continue
        head = head_for(network, loss, task, n_classes)
        y = head.encode_targets(y_raw, task, np.float64)
        out = network.forward(X)
        if loss == "hinge":
            m = 1 - out[np.arange(N_ROWS), y][:, None] + out
            m[np.arange(N_ROWS), y] = 1.0
            if np.abs(m).min() < 1e-3:
                continue
        if loss == "huber":
            if np.abs(np.abs(out - y) - 1).min() < 1e-3:
                continue
            assert np.any(np.abs(out - y) < 1) and np.any(np.abs(out - y) > 1)
        break
    else:
        pytest.fail("no seed gave a network away from the kinks")
    assert head.wrt_logits == ((out_act, loss) in (("sigmoid", "bce"), ("softmax", "cross_entropy")))
    assert_gradcheck(network, head, X, y)


def _merge_network(kind, rng, act="tanh"):
    nodes = [{"id": "in", "type": "input"},
             {"id": "a", "type": "dense", "units": 4, "activation": act},
             {"id": "b", "type": "dense", "units": 4, "activation": "sigmoid"},
             {"id": "c", "type": "dense", "units": 4, "activation": "linear"},
             {"id": "m", "type": kind},
             {"id": "out", "type": "dense", "units": 3, "activation": "softmax"}]
    # a feeds both b and the merge: its gradient is the sum of two paths
    edges = [["in", "a"], ["a", "b"], ["in", "c"], ["b", "m"], ["a", "m"], ["c", "m"], ["m", "out"]]
    return build(nodes, edges, rng)


@pytest.mark.parametrize("kind", ["add", "concat"])
def test_merge_graphs(kind):
    rng = np.random.default_rng(42)
    network = _merge_network(kind, rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.integers(0, 3, N_ROWS)
    head = head_for(network, "cross_entropy", "classification", 3)
    assert network.plan.steps[network.plan.index["out"]].in_width == (4 if kind == "add" else 12)
    assert_gradcheck(network, head, X, y)


def test_input_feeding_a_concat_directly():
    rng = np.random.default_rng(3)
    nodes = [{"id": "in", "type": "input"},
             {"id": "h", "type": "dense", "units": 4, "activation": "gelu"},
             {"id": "cat", "type": "concat"},
             {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"}]
    network = build(nodes, [["in", "h"], ["h", "cat"], ["in", "cat"], ["cat", "out"]], rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.integers(0, 2, N_ROWS)
    head = head_for(network, "bce", "classification", 2)
    assert_gradcheck(network, head, X, head.encode_targets(y, "classification", np.float64))


def test_residual_example_graph():
    import json
    from pathlib import Path

    doc = json.loads((Path(__file__).resolve().parents[2] / "assets/examples/residual.json").read_text())
    rng = np.random.default_rng(5)
    graph = parse_network(doc["network"])
    network = Network(compile_plan(graph, 2), np.float64)
    network.initialize(rng)
    X = rng.normal(size=(N_ROWS, 2))
    y = rng.integers(0, 2, N_ROWS)
    head = head_for(network, "bce", "classification", 2)
    assert_gradcheck(network, head, X, head.encode_targets(y, "classification", np.float64))


@pytest.mark.parametrize("fn, out_act, loss", [("tanh", "linear", "mse"), ("softplus", "linear", "mse"),
                                               ("silu", "linear", "huber"),
                                               ("softmax", "softmax", "cross_entropy"),
                                               ("sigmoid", "sigmoid", "mse")])
def test_activation_node(fn, out_act, loss):
    """An activation node in the middle, and (for the last two) as the output."""
    rng = np.random.default_rng(9)
    as_output = out_act != "linear"
    nodes = [{"id": "in", "type": "input"},
             {"id": "h", "type": "dense", "units": 3 if as_output else 4},
             {"id": "act" if not as_output else "out", "type": "activation", "fn": fn}]
    edges = [["in", "h"], ["h", "act" if not as_output else "out"]]
    if not as_output:
        nodes.append({"id": "out", "type": "dense", "units": 2})
        edges.append(["act", "out"])
    network = build(nodes, edges, rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    if loss == "cross_entropy":
        y_raw, task, nc = rng.integers(0, 3, N_ROWS), "classification", 3
    elif as_output:
        y_raw, task, nc = rng.random((N_ROWS, 3)), "regression", 0
    else:
        y_raw, task, nc = rng.normal(scale=2.0, size=(N_ROWS, 2)), "regression", 0
    head = head_for(network, loss, task, nc)
    assert network.plan.output_activation == out_act
    assert head.wrt_logits == (loss == "cross_entropy")
    assert_gradcheck(network, head, X, head.encode_targets(y_raw, task, np.float64))


def test_dropout_node_in_eval_mode():
    rng = np.random.default_rng(11)
    nodes = [{"id": "in", "type": "input"},
             {"id": "h", "type": "dense", "units": 6, "activation": "tanh"},
             {"id": "drop", "type": "dropout", "p": 0.5},
             {"id": "out", "type": "dense", "units": 3, "activation": "softmax"}]
    network = build(nodes, [["in", "h"], ["h", "drop"], ["drop", "out"]], rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.integers(0, 3, N_ROWS)
    head = head_for(network, "cross_entropy", "classification", 3)
    assert_gradcheck(network, head, X, y)
    # evaluation mode: the dropout node passes its input through unchanged
    network.forward(X)
    np.testing.assert_array_equal(network.node_output("drop"), network.node_output("h"))


@pytest.mark.parametrize("kind, rate", [("l2", 0.1), ("l2", 3.0), ("l1", 0.05), ("l1", 1.0)])
def test_regularization(kind, rate):
    rng = np.random.default_rng(13)
    init = {"name": "uniform", "a": 0.1, "b": 0.6}   # every weight well away from 0 (L1's kink)
    nodes = [{"id": "in", "type": "input"},
             {"id": "h", "type": "dense", "units": 5, "activation": "tanh", "init": init},
             {"id": "out", "type": "dense", "units": 2, "init": init}]
    network = build(nodes, [["in", "h"], ["h", "out"]], rng)
    # make half the weights negative
    network.weights_view[::2] *= -1
    assert np.abs(network.weights_view).min() >= 0.1
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.normal(size=(N_ROWS, 2))
    head = head_for(network, "mse", "regression", 0)
    reg = Regularization(kind, rate)
    assert_gradcheck(network, head, X, y, reg)
    # and the penalty's share of the gradient is on the weights only
    _, plain = objective_and_gradient(network, head, X, y)
    _, with_reg = objective_and_gradient(network, head, X, y, reg)
    n_w = network.weights_view.size
    w = network.params[:n_w]
    expected = rate * (np.sign(w) if kind == "l1" else w)
    np.testing.assert_allclose(with_reg[:n_w] - plain[:n_w], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(with_reg[n_w:], plain[n_w:])


def test_gradcheck_leaves_params_unchanged():
    rng = np.random.default_rng(17)
    network = _merge_network("add", rng)
    before = network.params.copy()
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.integers(0, 3, N_ROWS)
    gradcheck(network, head_for(network, "cross_entropy", "classification", 3), X, y)
    np.testing.assert_array_equal(network.params, before)


def test_gradcheck_catches_a_wrong_slope(monkeypatch):
    wrong = dataclasses.replace(activations.ACTIVATIONS["sigmoid"],
                                slope=lambda z, a, al: a * (1.0 - a) * 1.3)   # off by 30 %
    monkeypatch.setitem(activations.ACTIVATIONS, "sigmoid", wrong)
    rng = np.random.default_rng(19)
    nodes = [{"id": "in", "type": "input"},
             {"id": "h", "type": "dense", "units": 4, "activation": "sigmoid"},
             {"id": "out", "type": "dense", "units": 2}]
    network = build(nodes, [["in", "h"], ["h", "out"]], rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.normal(size=(N_ROWS, 2))
    results = {r.name: r for r in gradcheck(network, head_for(network, "mse", "regression", 0), X, y)}
    # the first layer's gradient passes through the wrong slope; the output layer's does not
    assert results["h.weight"].max_relative_error > 0.1
    assert results["h.bias"].max_relative_error > 0.1
    assert results["out.weight"].max_relative_error < TOL
    assert results["out.bias"].max_relative_error < TOL


def test_gradcheck_catches_a_wrong_loss_gradient():
    """A head whose gradient is scaled wrongly fails on every tensor."""
    from engine.losses import LossHead

    class Scaled(LossHead):
        def value_and_grad(self, z, a, y):
            v, g = super().value_and_grad(z, a, y)
            return v, g * 2.0

    rng = np.random.default_rng(23)
    nodes = [{"id": "in", "type": "input"}, {"id": "out", "type": "dense", "units": 1}]
    network = build(nodes, [["in", "out"]], rng)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    y = rng.normal(size=(N_ROWS, 1))
    results = gradcheck(network, Scaled("mse", "linear", 1), X, y)
    assert all(r.max_relative_error > 0.3 for r in results)
