"""Autosave to a recovery file, and the question whether to discard unsaved work.

Every minute an edited, unsaved project is written (atomically) to
``recovery.json`` beside the settings file.  A clean exit removes it, so finding
it at start-up means the last session crashed: the window then offers it back.

The record is ``{"source": path or null, "project": document}``, plus
``"drawing": {"network", "layout"}`` when the graph editor holds a drawing that is
not a valid network yet (``ProjectKeeper.drawing``): that drawing is never part of
the project, whose document stays a valid project file, so it rides beside it.

A recovery file that cannot be read (damaged, edited by hand, not a file) must
never stop the app from starting: it is renamed aside, so it is neither lost nor
read again, and the user is told where it went.
"""
from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from PySide6.QtCore import QFileInfo, QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from engine.errors import ConfigError
from engine.io.atomic import write_text_atomic
from playground.project import parse_project
from ui.editor.model import check_drawing

AUTOSAVE_INTERVAL_MS = 60_000
MAX_RECOVERY_BYTES = 16 * 1024 * 1024      # far above any project document; refuses /dev/zero-like files


class Autosave(QObject):
    def __init__(self, keeper, settings_file: str, interval_ms: int = AUTOSAVE_INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.keeper = keeper
        self.path = Path(QFileInfo(settings_file).absolutePath()) / "recovery.json"
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()
        self.recovered_drawing: dict | None = None     # the editor drawing ``recoverable`` found

    def save_now(self) -> None:
        project = self.keeper.project
        if project is None or not self.keeper.dirty:
            return
        record = {"source": str(project.path) if project.path else None, "project": project.document}
        if self.keeper.drawing is not None:
            record["drawing"] = self.keeper.drawing
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.path, json.dumps(record))
        except (ConfigError, OSError):
            pass    # a failed autosave must never interrupt the user; the next minute tries again

    def discard(self) -> None:
        """After a save or a clean exit: nothing is left to recover."""
        self.path.unlink(missing_ok=True)

    def recoverable(self):
        """The project left by a crashed session, or None; ``recovered_drawing`` then
        holds the editor's unfinished drawing, if there was one.  An unreadable file is
        set aside; then ``unreadable`` holds (where it went, why it could not be read)."""
        self.unreadable: tuple[Path | None, str] | None = None
        self.recovered_drawing = None
        try:
            self.path.lstat()
        except OSError:
            return None                 # no recovery file: the last session ended cleanly
        try:
            return self._read()
        except Exception as exc:        # whatever is wrong with it, the app must still start
            self.unreadable = (self._set_aside(), _reason(exc))
            return None

    def _read(self):
        info = self.path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if info.st_size > MAX_RECOVERY_BYTES:
            raise ValueError(f"it is {info.st_size:,} bytes, more than any project")
        record = json.loads(self.path.read_text(encoding="utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("project"), dict):
            raise ValueError("it is not an autosave record (an object holding a project)")
        source = record.get("source")
        if source is not None and not isinstance(source, str):
            raise ValueError("its 'source' is not a file name")
        project = parse_project(record["project"], Path(source) if source else None)
        if "drawing" in record:
            try:
                check_drawing(record["drawing"])
            except ConfigError as exc:
                raise ValueError(f"its graph editor drawing is damaged ({exc})") from None
            self.recovered_drawing = record["drawing"]
        return project

    def _set_aside(self) -> Path | None:
        """Rename the file out of the way (kept for the curious); None if even that failed."""
        kept = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            self.path.rename(kept)
            return kept
        except OSError:
            try:
                self.path.unlink()
            except OSError:
                pass
            return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"it is not valid JSON ({exc.msg} at line {exc.lineno})"
    if isinstance(exc, UnicodeDecodeError):
        return "it is not text"
    return str(exc) or type(exc).__name__


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

    def recovery_unreadable(self, kept_as, reason: str) -> None:
        where = f"It was set aside as {kept_as}." if kept_as else "It was removed."
        QMessageBox.warning(self.parent, "Autosave could not be read",
                            f"The work autosaved by the last session could not be read: {reason}.\n\n"
                            f"{where} NN Playground starts without it.")

    def restore_recovered(self, name: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"NN Playground did not close normally last time. Restore the unsaved project “{name}”?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes
