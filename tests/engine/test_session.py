"""TrainingSession: determinism, batch semantics, SGD steps by hand, regularisation,
dropout, divergence, snapshots and float32, built through parse_project + build_session.

The reference updates are computed here: for a one-layer linear model with MSE the
gradient has a closed form, 2/n (XW^T + b - y)^T X; for deeper networks a separate
Network (same plan, same weights) is run forward/backward on the rows of the batch.
"""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.graph import compile_plan
from engine.network import Network
from playground.project import build_session, parse_project

N_ROWS = 8


# ---------------------------------------------------------------------------
# project builders
# ---------------------------------------------------------------------------

def linear_net(n_out=1, init="glorot_uniform"):
    return {"nodes": [{"id": "in", "type": "input"},
                      {"id": "out", "type": "dense", "units": n_out, "init": init, "bias": 0.25}],
            "edges": [["in", "out"]], "output": "out"}


def hidden_net(act="tanh", n_out=1, out_act="linear", dropout=None):
    nodes = [{"id": "in", "type": "input"}, {"id": "h", "type": "dense", "units": 6, "activation": act}]
    edges = [["in", "h"]]
    last = "h"
    if dropout is not None:
        nodes.append({"id": "drop", "type": "dropout", "p": dropout})
        edges.append(["h", "drop"])
        last = "drop"
    nodes.append({"id": "out", "type": "dense", "units": n_out, "activation": out_act})
    edges.append([last, "out"])
    return {"nodes": nodes, "edges": edges, "output": "out"}


def project(data, network, *, loss="mse", optimizer=None, batch_size=3, shuffle=False, reg=None,
            seed=0, dtype="float64"):
    doc = {"format": "nn-playground/1", "name": "test", "seed": seed, "dtype": dtype,
           "data": data, "network": network,
           "training": {"loss": loss, "optimizer": optimizer or {"name": "sgd", "lr": 0.1},
                        "batch_size": batch_size, "shuffle": shuffle, "schedule": {"name": "constant"},
                        "regularization": reg or {"kind": "none", "rate": 0.0}}}
    return parse_project(doc)


def write_csv(path, n_rows, seed=2024):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 2)).round(3)
    y = (X @ np.array([1.5, -2.0]) + 0.5 + rng.normal(scale=0.3, size=n_rows)).round(3)
    lines = ["a,b,t"] + [f"{X[i, 0]},{X[i, 1]},{y[i]}" for i in range(n_rows)]
    path.write_text("\n".join(lines) + "\n")
    return X, y.reshape(-1, 1)


@pytest.fixture
def csv_data(tmp_path):
    """16 rows of 2 features and a regression target; half (8 rows) are trained on.

    Returns the data section and a function giving a session's training arrays,
    after checking they are rows of the file.
    """
    X_all, y_all = write_csv(tmp_path / "rows.csv", 2 * N_ROWS)
    data = {"source": {"csv": str(tmp_path / "rows.csv"), "target": "t", "task": "regression"},
            "train_fraction": 0.5}

    def arrays(session):
        X, y = session.X_train, session.y_train
        assert X.shape == (N_ROWS, 2) and y.shape == (N_ROWS, 1)
        for row, target in zip(X, y):
            i = int(np.flatnonzero(np.all(X_all == row, axis=1))[0])
            assert y_all[i, 0] == target[0]
        return X.astype(np.float64), y.astype(np.float64)

    return data, arrays


def plane(samples=100):
    return {"source": "plane", "samples": samples, "noise": 0.0, "train_fraction": 0.5, "features": ["x1", "x2"]}


def circle(samples=120):
    return {"source": "circle", "samples": samples, "noise": 0.1, "train_fraction": 0.5, "features": ["x1", "x2"]}


def linear_mse_grad(W, b, X, y):
    """dL/dW, dL/db of mean((X W^T + b - y)^2), by hand."""
    r = X @ W.T + b - y
    n = r.size
    return 2.0 / n * r.T @ X, 2.0 / n * r.sum(axis=0)


def manual_sgd(W, b, X, y, lr):
    gW, gb = linear_mse_grad(W, b, X, y)
    return W - lr * gW, b - lr * gb


# ---------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------

def _circle_project(seed=0):
    return project(circle(), hidden_net("relu", dropout=0.3, out_act="sigmoid"), loss="bce",
                   optimizer={"name": "adam", "lr": 0.01}, batch_size=7, shuffle=True, seed=seed)


def test_same_seed_same_weights_after_50_steps():
    s1, s2 = build_session(_circle_project()), build_session(_circle_project())
    for name, t in s1.weights().items():
        np.testing.assert_array_equal(t, s2.weights()[name])
    assert s1.step(50) == 50 and s2.step(50) == 50
    w1, w2 = s1.weights(), s2.weights()
    assert set(w1) == {"h.weight", "h.bias", "out.weight", "out.bias"}
    for name in w1:
        np.testing.assert_array_equal(w1[name], w2[name])
    assert s1.batch_loss == s2.batch_loss


def test_different_seed_different_weights():
    s1 = build_session(_circle_project(0))
    s2 = build_session(_circle_project(1))
    s3 = build_session(_circle_project(0), seed=1)      # the seed argument overrides the file
    for s in (s1, s2, s3):
        s.step(50)
    assert not np.array_equal(s1.weights()["h.weight"], s2.weights()["h.weight"])
    np.testing.assert_array_equal(s2.weights()["h.weight"], s3.weights()["h.weight"])


def test_same_initial_weights_different_shuffle_and_dropout_streams_matter():
    """Same data and initial weights, but a different batch size: the runs must part."""
    a = build_session(_circle_project())
    doc = copy.deepcopy(_circle_project().document)
    doc["training"]["batch_size"] = 8
    b = build_session(parse_project(doc))
    np.testing.assert_array_equal(a.weights()["h.weight"], b.weights()["h.weight"])
    a.step(5)
    b.step(5)
    assert not np.array_equal(a.weights()["h.weight"], b.weights()["h.weight"])


# ---------------------------------------------------------------------------
# batches
# ---------------------------------------------------------------------------

def test_classification_with_train_fraction_one_trains_on_every_row_in_file_order(tmp_path):
    X, y = write_csv(tmp_path / "c.csv", N_ROWS)
    labels = (y[:, 0] > np.median(y)).astype(int)
    lines = ["a,b,t"] + [f"{X[i, 0]},{X[i, 1]},{labels[i]}" for i in range(N_ROWS)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    data = {"source": {"csv": str(tmp_path / "c.csv"), "target": "t", "task": "classification"},
            "train_fraction": 1.0}
    net = linear_net()
    net["nodes"][1]["activation"] = "sigmoid"
    s = build_session(project(data, net, loss="bce"))
    np.testing.assert_array_equal(s.X_train, X)
    np.testing.assert_array_equal(s.y_train[:, 0], labels)
    assert len(s.X_test) == 0
    assert s.step(3) == 3
    assert s.evaluate().test_loss is None


def test_regression_with_train_fraction_one_trains_on_every_row_in_file_order(tmp_path):
    X, y = write_csv(tmp_path / "r.csv", N_ROWS)
    data = {"source": {"csv": str(tmp_path / "r.csv"), "target": "t", "task": "regression"}, "train_fraction": 1.0}
    s = build_session(project(data, linear_net()))
    np.testing.assert_array_equal(s.X_train, X)
    np.testing.assert_array_equal(s.y_train, y)
    assert s.y_test.shape == (0, 1)
    W, b = s.weights()["out.weight"], s.weights()["out.bias"]
    s.step(1)
    np.testing.assert_allclose(s.weights()["out.weight"], manual_sgd(W, b, X[:3], y[:3], 0.1)[0], rtol=1e-13)


def test_unshuffled_batches_are_consecutive_rows(csv_data):
    data, arrays = csv_data
    lr = 0.1
    s = build_session(project(data, linear_net(), batch_size=3, shuffle=False, optimizer={"name": "sgd", "lr": lr}))
    X, y = arrays(s)
    assert s.steps_per_epoch == 3
    for k, rows in enumerate([[0, 1, 2], [3, 4, 5], [6, 7]]):
        W, b = s.weights()["out.weight"], s.weights()["out.bias"]
        expect_W, expect_b = manual_sgd(W, b, X[rows], y[rows], lr)
        # sanity: a different batch would have given a different update
        other = [r for r in range(N_ROWS) if r not in rows][:len(rows)]
        assert not np.allclose(manual_sgd(W, b, X[other], y[other], lr)[0], expect_W)
        assert s.epoch_count == 0
        assert s.step(1) == 1
        np.testing.assert_allclose(s.weights()["out.weight"], expect_W, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(s.weights()["out.bias"], expect_b, rtol=1e-13, atol=1e-15)
        assert s.step_count == k + 1
        # the reported batch loss is the data loss of that batch before the update
        assert s.batch_loss == pytest.approx(float(np.mean((X[rows] @ W.T + b - y[rows]) ** 2)), rel=1e-13)
    assert s.epoch_count == 1
    # the second epoch starts again at row 0
    W, b = s.weights()["out.weight"], s.weights()["out.bias"]
    expect_W, _ = manual_sgd(W, b, X[:3], y[:3], lr)
    s.step(1)
    np.testing.assert_allclose(s.weights()["out.weight"], expect_W, rtol=1e-13)


def test_batch_step_matches_network_forward_backward(csv_data):
    """A hidden-layer network: one session step = params - lr * grad from Network on rows 0..2."""
    data, arrays = csv_data
    lr = 0.05
    proj = project(data, hidden_net("tanh"), batch_size=3, optimizer={"name": "sgd", "lr": lr})
    s = build_session(proj)
    X, y = arrays(s)
    ref = Network(compile_plan(proj.graph, 2), np.float64)
    ref.params[...] = s.network.params
    out = ref.forward(X[:3])
    # dL/d(out) of the mean squared error, by hand
    ref.backward(2.0 * (out - y[:3]) / out.size, wrt_logits=False)
    expected = s.network.params - lr * ref.grads
    s.step(1)
    np.testing.assert_allclose(s.network.params, expected, rtol=1e-13, atol=1e-15)


def test_shuffled_batches_partition_each_epoch(csv_data):
    data, arrays = csv_data
    lr = 0.1
    s = build_session(project(data, linear_net(), batch_size=3, shuffle=True, optimizer={"name": "sgd", "lr": lr}))
    X, y = arrays(s)
    epochs = []
    for _ in range(2):
        used = []
        for size in (3, 3, 2):
            W, b = s.weights()["out.weight"], s.weights()["out.bias"]
            s.step(1)
            after = s.weights()["out.weight"]
            found = [c for c in itertools.combinations(range(N_ROWS), size)
                     if np.allclose(manual_sgd(W, b, X[list(c)], y[list(c)], lr)[0], after, rtol=1e-12, atol=1e-14)]
            assert len(found) == 1, f"no unique batch of {size} rows explains the update"
            used.append(found[0])
        flat = sorted(r for batch in used for r in batch)
        assert flat == list(range(N_ROWS))          # every row exactly once per epoch
        epochs.append(used)
    assert s.epoch_count == 2
    assert epochs[0] != epochs[1]                    # reshuffled between epochs
    assert [list(c) for c in epochs[0]] != [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_full_batch(csv_data):
    data, arrays = csv_data
    lr = 0.1
    s = build_session(project(data, linear_net(), batch_size="full", optimizer={"name": "sgd", "lr": lr}))
    X, y = arrays(s)
    assert s.batch_size == N_ROWS and s.steps_per_epoch == 1
    for k in range(3):
        W, b = s.weights()["out.weight"], s.weights()["out.bias"]
        eW, eb = manual_sgd(W, b, X, y, lr)
        s.step(1)
        np.testing.assert_allclose(s.weights()["out.weight"], eW, rtol=1e-13)
        np.testing.assert_allclose(s.weights()["out.bias"], eb, rtol=1e-13)
        assert s.epoch_count == k + 1


def test_batch_larger_than_the_data_is_full_batch(csv_data):
    data, arrays = csv_data
    s = build_session(project(data, linear_net(), batch_size=50, optimizer={"name": "sgd", "lr": 0.1}))
    X, y = arrays(s)
    W, b = s.weights()["out.weight"], s.weights()["out.bias"]
    eW, _ = manual_sgd(W, b, X, y, 0.1)
    s.step(1)
    np.testing.assert_allclose(s.weights()["out.weight"], eW, rtol=1e-13)
    assert s.epoch_count == 1


@pytest.mark.parametrize("shuffle", [False, True])
def test_epoch_counts(csv_data, shuffle):
    data, arrays = csv_data
    s = build_session(project(data, linear_net(), batch_size=3, shuffle=shuffle))
    X, y = arrays(s)
    assert s.epoch() == 3
    assert (s.step_count, s.epoch_count) == (3, 1)
    assert s.step(1) == 1
    assert s.epoch() == 2                       # finishes the pass that was started
    assert (s.step_count, s.epoch_count) == (6, 2)
    assert s.step(2) == 2
    assert s.epoch() == 1
    assert (s.step_count, s.epoch_count) == (9, 3)
    assert s.epoch() == 3
    assert (s.step_count, s.epoch_count) == (12, 4)


def test_epoch_with_batch_size_dividing_the_rows(csv_data):
    data, arrays = csv_data
    s = build_session(project(data, linear_net(), batch_size=4))
    X, y = arrays(s)
    assert s.steps_per_epoch == 2
    assert s.epoch() == 2 and s.epoch_count == 1
    assert s.step(5) == 5 and (s.step_count, s.epoch_count) == (7, 3)


# ---------------------------------------------------------------------------
# SGD by hand and regularisation
# ---------------------------------------------------------------------------

def test_sgd_step_is_params_minus_lr_grad(csv_data):
    data, arrays = csv_data
    lr = 0.3
    s = build_session(project(data, linear_net(n_out=1), batch_size="full", optimizer={"name": "sgd", "lr": lr}))
    X, y = arrays(s)
    p0 = s.network.params.copy()
    s.step(1)
    # the network's gradient buffer holds what the optimiser used
    np.testing.assert_allclose(s.network.params, p0 - lr * s.network.grads, rtol=1e-14)
    W0, b0 = p0[:2].reshape(1, 2), p0[2:]
    gW, gb = linear_mse_grad(W0, b0, X, y)
    np.testing.assert_allclose(s.network.grads, np.concatenate([gW.ravel(), gb]), rtol=1e-13)
    assert s.lr == lr


@pytest.mark.parametrize("kind, rate", [("l2", 0.5), ("l1", 0.2)])
def test_regularization_on_weights_only(csv_data, kind, rate):
    data, arrays = csv_data
    lr = 0.1
    reg = {"kind": kind, "rate": rate}
    s = build_session(project(data, linear_net(), batch_size="full", optimizer={"name": "sgd", "lr": lr}, reg=reg))
    X, y = arrays(s)
    W, b = s.weights()["out.weight"], s.weights()["out.bias"]
    assert np.all(W != 0)
    gW, gb = linear_mse_grad(W, b, X, y)
    extra = rate * W if kind == "l2" else rate * np.sign(W)
    s.step(1)
    np.testing.assert_allclose(s.weights()["out.weight"], W - lr * (gW + extra), rtol=1e-13)
    np.testing.assert_allclose(s.weights()["out.bias"], b - lr * gb, rtol=1e-13)   # biases: no penalty
    np.testing.assert_allclose(s.snapshot().gradients["out.weight"], gW + extra, rtol=1e-13)
    # the reported loss is the data loss alone; objective() adds the penalty
    assert s.batch_loss == pytest.approx(float(np.mean((X @ W.T + b - y) ** 2)), rel=1e-13)
    Wn, bn = s.weights()["out.weight"], s.weights()["out.bias"]
    data_loss = float(np.mean((X @ Wn.T + bn - y) ** 2))
    penalty = rate / 2 * float(np.sum(Wn ** 2)) if kind == "l2" else rate * float(np.sum(np.abs(Wn)))
    assert s.objective() == pytest.approx(data_loss + penalty, rel=1e-13)
    assert s.evaluate().train_loss == pytest.approx(data_loss, rel=1e-13)


def test_regularization_hidden_network_biases_untouched(csv_data):
    data, _ = csv_data
    lr = 0.1
    base = project(data, hidden_net("tanh"), batch_size="full", optimizer={"name": "sgd", "lr": lr})
    with_reg = project(data, hidden_net("tanh"), batch_size="full", optimizer={"name": "sgd", "lr": lr},
                       reg={"kind": "l2", "rate": 0.7})
    a, b = build_session(base), build_session(with_reg)
    np.testing.assert_array_equal(a.network.params, b.network.params)
    w = a.network.weights_view.copy()
    a.step(1)
    b.step(1)
    n_w = w.size
    np.testing.assert_allclose(b.network.grads[:n_w] - a.network.grads[:n_w], 0.7 * w, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(b.network.grads[n_w:], a.network.grads[n_w:])
    for name in ("h.bias", "out.bias"):
        np.testing.assert_array_equal(a.weights()[name], b.weights()[name])


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------

def test_dropout_masks_in_training_and_identity_at_evaluation():
    p = 0.4
    proj = project(circle(400), hidden_net("sigmoid", dropout=p, out_act="sigmoid"), loss="bce",
                   optimizer={"name": "sgd", "lr": 0.1}, batch_size="full")
    s = build_session(proj)
    net = s.network
    X = s.X_train
    net.forward(X, training=True, rng=np.random.default_rng(0))
    h, d = net.node_output("h").copy(), net.node_output("drop").copy()
    assert np.all(h > 0)                               # sigmoid: a zero in d means dropped
    kept = d != 0
    np.testing.assert_allclose(d[kept], h[kept] / (1 - p), rtol=1e-15)
    assert abs(1 - kept.mean() - p) < 0.03             # about p of the units are dropped
    assert abs(d.mean() / h.mean() - 1) < 0.05         # the mean is preserved (inverted dropout)
    # evaluation: no mask, deterministic
    e1 = net.forward(X, training=False).copy()
    np.testing.assert_array_equal(net.node_output("drop"), net.node_output("h"))
    e2 = net.predict(X)
    np.testing.assert_array_equal(e1, e2)
    ev1, ev2 = s.evaluate(), s.evaluate()
    assert ev1 == ev2
    # ... and identical to the same network without the dropout node
    plain = build_session(project(circle(400), hidden_net("sigmoid", out_act="sigmoid"), loss="bce",
                                  optimizer={"name": "sgd", "lr": 0.1}, batch_size="full"))
    plain.load_weights(s.weights())
    np.testing.assert_array_equal(plain.network.predict(X), e1)
    assert plain.evaluate().train_loss == ev1.train_loss


def test_dropout_is_used_by_training_steps():
    """Training with dropout differs from training without it, and the step's gradient
    is that of the masked network."""
    p = 0.5
    kw = dict(loss="bce", optimizer={"name": "sgd", "lr": 0.5}, batch_size="full")
    s = build_session(project(circle(), hidden_net("tanh", dropout=p, out_act="sigmoid"), **kw))
    plain = build_session(project(circle(), hidden_net("tanh", out_act="sigmoid"), **kw))
    plain.load_weights(s.weights())
    s.step(1)
    plain.step(1)
    assert not np.allclose(s.network.params, plain.network.params)
    # the last forward was the training one: some hidden units were zeroed for the step
    d = s.network.node_output("drop")
    h = s.network.node_output("h")
    assert np.any(d == 0) and np.any(h[d == 0] != 0)
    # BCE on a sigmoid: dL/dz_out = (p - y) / n, so the output layer's gradients are
    # mean(p - y) (bias) and (p - y)^T d / n (weight), d being the MASKED hidden values
    z = s.network.output_pre_activation
    r = (1 / (1 + np.exp(-z)) - s.y_train) / len(z)
    np.testing.assert_allclose(s.network.grad_tensors["out.bias"], r.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.network.grad_tensors["out.weight"], r.T @ d, rtol=1e-12)
    assert not np.allclose(r.T @ h, r.T @ d)


# ---------------------------------------------------------------------------
# divergence
# ---------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_keeps_the_last_finite_weights():
    s = build_session(project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6}, batch_size=10))
    history = [s.network.params.copy()]          # history[k]: weights after k updates
    for _ in range(1, 500):
        s.step(1)
        if s.divergence is not None:
            break
        history.append(s.network.params.copy())
    else:
        pytest.fail("lr 1e6 never diverged")
    # Rolled back to the last weights that gave a finite loss, and the failed step named.
    assert s.divergence.step == s.step_count + 1
    np.testing.assert_array_equal(s.network.params, history[s.step_count])
    assert math.isfinite(s.objective())
    assert "NaN or infinite" in s.divergence.reason
    assert np.all(np.isfinite(s.network.params))
    for t in s.weights().values():
        assert np.all(np.isfinite(t))
    # further steps do nothing
    frozen = s.network.params.copy()
    assert s.step(1) == 0
    assert s.step(10) == 0
    assert s.epoch() == 0
    np.testing.assert_array_equal(s.network.params, frozen)
    snap = s.snapshot()
    assert snap.divergence == s.divergence
    # reset clears it and training runs again
    s.reset()
    assert s.divergence is None
    assert s.step_count == 0
    assert s.step(1) == 1


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_stops_a_multi_step_call():
    s = build_session(project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6}, batch_size=10))
    ran = s.step(10_000)
    assert s.divergence is not None
    assert ran < 10_000
    assert ran == s.step_count == s.divergence.step - 1   # the undone update does not count
    assert np.all(np.isfinite(s.network.params))


def test_reasonable_lr_does_not_diverge():
    s = build_session(project(plane(), hidden_net("tanh"), optimizer={"name": "sgd", "lr": 0.01}, batch_size=10))
    loss0 = s.evaluate().train_loss
    assert s.step(200) == 200
    assert s.divergence is None
    assert s.evaluate().train_loss < loss0


# ---------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------

def test_snapshot_is_read_only_and_frozen():
    s = build_session(_circle_project())
    s.step(3)
    snap = s.snapshot()
    weights = {k: v.copy() for k, v in snap.weights.items()}
    grads = {k: v.copy() for k, v in snap.gradients.items()}
    for arr in list(snap.weights.values()) + list(snap.gradients.values()):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[...] = 0.0
    with pytest.raises(TypeError):
        snap.weights["h.weight"] = np.zeros((6, 2))
    with pytest.raises(TypeError):
        snap.grad_norms["h"] = 0.0
    s.step(20)
    for k in weights:
        np.testing.assert_array_equal(snap.weights[k], weights[k])
        np.testing.assert_array_equal(snap.gradients[k], grads[k])
    assert not np.array_equal(s.weights()["h.weight"], weights["h.weight"])
    assert (snap.step, s.step_count) == (3, 23)


def test_snapshot_contents_and_grad_norms():
    s = build_session(project(circle(), hidden_net("tanh", out_act="sigmoid"), loss="bce",
                              optimizer={"name": "sgd", "lr": 0.1}, batch_size=10))
    s.step(4)
    ev = s.evaluate()
    snap = s.snapshot()
    assert (snap.step, snap.epoch, snap.lr, snap.batch_loss, snap.evaluation) == (4, 0, 0.1, s.batch_loss, ev)
    assert set(snap.grad_norms) == {"h", "out"}
    for node in ("h", "out"):
        g = s.network.grad_tensors[f"{node}.weight"]
        assert snap.grad_norms[node] == pytest.approx(math.sqrt(float(np.sum(g * g))), rel=1e-14)
        assert snap.grad_norms[node] == np.linalg.norm(snap.gradients[f"{node}.weight"])
        assert snap.grad_norms[node] > 0
    for name, t in s.network.tensors.items():
        np.testing.assert_array_equal(snap.weights[name], t)
        assert snap.weights[name].shape == t.shape


def test_reset_draws_new_weights():
    s = build_session(_circle_project())
    w0 = s.weights()["h.weight"]
    s.step(5)
    s.reset()
    assert (s.step_count, s.epoch_count, s.batch_loss) == (0, 0, None)
    assert not np.array_equal(s.weights()["h.weight"], w0)


# ---------------------------------------------------------------------------
# float32
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", [{"name": "sgd", "lr": 0.1, "momentum": 0.9}, {"name": "adam", "lr": 0.01},
                                       {"name": "rmsprop", "lr": 0.01}])
def test_float32_project_trains_in_float32(optimizer):
    proj = project(circle(), hidden_net("tanh", out_act="sigmoid"), loss="bce", optimizer=optimizer,
                   batch_size=10, shuffle=True, dtype="float32")
    s = build_session(proj)
    assert s.network.params.dtype == np.float32
    loss0 = s.evaluate().train_loss
    assert s.step(60) == 60
    assert s.divergence is None
    assert s.network.params.dtype == np.float32
    assert s.network.grads.dtype == np.float32
    assert s.X_train.dtype == np.float32
    for t in s.weights().values():
        assert t.dtype == np.float32
    snap = s.snapshot()
    assert all(v.dtype == np.float32 for v in snap.weights.values())
    assert s.network.predict(s.X_test).dtype == np.float32
    assert s.evaluate().train_loss < loss0


def test_float32_matches_float64_closely(csv_data):
    data, _ = csv_data
    s64 = build_session(project(data, linear_net(), batch_size=3, optimizer={"name": "sgd", "lr": 0.05}))
    s32 = build_session(project(data, linear_net(), batch_size=3, optimizer={"name": "sgd", "lr": 0.05},
                                dtype="float32"))
    np.testing.assert_allclose(s32.network.params, s64.network.params, rtol=1e-6)
    s64.step(6)
    s32.step(6)
    assert s32.network.params.dtype == np.float32
    np.testing.assert_allclose(s32.network.params, s64.network.params, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------
# output width against the regression target
# ---------------------------------------------------------------------------

def test_regression_output_width_must_match_the_target():
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unit|output"):
        build_session(project(plane(), linear_net(n_out=3)))


def test_regression_output_width_matching_the_target_is_accepted():
    s = build_session(project(plane(), linear_net(n_out=1)))
    assert s.y_train.shape[1] == s.network.plan.output_width == 1


def test_a_new_optimizer_clears_a_divergence_so_training_can_resume():
    s = build_session(project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6}, batch_size=10))
    start = s.weights()
    s.step(500)
    assert s.divergence is not None and s.step(1) == 0
    kept = s.network.params.copy()
    s.set_optimizer({"name": "sgd", "lr": 1e-3})
    assert s.divergence is None
    np.testing.assert_array_equal(s.network.params, kept)   # the last finite weights stay
    s.load_weights(start)   # (after lr 1e6 they are too large for any rate: start over)
    assert s.step(20) == 20 and np.all(np.isfinite(s.network.params))


def test_set_learning_rate_keeps_the_optimizer_state_and_resumes_after_divergence():
    s = build_session(project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.9},
                              batch_size=10))
    s.step(5)
    optimizer = s.optimizer
    s.set_learning_rate(0.02)
    assert s.optimizer is optimizer and s.lr == 0.02        # momentum buffer kept
    with pytest.raises(ConfigError, match="training.optimizer.lr"):
        s.set_learning_rate(-1.0)
    s.set_learning_rate(1e6)
    start = s.weights()
    s.step(500)
    assert s.divergence is not None
    s.set_learning_rate(1e-3)
    assert s.divergence is None and s.optimizer is not optimizer
    s.load_weights(start)           # (after lr 1e6 the kept weights are too large for any rate)
    assert s.step(10) == 10


def test_loading_weights_clears_a_divergence_and_the_optimizer_memory():
    s = build_session(project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6, "momentum": 0.9},
                              batch_size=10))
    start = s.weights()
    s.step(500)
    assert s.divergence is not None
    s.load_weights(start)
    assert s.divergence is None and s.optimizer.t == 0
    assert not s.optimizer.state().buffers["momentum_buffer"].any()
