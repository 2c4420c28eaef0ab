"""engine.backward_trace: every number of the one-row trace against the engine's own
backward pass, central differences of the row's loss and formulas written out by hand."""
from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from engine.backward_trace import (ABLATED, CANCELLED, CHAIN, SOFTMAX, TraceUnsupported, trace_row,
                                   trace_session_row, trace_support)
from engine.graph import chain_network
from engine.network import Network
from engine.optimizers import make_optimizer
from playground.project import build_session, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def session_for(network, loss="bce", source="circle", steps=20, dtype="float64"):
    doc = {"format": "nn-playground/1", "seed": 3, "dtype": dtype,
           "data": {"source": source, "samples": 120, "noise": 0.0, "train_fraction": 0.5},
           "network": network,
           "training": {"loss": loss, "optimizer": {"name": "sgd", "lr": 0.3}, "batch_size": 10}}
    s = build_session(parse_project(doc))
    s.step(steps)
    return s


def chain(hidden, out_units=1, out_act="sigmoid"):
    return chain_network(hidden, out_units, out_act)


def engine_gradient(session, row, ablate=False):
    """The engine's backward pass on that one row (float64 copy), tensor by tensor."""
    net = Network(session.network.plan, np.float64, ablate_derivative=ablate)
    net.params[...] = session.network.params
    out = net.forward(np.asarray(session.X_train[row:row + 1], dtype=np.float64))
    _, g = session.head.value_and_grad(net.output_pre_activation, out, session.y_train[row:row + 1])
    net.backward(g, session.head.wrt_logits)
    return {k: v.copy() for k, v in net.grad_tensors.items()}


def row_loss(session, row, params):
    net = Network(session.network.plan, np.float64)
    net.params[...] = params
    out = net.forward(np.asarray(session.X_train[row:row + 1], dtype=np.float64))
    return session.head.value(net.output_pre_activation, out, session.y_train[row:row + 1])


def central_differences(session, row, h=1e-6):
    w = session.network.params.astype(np.float64)
    numeric = np.empty_like(w)
    for i in range(w.size):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        numeric[i] = (row_loss(session, row, up) - row_loss(session, row, down)) / (2 * h)
    return {name: numeric[lo:hi].reshape(session.network.tensors[name].shape)
            for name, (lo, hi) in session.network.offsets.items()}


NETWORKS = {
    "tanh chain, sigmoid + bce": (chain((("h1", 4, "tanh"), ("h2", 3, "tanh"))), "bce", "circle"),
    "relu, sigmoid + mse": (chain((("h1", 5, "relu"),)), "mse", "xor"),
    "softmax + cross-entropy": (chain((("h1", 4, "sigmoid"),), 2, "softmax"), "cross_entropy", "spiral"),
    "softmax + mse": (chain((("h1", 3, "elu"),), 2, "softmax"), "mse", "xor"),
    "linear output, mse regression": (chain((("h1", 4, "tanh"),), 1, "linear"), "mse", "plane"),
    "activation and dropout nodes": ({
        "nodes": [{"id": "in", "type": "input"}, {"id": "d1", "type": "dense", "units": 4},
                  {"id": "act", "type": "activation", "fn": "tanh"}, {"id": "drop", "type": "dropout", "p": 0.3},
                  {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"}],
        "edges": [["in", "d1"], ["d1", "act"], ["act", "drop"], ["drop", "out"]], "output": "out"},
        "mse", "circle"),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_gradients_equal_the_engines_backprop_and_central_differences(name):
    network, loss, source = NETWORKS[name]
    s = session_for(network, loss, source)
    for row in (0, 5, 17):
        t = trace_session_row(s, row, lr=0.05)
        reference = engine_gradient(s, row)
        numeric = central_differences(s, row)
        for n in t.dense:
            for kind, traced in (("weight", n.weight_grad), ("bias", n.bias_grad)):
                key = f"{n.node}.{kind}"
                np.testing.assert_allclose(traced, reference[key], rtol=1e-10, atol=1e-14)
                np.testing.assert_allclose(traced, numeric[key], rtol=1e-5, atol=1e-8)


def test_forward_numbers_are_the_edges_sums():
    s = session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2])
    t = trace_session_row(s, 4)
    T = s.network.tensors
    x = s.X_train[4]
    h1 = np.tanh(T["h1.weight"] @ x + T["h1.bias"])
    h2 = np.tanh(T["h2.weight"] @ h1 + T["h2.bias"])
    p = expit(T["out.weight"] @ h2 + T["out.bias"])
    np.testing.assert_allclose(t.node("h1").contributions, T["h1.weight"] * x[None, :], rtol=1e-15)
    np.testing.assert_allclose(t.node("h1").a, h1, rtol=1e-13)
    np.testing.assert_allclose(t.node("h2").z, t.node("h2").contributions.sum(axis=1) + T["h2.bias"], rtol=1e-14)
    np.testing.assert_allclose(t.node("h2").a, h2, rtol=1e-13)
    np.testing.assert_allclose(t.prediction, p, rtol=1e-13)
    np.testing.assert_allclose(t.node("in").a, x)
    assert t.node("in").labels == ("x1", "x2") and t.node("h2").labels[1] == "h2[1]"
    assert t.node("h1").source == "in" and t.node("h1").consumer == "h2" and t.node("out").consumer is None


def test_backward_sum_is_broken_out_per_next_layer_unit():
    s = session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2])
    t = trace_session_row(s, 9)
    out, h2, h1 = t.node("out"), t.node("h2"), t.node("h1")
    p, y = float(t.prediction[0]), float(s.y_train[9, 0])
    # the output: p - y, the sigmoid's slope cancelled by cross-entropy
    assert t.output_rule == CANCELLED and out.delta_rule == CANCELLED and out.dL_da is None
    assert out.delta[0] == pytest.approx(p - y, abs=1e-15)
    assert "p - y" in t.output_rule_text
    # a hidden neuron: delta_j = f'(z_j) * sum_k w_kj delta_k, one term per next-layer unit
    W_out, W_h2 = s.network.tensors["out.weight"], s.network.tensors["h2.weight"]
    np.testing.assert_allclose(h2.back_terms, W_out * out.delta[:, None], rtol=1e-15)
    np.testing.assert_allclose(h1.back_terms, W_h2 * h2.delta[:, None], rtol=1e-15)
    assert h1.back_terms.shape == (3, 4)
    for n in (h1, h2):
        assert n.delta_rule == CHAIN
        np.testing.assert_allclose(n.dL_da, n.back_terms.sum(axis=0), rtol=1e-15)
        np.testing.assert_allclose(n.slope, 1 - n.a ** 2, rtol=1e-13)      # tanh: 1 - o^2
        np.testing.assert_allclose(n.delta, n.slope * n.dL_da, rtol=1e-15)


def test_output_delta_keeps_f_prime_with_mse():
    s = session_for(*NETWORKS["relu, sigmoid + mse"][:2], source="xor")
    t = trace_session_row(s, 2)
    out = t.node("out")
    p, y = float(t.prediction[0]), float(s.y_train[2, 0])
    assert t.output_rule == CHAIN
    assert out.dL_da[0] == pytest.approx(2 * (p - y), rel=1e-13)
    assert out.slope[0] == pytest.approx(p * (1 - p), rel=1e-13)
    assert out.delta[0] == pytest.approx(2 * (p - y) * p * (1 - p), rel=1e-13)


def test_softmax_output_with_cross_entropy_is_p_minus_onehot():
    s = session_for(*NETWORKS["softmax + cross-entropy"][:2], source="spiral")
    t = trace_session_row(s, 3)
    cls = int(s.y_train[3])
    assert t.target_class == cls and t.target[cls] == 1.0 and t.target.sum() == 1.0
    assert t.output_rule == CANCELLED
    np.testing.assert_allclose(t.node("out").delta, t.prediction - t.target, rtol=1e-13, atol=1e-16)
    s2 = session_for(*NETWORKS["softmax + mse"][:2], source="xor")
    t2 = trace_session_row(s2, 3)
    assert t2.output_rule == SOFTMAX and t2.node("out").slope is None


def test_update_is_minus_lr_delta_times_input_and_lowers_the_rows_loss():
    s = session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2])
    lr = 0.2
    t = trace_session_row(s, 6, lr=lr)
    after = s.network.params.astype(np.float64).copy()
    views = s.network.tensor_views(after)
    for n in t.dense:
        a_in = t.node(n.source).a
        np.testing.assert_allclose(n.weight_step, -lr * np.outer(n.delta, a_in), rtol=1e-15)
        np.testing.assert_allclose(n.weight_after, s.network.tensors[f"{n.node}.weight"] + n.weight_step, rtol=1e-15)
        np.testing.assert_allclose(n.bias_after, s.network.tensors[f"{n.node}.bias"] - lr * n.delta, rtol=1e-15)
        views[f"{n.node}.weight"][...] = n.weight_after
        views[f"{n.node}.bias"][...] = n.bias_after
    assert t.loss_value == pytest.approx(row_loss(s, 6, s.network.params), rel=1e-14)
    assert t.loss_after == pytest.approx(row_loss(s, 6, after), rel=1e-14)
    assert t.loss_after < t.loss_value
    # and it is what the engine's SGD does with the engine's gradient of that row
    params = s.network.params.astype(np.float64).copy()
    grads = np.empty_like(params)
    for name, g in engine_gradient(s, 6).items():
        lo, hi = s.network.offsets[name]
        grads[lo:hi] = g.ravel()
    make_optimizer({"name": "sgd", "lr": lr}, params.size, np.float64).step(params, grads, lr)
    np.testing.assert_allclose(params, after, rtol=1e-13)


def test_session_is_untouched_and_the_trace_pickles():
    s = session_for(*NETWORKS["activation and dropout nodes"][:2])
    before = (s.network.params.copy(), s.network.grads.copy(), s.network.node_output("d1").copy(),
              copy.deepcopy(s._dropout_rng.bit_generator.state))
    t = trace_session_row(s, 1)
    assert np.array_equal(s.network.params, before[0]) and np.array_equal(s.network.grads, before[1])
    assert np.array_equal(s.network.node_output("d1"), before[2])
    assert s._dropout_rng.bit_generator.state == before[3]
    back = pickle.loads(pickle.dumps(t))
    assert back.node("act").kind == "activation" and np.array_equal(back.node("d1").delta, t.node("d1").delta)
    assert not t.node("d1").delta.flags.writeable
    drop = t.node("drop")      # evaluation mode: dropout passes its input through
    np.testing.assert_array_equal(drop.a, t.node("act").a)
    np.testing.assert_array_equal(t.node("act").back_terms, np.diag(drop.delta))


def test_ablated_trace_matches_the_ablated_engine():
    s = session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2])
    t = trace_session_row(s, 2)
    s.network.ablate_derivative = True
    ablated = trace_session_row(s, 2)
    reference = engine_gradient(s, 2, ablate=True)
    assert ablated.ablated and not t.ablated
    assert ablated.output_rule == CANCELLED      # p - y has no f' to remove
    for n in ablated.dense:
        np.testing.assert_allclose(n.weight_grad, reference[f"{n.node}.weight"], rtol=1e-10, atol=1e-15)
    h1 = ablated.node("h1")
    assert h1.delta_rule == ABLATED
    np.testing.assert_allclose(h1.delta, h1.dL_da, rtol=0)
    assert trace_row(s.network, s.head, s.X_train[2], s.y_train[2], 0.1, ablate_derivative=False).ablated is False


@pytest.mark.parametrize("example,node", [("residual", "sum"), ("concat", None)])
def test_dags_are_refused_in_words(example, node):
    doc = json.loads((EXAMPLES / f"{example}.json").read_text())
    s = build_session(parse_project(doc))
    reason = trace_support(s.network.plan)
    assert reason and "chain" in reason and "add or concat" in reason
    if node:
        assert f"'{node}'" in reason
    with pytest.raises(TraceUnsupported, match="chain of layers"):
        trace_session_row(s, 0)
    assert trace_support(session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2], steps=0).network.plan) is None


def test_bad_rows_are_named():
    s = session_for(*NETWORKS["softmax + cross-entropy"][:2], source="spiral", steps=0)
    with pytest.raises(ValueError, match="feature"):
        trace_row(s.network, s.head, [1.0, 2.0, 3.0], 0, 0.1)
    with pytest.raises(ValueError, match="class index in 0..1"):
        trace_row(s.network, s.head, [1.0, 2.0], 2, 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        trace_row(s.network, s.head, [1.0, 2.0], 0, float("nan"))
    with pytest.raises(ValueError, match="not a training row"):
        trace_session_row(s, len(s.X_train))
    m = session_for(*NETWORKS["relu, sigmoid + mse"][:2], source="xor", steps=0)
    with pytest.raises(ValueError, match="target has 2"):
        trace_row(m.network, m.head, [1.0, 2.0], [0.0, 1.0], 0.1)


def test_float32_session_is_traced_in_float64():
    s = session_for(*NETWORKS["tanh chain, sigmoid + bce"][:2], dtype="float32")
    t = trace_session_row(s, 0)
    assert t.node("h1").delta.dtype == np.float64
    np.testing.assert_allclose(t.node("out").weight_grad, engine_gradient(s, 0)["out.weight"], rtol=1e-10)
