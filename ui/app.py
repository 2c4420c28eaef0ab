"""Start the desktop app: ``playground [PROJECT.json]``.

Opens the project named on the command line, else the last project opened, else
the spiral example.  A project that cannot be read is reported in a message box
and the example opens instead, so the app always starts.

On Linux/X11 the system libraries Qt's xcb plugin needs are checked before Qt is
imported (``ui.system_check``): a missing one is named, with the command that
installs it, instead of Qt's misleading abort.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from engine.errors import ConfigError
from playground.checkpoint import Trained, load_trained
from playground.examples import DEFAULT_EXAMPLE
from playground.project import load_project
from ui.system_check import EXIT_MISSING_LIBRARIES, check_gui_libraries


def _initial_project(argv: list[str], settings):
    """(Trained project or plain project as checkpoint.Trained, error message or None);
    falls back to the default example."""
    candidates = [argv[0]] if argv else ([settings.last_project] if settings.last_project else [])
    for path in candidates:
        if not argv and not Path(path).is_file():
            continue            # a remembered file that has gone away is not worth a warning
        try:
            return load_trained(path), None
        except ConfigError as exc:
            return _example(), str(exc)
    return _example(), None


def _example() -> Trained:
    return Trained(load_project(DEFAULT_EXAMPLE), None, None)


def _qt_running() -> bool:
    """A QApplication exists already (a test, a script): its platform plugin loaded fine."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Qt is imported only here, after the check: QtGui itself needs some of those libraries.
    if not _qt_running() and not check_gui_libraries():
        return EXIT_MISSING_LIBRARIES
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ui.settings import APPLICATION, ORGANIZATION, AppSettings
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "playground"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    from ui.main_window import MainWindow       # after QApplication: widgets need it

    settings = AppSettings()
    opened, problem = _initial_project(argv, settings)
    window = MainWindow(opened.project)
    if opened.state is not None:            # a trained project goes on from where it stopped
        window.documents.show_trained(opened)
    window.show()
    window.offer_recovery()
    if problem:
        QMessageBox.warning(window, "Cannot open the project", f"{problem}\n\nThe spiral example is open instead.")
    elif argv:
        settings.add_recent(str(Path(argv[0]).resolve()))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
