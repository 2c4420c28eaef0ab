"""A training session: the network, its data, loss, optimiser and schedule, stepped.

``step(n)`` runs n optimiser updates on mini-batches, ``epoch()`` finishes the
current pass over the training rows, ``evaluate()`` measures the full train and
test sets, and ``snapshot()`` returns an immutable copy of everything a plot needs.
Everything random (initial weights, batch order, dropout masks) comes from
generators seeded by ``seed``, so a session is reproducible.

A step whose loss or weights stop being finite is undone: the weights from before
the step are put back, ``divergence`` records which step failed, and further steps
do nothing until ``reset()``.

``state()`` returns a ``TrainingState``: everything the next steps depend on
(weights, gradients, the undo copy, optimiser memory, step and epoch counts, the
position in the shuffled pass and the state of every random stream).
``restore(state)`` on a session built from the same project continues exactly
where the saved one stopped: its next steps are bit for bit those the saved
session would have taken.  The learning-rate schedule is a function of the step
count alone, so restoring the count restores its position.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .data import Dataset
from .losses import LossHead
from .io.weights import assign_tensors
from .network import Network
from .errors import ConfigError
from .optimizers import Optimizer, OptimizerState, make_optimizer
from .schedules import make_schedule
from .validate import number

# The session's random streams, each a numpy PCG64 generator seeded by [seed, k].
RANDOM_STREAMS = ("init", "order", "dropout")
_HEX_128 = 34                  # "0x" and at most 32 hex digits: a 128-bit PCG64 word


@dataclass(frozen=True)
class Regularization:
    """Penalty on dense weights (never biases): rate*sum|w| (l1) or rate/2*sum w^2 (l2)."""

    kind: str = "none"
    rate: float = 0.0

    def penalty(self, weights: np.ndarray) -> float:
        if self.kind == "l1":
            return self.rate * float(np.abs(weights).sum())
        if self.kind == "l2":
            return 0.5 * self.rate * float(weights @ weights)
        return 0.0

    def add_gradient(self, weights: np.ndarray, weight_grads: np.ndarray) -> None:
        if self.kind == "l1" and self.rate:
            weight_grads += self.rate * np.sign(weights)
        elif self.kind == "l2" and self.rate:
            weight_grads += self.rate * weights


@dataclass(frozen=True)
class Evaluation:
    """Data loss (no regularisation) and accuracy on the full train and test sets."""

    step: int
    train_loss: float
    test_loss: float | None
    train_accuracy: float | None
    test_accuracy: float | None


@dataclass(frozen=True)
class Divergence:
    step: int
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """An immutable copy of a session's state at one step (arrays are read-only)."""

    step: int
    epoch: int
    lr: float
    batch_loss: float | None
    weights: Mapping[str, np.ndarray]
    gradients: Mapping[str, np.ndarray]
    grad_norms: Mapping[str, float]        # per dense node: ||dL/dW|| of its weight matrix
    evaluation: Evaluation | None
    divergence: Divergence | None


@dataclass(frozen=True, eq=False)
class TrainingState:
    """A session's complete training state (copies; plain data, picklable).

    ``random`` holds each stream's generator state as JSON-ready values (128-bit
    words as hex strings); the ``order`` stream is saved as it was at the start of
    the current pass, so restoring redraws that pass's permutation and then goes
    on from ``cursor``.  ``undo`` is the weights before the last update (what a
    divergence on the next step rolls back to), None when no update is undoable.
    ``dtype``, ``input_width`` and ``n_train`` identify the network and data the
    state belongs to.  Not saved, because nothing later depends on them: the last
    evaluation (``evaluate()`` recomputes it) and the activations cached by the last
    forward pass (every step and evaluation recomputes them).
    """

    step: int
    epoch: int
    weights: dict[str, np.ndarray]      # "<node>.weight" / "<node>.bias", as network.tensors
    grads: np.ndarray                   # flat, the layout of network.grads
    undo: np.ndarray | None             # flat, the layout of network.params
    optimizer: OptimizerState
    random: dict[str, dict]             # RANDOM_STREAMS -> generator state
    cursor: int                         # rows of the current pass already trained on
    batch_loss: float | None
    divergence: Divergence | None
    dtype: str
    input_width: int
    n_train: int


def _generator_state(state: dict) -> dict:
    """numpy's PCG64 state dict as JSON-ready values."""
    words = state["state"]
    return {"bit_generator": state["bit_generator"], "state": hex(words["state"]), "inc": hex(words["inc"]),
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


def _word(where: str, value) -> int:
    if not (isinstance(value, str) and 2 < len(value) <= _HEX_128 and value.startswith("0x")):
        raise ConfigError(f"{where}: must be a hex string like '0x1f' of at most 128 bits")
    try:
        return int(value[2:], 16)
    except ValueError:
        raise ConfigError(f"{where}: {value[:_HEX_128]!r} is not a hex number") from None


def check_random_state(where: str, saved) -> dict:
    """The numpy PCG64 state dict for a saved stream (see ``TrainingState.random``),
    every field checked; ConfigError names the field."""
    if not isinstance(saved, Mapping):
        raise ConfigError(f"{where}: must be an object")
    if saved.get("bit_generator") != "PCG64":
        raise ConfigError(f"{where}.bit_generator: must be 'PCG64', got {str(saved.get('bit_generator'))[:40]!r}")
    return {"bit_generator": "PCG64",
            "state": {"state": _word(f"{where}.state", saved.get("state")),
                      "inc": _word(f"{where}.inc", saved.get("inc"))},
            "has_uint32": number(f"{where}.has_uint32", saved.get("has_uint32"), integer=True, low=0, high=1),
            "uinteger": number(f"{where}.uinteger", saved.get("uinteger"), integer=True, low=0, high=2**32 - 1)}


def _checked_streams(random, source: str) -> dict:
    """numpy states for every stream of ``TrainingState.random``, checked."""
    if not isinstance(random, Mapping):
        raise ConfigError(f"{source}: random must map {', '.join(RANDOM_STREAMS)} to generator states")
    unknown = sorted(map(str, set(random) - set(RANDOM_STREAMS)))
    if unknown:
        raise ConfigError(f"{source}: unknown random stream {unknown[0][:40]!r}; streams: {', '.join(RANDOM_STREAMS)}")
    return {name: check_random_state(f"{source}: random.{name}", random.get(name)) for name in RANDOM_STREAMS}


class TrainingSession:
    def __init__(self, network: Network, dataset: Dataset, head: LossHead, optimizer_spec: dict,
                 schedule_spec: dict | None = None, *, batch_size: int | str = 10, shuffle: bool = True,
                 regularization: Regularization = Regularization(), seed: int = 0):
        self.network = network
        self.dataset = dataset
        self.head = head
        self.regularization = regularization
        self.shuffle = shuffle
        dtype = network.dtype
        self.X_train = np.ascontiguousarray(dataset.X_train, dtype=dtype)
        self.X_test = np.ascontiguousarray(dataset.X_test, dtype=dtype)
        self.y_train = head.encode_targets(dataset.y_train, dataset.task, dtype)
        self.y_test = head.encode_targets(dataset.y_test, dataset.task, dtype)
        n_train = len(self.X_train)
        self.batch_size = n_train if batch_size == "full" else min(int(batch_size), n_train)
        self._init_rng = np.random.default_rng([seed, 2])
        self._order_rng = np.random.default_rng([seed, 3])
        self._dropout_rng = np.random.default_rng([seed, 4])
        # Weights before the current and before the previous update: a divergence
        # rolls back to the last ones whose loss was finite.
        self._backups = (np.empty_like(network.params), np.empty_like(network.params))
        self._previous_kept = False
        self.set_optimizer(optimizer_spec, schedule_spec)
        self.reset()

    # -- configuration -------------------------------------------------------------
    def set_optimizer(self, optimizer_spec: dict, schedule_spec: dict | None = None) -> None:
        """Swap the optimiser (fresh state) and schedule, keeping weights and step count.

        It also clears a divergence: training resumes from the last finite weights with
        the new settings (typically a smaller learning rate).
        """
        self.divergence: Divergence | None = None
        self._previous_kept = False
        self.optimizer_spec = dict(optimizer_spec)
        self.schedule_spec = None if schedule_spec is None else dict(schedule_spec)
        self.optimizer: Optimizer = make_optimizer(self.optimizer_spec, self.network.params.size, self.network.dtype)
        self.schedule = make_schedule(self.schedule_spec, self.optimizer.hyperparameters["lr"])

    def set_learning_rate(self, lr: float) -> None:
        """A new base learning rate for the schedule; the optimiser keeps its state
        (momentum, moments), as when a torch param_group's lr is changed.

        After a divergence the optimiser's state holds the failed update's non-finite
        values, so it starts afresh and training may resume from the last finite weights.
        """
        spec = dict(self.optimizer_spec, lr=lr)
        make_optimizer(spec, 1, self.network.dtype)      # checks the value
        self.optimizer_spec = spec
        self.schedule = make_schedule(self.schedule_spec, lr)
        if self.divergence is not None:
            self.set_optimizer(spec, self.schedule_spec)

    def set_schedule(self, schedule_spec: dict | None) -> None:
        """A new learning-rate schedule from the current base rate, optimiser state kept."""
        self.schedule = make_schedule(schedule_spec, self.optimizer_spec.get("lr", self.optimizer.lr))
        self.schedule_spec = None if schedule_spec is None else dict(schedule_spec)

    def reset(self) -> None:
        """New initial weights (the next draw of the seeded sequence), step 0, fresh optimiser state."""
        self.network.initialize(self._init_rng)
        self.network.grads[...] = 0.0
        self._previous_kept = False
        self.optimizer.reset()
        self.step_count = 0
        self.epoch_count = 0
        self.batch_loss: float | None = None
        self.last_evaluation: Evaluation | None = None
        self.divergence = None
        self._start_pass()

    def _start_pass(self) -> None:
        n = len(self.X_train)
        # Where the order stream stood before this pass's permutation: a saved state
        # redraws it from here instead of storing the permutation.
        self._pass_start = self._order_rng.bit_generator.state if self.shuffle else None
        self._order = self._order_rng.permutation(n) if self.shuffle else np.arange(n)
        self._cursor = 0

    # -- training --------------------------------------------------------------------
    @property
    def lr(self) -> float:
        return float(self.schedule(self.step_count))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.X_train) / self.batch_size)

    def step(self, n: int = 1) -> int:
        """Run up to ``n`` updates; returns how many ran (fewer if training diverged)."""
        # Overflow on the way to a divergence is expected and handled below (the
        # update is undone and reported), so NumPy need not warn about it.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._step(n)

    def _step(self, n: int) -> int:
        net, params = self.network, self.network.params
        regularize = self.regularization.kind != "none" and self.regularization.rate > 0
        done = 0
        while done < n and self.divergence is None:
            if self.batch_size >= len(self._order):
                Xb, yb = self.X_train, self.y_train   # full batch: row order does not change the mean
            else:
                rows = self._order[self._cursor:self._cursor + self.batch_size]
                Xb, yb = self.X_train[rows], self.y_train[rows]
            self._cursor += self.batch_size
            before_previous, before_this = self._backups
            np.copyto(before_this, params)
            out = net.forward(Xb, training=True, rng=self._dropout_rng)
            loss, grad = self.head.value_and_grad(net.output_pre_activation, out, yb)
            if not math.isfinite(loss):
                # The weights the previous update produced already give an infinite
                # loss: undo that update too, back to weights whose loss was finite.
                if self._previous_kept:
                    np.copyto(params, before_previous)
                    self.step_count -= 1
                    done -= 1
                self._diverge("the loss")
                break
            net.backward(grad, self.head.wrt_logits)
            if regularize:
                self.regularization.add_gradient(net.weights_view, net.weight_grads_view)
            self.optimizer.step(params, net.grads, self.schedule(self.step_count))
            # Summed in float64 so a float32 sum of finite weights cannot overflow.
            if not math.isfinite(params.sum(dtype=np.float64)):
                np.copyto(params, before_this)
                self._diverge("a weight")
                break
            self._backups = (before_this, before_previous)
            self._previous_kept = True
            self.step_count += 1
            done += 1
            self.batch_loss = loss
            if self._cursor >= len(self._order):
                self.epoch_count += 1
                self._start_pass()
        return done

    def _diverge(self, what: str) -> None:
        failed = self.step_count + 1
        self.divergence = Divergence(failed, f"{what} became NaN or infinite at step {failed}")
        self._previous_kept = False

    def epoch(self) -> int:
        """Finish the current pass over the training rows (a whole pass if at its start)."""
        remaining = len(self._order) - self._cursor
        return self.step(max(1, math.ceil(remaining / self.batch_size)))

    # -- measuring -------------------------------------------------------------------
    def _loss_and_accuracy(self, X, y) -> tuple[float | None, float | None]:
        if len(X) == 0:
            return None, None
        out = self.network.forward(X, training=False)
        loss = self.head.value(self.network.output_pre_activation, out, y)
        if self.dataset.task != "classification":
            return loss, None
        labels = y if self.head.targets_are_indices else (
            y[:, 0].astype(np.int64) if y.shape[1] == 1 else np.argmax(y, axis=1))
        return loss, float(np.mean(self.head.predict_classes(out) == labels))

    def evaluate(self) -> Evaluation:
        with np.errstate(over="ignore", invalid="ignore"):
            return self._evaluate()

    def _evaluate(self) -> Evaluation:
        train_loss, train_acc = self._loss_and_accuracy(self.X_train, self.y_train)
        test_loss, test_acc = self._loss_and_accuracy(self.X_test, self.y_test)
        self.last_evaluation = Evaluation(self.step_count, train_loss, test_loss, train_acc, test_acc)
        return self.last_evaluation

    def objective(self) -> float:
        """Training-set data loss plus the regularisation penalty: what the gradient descends."""
        out = self.network.forward(self.X_train, training=False)
        return self.head.value(self.network.output_pre_activation, out, self.y_train) + \
            self.regularization.penalty(self.network.weights_view)

    def snapshot(self) -> Snapshot:
        net = self.network
        params, grads = net.params.copy(), net.grads.copy()
        params.flags.writeable = False
        grads.flags.writeable = False
        gradients = MappingProxyType(net.tensor_views(grads))
        norms = {s.node.id: float(np.linalg.norm(gradients[f"{s.node.id}.weight"])) for s in net.plan.dense_steps}
        return Snapshot(self.step_count, self.epoch_count, self.lr, self.batch_loss,
                        MappingProxyType(net.tensor_views(params)), gradients,
                        MappingProxyType(norms), self.last_evaluation, self.divergence)

    # -- weights ---------------------------------------------------------------------
    def weights(self) -> dict[str, np.ndarray]:
        return {name: t.copy() for name, t in self.network.tensors.items()}

    def load_weights(self, tensors: Mapping[str, np.ndarray], source: str = "weights") -> None:
        """Replace the weights (all or nothing); the optimiser starts afresh from them.

        The step count stays; a divergence is cleared, since the new weights are finite.
        """
        assign_tensors(self.network, tensors, source)
        self._previous_kept = False
        self.optimizer.reset()
        self.divergence = None

    # -- saving and restoring --------------------------------------------------------
    def state(self) -> TrainingState:
        """Everything needed to continue this training bit for bit (copies)."""
        net = self.network
        streams = {"init": self._init_rng, "order": self._order_rng, "dropout": self._dropout_rng}
        random = {name: _generator_state(rng.bit_generator.state) for name, rng in streams.items()}
        if self._pass_start is not None:
            random["order"] = _generator_state(self._pass_start)
        return TrainingState(
            step=self.step_count, epoch=self.epoch_count, weights=self.weights(), grads=net.grads.copy(),
            undo=self._backups[0].copy() if self._previous_kept else None, optimizer=self.optimizer.state(),
            random=random, cursor=self._cursor,
            batch_loss=None if self.batch_loss is None else float(self.batch_loss),
            divergence=self.divergence, dtype=net.dtype.name, input_width=net.plan.input_width,
            n_train=len(self.X_train))

    def restore(self, state: TrainingState, source: str = "saved training state") -> None:
        """Continue from ``state`` (see ``state()``), all or nothing.

        The session must have been built from the same project: the network's
        tensors, the dtype, the number of features and training rows, and the
        optimiser's buffers must match, or ConfigError names what differs.  The
        session's own optimiser hyperparameters and schedule are kept (as after
        ``set_learning_rate``); the project that built it is the one saved with the
        state, so they are the saved ones.
        """
        self._check_fits(state, source)
        counters = self._checked_counters(state, source)
        self._check_flat_arrays(state, source)
        generators = _checked_streams(state.random, source)
        # The optimiser's buffers, then the weights: each copies only when all of it is well.
        backup = self.optimizer.state()
        self.optimizer.load_state(state.optimizer, allow_nonfinite=state.divergence is not None)
        try:
            assign_tensors(self.network, state.weights, source)
        except ConfigError:
            self.optimizer.load_state(backup, allow_nonfinite=True)
            raise
        self._commit(state, counters, generators)

    def _check_fits(self, state: TrainingState, source: str) -> None:
        """The state was trained in this dtype, on this many features and training rows."""
        net, n_train = self.network, len(self.X_train)
        if state.dtype != net.dtype.name:
            raise ConfigError(f"{source}: saved in {state.dtype}, this network trains in {net.dtype.name}")
        if state.input_width != net.plan.input_width:
            raise ConfigError(f"{source}: trained on {state.input_width} input features, "
                              f"this data has {net.plan.input_width}")
        if state.n_train != n_train:
            raise ConfigError(f"{source}: trained on {state.n_train} training rows, this data has {n_train}")

    def _checked_counters(self, state: TrainingState, source: str) -> dict:
        if state.divergence is not None and not (isinstance(state.divergence, Divergence)
                                                 and isinstance(state.divergence.reason, str)):
            raise ConfigError(f"{source}: divergence must be a Divergence")
        return {"step": number(f"{source}: step", state.step, integer=True, low=0, high=2**62),
                "epoch": number(f"{source}: epoch", state.epoch, integer=True, low=0, high=2**62),
                "cursor": number(f"{source}: cursor", state.cursor, integer=True, low=0, high=len(self.X_train),
                                 high_open=True),
                "batch_loss": None if state.batch_loss is None else number(f"{source}: batch_loss", state.batch_loss)}

    def _check_flat_arrays(self, state: TrainingState, source: str) -> None:
        params = self.network.params
        flat = {"grads": state.grads} if state.undo is None else {"grads": state.grads, "undo": state.undo}
        for name, array in flat.items():
            if not (isinstance(array, np.ndarray) and array.shape == params.shape and array.dtype == params.dtype):
                got = f"{list(array.shape)} {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
                raise ConfigError(f"{source}: '{name}' is {got}, this network needs {list(params.shape)} "
                                  f"{params.dtype.name}")
            # The undo copy is always finite weights; gradients are not after a divergence.
            if (name == "undo" or state.divergence is None) and not np.all(np.isfinite(array)):
                raise ConfigError(f"{source}: '{name}' holds NaN or infinite values")

    def _commit(self, state: TrainingState, counters: dict, generators: dict) -> None:
        """The checked state takes effect (nothing here can fail)."""
        np.copyto(self.network.grads, state.grads)
        self._previous_kept = state.undo is not None
        if self._previous_kept:
            np.copyto(self._backups[0], state.undo)
        self.step_count, self.epoch_count = counters["step"], counters["epoch"]
        self.batch_loss, self.divergence = counters["batch_loss"], state.divergence
        self.last_evaluation = None
        self._init_rng.bit_generator.state = generators["init"]
        self._dropout_rng.bit_generator.state = generators["dropout"]
        self._order_rng.bit_generator.state = generators["order"]
        self._start_pass()                      # redraws the saved pass's order
        self._cursor = counters["cursor"]
