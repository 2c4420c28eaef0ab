"""When the live views redraw: one draw clock for all of them.

Frames arrive from the training engine up to 60 times a second; each view only
*takes* a frame's data then (cheap: into bounded buffers).  Drawing follows a clock,
like a browser's animation frame: every DRAW_INTERVAL_MS each view with new data
that is due redraws, all in the same tick, so Qt paints them in one backing-store
flush.  The clock runs only while something is pending and stops when all is drawn,
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

from PySide6.QtCore import QObject, Qt, QTimer

DRAW_INTERVAL_MS = 33         # ~30 redraws a second: smooth to watch, half the GUI core to spare
DUE_SLACK = 0.8               # a view due every N ticks may draw when N x 0.8 intervals have passed (timer jitter)


class Pacer(QObject):
    def __init__(self, views, parent=None):
        super().__init__(parent)
        self.views = tuple(views)
        self.ticks = 0
        self._clock = QTimer(self)
        self._clock.setTimerType(Qt.PreciseTimer)
        self._clock.setInterval(DRAW_INTERVAL_MS)
        self._clock.timeout.connect(self.tick)

    def frame(self) -> None:
        """New data arrived: draw now if the clock was idle, else at its next tick."""
        if not self._clock.isActive():
            self.tick()
            self._clock.start()

    def tick(self) -> None:
        now = time.perf_counter()
        self.ticks += 1
        for view in self.views:
            if view.due(now):
                view.draw(now)
        if not any(view.pending() for view in self.views):
            self._clock.stop()

    def flush(self) -> None:
        """Draw everything pending now, whatever the clock says."""
        now = time.perf_counter()
        for view in self.views:
            if view.pending():
                view.draw(now)


def due_after(drawn_at: float, now: float, every_ticks: int) -> bool:
    """True when a view drawn at ``drawn_at`` and redrawn every ``every_ticks`` ticks is due."""
    return now - drawn_at >= (every_ticks - 1 + DUE_SLACK) * DRAW_INTERVAL_MS / 1000 if every_ticks > 1 else True
