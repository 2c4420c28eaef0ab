"""The "why" views' numbers, computed in the worker thread from the live session.

The UI asks with an ``ExplainRequest`` (which weight, which training row, whether
to measure curvature, which is the costly part) and receives an immutable
``Explanation``.  engine/teaching.py does the mathematics; this module only picks
what to compute and packs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from engine.session import TrainingSession
from engine.teaching import (ActivationProfile, ChainRule, DeadUnits, LossSlice, StepLimit, activation_profile,
                             chain_rule, curvature, dead_units, loss_along_gradient, step_limit)

SLICE_POINTS = 81
SLICE_HALF_WIDTH = 1.0      # the slice spans at least s in [-1, 1] ...
SLICE_MARGIN = 1.5          # ... and 1.5x the plain gradient step lr * ||g||, so its mark is on the plot


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
