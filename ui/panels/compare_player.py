"""Plays a comparison preset: opens the reference project, trains it for the preset's
steps, then opens the project to watch and trains that for as many.

Steps are asked for in chunks (``CHUNKS`` per run): the engine sends a frame when
a chunk ends, so each run is recorded at that many evenly spread steps however fast
it trains, and the curves grow on screen instead of appearing at once.

The Runs panel keeps the reference run by itself when the second project's session
starts (a new session keeps the run that ends), ticked, so the second run trains
over it in the loss plot.  Earlier kept runs are unticked first, so the plot shows
the pair alone.  A session the player did not ask for (the user opened or changed
a project meanwhile) stops it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from engine.errors import ConfigError
from playground.project import load_project

CHUNKS = 100        # frames, and so recorded points, per run


class ComparePlayer(QObject):
    message = Signal(str)           # progress for the status bar
    finished = Signal(object)       # the preset, both runs trained

    def __init__(self, controller, open_project: Callable[[Path], bool], runs_panel, loss_plot=None, parent=None):
        """``open_project(path)`` opens an example as the window's project (False if the
        user kept the current one, say at an unsaved-changes question)."""
        super().__init__(parent)
        self.controller, self._open, self.runs_panel, self.loss_plot = controller, open_project, runs_panel, loss_plot
        self.preset = None
        self._queue: list[Path] = []
        self._expected: str | None = None       # the name of the project whose session is awaited
        self._training = False
        self._since = self._until = 0           # the steps the chunk asked for start and end at
        controller.session_changed.connect(self._on_session)
        controller.frame_ready.connect(self._on_frame)

    @property
    def busy(self) -> bool:
        return self.preset is not None

    def start(self, preset) -> bool:
        try:
            names = [load_project(path).name for path in preset.paths]
        except ConfigError as exc:
            self.message.emit(f"Cannot compare: {exc}")
            return False
        self.preset, self._queue, self._names = preset, list(preset.paths), names
        self.controller.pause()
        self.runs_panel.hide_all_overlays()
        if self.loss_plot is not None:
            self.loss_plot.accuracy.setChecked(preset.view == "accuracy")
        return self._open_next()

    def _open_next(self) -> bool:
        index = len(self.preset.paths) - len(self._queue)
        path = self._queue.pop(0)
        self._expected, self._training = self._names[index], False
        self.message.emit(f"{self.preset.title}: training {self._expected!r} ({index + 1} of 2)…")
        if not self._open(path):
            self._stop(f"{self.preset.title}: not started")
            return False
        return True

    def _on_session(self, info) -> None:
        if self.preset is None:
            return
        if not self._training and info.project.name == self._expected:
            self._training = True
            self._next_chunk(0)
        elif self._training:
            self._stop(f"{self.preset.title}: stopped, the project changed")

    def _on_frame(self, frame) -> None:
        if self.preset is None or not self._training:
            return
        snapshot = frame.snapshot
        if snapshot.step < self._since:
            self._stop(f"{self.preset.title}: stopped, training was reset")
            return
        if snapshot.step < self._until and snapshot.divergence is None:
            return
        if snapshot.step < self.preset.steps and snapshot.divergence is None:
            self._next_chunk(snapshot.step)
        elif self._queue:
            self._open_next()
        else:
            preset = self.preset
            self._stop(f"{preset.title}: done. {self._names[1]!r} trained over {self._names[0]!r}; "
                       f"look at {preset.look_at}.")
            self.finished.emit(preset)

    def _next_chunk(self, step: int) -> None:
        chunk = max(1, self.preset.steps // CHUNKS)
        self._since = step
        self._until = min(self.preset.steps, step + chunk)
        self.controller.step(self._until - step)

    def _stop(self, text: str) -> None:
        self.preset, self._queue, self._expected, self._training = None, [], None, False
        self.message.emit(text)
