"""What the app remembers between runs, in QSettings("nn-playground", "NN Playground").

Lists are stored as JSON text: QSettings returns a one-element list as a plain
string with some back ends, which would silently break the recent-files menu.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from ui.toolbar import DEFAULT_SPEED

ORGANIZATION, APPLICATION = "nn-playground", "NN Playground"
MAX_RECENT = 8


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

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry, state = self.q.value("geometry"), self.q.value("window_state")
        return (geometry if isinstance(geometry, QByteArray) else None,
                state if isinstance(state, QByteArray) else None)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("geometry", geometry)
        self.q.setValue("window_state", state)

    def sync(self) -> None:
        self.q.sync()
