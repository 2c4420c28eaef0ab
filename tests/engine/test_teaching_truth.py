"""Every teaching number is true for the case on screen (issue: "Every number a learner
reads is true").  Each test reproduces a case where the old views misled: a sound
finite-difference verdict on a trained XOR net, curvature on flat and saddle networks
against a full Hessian built independently, the learning-rate limit per optimiser
checked by running it, the f' range and the chain-rule product as written."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.gradcheck import objective_and_gradient
from engine.graph import chain_network
from engine.hessian import lanczos
from engine.teaching import (activation_profile, chain_rule, copy_network, curvature, describe_spectrum, judge,
                             step_limit)
from playground.explain import ExplainRequest, explain
from playground.project import build_session, load_project, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def example(name: str, steps: int = 0):
    s = build_session(load_project(EXAMPLES / f"{name}.json"))
    s.step(steps)
    return s


def session_for(hidden, out_act, loss, source="circle", optimizer=None, out_units=1, batch_size=10, samples=200,
                noise=0.0):
    doc = {
        "format": "nn-playground/1", "seed": 0, "dtype": "float64",
        "data": {"source": source, "samples": samples, "noise": noise, "train_fraction": 0.5},
        "network": chain_network(hidden, out_units, out_act),
        "training": {"loss": loss, "optimizer": optimizer or {"name": "sgd", "lr": 0.1}, "batch_size": batch_size},
    }
    return build_session(parse_project(doc))


def reference_spectrum(s, h=1e-4):
    """All eigenvalues of the objective's Hessian, independently of engine.hessian: one
    column per weight from Richardson-extrapolated central differences of gradients."""
    net = copy_network(s.network)
    w0 = net.params.copy()

    def grad(w):
        net.params[...] = w
        return objective_and_gradient(net, s.head, s.X_train, s.y_train, s.regularization)[1]

    n = w0.size
    H = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        d1 = (grad(w0 + h * e) - grad(w0 - h * e)) / (2 * h)
        d2 = (grad(w0 + 2 * h * e) - grad(w0 - 2 * h * e)) / (4 * h)
        H[:, i] = (4 * d1 - d2) / 3
    return np.linalg.eigvalsh((H + H.T) / 2)


# -- 1. the chain-rule check is sound -------------------------------------------------

@pytest.fixture(scope="module")
def trained_xor():
    return example("xor", 3000)


def test_no_false_alarm_on_trained_xor(trained_xor):
    """Old: 25-38 of 120 sampled weights showed DISAGREES though backprop was right."""
    s = trained_xor
    rng = np.random.default_rng(0)
    dense = s.network.plan.dense_steps
    verdicts = []
    for _ in range(120):
        step = dense[rng.integers(len(dense))]
        c = chain_rule(s, f"{step.node.id}.weight", rng.integers(step.width), rng.integers(step.in_width),
                       rng.integers(len(s.X_train)))
        verdicts.append(c.agrees)
        # the error bar is honest: backprop (exact to round-off) lies within it
        assert abs(c.backprop - c.finite_difference) <= c.check.error_bar, (c.weight, c.unit, c.source, c.row)
    assert False not in verdicts
    assert verdicts.count(True) >= 90
    # the example: a slope of 3.9e-8 is checked, and agrees
    c = chain_rule(s, "h1.weight", 1, 0, 36)
    assert abs(c.backprop) < 1e-6 and c.agrees is True


def test_the_check_catches_wrong_gradients(trained_xor):
    """A verdict that is never False would be as useless as a false alarm."""
    s = trained_xor
    c = chain_rule(s, "h1.weight", 0, 1, 53)
    assert c.agrees is True
    args = (c.check.differences, c.check.h, c.check.loss_noise)
    assert judge(c.backprop * 1.001, *args).agrees is False
    assert judge(-c.backprop, *args).agrees is False
    assert judge(0.0, *args).agrees is False
    # backprop that forgot the transfer function's slope f'(z) is caught
    assert judge(c.dL_da * c.input_activation, *args).agrees is False


def test_too_small_to_check_is_a_third_state():
    # slopes within a few error bars of zero: neither agreement nor a false alarm
    verdict = judge(1e-14, (3e-13, -1e-13, 2e-13), 1e-5, 1e-16)
    assert verdict.agrees is None
    assert judge(0.0, (0.0, 0.0, 0.0), 1e-5, 1e-16).agrees is None
    # a dead ReLU passes exactly no gradient: cannot tell, not "agrees" with 0
    s = session_for((("h1", 4, "relu"),), "sigmoid", "bce")
    s.network.tensors["h1.bias"][2] = -1e3
    c = chain_rule(s, "h1.weight", 2, 0, 0)
    assert c.backprop == 0.0 and c.agrees is None


def test_source_is_named_as_what_it_is():
    s = example("spiral")
    assert chain_rule(s, "h1.weight", 0, 1, 0).source_label == "x2"
    assert chain_rule(s, "h2.weight", 0, 3, 0).source_label == "h1[3]"
    concat = example("concat")
    plan = concat.network.plan
    target = next(st for st in plan.dense_steps if plan.steps[st.inputs[0]].node.type == "concat")
    parts = [plan.steps[i] for i in plan.steps[target.inputs[0]].inputs]
    c = chain_rule(concat, f"{target.node.id}.weight", 0, parts[0].width, 0)
    second = parts[1]
    assert c.source_label == (f"{second.node.id}[0]" if second.node.type != "input" else "x1")


def _product_of(numbers: str) -> tuple[float, float]:
    left, result = numbers.split(" = ")
    factors = [float(f) for f in left.split(" × ")]
    return float(np.prod(factors)), float(result)


@pytest.mark.parametrize("out_act,loss", [("softmax", "mse"), ("softmax", "hinge"), ("softmax", "cross_entropy"),
                                          ("sigmoid", "mse"), ("sigmoid", "bce"), ("tanh", "mse")])
def test_the_written_product_equals_its_result(out_act, loss):
    """Old: softmax + MSE showed "-0.2891 × - × 0.9997 = -0.1188"."""
    units = 2 if out_act == "softmax" else 1
    s = session_for((("h1", 4, "tanh"),), out_act, loss, out_units=units)
    s.step(20)
    for weight, unit, source in (("out.weight", 0, 1), ("h1.weight", 2, 0)):
        c = chain_rule(s, weight, unit, source, 3)
        assert "None" not in c.numbers and " - " not in c.numbers
        product, result = _product_of(c.numbers)
        assert product == pytest.approx(result, rel=1e-4, abs=1e-12)
        assert result == pytest.approx(c.backprop, rel=1e-5, abs=1e-12)
        assert c.formula.split(",")[0].count("×") == c.numbers.count("×")     # one number per factor


# -- 3/4. curvature: flat networks and saddles ----------------------------------------

def test_spiral_saddle_against_the_full_hessian():
    s = example("spiral", 3000)
    k = curvature(s)
    ref = reference_spectrum(s)
    assert k.complete and k.hessian_vector_products == s.network.params.size
    assert k.max_eigenvalue == pytest.approx(ref[-1], rel=1e-4)
    assert k.min_eigenvalue == pytest.approx(ref[0], rel=1e-3)
    assert ref[0] < 0 and k.kind == "saddle" and k.condition_number is None
    assert k.negative == int(np.sum(ref < -k.noise))
    assert len(k.ritz_values) == s.network.params.size


def test_flat_network_gaussian_tanh_adam():
    """Old: lambda_max 2.45e-12 (true 1.7e-11) and a condition number for an indefinite Hessian."""
    s = session_for((("h1", 4, "tanh"),), "sigmoid", "bce", source="gaussian", samples=500,
                    optimizer={"name": "adam", "lr": 0.03}, batch_size=10)
    s.step(20_000)
    k = curvature(s)
    ref = reference_spectrum(s, h=1e-3)
    assert k.max_eigenvalue == pytest.approx(ref[-1], rel=1e-3)
    assert ref[0] < -k.noise                       # truly indefinite: a saddle
    assert k.kind == "saddle" and k.condition_number is None and k.min_eigenvalue < 0
    s.step(30_000)
    k = curvature(s)
    ref = reference_spectrum(s, h=1e-3)
    assert 0 < k.max_eigenvalue < 1e-9
    assert k.max_eigenvalue == pytest.approx(ref[-1], rel=0.1)
    assert k.kind in ("saddle", "flat") and k.condition_number is None


def test_lanczos_breakdown_is_relative_and_few_products_prove_nothing():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    eig = np.linspace(1.0, 50.0, 30)
    for scale in (1.0, 1e-12):
        H = scale * (Q * eig) @ Q.T
        full = describe_spectrum(lanczos(lambda v: H @ v, 30, 30))
        assert full.complete and full.kind == "minimum"
        assert full.max_eigenvalue == pytest.approx(50 * scale, rel=1e-8)
        assert full.condition_number == pytest.approx(50.0, rel=1e-6)
        few = describe_spectrum(lanczos(lambda v: H @ v, 30, 4))
        assert not few.complete and few.kind == "unknown" and few.condition_number is None
    # an indefinite matrix: a negative Ritz value proves a saddle, even from few products
    H = (Q * np.concatenate([[-5.0], eig[1:]])) @ Q.T
    assert describe_spectrum(lanczos(lambda v: H @ v, 30, 30)).kind == "saddle"
    # a singular one (a flat valley floor): complete early, no condition number
    H = (Q * np.concatenate([np.zeros(10), eig[10:]])) @ Q.T
    flat = describe_spectrum(lanczos(lambda v: H @ v, 30, 30))
    assert flat.kind == "flat" and flat.condition_number is None


# -- 5. the learning-rate limit depends on the optimiser ---------------------------------

def quadratic_session(optimizer):
    return session_for((), "linear", "mse", source="plane", optimizer=optimizer, batch_size="full", noise=0.3)


def least_squares_objective(s) -> float:
    """The minimum of the linear regression's objective, solved directly."""
    X = np.hstack([s.X_train, np.ones((len(s.X_train), 1))])
    solution = np.linalg.lstsq(X, s.y_train, rcond=None)[0].ravel()
    s.network.tensors["out.weight"][...] = solution[:-1]
    s.network.tensors["out.bias"][...] = solution[-1:]
    return s.objective()


@pytest.mark.parametrize("spec", [{"name": "sgd"}, {"name": "sgd", "momentum": 0.9},
                                  {"name": "sgd", "momentum": 0.5, "dampening": 0.3},
                                  {"name": "sgd", "momentum": 0.9, "nesterov": True}])
def test_the_limit_is_where_full_batch_training_turns(spec):
    s = quadratic_session({**spec, "lr": 0.01})
    limit = step_limit(s.optimizer_spec, 0.01, curvature(s), s.batch_size, len(s.X_train))
    assert limit.rule == ("gd" if "momentum" not in spec else "nesterov" if spec.get("nesterov") else "momentum")
    assert not limit.minibatch
    best = least_squares_objective(quadratic_session(spec))
    for factor, converges in ((0.9, True), (1.1, False)):
        s = quadratic_session({**spec, "lr": factor * limit.limit})
        start = s.objective() - best
        s.step(1500)
        end = s.objective() - best
        assert (end < 1e-3 * start) if converges else (end > 1e3 * start), (factor, start, end)


@pytest.mark.parametrize("name,rule", [("adam", "adaptive"), ("rmsprop", "adaptive"), ("adagrad", "adaptive"),
                                       ("adamw", "adaptive"), ("rprop", "sign"), ("sign_sgd", "sign")])
def test_adaptive_and_sign_methods_have_no_such_limit(name, rule):
    s = example("spiral", 100)
    limit = step_limit({"name": name, "lr": 0.01}, 0.01, curvature(s, iterations=10), s.batch_size, len(s.X_train))
    assert limit.rule == rule and limit.limit is None and limit.ratio is None
    assert limit.minibatch                       # spiral trains on minibatches of 10


def test_explanation_carries_the_optimisers_rule():
    s = example("spiral", 300)
    e = explain(s, ExplainRequest("h1.weight", 0, 0, 0, with_curvature=True))
    assert e.optimizer == "adam" and e.limit.rule == "adaptive"
    assert e.curvature.kind in ("saddle", "minimum", "flat", "unknown")


# -- 8. the f' plot and the slice show what is there ----------------------------------------

def test_profile_covers_every_pre_activation():
    """Old: the f' plot was clipped at |z| = 10 while spiral's neurons reach 12.5."""
    s = example("spiral", 3000)
    for node in ("h1", "h2", "h3"):
        p = activation_profile(s, node)
        assert p.z_grid[0] <= p.z_values.min() and p.z_values.max() <= p.z_grid[-1]
    assert max(np.abs(activation_profile(s, n).z_values).max() for n in ("h1", "h2", "h3")) > 10


def test_slice_spans_the_gradient_step():
    s = example("spiral", 300)
    for lr in (0.01, 3.0):
        s.set_learning_rate(lr)
        e = explain(s, ExplainRequest("h1.weight", 0, 0, 0))
        assert e.gradient_step == pytest.approx(lr * e.loss_slice.gradient_norm)
        assert e.loss_slice.steps[0] < 0 < e.gradient_step <= e.loss_slice.steps[-1]
