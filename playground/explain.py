"""The "why" views' numbers, computed in the engine from the live session.

The UI asks with an ``ExplainRequest`` (which weight, which training row, whether
to measure curvature, which is the costly part) and receives an immutable
``Explanation``; the backward-pass view asks for a row and receives a ``RowTrace``.
engine/teaching.py and engine/backward_trace.py do the mathematics; this module
only picks what to compute and packs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from engine.backward_trace import BackwardTrace, trace_row as trace_features, trace_session_row
from engine.session import TrainingSession
from engine.teaching import (ActivationProfile, ChainRule, DeadUnits, LossSlice, StepLimit, activation_profile,
                             chain_rule, curvature, dead_units, loss_along_gradient, step_limit)

SLICE_POINTS = 81
SLICE_HALF_WIDTH = 1.0      # the slice spans at least s in [-1, 1] ...
SLICE_MARGIN = 1.5          # ... and 1.5x the plain gradient step lr * ||g||, so its mark is on the plot
SUBSETS = ("train", "test")


@dataclass(frozen=True)
class ExplainRequest:
    weight: str            # "<dense id>.weight"
    unit: int              # row of the weight matrix: the neuron it feeds
    source: int            # column: the neuron of the previous layer it comes from
    row: int = 0           # the training row whose loss the chain rule follows
    with_curvature: bool = False


@dataclass(frozen=True)
class Explanation:
    request: ExplainRequest
    step: int
    lr: float
    chain: ChainRule
    profile: ActivationProfile                 # of the dense node the weight feeds
    loss_slice: LossSlice
    dead: Mapping[str, DeadUnits]
    limit: StepLimit | None                    # curvature and what it means for this optimiser
    optimizer: str                             # the session's optimiser's name

    @property
    def curvature(self):
        return None if self.limit is None else self.limit.curvature

    @property
    def gradient_step(self) -> float:
        """How far along the slice a plain gradient step at the session's rate moves: lr * ||g||."""
        return self.lr * self.loss_slice.gradient_norm


def explain(session: TrainingSession, request: ExplainRequest) -> Explanation:
    """Everything the explanation panel shows for one weight (ValueError for a bad request)."""
    chain = chain_rule(session, request.weight, request.unit, request.source, request.row)
    lr = session.lr
    limit = None
    if request.with_curvature:
        limit = step_limit(session.optimizer_spec, lr, curvature(session), session.batch_size, len(session.X_train))
    return Explanation(
        request, session.step_count, lr, chain,
        activation_profile(session, chain.node),
        _loss_slice(session, lr),
        dead_units(session),
        limit,
        session.optimizer_spec.get("name", "sgd"),
    )


def _loss_slice(session: TrainingSession, lr: float) -> LossSlice:
    """The loss along -g/||g|| over a range that shows where a gradient step lands."""
    def steps(norm: float) -> np.ndarray:
        step = lr * norm if np.isfinite(norm) else 0.0
        half = max(SLICE_HALF_WIDTH, SLICE_MARGIN * step)
        return np.linspace(-half, half, SLICE_POINTS)

    return loss_along_gradient(session, steps)


@dataclass(frozen=True)
class RowTrace:
    """One row through forward, backward and one plain SGD step (``trace``), at the
    weights of ``step``.  What the view must say beside it: the session trains with
    ``optimizer`` on batches of ``batch_size`` rows, so its real step is not this
    one-row SGD step; ``regularization`` ("" for none) is left out of the row's loss."""

    step: int
    subset: str                 # "train" or "test"
    optimizer: str
    batch_size: int
    regularization: str
    trace: BackwardTrace


def trace_row(session: TrainingSession, row: int, subset: str = "train") -> RowTrace:
    """The backward-pass view's numbers for row ``row`` of the training or test set
    (ValueError, or its subclass TraceUnsupported, saying what does not fit)."""
    if subset == "train":
        trace = trace_session_row(session, row)
    elif subset == "test":
        n = len(session.X_test)
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < n:
            raise ValueError(f"row {row!r} is not a test row ({f'0..{n - 1}' if n else 'there are none'})")
        trace = trace_features(session.network, session.head, session.X_test[row], session.y_test[row],
                               session.lr, row=int(row), feature_names=tuple(session.dataset.feature_names))
    else:
        raise ValueError(f"unknown subset {subset!r}; choose one of {', '.join(SUBSETS)}")
    reg = session.regularization
    penalty = f"{reg.kind}, rate {reg.rate:g}" if reg.kind != "none" and reg.rate else ""
    return RowTrace(session.step_count, subset, session.optimizer_spec.get("name", "sgd"), session.batch_size,
                    penalty, trace)
