"""What the app remembers between runs, in QSettings("nn-playground", "NN Playground").

Lists are stored as JSON text: QSettings returns a one-element list as a plain
string with some back ends, which would silently break the recent-files menu.
"""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from ui.toolbar import DEFAULT_SPEED

ORGANIZATION, APPLICATION = "nn-playground", "NN Playground"
MAX_RECENT = 8
# Each kind of file dialog remembers its own last folder: projects, exports, data (CSV).
FOLDER_KINDS = ("projects", "exports", "data")


def default_settings() -> QSettings:
    """The app's settings in QSettings' default format and place.

    QSettings(organization, application) always uses the native format and ignores
    setDefaultFormat/setPath, so tests could not redirect it: name the format.
    """
    return QSettings(QSettings.defaultFormat(), QSettings.UserScope, ORGANIZATION, APPLICATION)


class AppSettings:
    def __init__(self, settings: QSettings | None = None):
        self.q = settings if settings is not None else default_settings()

    def _text(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return value if isinstance(value, str) else default

    @property
    def recent_files(self) -> list[str]:
        try:
            files = json.loads(self._text("recent_files", "[]"))
        except json.JSONDecodeError:
            return []
        return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []

    def add_recent(self, path: str) -> None:
        files = [path] + [f for f in self.recent_files if f != path]
        self.q.setValue("recent_files", json.dumps(files[:MAX_RECENT]))
        self.q.setValue("last_project", path)

    @property
    def last_project(self) -> str:
        return self._text("last_project")

    @property
    def theme(self) -> str:
        return self._text("theme", "light")

    @theme.setter
    def theme(self, name: str) -> None:
        self.q.setValue("theme", name)

    @property
    def speed(self) -> str:
        return self._text("speed", DEFAULT_SPEED)

    @speed.setter
    def speed(self, label: str) -> None:
        self.q.setValue("speed", label)

    @staticmethod
    def _folder_key(kind: str) -> str:
        if kind not in FOLDER_KINDS:
            raise ValueError(f"unknown kind of folder {kind!r}; expected one of {', '.join(FOLDER_KINDS)}")
        return f"folders/{kind}"

    def last_folder(self, kind: str) -> str:
        """The folder the last ``kind`` dialog was used in ("" if none, or if it has gone)."""
        folder = self._text(self._folder_key(kind))
        return folder if folder and Path(folder).is_dir() else ""

    def remember_folder(self, kind: str, path) -> None:
        """Remember the folder of the file ``path`` for the next ``kind`` dialog."""
        self.q.setValue(self._folder_key(kind), str(Path(path).resolve().parent))

    @property
    def text_zoom(self) -> float:
        """The text size as a multiple of the system's (1.0 = as the system has it)."""
        try:
            return float(self.q.value("text_zoom", 1.0))
        except (TypeError, ValueError):
            return 1.0

    @text_zoom.setter
    def text_zoom(self, factor: float) -> None:
        self.q.setValue("text_zoom", float(factor))

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self.q.value("geometry"), self.q.value("window_state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("geometry", geometry)
        self.q.setValue("window_state", state)

    def sync(self) -> None:
        self.q.sync()
