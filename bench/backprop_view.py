"""How long the backward-pass tab takes to draw, with the spiral example training beside it.

Offscreen, the real ``BackpropPanel`` wired to a real engine (its own process) that
trains the spiral example at full speed the whole time.  For each panel size and each
phase (row, forward, backward, update), a fresh trace is asked for (Refresh) and timed:

* round trip: Refresh until the trace arrives (the engine answers between two
  training chunks of ~4 ms);
* show: ``show_trace`` (summary, side text, the f' line; the diagram is marked dirty);
* layout: placing every circle, edge and number (``layout_diagram``);
* paint: one synchronous repaint of the diagram (its faint edges drawn afresh: a new
  trace);
* choose: a click's work on another neuron (side text, layout, repaint from the
  cached edges).

The digits example (64 inputs, 32 hidden units: the compact drawing) is measured the
same way at the larger size.

    python bench/backprop_view.py [--quick]    prints a table, writes bench/results/backprop_view.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Run as a script, this file's folder comes first on sys.path: put the repository root there.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.project import load_project  # noqa: E402
from playground.worker import TrainingController  # noqa: E402
from ui.panels.backprop_panel import BackpropPanel  # noqa: E402
from ui.panels.backprop_text import PHASES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "assets" / "examples"
RESULTS = ROOT / "bench" / "results" / "backprop_view.json"
SIZES = ((1000, 560), (1700, 900))      # the tab in a 1366 x 768 and a 1920 x 1080 window


def wait_for(condition, seconds: float = 10.0) -> bool:
    loop, poll = QEventLoop(), QTimer()
    poll.timeout.connect(lambda: condition() and loop.quit())
    poll.start(1)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if not condition():
        loop.exec()
    poll.stop()
    return condition()


def stats(samples_s: list[float]) -> dict:
    ms = np.array(samples_s) * 1000
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max()),
            "samples": len(ms)}


def wired_panel(c: TrainingController) -> tuple[BackpropPanel, list]:
    panel, traces = BackpropPanel(), []
    c.session_changed.connect(panel.set_session)
    c.trace_ready.connect(traces.append)
    panel.trace_requested.connect(c.request_trace)
    return panel, traces


def measure(c, panel, traces, phase: int, repeats: int) -> dict:
    timings = {"round_trip": [], "show": [], "layout": [], "paint": [], "choose": []}
    for k in range(repeats):
        before = len(traces)
        started = time.perf_counter()
        panel.choose_row(k % 50)
        if not wait_for(lambda: len(traces) > before):
            raise RuntimeError("the engine sent no trace within 10 s")
        timings["round_trip"].append(time.perf_counter() - started)
        started = time.perf_counter()
        panel.show_trace(traces[-1])
        panel.show_phase(phase)
        timings["show"].append(time.perf_counter() - started)
        started = time.perf_counter()
        panel.diagram.diagram_layout()
        timings["layout"].append(time.perf_counter() - started)
        started = time.perf_counter()
        panel.diagram.repaint()
        timings["paint"].append(time.perf_counter() - started)
        node = panel.focus[0]
        started = time.perf_counter()
        panel.choose_neuron(node, (panel.focus[1] + 1) % 2)
        panel.diagram.repaint()
        timings["choose"].append(time.perf_counter() - started)
    return {name: stats(values) for name, values in timings.items()}


def run(example: str, sizes, repeats: int) -> dict:
    c = TrainingController()
    panel, traces = wired_panel(c)
    c.set_project(load_project(EXAMPLES / example))
    wait_for(lambda: c.latest_frame is not None)
    c.play()                        # training at full speed the whole time
    wait_for(lambda: c.latest_frame.snapshot.step > 500)
    out = {}
    for width, height in sizes:
        panel.resize(width, height)
        panel.show()
        wait_for(lambda: len(traces) > 0)
        for phase, name in enumerate(PHASES):
            out[f"{width}x{height} {name}"] = measure(c, panel, traces, phase, repeats)
    steps = c.latest_frame.snapshot.step
    c.shutdown()
    panel.close()
    return {"results": out, "steps_trained_meanwhile": steps}


def table(results: dict) -> str:
    rows = [("example, panel size, phase", "round trip", "show", "layout", "paint", "choose", "total draw")]
    for example, found in results["examples"].items():
        for key, r in found["results"].items():
            total = r["show"]["median_ms"] + r["layout"]["median_ms"] + r["paint"]["median_ms"]
            rows.append((f"{example} {key}", *(f"{r[m]['median_ms']:.2f} / {r[m]['p95_ms']:.2f}"
                                                for m in ("round_trip", "show", "layout", "paint", "choose")),
                         f"{total:.2f}"))
    widths = [max(len(row[k]) for row in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(row, widths)))
             for row in rows]
    return "\n".join(lines) + "\n(ms: median / p95; total draw = show + layout + paint medians: a new trace on screen)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 30")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 30
    app = QApplication.instance() or QApplication([])
    results = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                           "display": os.environ.get("QT_QPA_PLATFORM") or "xcb"},
               "repeats": repeats,
               "examples": {"spiral": run("spiral.json", SIZES, repeats),
                            "digits": run("digits.json", SIZES[1:], repeats)}}
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
