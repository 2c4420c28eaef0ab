"""Which view redraws on which frame.

Views follow a small protocol: ``pending()`` (new data waits), ``due(now)`` (and
it is that view's time) and ``draw(now)``.  On each frame at most one due view
redraws, taking turns: views redrawn in the same frame are painted in the same
backing-store flush, so their costs would add up into one long stall of the
event loop (measured: pyqtgraph repaints are several times slower while the
training thread competes for the GIL).  What is still pending when frames stop
coming (a single step while paused) is flushed shortly after.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

FLUSH_MS = 250


class Pacer(QObject):
    def __init__(self, views, parent=None):
        super().__init__(parent)
        self.views = tuple(views)
        self._turn = 0
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(FLUSH_MS)
        self._flush.timeout.connect(self.flush)

    def frame(self) -> None:
        now = time.perf_counter()
        self._turn = (self._turn + 1) % len(self.views)
        for view in self.views[self._turn:] + self.views[:self._turn]:
            if view.due(now):
                view.draw(now)
                break
        if any(view.pending() for view in self.views):
            self._flush.start()         # restarted every frame: it fires once frames stop coming

    def flush(self) -> None:
        now = time.perf_counter()
        for view in self.views:
            if view.pending():
                view.draw(now)
