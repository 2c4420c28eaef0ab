"""Live means live: while training runs every view repaints again and again (Paint
events counted on each view's own widget, as a user would see them), the draw clock
stops once everything is drawn, and training happens outside the GUI process."""
from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject

from tests.ui.conftest import WAIT_MS, wait_frame


class PaintCounter(QObject):
    def __init__(self, widgets: dict):
        super().__init__()
        self.counts = dict.fromkeys(widgets, 0)
        self._names = {w: name for name, w in widgets.items()}
        for widget in widgets.values():
            widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint and obj in self._names:
            self.counts[self._names[obj]] += 1
        return False


def view_widgets(window) -> dict:
    return {"output map": window.boundary.plot.viewport(), "loss": window.loss_plot.plot.viewport(),
            "weights": window.weights_plot.plot.viewport(), "gradients": window.gradients_plot.plot.viewport(),
            "neurons": window.network_view.view.viewport()}


def test_every_view_keeps_repainting_while_training(qtbot, window):
    assert window.controller.separate_process and window.controller.engine_pid != os.getpid()
    edges_before = window.network_view._edges.item.pixmap().cacheKey()
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS):
        window.controller.play()
    wait_frame(qtbot, window, lambda f: f.snapshot.step > 100)
    counter = PaintCounter(view_widgets(window))
    frames = []
    window.controller.frame_ready.connect(frames.append)
    qtbot.waitUntil(lambda: len(frames) >= 60, timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS):
        window.controller.pause()
    # Not a rate (that is bench/ui.py's job) but a share of the frames received,
    # whatever the machine's speed: the old pacing let each view wait 0.25-1 s
    # between draws (loss: 3 repaints for 55 frames); the draw clock redraws the main
    # views on about every other frame, the weight and gradient plots half as often.
    counts = counter.counts
    assert min(counts["output map"], counts["loss"], counts["neurons"]) >= len(frames) / 4, (counts, len(frames))
    assert min(counts["weights"], counts["gradients"]) >= len(frames) / 10, (counts, len(frames))
    assert window.network_view._edges.item.pixmap().cacheKey() != edges_before     # the edges changed too


def test_draw_clock_stops_when_everything_is_drawn(qtbot, window):
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS):
        window.controller.play()
    qtbot.waitUntil(lambda: window.pacer.ticks > 10, timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.running_changed, timeout=WAIT_MS):
        window.controller.pause()
    with qtbot.waitSignal(window.controller.frame_ready, timeout=WAIT_MS) as fresh:
        window.controller.request_frame()       # frames sent before the pause may still arrive
    step = fresh.args[0].snapshot.step
    qtbot.waitUntil(lambda: not window.pacer._clock.isActive(), timeout=WAIT_MS)
    assert not any(view.pending() for view in window.pacer.views)
    # A single step while paused is drawn at once, without waiting for a clock.
    ticks = window.pacer.ticks
    window.controller.step(1)
    wait_frame(qtbot, window, lambda f: f.snapshot.step == step + 1)
    qtbot.waitUntil(lambda: window.pacer.ticks > ticks and not window.loss_plot.pending(), timeout=WAIT_MS)
