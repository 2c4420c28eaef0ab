"""Activation functions: values at hand-picked points, slopes, stability, dtype.

Reference values are written out from the definitions with the ``math`` module
(or typed in as constants); the engine is never used to produce a reference.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.activations import ACTIVATIONS, get_activation
from engine.errors import ConfigError

ELEMENTWISE = [name for name in ACTIVATIONS if name != "softmax"]
# activations with a kink (or a second-derivative jump) at 0
KINKED = {"relu", "leaky_relu", "elu"}


def fwd(name, z, alpha=None):
    act = ACTIVATIONS[name]
    return act.forward(np.asarray(z, dtype=np.float64), act.default_alpha if alpha is None else alpha)


def slope(name, z, alpha=None):
    act = ACTIVATIONS[name]
    al = act.default_alpha if alpha is None else alpha
    z = np.asarray(z, dtype=np.float64)
    return act.slope(z, act.forward(z, al), al)


def test_every_documented_activation_exists():
    assert set(ACTIVATIONS) == {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                                "softplus", "gelu", "silu", "softmax"}
    assert ACTIVATIONS["leaky_relu"].default_alpha == 0.01
    assert ACTIVATIONS["elu"].default_alpha == 1.0


def test_unknown_activation_names_the_field():
    with pytest.raises(ConfigError, match=r"network node 'h1'\.activation.*'swish'"):
        get_activation("swish", "network node 'h1'.activation")


# ---------------------------------------------------------------------------
# values at hand-picked points
# ---------------------------------------------------------------------------

def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


HAND_VALUES = [
    ("linear", None, -3.5, -3.5),
    ("linear", None, 2.25, 2.25),
    ("sigmoid", None, 0.0, 0.5),
    ("sigmoid", None, 2.0, 1.0 / (1.0 + math.exp(-2.0))),
    ("sigmoid", None, -3.0, 1.0 / (1.0 + math.exp(3.0))),
    ("tanh", None, 1.0, 0.7615941559557649),
    ("tanh", None, -0.5, (math.exp(-0.5) - math.exp(0.5)) / (math.exp(-0.5) + math.exp(0.5))),
    ("tanh", None, 0.0, 0.0),
    ("relu", None, -2.0, 0.0),
    ("relu", None, 0.0, 0.0),
    ("relu", None, 3.0, 3.0),
    ("leaky_relu", None, -2.0, -0.02),
    ("leaky_relu", None, 3.0, 3.0),
    ("leaky_relu", 0.2, -2.0, -0.4),
    ("elu", None, -1.0, math.exp(-1.0) - 1.0),
    ("elu", None, 2.0, 2.0),
    ("elu", None, 0.0, 0.0),
    ("elu", 2.0, -1.0, 2.0 * (math.exp(-1.0) - 1.0)),
    ("softplus", None, 0.0, math.log(2.0)),
    ("softplus", None, 1.0, math.log(1.0 + math.e)),
    ("softplus", None, -2.0, math.log(1.0 + math.exp(-2.0))),
    ("gelu", None, 1.0, 0.8413447460685429),
    ("gelu", None, 0.0, 0.0),
    ("gelu", None, -1.0, -1.0 * 0.5 * (1.0 + math.erf(-1.0 / math.sqrt(2.0)))),
    ("gelu", None, 2.0, 2.0 * 0.5 * (1.0 + math.erf(2.0 / math.sqrt(2.0)))),
    ("silu", None, 1.0, 0.7310585786300049),
    ("silu", None, 0.0, 0.0),
    ("silu", None, -2.0, -2.0 / (1.0 + math.exp(2.0))),
]


@pytest.mark.parametrize("name, alpha, z, expected", HAND_VALUES)
def test_value_at_hand_picked_point(name, alpha, z, expected):
    got = fwd(name, np.array([[z]]), alpha)
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(expected, rel=1e-14, abs=1e-15)


def test_softmax_values_by_hand():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 4.0]])
    got = fwd("softmax", z)
    for r in range(3):
        denom = sum(math.exp(v) for v in z[r])
        for c in range(3):
            assert got[r, c] == pytest.approx(math.exp(z[r, c]) / denom, rel=1e-14)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-15)


def test_softmax_is_shift_invariant_and_stable():
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1002.0]])
    got = fwd("softmax", z)
    assert np.all(np.isfinite(got))
    e = [math.exp(-1.0), 1.0, math.exp(-2.0)]
    np.testing.assert_allclose(got[0], np.array(e) / sum(e), rtol=1e-14)
    e = [1.0, 1.0, math.exp(-2.0)]
    np.testing.assert_allclose(got[1], np.array(e) / sum(e), rtol=1e-14)


# ---------------------------------------------------------------------------
# slopes against central differences of forward
# ---------------------------------------------------------------------------

# 40 points, none of them 0 (the step is 10/39), plus a few larger ones
GRID = np.concatenate([np.linspace(-5.0, 5.0, 40), [-9.0, -7.5, 7.5, 9.0]]).reshape(4, 11)


SLOPE_CASES = [(n, None) for n in ELEMENTWISE] + [(n, al) for n in ("leaky_relu", "elu") for al in (0.3, 2.0)]


@pytest.mark.parametrize("name, alpha", SLOPE_CASES)
def test_slope_matches_central_differences(name, alpha):
    h = 1e-6
    numeric = (fwd(name, GRID + h, alpha) - fwd(name, GRID - h, alpha)) / (2 * h)
    analytic = slope(name, GRID, alpha)
    assert analytic.shape == GRID.shape
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_grad_times_slope(name):
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    z = GRID
    g = rng.normal(size=z.shape)
    h = 1e-6
    numeric = (fwd(name, z + h) - fwd(name, z - h)) / (2 * h)
    got = act.backward(z, act.forward(z, act.default_alpha), g, act.default_alpha)
    np.testing.assert_allclose(got, g * numeric, rtol=0, atol=1e-8 * np.abs(g).max())


def test_slopes_on_each_side_of_the_kinks():
    z = np.array([[-2.0, -0.5, 0.5, 2.0]])
    np.testing.assert_array_equal(slope("relu", z), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(slope("leaky_relu", z), [[0.01, 0.01, 1.0, 1.0]])
    np.testing.assert_allclose(slope("elu", z), [[math.exp(-2.0), math.exp(-0.5), 1.0, 1.0]], rtol=1e-14)
    np.testing.assert_allclose(slope("elu", z, 3.0), [[3 * math.exp(-2.0), 3 * math.exp(-0.5), 1.0, 1.0]],
                               rtol=1e-14)


def test_softmax_backward_is_the_jacobian_vector_product():
    act = ACTIVATIONS["softmax"]
    rng = np.random.default_rng(7)
    z = rng.normal(scale=2.0, size=(5, 4))
    g = rng.normal(size=(5, 4))
    a = act.forward(z, 0.0)
    got = act.backward(z, a, g, 0.0)
    h = 1e-6
    for r in range(z.shape[0]):
        # J[i, j] = d softmax_i / d z_j, built column by column
        J = np.empty((4, 4))
        for j in range(4):
            zp, zm = z[r:r + 1].copy(), z[r:r + 1].copy()
            zp[0, j] += h
            zm[0, j] -= h
            J[:, j] = (act.forward(zp, 0.0)[0] - act.forward(zm, 0.0)[0]) / (2 * h)
        # dL/dz_j = sum_i dL/da_i * J[i, j]
        np.testing.assert_allclose(got[r], g[r] @ J, rtol=0, atol=1e-9)
    # the analytic Jacobian diag(a) - a a^T gives the same
    for r in range(z.shape[0]):
        J = np.diag(a[r]) - np.outer(a[r], a[r])
        np.testing.assert_allclose(got[r], g[r] @ J, rtol=1e-12, atol=1e-15)


def test_sigmoid_slope_peaks_at_a_quarter():
    z = np.linspace(-10, 10, 2001).reshape(1, -1)   # includes 0
    s = slope("sigmoid", z)
    assert s.max() == 0.25
    assert z[0, np.argmax(s)] == 0.0
    assert np.all(s <= 0.25)
    assert np.all(s > 0)


def test_tanh_slope_is_one_minus_square():
    z = GRID
    np.testing.assert_allclose(slope("tanh", z), 1 - np.tanh(z) ** 2, rtol=1e-14, atol=1e-300)
    assert slope("tanh", np.zeros((1, 1)))[0, 0] == 1.0


# ---------------------------------------------------------------------------
# stability and dtype
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sigmoid", "softplus", "elu", "gelu", "silu", "tanh"])
def test_large_inputs_stay_finite(name):
    z = np.array([[-1000.0, -50.0, 50.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        v = fwd(name, z)
        s = slope(name, z)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(s))


def test_large_input_values():
    z = np.array([[-1000.0, 1000.0]])
    np.testing.assert_array_equal(fwd("sigmoid", z), [[0.0, 1.0]])
    np.testing.assert_array_equal(fwd("softplus", z), [[0.0, 1000.0]])
    np.testing.assert_array_equal(fwd("elu", z), [[-1.0, 1000.0]])
    np.testing.assert_array_equal(fwd("gelu", z), [[0.0, 1000.0]])
    np.testing.assert_array_equal(slope("sigmoid", z), [[0.0, 0.0]])
    np.testing.assert_array_equal(slope("softplus", z), [[0.0, 1.0]])
    np.testing.assert_array_equal(slope("gelu", z), [[0.0, 1.0]])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_in_float32_out(name):
    act = ACTIVATIONS[name]
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    g = np.ones_like(z)
    a = act.forward(z, act.default_alpha)
    assert a.dtype == np.float32
    if act.slope is not None:
        assert act.slope(z, a, act.default_alpha).dtype == np.float32
    assert act.backward(z, a, g, act.default_alpha).dtype == np.float32


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_float32_agrees_with_float64(name):
    act = ACTIVATIONS[name]
    z64 = np.linspace(-3, 3, 12).reshape(3, 4)
    z32 = z64.astype(np.float32)
    np.testing.assert_allclose(act.forward(z32, act.default_alpha), act.forward(z64, act.default_alpha),
                               rtol=1e-5, atol=1e-6)
