"""The backward-pass tab's sentences for the cases the circle network does not reach:
softmax outputs, separate activation and dropout nodes, a ReLU at rest, f' removed.
Numbers are held against the engine's own backward pass (tests/playground/backprop_reference)."""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest

from playground.explain import trace_row
from playground.project import build_session, load_project
from tests.playground.backprop_reference import row_reference
from ui.panels.backprop_text import BACKWARD, PHASES, UPDATE, focus_html, row_summary, slope_note
from ui.panels.teaching_text import number

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def session_of(project, steps: int = 30):
    session = build_session(project)
    session.step(steps)
    return session


def chain_project():
    """in -> dense (linear) -> relu node -> dropout -> dense sigmoid output."""
    circle = load_project(EXAMPLES / "circle.json")
    network = {"nodes": [{"id": "in", "type": "input"},
                         {"id": "h", "type": "dense", "units": 6, "activation": "linear"},
                         {"id": "act", "type": "activation", "fn": "relu"},
                         {"id": "drop", "type": "dropout", "p": 0.2},
                         {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"}],
               "edges": [["in", "h"], ["h", "act"], ["act", "drop"], ["drop", "out"]], "output": "out"}
    return circle.with_changes(network=network)


@pytest.mark.parametrize("example", ["digits.json", "iris.json", "spiral.json"])
def test_every_neuron_and_phase_has_its_sentences(example):
    rt = trace_row(session_of(load_project(EXAMPLES / example), 5), 0)
    for phase in range(len(PHASES)):
        assert row_summary(rt, phase)
        for node in rt.trace.nodes:
            for unit in range(node.width):
                assert focus_html(rt, node.node, unit, phase) and slope_note(rt, node.node, unit, phase)


def test_a_softmax_output_delta_is_p_minus_y_for_each_class():
    project = load_project(EXAMPLES / "digits.json")
    session = session_of(project, 5)
    rt = trace_row(session, 3)
    ref = row_reference(session, session.weights(), 3, session.lr)
    y = np.zeros(10)
    y[int(session.y_train[3])] = 1.0
    for j in range(10):
        text = focus_html(rt, "out", j, BACKWARD)
        p = ref.a["out"][j]
        assert f"p - y = {number(p)} - {number(y[j])} = {number(ref.delta['out'][j])}" in text
        assert ref.delta["out"][j] == pytest.approx(p - y[j], abs=1e-12)
    assert "Jacobian" in slope_note(rt, "out", 0, BACKWARD)


def test_a_relu_at_rest_passes_no_blame_back():
    session = session_of(chain_project())
    ref = row_reference(session, session.weights(), 0, session.lr)
    rt = trace_row(session, 0)
    act = rt.trace.node("act")
    resting = [u for u in range(6) if act.z[u] < 0]
    working = [u for u in range(6) if act.z[u] > 0]
    assert resting and working, "the row should leave some ReLUs on each side of 0"
    for u in resting:
        assert "no blame passes back" in slope_note(rt, "act", u, BACKWARD)
        assert ref.delta["h"][u] == 0.0 and act.delta[u] == 0.0
    for u in working:       # the linear dense node before the ReLU gets the ReLU's δ, the engine's
        assert rt.trace.node("h").delta[u] == pytest.approx(ref.delta["h"][u], rel=1e-12)
        assert f"= {number(ref.delta['h'][u])}" in focus_html(rt, "h", u, BACKWARD)
    drop = focus_html(rt, "drop", 0, UPDATE)
    assert "dropout is off" in drop and "no weights of its own" in drop


def test_with_f_prime_removed_the_text_says_so():
    circle = load_project(EXAMPLES / "circle.json")
    ablated = circle.with_changes(training=dict(circle.document["training"], ablate_derivative=True))
    rt = trace_row(session_of(ablated), 0)
    assert rt.trace.ablated
    assert "1 (f' removed)" in html.unescape(focus_html(rt, "h1", 0, BACKWARD))
    assert "f' removed" in slope_note(rt, "h1", 0, BACKWARD)
    assert "does not follow the loss's slope" in html.unescape(focus_html(rt, "h1", 0, UPDATE))
