"""``playground`` with no subcommand: which project the app opens, and that it runs."""
from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QSettings

from ui import app as app_module
from tests.ui.conftest import EXAMPLES
from ui.settings import AppSettings


def test_project_on_the_command_line_wins(settings):
    opened, problem = app_module._initial_project([str(EXAMPLES / "xor.json")], AppSettings(settings))
    assert opened.project.path.name == "xor.json" and opened.state is None and problem is None


def test_a_trained_project_on_the_command_line_opens_with_its_state(settings, tmp_path):
    from playground.checkpoint import save_trained
    from playground.project import build_session, load_project
    project = load_project(EXAMPLES / "xor.json")
    session = build_session(project)
    session.step(7)
    save_trained(tmp_path / "t.nnpg", project, session.state())
    opened, problem = app_module._initial_project([str(tmp_path / "t.nnpg")], AppSettings(settings))
    assert problem is None and opened.state.step == 7


def test_unreadable_project_falls_back_to_the_example_and_says_why(settings, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    opened, problem = app_module._initial_project([str(bad)], AppSettings(settings))
    assert opened.project.path == app_module.DEFAULT_EXAMPLE
    assert "bad.json" in problem and "JSON" in problem


def test_last_project_then_default(settings, tmp_path):
    remembered = AppSettings(settings)
    assert app_module._initial_project([], remembered)[0].project.path == app_module.DEFAULT_EXAMPLE
    remembered.add_recent(str(EXAMPLES / "circle.json"))
    assert app_module._initial_project([], remembered)[0].project.path.name == "circle.json"
    remembered.add_recent(str(tmp_path / "gone.json"))             # deleted since: no warning, the default
    opened, problem = app_module._initial_project([], remembered)
    assert opened.project.path == app_module.DEFAULT_EXAMPLE and problem is None


_RUN_MAIN = """
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
QSettings.setDefaultFormat(QSettings.IniFormat)
QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, sys.argv[1])
from ui import app
from ui.main_window import MainWindow

def close_all():        # report what is open, then close it, so exec() returns
    for window in QApplication.topLevelWidgets():
        if isinstance(window, MainWindow) and window.isVisible():
            print("open:", window.keeper.project.path.name, flush=True)
            window.close()
    QApplication.quit()

qt_app = QApplication(["playground"])      # main() reuses it; the timer needs one to exist
QTimer.singleShot(1000, close_all)
sys.exit(app.main(sys.argv[2:]))
"""


def test_main_shows_the_window_and_returns_when_it_closes(tmp_path):
    # In a child process: main() runs (and quits) its own QApplication, and quitting
    # this process's one would break every test after it.
    settings_dir = tmp_path / "settings"
    result = subprocess.run([sys.executable, "-c", _RUN_MAIN, str(settings_dir), str(EXAMPLES / "xor.json")],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert "open: xor.json" in result.stdout
    stored = QSettings(str(settings_dir / "nn-playground" / "NN Playground.ini"), QSettings.IniFormat)
    assert str((EXAMPLES / "xor.json").resolve()) in AppSettings(stored).recent_files


def test_default_settings_follow_the_test_location(settings, tmp_path):
    # The fixture moved the default location; the app's own QSettings must follow it.
    assert AppSettings().q.fileName().startswith(str(tmp_path))
