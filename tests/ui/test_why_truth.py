"""What the Why? panel *shows* is true: the visible text and plots, fed the engine's own
explanations of real sessions (the shipped examples), read back as a learner would."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.graph import chain_network
from playground.explain import ExplainRequest, explain
from playground.project import build_session, load_project, parse_project
from ui.panels.why_panel import WhyPanel

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


@pytest.fixture
def panel(qtbot):
    p = WhyPanel()
    qtbot.addWidget(p)
    p.resize(1200, 700)
    p.show()
    return p


def shown(panel, session, weight, unit, source, row=0, with_curvature=False):
    panel.set_plan(session.network.plan, len(session.X_train))
    e = explain(session, ExplainRequest(weight, unit, source, row, with_curvature))
    panel.show_explanation(e)
    return e


def plain(label) -> str:
    return re.sub(r"<[^>]+>", "", label.text())


def test_trained_xor_shows_no_false_disagreement(panel):
    s = build_session(load_project(EXAMPLES / "xor.json"))
    s.step(3000)
    rng = np.random.default_rng(1)
    texts = []
    for _ in range(40):
        step = s.network.plan.dense_steps[rng.integers(2)]
        shown(panel, s, f"{step.node.id}.weight", rng.integers(step.width), rng.integers(step.in_width),
              rng.integers(len(s.X_train)))
        texts.append(panel.check.text())
    assert not any("DISAGREES" in t for t in texts)
    assert sum("agrees" in t for t in texts) >= 30
    assert all("±" in t for t in texts)                 # the error bar behind the verdict is on screen


@pytest.mark.parametrize("loss", ["mse", "hinge"])
def test_softmax_product_on_screen_multiplies_out(panel, loss):
    doc = {"format": "nn-playground/1", "seed": 0, "dtype": "float64",
           "data": {"source": "xor", "samples": 200, "noise": 0.0, "train_fraction": 0.5},
           "network": chain_network((("h1", 4, "tanh"),), 2, "softmax"),
           "training": {"loss": loss, "optimizer": {"name": "sgd", "lr": 0.1}, "batch_size": 10}}
    s = build_session(parse_project(doc))
    s.step(30)
    e = shown(panel, s, "out.weight", 0, 1, row=4)
    text = plain(panel.formula)
    line = next(ln for ln in panel.formula.text().split("<br>") if re.match(r"-?[0-9]", ln))
    left, result = line.split(" = ")
    factors = [float(f) for f in left.split(" × ")]
    assert len(factors) == 2                                    # dL/dz_j × a_i: no empty factor
    assert np.prod(factors) == pytest.approx(float(result), rel=1e-4)
    assert float(result) == pytest.approx(e.chain.backprop, rel=1e-5)
    assert "softmax" in text and "× - ×" not in text and "None" not in text


def test_curvature_shows_the_saddle_and_its_spectrum(panel):
    s = build_session(load_project(EXAMPLES / "spiral.json"))
    s.step(3000)
    e = shown(panel, s, "h1.weight", 0, 0, with_curvature=True)
    k = e.curvature
    text = plain(panel.curvature)
    assert k.kind == "saddle"
    assert f"{k.min_eigenvalue:.4g}" in text and "saddle" in text and "condition number" not in text.lower()
    x, y = panel.spectrum_dots.getData()
    assert len(y) == len(k.ritz_values) == s.network.params.size
    np.testing.assert_allclose(np.sort(y), k.ritz_values)
    assert f"{k.negative} of {len(y)} negative" in panel.title(panel.spectrum_plot)
    # spiral trains with Adam on minibatches: no 2/lambda verdict, and the noise is named
    assert "no 2/λ limit applies" in text and "minibatch" in text and "× the limit" not in text


@pytest.mark.parametrize("lr", [1e-5, 0.003, 50.0])
def test_plain_gd_ratio_is_never_rounded_to_zero(panel, lr):
    doc = {"format": "nn-playground/1", "seed": 0, "dtype": "float64",
           "data": {"source": "circle", "samples": 200, "noise": 0.0, "train_fraction": 0.5},
           "network": chain_network((("h1", 4, "tanh"),), 1, "sigmoid"),
           "training": {"loss": "bce", "optimizer": {"name": "sgd", "lr": lr}, "batch_size": "full"}}
    s = build_session(parse_project(doc))
    e = shown(panel, s, "h1.weight", 0, 0, with_curvature=True)
    text = plain(panel.curvature)
    ratio = float(re.search(r"is ([0-9.e+-]+)× the limit", text).group(1))
    assert ratio == pytest.approx(lr * e.curvature.max_eigenvalue / 2, rel=0.005)
    assert "0.00×" not in text and "minibatch" not in text
    if lr > e.curvature.stable_lr:
        assert "thrown out" in text and "NaN only at much larger rates" in text


def test_slice_marks_the_gradient_step_and_profile_dots_sit_on_the_curve(panel):
    s = build_session(load_project(EXAMPLES / "spiral.json"))
    s.step(3000)
    s.set_learning_rate(0.5)
    e = shown(panel, s, "h2.weight", 1, 3)
    assert panel.step_mark.isVisible() and panel.step_mark.value() == pytest.approx(0.5 * e.loss_slice.gradient_norm)
    steps, _ = panel.slice_curve.getData()
    assert steps[0] < 0 < panel.step_mark.value() <= steps[-1]
    z, slope = panel.z_dots.getData()
    assert np.abs(z).max() > 10                              # saturated neurons beyond the old +-10 clip
    np.testing.assert_allclose(slope, 1 - np.tanh(z) ** 2, atol=1e-12)
    grid, _ = panel.slope_curve.getData()
    assert grid[0] <= z.min() and z.max() <= grid[-1]


def test_measure_button_is_named(panel):
    assert panel.measure.accessibleName() and panel.measure.toolTip()
    assert panel.spectrum_plot.accessibleName() and panel.spectrum_plot.toolTip()
    assert Qt.RichText == panel.curvature.textFormat()


def test_guide_sections_are_numbered_in_order():
    from ui.help import GUIDE
    numbers = [int(n) for n in re.findall(r"<h3>(\d+)\.", GUIDE)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
    assert "diverges" not in GUIDE and "thrown out" in GUIDE and "saddle" in GUIDE
