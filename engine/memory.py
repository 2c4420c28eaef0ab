"""How much memory training a network takes, known before anything large is allocated.

The estimate follows what the engine really keeps (engine/network.py,
engine/session.py, engine/optimizers.py), so that a run that cannot fit is refused
with a clear message instead of failing half-way with an allocation error:

* **Parameters**: the weights, their gradients, two rollback copies (divergence
  undo), every state buffer of the chosen optimiser, and two more copies for a
  snapshot or a save (``session.weights()``, frames sent to the app).
* **Pre-activation buffers**: each dense node keeps one [rows, units] buffer per
  batch size it has seen, for ever: the training batch, the last partial batch, the
  whole training set and the whole test set (evaluation), and any other pass the
  caller makes (the app's input-plane grid).
* **Working arrays**, the larger of a training step (every node's output and its
  gradient for one batch, plus the temporaries of the widest node's activation)
  and an evaluation (every node's output for a whole data set, the previous pass's
  outputs still held while the new ones are computed, and the loss's temporaries),
  plus a fixed allowance for OpenBLAS's work buffers and the interpreter.

Measured against peak RSS in bench runs the estimate is within about 10% for
parameter-bound networks and errs on the high side (up to ~1.4x) for
activation-bound ones, never low.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from .errors import ConfigError
from .graph import Plan
from .optimizers import make_optimizer

# Full-size temporaries an activation allocates beyond its result (forward) and
# beside the node's output (forward) and, backward, the slope and dL/dz together,
# read off engine/activations.py: gelu's forward holds z / sqrt 2 and erf(...)
# while it builds 0.5 z (1 + erf); tanh's backward holds 1 - a * a (NumPy reuses
# the a * a temporary) and dL/dz = g * (1 - a * a); and so on.
# A boolean mask counts 1/4 (its size next to float32 values); leaky_relu's slope is
# built in float64 whatever the network's dtype.
FORWARD_TEMPORARIES = {"linear": 0, "sigmoid": 0, "tanh": 0, "relu": 0, "leaky_relu": 1.25, "elu": 1.25,
                       "softplus": 0, "gelu": 2, "silu": 1, "softmax": 2}
BACKWARD_TEMPORARIES = {"linear": 0, "sigmoid": 2, "tanh": 2, "relu": 2.25, "leaky_relu": 4.25, "elu": 3.25,
                        "softplus": 2, "gelu": 4, "silu": 3, "softmax": 2}
PARAMETER_COPIES = 4 + 2        # values, gradients, two rollback copies + snapshot/save copies
LOSS_TEMPORARIES = 4            # the loss and accuracy over one data set, per output column
DEFAULT_OPTIMIZER = {"name": "sgd"}
# OpenBLAS's per-thread buffers (allocated on the first matmul) and the interpreter's
# own growth while training (modules imported late, small arrays, allocator slack).
FIXED_OVERHEAD = 96 * 2**20


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed to train, in three parts (see the module docstring)."""

    parameters: int
    buffers: int
    working: int

    @property
    def total(self) -> int:
        return self.parameters + self.buffers + self.working


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable), or physical memory if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError, AttributeError):
        return 2**63 - 1     # unknown (not Linux, not POSIX): do not refuse on a guess


def batch_rows(batch_size: int | str, n_train: int) -> int:
    """Rows in one training batch: a batch beyond the data is one full batch (as the session does)."""
    if batch_size == "full":
        return n_train
    return max(1, min(int(batch_size), n_train))


def optimizer_copies(optimizer_spec: Mapping | None, dtype) -> float:
    """Parameter-sized state buffers the optimiser allocates, in units of one parameter copy.

    Built at size 0, the optimiser shows its buffers without allocating them, so
    this stays right when an optimiser gains or loses a buffer.
    """
    optimizer = make_optimizer(dict(optimizer_spec or DEFAULT_OPTIMIZER), 0, dtype)
    itemsize = np.dtype(dtype).itemsize
    return sum(value.dtype.itemsize / itemsize for value in vars(optimizer).values()
               if isinstance(value, np.ndarray))


def _transfer(step) -> str | None:
    return step.node.activation if step.node.type in ("dense", "activation") else None


def _temporaries(plan: Plan, table: Mapping[str, float]) -> float:
    """Columns of the worst node's temporaries: width x temporaries, maximised over nodes."""
    return max((step.width * table.get(_transfer(step), 0) for step in plan.steps if _transfer(step)), default=0)


def training_memory(plan: Plan, dtype, n_train: int, n_test: int, batch_size: int | str,
                    optimizer_spec: Mapping | None = None, extra_rows: Iterable[int] = ()) -> MemoryEstimate:
    """Peak bytes that training ``plan`` on ``n_train`` rows (evaluated on train and test) holds.

    ``batch_size`` is the project's (an integer or "full"; clamped to the training
    rows), ``extra_rows`` the sizes of any other forward passes the caller makes.
    """
    itemsize = np.dtype(dtype).itemsize
    batch = batch_rows(batch_size, n_train)
    parameters = plan.n_params * itemsize * (PARAMETER_COPIES + optimizer_copies(optimizer_spec, dtype))

    # Dense nodes keep a pre-activation buffer per distinct number of rows (network.py).
    pass_rows = {batch, n_train % batch, n_train, n_test, *extra_rows} - {0}
    dense_width = sum(s.width for s in plan.dense_steps)
    buffers = itemsize * dense_width * sum(pass_rows)

    node_width = sum(s.width for s in plan.steps if s.node.type != "input")
    widest = max((s.width for s in plan.steps), default=0)
    forward_extra = _temporaries(plan, FORWARD_TEMPORARIES)
    backward_extra = _temporaries(plan, BACKWARD_TEMPORARIES)
    # While a pass runs node by node, the nodes not reached yet still hold the previous
    # pass's outputs: at most the larger pass's outputs plus the smaller one's widest node.
    largest, second = sorted([batch, n_train, n_test, *extra_rows], reverse=True)[:2]
    evaluation = largest * (node_width + forward_extra + LOSS_TEMPORARIES * plan.output_width) + second * widest
    # Backward keeps every node's output and every gradient of the batch until it ends;
    # the forward half of a step is an evaluation on fewer rows.
    step = batch * (2 * node_width + backward_extra)
    working = itemsize * max(evaluation, step) + FIXED_OVERHEAD
    return MemoryEstimate(int(parameters), int(buffers), int(working))


def check_training_memory(plan: Plan, dtype, n_train: int, n_test: int, batch_size: int | str,
                          optimizer_spec: Mapping | None = None, extra_rows: Iterable[int] = (),
                          available: int | None = None) -> MemoryEstimate:
    """The estimate, or a ConfigError saying what needs how much when it exceeds ``available``."""
    estimate = training_memory(plan, dtype, n_train, n_test, batch_size, optimizer_spec, extra_rows)
    available = available_memory() if available is None else available
    if estimate.total > available:
        gib = 2**30
        biggest = max(("parameters and optimiser state", estimate.parameters),
                      ("per-row activations", estimate.buffers + estimate.working), key=lambda kv: kv[1])
        raise ConfigError(
            f"network: {plan.n_params:,} parameters on {n_train:,} training and {n_test:,} test rows "
            f"need about {estimate.total / gib:.1f} GiB to train (mostly {biggest[0]}), "
            f"but only {available / gib:.1f} GiB of memory is available")
    return estimate
