"""Network.ablate_derivative ("remove f' from backprop"): the gradient with f'(z) = 1,
checked on a two-neuron net by hand; the normal path stays the true gradient."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from engine.graph import chain_network, compile_plan, parse_network
from engine.losses import LossHead
from engine.network import Network

X = np.array([[1.5]])
Y = np.array([[1.0]])
W1, B1, W2, B2 = 0.7, -0.2, -1.3, 0.4


def tiny(out_act="sigmoid", hidden_act="sigmoid", ablate=False):
    plan = compile_plan(parse_network(chain_network([("h", 1, hidden_act)], 1, out_act)), 1)
    net = Network(plan, np.float64, ablate_derivative=ablate)
    net.tensors["h.weight"][...] = W1
    net.tensors["h.bias"][...] = B1
    net.tensors["out.weight"][...] = W2
    net.tensors["out.bias"][...] = B2
    return net


def gradient(net, head):
    out = net.forward(X)
    _, g = head.value_and_grad(net.output_pre_activation, out, Y)
    net.backward(g, head.wrt_logits)
    return {k: float(v.ravel()[0]) for k, v in net.grad_tensors.items()}


def by_hand(ablate: bool, loss: str):
    a1 = expit(W1 * 1.5 + B1)
    p = expit(W2 * a1 + B2)
    if loss == "mse":
        d_out = 2 * (p - 1.0) * (1.0 if ablate else p * (1 - p))
    else:                                    # bce on a sigmoid: p - y, nothing to remove
        d_out = p - 1.0
    d_h = W2 * d_out * (1.0 if ablate else a1 * (1 - a1))
    return {"out.weight": d_out * a1, "out.bias": d_out, "h.weight": d_h * 1.5, "h.bias": d_h}


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("ablate", [False, True])
def test_gradient_is_the_formula_with_or_without_f_prime(ablate, loss):
    got = gradient(tiny(ablate=ablate), LossHead(loss, "sigmoid", 1))
    expected = by_hand(ablate, loss)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-13), name


def test_normal_path_is_the_true_gradient_and_toggling_restores_it():
    head = LossHead("mse", "sigmoid", 1)
    net = tiny()
    w = net.params.copy()

    def loss(params):
        net.params[...] = params
        out = net.forward(X)
        return head.value(net.output_pre_activation, out, Y)

    h = 1e-6
    numeric = np.array([(loss(w + h * e) - loss(w - h * e)) / (2 * h) for e in np.eye(w.size)])
    net.params[...] = w
    normal = gradient(net, head)
    np.testing.assert_allclose(net.grads, numeric, rtol=1e-7)
    net.ablate_derivative = True
    assert gradient(net, head)["h.weight"] != pytest.approx(normal["h.weight"], rel=1e-3)
    net.ablate_derivative = False
    assert gradient(net, head) == normal


def test_softmax_jacobian_becomes_the_identity():
    plan = compile_plan(parse_network(chain_network([("h", 3, "softmax")], 1, "linear")), 2)
    net = Network(plan, np.float64, ablate_derivative=True)
    net.initialize(np.random.default_rng(0))
    x = np.array([[0.3, -1.2]])
    out = net.forward(x)
    grad_out = np.array([[0.7]])
    net.backward(grad_out, False)
    dL_da = 0.7 * net.tensors["out.weight"][0]           # the linear output passes 0.7 back per weight
    np.testing.assert_allclose(net.grad_tensors["h.weight"], np.outer(dL_da, x[0]), rtol=1e-14)
    assert out.shape == (1, 1)


def test_forward_is_unchanged_and_the_flag_is_checked():
    plain, ablated = tiny(), tiny(ablate=True)
    np.testing.assert_array_equal(plain.forward(X), ablated.forward(X))
    with pytest.raises(TypeError, match="True or False"):
        plain.ablate_derivative = "yes"


def test_a_session_trains_with_the_ablated_gradient_and_fails_to_learn():
    from playground.project import build_session, parse_project

    def trained(ablate):
        doc = {"format": "nn-playground/1", "seed": 0, "dtype": "float64",
               "data": {"source": "circle", "samples": 400, "noise": 0.0, "train_fraction": 0.5},
               "network": chain_network([("h1", 8, "tanh"), ("h2", 8, "tanh")], 1, "sigmoid"),
               "training": {"loss": "bce", "optimizer": {"name": "sgd", "lr": 0.1}, "batch_size": 10}}
        s = build_session(parse_project(doc))
        s.network.ablate_derivative = ablate
        s.step(3000)
        return s.evaluate()

    normal, ablated = trained(False), trained(True)
    assert normal.train_accuracy > 0.95
    assert ablated.train_accuracy < 0.7 and ablated.train_loss > 0.6
