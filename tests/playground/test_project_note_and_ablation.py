"""Two fields added to the project format for runs side by side: the top-level ``note``
and ``training.ablate_derivative`` (the "remove f' from backprop" experiment)."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from engine.errors import ConfigError
from playground.examples import EXAMPLES_DIR
from playground.project import build_session, load_project, parse_project, save_project

BASE = json.loads((EXAMPLES_DIR / "circle.json").read_text(encoding="utf-8"))


def doc(**changes) -> dict:
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "training":
            out["training"].update(value)
        else:
            out[key] = value
    return out


def test_a_project_without_the_new_fields_reads_as_before():
    project = parse_project(doc())
    assert project.note == ""
    assert build_session(project).network.ablate_derivative is False


def test_the_note_is_kept_through_a_save(tmp_path):
    project = parse_project(doc(note="Look at the loss plot."))
    assert project.note == "Look at the loss plot."
    save_project(project, tmp_path / "p.json")
    assert load_project(tmp_path / "p.json").note == "Look at the loss plot."


@pytest.mark.parametrize("bad", [3, None, ["text"], {"text": "x"}])
def test_a_note_that_is_not_text_is_refused_by_name(bad):
    with pytest.raises(ConfigError, match=r"^note: must be a string"):
        parse_project(doc(note=bad))


@pytest.mark.parametrize("bad", [1, "yes", None, [True]])
def test_ablate_derivative_must_be_true_or_false(bad):
    with pytest.raises(ConfigError, match=r"^training\.ablate_derivative: must be true or false"):
        parse_project(doc(training={"ablate_derivative": bad}))


def test_a_misspelt_ablate_derivative_is_refused_not_ignored():
    with pytest.raises(ConfigError, match="did you mean 'ablate_derivative'"):
        parse_project(doc(training={"ablate_derivatve": True}))


def _gradient(session) -> np.ndarray:
    net = session.network
    out = net.forward(session.X_train)
    _, g = session.head.value_and_grad(net.output_pre_activation, out, session.y_train)
    net.backward(g, session.head.wrt_logits)
    return net.grads.copy()


def _central_differences(session, eps: float = 1e-6) -> np.ndarray:
    net, params = session.network, session.network.params
    grad = np.empty(params.size)
    for i in range(params.size):
        kept = params[i]
        values = []
        for shift in (eps, -eps):
            params[i] = kept + shift
            out = net.forward(session.X_train)
            values.append(session.head.value(net.output_pre_activation, out, session.y_train))
        params[i] = kept
        grad[i] = (values[0] - values[1]) / (2 * eps)
    return grad


def test_the_session_backprops_without_f_prime_only_when_asked():
    normal = build_session(parse_project(doc()))
    ablated = build_session(parse_project(doc(training={"ablate_derivative": True})))
    assert ablated.network.ablate_derivative
    np.testing.assert_array_equal(normal.network.params, ablated.network.params)     # same seed, same start
    true = _central_differences(normal)
    np.testing.assert_allclose(_gradient(normal), true, rtol=1e-5, atol=1e-8)
    used = _gradient(ablated)
    # The output layer's gradient is untouched (bce on a sigmoid: p - y has no f'),
    # the hidden layers' is not the loss's gradient any more.
    out = slice(*ablated.network.offsets["out.weight"])
    np.testing.assert_allclose(used[out], true[out], rtol=1e-5, atol=1e-8)
    hidden = slice(*ablated.network.offsets["h1.weight"])
    assert not np.allclose(used[hidden], true[hidden], rtol=1e-2)


def test_training_with_ablate_derivative_follows_the_ablated_gradient():
    """One plain SGD step moves the weights by -lr times the ablated gradient."""
    project = parse_project(doc(training={"ablate_derivative": True, "optimizer": {"name": "sgd", "lr": 0.1},
                                          "batch_size": "full"}))
    session = build_session(project)
    before = session.network.params.copy()
    expected = before - 0.1 * _gradient(session)
    session.step(1)
    np.testing.assert_allclose(session.network.params, expected, rtol=1e-12, atol=1e-15)
