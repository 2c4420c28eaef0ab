"""File dialogs open in the folder last used for their kind of file (projects, exports,
CSV data), remembered across windows; before any was used, in the project's folder."""
from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.ui.conftest import EXAMPLES, WAIT_MS
from ui.documents import PathChooser


class Chooser:
    """Answers the dialogs with ``answers`` in turn and records where each one started."""

    def __init__(self, *answers):
        self.answers, self.started_in = list(answers), []

    def open_path(self, title, filters, folder=""):
        self.started_in.append(folder)
        return str(self.answers.pop(0))

    def save_path(self, title, filters, suggested=""):
        self.started_in.append(str(Path(suggested).parent))
        return str(self.answers.pop(0))


def folders(tmp_path, *names):
    made = []
    for name in names:
        (tmp_path / name).mkdir()
        made.append(tmp_path / name)
    return made


def test_project_dialogs_open_where_the_last_project_was_saved_or_opened(window, tmp_path):
    a, b = folders(tmp_path, "A", "B")
    shutil.copy(EXAMPLES / "xor.json", b / "xor.json")
    chooser = Chooser(a / "mine.json", b / "xor.json", a / "again.json")
    window.documents.chooser = chooser
    assert window.documents.save_as_dialog()
    assert window.documents.open_dialog()
    assert window.documents.save_as_dialog()
    assert chooser.started_in[1:] == [str(a), str(b)]


def test_each_kind_of_file_keeps_its_own_folder(window, tmp_path):
    projects, exports, data = folders(tmp_path, "projects", "exports", "data")
    chooser = Chooser(projects / "p.json", exports / "loss.csv", exports / "loss.png", projects / "q.json")
    window.documents.chooser = chooser
    assert window.documents.save_as_dialog()
    # No export folder yet: the project's folder.
    assert window.documents.export_history_dialog()
    assert window.documents.export_plot_dialog("loss", "png")
    assert window.documents.save_as_dialog()
    assert chooser.started_in[1:] == [str(projects), str(exports), str(projects)]
    window.settings.remember_folder("data", data / "table.csv")
    chooser.answers.append(data / "nothing.csv")
    window.documents.choose_csv()
    assert chooser.started_in[-1] == str(data)


def test_folders_are_remembered_by_the_next_window(make_window, tmp_path):
    a, = folders(tmp_path, "A")
    first = make_window()
    first.documents.chooser = Chooser(a / "saved.json")
    assert first.documents.save_as_dialog()
    first.close()
    second = make_window("circle.json")         # its own project lives elsewhere
    chooser = Chooser(a / "saved.json")
    second.documents.chooser = chooser
    second.documents.open_dialog()
    assert chooser.started_in == [str(a)]


def test_the_qt_dialog_itself_starts_in_the_remembered_folder(qtbot, window, tmp_path):
    a, = folders(tmp_path, "A")
    window.settings.remember_folder("projects", a / "any.json")
    window.documents.chooser = PathChooser(window, native=False)
    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, answer)
            return
        seen["directory"] = dialog.directory().absolutePath()
        seen["title"] = dialog.windowTitle()
        dialog.reject()

    QTimer.singleShot(0, answer)
    assert not window.documents.open_dialog()          # cancelled: nothing opened
    qtbot.waitUntil(lambda: "directory" in seen, timeout=WAIT_MS)
    assert Path(seen["directory"]) == a.resolve() and seen["title"] == "Open project"


def test_a_folder_that_has_gone_falls_back_to_the_project_folder(window, tmp_path):
    gone, = folders(tmp_path, "gone")
    window.settings.remember_folder("exports", gone / "x.png")
    gone.rmdir()
    chooser = Chooser(tmp_path / "loss.png")
    window.documents.chooser = chooser
    window.documents.export_plot_dialog("loss", "png")
    assert chooser.started_in == [str(EXAMPLES.resolve())]
