"""Is backprop the same as gradient descent?  Race optimisers on the same network.

Backprop only computes the gradient; an optimiser decides what to do with it.  ``race``
starts every method from a float64 copy of the session's current weights and minimises
the full-batch training objective (data loss + regularisation penalty on all training
rows, evaluation mode), recording loss against iterations, evaluations and time.  The
session itself (weights, gradients, optimiser, random generators) is never touched.

Cost accounting: every call of the objective is one evaluation, with or without a
gradient.  ``evaluations`` counts all those calls (each is one forward pass over the
training set), ``gradients`` the ones that also ran backprop (so derivative-free
methods show 0).  A loss+gradient call costs more than a loss-only call: before the
race the ratio is timed on a separate copy (``gradient_cost``) and each trace also
carries ``forward_equivalents`` = loss-only calls + gradient calls x that ratio.  A
method stops once ``budget`` calls are spent or ``seconds_limit`` has passed.  Record 0
is the start (the session's objective), taken for free; the last record is always
what the method actually spent, with its final loss.

A race can run beside training: ``RaceStart.of(session)`` copies everything the race
reads (taken where the session lives), and ``race`` works from that copy alone.
``progress`` hears which method runs and how far it got, a few times a second;
``cancelled`` is polled at every evaluation.  A cancelled race returns the methods that
finished plus the one it interrupted (``cancelled=True``: a partial trace, not a
result); the methods after it never start.

Each trace also carries the method's path through weight space (``RaceTrace.path``),
for the loss landscape to project: the weights at its records, thinned evenly to at
most PATH_SNAPSHOTS vectors in PATH_BYTES (``engine.run_history.RunRecorder``), from
the start to the weights of ``final_loss``.  Every method works on the network's flat
parameter vector, so every method has one.  Only records with a finite loss are kept:
a diverging method's path ends at its last finite point.
"""
from __future__ import annotations

import math
import statistics
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from .gradcheck import objective_and_gradient
from .hessian import finite_difference_step, hessian_vector, lanczos
from .optimizers import make_optimizer
from .run_history import RunRecorder
from .session import TrainingSession
from .teaching import copy_network

ADAM_LR = 0.01
RPROP_LR = 0.01
HJ_INITIAL_STEP = 0.1
HJ_MIN_STEP = 1e-8
ARMIJO_C = 1e-4                 # sufficient decrease: f(w - t g) <= f(w) - c t |g|^2
ARMIJO_INITIAL_STEP = 1.0
ARMIJO_MIN_STEP = 1e-20         # below this no step lowers the loss: give up
CURVATURE_PRODUCTS = 20         # Lanczos products for gd_curvature's lambda_max
SIGN_DECAY_LR0 = 0.01           # sign_decay: lr_k = SIGN_DECAY_LR0 / sqrt(1 + k)
GRADIENT_COST_REPEATS = 7       # timings per kind of call when measuring gradient_cost
PROGRESS_INTERVAL = 0.1         # seconds between two progress reports within a method
# scipy's callback reports an iterate it evaluated a few calls earlier (at the end of a
# line search); remembering this many recent losses makes that lookup always a hit.
LOSS_CACHE_SIZE = 256
PATH_SNAPSHOTS = 200            # weight vectors kept of each method's path...
PATH_BYTES = 4 * 2 ** 20        # ...in at most this much memory per method

METHODS: dict[str, str] = {
    "gd": "Plain full-batch gradient descent at the session's learning rate (set for the session's own "
          "optimiser, so it may be far below what gradient descent could take).",
    "gd_armijo": "Gradient descent with a backtracking line search: try a step, halve it until the loss "
                 "falls by enough (Armijo's rule), then start the next search from twice that step.",
    "gd_curvature": "Gradient descent at lr = 1/lambda_max, the largest Hessian eigenvalue measured at the "
                    f"start by Lanczos from {CURVATURE_PRODUCTS} Hessian-vector products (their gradients are "
                    "charged to it).",
    "momentum": "Gradient descent with momentum 0.9 at the session's learning rate: a heavy ball that keeps "
                "rolling through flat parts.",
    "adam": f"Adam (lr {ADAM_LR:g}): per-weight steps scaled by running averages of the gradient and its square.",
    "rprop": f"Rprop (initial step {RPROP_LR:g}): adapts a step per weight from sign agreement (it grows "
             "while that weight's gradient keeps its sign, shrinks when the sign flips) and moves each weight "
             "by its own step against the sign. Not sign-SGD: no global step, no schedule.",
    "sign_decay": "Sign-SGD with a decaying step: every weight moves by the same global step against the "
                  f"sign of its gradient, the step shrinking as lr_k = {SIGN_DECAY_LR0:g} / sqrt(1 + k) after k "
                  "updates.",
    "lbfgs": "L-BFGS: quasi-Newton, builds a curvature estimate from recent gradients and line-searches.",
    "cg": "Conjugate gradient: each line search goes in a direction that does not undo the previous ones.",
    "newton": "Newton-CG: uses the Hessian (from differences of gradients) to jump to the parabola's bottom.",
    "nelder_mead": "Nelder-Mead simplex: reflects, expands and shrinks a simplex using loss values only.",
    "hooke_jeeves": "Hooke-Jeeves pattern search: probes +-step per weight, repeats good moves, halves the step.",
}

# What the ``iterations`` axis counts: one iteration is a different amount of work per method.
_ONE_GRADIENT_UPDATE = "one update from one full-batch gradient"
ITERATION_MEANING: dict[str, str] = {
    "gd": _ONE_GRADIENT_UPDATE,
    "gd_armijo": "one accepted step: a line search of loss-only trials, then one gradient at the accepted point",
    "gd_curvature": _ONE_GRADIENT_UPDATE + " (after the Hessian-vector products that measure lambda_max, "
                                           "2 gradients each)",
    "momentum": _ONE_GRADIENT_UPDATE,
    "adam": _ONE_GRADIENT_UPDATE,
    "rprop": _ONE_GRADIENT_UPDATE,
    "sign_decay": _ONE_GRADIENT_UPDATE,
    "lbfgs": "one accepted step after a line search of several evaluations",
    "cg": "one accepted step after a line search of several evaluations",
    "newton": "one Newton step, whose inner CG solve takes Hessian-vector products (2 gradients each), "
              "then a line search",
    "nelder_mead": "one simplex move: a reflection, expansion, contraction or shrink",
    "hooke_jeeves": "one exploratory sweep over all weights (plus the pattern move that led to it)",
}

DERIVATIVE_FREE = ("nelder_mead", "hooke_jeeves")


@dataclass(frozen=True)
class RaceTrace:
    method: str
    losses: np.ndarray          # objective value at each record, index 0 = the start
    evaluations: np.ndarray     # cumulative objective calls (with or without gradient) at each record
    gradients: np.ndarray       # cumulative gradient evaluations at each record
    seconds: np.ndarray         # cumulative wall time at each record
    iterations: np.ndarray      # the method's completed iterations at each record (see ITERATION_MEANING)
    forward_equivalents: np.ndarray   # (evaluations - gradients) + gradients * gradient_cost
    gradient_cost: float        # measured time of a loss+gradient call / a loss-only call
    final_loss: float           # best seen (derivative-free) or the last iterate's loss (the others)
    learning_rate: float        # the lr a gradient stepper used (sign_decay: lr0, rprop: its initial
                                #   step), nan for methods that choose every step themselves
    message: str                # scipy's termination message, "budget used", "time limit reached", ...
    start_step: int = 0         # the session's step whose weights every method started from
    cancelled: bool = False     # stopped partway by a cancel: a partial trace, not a finished run
    path: np.ndarray | None = None          # [m, n_params] the weights at some records (see the module
                                            #   notes): row 0 the start, the last row the weights of
                                            #   final_loss; None when nothing finite was recorded (or
                                            #   dropped to keep a message small)
    path_records: np.ndarray | None = None  # [m] the record (index into losses, ...) of each path row


@dataclass(frozen=True)
class RaceProgress:
    """How far a race has got: method ``index`` of ``count`` is running."""

    method: str
    index: int
    count: int
    evaluations: int            # spent so far by this method
    budget: int
    seconds: float              # this method's wall time so far
    seconds_limit: float

    @property
    def fraction(self) -> float:
        """Of the whole race; a method ends at its budget or its time limit, whichever comes first."""
        spent = max(self.evaluations / self.budget if self.budget > 0 else 1.0,
                    self.seconds / self.seconds_limit if self.seconds_limit > 0 else 1.0)
        return (self.index + min(1.0, spent)) / max(1, self.count)


@dataclass(frozen=True)
class RaceStart:
    """Everything a race reads from a session, copied: training may go on beside the race."""

    network: object             # engine.network.Network, a float64 copy
    head: object                # the session's LossHead (immutable)
    regularization: object      # the session's Regularization (immutable)
    X_train: np.ndarray
    y_train: np.ndarray
    lr: float
    step_count: int

    @classmethod
    def of(cls, session: "TrainingSession | RaceStart") -> "RaceStart":
        if isinstance(session, RaceStart):
            return session
        # The data arrays are shared: a session never writes them after it is built.
        return cls(copy_network(session.network), session.head, session.regularization,
                   session.X_train, session.y_train, float(session.lr), int(session.step_count))


class _StopRace(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Objective:
    """The full-batch training objective on a network copy of its own; no accounting."""

    def __init__(self, session: TrainingSession | RaceStart):
        self.net = copy_network(session.network)
        self.head, self.reg = session.head, session.regularization
        self.X = np.asarray(session.X_train, dtype=np.float64)
        self.y = session.y_train if self.head.targets_are_indices else np.asarray(session.y_train, dtype=np.float64)

    def value(self, w: np.ndarray) -> float:
        self.net.params[...] = w
        with np.errstate(all="ignore"):
            out = self.net.forward(self.X, training=False)
            value = self.head.value(self.net.output_pre_activation, out, self.y) + \
                self.reg.penalty(self.net.weights_view)
        return float(value) if math.isfinite(value) else math.inf

    def value_and_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        self.net.params[...] = w
        with np.errstate(all="ignore"):
            value, g = objective_and_gradient(self.net, self.head, self.X, self.y, self.reg)
        return (float(value) if math.isfinite(value) else math.inf), g


def measure_gradient_cost(session: TrainingSession | RaceStart, repeats: int = GRADIENT_COST_REPEATS) -> float:
    """Median time of a loss+gradient call over the median time of a loss-only call.

    Timed on a separate copy and charged to no method.  At least 1: a gradient call
    includes a loss call, so a smaller ratio can only be timer noise.
    """
    f = _Objective(session)
    w = f.net.params.copy()
    f.value(w)                  # warm-up: the first pass allocates the layers' buffers
    f.value_and_grad(w)
    loss_times, grad_times = [], []
    for _ in range(max(1, int(repeats))):
        t0 = time.perf_counter()
        f.value(w)
        t1 = time.perf_counter()
        f.value_and_grad(w)
        t2 = time.perf_counter()
        loss_times.append(t1 - t0)
        grad_times.append(t2 - t1)
    loss, grad = statistics.median(loss_times), statistics.median(grad_times)
    return max(1.0, grad / loss) if loss > 0 else 1.0


class _Problem:
    """The objective of one method's run, counting its cost and recording progress."""

    def __init__(self, session: TrainingSession | RaceStart, start_loss: float, budget: int,
                 seconds_limit: float, cancelled: Callable[[], bool] = lambda: False,
                 progress: Callable[[int, float], None] = lambda evaluations, seconds: None):
        self.session = session
        self.cancelled = cancelled
        self.progress = progress
        self.was_cancelled = False
        self.objective = _Objective(session)            # every charged call runs on this network
        self.w0 = self.objective.net.params.copy()
        self.budget, self.seconds_limit = int(budget), float(seconds_limit)
        self.evals = 0
        self.grads = 0
        self.iterations = 0
        self.best = start_loss
        self.bookkeeping_passes = 0                     # uncharged look-ups that missed the cache
        self._bookkeeping: _Objective | None = None
        self.t0 = time.perf_counter()
        self._reported_at = 0.0                         # elapsed seconds at the last progress report
        self.records: list[tuple[float, int, int, float, int]] = [(start_loss, 0, 0, 0.0, 0)]
        self._cache: OrderedDict[bytes, float] = OrderedDict()
        self._path = RunRecorder("path", max_snapshots=PATH_SNAPSHOTS, max_snapshot_bytes=PATH_BYTES)
        self._keep_weights(0, start_loss, self.w0)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def _charge(self, gradient: bool) -> None:
        if self.evals >= self.budget:
            raise _StopRace("budget used")
        elapsed = self.elapsed()
        if elapsed >= self.seconds_limit:
            raise _StopRace("time limit reached")
        if self.cancelled():
            self.was_cancelled = True
            raise _StopRace("cancelled")
        if elapsed - self._reported_at >= PROGRESS_INTERVAL:
            self._reported_at = elapsed
            self.progress(self.evals, elapsed)
        self.evals += 1
        self.grads += int(gradient)

    def _remember(self, w: np.ndarray, loss: float) -> None:
        self._cache[np.asarray(w, dtype=np.float64).tobytes()] = loss
        if len(self._cache) > LOSS_CACHE_SIZE:
            self._cache.popitem(last=False)             # forget the oldest only

    def loss(self, w: np.ndarray) -> float:
        self._charge(False)
        value = self.objective.value(w)
        self._remember(w, value)
        return value

    def loss_and_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        self._charge(True)
        value, g = self.objective.value_and_grad(w)
        self._remember(w, value)
        return value, g

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.loss_and_grad(w)[1]

    def known_loss(self, w: np.ndarray) -> float:
        """The loss at an iterate scipy reports: it was evaluated there, so it is in the
        cache.  A miss is recomputed on a separate copy, uncharged, and counted in
        ``bookkeeping_passes``, so the working network only ever runs charged calls."""
        value = self._cache.get(np.asarray(w, dtype=np.float64).tobytes())
        if value is None:
            if self._bookkeeping is None:
                self._bookkeeping = _Objective(self.session)
            self.bookkeeping_passes += 1
            value = self._bookkeeping.value(w)
        return value

    def record(self, loss: float, w: np.ndarray) -> None:
        """A point of the method's progress: ``loss`` at the weights ``w`` it reached."""
        self.records.append((loss, self.evals, self.grads, self.elapsed(), self.iterations))
        self._keep_weights(len(self.records) - 1, loss, w)

    def _keep_weights(self, record: int, loss: float, w: np.ndarray) -> None:
        # Copied (the methods change w in place) and thinned; a point that is not finite cannot be drawn.
        if math.isfinite(loss) and np.all(np.isfinite(w)):
            self._path.add_weights(record, w)

    def counted_loss(self, w: np.ndarray) -> float:
        """``loss`` for derivative-free methods: records each new best."""
        value = self.loss(w)
        if value < self.best:
            self.best = value
            self.record(value, w)
        return value

    def close(self, final_loss: float) -> None:
        """End on what was actually spent: evaluations after the last record (rejected
        trials, a line search the budget cut short) were paid for too."""
        closing = (final_loss, self.evals, self.grads, self.elapsed(), self.iterations)
        last = self.records[-1]
        if len(self.records) > 1 and last[1:3] == closing[1:3] and last[0] == final_loss:
            self.records[-1] = closing                  # nothing more was spent: no duplicate point
        else:
            self.records.append(closing)

    def trace(self, method: str, final_loss: float, message: str, gradient_cost: float,
              learning_rate: float = math.nan) -> RaceTrace:
        self.close(final_loss)
        losses, evals, grads, secs, iters = (np.array(c) for c in zip(*self.records))
        evals, grads = evals.astype(np.int64), grads.astype(np.int64)
        # The closing record repeats the last recorded weights (final_loss is that
        # record's loss), so the path's last row is already the final weights.
        kept = self._path.run()
        path, path_records = (kept.weights, kept.weight_steps) if len(kept.weights) else (None, None)
        return RaceTrace(method, losses.astype(np.float64), evals, grads, secs.astype(np.float64),
                         iterations=iters.astype(np.int64),
                         forward_equivalents=(evals - grads) + grads * float(gradient_cost),
                         gradient_cost=float(gradient_cost), final_loss=float(final_loss),
                         learning_rate=float(learning_rate), message=message,
                         start_step=int(self.session.step_count), cancelled=self.was_cancelled,
                         path=path, path_records=path_records)


# -- the methods ----------------------------------------------------------------------
# A runner returns (termination message, learning rate it used or nan).

Runner = Callable[[_Problem], tuple[str, float]]


def _descend(p: _Problem, spec: dict, lr: Callable[[int], float]) -> str:
    """One full-batch gradient per update, the optimiser ``spec`` stepping at ``lr(k)``."""
    w = p.w0.copy()
    opt = make_optimizer(spec, w.size, np.float64)
    try:
        loss, g = p.loss_and_grad(w)
        while True:
            if not (math.isfinite(loss) and np.all(np.isfinite(g))):
                return "diverged"
            opt.step(w, g, lr(p.iterations))
            loss, g = p.loss_and_grad(w)
            p.iterations += 1                       # counted once its loss is known
            p.record(loss, w)
    except _StopRace as stop:
        return stop.reason


def _fixed_step(spec: dict, lr: float) -> Runner:
    def run(p: _Problem) -> tuple[str, float]:
        return _descend(p, spec, lambda k: lr), lr
    return run


def _sign_decay(p: _Problem) -> tuple[str, float]:
    # The engine's sign-SGD, given a smaller global step every update.
    return _descend(p, {"name": "sign_sgd", "lr": SIGN_DECAY_LR0},
                    lambda k: SIGN_DECAY_LR0 / math.sqrt(1 + k)), SIGN_DECAY_LR0


def _curvature(session_lr: float) -> Runner:
    def run(p: _Problem) -> tuple[str, float]:
        eps = finite_difference_step(p.w0)
        try:
            spectrum = lanczos(lambda v: hessian_vector(p.gradient, p.w0, v, eps), p.w0.size,
                               CURVATURE_PRODUCTS)
        except _StopRace as stop:
            return f"{stop.reason} while measuring lambda_max", math.nan
        lam = spectrum.max_eigenvalue
        if math.isfinite(lam) and lam > 0:
            lr = 1.0 / lam
            note = (f"lr = 1/lambda_max = 1/{lam:.4g} = {lr:.4g} (lambda_max from {spectrum.products} "
                    f"Hessian-vector products)")
            top = len(spectrum.ritz_values) - 1
            if not spectrum.settled(top):   # a Ritz value only bounds lambda_max from below
                note += f"; not settled: lambda_max may be up to {spectrum.residuals[top]:.2g} larger"
        else:           # no direction curves upwards (or the products overflowed): 1/lambda is no step
            lr = session_lr
            why = f"lambda_max = {lam:.4g} is not positive" if math.isfinite(lam) else \
                "lambda_max could not be measured (the Hessian-vector products were not finite)"
            note = f"{why}, so the session's lr {lr:.4g} was used instead"
        return f"{_descend(p, {'name': 'sgd', 'lr': lr}, lambda k: lr)}; {note}", lr
    return run


def _armijo(p: _Problem) -> tuple[str, float]:
    w = p.w0.copy()
    step = ARMIJO_INITIAL_STEP
    try:
        loss, g = p.loss_and_grad(w)
        while True:
            if not (math.isfinite(loss) and np.all(np.isfinite(g))):
                return "diverged", math.nan
            slope = float(g @ g)
            if slope == 0.0:
                return "gradient is zero", math.nan
            while True:                             # trial points: loss only
                trial = w - step * g
                if p.loss(trial) <= loss - ARMIJO_C * step * slope:
                    break
                step /= 2
                if step < ARMIJO_MIN_STEP:
                    return f"no step above {ARMIJO_MIN_STEP:g} lowers the loss", math.nan
            w = trial
            loss, g = p.loss_and_grad(w)            # the accepted point needs its gradient
            p.iterations += 1
            p.record(loss, w)
            step *= 2                               # let the step grow back
    except _StopRace as stop:
        return stop.reason, math.nan


def _scipy(method: str) -> Runner:
    def run(p: _Problem) -> tuple[str, float]:
        def callback(xk, *args):
            p.iterations += 1
            p.record(p.known_loss(xk), xk)

        kwargs: dict = {"callback": callback, "jac": True}
        if method == "L-BFGS-B":
            kwargs.update(options={"maxiter": p.budget, "maxfun": p.budget})
        elif method == "CG":
            kwargs.update(options={"maxiter": p.budget})
        elif method == "Newton-CG":
            # H v from two charged gradients, the same code as the Why? tab's curvature.
            kwargs.update(hessp=lambda x, v: hessian_vector(p.gradient, x, v, finite_difference_step(x)),
                          options={"maxiter": p.budget})
        try:
            result = minimize(p.loss_and_grad, p.w0.copy(), method=method, **kwargs)
        except _StopRace as stop:
            return stop.reason, math.nan
        return str(result.message), math.nan
    return run


def _nelder_mead(p: _Problem) -> tuple[str, float]:
    n = p.w0.size

    def callback(xk):
        p.iterations += 1                           # records come from counted_loss's new bests

    try:
        result = minimize(p.counted_loss, p.w0.copy(), method="Nelder-Mead", callback=callback,
                          options={"maxfev": p.budget, "maxiter": 200 * max(n, 1) * 10})
    except _StopRace as stop:
        return stop.reason, math.nan
    return str(result.message), math.nan


def _hooke_jeeves(p: _Problem) -> tuple[str, float]:
    def explore(x: np.ndarray, fx: float, step: float) -> tuple[np.ndarray, float]:
        x = x.copy()
        for i in range(x.size):
            for delta in (step, -step):
                old = x[i]
                x[i] = old + delta
                f = p.counted_loss(x)
                if f < fx:
                    fx = f
                    break
                x[i] = old
        p.iterations += 1
        return x, fx

    base, fbase = p.w0.copy(), p.best
    step = HJ_INITIAL_STEP
    try:
        while step >= HJ_MIN_STEP:
            x, fx = explore(base, fbase, step)
            if fx < fbase:
                while fx < fbase:           # pattern moves while they keep paying off
                    previous, base, fbase = base, x, fx
                    trial = base + (base - previous)
                    x, fx = explore(trial, p.counted_loss(trial), step)
            else:
                step /= 2
        return "step size below tolerance", math.nan
    except _StopRace as stop:
        return stop.reason, math.nan


def _runners(session: TrainingSession | RaceStart) -> dict[str, Runner]:
    lr = session.lr
    return {
        "gd": _fixed_step({"name": "sgd", "lr": lr}, lr),
        "gd_armijo": _armijo,
        "gd_curvature": _curvature(lr),
        "momentum": _fixed_step({"name": "sgd", "lr": lr, "momentum": 0.9}, lr),
        "adam": _fixed_step({"name": "adam", "lr": ADAM_LR}, ADAM_LR),
        "rprop": _fixed_step({"name": "rprop", "lr": RPROP_LR}, RPROP_LR),
        "sign_decay": _sign_decay,
        "lbfgs": _scipy("L-BFGS-B"),
        "cg": _scipy("CG"),
        "newton": _scipy("Newton-CG"),
        "nelder_mead": _nelder_mead,
        "hooke_jeeves": _hooke_jeeves,
    }


def check_methods(methods: Sequence[str]) -> None:
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown race method {m!r}; valid: {', '.join(METHODS)}")


def race(session: TrainingSession | RaceStart, methods: Sequence[str], budget: int = 2000,
         seconds_limit: float = 5.0, cancelled: Callable[[], bool] = lambda: False,
         progress: Callable[[RaceProgress], None] = lambda report: None) -> list[RaceTrace]:
    """Run each of ``methods`` from the session's current weights (see the module notes).

    ``cancelled`` is polled at every evaluation; once it returns True the running method
    stops (its trace is marked ``cancelled``) and no later method starts.  ``progress``
    gets a ``RaceProgress`` as each method starts and every PROGRESS_INTERVAL seconds.
    """
    methods = list(methods)
    check_methods(methods)
    start = RaceStart.of(session)
    runners = _runners(start)
    first = _Objective(start)
    start_loss = first.value(first.net.params.copy())
    gradient_cost = measure_gradient_cost(start) if methods else 1.0
    traces = []
    for index, m in enumerate(methods):
        if cancelled():
            break

        def report(evaluations: int, seconds: float, m=m, index=index) -> None:
            progress(RaceProgress(m, index, len(methods), int(evaluations), int(budget), float(seconds),
                                  float(seconds_limit)))

        report(0, 0.0)
        p = _Problem(start, start_loss, budget, seconds_limit, cancelled, report)
        message, lr = runners[m](p)
        final = p.best if m in DERIVATIVE_FREE else p.records[-1][0]
        traces.append(p.trace(m, final, message, gradient_cost, lr))
        if p.was_cancelled:
            break
    return traces
