"""File operations behind the File menu: open, save, export.

Each ``*_dialog`` method asks for a path through ``PathChooser`` and then calls
the plain method that does the work, so tests (and scripts) call the plain
methods, or swap the chooser, instead of driving native file dialogs.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pyqtgraph.exporters as exporters
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog

from engine.errors import ConfigError
from playground.export import FILE_SUFFIX, export_model
from playground.project import load_project, parse_project, save_project
from ui.panels.messages import show_error

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
DEFAULT_EXAMPLE = EXAMPLES_DIR / "spiral.json"
PROJECT_FILTER = "Projects (*.json);;All files (*)"


def blank_project() -> dict:
    return {"format": "nn-playground/1", "name": "Untitled", "seed": 0,
            "data": {"source": "circle", "samples": 500, "noise": 0.0, "train_fraction": 0.5,
                     "features": ["x1", "x2"]},
            "network": {"nodes": [{"id": "in", "type": "input"},
                                  {"id": "out", "type": "dense", "units": 1, "activation": "sigmoid"}],
                        "edges": [["in", "out"]], "output": "out"},
            "training": {"loss": "bce", "optimizer": {"name": "adam", "lr": 0.03}, "batch_size": 10}}


class PathChooser:
    """Native file dialogs; replace with any object with the same two methods to bypass them."""

    def __init__(self, parent):
        self.parent = parent

    def open_path(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", filters)
        return path or None

    def save_path(self, title: str, filters: str, suggested: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, filters)
        return path or None


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


class Documents:
    def __init__(self, window, keeper, controller, settings, plots: dict, chooser: PathChooser):
        self.window, self.keeper, self.controller = window, keeper, controller
        self.settings, self.plots, self.chooser = settings, plots, chooser

    def _error(self, title: str, exc: Exception) -> None:
        show_error(self.window, title, str(exc))

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
        self.window.autosave.discard()
        return True

    def open_dialog(self) -> bool:
        path = self.chooser.open_path("Open project", PROJECT_FILTER)
        return bool(path) and self.open_project(path)

    def save_as_dialog(self) -> bool:
        project = self.keeper.project
        suggested = str(project.path) if project.path else f"{project.name or 'project'}.json"
        path = self.chooser.save_path("Save project as", PROJECT_FILTER, suggested)
        return bool(path) and self.save_project(path)

    # -- exports ------------------------------------------------------------------------
    def export_weights(self, fmt: str, path) -> bool:
        frame, info = self.controller.latest_frame, self.controller.session_info
        if frame is None or info is None:
            show_error(self.window, "Nothing to export", "The network has not been built yet.")
            return False
        try:
            export_model(info.plan, frame.snapshot.weights, info.dataset.feature_names, fmt, path,
                         info.dataset.input_scaling)
        except (OSError, ConfigError) as exc:
            self._error("Cannot export the weights", exc)
            return False
        self.window.statusBar().showMessage(f"Exported the weights of step {frame.snapshot.step} to {path}", 5000)
        return True

    def export_weights_dialog(self, fmt: str) -> bool:
        suffix = FILE_SUFFIX[fmt]
        path = self.chooser.save_path(f"Export weights as {fmt}", f"{fmt} (*{suffix})", f"weights{suffix}")
        return bool(path) and self.export_weights(fmt, path)

    def export_plot(self, name: str, path) -> bool:
        """PNG or SVG (by suffix) of one plot; the network diagram is saved as a PNG screenshot."""
        widget = self.plots[name]
        try:
            if not hasattr(widget, "plot"):
                if not widget.grab().save(str(path)):
                    raise OSError(f"{path}: cannot write the image")
                return True
            item = widget.plot.getPlotItem()
            if str(path).lower().endswith(".svg"):
                _export_svg(widget.plot, item, str(path))
            else:
                exporters.ImageExporter(item).export(str(path))
        except OSError as exc:
            self._error("Cannot export the plot", exc)
            return False
        return True

    def export_plot_dialog(self, name: str, kind: str) -> bool:
        path = self.chooser.save_path(f"Export {name} plot", f"{kind.upper()} (*.{kind})", f"{name}.{kind}")
        return bool(path) and self.export_plot(name, path)

    def export_history(self, path) -> bool:
        try:
            self.plots["loss"].write_csv(path)
        except OSError as exc:
            self._error("Cannot export the loss history", exc)
            return False
        return True

    def export_history_dialog(self) -> bool:
        path = self.chooser.save_path("Export loss history", "CSV (*.csv)", "loss_history.csv")
        return bool(path) and self.export_history(path)
