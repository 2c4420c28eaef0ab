"""When the live views redraw: one draw clock for all of them.

Frames arrive from the training engine up to 60 times a second; each view only
*takes* a frame's data then (cheap: into bounded buffers).  Drawing follows a clock,
like a browser's animation frame: VIEW_RATE times a second each view with new
data that is due redraws.  Views are drawn in groups on alternate ticks (the neuron
view on one, the plots on the next), so each tick and the paint after it stay short
and timers and input are served between them.  The clock runs only while something is pending and stops when all is drawn,
so an idle window costs nothing; the first frame after a pause is drawn at once.

Views follow a small protocol: ``pending()`` (new data waits, and the view is
shown), ``due(now)`` (and it is that view's time: some draw every tick, costlier
ones every other) and ``draw(now)``.

Why a clock and not "draw on every frame": with training in its own process the
GUI has a core to itself, but the whole window's redraw still costs ~15 ms; at
the engine's 60 frames a second that would fill the core and make input wait.
"""
from __future__ import annotations

import time
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer

VIEW_RATE = 30                # redraws a second of each view: smooth to watch, half the GUI core to spare
DUE_SLACK = 0.8               # a view due every N turns may draw after N - 0.2 turns (timer jitter)


class LiveView(Protocol):
    """A view the window feeds with frames and the draw clock redraws."""

    def show_frame(self, frame) -> None:
        """Take the frame's data (cheap); drawing waits for the clock."""

    def pending(self) -> bool:
        """New data waits to be drawn, and the view is shown."""

    def due(self, now: float) -> bool:
        """Pending, and it is this view's turn."""

    def draw(self, now: float) -> None:
        """Draw what is pending."""


class Pacer(QObject):
    """``groups``: tuples of views drawn on alternate ticks, so that no single tick
    (and the paint that follows it) blocks the event loop for long: the clock ticks
    ``len(groups)`` times as often, and each group still redraws VIEW_RATE times a second."""

    def __init__(self, groups: tuple[tuple[LiveView, ...], ...], parent=None):
        super().__init__(parent)
        self.groups = tuple(tuple(group) for group in groups)
        self.views = tuple(view for group in self.groups for view in group)
        self.ticks = 0
        self._clock = QTimer(self)
        self._clock.setTimerType(Qt.PreciseTimer)
        self._clock.setInterval(round(1000 / (VIEW_RATE * len(self.groups))))
        self._clock.timeout.connect(self.tick)

    def frame(self) -> None:
        """New data arrived: draw now if the clock was idle, else on its next ticks."""
        if not self._clock.isActive():
            self._draw(self.views)
            self._clock.start()

    def tick(self) -> None:
        self.ticks += 1
        self._draw(self.groups[self.ticks % len(self.groups)])
        if not any(view.pending() for view in self.views):
            self._clock.stop()

    @staticmethod
    def _draw(views) -> None:
        now = time.perf_counter()
        for view in views:
            if view.due(now):
                view.draw(now)

    def flush(self) -> None:
        """Draw everything pending now, whatever the clock says."""
        now = time.perf_counter()
        for view in self.views:
            if view.pending():
                view.draw(now)


def due_after(drawn_at: float, now: float, every_turns: int) -> bool:
    """True when a view drawn at ``drawn_at`` and redrawn every ``every_turns`` turns of
    its group (1 / VIEW_RATE seconds each) is due."""
    return every_turns <= 1 or now - drawn_at >= (every_turns - 1 + DUE_SLACK) / VIEW_RATE
