"""Training in a background thread: the only place where the engine and Qt meet.

Design
------
``TrainingController`` lives in the GUI thread.  It owns a ``QThread`` and a
``_Worker`` QObject moved to that thread; the worker owns the ``TrainingSession``
and is the only code that touches it.  Every UI command (play, pause, step, ...)
is sent as one queued signal ``(name, argument)``, so commands arrive in order
and take effect between two training steps.  The GUI thread never trains and
never waits on the worker, except in ``shutdown``.

Training runs in chunks driven by a single-shot ``QTimer`` in the worker thread:
each tick trains for about ``CHUNK_SECONDS`` and then returns to the worker's event
loop, which delivers queued commands before the next tick.  A paced speed
(``set_speed(10)``) simply delays the next tick until the next step is due, so
slow training sleeps in the event loop instead of busy-waiting.

Why it is built this way:

* The GIL.  A tiny network steps in microseconds of NumPy calls that barely
  release the GIL, so the worker starves the GUI thread (measured: 10 fps, 120 ms
  timer lateness).  ``sys.setswitchinterval(0.001)`` makes the interpreter hand
  the GIL over every millisecond, and BLAS is limited to one thread (threadpoolctl,
  if installed) because two BLAS threads halved throughput once the UI also drew.
* Throttling at the source.  A frame (``compute_frame``: evaluation, grid, copies
  of the weights) is built at most every ``FRAME_INTERVAL`` seconds however fast
  training runs; one frame per step starved the UI and grew memory without bound.
  Frames travel through a one-slot mailbox: the worker replaces the pending frame
  and only signals when the slot was empty, so the GUI thread delivers the newest
  frame once and never holds more than one in flight.  A new ``SessionInfo`` goes
  through the same mailbox (dropping an older session's pending frame) so
  ``session_changed`` always precedes the first frame of that session.  Likewise a
  burst of ``set_project`` calls (a slider being dragged) builds only the newest.
* The quit/wait trap.  Connecting ``finished`` to ``thread.quit`` and then calling
  ``thread.wait()`` deadlocks: the quit is queued to the blocked GUI thread.
  ``shutdown`` sets a ``threading.Event`` (checked between steps, so a chunk ends
  at once), calls ``thread.quit()`` directly, then ``thread.wait(deadline)``.  The
  worker and its timer are deleted in their own thread (``finished`` ->
  ``deleteLater``), so Qt never warns about timers stopped from another thread.
"""
from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, Qt, QThread, QTimer, Signal, Slot

from engine.data import Dataset
from engine.errors import ConfigError
from engine.graph import Plan
from engine.session import TrainingSession
from engine.race import race
from playground.explain import ExplainRequest, explain
from playground.frames import TrainingFrame, compute_frame
from playground.project import Project, build_session

CHUNK_SECONDS = 0.004      # training per tick before the worker's event loop runs again
FRAME_INTERVAL = 1 / 45    # at most 45 frames a second (the UI draws >= 30 of them)
GRID_INTERVAL = 0.1        # while training runs, the input-plane grid is re-evaluated at most 10 times a
                           # second: the views that draw it repaint less often than that, and it costs
                           # three times the rest of a frame
RATE_WINDOW = 1.0          # steps_per_second is measured over this many seconds


@dataclass(frozen=True)
class SessionInfo:
    """Emitted whenever a (new) session is in place."""

    project: Project
    plan: Plan
    dataset: Dataset
    loss: str
    task: str               # "classification" | "regression"


class _Mailbox:
    """What the two threads share: the newest undelivered SessionInfo and frame, and the
    number of the newest ``set_project`` (older queued ones are skipped, not built)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._info = self._frame = None
        self.project_number = 0         # written by the GUI thread only

    def put(self, frame: TrainingFrame, info: SessionInfo | None = None) -> bool:
        """Store; True if the slot was empty (the receiver needs a notification)."""
        with self._lock:
            was_empty = self._info is None and self._frame is None
            if info is not None:
                self._info = info
            self._frame = frame
            return was_empty

    def take(self) -> tuple[SessionInfo | None, TrainingFrame | None]:
        with self._lock:
            taken, self._info, self._frame = (self._info, self._frame), None, None
            return taken


class _Worker(QObject):
    """Owns the session; runs in the training thread.  Only ``_command`` is called from outside."""

    posted = Signal()                   # the mailbox went from empty to full
    explained = Signal(object)          # an Explanation (on request only, so not throttled)
    raced = Signal(object)              # list of engine.race.RaceTrace (on request only)
    running_changed = Signal(bool)
    diverged = Signal(object)
    error = Signal(str)

    def __init__(self, mailbox: _Mailbox, stop: threading.Event):
        super().__init__()
        self._mailbox, self._stop = mailbox, stop
        self._session: TrainingSession | None = None
        self._running = False
        self._speed: float | None = None
        self._pending_steps = 0
        self._epoch_target: int | None = None
        self._frame_due = False
        self._reported = None           # the Divergence last emitted
        self._last_frame = -math.inf
        self._grid, self._grid_at = None, -math.inf    # the last grid evaluated, and when
        self._rate: deque[tuple[float, int]] = deque()
        self._pace_origin = (0.0, 0)
        self._timer = QTimer(self)      # a child: moves to the thread with the worker
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    # -- commands (queued from the GUI thread) ----------------------------------------
    @Slot(str, object)
    def _command(self, name: str, arg) -> None:
        if self._stop.is_set():
            return
        try:
            if name == "project":
                if arg[0] == self._mailbox.project_number:     # else a newer project is queued
                    self._set_project(*arg[1:])
            elif self._session is not None:
                getattr(self, "_cmd_" + name)(arg)
        except ConfigError as exc:
            self.error.emit(str(exc))
        except Exception as exc:
            self._fail(name, exc)
        self._schedule()

    def _fail(self, what: str, exc: Exception) -> None:
        """A bug, not a user error: report it, stop training, keep the application alive."""
        traceback.print_exc()
        self._pending_steps, self._epoch_target = 0, None
        self._set_running(False)
        self._frame_due = False
        self.error.emit(f"Unexpected error ({what}): {exc}")

    def _set_project(self, project: Project, keep_weights: bool) -> None:
        session = build_session(project)            # ConfigError: the old session stays
        if keep_weights and self._session is not None:
            old = self._session.network.tensors
            for name, tensor in session.network.tensors.items():
                if name in old and old[name].shape == tensor.shape:
                    tensor[...] = old[name]
            session.optimizer.reset()
        self._session = session
        self._pending_steps, self._epoch_target = 0, None
        self._restart_clock()
        info = SessionInfo(project, session.network.plan, session.dataset, project.training["loss"],
                           session.dataset.task)
        self._emit_frame(info)

    def _cmd_play(self, _) -> None:
        if self._session.divergence is not None:
            self.diverged.emit(self._session.divergence)
        else:
            self._set_running(True)

    def _cmd_pause(self, _) -> None:
        self._set_running(False)

    def _cmd_toggle(self, _) -> None:
        self._cmd_pause(None) if self._running else self._cmd_play(None)

    def _cmd_step(self, n: int) -> None:
        self._pending_steps += max(0, int(n))

    def _cmd_epoch(self, _) -> None:
        self._epoch_target = self._session.epoch_count + 1

    def _cmd_reset(self, _) -> None:
        self._set_running(False)
        self._session.reset()
        self._pending_steps, self._epoch_target = 0, None
        self._frame_due = True

    def _cmd_lr(self, lr: float) -> None:
        self._session.set_learning_rate(lr)
        self._frame_due = True

    def _cmd_optimizer(self, spec: dict) -> None:
        self._session.set_optimizer(spec, self._session.schedule_spec)
        self._frame_due = True

    def _cmd_schedule(self, spec: dict | None) -> None:
        self._session.set_schedule(spec)
        self._frame_due = True

    def _cmd_explain(self, request: ExplainRequest) -> None:
        try:
            self.explained.emit(explain(self._session, request))
        except ValueError as exc:           # a weight or row that this network does not have
            self.error.emit(f"Cannot explain {request.weight}: {exc}")

    def _cmd_race(self, arg) -> None:
        # The race works on copies of the weights, but it occupies this thread for a
        # few seconds: training pauses so the comparison starts from fixed weights.
        methods, budget = arg
        self._set_running(False)
        try:
            self.raced.emit(race(self._session, methods, budget=budget, cancelled=self._stop.is_set))
        except ValueError as exc:
            self.error.emit(f"Cannot race: {exc}")

    def _cmd_speed(self, steps_per_second: float | None) -> None:
        self._speed = None if steps_per_second is None else max(1e-3, float(steps_per_second))
        self._restart_clock()

    def _cmd_frame(self, _) -> None:
        self._frame_due = True

    # -- the training loop -------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self._restart_clock()
            self._frame_due = True
            self.running_changed.emit(running)

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

    @Slot()
    def _tick(self) -> None:
        try:
            with np.errstate(all="ignore"):     # overflow is detected and reported as divergence
                self._advance()
        except Exception as exc:
            self._fail("training", exc)

    def _advance(self) -> None:
        s = self._session
        if self._stop.is_set() or s is None:
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
            self.diverged.emit(s.divergence)
        elif (self._running or self._frame_due) and time.perf_counter() - self._last_frame >= FRAME_INTERVAL:
            self._emit_frame()
        self._schedule()

    def _schedule(self) -> None:
        """Arm the timer for the next tick, or leave it idle when there is nothing to do."""
        if self._stop.is_set() or self._session is None:
            return
        now = time.perf_counter()
        if self._pending_steps or self._epoch_target is not None or (self._running and self._speed is None):
            delay = 0.0
        elif self._running:
            t0, s0 = self._pace_origin
            delay = t0 + (self._session.step_count - s0 + 1) / self._speed - now
            if self._frame_due:
                delay = min(delay, self._last_frame + FRAME_INTERVAL - now)
        elif self._frame_due:
            delay = self._last_frame + FRAME_INTERVAL - now
        else:
            self._timer.stop()
            return
        self._timer.start(max(0, math.ceil(delay * 1000)))

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
        frame = compute_frame(self._session, self._steps_per_second(), self._grid if reuse else None)
        if not reuse:
            self._grid, self._grid_at = frame.grid, now
        self._last_frame, self._frame_due = now, False
        if self._mailbox.put(frame, info):
            self.posted.emit()


_process_tuned = False


def _tune_process() -> None:
    """Once per process: hand the GIL over every millisecond and use one BLAS thread."""
    global _process_tuned
    if _process_tuned:
        return
    _process_tuned = True
    sys.setswitchinterval(0.001)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except Exception:       # not installed, or no BLAS it knows: not essential
        pass


class TrainingController(QObject):
    """The GUI-thread face of the training thread (see the module docstring).

    Commands are asynchronous; their effect shows in later signals.  ``step(n)`` and
    ``epoch()`` run at full speed even while paused; ``reset()`` also pauses; a new
    learning rate or schedule keeps the optimiser's state (a new optimiser starts
    afresh); ``set_project`` keeps the running state.  Commands are ignored until a
    project is set.  The owner must call ``shutdown()`` (e.g. in ``closeEvent``);
    ``QCoreApplication.aboutToQuit`` calls it too, as a safety net.
    """

    frame_ready = Signal(object)        # TrainingFrame (newest)
    running_changed = Signal(bool)
    diverged = Signal(object)           # engine.session.Divergence
    error = Signal(str)
    session_changed = Signal(object)    # SessionInfo
    explained = Signal(object)          # playground.explain.Explanation, after explain()
    raced = Signal(object)              # list of engine.race.RaceTrace, after race()
    _send = Signal(str, object)         # commands to the worker (queued)

    def __init__(self, parent=None):
        super().__init__(parent)
        _tune_process()
        self._running = False
        self._frame: TrainingFrame | None = None
        self._info: SessionInfo | None = None
        self._mailbox, self._stop = _Mailbox(), threading.Event()
        self._thread = QThread()
        self._thread.setObjectName("training")
        self._worker = _Worker(self._mailbox, self._stop)
        self._worker.moveToThread(self._thread)
        self._send.connect(self._worker._command, Qt.QueuedConnection)
        self._worker.posted.connect(self._on_posted, Qt.QueuedConnection)
        self._worker.running_changed.connect(self._on_running, Qt.QueuedConnection)
        self._worker.diverged.connect(self.diverged, Qt.QueuedConnection)
        self._worker.error.connect(self.error, Qt.QueuedConnection)
        self._worker.explained.connect(self.explained, Qt.QueuedConnection)
        self._worker.raced.connect(self.raced, Qt.QueuedConnection)
        self._thread.finished.connect(self._worker.deleteLater)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._thread.start()

    # -- commands ------------------------------------------------------------------------
    def _command(self, name: str, arg=None) -> None:
        if not self._stop.is_set():
            self._send.emit(name, arg)

    def set_project(self, project: Project, keep_weights: bool = False) -> None:
        self._mailbox.project_number += 1
        self._command("project", (self._mailbox.project_number, project, keep_weights))

    def play(self) -> None: self._command("play")
    def pause(self) -> None: self._command("pause")
    def toggle(self) -> None: self._command("toggle")
    def step(self, n: int = 1) -> None: self._command("step", int(n))
    def epoch(self) -> None: self._command("epoch")
    def reset(self) -> None: self._command("reset")     # also pauses
    def set_learning_rate(self, lr: float) -> None: self._command("lr", lr)
    def set_optimizer(self, spec: dict) -> None: self._command("optimizer", dict(spec))
    def set_schedule(self, spec: dict | None) -> None: self._command("schedule", None if spec is None else dict(spec))
    def set_speed(self, steps_per_second: float | None) -> None: self._command("speed", steps_per_second)
    def request_frame(self) -> None: self._command("frame")
    def explain(self, request: ExplainRequest) -> None: self._command("explain", request)
    def race(self, methods: tuple, budget: int) -> None: self._command("race", (tuple(methods), int(budget)))

    # -- state as last reported ------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def latest_frame(self) -> TrainingFrame | None:
        return self._frame

    @property
    def session_info(self) -> SessionInfo | None:
        return self._info

    @Slot()
    def _on_posted(self) -> None:
        info, frame = self._mailbox.take()
        if info is not None:
            self._info = info
            self.session_changed.emit(info)
        if frame is not None:
            self._frame = frame
            self.frame_ready.emit(frame)

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop training, quit and join the thread; True if it stopped in time.  Idempotent."""
        self._stop.set()
        if self._thread.isFinished():
            return True
        self._thread.quit()                 # directly: a queued quit would never run (see above)
        stopped = self._thread.wait(QDeadlineTimer(max(0, int(timeout_ms))))
        if stopped and self._running:
            self._running = False
            self.running_changed.emit(False)
        return stopped
