"""2 / lambda_max, shown: plain full-batch gradient descent just below and above the limit.

Near a minimum the loss is about a bowl 1/2 d^T H d, and plain gradient descent
multiplies the distance along the Hessian's steepest eigenvector by (1 - lr lambda_max)
each step: it shrinks for lr < 2 / lambda_max and grows (oscillating) beyond.  ``demo``
measures lambda_max at the current weights (``teaching.objective_spectrum``), then runs
plain full-batch gradient descent from those weights, on copies, at a few multiples of
2 / lambda_max (0.5x, 0.9x, 1.1x by default) and records each run's loss and distance
from the start.

What the rule assumes is reported with the result: the point's curvature kind comes
first (at a saddle, or where lambda_max is not clearly positive, the limit says little),
and the limit is for plain full-batch steps, not momentum, Adam or minibatches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .objective import FullBatchObjective
from .progress import Progress, part, report
from .session import TrainingSession
from .teaching import Curvature, describe_spectrum, objective_spectrum

DEFAULT_FACTORS = (0.5, 0.9, 1.1)
DEFAULT_STEPS = 100
MAX_STEPS = 100_000
CURVATURE_SHARE = 0.3          # of the progress bar, for measuring lambda_max

NOTES = {
    "minimum": "A minimum: every measured curvature is positive, so 2 / lambda_max is the stable limit of "
               "plain full-batch gradient descent here.",
    "saddle": "A saddle, not a minimum: the loss curves down along {negative} direction(s). 2 / lambda_max still "
              "bounds the steps along the most curved direction, but along the downward ones every step size "
              "moves away from the start.",
    "flat": "A flat valley floor: some directions have no curvature, so steps along them neither converge nor "
            "diverge; 2 / lambda_max bounds the others.",
    "unknown": "Lambda_max comes from {products} of {weights} Hessian-vector products: the true lambda_max may be "
               "larger, so the true limit may be lower than the one used.",
    "no curvature": "Lambda_max is not clearly positive here, so there is no 2 / lambda_max limit to test.",
}


@dataclass(frozen=True)
class GDRun:
    """Plain full-batch gradient descent at ``lr`` = ``factor`` x 2 / lambda_max.

    ``losses[t]`` and ``distances[t]`` (= ||w_t - w_0||) after t steps, t = 0..steps
    run; the run stops early when the loss or a weight stops being finite
    (``diverged_at`` = that step).  ``outcome``: "diverged" (not finite), "rose"
    (final loss above the start) or "fell".
    """

    factor: float
    lr: float
    losses: np.ndarray
    distances: np.ndarray
    diverged_at: int | None

    @property
    def outcome(self) -> str:
        if self.diverged_at is not None:
            return "diverged"
        return "rose" if self.losses[-1] > self.losses[0] else "fell"


@dataclass(frozen=True)
class StepSizeDemo:
    """The curvature at the start, the limit 2 / lambda_max (None when lambda_max is
    not clearly positive: then ``runs`` is empty) and one run per factor.  ``kind`` is
    the curvature's kind ("minimum", "saddle", "flat", "unknown", "invalid") or "no
    curvature"; ``note`` says what that means for the rule, in words.  ``start``: the
    weights every run started from (compare with the current ones: a stale demo)."""

    curvature: Curvature
    limit: float | None
    steps: int
    start_loss: float
    kind: str
    note: str
    runs: tuple[GDRun, ...]
    start: np.ndarray


def gradient_descent(objective: FullBatchObjective, lr: float, steps: int, progress: Progress = None
                     ) -> tuple[np.ndarray, np.ndarray, int | None]:
    """``steps`` plain updates w <- w - lr g(w) from ``objective.start``: losses,
    distances from the start, and the step whose loss or weights went non-finite."""
    w0 = objective.start
    w = w0.copy()
    losses, distances = [], []
    diverged = None
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            if t < steps:
                loss, g = objective.value_and_gradient(w)
            else:
                loss = objective.value(w)
            if not (math.isfinite(loss) and np.all(np.isfinite(w))):
                diverged = t
                break
            losses.append(loss)
            distances.append(float(np.linalg.norm(w - w0)))
            if t < steps:
                w -= lr * g
            report(progress, (t + 1) / (steps + 1))
    return np.array(losses), np.array(distances), diverged


def demo(objective: FullBatchObjective, steps: int = DEFAULT_STEPS, factors=DEFAULT_FACTORS,
         iterations: int | None = None, seed: int = 0, progress: Progress = None) -> StepSizeDemo:
    """Measure the curvature at ``objective.start`` and run gradient descent at each
    ``factor`` x 2 / lambda_max for ``steps`` steps.  ``progress(fraction)`` returning
    False raises ``engine.progress.Cancelled``."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    factors = tuple(float(f) for f in factors)
    if not factors or not all(math.isfinite(f) and f > 0 for f in factors):
        raise ValueError(f"factors must be positive finite numbers, got {factors!r}")
    spectrum = objective_spectrum(objective, iterations, seed, progress=part(progress, 0.0, CURVATURE_SHARE))
    curv = describe_spectrum(spectrum)
    start_loss = objective.value(objective.start)
    if curv.stable_lr is None:
        report(progress, 1.0)
        kind = "invalid" if curv.kind == "invalid" else "no curvature"
        note = "The curvature could not be measured: the loss or gradient is not finite here." \
            if kind == "invalid" else NOTES["no curvature"]
        return StepSizeDemo(curv, None, int(steps), start_loss, kind, note, (), objective.start.copy())
    runs = []
    share = (1.0 - CURVATURE_SHARE) / len(factors)
    for k, factor in enumerate(factors):
        lr = factor * curv.stable_lr
        at = CURVATURE_SHARE + k * share
        losses, distances, diverged = gradient_descent(objective, lr, int(steps), part(progress, at, at + share))
        runs.append(GDRun(factor, lr, losses, distances, diverged))
    note = NOTES[curv.kind].format(negative=curv.negative, products=curv.hessian_vector_products,
                                   weights=curv.weights)
    return StepSizeDemo(curv, curv.stable_lr, int(steps), start_loss, curv.kind, note, tuple(runs),
                        objective.start.copy())


def session_demo(session: TrainingSession, steps: int = DEFAULT_STEPS, factors=DEFAULT_FACTORS,
                 progress: Progress = None) -> StepSizeDemo:
    """``demo`` from a session's current weights on its training objective (the session
    is not touched)."""
    return demo(FullBatchObjective.of_session(session), steps, factors, progress=progress)
