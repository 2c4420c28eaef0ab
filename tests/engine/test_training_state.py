"""TrainingSession.state() / restore(): a training saved after N steps and restored into a
fresh session continues bit for bit as the one that was never interrupted.

The reference is always the same project trained without a break (an independent run
of the same engine); the comparison is np.array_equal on every weight, gradient,
optimiser buffer and the random streams, never a tolerance.
"""
from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

from engine.errors import ConfigError
from engine.optimizers import OPTIMIZERS, OptimizerState, make_optimizer
from playground.project import build_session
from tests.engine.test_session import circle, hidden_net, plane, project

# Every optimiser, with settings that allocate every buffer it can keep.
OPTIMIZER_SPECS = [
    {"name": "sgd", "lr": 0.05},
    {"name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3},
    {"name": "sgd", "lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    {"name": "adagrad", "lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    {"name": "rmsprop", "lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 1e-3},
    {"name": "adam", "lr": 0.01, "amsgrad": True},
    {"name": "adamw", "lr": 0.01},
    {"name": "rprop", "lr": 0.01},
    {"name": "sign_sgd", "lr": 0.01},
]


def test_the_specs_cover_every_optimizer():
    assert {spec["name"] for spec in OPTIMIZER_SPECS} == set(OPTIMIZERS)


def dropout_project(optimizer, *, batch_size=7, dtype="float64", schedule=None):
    """Shuffled batches (7 does not divide the 60 training rows), dropout, L2 and a
    warm-up schedule: every random stream and every counter matters."""
    p = project(circle(), hidden_net("relu", dropout=0.3, out_act="sigmoid"), loss="bce", optimizer=optimizer,
                batch_size=batch_size, shuffle=True, reg={"kind": "l2", "rate": 1e-3}, seed=3, dtype=dtype)
    return p.with_changes(training=dict(p.training, schedule=schedule or
                                        {"name": "cosine", "t_max": 40, "eta_min": 1e-4, "warmup": 5}))


def assert_same_training(a, b):
    """Two sessions whose next steps will be identical: every number that feeds them equal."""
    sa, sb = a.state(), b.state()
    assert (sa.step, sa.epoch, sa.cursor, sa.batch_loss) == (sb.step, sb.epoch, sb.cursor, sb.batch_loss)
    assert sa.divergence == sb.divergence
    for name in sa.weights:
        assert np.array_equal(sa.weights[name], sb.weights[name]), name
    assert np.array_equal(sa.grads, sb.grads)
    assert (sa.undo is None) == (sb.undo is None)
    if sa.undo is not None:
        assert np.array_equal(sa.undo, sb.undo)
    assert sa.optimizer.t == sb.optimizer.t and set(sa.optimizer.buffers) == set(sb.optimizer.buffers)
    for key in sa.optimizer.buffers:
        assert np.array_equal(sa.optimizer.buffers[key], sb.optimizer.buffers[key], equal_nan=True), key
    assert sa.random == sb.random
    assert np.array_equal(a._order, b._order)


def restored(p, state):
    """A fresh session of ``p`` (its own initial weights drawn) that takes over ``state``
    after a trip through pickle, as between the engine and the GUI process."""
    fresh = build_session(p)
    fresh.restore(pickle.loads(pickle.dumps(state)))
    return fresh


@pytest.mark.parametrize("optimizer", OPTIMIZER_SPECS, ids=lambda s: "-".join(f"{v}" for v in s.values()))
@pytest.mark.parametrize("n", [23, 26])          # mid-pass, and just after a pass ended (26 = 3 passes of 9 - 1)
def test_restore_continues_bit_for_bit(optimizer, n):
    p = dropout_project(optimizer)
    never_closed = build_session(p)
    never_closed.step(n)
    state = never_closed.state()
    reopened = restored(p, state)
    assert_same_training(never_closed, reopened)
    assert never_closed.step(31) == reopened.step(31) == 31
    assert_same_training(never_closed, reopened)
    assert never_closed.lr == reopened.lr
    for name, tensor in never_closed.weights().items():
        assert np.array_equal(tensor, reopened.weights()[name])


def test_restore_mid_epoch_keeps_the_passes_permutation_and_epoch_calls():
    p = dropout_project({"name": "adam", "lr": 0.01})
    a = build_session(p)
    a.step(4)                                   # 4 of the 9 batches of this pass
    b = restored(p, a.state())
    assert b._cursor == 28 and np.array_equal(a._order, b._order)
    assert a.epoch() == b.epoch() == 5          # the rest of the pass, then a new permutation
    assert a.epoch_count == b.epoch_count == 1
    assert_same_training(a, b)


def test_float32_training_restores_bit_for_bit():
    p = dropout_project({"name": "adam", "lr": 0.01}, dtype="float32")
    a = build_session(p)
    a.step(17)
    b = restored(p, a.state())
    assert b.network.params.dtype == np.float32
    a.step(20)
    b.step(20)
    assert_same_training(a, b)


def test_full_batch_and_unshuffled_training_restore():
    for shuffle, batch in ((False, 7), (True, "full")):
        p = dropout_project({"name": "rmsprop", "lr": 0.01})
        p = p.with_changes(training=dict(p.training, shuffle=shuffle, batch_size=batch))
        a = build_session(p)
        a.step(12)
        b = restored(p, a.state())
        a.step(15)
        b.step(15)
        assert_same_training(a, b)


def test_an_optimizer_switched_mid_training_keeps_its_own_update_count():
    p = dropout_project({"name": "sgd", "lr": 0.05, "momentum": 0.9})
    a = build_session(p)
    a.step(10)
    a.set_optimizer({"name": "adam", "lr": 0.01}, a.schedule_spec)
    a.step(6)
    assert (a.step_count, a.optimizer.t) == (16, 6)       # the bias correction counts from the switch
    # The project saved with the state says what the session now runs.
    p2 = p.with_changes(training=dict(p.training, optimizer={"name": "adam", "lr": 0.01}))
    b = restored(p2, a.state())
    assert b.optimizer.t == 6
    a.step(9)
    b.step(9)
    assert_same_training(a, b)


def test_reset_after_restore_draws_the_same_new_weights():
    p = dropout_project({"name": "adam", "lr": 0.01})
    a = build_session(p)
    a.step(5)
    b = restored(p, a.state())
    a.reset()
    b.reset()
    assert_same_training(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_restore_just_before_a_divergence_rolls_back_as_the_uninterrupted_run():
    p = project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6, "momentum": 0.5}, batch_size=10)
    reference = build_session(p)
    reference.step(100)
    assert reference.divergence is not None
    undo_mattered = False
    for n in range(reference.divergence.step + 1):
        a = build_session(p)
        a.step(n)
        state = a.state()
        b = restored(p, state)
        a.step(100)
        b.step(100)
        assert_same_training(a, b)
        assert_same_training(reference, b)
        if state.undo is not None:
            # Without the undo copy the rollback could not reach the weights before the last update.
            c = restored(p, dataclasses.replace(state, undo=None))
            c.step(100)
            undo_mattered |= not np.array_equal(c.network.params, b.network.params)
    assert undo_mattered, "no break point exercised the two-step rollback"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_diverged_state_restores_diverged():
    p = project(plane(), hidden_net("linear"), optimizer={"name": "sgd", "lr": 1e6, "momentum": 0.5}, batch_size=10)
    a = build_session(p)
    a.step(1000)
    assert a.divergence is not None
    b = restored(p, a.state())
    assert b.divergence == a.divergence and b.step(5) == 0
    assert_same_training(a, b)
    b.set_learning_rate(1e-3)                   # the way out is the same as before saving
    a.set_learning_rate(1e-3)
    assert a.divergence is None and b.divergence is None


# ---------------------------------------------------------------------------
# a state that does not fit is refused, naming what differs, and changes nothing
# ---------------------------------------------------------------------------

@pytest.fixture
def saved():
    p = dropout_project({"name": "adam", "lr": 0.01})
    a = build_session(p)
    a.step(9)
    return p, a.state()


def _refused(p, state, match):
    s = build_session(p)
    before = s.state()
    with pytest.raises(ConfigError, match=match):
        s.restore(state)
    assert_same_training_state(before, s.state())


def assert_same_training_state(sa, sb):
    assert sa.step == sb.step and sa.random == sb.random and sa.optimizer.t == sb.optimizer.t
    for name in sa.weights:
        assert np.array_equal(sa.weights[name], sb.weights[name])
    for key in sa.optimizer.buffers:
        assert np.array_equal(sa.optimizer.buffers[key], sb.optimizer.buffers[key])


def test_a_state_for_another_network_names_the_tensor(saved):
    p, state = saved
    wider = copy.deepcopy(p.document["network"])
    wider["nodes"][1]["units"] = 7
    _refused(p.with_changes(network=wider), state, r"'grads' is \[\d+\] float64, this network needs")
    weights = dict(state.weights, **{"h.weight": np.zeros((7, 2))})
    _refused(p, dataclasses.replace(state, weights=weights), r"tensor 'h.weight' has shape \[7, 2\], the network "
                                                            r"needs \[6, 2\]")


def test_a_state_for_other_data_or_dtype_is_refused(saved):
    p, state = saved
    _refused(p, dataclasses.replace(state, n_train=61), "trained on 61 training rows, this data has 60")
    _refused(p, dataclasses.replace(state, input_width=3), "trained on 3 input features, this data has 2")
    _refused(p, dataclasses.replace(state, dtype="float32"), "saved in float32, this network trains in float64")
    _refused(p, dataclasses.replace(state, cursor=60), r"cursor: must be in \[0, 60\)")


def test_an_optimizer_state_of_another_kind_is_refused(saved):
    p, state = saved
    _refused(p, dataclasses.replace(state, optimizer=OptimizerState("sgd", 9, {})),
             "saved for the 'sgd' optimizer, this training uses 'adam'")
    missing = {"exp_avg": state.optimizer.buffers["exp_avg"]}
    _refused(p, dataclasses.replace(state, optimizer=OptimizerState("adam", 9, missing)),
             "buffer 'exp_avg_sq' is missing")
    extra = dict(state.optimizer.buffers, max_exp_avg_sq=state.optimizer.buffers["exp_avg"])
    _refused(p, dataclasses.replace(state, optimizer=OptimizerState("adam", 9, extra)),
             "buffer 'max_exp_avg_sq' is not used by adam with these settings")
    nan = dict(state.optimizer.buffers, exp_avg=np.full_like(state.optimizer.buffers["exp_avg"], np.nan))
    _refused(p, dataclasses.replace(state, optimizer=OptimizerState("adam", 9, nan)), "holds NaN")


def test_bad_random_states_and_weights_are_refused_whole(saved):
    p, state = saved
    bad = copy.deepcopy(state.random)
    bad["dropout"]["state"] = "0xzz"
    _refused(p, dataclasses.replace(state, random=bad), r"random.dropout.state: '0xzz' is not a hex number")
    bad = copy.deepcopy(state.random)
    bad["order"]["bit_generator"] = "MT19937"
    _refused(p, dataclasses.replace(state, random=bad), "random.order.bit_generator: must be 'PCG64'")
    nan_weights = dict(state.weights, **{"out.bias": np.array([np.nan])})
    # The weights are checked after the optimiser's buffers: the buffers must not stay changed.
    _refused(p, dataclasses.replace(state, weights=nan_weights), "tensor 'out.bias' holds NaN")


def test_optimizer_state_round_trip_for_each_optimizer():
    rng = np.random.default_rng(0)
    for spec in OPTIMIZER_SPECS:
        a, b = make_optimizer(spec, 5, np.float64), make_optimizer(spec, 5, np.float64)
        p, q = rng.normal(size=5), None
        for _ in range(3):
            a.step(p, rng.normal(size=5), spec["lr"])
        b.load_state(a.state())
        q = p.copy()
        g = rng.normal(size=5)
        a.step(p, g, 0.01)
        b.step(q, g, 0.01)
        assert np.array_equal(p, q), spec
        assert a.state().buffers.keys() == b.state().buffers.keys()
