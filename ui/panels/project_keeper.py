"""The project the window shows, kept in step with the training session.

Panels ask for edits; the keeper checks them (``Project.with_changes`` validates
every field), then either rebuilds the session (``controller.set_project``) or
tunes the running one (learning rate, optimiser, schedule).  Building can still
fail in the worker (say, a loss that does not fit the output layer); the
controller then reports an error, the worker keeps the old session, and the
keeper goes back to the last project the worker accepted so the panels never
show settings that are not in effect.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.errors import ConfigError


class ProjectKeeper(QObject):
    changed = Signal(object)        # the project to show (after every edit, load or revert)
    failed = Signal(str)            # a user-facing reason an edit was refused
    dirty_changed = Signal(bool)

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.project = None
        self._accepted = None       # the last project known to be in effect in the worker
        self._sent = None           # the last project sent for a rebuild, until the worker confirms it
        self.dirty = False
        controller.session_changed.connect(self._on_session)
        controller.error.connect(self._on_error)

    def load(self, project, dirty: bool = False) -> None:
        """Show and train ``project``; ``dirty`` for work not yet saved (a recovered autosave)."""
        self.project = project
        self._send(project, keep_weights=False)
        self._set_dirty(dirty)
        self.changed.emit(project)

    def rebuild(self, sections: dict, keep_weights: bool) -> bool:
        new = self._checked(sections)
        if new is None:
            return False
        self.project = new
        self._send(new, keep_weights)
        self._set_dirty(True)
        self.changed.emit(new)
        return True

    def tune(self, training: dict, command: str, argument) -> bool:
        """Change the running session without a rebuild: command is lr, optimizer or schedule."""
        new = self._checked({"training": training})
        if new is None:
            return False
        self.project = new
        if self._sent is None:
            self._accepted = new
        {"lr": self.controller.set_learning_rate, "optimizer": self.controller.set_optimizer,
         "schedule": self.controller.set_schedule}[command](argument)
        self._set_dirty(True)
        self.changed.emit(new)
        return True

    def annotate(self, sections: dict) -> bool:
        """Change sections that do not affect training (the editor's ``layout``): no rebuild."""
        new = self._checked(sections)
        if new is None:
            return False
        self.project = new
        if self._sent is None:
            self._accepted = new
        self._set_dirty(True)
        return True

    def saved_as(self, path) -> None:
        self.project = dataclasses.replace(self.project, path=Path(path))
        if self._sent is None:
            self._accepted = self.project
        self._set_dirty(False)
        self.changed.emit(self.project)

    def _checked(self, sections: dict):
        try:
            return self.project.with_changes(**sections)
        except ConfigError as exc:
            self.failed.emit(str(exc))
            self.changed.emit(self.project)      # put the panels back
            return None

    def _send(self, project, keep_weights: bool) -> None:
        self._sent = project
        self.controller.set_project(project, keep_weights=keep_weights)

    def _on_session(self, info) -> None:
        if info.project == self._sent:      # a copy: the session was built in the engine process
            # Tuning sent after this rebuild was applied to the new session too.
            self._accepted, self._sent = self.project, None

    def _on_error(self, message: str) -> None:
        if self._accepted is not None and self.project is not self._accepted:
            self.project, self._sent = self._accepted, None
            self.changed.emit(self.project)
        self.failed.emit(message)

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.dirty = dirty
            self.dirty_changed.emit(dirty)
