"""The desktop app under load: training speed, drawing rate, responsiveness, memory.

Offscreen, with the real main window on the spiral example (1600 x 1000):

* training steps/s with the whole UI live, against the same engine stepping
  headless in a plain loop, in alternating rounds (goal: at least 70%);
* repaints per second of each view, counted as a user would see them: Paint events
  reaching each view's widget (an event filter), not frames received.  Goals: output
  map, loss plot and neuron view >= 25 Hz, weight and gradient plots >= 10 Hz.  For
  the neuron view also how often its heatmaps and its edges change;
* frames received per second (the engine sends at most 60);
* event-loop latency while training: how late a 10 ms QTimer fires (goal: p95 < 20 ms);
* pause latency: controller.pause() until the GUI hears running_changed(False),
  which is after the worker has stopped (goal: < 100 ms);
* resident memory after 10,000 and after 1,000,000 steps of a tiny network with the
  UI live (memory must stay flat: every history is bounded).

    python bench/ui.py [--quick]      prints a table, writes bench/results/ui.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Run as a script, this file's folder comes first on sys.path and this file's name
# would shadow the ``ui`` package: put the repository root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.project import build_session, load_project  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "assets" / "examples" / "spiral.json"
RESULTS = ROOT / "bench" / "results" / "ui.json"


def rss_mib(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def app_rss_mib(window) -> float:
    """The GUI process plus the training engine's process (when it has one)."""
    engine = window.controller.engine_pid
    return rss_mib() + (rss_mib(engine) if engine != os.getpid() else 0.0)


def run_loop(seconds: float) -> None:
    """Let the event loop run (timers, frames, painting) for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def run_until(predicate, timeout: float) -> bool:
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            return False
        run_loop(0.01)
    return True


def headless_steps_per_second(project, seconds: float) -> float:
    """The engine alone, one step per call as the worker takes them."""
    session = build_session(project)
    session.step(200)                               # warm up caches and allocations
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        session.step(1)
        steps += 1
    return steps / (time.perf_counter() - start)


class Lateness:
    """A 10 ms timer that records how late each tick fires."""

    def __init__(self, interval_ms: int = 10):
        self.interval = interval_ms / 1000
        self.late: list[float] = []
        self._last = None
        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.late.append(max(0.0, now - self._last - self.interval) * 1000)
        self._last = now

    def start(self) -> None:
        self.late, self._last = [], None
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.array(self.late)


class Repaints(QObject):
    """Counts Paint events reaching each view's drawing widget."""

    def __init__(self, widgets: dict):
        super().__init__()
        self.counts = dict.fromkeys(widgets, 0)
        self._names = {}
        for name, widget in widgets.items():
            self._names[widget] = name
            widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            name = self._names.get(obj)
            if name is not None:
                self.counts[name] += 1
        return False

    def reset(self) -> None:
        self.counts = dict.fromkeys(self.counts, 0)


class ContentChanges:
    """How often the neuron view's heatmaps and edges actually change (wrapped methods)."""

    def __init__(self, view):
        from ui import network_view
        self.counts = {"neuron heatmaps": 0, "neuron edges": 0}
        heat, edges = view._show_heatmaps, network_view._EdgeRaster.render

        def counted_heat(grid):
            self.counts["neuron heatmaps"] += 1
            return heat(grid)

        def counted_edges(raster, *args):
            self.counts["neuron edges"] += 1
            return edges(raster, *args)
        view._show_heatmaps = counted_heat
        network_view._EdgeRaster.render = counted_edges

    def reset(self) -> None:
        self.counts = dict.fromkeys(self.counts, 0)


def view_widgets(window) -> dict:
    return {"output map": window.boundary.plot.viewport(), "loss plot": window.loss_plot.plot.viewport(),
            "weight histograms": window.weights_plot.plot.viewport(),
            "gradient plot": window.gradients_plot.plot.viewport(),
            "neuron view": window.network_view.view.viewport()}


def make_window(project, settings_dir: str):
    from ui.main_window import MainWindow
    settings = QSettings(str(Path(settings_dir) / "bench.ini"), QSettings.IniFormat)
    window = MainWindow(project, settings=settings)
    window.resize(1600, 1000)
    window.show()
    window.toolbar.set_speed_label("Max")
    if not run_until(lambda: window.controller.latest_frame is not None, 30):
        raise RuntimeError("the window never received a frame")
    return window


def step_of(window) -> int:
    frame = window.controller.latest_frame
    return frame.snapshot.step if frame else 0


def live_and_headless(window, project, seconds: float, rounds: int) -> dict:
    """Alternate headless, worker-alone and live windows and take medians.

    The machine's speed drifts by tens of percent over a minute (shared cores), so
    the two are measured in turns, in the same process and under the same tuning
    (the controller sets the GIL switch interval and one BLAS thread).
    """
    from playground.worker import TrainingController
    alone = TrainingController()            # the same worker with no window listening
    alone.set_project(project)
    run_until(lambda: alone.latest_frame is not None, 30)
    headless, worker, live, frames, late = [], [], [], [], []
    repaints, changes = Repaints(view_widgets(window)), ContentChanges(window.network_view)
    rates: dict[str, list[float]] = {}
    for _ in range(rounds):
        window.controller.pause()
        run_until(lambda: not window.controller.is_running, 10)
        headless.append(headless_steps_per_second(project, seconds))
        alone.play()
        run_until(lambda: alone.is_running, 10)
        run_loop(0.5)
        t0, s0 = time.perf_counter(), alone.latest_frame.snapshot.step
        run_loop(seconds)
        worker.append((alone.latest_frame.snapshot.step - s0) / (time.perf_counter() - t0))
        alone.pause()
        run_until(lambda: not alone.is_running, 10)
        window.controller.play()
        run_until(lambda: window.controller.is_running, 10)
        run_loop(0.5)                                   # past start-up
        lateness = Lateness()
        lateness.start()
        repaints.reset()
        changes.reset()
        t0, s0, f0 = time.perf_counter(), step_of(window), window.frames_received
        run_loop(seconds)
        dt = time.perf_counter() - t0
        late.extend(lateness.stop())
        live.append((step_of(window) - s0) / dt)
        frames.append((window.frames_received - f0) / dt)
        for name, count in {**repaints.counts, **changes.counts}.items():
            rates.setdefault(name, []).append(count / dt)
    window.controller.pause()
    alone.shutdown()
    late = np.array(late)
    return {"headless_steps_per_second": float(np.median(headless)), "headless_rounds": headless,
            "worker_alone_steps_per_second": float(np.median(worker)), "worker_alone_rounds": worker,
            "steps_per_second": float(np.median(live)), "live_rounds": live,
            "frames_received_per_second": float(np.median(frames)),
            "repaints_per_second": {name: float(np.median(r)) for name, r in rates.items()},
            "latency_p50_ms": float(np.percentile(late, 50)), "latency_p95_ms": float(np.percentile(late, 95)),
            "latency_max_ms": float(late.max()), "timer_ticks": int(len(late))}


def pause_latency(window, trials: int) -> list[float]:
    """Milliseconds from pause() to the GUI hearing running_changed(False)."""
    times = []
    for _ in range(trials):
        window.controller.play()
        run_until(lambda: window.controller.is_running, 10)
        run_loop(0.3)
        heard = []

        def stopped(running: bool, heard=heard) -> None:
            if not running:
                heard.append(time.perf_counter())
        window.controller.running_changed.connect(stopped)
        start = time.perf_counter()
        window.controller.pause()
        run_until(lambda: heard, 5)
        window.controller.running_changed.disconnect(stopped)
        times.append((heard[0] - start) * 1000 if heard else float("inf"))
    return times


def memory_run(settings_dir: str, targets: tuple[int, ...], cap_seconds: float) -> dict:
    """RSS of the whole app after training a tiny network ``targets`` steps with the UI live."""
    xor = load_project(ROOT / "assets" / "examples" / "xor.json")
    tiny = xor.with_changes(data=dict(xor.data, samples=40), training=dict(xor.training, batch_size="full"))
    window = make_window(tiny, settings_dir)
    out = {"project": "xor, 40 points, 2-2-1 sigmoid, full batch", "rss_mib_at_start": app_rss_mib(window)}
    window.controller.play()
    start = time.perf_counter()
    for target in targets:
        reached = run_until(lambda: step_of(window) >= target, max(1.0, cap_seconds - (time.perf_counter() - start)))
        out[f"steps_{target}"] = {"reached": bool(reached), "step": step_of(window), "rss_mib": app_rss_mib(window),
                                  "seconds": time.perf_counter() - start}
    out["history_bytes"] = sum(p.history.nbytes for p in window.plots)
    out["history_points"] = {type(p).__name__: len(p.history) for p in window.plots}
    window.close()
    return out


def table(results: dict) -> str:
    live, mem = results["live"], results["memory"]
    pause = results["pause_ms"]
    rows = [
        ("training steps/s, headless engine", f"{results['headless_steps_per_second']:,.0f}",
         "median of rounds taken in turns with the live ones"),
        ("training steps/s, worker without a UI", f"{live['worker_alone_steps_per_second']:,.0f}",
         f"{100 * live['worker_alone_steps_per_second'] / results['headless_steps_per_second']:.0f}% "
         "(the worker's own frames cost this much)"),
        ("training steps/s, full UI live", f"{live['steps_per_second']:,.0f}",
         f"{100 * results['ui_over_headless']:.0f}% of headless (goal >= 70%)"),
        ("frames received per second", f"{live['frames_received_per_second']:.1f}", "the engine sends <= 60"),
    ]
    goals = {"output map": 25, "loss plot": 25, "neuron view": 25, "neuron heatmaps": 25, "neuron edges": 25,
             "weight histograms": 10, "gradient plot": 10}
    for name, rate in live["repaints_per_second"].items():
        what = "changes/s" if name.startswith("neuron ") and name != "neuron view" else "repaints/s"
        rows.append((f"{name}, {what}", f"{rate:.1f}", f"goal >= {goals.get(name, 0)}"))
    rows += [
        ("event-loop latency p50 / p95 / max", f"{live['latency_p50_ms']:.1f} / {live['latency_p95_ms']:.1f} / "
                                               f"{live['latency_max_ms']:.0f} ms", "goal p95 < 20 ms"),
        ("pause -> worker stopped, median / max", f"{np.median(pause):.1f} / {max(pause):.1f} ms", "goal < 100 ms"),
    ]
    for key, value in mem.items():
        if key.startswith("steps_"):
            note = "" if value["reached"] else f"(time cap: stopped at step {value['step']:,})"
            rows.append((f"RSS after {int(key[6:]):,} steps (tiny net, GUI + engine)", f"{value['rss_mib']:.1f} MiB",
                         note))
    rows.append(("plot histories (all series)", f"{mem['history_bytes'] / 1024:.0f} KiB", "fixed: allocated once"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value:>22}  {note}" for name, value, note in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (and 100,000 steps instead of 1,000,000)")
    args = parser.parse_args(argv)
    seconds = 3.0 if args.quick else 5.0
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as settings_dir:
        QSettings.setDefaultFormat(QSettings.IniFormat)
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, settings_dir)
        project = load_project(EXAMPLE)
        window = make_window(project, settings_dir)
        live = live_and_headless(window, project, seconds, rounds=2 if args.quick else 4)
        headless = live["headless_steps_per_second"]
        pause = pause_latency(window, 5 if args.quick else 10)
        window.close()
        run_loop(0.2)
        targets = (10_000, 100_000) if args.quick else (10_000, 1_000_000)
        memory = memory_run(settings_dir, targets, cap_seconds=60 if args.quick else 240)
    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                           "display": os.environ.get("QT_QPA_PLATFORM") or "xcb",
                           "engine": os.environ.get("NNPG_ENGINE") or "process"},
               "project": str(EXAMPLE.relative_to(ROOT)), "seconds_per_measure": seconds,
               "headless_steps_per_second": headless, "live": live,
               "ui_over_headless": live["steps_per_second"] / headless, "pause_ms": pause, "memory": memory}
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
