"""Long computations beside training: races, the 2/lambda demo and the loss landscape.

Each job runs on a thread of the engine process from a copy of what it reads, taken
in the loop's thread when it was asked for (``RaceStart.of``: the weights copied,
the immutable data shared), so training and every other command go on beside it.
One ``BackgroundJob`` class runs them all: a thread, a cancel flag polled at every
evaluation, progress a few times a second, and a result unless the job was
cancelled or abandoned (a new network, Reset, shutdown: its weights are gone).  Only
the messages differ: a race keeps its own (``racing``, ``race progress``, ``raced``;
cancelled, it still sends what it finished), the others share ``job busy``, ``job
progress``, ``job done`` and ``job failed``, each naming its kind.

``WeightTrail`` holds the paths the landscape projects: the training trajectory (it
also takes principal components of it), in bounded memory, and the latest race's
method paths (``RaceJob`` keeps them there; the race's own message goes without them,
as the GUI never needs the weights).  The loop replaces its trail on Reset and with a
new network, which drops both.
"""
from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import replace
from typing import Mapping, Sequence

import numpy as np

from engine.landscape import resolution_for_budget, session_landscape
from engine.objective import FullBatchObjective
from engine.progress import Cancelled
from engine.race import RaceStart, RaceTrace, race
from engine.run_history import RunRecorder
from engine.step_size_demo import CURVATURE_SHARE, DEFAULT_FACTORS, session_demo

PROGRESS_INTERVAL = 0.1         # seconds between two progress messages of a job
HESSIAN_SHARE = 0.3             # of a "hessian" landscape's progress: finding the directions (session_landscape)
TRAIL_SNAPSHOTS = 200           # weight vectors kept of the training trajectory...
TRAIL_BYTES = 16 * 2 ** 20      # ...in at most this much memory
TRAIL_INTERVAL = 1 / 60         # recorded at most this often (with the frames)
LANDSCAPE_KINDS = ("hessian", "random", "pca")


def race_path_name(trace: RaceTrace) -> str:
    """A race method's path on the landscape, named with the step it started from: the
    landscape is centred on the current weights, which training may have moved since."""
    return f"{trace.method} (race from step {trace.start_step}{', cancelled' if trace.cancelled else ''})"


class WeightTrail:
    """The weights training passed through, thinned to at most TRAIL_SNAPSHOTS evenly
    spread vectors (``engine.run_history.RunRecorder``), plus the latest; and the
    latest race's paths (``keep_race``), each bounded by ``engine.race``."""

    def __init__(self):
        self._recorder = RunRecorder("training", max_snapshots=TRAIL_SNAPSHOTS, max_snapshot_bytes=TRAIL_BYTES)
        self._last_step: int | None = None
        self._size: int | None = None
        self._race: dict[str, np.ndarray] = {}

    def record(self, step: int, params: np.ndarray) -> None:
        if step == self._last_step or not np.all(np.isfinite(params)):
            return
        self._recorder.add_weights(step, params)
        self._last_step, self._size = step, params.size

    def fits(self, params: np.ndarray) -> bool:
        return self._size is None or self._size == params.size

    def trajectory(self, step: int, params: np.ndarray) -> np.ndarray:
        """The recorded weights, ending at ``params`` (the weights of ``step``): [m, n]."""
        self.record(step, params)
        return self._recorder.run().weights

    def keep_race(self, traces: Sequence[RaceTrace]) -> None:
        """The paths of a race that just ended replace the last race's, as the race
        panel's curves do.  Called from the race's thread: one assignment, so the
        loop's thread reads either the old paths or the new ones."""
        self._race = {race_path_name(t): t.path for t in traces if t.path is not None}

    def race_paths(self) -> dict[str, np.ndarray]:
        """name -> weights [m, n] of each method of the latest race (``race_path_name``)."""
        return dict(self._race)


class BackgroundJob:
    """One long computation on a thread of the engine process (see the module docstring).

    A subclass says what it computes (``compute``) and how each event is told
    (``busy``, ``progress_message``, ``done``, ``failed``: (message kind, payload...)).
    """

    kind = "job"
    title = "a job"         # in messages: "{title} is already running"

    def __init__(self, start: RaceStart, send, stop: threading.Event):
        self.start_step = start.step_count
        self._start, self._send, self._stop = start, send, stop
        self._cancel = threading.Event()
        self._abandoned = False
        self._reported_at = -math.inf
        # A daemon: a job stuck in one long NumPy call must not keep the process alive.
        self._thread = threading.Thread(target=self._run, name=self.kind, daemon=True)

    # -- the loop's side ------------------------------------------------------------------
    def start(self) -> None:
        self._send(*self.busy(True))
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, seconds: float) -> None:
        if seconds > 0 and self._thread.is_alive():
            self._thread.join(seconds)

    def cancel(self) -> None:
        self._cancel.set()

    def abandon(self) -> None:
        self._abandoned = True
        self._cancel.set()

    # -- the thread -----------------------------------------------------------------------
    def cancelled(self) -> bool:
        return self._cancel.is_set() or self._stop.is_set()

    def report(self, fraction: float) -> bool:
        """An ``engine.progress`` callback: tell the GUI now and then; False stops the job."""
        if self.cancelled():
            return False
        now = time.perf_counter()
        if now - self._reported_at >= PROGRESS_INTERVAL:
            self._reported_at = now
            self._send(*self.progress_message(fraction))
        return True

    def _run(self) -> None:
        try:
            result = self.compute()
            if not (self._abandoned or self._stop.is_set()):
                self._send(*self.done(result))
        except Cancelled:
            pass                        # half a grid is not a landscape: nothing to show
        except (EOFError, OSError):
            return                      # the GUI closed its end: nobody to tell
        except ValueError as exc:       # the engine says what does not fit, in words
            self._quietly(*self.failed(str(exc)))
        except Exception as exc:        # a bug: say so, keep the engine alive
            traceback.print_exc()
            self._quietly(*self.failed(f"unexpected error: {exc}"))
        self._quietly(*self.busy(False))

    def _quietly(self, *message) -> None:
        try:
            self._send(*message)
        except (EOFError, OSError):
            pass

    # -- what a kind of job says -------------------------------------------------------
    def compute(self):
        raise NotImplementedError

    def busy(self, busy: bool) -> tuple:
        return ("job busy", self.kind, busy)

    def progress_message(self, fraction: float) -> tuple:
        return ("job progress", self.kind, fraction, self.describe(fraction))

    def describe(self, fraction: float) -> str:
        return f"{fraction:.0%}"

    def done(self, result) -> tuple:
        return ("job done", self.kind, result, self.start_step)

    def failed(self, message: str) -> tuple:
        return ("job failed", self.kind, f"Cannot compute {self.title}: {message}")


class RaceJob(BackgroundJob):
    """``engine.race.race``: it reports its own progress and, cancelled, returns what it has.
    Its methods' paths go to ``trail`` (for the landscape), not into its message."""

    kind, title = "race", "a race"

    def __init__(self, start: RaceStart, send, stop, methods: tuple, budget: int,
                 trail: WeightTrail | None = None):
        super().__init__(start, send, stop)
        self._methods, self._budget, self._trail = methods, budget, trail

    def compute(self):
        return race(self._start, self._methods, budget=self._budget, cancelled=self.cancelled,
                    progress=lambda report: self._send("race progress", report))

    def busy(self, busy: bool) -> tuple:
        return ("racing", busy)

    def done(self, result) -> tuple:
        # Here, not in compute: an abandoned race (its weights gone) leaves no paths.
        if self._trail is not None:
            self._trail.keep_race(result)
        return ("raced", [replace(t, path=None, path_records=None) for t in result])

    def failed(self, message: str) -> tuple:
        return ("error", f"Cannot race: {message}")


class StepSizeDemoJob(BackgroundJob):
    """``engine.step_size_demo``: lambda_max, then gradient descent at multiples of 2/lambda_max."""

    kind, title = "step_size_demo", "the 2/lambda demo"

    def __init__(self, start: RaceStart, send, stop, steps: int):
        super().__init__(start, send, stop)
        self._steps = steps

    def compute(self):
        return session_demo(self._start, self._steps, DEFAULT_FACTORS, progress=self.report)

    def describe(self, fraction: float) -> str:
        if fraction < CURVATURE_SHARE:
            return "Measuring lambda_max (Hessian-vector products)"
        share = (1.0 - CURVATURE_SHARE) / len(DEFAULT_FACTORS)
        k = min(len(DEFAULT_FACTORS) - 1, int((fraction - CURVATURE_SHARE) / share))
        return (f"Gradient descent at {DEFAULT_FACTORS[k]:g} × 2/lambda_max, {self._steps:,} steps "
                f"(run {k + 1} of {len(DEFAULT_FACTORS)})")


class LandscapeJob(BackgroundJob):
    """``engine.landscape.session_landscape`` with the training trajectory drawn on it, and
    ``race_paths`` (``WeightTrail.race_paths``: a race from older weights is projected all
    the same, its name saying the step it started from)."""

    kind, title = "landscape", "the loss landscape"

    def __init__(self, start: RaceStart, send, stop, kind: str, resolution: int | None, trajectory: np.ndarray,
                 race_paths: Mapping[str, np.ndarray] | None = None):
        super().__init__(start, send, stop)
        self._directions, self._resolution, self._trajectory = kind, resolution, trajectory
        self._race_paths = dict(race_paths or {})

    def compute(self):
        if self._resolution is None:        # chosen here, so the progress can name the grid
            self._resolution = resolution_for_budget(FullBatchObjective.of_session(self._start))
        trajectory = self._trajectory if len(self._trajectory) >= 2 else None
        return session_landscape(self._start, self._directions, self._resolution, trajectory=trajectory,
                                 paths=self._race_paths, progress=self.report)

    def describe(self, fraction: float) -> str:
        grid = f"{self._resolution} × {self._resolution}"
        if self._directions == "hessian":
            if fraction < HESSIAN_SHARE:
                return "Finding the Hessian's two most curved directions (Lanczos)"
            fraction = (fraction - HESSIAN_SHARE) / (1.0 - HESSIAN_SHARE)
        return f"The loss on a {grid} grid: {fraction:.0%}"
