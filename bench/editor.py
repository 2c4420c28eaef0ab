"""Is dragging a block smooth with 30 blocks on the canvas?

Offscreen, the network editor shows a 30-block residual network.  A block is
pressed and then dragged by one mouse-move event every 8 ms (a 125 Hz mouse)
while a 10 ms timer measures how late the event loop runs it (lateness = the
interval between two ticks minus 10 ms): a frame budget at 60 Hz is 16.7 ms, so a
p95 lateness well under that means the drag stays smooth.  The same drag is run
with the training thread playing the spiral example (playground.worker), and once
with moves sent back to back to measure the cost of one move.  Snapping to the
grid is off, so every move moves the block (the worst case).  Lateness includes
whatever else the machine runs: ``load_average_1min`` is recorded beside it, and
``no_drag_baseline`` runs the same ticker alone for as long, for comparison.

    python bench/editor.py [--quick]      prints a table, writes bench/results/editor.json
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
# Run as a script, this file's folder comes first on sys.path and bench/engine.py
# would shadow the ``engine`` package: put the repository root there instead.
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QEventLoop, QObject, QPoint, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from playground.project import load_project  # noqa: E402
from ui.editor.widget import NetworkEditor  # noqa: E402

TICK_MS = 10
MOVE_MS = 8
BLOCKS = 30


def residual_network(blocks: int) -> dict:
    """in -> (dense, dense, add with the block before) repeated -> sigmoid out: ``blocks`` nodes."""
    nodes, edges, prev, n = [{"id": "in", "type": "input"}, {"id": "stem", "type": "dense", "units": 8,
                                                            "activation": "tanh"}], [["in", "stem"]], "stem", 0
    while len(nodes) + 3 < blocks:
        n += 1
        a, b, s = f"a{n}", f"b{n}", f"sum{n}"
        nodes += [{"id": a, "type": "dense", "units": 8, "activation": "tanh"},
                  {"id": b, "type": "dense", "units": 8, "activation": "linear"}, {"id": s, "type": "add"}]
        edges += [[prev, a], [a, b], [b, s], [prev, s]]
        prev = s
    while len(nodes) < blocks - 1:
        n += 1
        nodes.append({"id": f"d{n}", "type": "dense", "units": 8, "activation": "tanh"})
        edges.append([prev, f"d{n}"])
        prev = f"d{n}"
    nodes.append({"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"})
    edges.append([prev, "out"])
    return {"nodes": nodes, "edges": edges, "output": "out"}


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def drag_block(editor: NetworkEditor, node_id: str, moves: int, move_ms: int) -> dict:
    """Press on a block, drag it in a circle with ``moves`` mouse moves, release; timings in ms."""
    view, viewport = editor.view, editor.view.viewport()
    start = view.mapFromScene(editor.scene.blocks[node_id].scenePos() + QPointF(0, 12))
    ticks: list[float] = []
    move_costs: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    ticker = QTimer(timerType=Qt.PreciseTimer, interval=TICK_MS)
    ticker.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
    loop = QEventLoop()
    state = {"k": 0}

    def path(k: int) -> QPoint:
        angle = 2 * np.pi * k / 200
        return start + QPoint(round(150 * np.sin(angle)), round(80 * (1 - np.cos(angle))))

    def move():
        k = state["k"]
        if k >= moves:
            mover.stop()
            QTest.mouseMove(viewport, path(50))
            QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, path(50))
            loop.quit()
            return
        point = path(k)
        t0 = time.perf_counter()
        QTest.mouseMove(viewport, point)
        move_costs.append((time.perf_counter() - t0) * 1e3)
        state["k"] = k + 1

    mover = QTimer(timerType=Qt.PreciseTimer, interval=move_ms)
    mover.timeout.connect(move)
    before = editor.model.positions[node_id]
    commands = editor.undo_stack.count()
    paints = PaintCounter(viewport)
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    ticker.start()
    mover.start()
    t0 = time.perf_counter()
    loop.exec()
    elapsed = time.perf_counter() - t0
    ticker.stop()
    viewport.removeEventFilter(paints)
    assert editor.model.positions[node_id] != before, "the drag did not move the block"
    late = np.maximum(np.diff(ticks) - TICK_MS, 0.0) if len(ticks) > 1 else np.zeros(1)
    return {"moves": moves, "move_interval_ms": move_ms, "seconds": elapsed,
            "moves_per_s": moves / elapsed,
            "lateness_ms": {"p50": float(np.percentile(late, 50)), "p95": float(np.percentile(late, 95)),
                            "max": float(late.max())},
            "move_handling_ms": {"mean": float(np.mean(move_costs)), "p95": float(np.percentile(move_costs, 95)),
                                 "max": float(np.max(move_costs))},
            "repaints": paints.count,
            "undo_commands_pushed": editor.undo_stack.count() - commands}


class PaintCounter(QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            self.count += 1
        return False


def baseline(seconds: float) -> dict:
    """The same 10 ms ticker with nothing else to do: the machine's own jitter, for comparison."""
    ticks: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    ticker = QTimer(timerType=Qt.PreciseTimer, interval=TICK_MS)
    ticker.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))
    ticker.start()
    wait(round(seconds * 1000))
    ticker.stop()
    late = np.maximum(np.diff(ticks) - TICK_MS, 0.0)
    return {"seconds": seconds, "lateness_ms": {"p50": float(np.percentile(late, 50)),
                                                "p95": float(np.percentile(late, 95)), "max": float(late.max())}}


def validation_ms(editor: NetworkEditor, repeats: int = 200) -> float:
    """What one check by the engine (parse, structure, plan) costs: done on release, never per move."""
    t0 = time.perf_counter()
    for _ in range(repeats):
        editor.model.validate(2)
    return (time.perf_counter() - t0) * 1e3 / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer moves")
    args = parser.parse_args()
    moves = 150 if args.quick else 600
    app = QApplication.instance() or QApplication([])
    editor = NetworkEditor()
    editor.resize(1400, 800)
    editor.show()
    QTest.qWaitForWindowExposed(editor)
    editor.set_network(residual_network(BLOCKS))
    editor.set_input_width(2)
    editor.snap_action.setChecked(False)   # worst case: every move moves the block and repaints
    assert len(editor.scene.blocks) == BLOCKS and editor.validity()[0]
    editor.view.resetTransform()           # 1:1, so every block drawn is full size
    editor.view.centerOn(editor.scene.blocks["sum2"])
    wait(100)

    results = {"machine": {"python": platform.python_version(), "qt_platform": app.platformName(),
                           "cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]},
               "snap_to_grid": False, "blocks": BLOCKS, "tick_ms": TICK_MS,
               "validation_ms": validation_ms(editor), "runs": {}}
    results["runs"]["drag_idle"] = drag_block(editor, "sum2", moves, MOVE_MS)
    results["runs"]["no_drag_baseline"] = baseline(results["runs"]["drag_idle"]["seconds"])
    results["runs"]["drag_back_to_back"] = drag_block(editor, "sum2", moves, 0)
    try:
        from playground.worker import TrainingController
    except ImportError:
        TrainingController = None
    if TrainingController is not None:
        controller = TrainingController()
        controller.set_project(load_project(ROOT / "assets" / "examples" / "spiral.json"))
        controller.play()
        wait(500)
        results["runs"]["drag_while_training"] = drag_block(editor, "sum2", moves, MOVE_MS)
        frame = controller.latest_frame
        results["runs"]["drag_while_training"]["training_step_at_end"] = frame.snapshot.step if frame else None
        controller.shutdown()

    print(f"one validation (parse + structure + plan, 30 blocks): {results['validation_ms']:.2f} ms")
    print(f"{'run':<22}{'moves/s':>9}{'late p50':>10}{'late p95':>10}{'late max':>10}{'move p95':>10}{'paints':>8}  (ms)")
    for name, run in results["runs"].items():
        late = run["lateness_ms"]
        if "moves" in run:
            cost = f"{run['move_handling_ms']['p95']:>10.2f}{run['repaints']:>8}"
            rate = f"{run['moves_per_s']:>9.0f}"
        else:
            cost, rate = f"{'-':>10}{'-':>8}", f"{'-':>9}"
        print(f"{name:<22}{rate}{late['p50']:>10.2f}{late['p95']:>10.2f}{late['max']:>10.2f}{cost}")
    out = Path(__file__).resolve().parent / "results" / "editor.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    editor.close()
    app.processEvents()


if __name__ == "__main__":
    main()
