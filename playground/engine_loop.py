"""The training loop without Qt: owns one session, takes commands, sends messages.

It runs in its own process (``playground.worker`` starts it), so training never holds
the GUI's GIL: with two cores the GUI paints on one while the engine trains on the
other.  Where a process cannot be started it runs in a thread of the GUI process
instead, with the same code and the same pipes.

Protocol.  Commands arrive on ``commands`` as ``(method, arguments)`` tuples, where
``method`` is one of EngineLoop's public methods (``EngineLoop.play``, ...; see
COMMANDS), in the order the GUI sent them; they take effect between two training
chunks.  Sending the method itself, not a name, lets a reader (and a tool) follow a
button straight to the code it runs.  Messages
leave on ``events`` as byte strings: one byte saying what the message is (see
MESSAGE), then the pickled payload.  The kind travels outside the pickle so the
GUI's reader thread can sort messages without unpickling (see playground/worker.py:
it must not create Python objects, or the garbage collector may run there and
destroy Qt objects in the wrong thread).

* frames: ``(frame, info)``, a ``TrainingFrame`` and, for the first frame of a new
  session, its ``SessionInfo``.  A "frame, same grid" carries no grid: the receiver
  keeps the previous one (a grid is ~0.5 MB, re-evaluated at most GRID_INTERVAL apart).
* ``running`` (bool), ``diverged`` (Divergence), ``error`` (str), ``explained``
  (Explanation), ``raced`` ([RaceTrace]), and ``stopped`` (no payload) last.
* ``traced`` (RowTrace) or ``trace failed`` (str, why not), after ``trace_row``.
* ``state`` (token, TrainingState or None before any session), after ``send_state``:
  everything a trained project saves, taken between two training chunks.
* a race: ``racing`` (True) as it is accepted, ``race progress`` (RaceProgress) a few
  times a second, ``raced`` with its traces, then ``racing`` (False).  A race the user
  cancels still sends what it has (the interrupted method's trace marked cancelled);
  one abandoned by a new network or Reset sends no traces: they belong to weights that
  are gone.
* the 2/lambda demo and the loss landscape: ``job busy`` (kind, True), ``job progress``
  (kind, fraction, text) a few times a second, ``job done`` (kind, result, the step
  whose weights it started from) or ``job failed`` (kind, message), then ``job busy``
  (kind, False).  Cancelled or abandoned, such a job sends no result: half a grid is
  not a landscape.  Kinds: "step_size_demo" (StepSizeDemo), "landscape" (LossLandscape).

Background jobs.  A race, the demo or a landscape takes seconds to a minute, so it
runs on a thread of its own (playground/engine_jobs.py) from a copy of the weights
taken here (``RaceStart``): the loop keeps serving commands and training beside it,
and ``cancel_race`` or ``cancel_job`` stops it at its next evaluation.  One runs at a
time.  Both threads send messages, so sending takes a lock.  The loop records the
weights training passes through (``WeightTrail``), for the landscape's path.

Pacing.  Training runs in chunks of about CHUNK_SECONDS; between chunks the loop
polls the command pipe (a syscall of a few microseconds).  A paced speed waits on
the pipe until the next step is due, so slow training sleeps instead of spinning.
Frames are built at most every FRAME_INTERVAL however fast training runs.
"""
from __future__ import annotations

import math
import numbers
import pickle
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from engine.data import Dataset
from engine.errors import ConfigError
from engine.graph import Plan
from engine.race import RaceStart
from engine.session import TrainingSession, TrainingState
from engine.validate import brief, number
from playground.engine_jobs import (LANDSCAPE_KINDS, TRAIL_INTERVAL, BackgroundJob, LandscapeJob, RaceJob,
                                    StepSizeDemoJob, WeightTrail)
from playground.explain import ExplainRequest, explain, trace_row as row_trace
from playground.frames import compute_frame
from playground.project import Project, build_session

# The first byte of every message to the GUI.
MESSAGE = {"frame": b"F", "frame, same grid": b"f", "frame, new session": b"I", "running": b"R",
           "diverged": b"D", "error": b"E", "explained": b"X", "raced": b"C", "racing": b"B",
           "race progress": b"P", "traced": b"T", "trace failed": b"U", "job busy": b"J",
           "job progress": b"G", "job done": b"K", "job failed": b"L", "state": b"V", "stopped": b"S"}
CHUNK_SECONDS = 0.004      # training per chunk before the command pipe is polled again
FRAME_INTERVAL = 1 / 60    # at most 60 frames a second
GRID_INTERVAL = 1 / 30     # while training, the input-plane grid is re-evaluated at most 30 times a second
RATE_WINDOW = 1.0          # steps_per_second is measured over this many seconds
IDLE_POLL = 0.25           # with nothing to do, look at the stop flag this often
JOB_JOIN_SECONDS = 0.5     # on stopping, wait this long for a job to notice (it checks every evaluation)


@dataclass(frozen=True)
class SessionInfo:
    """Sent with the first frame of every (new) session."""

    project: Project
    plan: Plan
    dataset: Dataset
    loss: str
    task: str               # "classification" | "regression"
    steps_per_epoch: int    # updates in one pass over the training rows


class EngineLoop:
    """One session and its training schedule (see the module docstring)."""

    def __init__(self, commands, events, stop: threading.Event):
        self._commands, self._events, self._stop = commands, events, stop
        self._session: TrainingSession | None = None
        self._running = False
        self._speed: float | None = None
        self._pending_steps = 0
        self._epoch_target: int | None = None
        self._frame_due = False
        self._reported = None           # the Divergence last sent
        self._last_frame = -math.inf
        self._grid, self._grid_at = None, -math.inf    # the last grid sent, and when
        self._plane = None       # data with many inputs: None = its principal plane, or two inputs
        self._rate: deque[tuple[float, int]] = deque()
        self._pace_origin = (0.0, 0)
        self._sending = threading.Lock()    # a background job's thread sends too
        self._job: BackgroundJob | None = None
        self._trail = WeightTrail()
        self._trail_at = -math.inf

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while not self._stop.is_set():
                delay = self._delay()
                if self._commands.poll(IDLE_POLL if delay is None else delay):
                    self._handle(self._drain())
                elif delay is not None:
                    self._tick()
        except (EOFError, OSError, BrokenPipeError):
            pass                        # the GUI side closed its ends: nothing left to serve
        finally:
            self._abandon_job(wait=JOB_JOIN_SECONDS)     # nothing may follow the "stopped" message

    def _drain(self) -> list[tuple]:
        batch = [self._commands.recv()]
        while self._commands.poll(0):
            batch.append(self._commands.recv())
        return batch

    def _handle(self, batch: list[tuple]) -> None:
        # Of several queued projects (a slider being dragged) only the newest is built.
        last_project = max((k for k, (method, _) in enumerate(batch) if method is EngineLoop.set_project),
                           default=-1)
        for k, (method, args) in enumerate(batch):
            if self._stop.is_set():
                return
            if method is EngineLoop.set_project and k != last_project:
                continue
            self._command(method, args)

    def _send(self, kind: str, *payload) -> None:
        self.send_bytes(MESSAGE[kind] + pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))

    def send_bytes(self, data: bytes) -> None:
        with self._sending:
            self._events.send_bytes(data)

    # -- commands (sent by playground.worker.TrainingController) ------------------------
    def _command(self, method, args: tuple) -> None:
        if method not in COMMANDS:
            self._send("error", f"Unknown engine command {method!r}")
            return
        try:
            if method in SESSION_FREE or self._session is not None:
                method(self, *args)
        except ConfigError as exc:
            self._send("error", str(exc))
        except (EOFError, OSError):
            raise
        except Exception as exc:
            self._fail(method.__name__, exc)

    def _fail(self, what: str, exc: Exception) -> None:
        """A bug, not a user error: report it, stop training, keep the application alive."""
        traceback.print_exc()
        self._pending_steps, self._epoch_target = 0, None
        self._set_running(False)
        self._frame_due = False
        self._send("error", f"Unexpected error ({what}): {exc}")

    def set_project(self, project: Project, keep_weights: bool = False, state: TrainingState | None = None) -> None:
        """Build ``project``'s session; with ``state`` (a trained project's), continue from it
        bit for bit.  A ConfigError (the project, or a state that does not fit it) keeps the
        old session and is reported."""
        session = build_session(project)
        if state is not None:
            session.restore(state, source=f"the training state saved with {project.name or 'the project'}")
        elif keep_weights and self._session is not None:
            old = self._session.network.tensors
            for name, tensor in session.network.tensors.items():
                if name in old and old[name].shape == tensor.shape:
                    tensor[...] = old[name]
            session.optimizer.reset()
        if not (keep_weights and state is None and self._trail.fits(session.network.params)):
            self._trail = WeightTrail()     # the path so far led to other weights
        self._abandon_job()
        self._session = session
        self._pending_steps, self._epoch_target = 0, None
        self._restart_clock()
        info = SessionInfo(project, session.network.plan, session.dataset, project.training["loss"],
                           session.dataset.task, session.steps_per_epoch)
        self._emit_frame(info)
        if session.divergence is not None:      # saved after a divergence: say so, as when it happened
            self._reported = session.divergence
            self._send("diverged", session.divergence)

    def play(self) -> None:
        if self._session.divergence is not None:
            self._send("diverged", self._session.divergence)
        else:
            self._set_running(True)

    def pause(self) -> None:
        self._set_running(False)

    def toggle(self) -> None:
        self.pause() if self._running else self.play()

    def step(self, n: int = 1) -> None:
        self._pending_steps += max(0, int(n))

    def epoch(self) -> None:
        self._epoch_target = self._session.epoch_count + 1

    def reset(self) -> None:
        self._abandon_job()
        self._set_running(False)
        self._session.reset()
        self._trail = WeightTrail()
        self._pending_steps, self._epoch_target = 0, None
        self._frame_due = True

    def set_learning_rate(self, lr: float) -> None:
        self._session.set_learning_rate(lr)
        self._frame_due = True

    def set_optimizer(self, spec: dict) -> None:
        self._session.set_optimizer(spec, self._session.schedule_spec)
        self._frame_due = True

    def set_schedule(self, spec: dict | None) -> None:
        self._session.set_schedule(spec)
        self._frame_due = True

    def set_weight(self, tensor: str, index: tuple, value: float) -> None:
        """One weight or bias set by hand (the neuron view's edge editor), between two
        training chunks; the next frame shows its loss, output map and views at once.

        The optimiser keeps its state (momentum, Adam's moments), as after torch's
        ``with torch.no_grad(): w[j, i] = value``: one edited weight must not wipe what
        the optimiser has learnt about every other weight.  The next update therefore
        starts from the new value with the old velocity.  A divergence stays until
        Reset or a new learning rate (one weight rarely cures it)."""
        target = self._session.network.tensors.get(tensor) if isinstance(tensor, str) else None
        if target is None:
            names = ", ".join(self._session.network.tensors)
            raise ConfigError(f"Cannot set {brief(tensor)}: this network has no such weight tensor (it has {names})")
        at = _checked_index(tensor, index, target.shape)
        largest = float(np.finfo(target.dtype).max)        # a float32 network cannot hold 1e300
        name = f"{tensor}[{', '.join(map(str, at))}]"
        target[at] = number(f"Cannot set {name} to {brief(value)}", value, low=-largest, high=largest)
        self._frame_due = True

    def load_weights(self, tensors: dict, source: str) -> None:
        """Replace every weight (File > Load weights; checked again here, all or nothing).
        The optimiser starts afresh and the step count stays (``TrainingSession.load_weights``)."""
        self._abandon_job()                 # a race or landscape of the old weights means nothing now
        self._session.load_weights(tensors, source=source)
        self._trail = WeightTrail()
        self._frame_due = True

    def send_state(self, token) -> None:
        """Send the session's training state (None before any session) with ``token``."""
        self._send("state", token, None if self._session is None else self._session.state())

    def explain(self, request: ExplainRequest) -> None:
        try:
            self._send("explained", explain(self._session, request))
        except ValueError as exc:           # a weight or row that this network does not have
            self._send("error", f"Cannot explain {request.weight}: {exc}")

    def trace_row(self, row_index: int, subset: str = "train") -> None:
        """One row through forward, backward and one SGD step (fast: answered inline)."""
        try:
            self._send("traced", row_trace(self._session, row_index, subset))
        except ValueError as exc:           # TraceUnsupported too: its message says why
            self._send("trace failed", f"Cannot trace {subset} row {row_index}: {exc}")

    def race(self, methods: tuple, budget: int) -> None:
        if self._busy_with() is not None:
            self._send("error", f"{self._busy_with()} is already running: cancel it or wait for it to finish.")
            return
        self._start_job(RaceJob(RaceStart.of(self._session), self._send, self._stop, tuple(methods), int(budget),
                                self._trail))

    def step_size_demo(self, steps: int) -> None:
        """Plain gradient descent at 0.5, 0.9 and 1.1 x 2/lambda_max from the current weights."""
        if not self._refused("step_size_demo"):
            self._start_job(StepSizeDemoJob(RaceStart.of(self._session), self._send, self._stop, steps))

    def landscape(self, kind: str, resolution: int | None = None) -> None:
        """The loss around the current weights along ``kind`` directions, with the training path."""
        if self._refused("landscape"):
            return
        s = self._session
        trajectory = self._trail.trajectory(s.step_count, s.network.params)
        if kind not in LANDSCAPE_KINDS:
            self._send("job failed", "landscape", f"Cannot compute the loss landscape: unknown directions "
                                                  f"{kind!r}; choose one of {', '.join(LANDSCAPE_KINDS)}.")
        elif kind == "pca" and len(trajectory) < 2:
            self._send("job failed", "landscape", "Cannot compute the loss landscape: its principal-component "
                                                  "directions come from the path training took, and there is no "
                                                  "path yet. Train a few steps first.")
        else:
            self._start_job(LandscapeJob(RaceStart.of(s), self._send, self._stop, kind, resolution, trajectory,
                                         self._trail.race_paths()))

    def cancel_race(self) -> None:
        """Stop the running race at its next evaluation; what it has so far is sent, marked."""
        if self._job is not None and self._job.kind == "race":
            self._job.cancel()

    def cancel_job(self) -> None:
        """Stop the running demo or landscape at its next evaluation; it sends no result."""
        if self._job is not None and self._job.kind != "race":
            self._job.cancel()

    def _busy_with(self) -> str | None:
        """What runs in the background ("A race", ...), or None."""
        if self._job is None or not self._job.alive():
            return None
        return self._job.title[0].upper() + self._job.title[1:]

    def _refused(self, kind: str) -> bool:
        busy = self._busy_with()
        if busy is not None:
            self._send("job failed", kind, f"{busy} is already running: cancel it or wait for it to finish.")
        return busy is not None

    def _start_job(self, job: BackgroundJob) -> None:
        # Training pauses so the job has the engine's time to itself and starts from
        # the weights on screen; Play and Step still work while it runs (both slower).
        self._set_running(False)
        self._job = job
        job.start()

    def _abandon_job(self, wait: float = 0.0) -> None:
        """The job's weights are gone (a new network, Reset, stopping): stop, send no result."""
        if self._job is not None:
            self._job.abandon()
            self._job.join(wait)

    def set_speed(self, steps_per_second: float | None) -> None:
        self._speed = None if steps_per_second is None else max(1e-3, float(steps_per_second))
        self._restart_clock()

    def request_frame(self) -> None:
        self._frame_due = True

    def set_plane(self, choice: tuple[str, str] | None) -> None:
        """Draw data with many inputs over its principal plane (None) or two of its inputs."""
        self._plane = None if choice is None else (str(choice[0]), str(choice[1]))
        self._grid, self._frame_due = None, True      # the next frame brings the new plane

    def stop(self) -> None:
        self._stop.set()

    # -- training ------------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self._restart_clock()
            self._frame_due = True
            self._send("running", running)

    def _restart_clock(self) -> None:
        step = self._session.step_count if self._session else 0
        self._pace_origin = (time.perf_counter(), step)
        self._rate.clear()

    def _train(self, limit: int) -> None:
        """Step up to ``limit`` times (stopping at an epoch target) for at most CHUNK_SECONDS."""
        s, stop = self._session, self._stop
        deadline = time.perf_counter() + CHUNK_SECONDS
        for _ in range(limit):
            if s.divergence is not None or stop.is_set():
                break
            if self._epoch_target is not None and s.epoch_count >= self._epoch_target:
                self._epoch_target, self._frame_due = None, True
                break
            s.step(1)
            if self._pending_steps:
                self._pending_steps -= 1
                self._frame_due |= self._pending_steps == 0
            if time.perf_counter() >= deadline:
                break
        if self._epoch_target is not None and s.epoch_count >= self._epoch_target:
            self._epoch_target, self._frame_due = None, True

    def _tick(self) -> None:
        try:
            with np.errstate(all="ignore"):     # overflow is detected and reported as divergence
                self._advance()
        except (EOFError, OSError):
            raise
        except Exception as exc:
            self._fail("training", exc)

    def _advance(self) -> None:
        s = self._session
        if s is None:
            return
        if self._pending_steps or self._epoch_target is not None:
            self._train(self._pending_steps or sys.maxsize)
        elif self._running:
            if self._speed is None:
                self._train(sys.maxsize)
            else:
                t0, s0 = self._pace_origin
                self._train(int((time.perf_counter() - t0) * self._speed) - (s.step_count - s0))
                behind = int((time.perf_counter() - t0) * self._speed) - (s.step_count - s0)
                if behind > 1 + self._speed * 0.1:      # cannot keep up: do not try to catch up later
                    self._pace_origin = (time.perf_counter(), s.step_count)
            self._rate.append((time.perf_counter(), s.step_count))
        if s.divergence is not None:
            self._pending_steps, self._epoch_target = 0, None     # the session will not step
        if s.divergence is not None and s.divergence is not self._reported:
            self._reported = s.divergence
            self._set_running(False)
            self._emit_frame()
            self._send("diverged", s.divergence)
        elif (self._running or self._frame_due) and time.perf_counter() - self._last_frame >= FRAME_INTERVAL:
            self._emit_frame()

    def _delay(self) -> float | None:
        """Seconds until the next tick is due, or None when there is nothing to do."""
        if self._session is None:
            return None
        now = time.perf_counter()
        if self._pending_steps or self._epoch_target is not None or (self._running and self._speed is None):
            return 0.0
        if self._running:
            t0, s0 = self._pace_origin
            delay = t0 + (self._session.step_count - s0 + 1) / self._speed - now
            if self._frame_due:
                delay = min(delay, self._last_frame + FRAME_INTERVAL - now)
            return max(0.0, delay)
        if self._frame_due:
            return max(0.0, self._last_frame + FRAME_INTERVAL - now)
        return None

    def _steps_per_second(self) -> float:
        rate = self._rate
        while len(rate) > 2 and rate[-1][0] - rate[0][0] > RATE_WINDOW:
            rate.popleft()
        if not self._running or len(rate) < 2 or rate[-1][0] <= rate[0][0]:
            return 0.0
        return (rate[-1][1] - rate[0][1]) / (rate[-1][0] - rate[0][0])

    def _emit_frame(self, info: SessionInfo | None = None) -> None:
        now = time.perf_counter()
        # A paused, stepped, reset or new session always gets a fresh grid.
        reuse = (self._running and not self._frame_due and info is None and self._grid is not None
                 and now - self._grid_at < GRID_INTERVAL)
        frame = compute_frame(self._session, self._steps_per_second(), self._grid if reuse else None, self._plane)
        if not reuse:
            self._grid, self._grid_at = frame.grid, now
        self._last_frame, self._frame_due = now, False
        if now - self._trail_at >= TRAIL_INTERVAL or not self._running:
            self._trail.record(self._session.step_count, self._session.network.params)
            self._trail_at = now
        if info is not None:
            self._send("frame, new session", frame, info)
        elif reuse:
            self._send("frame, same grid", replace(frame, grid=None), None)
        else:
            self._send("frame", frame, None)


def _checked_index(tensor: str, index, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``index`` as a tuple of ints inside ``shape`` (ConfigError naming what is wrong)."""
    roles = ("row (the unit it feeds)", "column (the input it comes from)") if len(shape) == 2 else ("unit",)
    where = f"Cannot set {tensor} at {brief(index)}"
    if not isinstance(index, (tuple, list)) or len(index) != len(shape):
        raise ConfigError(f"{where}: it is indexed [{', '.join(roles)}], shape {list(shape)}")
    for i, size, role in zip(index, shape, roles):
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not 0 <= i < size:
            raise ConfigError(f"{where}: its {role} must be an integer in 0..{size - 1}, got {brief(i)}")
    return tuple(int(i) for i in index)


# What the GUI may send (see the module docstring); set_project, stop, set_speed,
# send_state and the cancels work before any session exists, the others wait for one.
COMMANDS = frozenset({
    EngineLoop.set_project, EngineLoop.play, EngineLoop.pause, EngineLoop.toggle, EngineLoop.step,
    EngineLoop.epoch, EngineLoop.reset, EngineLoop.set_learning_rate, EngineLoop.set_optimizer,
    EngineLoop.set_schedule, EngineLoop.explain, EngineLoop.race, EngineLoop.set_speed,
    EngineLoop.request_frame, EngineLoop.stop, EngineLoop.cancel_race, EngineLoop.trace_row,
    EngineLoop.step_size_demo, EngineLoop.landscape, EngineLoop.cancel_job, EngineLoop.set_weight,
    EngineLoop.load_weights, EngineLoop.send_state, EngineLoop.set_plane,
})
SESSION_FREE = frozenset({EngineLoop.set_project, EngineLoop.stop, EngineLoop.set_speed, EngineLoop.cancel_race,
                          EngineLoop.cancel_job, EngineLoop.send_state, EngineLoop.set_plane})


def serve(commands, events, stop) -> None:
    """A process's (or thread's) whole life: one BLAS thread, then the loop."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)            # two BLAS threads made steps 7-36x slower (bench/engine.py)
    except Exception:                   # not installed, or no BLAS it knows: not essential
        pass
    loop = EngineLoop(commands, events, stop)
    try:
        loop.run()
    finally:
        try:
            loop.send_bytes(MESSAGE["stopped"])
        except (OSError, EOFError, ValueError):
            pass
