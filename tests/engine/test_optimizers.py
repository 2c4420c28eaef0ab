"""Optimisers against hand-computed updates (torch.optim's documented rules).

The reference values are computed here, element by element in plain Python
floats, straight from the formulas; the engine's code is never called for them.
"""
from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.optimizers import DEFAULTS, OPTIMIZERS, base_lr, make_optimizer

P0 = [1.0, -2.0, 0.5]
# three gradients; every element changes sign at least once (for rprop)
GRADS = [[0.5, -1.0, 0.25], [-0.3, 0.2, 0.4], [-0.1, 0.6, -0.2]]
TOL = 1e-12


def run_engine(spec, lrs=None, dtype=np.float64, p0=P0, grads=GRADS):
    """Apply len(grads) updates; return the parameters after each one."""
    opt = make_optimizer(spec, len(p0), dtype)
    p = np.array(p0, dtype=dtype)
    history = []
    for t, g in enumerate(grads):
        lr = lrs[t] if lrs is not None else base_lr(spec)
        opt.step(p, np.array(g, dtype=dtype), lr)
        history.append(p.tolist())
    return history


def sign(x):
    return (x > 0) - (x < 0)


# ---------------------------------------------------------------------------
# references, written out from the formulas in plain Python floats
# ---------------------------------------------------------------------------

def ref_sgd(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, lrs=None):
    p, buf, history = list(P0), [None] * 3, []
    for t, g in enumerate(GRADS, start=1):
        step_lr = lrs[t - 1] if lrs else lr
        for i in range(3):
            d = g[i] + weight_decay * p[i]
            if momentum != 0.0:
                if t == 1:
                    buf[i] = d
                else:
                    buf[i] = momentum * buf[i] + (1.0 - dampening) * d
                d = d + momentum * buf[i] if nesterov else buf[i]
            p[i] = p[i] - step_lr * d
        history.append(list(p))
    return history


def ref_adagrad(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
    p, acc, history = list(P0), [initial_accumulator_value] * 3, []
    for t, g in enumerate(GRADS, start=1):
        clr = lr / (1.0 + (t - 1) * lr_decay)
        for i in range(3):
            d = g[i] + weight_decay * p[i]
            acc[i] = acc[i] + d * d
            p[i] = p[i] - clr * d / (math.sqrt(acc[i]) + eps)
        history.append(list(p))
    return history


def ref_rmsprop(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p, v, avg, buf, history = list(P0), [0.0] * 3, [0.0] * 3, [0.0] * 3, []
    for g in GRADS:
        for i in range(3):
            d = g[i] + weight_decay * p[i]
            v[i] = alpha * v[i] + (1.0 - alpha) * d * d
            if centered:
                avg[i] = alpha * avg[i] + (1.0 - alpha) * d
                denom = math.sqrt(v[i] - avg[i] * avg[i]) + eps
            else:
                denom = math.sqrt(v[i]) + eps
            if momentum > 0.0:
                buf[i] = momentum * buf[i] + d / denom
                p[i] = p[i] - lr * buf[i]
            else:
                p[i] = p[i] - lr * d / denom
        history.append(list(p))
    return history


def ref_adam(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled=False, lrs=None):
    b1, b2 = betas
    p, m, v, vmax, history = list(P0), [0.0] * 3, [0.0] * 3, [0.0] * 3, []
    for t, g in enumerate(GRADS, start=1):
        step_lr = lrs[t - 1] if lrs else lr
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        for i in range(3):
            if decoupled:
                p[i] = p[i] * (1.0 - step_lr * weight_decay)
                d = g[i]
            else:
                d = g[i] + weight_decay * p[i]
            m[i] = b1 * m[i] + (1.0 - b1) * d
            v[i] = b2 * v[i] + (1.0 - b2) * d * d
            if amsgrad:
                vmax[i] = max(vmax[i], v[i])
                denom = math.sqrt(vmax[i]) / math.sqrt(bc2) + eps
            else:
                denom = math.sqrt(v[i]) / math.sqrt(bc2) + eps
            p[i] = p[i] - step_lr / bc1 * m[i] / denom
        history.append(list(p))
    return history


# (spec, reference history)
CASES = {
    "sgd": ({"name": "sgd", "lr": 0.1},
            # p - 0.1 g, by hand
            [[0.95, -1.9, 0.475], [0.98, -1.92, 0.435], [0.99, -1.98, 0.455]]),
    "sgd_momentum": ({"name": "sgd", "lr": 0.1, "momentum": 0.9},
                     ref_sgd(0.1, momentum=0.9)),
    "sgd_momentum_dampening": ({"name": "sgd", "lr": 0.1, "momentum": 0.8, "dampening": 0.3},
                               ref_sgd(0.1, momentum=0.8, dampening=0.3)),
    "sgd_nesterov": ({"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
                     ref_sgd(0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ({"name": "sgd", "lr": 0.1, "weight_decay": 0.5},
                         ref_sgd(0.1, weight_decay=0.5)),
    "sgd_all": ({"name": "sgd", "lr": 0.05, "momentum": 0.7, "weight_decay": 0.1, "nesterov": True},
                ref_sgd(0.05, momentum=0.7, weight_decay=0.1, nesterov=True)),
    "adagrad": ({"name": "adagrad", "lr": 0.1}, ref_adagrad(0.1)),
    "adagrad_lr_decay": ({"name": "adagrad", "lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.2,
                          "initial_accumulator_value": 0.1, "eps": 1e-6},
                         ref_adagrad(0.1, lr_decay=0.5, weight_decay=0.2,
                                     initial_accumulator_value=0.1, eps=1e-6)),
    "rmsprop": ({"name": "rmsprop", "lr": 0.01}, ref_rmsprop(0.01)),
    "rmsprop_centered_momentum": ({"name": "rmsprop", "lr": 0.01, "alpha": 0.9, "momentum": 0.5,
                                   "centered": True, "weight_decay": 0.1, "eps": 1e-6},
                                  ref_rmsprop(0.01, alpha=0.9, momentum=0.5, centered=True,
                                              weight_decay=0.1, eps=1e-6)),
    "rmsprop_centered": ({"name": "rmsprop", "lr": 0.01, "centered": True},
                         ref_rmsprop(0.01, centered=True)),
    "rmsprop_momentum": ({"name": "rmsprop", "lr": 0.01, "momentum": 0.9},
                         ref_rmsprop(0.01, momentum=0.9)),
    "adam": ({"name": "adam", "lr": 0.1}, ref_adam(0.1)),
    "adam_betas_wd": ({"name": "adam", "lr": 0.1, "betas": [0.8, 0.9], "eps": 1e-3,
                       "weight_decay": 0.3},
                      ref_adam(0.1, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.3)),
    "adam_amsgrad": ({"name": "adam", "lr": 0.1, "betas": [0.5, 0.6], "amsgrad": True},
                     ref_adam(0.1, betas=(0.5, 0.6), amsgrad=True)),
    "adamw": ({"name": "adamw", "lr": 0.1}, ref_adam(0.1, weight_decay=1e-2, decoupled=True)),
    "adamw_amsgrad": ({"name": "adamw", "lr": 0.1, "weight_decay": 0.5, "betas": [0.5, 0.6],
                       "amsgrad": True},
                      ref_adam(0.1, betas=(0.5, 0.6), weight_decay=0.5, amsgrad=True,
                               decoupled=True)),
    # Rprop by hand, lr 0.1, etas (0.5, 1.2):
    #  step 1: prev = 0, so every step size stays 0.1: p -= 0.1 * sign(g1)
    #  step 2: g*prev = (-, -, +): sizes (0.05, 0.05, 0.12); elements 0, 1 get g = 0
    #  step 3: prev = (0, 0, 0.4), g*prev = (0, 0, -): sizes (0.05, 0.05, 0.06), element 2 g = 0
    "rprop": ({"name": "rprop", "lr": 0.1},
              [[0.9, -1.9, 0.4], [0.9, -1.9, 0.28], [0.95, -1.95, 0.28]]),
    # sign SGD by hand, lr 0.1
    "sign_sgd": ({"name": "sign_sgd", "lr": 0.1},
                 [[0.9, -1.9, 0.4], [1.0, -2.0, 0.3], [1.1, -2.1, 0.4]]),
    # with weight decay 0.5: g + 0.5 p = (1, -2, 0.5), (0.15, -0.75, 0.6), (0.3, -0.3, -0.05)
    "sign_sgd_weight_decay": ({"name": "sign_sgd", "lr": 0.1, "weight_decay": 0.5},
                              [[0.9, -1.9, 0.4], [0.8, -1.8, 0.3], [0.7, -1.7, 0.4]]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_three_updates_match_hand_computation(case):
    spec, expected = CASES[case]
    got = run_engine(spec)
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)


def test_every_optimizer_has_a_case():
    assert {spec["name"] for spec, _ in CASES.values()} == set(OPTIMIZERS)


def test_step_uses_the_lr_it_is_given():
    lrs = [0.1, 0.05, 0.02]
    np.testing.assert_allclose(run_engine({"name": "sgd", "lr": 0.5}, lrs=lrs),
                               ref_sgd(None, lrs=lrs), rtol=TOL, atol=TOL)
    np.testing.assert_allclose(
        run_engine({"name": "adamw", "lr": 0.5, "weight_decay": 0.5}, lrs=lrs),
        ref_adam(None, weight_decay=0.5, decoupled=True, lrs=lrs), rtol=TOL, atol=TOL)


def test_adagrad_first_step_by_hand():
    # S = g^2, so each element moves by lr * g / (|g| + eps) ~ lr * sign(g)
    got = run_engine({"name": "adagrad", "lr": 0.1, "eps": 0.25}, grads=GRADS[:1])[0]
    expected = [1.0 - 0.1 * 0.5 / 0.75, -2.0 + 0.1 * 1.0 / 1.25, 0.5 - 0.1 * 0.25 / 0.5]
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)


def test_adam_first_step_by_hand():
    # m/bc1 = g and v/bc2 = g^2 after one step: p -= lr * g / (|g| + eps)
    got = run_engine({"name": "adam", "lr": 0.1, "eps": 0.25}, grads=GRADS[:1])[0]
    expected = [1.0 - 0.1 * 0.5 / 0.75, -2.0 + 0.1 * 1.0 / 1.25, 0.5 - 0.1 * 0.25 / 0.5]
    np.testing.assert_allclose(got, expected, rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------
# Rprop specifics
# ---------------------------------------------------------------------------

def test_rprop_ignores_lr_after_first_step():
    spec = {"name": "rprop", "lr": 0.1}
    np.testing.assert_allclose(run_engine(spec, lrs=[0.1, 5.0, 7.0]), CASES["rprop"][1],
                               rtol=TOL, atol=TOL)


def test_rprop_reset_takes_new_lr():
    opt = make_optimizer({"name": "rprop"}, 1, np.float64)
    p = np.array([0.0])
    opt.step(p, np.array([1.0]), 0.1)
    opt.reset()
    opt.step(p, np.array([1.0]), 0.2)
    assert p[0] == pytest.approx(-0.3, abs=TOL)


def test_rprop_clamps_step_sizes():
    # sizes: 0.1, 0.12 -> clamped 0.11, 0.132 -> 0.11; then a flip: 0.055, g zeroed
    spec = {"name": "rprop", "lr": 0.1, "step_sizes": [0.06, 0.11]}
    got = run_engine(spec, p0=[0.0], grads=[[1.0], [1.0], [1.0], [-1.0], [-1.0], [-1.0]])
    expected = [-0.1, -0.21, -0.32, -0.32, -0.26, -0.188]
    # step 5: prev 0 -> size stays 0.06 (0.055 clamped up to min 0.06 at step 4)
    # step 6: same sign -> 0.072
    np.testing.assert_allclose([h[0] for h in got], expected, rtol=TOL, atol=TOL)


def test_rprop_first_step_is_clamped_like_torch():
    got = run_engine({"name": "rprop", "lr": 1.0, "step_sizes": [1e-6, 0.5]},
                     p0=[0.0], grads=[[2.0]])
    assert got[0][0] == pytest.approx(-0.5, abs=TOL)


def test_zero_gradient_does_not_move_sign_based_optimizers():
    for name in ("rprop", "sign_sgd"):
        got = run_engine({"name": name, "lr": 0.1}, p0=[1.0, 2.0], grads=[[0.0, 0.0]])
        assert got == [[1.0, 2.0]]


# ---------------------------------------------------------------------------
# buffers: in place, dtype kept, grads untouched, no per-step allocation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(CASES))
def test_float32_in_place_and_views_see_update(case):
    spec, expected = CASES[case]
    opt = make_optimizer(spec, 3, np.float32)
    params = np.array(P0, dtype=np.float32)
    view = params[1:]
    assert np.shares_memory(view, params)
    buffer_id = id(params)
    for t, g in enumerate(GRADS):
        grads = np.array(g, dtype=np.float32)
        before = grads.copy()
        opt.step(params, grads, base_lr(spec))
        assert id(params) == buffer_id and params.dtype == np.float32
        np.testing.assert_array_equal(grads, before)  # grads are only read
        np.testing.assert_array_equal(view, params[1:])
        np.testing.assert_allclose(params, expected[t], rtol=1e-5, atol=1e-6)
    for value in vars(opt).values():
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            assert value.dtype == np.float32


@pytest.mark.parametrize("case", list(CASES))
def test_float64_grads_untouched(case):
    spec, _ = CASES[case]
    opt = make_optimizer(spec, 3, np.float64)
    p = np.array(P0)
    for g in GRADS:
        grads = np.array(g)
        opt.step(p, grads, base_lr(spec))
        assert grads.tolist() == g


@pytest.mark.parametrize("case", list(CASES))
def test_step_allocates_no_buffer_sized_memory(case):
    spec, _ = CASES[case]
    n = 100_000
    rng = np.random.default_rng(0)
    opt = make_optimizer(spec, n, np.float64)
    p = rng.standard_normal(n)
    g = rng.standard_normal(n)
    opt.step(p, g, 0.01)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for _ in range(3):
            opt.step(p, g, 0.01)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < n * 8 // 10, f"step allocated {peak} bytes"


def test_step_rejects_wrong_buffers():
    opt = make_optimizer({"name": "adam"}, 3, np.float64)
    with pytest.raises(ValueError):
        opt.step(np.zeros(4), np.zeros(4), 0.1)
    with pytest.raises(ValueError):
        opt.step(np.zeros(3, np.float32), np.zeros(3, np.float32), 0.1)


@pytest.mark.parametrize("case", list(CASES))
def test_reset_clears_state(case):
    spec, expected = CASES[case]
    opt = make_optimizer(spec, 3, np.float64)
    p = np.array(P0)
    for g in GRADS:
        opt.step(p, np.array(g), base_lr(spec))
    assert opt.t == 3
    opt.reset()
    assert opt.t == 0
    p = np.array(P0)
    history = []
    for g in GRADS:
        opt.step(p, np.array(g), base_lr(spec))
        history.append(p.tolist())
    np.testing.assert_allclose(history, expected, rtol=TOL, atol=TOL)


# ---------------------------------------------------------------------------
# defaults and hyperparameters
# ---------------------------------------------------------------------------

TORCH_DEFAULTS = {
    "sgd": {"lr": 1e-3, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False},
    "adagrad": {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "eps": 1e-10},
    "rmsprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0,
                "centered": False},
    "adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
             "amsgrad": False},
    "adamw": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2,
              "amsgrad": False},
    "rprop": {"lr": 1e-2, "etas": (0.5, 1.2), "step_sizes": (1e-6, 50.0)},
    "sign_sgd": {"lr": 1e-2, "weight_decay": 0.0},
}


def test_defaults_are_torchs():
    assert list(OPTIMIZERS) == ["sgd", "adagrad", "rmsprop", "adam", "adamw", "rprop", "sign_sgd"]
    assert DEFAULTS == TORCH_DEFAULTS


@pytest.mark.parametrize("name", list(TORCH_DEFAULTS))
def test_missing_keys_take_defaults(name):
    opt = make_optimizer({"name": name}, 3, "float64")
    assert opt.name == name
    assert opt.hyperparameters == TORCH_DEFAULTS[name]
    assert base_lr({"name": name}) == TORCH_DEFAULTS[name]["lr"]


def test_hyperparameters_are_normalised():
    opt = make_optimizer({"name": "adam", "lr": 1, "betas": [0.5, 0.75], "amsgrad": True}, 3,
                         np.float32)
    assert opt.hyperparameters == {"lr": 1.0, "betas": (0.5, 0.75), "eps": 1e-8,
                                   "weight_decay": 0.0, "amsgrad": True}
    assert base_lr({"name": "adam", "lr": 0.25}) == 0.25


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------

INVALID = [
    ({"name": "sgd", "momentum": -1}, "training.optimizer.momentum: must be >= 0, got -1"),
    ({"name": "sgd", "lr": 0}, "training.optimizer.lr: must be > 0"),
    ({"name": "sgd", "lr": -0.1}, "training.optimizer.lr: must be > 0"),
    ({"name": "sgd", "lr": "0.01"}, "training.optimizer.lr: must be a number"),
    ({"name": "sgd", "lr": True}, "training.optimizer.lr: must be a number"),
    ({"name": "sgd", "lr": None}, "training.optimizer.lr: must be a number"),
    ({"name": "sgd", "lr": float("nan")}, "training.optimizer.lr: must be a finite number"),
    ({"name": "sgd", "lr": float("inf")}, "training.optimizer.lr: must be a finite number"),
    ({"name": "sgd", "weight_decay": -1e-3}, "training.optimizer.weight_decay: must be >= 0"),
    ({"name": "sgd", "dampening": 1.5}, "training.optimizer.dampening"),
    ({"name": "sgd", "nesterov": True}, "training.optimizer.nesterov: Nesterov momentum requires"),
    ({"name": "sgd", "nesterov": True, "momentum": 0.9, "dampening": 0.1},
     "training.optimizer.nesterov: Nesterov momentum requires"),
    ({"name": "sgd", "nesterov": 1, "momentum": 0.9},
     "training.optimizer.nesterov: must be true or false"),
    ({"name": "sgd", "betas": [0.9, 0.99]},
     "training.optimizer.betas: unknown parameter for sgd; "
     "valid: name, lr, momentum, dampening, weight_decay, nesterov"),
    ({"name": "adam", "betas": [0.9, 1.0]}, "training.optimizer.betas[1]: must be in [0, 1)"),
    ({"name": "adam", "betas": [-0.1, 0.9]}, "training.optimizer.betas[0]: must be in [0, 1)"),
    ({"name": "adam", "betas": 0.9}, "training.optimizer.betas: must be a list of 2 numbers"),
    ({"name": "adam", "betas": [0.9]}, "training.optimizer.betas: must be a list of 2 numbers"),
    ({"name": "adam", "betas": [0.9, "x"]}, "training.optimizer.betas[1]: must be a number"),
    ({"name": "adam", "eps": 0}, "training.optimizer.eps: must be > 0"),
    ({"name": "adam", "amsgrad": "yes"}, "training.optimizer.amsgrad: must be true or false"),
    ({"name": "adam", "momentum": 0.9}, "training.optimizer.momentum: unknown parameter for adam"),
    ({"name": "adamw", "weight_decay": -1}, "training.optimizer.weight_decay: must be >= 0"),
    ({"name": "adagrad", "lr_decay": -1}, "training.optimizer.lr_decay: must be >= 0"),
    ({"name": "adagrad", "initial_accumulator_value": -1},
     "training.optimizer.initial_accumulator_value: must be >= 0"),
    ({"name": "adagrad", "eps": -1e-10}, "training.optimizer.eps: must be > 0"),
    ({"name": "rmsprop", "alpha": 1.0}, "training.optimizer.alpha: must be in [0, 1)"),
    ({"name": "rmsprop", "alpha": -0.1}, "training.optimizer.alpha: must be in [0, 1)"),
    ({"name": "rmsprop", "momentum": -0.5}, "training.optimizer.momentum: must be >= 0"),
    ({"name": "rmsprop", "centered": 0}, "training.optimizer.centered: must be true or false"),
    ({"name": "rprop", "etas": [1.0, 1.2]}, "training.optimizer.etas: must satisfy 0 < etaminus"),
    ({"name": "rprop", "etas": [0.5, 1.0]}, "training.optimizer.etas: must satisfy"),
    ({"name": "rprop", "etas": [0, 1.2]}, "training.optimizer.etas: must satisfy"),
    ({"name": "rprop", "etas": [0.5, True]}, "training.optimizer.etas[1]: must be a number"),
    ({"name": "rprop", "step_sizes": [1.0, 0.5]},
     "training.optimizer.step_sizes: must satisfy 0 <= min < max"),
    ({"name": "rprop", "step_sizes": [-1, 50]}, "training.optimizer.step_sizes: must satisfy"),
    ({"name": "rprop", "step_sizes": [1e-6]}, "training.optimizer.step_sizes: must be a list"),
    ({"name": "sign_sgd", "momentum": 0.9},
     "training.optimizer.momentum: unknown parameter for sign_sgd; valid: name, lr, weight_decay"),
    ({"name": "adamax"}, "training.optimizer.name: unknown optimizer 'adamax'; "
                         "valid: sgd, adagrad, rmsprop, adam, adamw, rprop, sign_sgd"),
    ({"name": 3}, "training.optimizer.name: unknown optimizer 3; valid: sgd"),
    ({"lr": 0.1}, "training.optimizer.name: missing; valid: sgd"),
    ("adam", "training.optimizer: must be an object"),
]


@pytest.mark.parametrize("spec, message", INVALID, ids=[m[:60] for _, m in INVALID])
def test_invalid_spec_names_the_field(spec, message):
    with pytest.raises(ConfigError) as err:
        make_optimizer(spec, 3, np.float64)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


def test_base_lr_validates():
    with pytest.raises(ConfigError, match=r"training\.optimizer\.lr"):
        base_lr({"name": "adam", "lr": -1})
    with pytest.raises(ConfigError, match=r"training\.optimizer\.name"):
        base_lr({"name": "nope"})


def test_bad_dtype():
    with pytest.raises(ConfigError, match="dtype"):
        make_optimizer({"name": "sgd"}, 3, np.int64)


# ---------------------------------------------------------------------------
# extra: torch.optim itself, when it happens to be installed
# ---------------------------------------------------------------------------

TORCH_CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
                 "adamw": "AdamW", "rprop": "Rprop"}


def test_against_torch_20_steps():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    n, steps = 7, 20
    for case, (spec, _) in CASES.items():
        if spec["name"] not in TORCH_CLASSES:
            continue
        hyper = {k: (tuple(v) if isinstance(v, list) else v)
                 for k, v in spec.items() if k != "name"}
        p0 = rng.standard_normal(n)
        grads = rng.standard_normal((steps, n))
        tp = torch.tensor(p0.copy(), dtype=torch.float64, requires_grad=True)
        topt = getattr(torch.optim, TORCH_CLASSES[spec["name"]])([tp], **hyper)
        opt = make_optimizer(spec, n, np.float64)
        p = p0.copy()
        for g in grads:
            tp.grad = torch.tensor(g, dtype=torch.float64)
            topt.step()
            opt.step(p, g.copy(), base_lr(spec))
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=case)
