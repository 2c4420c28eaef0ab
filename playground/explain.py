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
from engine.teaching import (ActivationProfile, ChainRule, Curvature, DeadUnits, LossSlice, activation_profile,
                             chain_rule, curvature, dead_units, loss_along_gradient)

SLICE_STEPS = np.linspace(-1.0, 1.0, 41)


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
    curvature: Curvature | None


def explain(session: TrainingSession, request: ExplainRequest) -> Explanation:
    """Everything the explanation panel shows for one weight (ValueError for a bad request)."""
    chain = chain_rule(session, request.weight, request.unit, request.source, request.row)
    return Explanation(
        request, session.step_count, session.lr, chain,
        activation_profile(session, chain.node),
        loss_along_gradient(session, SLICE_STEPS),
        dead_units(session),
        curvature(session) if request.with_curvature else None,
    )
