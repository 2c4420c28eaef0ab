"""File operations behind the File menu: open, save, export.

Each ``*_dialog`` method asks for a path through ``PathChooser`` and then calls
the plain method that does the work, so tests (and scripts) call the plain
methods, or swap the chooser, instead of driving native file dialogs.

Exports run on a worker thread (``ExportJob``) behind a progress dialog with a
Cancel button, so a large network's export never freezes the window.  The export
is NumPy and pure Python, which releases the GIL often enough for the GUI to stay
responsive.  Cancel stops it at the next safe point and the atomic write discards
the temporary file: nothing is left behind.  Plot exports stay on the GUI thread
because Qt paints only there; the loss history is a few kilobytes.
"""
from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Callable

import pyqtgraph.exporters as exporters
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QProgressBar, QProgressDialog, QPushButton

from engine.errors import ConfigError
from playground.export import FILE_SUFFIX, export_model
from playground.examples import blank_project
from playground.project import load_project, parse_project, save_project
from ui.panels.messages import show_error

PROJECT_FILTER = "Projects (*.json);;All files (*)"


class PathChooser:
    """File dialogs; replace with any object with the same two methods to bypass them.

    ``native=False`` uses Qt's own dialog, whose directory a test can read.
    """

    def __init__(self, parent, native: bool = True):
        self.parent, self.native = parent, native

    def dialog(self, title: str, filters: str, start: str, save: bool) -> QFileDialog:
        """``start``: a folder, or a file path whose folder opens with the file name filled in."""
        dialog = QFileDialog(self.parent, title, start, filters)
        dialog.setAcceptMode(QFileDialog.AcceptSave if save else QFileDialog.AcceptOpen)
        dialog.setFileMode(QFileDialog.AnyFile if save else QFileDialog.ExistingFile)
        dialog.setOption(QFileDialog.DontUseNativeDialog, not self.native)
        dialog.setAccessibleName(title)
        return dialog

    def _ask(self, dialog: QFileDialog) -> str | None:
        chosen = dialog.selectedFiles() if dialog.exec() == QFileDialog.Accepted else []
        dialog.deleteLater()
        return chosen[0] if chosen and chosen[0] else None

    def open_path(self, title: str, filters: str, folder: str = "") -> str | None:
        return self._ask(self.dialog(title, filters, folder, save=False))

    def save_path(self, title: str, filters: str, suggested: str = "") -> str | None:
        return self._ask(self.dialog(title, filters, suggested, save=True))


def _export_svg(view, item, path: str) -> None:
    """pyqtgraph's SVGExporter, or Qt's own SVG painter where it fails.

    pyqtgraph 0.14 cannot parse the path data newer Qt versions write
    (pyqtgraph issue #3485), so the widget is painted into a QSvgGenerator instead:
    still vectors, just without pyqtgraph's clean-ups.
    """
    try:
        exporters.SVGExporter(item).export(path)
        return
    except ValueError:
        pass
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(view.size())
    generator.setViewBox(view.rect())
    generator.setTitle("NN Playground plot")
    painter = QPainter(generator)
    view.render(painter)
    painter.end()


class ExportCancelled(Exception):
    """Raised on the export thread at its next progress report once Cancel was pressed."""


DONE, CANCELLED, FAILED = "done", "cancelled", "failed"
PROGRESS_STEPS = 1000       # the progress bar's resolution
SHOW_AFTER_MS = 400         # quick exports finish before the dialog would flash up


class ExportJob(QObject):
    """One export on a Python thread, with a window-modal progress dialog and Cancel.

    ``work(progress)`` runs on the thread; ``progress(fraction)`` updates the bar and
    raises ``ExportCancelled`` once Cancel was pressed.  ``finished(outcome, message)``
    is delivered on the GUI thread with outcome "done", "cancelled" or "failed".
    """

    progressed = Signal(int)
    finished = Signal(str, str)
    # The thread reports through this queued signal; ``finished`` is then emitted on
    # the GUI thread.  Connections to a queued signal are fixed when it is emitted,
    # so one made after a fast export already reported would never fire.
    _reported = Signal(str, str)

    def __init__(self, parent, title: str, work: Callable[[Callable[[float], None]], None]):
        super().__init__(parent)
        self.outcome: str | None = None
        self.message = ""
        self._cancel = threading.Event()
        self.dialog = self._make_dialog(parent, title)
        self.progressed.connect(self.dialog.setValue)
        self._reported.connect(self._close)
        self._thread = threading.Thread(target=self._run, args=(work,), name="export", daemon=True)

    def _make_dialog(self, parent, title: str) -> QProgressDialog:
        dialog = QProgressDialog(title, "Cancel", 0, PROGRESS_STEPS, parent)
        dialog.setWindowTitle("Exporting")
        dialog.setWindowModality(Qt.WindowModal)
        dialog.setAutoReset(False)      # the job, not the bar reaching 100%, decides when it is over
        dialog.setAutoClose(False)
        dialog.setMinimumDuration(SHOW_AFTER_MS)
        dialog.setAccessibleName("Export progress")
        dialog.setToolTip("Writing the export file; Cancel stops it and leaves no file behind")
        button = QPushButton("Cancel")
        button.setAccessibleName("Cancel export")
        button.setToolTip("Stop the export; the file is not written and any earlier file stays as it was")
        dialog.setCancelButton(button)
        self.cancel_button = button
        bar = QProgressBar()
        bar.setAccessibleName("Export progress bar")
        bar.setToolTip("How much of the export is done")
        dialog.setBar(bar)
        dialog.canceled.connect(self.cancel)
        dialog.setValue(0)
        return dialog

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the export to stop; it does at its next progress report."""
        if self.outcome is None:
            self._cancel.set()
            self.dialog.setLabelText("Cancelling…")

    def _progress(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise ExportCancelled()
        self.progressed.emit(round(min(max(fraction, 0.0), 1.0) * PROGRESS_STEPS))

    def _run(self, work) -> None:
        outcome, message = DONE, ""
        try:
            work(self._progress)
        except ExportCancelled:
            outcome = CANCELLED
        except (OSError, ConfigError) as exc:
            outcome, message = FAILED, str(exc)
        except Exception as exc:    # a bug: still say what happened rather than fail silently
            outcome, message = FAILED, f"{type(exc).__name__}: {exc}"
        self._reported.emit(outcome, message)   # queued: _close runs on the GUI thread

    def _close(self, outcome: str, message: str) -> None:
        self.outcome, self.message = outcome, message
        self.dialog.canceled.disconnect(self.cancel)
        self.dialog.close()
        self.dialog.deleteLater()
        self.finished.emit(outcome, message)


class Documents(QObject):
    """The File menu's work. ``export_finished(outcome, path)`` follows every export."""

    export_started = Signal(object)         # the ExportJob
    export_finished = Signal(str, str)      # outcome ("done", "cancelled", "failed"), the target path

    def __init__(self, window, keeper, controller, settings, plots: dict, chooser: PathChooser):
        super().__init__(window)
        self.window, self.keeper, self.controller = window, keeper, controller
        self.settings, self.plots, self.chooser = settings, plots, chooser
        self.jobs: list[ExportJob] = []

    def _error(self, title: str, exc: Exception) -> None:
        show_error(self.window, title, str(exc))

    # -- where the dialogs open -----------------------------------------------------------
    def folder_for(self, kind: str) -> str:
        """The last folder a ``kind`` dialog was used in, else the current project file's
        folder, else "" (the folder the app was started in)."""
        folder = self.settings.last_folder(kind)
        project = self.keeper.project
        if not folder and project is not None and project.path is not None:
            folder = str(Path(project.path).resolve().parent)
        return folder

    def _in_folder(self, kind: str, name: str) -> str:
        folder = self.folder_for(kind)
        return str(Path(folder) / name) if folder else name

    def _ask_open(self, kind: str, title: str, filters: str) -> str | None:
        path = self.chooser.open_path(title, filters, self.folder_for(kind))
        if path:
            self.settings.remember_folder(kind, path)
        return path or None

    def _ask_save(self, kind: str, title: str, filters: str, name: str) -> str | None:
        path = self.chooser.save_path(title, filters, self._in_folder(kind, name))
        if path:
            self.settings.remember_folder(kind, path)
        return path or None

    def choose_csv(self) -> str | None:
        """A CSV file to import, from the folder the last one came from."""
        return self._ask_open("data", "Import a CSV file", "CSV files (*.csv);;All files (*)")

    # -- projects -----------------------------------------------------------------------
    def new_project(self) -> bool:
        """A blank network (input straight to one sigmoid output) on the circle data, to draw on."""
        if not self.window.confirm_discard():
            return False
        self.keeper.load(parse_project(blank_project()))
        return True

    def _read(self, path, title: str):
        """The project at ``path`` once unsaved work is dealt with, else None (reported)."""
        if not self.window.confirm_discard():
            return None
        try:
            return load_project(path)
        except ConfigError as exc:
            self._error(title, exc)
            return None

    def open_project(self, path) -> bool:
        project = self._read(path, "Cannot open the project")
        if project is None:
            return False
        self.keeper.load(project)
        self.settings.add_recent(str(Path(path).resolve()))
        self.settings.remember_folder("projects", path)
        return True

    def new_from_example(self, path) -> bool:
        """Start from an example, unsaved: Save then asks where, so the example stays as it is."""
        project = self._read(path, "Cannot open the example")
        if project is None:
            return False
        # Relative CSV paths still resolve in the examples folder until the first save.
        self.keeper.load(dataclasses.replace(project, path=None))
        return True

    def save_project(self, path=None) -> bool:
        path = path or self.keeper.project.path
        if path is None:
            return self.save_as_dialog()
        try:
            save_project(self.keeper.project, path)
        except (OSError, ConfigError) as exc:
            self._error("Cannot save the project", exc)
            return False
        self.keeper.saved_as(path)
        self.settings.add_recent(str(Path(path).resolve()))
        self.settings.remember_folder("projects", path)
        self.window.autosave.discard()
        return True

    def open_dialog(self) -> bool:
        path = self._ask_open("projects", "Open project", PROJECT_FILTER)
        return bool(path) and self.open_project(path)

    def save_as_dialog(self) -> bool:
        project = self.keeper.project
        name = Path(project.path).name if project.path else f"{project.name or 'project'}.json"
        path = self._ask_save("projects", "Save project as", PROJECT_FILTER, name)
        return bool(path) and self.save_project(path)

    # -- exports ------------------------------------------------------------------------
    def start_export(self, fmt: str, path) -> ExportJob | None:
        """Begin exporting the weights shown now as ``fmt`` to ``path`` on a worker thread.

        Returns the running job (its ``finished`` signal reports the outcome), or None
        when there is nothing to export yet.
        """
        frame, info = self.controller.latest_frame, self.controller.session_info
        if frame is None or info is None:
            show_error(self.window, "Nothing to export", "The network has not been built yet.")
            return None
        # The snapshot's arrays are read-only copies and the plan is immutable, so the
        # thread can read them while training goes on.
        weights, step = frame.snapshot.weights, frame.snapshot.step
        plan, names, scaling = info.plan, info.dataset.feature_names, info.dataset.input_scaling

        def work(progress):
            export_model(plan, weights, names, fmt, path, scaling, progress=progress)

        job = ExportJob(self.window, f"Exporting the weights of step {step} as {fmt} to {Path(path).name}…", work)
        job.finished.connect(lambda outcome, message: self._export_done(job, outcome, message, step, path))
        self.jobs.append(job)
        self.export_started.emit(job)
        job.start()
        return job

    def _export_done(self, job: ExportJob, outcome: str, message: str, step: int, path) -> None:
        self.jobs.remove(job)
        job.deleteLater()
        if outcome == DONE:
            self.window.statusBar().showMessage(f"Exported the weights of step {step} to {path}", 5000)
        elif outcome == CANCELLED:
            self.window.statusBar().showMessage(f"Export cancelled; {path} was not written", 5000)
        else:
            show_error(self.window, "Cannot export the weights", message)
        self.export_finished.emit(outcome, str(path))

    def cancel_exports(self) -> None:
        """Cancel every running export (e.g. before the window closes)."""
        for job in list(self.jobs):
            job.cancel()

    def export_weights(self, fmt: str, path):
        """Start exporting (it runs off the GUI thread); ``export_finished`` tells the
        outcome.  Returns the job, or None when there is nothing to export.  No nested
        event loop waits for it: the window simply carries on."""
        return self.start_export(fmt, path)

    def export_weights_dialog(self, fmt: str):
        suffix = FILE_SUFFIX[fmt]
        path = self._ask_save("exports", f"Export weights as {fmt}", f"{fmt} (*{suffix})", f"weights{suffix}")
        return self.export_weights(fmt, path) if path else None

    def export_plot(self, name: str, path) -> bool:
        """PNG or SVG (by suffix) of one plot, or of the network diagram (without its controls)."""
        widget = self.plots[name]
        try:
            if hasattr(widget, "export_image"):
                widget.export_image(str(path))
                return True
            item = widget.plot.getPlotItem()
            if str(path).lower().endswith(".svg"):
                _export_svg(widget.plot, item, str(path))
            else:
                exporters.ImageExporter(item).export(str(path))
        except (OSError, ValueError) as exc:
            self._error("Cannot export the plot", exc)
            return False
        return True

    def export_plot_dialog(self, name: str, kind: str) -> bool:
        path = self._ask_save("exports", f"Export {name} plot", f"{kind.upper()} (*.{kind})", f"{name}.{kind}")
        return bool(path) and self.export_plot(name, path)

    def export_history(self, path) -> bool:
        try:
            self.plots["loss"].write_csv(path)
        except OSError as exc:
            self._error("Cannot export the loss history", exc)
            return False
        return True

    def export_history_dialog(self) -> bool:
        path = self._ask_save("exports", "Export loss history", "CSV (*.csv)", "loss_history.csv")
        return bool(path) and self.export_history(path)
