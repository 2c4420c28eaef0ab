"""A real main window on the spiral example, with settings in a temporary folder."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from playground.project import load_project

EXAMPLES = Path(__file__).resolve().parents[2] / "assets" / "examples"
WAIT_MS = 20_000        # generous: the suite must pass on a loaded two-core machine


@pytest.fixture
def settings(tmp_path) -> QSettings:
    # Anything that opens the default QSettings also lands in tmp_path, never in the user's.
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "user"))
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


class Answers:
    """Stands in for the window's dialogs (ui.recovery.Prompter) with fixed answers."""

    def __init__(self, unsaved: str = "discard", restore: bool = True):
        self.unsaved, self.restore, self.asked = unsaved, restore, []

    def unsaved_changes(self, name: str) -> str:
        self.asked.append(("unsaved", name))
        return self.unsaved

    def restore_recovered(self, name: str) -> bool:
        self.asked.append(("restore", name))
        return self.restore

    def recovery_unreadable(self, kept_as, reason: str) -> None:
        self.asked.append(("unreadable", kept_as, reason))


@pytest.fixture
def make_window(qtbot, settings):
    from ui.main_window import MainWindow
    made = []

    def make(example: str = "spiral.json"):
        window = MainWindow(load_project(EXAMPLES / example), settings=settings)
        window.prompter = Answers()
        made.append(window)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: window.controller.latest_frame is not None, timeout=WAIT_MS)
        return window

    yield make
    for window in made:
        window.controller.shutdown()
        window.close()


@pytest.fixture
def window(make_window):
    return make_window()


def wait_frame(qtbot, window, predicate, timeout=WAIT_MS):
    """Wait until the newest frame satisfies ``predicate``; returns that frame."""
    def ok():
        frame = window.controller.latest_frame
        return frame is not None and predicate(frame)
    qtbot.waitUntil(ok, timeout=timeout)
    return window.controller.latest_frame
