"""File operations behind the File menu: open, save, export, load weights.

Each ``*_dialog`` method asks for a path through ``PathChooser`` and then calls
the plain method that does the work, so tests (and scripts) call the plain
methods, or swap the chooser, instead of driving native file dialogs.

Exports run on a worker thread (``ExportJob``) behind a progress dialog with a
Cancel button, so a large network's export never freezes the window.  The export
is NumPy and pure Python, which releases the GIL often enough for the GUI to stay
responsive.  Cancel stops it at the next safe point and the atomic write discards
the temporary file: nothing is left behind.  Plot exports stay on the GUI thread
because Qt paints only there; the loss history is a few kilobytes.

Trained projects (``*.nnpg``, playground/checkpoint.py) hold the project with its
weights, training state and loss history.  Saving one asks the engine for its state
(``request_state``) and waits the few milliseconds it takes without taking user input
meanwhile, so Save keeps its plain true/false answer (closing the window relies on
it).  Opening one continues training bit for bit where it stopped, and the loss plot
starts from the saved history once the new session has cleared it.
"""
from __future__ import annotations

import dataclasses
import re
import threading
from pathlib import Path
from typing import Callable

import pyqtgraph.exporters as exporters
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QProgressBar, QProgressDialog, QPushButton

from engine.errors import ConfigError
from playground.checkpoint import Trained, load_trained, read_weight_file, save_trained
from playground.export import FILE_SUFFIX, export_model
from playground.examples import blank_project
from playground.project import TRAINED_SUFFIX, parse_project, save_project
from playground.torch_export import SCRIPT_SUFFIX, export_pytorch, pytorch_files
from ui.panels.messages import show_error

TRAINED_FILTER = f"Trained project: settings, weights, training state (*{TRAINED_SUFFIX})"
SETTINGS_FILTER = "Project settings only (*.json)"
SAVE_FILTERS = (TRAINED_FILTER, SETTINGS_FILTER)
PROJECT_FILTER = (f"Projects (*{TRAINED_SUFFIX} *.json);;{TRAINED_FILTER};;{SETTINGS_FILTER};;All files (*)")
WEIGHTS_FILTER = f"Weight files (*.safetensors *.npz *.json *{TRAINED_SUFFIX});;All files (*)"
PYTORCH_FILTER = f"Python (*{SCRIPT_SUFFIX})"
STATE_WAIT_MS = 30_000      # the engine answers between two training chunks: milliseconds, even when busy
ALIVE_CHECK_MS = 200


def filter_suffix(name_filter: str) -> str:
    """The suffix of a filter's first pattern ("json" for "Projects (*.json *.nnpg)"), or ""."""
    found = re.search(r"\(\*\.([\w.]+)", name_filter)
    return found.group(1) if found else ""


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
        if save:
            _follow_filters(dialog, Path(start).suffix.lower())
        return dialog

    def _ask(self, dialog: QFileDialog) -> str | None:
        chosen = dialog.selectedFiles() if dialog.exec() == QFileDialog.Accepted else []
        dialog.deleteLater()
        return chosen[0] if chosen and chosen[0] else None

    def open_path(self, title: str, filters: str, folder: str = "") -> str | None:
        return self._ask(self.dialog(title, filters, folder, save=False))

    def save_path(self, title: str, filters: str, suggested: str = "") -> str | None:
        return self._ask(self.dialog(title, filters, suggested, save=True))


def _follow_filters(dialog: QFileDialog, suffix: str) -> None:
    """Start on the filter of the suggested file's suffix, and give a name typed without a
    suffix the chosen filter's (so "mine" becomes mine.nnpg or mine.json as chosen)."""
    for name_filter in dialog.nameFilters():
        if suffix and f"*{suffix}" in name_filter.split("(")[-1]:
            dialog.selectNameFilter(name_filter)
            break
    dialog.setDefaultSuffix(filter_suffix(dialog.selectedNameFilter()))
    dialog.filterSelected.connect(lambda chosen: dialog.setDefaultSuffix(filter_suffix(chosen)))


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
        self._state_token = 0
        self._pending_history: tuple | None = None     # (project, rows) until its session is built

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

    def _read(self, path, title: str) -> Trained | None:
        """The project (plain, or trained with its state) at ``path`` once unsaved work is
        dealt with, else None (reported)."""
        if not self.window.confirm_discard():
            return None
        try:
            return load_trained(path)
        except ConfigError as exc:
            self._error(title, exc)
            return None

    def open_project(self, path) -> bool:
        trained = self._read(path, "Cannot open the project")
        if trained is None:
            return False
        self.show_trained(trained)
        self.settings.add_recent(str(Path(path).resolve()))
        self.settings.remember_folder("projects", path)
        return True

    def show_trained(self, trained: Trained) -> None:
        """Show and train ``trained.project``, from its training state and with its loss
        history when it has them (a trained project), else from fresh weights."""
        if trained.history is not None:
            # Connected now, after the window's own session handler, which clears the plot first.
            if self._pending_history is None:
                self.controller.session_changed.connect(self._restore_history)
            self._pending_history = (trained.project, trained.history)
        self.keeper.load(trained.project, state=trained.state)

    def _restore_history(self, info) -> None:
        project, rows = self._pending_history
        self._pending_history = None
        self.controller.session_changed.disconnect(self._restore_history)
        if info.project == project:     # else the engine refused it: the old session goes on
            self.plots["loss"].restore_rows(rows)

    def new_from_example(self, path) -> bool:
        """Start from an example, unsaved: Save then asks where, so the example stays as it is."""
        trained = self._read(path, "Cannot open the example")
        if trained is None:
            return False
        # Relative CSV paths still resolve in the examples folder until the first save.
        self.keeper.load(dataclasses.replace(trained.project, path=None), state=trained.state)
        return True

    def save_project(self, path=None) -> bool:
        """Save to ``path`` (else the project's own file): with the weights, training state and
        loss history for a *.nnpg name, the settings alone otherwise."""
        path = path or self.keeper.project.path
        if path is None:
            return self.save_as_dialog()
        trained = Path(path).suffix.lower() == TRAINED_SUFFIX
        try:
            if trained:
                step = self._save_trained(path)
            else:
                save_project(self.keeper.project, path)
        except (OSError, ConfigError) as exc:
            self._error("Cannot save the project", exc)
            return False
        self.keeper.saved_as(path, step if trained else None)
        self.settings.add_recent(str(Path(path).resolve()))
        self.settings.remember_folder("projects", path)
        self.window.autosave.discard()
        what = f"with its weights at step {step}" if trained else "(settings only, no weights)"
        self.window.statusBar().showMessage(f"Saved {Path(path).name} {what}", 5000)
        return True

    def _save_trained(self, path) -> int:
        """Write the trained project; the step it was saved at."""
        state = self._training_state()
        # Read after the state arrived: an edit the engine refused meanwhile is undone by now.
        save_trained(path, self.keeper.project, state, self.plots["loss"].rows())
        return state.step

    def _training_state(self):
        """The engine's training state now.  Waits for it (milliseconds) in a local event loop
        that leaves user input queued; ConfigError if there is none to save."""
        if self.controller.session_info is None:
            raise ConfigError("The network has not been built yet: there are no weights to save.")
        self._state_token += 1
        token, answer, loop = self._state_token, [], QEventLoop()

        def take(got, state):
            if got == token:
                answer.append(state)
                loop.quit()

        deadline, watch = QTimer(singleShot=True, interval=STATE_WAIT_MS), QTimer(interval=ALIVE_CHECK_MS)
        deadline.timeout.connect(loop.quit)
        watch.timeout.connect(lambda: None if self.controller.engine_alive else loop.quit())
        self.controller.state_ready.connect(take)
        try:
            self.controller.request_state(token)
            deadline.start()
            watch.start()
            loop.exec(QEventLoop.ExcludeUserInputEvents)
        finally:
            deadline.stop()
            watch.stop()
            self.controller.state_ready.disconnect(take)
        if not answer or answer[0] is None:
            raise ConfigError("The training engine did not send its weights and training state; "
                              "save the settings alone (*.json), or restart and train again.")
        return answer[0]

    def open_dialog(self) -> bool:
        path = self._ask_open("projects", "Open project", PROJECT_FILTER)
        return bool(path) and self.open_project(path)

    def save_as_dialog(self) -> bool:
        path = self._ask_save("projects", "Save project as", ";;".join(SAVE_FILTERS), self._suggested_name())
        return bool(path) and self.save_project(path)

    def _suggested_name(self) -> str:
        """The project file's name (else the project's), as a trained project once it has
        trained: the weights are what Save As would otherwise lose."""
        project = self.keeper.project
        stem = Path(project.path).stem if project.path else (project.name or "project")
        frame = self.controller.latest_frame
        if frame is not None and frame.snapshot.step > 0:
            return f"{stem}{TRAINED_SUFFIX}"
        return Path(project.path).name if project.path else f"{stem}.json"

    # -- weights ------------------------------------------------------------------------
    def load_weights(self, path) -> bool:
        """Replace the network's weights with those of ``path`` (any exported weight file, or a
        trained project); a wrong file is refused with a message naming the tensor."""
        info = self.controller.session_info
        if info is None:
            show_error(self.window, "Cannot load the weights", "The network has not been built yet.")
            return False
        try:
            tensors = read_weight_file(path, info.plan)
        except ConfigError as exc:
            self._error("Cannot load the weights", exc)
            return False
        self.controller.load_weights(tensors, str(path))
        self.window.statusBar().showMessage(f"Loaded the weights of {Path(path).name}; the optimiser starts "
                                            "afresh from them", 8000)
        return True

    def load_weights_dialog(self) -> bool:
        path = self._ask_open("exports", "Load weights", WEIGHTS_FILTER)
        return bool(path) and self.load_weights(path)

    # -- exports ------------------------------------------------------------------------
    def _shown_weights(self):
        """(weights, step, SessionInfo) of the frame on screen, or None (reported) before the first."""
        frame, info = self.controller.latest_frame, self.controller.session_info
        if frame is None or info is None:
            show_error(self.window, "Nothing to export", "The network has not been built yet.")
            return None
        # The snapshot's arrays are read-only copies and the plan is immutable, so the
        # export thread can read them while training goes on.
        return frame.snapshot.weights, frame.snapshot.step, info

    def start_export(self, fmt: str, path) -> ExportJob | None:
        """Begin exporting the weights shown now as ``fmt`` to ``path`` on a worker thread,
        with the data set's input scaling and class names.

        Returns the running job (its ``finished`` signal reports the outcome), or None
        when there is nothing to export yet.
        """
        shown = self._shown_weights()
        if shown is None:
            return None
        weights, step, info = shown
        plan, names, scaling, classes = (info.plan, info.dataset.feature_names, info.dataset.input_scaling,
                                         info.dataset.classes)

        def work(progress):
            export_model(plan, weights, names, fmt, path, scaling, progress=progress,
                         source=f"the weights of step {step}", class_names=classes)

        return self._run_export(work, f"Exporting the weights of step {step} as {fmt} to {Path(path).name}…",
                                f"Exported the weights of step {step} to {path}", path)

    def start_pytorch_export(self, path) -> ExportJob | None:
        """Begin writing ``path`` (a .py script), its data CSV and its weight file for PyTorch
        (playground/torch_export.py), from the weights shown now, on a worker thread."""
        shown = self._shown_weights()
        if shown is None:
            return None
        weights, step, _ = shown
        project = self.keeper.project       # the settings shown, tuning included: the script trains with them

        def work(progress):
            export_pytorch(project, weights, path, progress=progress, source=f"the weights of step {step}")

        files = ", ".join(p.name for p in pytorch_files(path))
        return self._run_export(work, f"Exporting step {step} to PyTorch: {files}…",
                                f"Exported step {step} to PyTorch: {files} in {Path(path).parent}", path)

    def _run_export(self, work, title: str, done_text: str, path) -> ExportJob:
        job = ExportJob(self.window, title, work)
        job.finished.connect(lambda outcome, message: self._export_done(job, outcome, message, done_text, path))
        self.jobs.append(job)
        self.export_started.emit(job)
        job.start()
        return job

    def _export_done(self, job: ExportJob, outcome: str, message: str, done_text: str, path) -> None:
        self.jobs.remove(job)
        job.deleteLater()
        if outcome == DONE:
            self.window.statusBar().showMessage(done_text, 5000)
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

    def export_pytorch_dialog(self):
        path = self._ask_save("exports", "Export to PyTorch", PYTORCH_FILTER, f"net{SCRIPT_SUFFIX}")
        return self.start_pytorch_export(path) if path else None

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
