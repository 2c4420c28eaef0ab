"""engine.landscape: the slice of a quadratic loss against its closed form, Hessian
directions against the exact eigenvectors, PCA of a planar trajectory reproducing it,
filter normalisation against its definition, progress and cancelling."""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from engine.graph import chain_network
from engine.landscape import (BUDGET_FLOOR, filter_normalize, hessian_directions, loss_landscape, pca_directions,
                              project_path, random_directions, resolution_for_budget, session_landscape)
from engine.objective import FullBatchObjective
from engine.progress import Cancelled
from playground.project import build_session, parse_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"


def regression_session():
    doc = {"format": "nn-playground/1", "seed": 1, "dtype": "float64",
           "data": {"source": "plane", "samples": 120, "noise": 0.3, "train_fraction": 0.5},
           "network": chain_network((), 1, "linear"),
           "training": {"loss": "mse", "optimizer": {"name": "sgd", "lr": 0.01}, "batch_size": "full"}}
    return build_session(parse_project(doc))


def quadratic(s):
    """Linear regression's loss exactly: L(w) = mean((A w - y)^2), A = [X 1] (weights, then bias)."""
    A = np.hstack([s.X_train, np.ones((len(s.X_train), 1))])
    y = s.y_train[:, 0]
    H = 2.0 / len(A) * A.T @ A

    def loss(w):
        return float(np.mean((A @ w - y) ** 2))

    def grad(w):
        return 2.0 / len(A) * A.T @ (A @ w - y)

    return loss, grad, H


def spiral(steps=100):
    s = build_session(parse_project(json.loads((EXAMPLES / "spiral.json").read_text())))
    s.step(steps)
    return s


@pytest.mark.parametrize("kind", ["random", "hessian"])
def test_slice_of_a_quadratic_is_its_closed_form(kind):
    s = regression_session()
    loss, grad, H = quadratic(s)
    w0 = s.network.params.copy()
    L = session_landscape(s, kind, resolution=9, span=2.0)
    d1, d2 = L.directions.d1, L.directions.d2
    g = grad(w0)
    a, b = np.meshgrid(L.alphas, L.betas)        # a[i, j] = alphas[j], b[i, j] = betas[i]
    closed = (loss(w0) + a * (g @ d1) + b * (g @ d2)
              + 0.5 * (a * a * (d1 @ H @ d1) + 2 * a * b * (d1 @ H @ d2) + b * b * (d2 @ H @ d2)))
    np.testing.assert_allclose(L.losses, closed, rtol=1e-11)
    assert L.center_loss == pytest.approx(loss(w0), rel=1e-13)
    assert L.losses.shape == (9, 9) and L.alphas[0] == -2.0 and L.betas[-1] == 2.0
    assert L.evaluations == 82 and np.array_equal(s.network.params, w0)


def test_hessian_directions_are_the_top_eigenvectors():
    s = regression_session()
    _, _, H = quadratic(s)
    values, vectors = np.linalg.eigh(H)
    dirs = hessian_directions(FullBatchObjective.of_session(s))
    assert dirs.values == pytest.approx((values[-1], values[-2]), rel=1e-7)
    assert abs(dirs.d1 @ vectors[:, -1]) == pytest.approx(1.0, abs=1e-7)
    assert abs(dirs.d2 @ vectors[:, -2]) == pytest.approx(1.0, abs=1e-7)
    assert dirs.note == "" and "lambda" in dirs.labels[0]


def test_filter_normalisation_follows_the_definition():
    s = spiral(50)
    net = s.network
    dirs = random_directions(net, seed=7)
    rng = np.random.default_rng(7)
    raw = [rng.standard_normal(net.params.size) for _ in range(2)]
    for d, r in zip((dirs.d1, dirs.d2), raw):
        views, raw_views = net.tensor_views(d), net.tensor_views(r)
        for name, w in net.tensors.items():
            if name.endswith(".bias"):
                assert not np.any(views[name])
                continue
            for i in range(w.shape[0]):
                row, w_row, r_row = views[name][i], w[i], raw_views[name][i]
                assert np.linalg.norm(row) == pytest.approx(np.linalg.norm(w_row), rel=1e-9)
                np.testing.assert_allclose(row / np.linalg.norm(row), r_row / np.linalg.norm(r_row), rtol=1e-12)
    assert dirs.span == 1.0 and dirs.kind == "random"
    with pytest.raises(ValueError, match="parameters"):
        filter_normalize(np.ones(3), net)


def test_pca_of_a_planar_trajectory_reproduces_it():
    rng = np.random.default_rng(3)
    n = 40
    center = rng.standard_normal(n)
    u, v = rng.standard_normal(n), rng.standard_normal(n)        # not orthogonal
    t = np.linspace(0, 1, 30)[:, None]
    path = center + (1 - t) ** 2 * 3 * u + np.sin(5 * t) * (1 - t) * v   # ends at the centre
    dirs = pca_directions(path, center)
    assert sum(dirs.values) == pytest.approx(1.0, rel=1e-12) and dirs.note == ""
    p = project_path("training", path, center, dirs.d1, dirs.d2)
    np.testing.assert_allclose(p.off_plane, 0.0, atol=1e-12)
    np.testing.assert_allclose(center + p.coords @ np.stack([dirs.d1, dirs.d2]), path, atol=1e-12)
    # the plane is span(u, v): both project onto it without loss
    for w in (u, v):
        assert np.linalg.norm(w - (w @ dirs.d1) * dirs.d1 - (w @ dirs.d2) * dirs.d2) < 1e-10 * np.linalg.norm(w)
    assert dirs.span == pytest.approx(np.max(np.abs(p.coords)), rel=1e-12)


def test_projection_onto_a_skewed_plane_is_least_squares():
    rng = np.random.default_rng(4)
    center, d1, d2, off = (rng.standard_normal(6) for _ in range(4))
    on_plane = center + 0.3 * d1 - 1.2 * d2
    p = project_path("race: adam", [on_plane, on_plane + off], center, d1, d2)
    np.testing.assert_allclose(p.coords[0], [0.3, -1.2], rtol=1e-12)
    D = np.stack([d1, d2], axis=1)
    residual = off - D @ np.linalg.lstsq(D, off, rcond=None)[0]
    assert p.off_plane[1] == pytest.approx(np.linalg.norm(residual), rel=1e-10)
    assert abs(D.T @ residual).max() < 1e-12      # the residual is orthogonal to the plane


def test_a_straight_path_gets_an_orthogonal_second_direction():
    center = np.zeros(5)
    line = np.outer(np.linspace(1, 0, 6), [1.0, 2.0, 0.0, 0.0, -1.0])
    dirs = pca_directions(line, center)
    assert "straight line" in dirs.note and dirs.values[1] == 0.0
    assert abs(dirs.d1 @ dirs.d2) < 1e-12 and np.linalg.norm(dirs.d2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="never moved"):
        pca_directions([center, center], center)
    with pytest.raises(ValueError, match="5 values each"):
        pca_directions(np.zeros((3, 4)), center)


def test_landscape_of_a_network_with_paths_progress_and_cancel():
    s = build_session(parse_project(json.loads((EXAMPLES / "spiral.json").read_text())))
    trajectory = [s.network.params.copy()]
    for _ in range(6):
        s.step(20)
        trajectory.append(s.network.params.copy())
    before = s.network.params.copy()
    seen = []
    L = session_landscape(s, "pca", resolution=7, trajectory=trajectory,
                          paths={"race: gd": trajectory[:3]}, progress=lambda f: seen.append(f) or True)
    assert np.array_equal(s.network.params, before)
    assert [p.name for p in L.paths] == ["race: gd", "training"]
    training = L.paths[1]
    np.testing.assert_allclose(training.coords[-1], 0.0, atol=1e-12)      # the current weights: the centre
    assert L.alphas[-1] >= np.max(np.abs(training.coords))
    # one grid value against a direct evaluation
    objective = FullBatchObjective.of_session(s)
    w = before + L.alphas[1] * L.directions.d1 + L.betas[5] * L.directions.d2
    assert L.losses[5, 1] == pytest.approx(objective.value(w), rel=1e-13)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 7
    pickle.loads(pickle.dumps(L))
    with pytest.raises(Cancelled):
        session_landscape(s, "random", resolution=7, progress=lambda f: f < 0.5)
    with pytest.raises(ValueError, match="resolution"):
        session_landscape(s, "random", resolution=2)
    with pytest.raises(ValueError, match="trajectory"):
        session_landscape(s, "pca")
    with pytest.raises(ValueError, match="hessian, random or pca"):
        session_landscape(s, "sideways")


def test_budget_resolution_and_hessian_cancel():
    s = regression_session()
    objective = FullBatchObjective.of_session(s)
    assert resolution_for_budget(objective, seconds=1e-9) == BUDGET_FLOOR
    assert resolution_for_budget(objective, seconds=1e3, most=25) == 25
    seen = []
    with pytest.raises(Cancelled):
        session_landscape(s, "hessian", resolution=5, progress=lambda f: seen.append(f) or f < 0.2)
    assert seen[-1] <= 0.3 + 1e-12      # stopped while measuring the directions (the first 30%)
    L = session_landscape(s, "hessian", resolution=5)
    assert np.array_equal(L.center, s.network.params) and L.center is not s.network.params
