"""Training beside the GUI: the GUI-side face of the engine loop.

Design
------
``TrainingController`` lives in the GUI thread and keeps the API the windows use
(commands as methods, results as Qt signals).  The engine itself
(``playground.engine_loop``: the session, its training schedule, frames,
explanations, races) runs in a separate **process**, so training never holds the
GUI's GIL.  Measured before this design, with both in one process, every repaint
competed with training for the one GIL: views redrew 2-4 times a second and
letting them draw at 30 Hz cut training to a quarter.  Two pipes join them:

* commands: the GUI thread sends ``(EngineLoop.method, arguments)`` (a few hundred
  bytes, never blocking in practice); the engine applies them in order between
  training chunks.
* events: a thread of this process (``_Reader``) blocks on the pipe and puts the raw
  messages in an inbox, signalling the GUI thread only when the inbox was empty; the
  GUI thread unpickles them in order and emits the signals.  Of a run of frames only
  the newest is kept, so the GUI never falls behind however fast frames come.  A
  ``SessionInfo`` travels with the first frame of its session, so
  ``session_changed`` always precedes that session's frames.

Where a process cannot be started (or ``NNPG_ENGINE=thread`` asks for it) the same
engine loop runs in a thread of this process, with the same pipes: everything works,
only the GIL is shared again (then the interpreter hands it over every millisecond).

Start-up: on Linux processes come from a fork server that has imported the engine
once, so a new window's engine starts in milliseconds; elsewhere they are spawned.
Shutdown: ``shutdown`` sets the stop flag (checked between training steps and by a
running race), sends EngineLoop.stop, joins the engine (terminating it past the deadline)
and then the bridge, which ends when the engine closes its end of the pipe.

Races run beside training in the engine (on a thread of their own there): every other
command is served while one runs.  ``race_busy`` says when one is running (for an
app-wide indicator), ``race_progress`` how far it got, and ``cancel_race`` stops it
at its next evaluation; ``raced`` then carries what it finished, the interrupted
method's trace marked ``cancelled``.

The 2/lambda demo and the loss landscape run the same way (``request_step_size_demo``,
``request_landscape``): ``job_busy(kind, busy)``, ``job_progress(kind, fraction,
text)``, then ``step_size_demo_ready`` or ``landscape_ready`` (``result_step(kind)``
is the step whose weights it started from) or ``job_failed(kind, message)``.
``cancel_job`` stops it with no result.  One background job (race included) runs at a
time; another is refused with a message.  ``request_trace`` answers at once with
``trace_ready`` (a ``playground.explain.RowTrace``) or ``trace_failed(message)``.

Trained projects: ``request_state(token)`` answers with ``state_ready(token, state)``
(the whole training state, for playground.checkpoint.save_trained), and
``set_project(project, state=...)`` continues from such a state; ``load_weights``
replaces the weights with those of any exported weight file.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import sys
import threading
import time
from dataclasses import replace

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from playground.engine_loop import MESSAGE, EngineLoop, SessionInfo, serve
from playground.explain import ExplainRequest
from playground.frames import TrainingFrame
from playground.project import Project

__all__ = ["JOB_KINDS", "SessionInfo", "TrainingController"]

ENGINE_MODE_VARIABLE = "NNPG_ENGINE"      # "thread" runs the engine in this process


FRAMES = (MESSAGE["frame"], MESSAGE["frame, same grid"])       # plain frames: only the newest matters
JOB_KINDS = ("step_size_demo", "landscape")    # the background jobs besides races (job_busy's kinds)


class _Inbox:
    """The engine's messages as raw bytes, in order, between the reader thread and the
    GUI thread.  A run of plain frames keeps only the newest (the GUI draws at its own
    pace); if that drops the last frame carrying a grid, it is kept aside for its grid."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: list[bytes] = []
        self._grid_carrier: bytes | None = None

    def put(self, data: bytes) -> bool:
        """Store; True if the inbox was empty (the GUI needs a notification)."""
        with self._lock:
            was_empty = not self._items
            if data[:1] in FRAMES and self._items and self._items[-1][:1] in FRAMES:
                dropped = self._items.pop()
                if data[:1] == MESSAGE["frame, same grid"] and dropped[:1] == MESSAGE["frame"]:
                    self._grid_carrier = dropped
            self._items.append(data)
            return was_empty

    def take(self) -> tuple[bytes | None, list[bytes]]:
        with self._lock:
            taken = (self._grid_carrier, self._items)
            self._grid_carrier, self._items = None, []
            return taken


class _Reader:
    """Reads the engine's messages on a daemon thread and hands them to the GUI thread.

    The thread only moves bytes: it unpickles nothing and creates (almost) no Python
    objects.  Where Python objects are created, the garbage collector may run, and
    a collected Qt object (a closed window, say) is then destroyed in *this* thread:
    Qt cannot stop its timers from here, and one firing later crashes the process.
    Unpickling happens in the GUI thread (``TrainingController._on_posted``).
    A Python thread rather than a QThread: a QThread still running when its object
    is collected aborts the whole process.
    """

    def __init__(self, events, inbox: _Inbox, notify):
        self._events, self._inbox, self._notify = events, inbox, notify
        self._thread = threading.Thread(target=self._run, name="training reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_ms: int) -> bool:
        self._thread.join(max(0, timeout_ms) / 1000)
        return not self._thread.is_alive()

    def isRunning(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        stopped = MESSAGE["stopped"]
        while True:
            try:
                data = self._events.recv_bytes()
            except (EOFError, OSError):
                return                  # the engine closed its end: it has stopped
            if data == stopped:
                return
            if self._inbox.put(data):
                try:
                    self._notify()
                except RuntimeError:    # the controller was deleted with its window: nobody listens
                    return


@contextlib.contextmanager
def _main_module_hidden():
    """Start a process without re-running the parent's main script in it.

    multiprocessing re-imports ``__main__`` in a spawned (or fork-server) child so
    that functions defined there can be unpickled.  The engine's entry point lives in
    playground.engine_loop, so that import is pure cost (Qt and the whole app for the
    ``playground`` script) and, for a script without an ``if __name__ ==
    "__main__"`` guard, a second copy of the script running in the engine process.
    """
    main = sys.modules.get("__main__")
    saved = {name: main.__dict__[name] for name in ("__spec__", "__file__") if main and name in main.__dict__}
    try:
        if main is not None:
            main.__spec__ = None
            main.__dict__.pop("__file__", None)
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


def _engine_context():
    """Processes from a fork server (Linux: fast, and never a fork of this Qt process)
    or spawned (elsewhere); None when the environment asks for the in-thread engine."""
    if os.environ.get(ENGINE_MODE_VARIABLE, "").lower() == "thread":
        return None
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["playground.engine_loop"])
        return context
    return multiprocessing.get_context("spawn")


class TrainingController(QObject):
    """The GUI-thread face of the training engine (see the module docstring).

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
    race_progress = Signal(object)      # engine.race.RaceProgress, a few times a second while racing
    race_busy = Signal(bool)            # a race started (True) or ended: finished, cancelled or failed
    trace_ready = Signal(object)        # playground.explain.RowTrace, after request_trace()
    trace_failed = Signal(str)          # why that row could not be traced (a network with add/concat, a bad row)
    job_busy = Signal(str, bool)        # a JOB_KINDS job started (True) or ended: finished, cancelled or failed
    job_progress = Signal(str, float, str)      # kind, fraction of the whole job, what it is doing now
    step_size_demo_ready = Signal(object)       # engine.step_size_demo.StepSizeDemo
    landscape_ready = Signal(object)    # engine.landscape.LossLandscape
    job_failed = Signal(str, str)       # kind, why (in words; the job then ends with job_busy(kind, False))
    state_ready = Signal(object, object)    # token, engine.session.TrainingState (or None), after request_state()
    reset_requested = Signal()          # reset() or load_weights() was called: edits of the current weights are moot
    _posted = Signal()                  # the inbox went from empty to full (emitted by the reader thread)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._running = False
        self._racing = False
        self._job: str | None = None    # the JOB_KINDS job running, as last reported
        self._result_steps: dict[str, int] = {}
        self._stopped = False
        self._frame: TrainingFrame | None = None
        self._info: SessionInfo | None = None
        self._inbox = _Inbox()
        self._grid = None               # the last grid received: "same grid" frames carry none
        self._start_engine()
        self._posted.connect(self._on_posted, Qt.QueuedConnection)
        self._bridge = _Reader(self._events, self._inbox, self._posted.emit)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._bridge.start()

    def _start_engine(self) -> None:
        context = _engine_context()
        if context is not None:
            try:
                self._launch(context)
                return
            except (OSError, RuntimeError, ValueError) as exc:     # no processes here: use a thread
                print(f"NN Playground: training in a thread of the GUI process ({exc})", file=sys.stderr)
        self._launch(None)

    def _launch(self, context) -> None:
        pipes = context or multiprocessing
        commands_in, self._commands = pipes.Pipe(duplex=False)
        self._events, events_out = pipes.Pipe(duplex=False)
        if context is None:
            sys.setswitchinterval(0.001)    # one GIL: hand it to the GUI every millisecond
            self._stop = threading.Event()
            self._engine = threading.Thread(target=serve, args=(commands_in, events_out, self._stop),
                                            name="training", daemon=True)
            self.separate_process = False
        else:
            self._stop = context.Event()
            self._engine = context.Process(target=serve, args=(commands_in, events_out, self._stop),
                                           name="nn-playground training", daemon=True)
            self.separate_process = True
        with _main_module_hidden():
            self._engine.start()
        if context is not None:
            # The engine holds these ends now; closing ours lets the bridge see the
            # end of the pipe if the engine dies.
            commands_in.close()
            events_out.close()

    # -- commands ------------------------------------------------------------------------
    def _send(self, command, *args) -> None:
        """Queue ``command`` (one of EngineLoop's methods) for the engine, after earlier ones."""
        if self._stopped:
            return
        try:
            self._commands.send((command, args))
        except (OSError, ValueError):       # the engine is gone (it crashed): say so once
            self._stopped = True
            self.error.emit("The training engine stopped unexpectedly; save your project and restart.")

    def set_project(self, project: Project, keep_weights: bool = False, state=None) -> None:
        """Train ``project`` from fresh weights, the current ones (``keep_weights``, where the
        shapes fit) or a trained project's ``state`` (engine.session.TrainingState), bit for bit."""
        self._send(EngineLoop.set_project, project, keep_weights, state)

    def play(self) -> None: self._send(EngineLoop.play)
    def pause(self) -> None: self._send(EngineLoop.pause)
    def toggle(self) -> None: self._send(EngineLoop.toggle)
    def step(self, n: int = 1) -> None: self._send(EngineLoop.step, int(n))
    def epoch(self) -> None: self._send(EngineLoop.epoch)
    def reset(self) -> None:
        """Fresh weights (also pauses); ``reset_requested`` tells who holds edits of the old ones."""
        self._send(EngineLoop.reset)
        self.reset_requested.emit()
    def set_learning_rate(self, lr: float) -> None: self._send(EngineLoop.set_learning_rate, lr)
    def set_optimizer(self, spec: dict) -> None: self._send(EngineLoop.set_optimizer, dict(spec))
    def set_schedule(self, spec: dict | None) -> None:
        self._send(EngineLoop.set_schedule, None if spec is None else dict(spec))
    def set_speed(self, steps_per_second: float | None) -> None: self._send(EngineLoop.set_speed, steps_per_second)
    def request_frame(self) -> None: self._send(EngineLoop.request_frame)
    def set_plane(self, choice) -> None: self._send(EngineLoop.set_plane, choice)
    def set_weight(self, tensor: str, index: tuple, value: float) -> None:
        """``tensor``[``index``] = ``value`` ("h1.weight", (unit, source) or "h1.bias", (unit,)),
        between two training chunks; the optimiser keeps its state (see EngineLoop.set_weight)."""
        self._send(EngineLoop.set_weight, tensor, index, value)     # checked there, with a message
    def explain(self, request: ExplainRequest) -> None: self._send(EngineLoop.explain, request)
    def race(self, methods: tuple, budget: int) -> None: self._send(EngineLoop.race, tuple(methods), int(budget))
    def cancel_race(self) -> None: self._send(EngineLoop.cancel_race)
    def request_trace(self, row: int, subset: str = "train") -> None:
        self._send(EngineLoop.trace_row, int(row), str(subset))
    def request_step_size_demo(self, steps: int) -> None: self._send(EngineLoop.step_size_demo, steps)
    def request_landscape(self, kind: str, resolution: int | None = None) -> None:
        self._send(EngineLoop.landscape, kind, resolution)
    def cancel_job(self) -> None: self._send(EngineLoop.cancel_job)
    def request_state(self, token) -> None:
        """Ask for the training state (to save a trained project); ``state_ready(token, state)``
        answers after every command sent before, with None when no network is built yet."""
        self._send(EngineLoop.send_state, token)
    def load_weights(self, tensors: dict, source: str) -> None:
        """Replace every weight with ``tensors`` (already checked by playground.checkpoint.read_weight_file);
        the optimiser starts afresh, the step count stays.  Edits of the old weights are moot."""
        self._send(EngineLoop.load_weights, dict(tensors), str(source))
        self.reset_requested.emit()

    # -- the engine ---------------------------------------------------------------------
    @property
    def engine_pid(self) -> int:
        """The process training runs in (this process's id in the in-thread mode)."""
        return self._engine.pid if self.separate_process else os.getpid()

    @property
    def engine_alive(self) -> bool:
        return self._engine.is_alive() or self._bridge.isRunning()

    # -- state as last reported ------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def is_racing(self) -> bool:
        return self._racing

    @property
    def busy_job(self) -> str | None:
        """The JOB_KINDS job running (as last reported), or None."""
        return self._job

    def result_step(self, kind: str) -> int | None:
        """The step whose weights the last result of ``kind`` ("race" excepted) started from."""
        return self._result_steps.get(kind)

    @property
    def latest_frame(self) -> TrainingFrame | None:
        return self._frame

    @property
    def session_info(self) -> SessionInfo | None:
        return self._info

    @Slot()
    def _on_posted(self) -> None:
        grid_carrier, messages = self._inbox.take()
        if grid_carrier is not None:
            self._grid = pickle.loads(memoryview(grid_carrier)[1:])[0].grid
        for data in messages:
            self._deliver(data[:1], pickle.loads(memoryview(data)[1:]))

    def _deliver(self, kind: bytes, payload: tuple) -> None:
        if kind in (MESSAGE["frame"], MESSAGE["frame, same grid"], MESSAGE["frame, new session"]):
            frame, info = payload
            if kind == MESSAGE["frame, same grid"]:
                frame = replace(frame, grid=self._grid)
            else:
                self._grid = frame.grid
            if info is not None:
                self._info = info
                self.session_changed.emit(info)
            self._frame = frame
            self.frame_ready.emit(frame)
        elif kind == MESSAGE["running"]:
            self._on_running(payload[0])
        elif kind == MESSAGE["racing"]:
            self._on_racing(payload[0])
        elif kind == MESSAGE["job busy"]:
            self._on_job(*payload)
        elif kind == MESSAGE["job done"]:
            job, result, step = payload
            self._result_steps[job] = step
            {"step_size_demo": self.step_size_demo_ready, "landscape": self.landscape_ready}[job].emit(result)
        elif kind == MESSAGE["state"]:
            self.state_ready.emit(*payload)
        elif kind in (MESSAGE["job progress"], MESSAGE["job failed"]):
            (self.job_progress if kind == MESSAGE["job progress"] else self.job_failed).emit(*payload)
        else:
            signal = {MESSAGE["diverged"]: self.diverged, MESSAGE["error"]: self.error,
                      MESSAGE["explained"]: self.explained, MESSAGE["raced"]: self.raced,
                      MESSAGE["race progress"]: self.race_progress, MESSAGE["traced"]: self.trace_ready,
                      MESSAGE["trace failed"]: self.trace_failed}[kind]
            signal.emit(payload[0])

    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self._running = running
        self.running_changed.emit(running)

    def _on_racing(self, racing: bool) -> None:
        if racing != self._racing:
            self._racing = racing
            self.race_busy.emit(racing)

    def _on_job(self, kind: str, busy: bool) -> None:
        if busy:
            self._job = kind
        elif self._job == kind:
            self._job = None
        self.job_busy.emit(kind, busy)

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop training, end the engine and the bridge; True if they stopped in time.  Idempotent."""
        deadline = time.monotonic() + max(0, timeout_ms) / 1000
        if not self._stopped:
            self._stopped = True
            self._stop.set()
            try:
                self._commands.send((EngineLoop.stop, ()))
            except (OSError, ValueError):
                pass
        self._engine.join(max(0.0, deadline - time.monotonic()))
        if self._engine.is_alive() and self.separate_process:
            self._engine.terminate()        # stuck in a long NumPy call: it holds nothing we need
            self._engine.join(0.5)
        stopped = not self._engine.is_alive()
        stopped &= self._bridge.wait(max(0, int((deadline - time.monotonic()) * 1000)) + 100)
        if stopped:
            self._commands.close()
            self._events.close()
            if self._running:
                self._running = False
                self.running_changed.emit(False)
            self._on_racing(False)
            if self._job is not None:
                self._on_job(self._job, False)
        return stopped
