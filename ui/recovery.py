"""Autosave to a recovery file, and the question whether to discard unsaved work.

Every minute an edited, unsaved project is written (atomically) to
``recovery.json`` beside the settings file.  A clean exit removes it, so finding
it at start-up means the last session crashed: the window then offers it back.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QFileInfo, QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from engine.errors import ConfigError
from engine.io.atomic import write_text_atomic
from playground.project import parse_project

AUTOSAVE_INTERVAL_MS = 60_000


class Autosave(QObject):
    def __init__(self, keeper, settings_file: str, interval_ms: int = AUTOSAVE_INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.keeper = keeper
        self.path = Path(QFileInfo(settings_file).absolutePath()) / "recovery.json"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def save_now(self) -> None:
        project = self.keeper.project
        if project is None or not self.keeper.dirty:
            return
        record = {"source": str(project.path) if project.path else None, "project": project.document}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(record))
        except (ConfigError, OSError):
            pass    # a failed autosave must never interrupt the user; the next minute tries again

    def discard(self) -> None:
        """After a save or a clean exit: nothing is left to recover."""
        self.path.unlink(missing_ok=True)

    def recoverable(self):
        """The project left by a crashed session, or None (an unreadable file is dropped)."""
        if not self.path.is_file():
            return None
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
            source = Path(record["source"]) if record.get("source") else None
            return parse_project(record["project"], source)
        except (OSError, ValueError, KeyError, TypeError):
            self.discard()
            return None


class Prompter:
    """The window's questions; tests replace it with an object giving fixed answers."""

    SAVE, DISCARD, CANCEL = "save", "discard", "cancel"

    def __init__(self, parent):
        self.parent = parent

    def unsaved_changes(self, name: str) -> str:
        box = QMessageBox(QMessageBox.Warning, "Unsaved changes",
                          f"The project “{name}” has changes that are not saved.", parent=self.parent)
        box.setInformativeText("Save them first?")
        box.setStandardButtons(QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        box.setDefaultButton(QMessageBox.Save)
        answer = box.exec()
        return {QMessageBox.Save: self.SAVE, QMessageBox.Discard: self.DISCARD}.get(answer, self.CANCEL)

    def restore_recovered(self, name: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"NN Playground did not close normally last time. Restore the unsaved project “{name}”?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes
