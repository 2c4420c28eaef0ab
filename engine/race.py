"""Is backprop the same as gradient descent?  Race optimisers on the same network.

Backprop only computes the gradient; an optimiser decides what to do with it.  ``race``
starts every method from a float64 copy of the session's current weights and minimises
the full-batch training objective (data loss + regularisation penalty on all training
rows, evaluation mode), recording loss against iterations, evaluations and time.  The
session itself (weights, gradients, optimiser, random generators) is never touched.

Cost accounting: every call of the objective costs 1, with or without a gradient (the
gradient comes with the loss).  ``evaluations`` counts all those calls, ``gradients``
the ones that also computed a gradient (so derivative-free methods show 0).  A method
stops once ``budget`` calls are spent or ``seconds_limit`` has passed.  Record 0 is the
start (the session's objective), taken for free.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from .gradcheck import objective_and_gradient
from .optimizers import make_optimizer
from .session import TrainingSession
from .teaching import copy_network

METHODS: dict[str, str] = {
    "gd": "Plain full-batch gradient descent: step against the gradient at the session's learning rate.",
    "momentum": "Gradient descent with momentum 0.9: a heavy ball that keeps rolling through flat parts.",
    "adam": "Adam (lr 0.01): per-weight steps scaled by running averages of the gradient and its square.",
    "rprop": "Rprop (lr 0.01): fixed-size steps along the gradient's sign, growing or shrinking per weight.",
    "lbfgs": "L-BFGS: quasi-Newton, builds a curvature estimate from recent gradients and line-searches.",
    "cg": "Conjugate gradient: each line search goes in a direction that does not undo the previous ones.",
    "newton": "Newton-CG: uses the Hessian (from differences of gradients) to jump to the parabola's bottom.",
    "nelder_mead": "Nelder-Mead simplex: reflects, expands and shrinks a simplex using loss values only.",
    "hooke_jeeves": "Hooke-Jeeves pattern search: probes +-step per weight, repeats good moves, halves the step.",
}

ADAM_LR = 0.01
RPROP_LR = 0.01
HJ_INITIAL_STEP = 0.1
HJ_MIN_STEP = 1e-8


@dataclass(frozen=True)
class RaceTrace:
    method: str
    losses: np.ndarray          # objective value after each recorded iteration, index 0 = the start
    evaluations: np.ndarray     # cumulative objective calls (with or without gradient) at each record
    gradients: np.ndarray       # cumulative gradient evaluations at each record
    seconds: np.ndarray         # cumulative wall time at each record
    final_loss: float
    message: str                # scipy's termination message, "budget used", "time limit reached", ...


class _StopRace(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Problem:
    """The objective of one method's run, counting its cost and recording progress."""

    def __init__(self, session: TrainingSession, start_loss: float, budget: int, seconds_limit: float,
                 cancelled: Callable[[], bool] = lambda: False):
        self.cancelled = cancelled
        self.net = copy_network(session.network)
        self.head, self.reg = session.head, session.regularization
        self.X = np.asarray(session.X_train, dtype=np.float64)
        self.y = session.y_train if self.head.targets_are_indices else np.asarray(session.y_train, dtype=np.float64)
        self.w0 = self.net.params.copy()
        self.budget, self.seconds_limit = int(budget), float(seconds_limit)
        self.evals = 0
        self.grads = 0
        self.best = start_loss
        self.t0 = time.perf_counter()
        self.records: list[tuple[float, int, int, float]] = [(start_loss, 0, 0, 0.0)]
        self._cache: dict[bytes, float] = {}

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def _charge(self, gradient: bool) -> None:
        if self.evals >= self.budget:
            raise _StopRace("budget used")
        if self.elapsed() >= self.seconds_limit:
            raise _StopRace("time limit reached")
        if self.cancelled():
            raise _StopRace("cancelled")
        self.evals += 1
        self.grads += int(gradient)

    def _remember(self, w: np.ndarray, loss: float) -> None:
        if len(self._cache) > 64:
            self._cache.clear()
        self._cache[np.asarray(w, dtype=np.float64).tobytes()] = loss

    def loss(self, w: np.ndarray) -> float:
        self._charge(False)
        self.net.params[...] = w
        with np.errstate(all="ignore"):
            out = self.net.forward(self.X, training=False)
            value = self.head.value(self.net.output_pre_activation, out, self.y) + \
                self.reg.penalty(self.net.weights_view)
        value = float(value) if math.isfinite(value) else math.inf
        self._remember(w, value)
        return value

    def loss_and_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        self._charge(True)
        self.net.params[...] = w
        with np.errstate(all="ignore"):
            value, g = objective_and_gradient(self.net, self.head, self.X, self.y, self.reg)
        value = float(value) if math.isfinite(value) else math.inf
        self._remember(w, value)
        return value, g

    def known_loss(self, w: np.ndarray) -> float:
        """The loss at an iterate scipy reports (it was evaluated there; else computed uncounted)."""
        value = self._cache.get(np.asarray(w, dtype=np.float64).tobytes())
        if value is None:
            self.net.params[...] = w
            with np.errstate(all="ignore"):
                out = self.net.forward(self.X, training=False)
                value = float(self.head.value(self.net.output_pre_activation, out, self.y) +
                              self.reg.penalty(self.net.weights_view))
        return value

    def record(self, loss: float) -> None:
        self.records.append((loss, self.evals, self.grads, self.elapsed()))

    def counted_loss(self, w: np.ndarray) -> float:
        """``loss`` for derivative-free methods: records each new best."""
        value = self.loss(w)
        if value < self.best:
            self.best = value
            self.record(value)
        return value

    def trace(self, method: str, final_loss: float, message: str) -> RaceTrace:
        losses, evals, grads, secs = (np.array(c) for c in zip(*self.records))
        return RaceTrace(method, losses.astype(np.float64), evals.astype(np.int64), grads.astype(np.int64),
                         secs.astype(np.float64), float(final_loss), message)


# -- the methods ----------------------------------------------------------------------

def _first_order(spec: dict, lr: float) -> Callable[[_Problem], str]:
    def run(p: _Problem) -> str:
        w = p.w0.copy()
        opt = make_optimizer(spec, w.size, np.float64)
        first = True
        try:
            while True:
                loss, g = p.loss_and_grad(w)
                if not first:
                    p.record(loss)
                first = False
                if not (math.isfinite(loss) and np.all(np.isfinite(g))):
                    return "diverged"
                opt.step(w, g, lr)
        except _StopRace as stop:
            return stop.reason
    return run


def _scipy(method: str) -> Callable[[_Problem], str]:
    def run(p: _Problem) -> str:
        def callback(xk, *args):
            p.record(p.known_loss(xk))

        kwargs: dict = {"callback": callback}
        if method == "L-BFGS-B":
            kwargs.update(jac=True, options={"maxiter": p.budget, "maxfun": p.budget})
        elif method == "CG":
            kwargs.update(jac=True, options={"maxiter": p.budget})
        elif method == "Newton-CG":
            n = p.w0.size
            eps = 1e-4 * max(1.0, float(np.linalg.norm(p.w0)) / math.sqrt(max(n, 1)))

            def hessp(x, v):
                norm = float(np.linalg.norm(v))
                if norm == 0.0 or not math.isfinite(norm):
                    return np.zeros_like(v)
                u = v / norm
                _, g_plus = p.loss_and_grad(x + eps * u)
                _, g_minus = p.loss_and_grad(x - eps * u)
                return (g_plus - g_minus) * (norm / (2 * eps))

            kwargs.update(jac=True, hessp=hessp, options={"maxiter": p.budget})
        try:
            fun = p.loss_and_grad if kwargs.get("jac") else p.loss
            result = minimize(fun, p.w0.copy(), method=method, **kwargs)
        except _StopRace as stop:
            return stop.reason
        return str(result.message)
    return run


def _nelder_mead(p: _Problem) -> str:
    n = p.w0.size
    try:
        result = minimize(p.counted_loss, p.w0.copy(), method="Nelder-Mead",
                          options={"maxfev": p.budget, "maxiter": 200 * max(n, 1) * 10})
    except _StopRace as stop:
        return stop.reason
    return str(result.message)


def _hooke_jeeves(p: _Problem) -> str:
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
        return "step size below tolerance"
    except _StopRace as stop:
        return stop.reason


def _runners(session: TrainingSession) -> dict[str, Callable[[_Problem], str]]:
    lr = session.lr
    return {
        "gd": _first_order({"name": "sgd", "lr": lr}, lr),
        "momentum": _first_order({"name": "sgd", "lr": lr, "momentum": 0.9}, lr),
        "adam": _first_order({"name": "adam", "lr": ADAM_LR}, ADAM_LR),
        "rprop": _first_order({"name": "rprop", "lr": RPROP_LR}, RPROP_LR),
        "lbfgs": _scipy("L-BFGS-B"),
        "cg": _scipy("CG"),
        "newton": _scipy("Newton-CG"),
        "nelder_mead": _nelder_mead,
        "hooke_jeeves": _hooke_jeeves,
    }


def race(session: TrainingSession, methods: Sequence[str], budget: int = 2000,
         seconds_limit: float = 5.0, cancelled: Callable[[], bool] = lambda: False) -> list[RaceTrace]:
    """Run each of ``methods`` from the session's current weights (see the module notes).

    ``cancelled`` is polled at every evaluation; once it returns True every remaining
    method stops at once (the application uses it to close promptly mid-race).
    """
    methods = list(methods)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown race method {m!r}; valid: {', '.join(METHODS)}")
    runners = _runners(session)
    start = _Problem(session, math.nan, budget, seconds_limit)
    start_loss = start.known_loss(start.w0)
    traces = []
    for m in methods:
        p = _Problem(session, start_loss, budget, seconds_limit, cancelled)
        message = runners[m](p)
        final = p.best if m in ("nelder_mead", "hooke_jeeves") else p.records[-1][0]
        traces.append(p.trace(m, final, message))
    return traces
