"""Losses: values against torch.nn definitions worked out by hand, gradients
against central differences, the p - y cancellation, and make_loss_head's refusals.

Reference numbers are written out from the formulas with ``math``; the engine is
never used to produce a reference.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.losses import LOSSES, LossHead, make_loss_head


def head(loss, act="linear", n_out=1):
    return LossHead(loss, act, n_out)


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def softmax_rows(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    for r in range(z.shape[0]):
        m = max(z[r])
        e = [math.exp(v - m) for v in z[r]]
        out[r] = [v / sum(e) for v in e]
    return out


# ---------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------

def test_mse_value():
    a = np.array([[1.0], [2.0], [-1.0]])
    y = np.array([[0.0], [4.0], [-1.5]])
    assert head("mse").value(None, a, y) == pytest.approx((1.0 + 4.0 + 0.25) / 3, rel=1e-15)


def test_mse_mean_over_every_element():
    # torch reduction="mean" divides by the number of elements, not of rows
    a = np.array([[1.0, 0.0], [2.0, 3.0]])
    y = np.array([[0.0, 0.0], [0.0, 0.0]])
    assert head("mse", n_out=2).value(None, a, y) == pytest.approx((1 + 0 + 4 + 9) / 4, rel=1e-15)


def test_mae_value():
    a = np.array([[1.0], [2.0], [-1.0]])
    y = np.array([[0.0], [4.0], [-1.5]])
    assert head("mae").value(None, a, y) == pytest.approx((1.0 + 2.0 + 0.5) / 3, rel=1e-15)


def test_huber_small_branch():
    a = np.array([[0.5], [-0.2]])
    y = np.array([[0.0], [0.6]])          # errors 0.5 and -0.8
    expected = (0.5 * 0.25 + 0.5 * 0.64) / 2
    assert head("huber").value(None, a, y) == pytest.approx(expected, rel=1e-14)


def test_huber_large_branch():
    a = np.array([[3.0], [-1.0]])
    y = np.array([[0.0], [1.5]])          # errors 3 and -2.5
    expected = ((3.0 - 0.5) + (2.5 - 0.5)) / 2
    assert head("huber").value(None, a, y) == pytest.approx(expected, rel=1e-14)


def test_huber_both_branches_and_the_boundary():
    a = np.array([[0.5], [-3.0], [1.0]])
    y = np.array([[0.0], [0.0], [0.0]])   # 0.125, 2.5, and exactly delta: 0.5 either way
    assert head("huber").value(None, a, y) == pytest.approx((0.125 + 2.5 + 0.5) / 3, rel=1e-14)


def test_bce_with_logits_value():
    z = np.array([[0.0], [2.0], [-1.0], [3.0]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    # -y log s(z) - (1 - y) log(1 - s(z))
    terms = [-math.log(sig(0.0)), -math.log(1 - sig(2.0)), -math.log(1 - sig(-1.0)), -math.log(sig(3.0))]
    h = head("bce", "sigmoid")
    a = 1.0 / (1.0 + np.exp(-z))
    assert h.value(z, a, y) == pytest.approx(sum(terms) / 4, rel=1e-14)


def test_bce_with_logits_is_finite_for_huge_logits():
    z = np.array([[800.0], [800.0], [-800.0], [-800.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    a = np.array([[1.0], [1.0], [0.0], [0.0]])     # what sigmoid rounds to
    h = head("bce", "sigmoid")
    value, grad = h.value_and_grad(z, a, y)
    assert math.isfinite(value)
    # right answers cost ~e^-800 = 0, wrong ones cost 800
    assert value == pytest.approx((0.0 + 800.0 + 800.0 + 0.0) / 4, rel=1e-14)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, np.array([[0.0], [1.0], [-1.0], [0.0]]) / 4, atol=1e-300)


def test_cross_entropy_value():
    z = np.array([[1.0, 2.0, 3.0], [0.5, -0.5, 0.0]])
    y = np.array([2, 0])
    expected = 0.0
    for r in range(2):
        lse = math.log(sum(math.exp(v) for v in z[r]))
        expected += lse - z[r, y[r]]
    expected /= 2
    assert head("cross_entropy", "linear", 3).value(z, z, y) == pytest.approx(expected, rel=1e-14)
    # on a softmax output the engine reads the logits z, not the probabilities
    p = softmax_rows(z)
    assert head("cross_entropy", "softmax", 3).value(z, p, y) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_is_finite_for_huge_logits():
    z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 0.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    y = np.array([0, 1, 0])
    # costs: ~0, 1000, 2000
    for act in ("linear", "softmax"):
        p = softmax_rows(z)
        value, grad = head("cross_entropy", act, 3).value_and_grad(z, z if act == "linear" else p, y)
        assert math.isfinite(value)
        assert value == pytest.approx((0.0 + 1000.0 + 2000.0) / 3, rel=1e-14)
        assert np.all(np.isfinite(grad))


def hinge_by_formula(a, y):
    """torch.nn.MultiMarginLoss(p=1, margin=1): mean over rows of
    sum_{i != y} max(0, 1 - a[y] + a[i]) / C."""
    n, c = a.shape
    total = 0.0
    for r in range(n):
        total += sum(max(0.0, 1.0 - a[r, y[r]] + a[r, i]) for i in range(c) if i != y[r]) / c
    return total / n


def test_hinge_value_by_hand():
    a = np.array([[0.1, 0.2, 0.4], [2.0, 0.5, 1.2]])
    y = np.array([0, 0])
    # row 0: 1.1 + 1.3; row 1: 0 + 0.2; each over 3 classes
    expected = ((1.1 + 1.3) / 3 + 0.2 / 3) / 2
    assert head("hinge", "linear", 3).value(a, a, y) == pytest.approx(expected, rel=1e-14)
    assert hinge_by_formula(a, y) == pytest.approx(expected, rel=1e-14)


def test_hinge_value_random():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(7, 4))
    y = rng.integers(0, 4, 7)
    assert head("hinge", "linear", 4).value(a, a, y) == pytest.approx(hinge_by_formula(a, y), rel=1e-13)


def test_hinge_is_zero_once_the_right_class_wins_by_the_margin():
    a = np.array([[3.0, 1.9, 0.0], [-1.0, 5.0, 3.5]])
    y = np.array([0, 1])
    value, grad = head("hinge", "linear", 3).value_and_grad(a, a, y)
    assert value == 0.0
    np.testing.assert_array_equal(grad, 0.0)


def test_losses_against_torch_when_available():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(11)
    a = rng.normal(size=(6, 1)) * 2
    t = rng.normal(size=(6, 1)) * 2
    ta, tt = torch.tensor(a), torch.tensor(t)
    assert head("mse").value(a, a, t) == pytest.approx(F.mse_loss(ta, tt).item(), rel=1e-13)
    assert head("mae").value(a, a, t) == pytest.approx(F.l1_loss(ta, tt).item(), rel=1e-13)
    assert head("huber").value(a, a, t) == pytest.approx(F.huber_loss(ta, tt, delta=1.0).item(), rel=1e-13)
    yb = (rng.random((6, 1)) > 0.5).astype(np.float64)
    assert head("bce", "sigmoid").value(a, 1 / (1 + np.exp(-a)), yb) == pytest.approx(
        F.binary_cross_entropy_with_logits(ta, torch.tensor(yb)).item(), rel=1e-13)
    z = rng.normal(size=(6, 4)) * 3
    yi = rng.integers(0, 4, 6)
    tz, tyi = torch.tensor(z), torch.tensor(yi)
    assert head("cross_entropy", "linear", 4).value(z, z, yi) == pytest.approx(
        F.cross_entropy(tz, tyi).item(), rel=1e-13)
    assert head("hinge", "linear", 4).value(z, z, yi) == pytest.approx(
        torch.nn.MultiMarginLoss()(tz, tyi).item(), rel=1e-13)


# ---------------------------------------------------------------------------
# gradients against central differences
# ---------------------------------------------------------------------------

def numeric_grad(fn, x, h=1e-6):
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (fn(xp) - fn(xm)) / (2 * h)
    return g


RNG = np.random.default_rng(5)
N = 6


def _regression_case(loss):
    a = RNG.normal(size=(N, 2))
    y = RNG.normal(size=(N, 2))
    if loss == "mae":
        y = a + np.where(RNG.random((N, 2)) > 0.5, 1.0, -1.0) * RNG.uniform(0.2, 1.0, (N, 2))
    if loss == "huber":
        # errors on both branches, all well away from |e| = 1
        e = np.array([0.3, -0.6, 2.0, -1.7, 0.8, -3.0, 0.1, 1.5, -0.4, 2.5, -0.9, 4.0]).reshape(N, 2)
        y = a - e
    return a, y


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_loss_gradient(loss):
    a, y = _regression_case(loss)
    h = head(loss, "linear", 2)
    _, grad = h.value_and_grad(a, a, y)
    numeric = numeric_grad(lambda x: h.value(x, x, y), a)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-10)


def test_huber_gradient_both_branches_by_hand():
    a = np.array([[0.5], [-3.0], [2.0]])
    y = np.zeros((3, 1))
    _, grad = head("huber").value_and_grad(a, a, y)
    np.testing.assert_allclose(grad, np.array([[0.5], [-1.0], [1.0]]) / 3, rtol=1e-15)


def test_bce_gradient_wrt_logits():
    z = RNG.normal(scale=2.0, size=(N, 1))
    y = (RNG.random((N, 1)) > 0.5).astype(np.float64)
    h = head("bce", "sigmoid")
    f = lambda x: h.value(x, 1 / (1 + np.exp(-x)), y)   # noqa: E731
    _, grad = h.value_and_grad(z, 1 / (1 + np.exp(-z)), y)
    np.testing.assert_allclose(grad, numeric_grad(f, z), rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("act", ["softmax", "linear"])
def test_cross_entropy_gradient(act):
    z = RNG.normal(scale=2.0, size=(N, 3))
    y = RNG.integers(0, 3, N)
    h = head("cross_entropy", act, 3)
    f = lambda x: h.value(x, softmax_rows(x) if act == "softmax" else x, y)   # noqa: E731
    _, grad = h.value_and_grad(z, softmax_rows(z) if act == "softmax" else z, y)
    np.testing.assert_allclose(grad, numeric_grad(f, z), rtol=1e-7, atol=1e-10)


def test_hinge_gradient():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(N, 4))
    y = rng.integers(0, 4, N)
    # keep every margin 1 - a_y + a_j well away from 0 (the kink)
    margins = 1 - a[np.arange(N), y][:, None] + a
    assert np.min(np.abs(margins)) > 1e-3
    h = head("hinge", "linear", 4)
    _, grad = h.value_and_grad(a, a, y)
    np.testing.assert_allclose(grad, numeric_grad(lambda x: h.value(x, x, y), a), rtol=1e-7, atol=1e-10)
    assert np.any(grad != 0)


# ---------------------------------------------------------------------------
# the cancellation: p - y on the logits
# ---------------------------------------------------------------------------

def test_sigmoid_bce_returns_p_minus_y_on_the_logits():
    h = head("bce", "sigmoid")
    assert h.wrt_logits is True
    z = np.array([[0.0], [1.5], [-2.0], [4.0], [-0.3]])
    y = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    p = 1 / (1 + np.exp(-z))
    _, grad = h.value_and_grad(z, p, y)
    expected = np.array([[sig(v) - t] for v, t in zip(z[:, 0], y[:, 0])]) / 5
    np.testing.assert_allclose(grad, expected, rtol=1e-14, atol=1e-17)


def test_softmax_cross_entropy_returns_p_minus_y_on_the_logits():
    h = head("cross_entropy", "softmax", 3)
    assert h.wrt_logits is True
    z = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0], [5.0, 5.0, 5.0], [-2.0, 0.0, 2.0]])
    y = np.array([0, 2, 1, 2])
    p = softmax_rows(z)
    _, grad = h.value_and_grad(z, p, y)
    onehot = np.zeros((4, 3))
    onehot[np.arange(4), y] = 1.0
    np.testing.assert_allclose(grad, (p - onehot) / 4, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-16)


@pytest.mark.parametrize("loss, act, n", [("mse", "sigmoid", 1), ("mae", "sigmoid", 1), ("huber", "tanh", 1),
                                          ("cross_entropy", "linear", 3), ("hinge", "linear", 3),
                                          ("mse", "softmax", 3), ("cross_entropy", "tanh", 3)])
def test_no_cancellation_for_other_pairs(loss, act, n):
    assert head(loss, act, n).wrt_logits is False


def test_mse_on_sigmoid_keeps_the_slope():
    from engine.activations import ACTIVATIONS

    h = head("mse", "sigmoid")
    z = np.array([[0.0], [3.0], [-2.0]])
    p = 1 / (1 + np.exp(-z))
    y = np.array([[1.0], [0.0], [1.0]])
    _, grad = h.value_and_grad(z, p, y)
    # gradient with respect to the OUTPUT p: 2 (p - y) / n
    np.testing.assert_allclose(grad, 2 * (p - y) / 3, rtol=1e-14)
    # through sigmoid: 2 (p - y) p (1 - p) / n, checked against differences in z
    dz = ACTIVATIONS["sigmoid"].backward(z, p, grad, 0.0)
    numeric = numeric_grad(lambda x: h.value(x, 1 / (1 + np.exp(-x)), y), z)
    np.testing.assert_allclose(dz, numeric, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(dz, 2 * (p - y) * p * (1 - p) / 3, rtol=1e-14)


def test_float32_losses_give_float32_gradients():
    a = np.array([[0.2], [0.7]], dtype=np.float32)
    y = np.array([[0.0], [1.0]], dtype=np.float32)
    for loss in ("mse", "mae", "huber"):
        _, g = head(loss).value_and_grad(a, a, y)
        assert g.dtype == np.float32
    _, g = head("bce", "sigmoid").value_and_grad(a, a, y)
    assert g.dtype == np.float32
    z = np.array([[0.2, 0.1, -0.3]], dtype=np.float32)
    for loss in ("cross_entropy", "hinge"):
        _, g = head(loss, "linear", 3).value_and_grad(z, z, np.array([1]))
        assert g.dtype == np.float32


# ---------------------------------------------------------------------------
# targets
# ---------------------------------------------------------------------------

def test_encode_targets():
    y = np.array([0, 2, 1])
    np.testing.assert_array_equal(head("cross_entropy", "softmax", 3).encode_targets(y, "classification", np.float64),
                                  [0, 2, 1])
    np.testing.assert_array_equal(head("mse", "linear", 3).encode_targets(y, "classification", np.float64),
                                  [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    yb = np.array([1, 0, 1])
    enc = head("bce", "sigmoid", 1).encode_targets(yb, "classification", np.float32)
    assert enc.shape == (3, 1) and enc.dtype == np.float32
    np.testing.assert_array_equal(enc[:, 0], [1, 0, 1])


# ---------------------------------------------------------------------------
# make_loss_head refusals
# ---------------------------------------------------------------------------

def test_make_loss_head_accepts_sensible_pairs():
    assert make_loss_head("bce", "sigmoid", 1, "classification", 2).wrt_logits
    assert make_loss_head("cross_entropy", "softmax", 3, "classification", 3).wrt_logits
    assert not make_loss_head("cross_entropy", "linear", 3, "classification", 3).wrt_logits
    assert not make_loss_head("mse", "linear", 1, "regression", 0).wrt_logits
    assert not make_loss_head("mse", "sigmoid", 1, "classification", 2).wrt_logits
    assert make_loss_head("hinge", "linear", 4, "classification", 4).n_outputs == 4


def test_bce_on_three_classes_is_refused():
    with pytest.raises(ConfigError, match=r"training\.loss: bce needs two classes, the data has 3"):
        make_loss_head("bce", "sigmoid", 1, "classification", 3)


def test_bce_without_sigmoid_output_is_refused():
    with pytest.raises(ConfigError, match=r"training\.loss: bce needs .*sigmoid.*activation linear"):
        make_loss_head("bce", "linear", 1, "classification", 2)
    with pytest.raises(ConfigError, match=r"bce needs an output of one unit.*2 unit"):
        make_loss_head("bce", "sigmoid", 2, "classification", 2)


@pytest.mark.parametrize("loss", ["cross_entropy", "hinge"])
def test_wrong_unit_count_is_refused(loss):
    with pytest.raises(ConfigError, match=rf"training\.loss: {loss} needs one output unit per class.*"
                                          r"3 classes.*2 units"):
        make_loss_head(loss, "softmax", 2, "classification", 3)


@pytest.mark.parametrize("loss", ["bce", "cross_entropy", "hinge"])
def test_classification_loss_on_regression_is_refused(loss):
    with pytest.raises(ConfigError, match=rf"training\.loss: {loss} is a classification loss.*regression"):
        make_loss_head(loss, "sigmoid", 1, "regression", 0)


def test_regression_loss_with_wrong_width_on_classes_is_refused():
    with pytest.raises(ConfigError, match=r"training\.loss: mse on 3 classes needs 3 output units.*has 2"):
        make_loss_head("mse", "linear", 2, "classification", 3)


def test_unknown_loss_is_refused():
    with pytest.raises(ConfigError, match=r"training\.loss: unknown loss 'l2'"):
        make_loss_head("l2", "linear", 1, "regression", 0)
    assert set(LOSSES) == {"mse", "mae", "huber", "bce", "cross_entropy", "hinge"}
