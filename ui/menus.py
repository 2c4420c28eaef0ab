"""The menu bar: File, Edit, View, Help, wired to the window's parts."""
from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from playground.examples import EXAMPLES_DIR
from playground.export import EXPORT_FORMATS
from ui.theme import THEMES

PLOT_NAMES = {"output": "Output", "loss": "Loss", "weights": "Weights", "gradients": "Gradients",
              "network": "Network diagram"}


def _add(menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    action = menu.addAction(text)
    action.triggered.connect(lambda _=False: slot())
    if isinstance(shortcut, list):
        action.setShortcuts(shortcut)
    elif shortcut is not None:
        action.setShortcut(shortcut)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    return action


def build_file_menu(window) -> None:
    docs = window.documents
    menu = window.menuBar().addMenu("&File")
    window.file_actions = {"new": _add(menu, "&New", docs.new_project, QKeySequence.New,
                                       "Start a blank network to draw in the graph editor")}
    examples = menu.addMenu("Examples")
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        _add(examples, path.stem, partial(docs.new_from_example, path), tip=f"Start from {path.name}")
    window.file_actions["open"] = _add(menu, "&Open project…", docs.open_dialog, QKeySequence.Open,
                                       "Open a project: a trained one (.nnpg) goes on training where it stopped")
    window.recent_menu = menu.addMenu("Recent files")
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent(window))
    menu.addSeparator()
    window.file_actions["save"] = _add(menu, "&Save", docs.save_project, QKeySequence.Save,
                                       "Save the project to its file (a .nnpg file keeps the weights too)")
    window.file_actions["save_as"] = _add(menu, "Save &As…", docs.save_as_dialog, QKeySequence("Ctrl+Shift+S"),
                                          "Save as a trained project (settings, weights, training state and loss "
                                          "history) or as the settings alone")
    window.file_actions["load_weights"] = _add(menu, "&Load weights…", docs.load_weights_dialog,
                                               tip="Replace the network's weights with those of an exported weight "
                                                   "file (.safetensors, .npz, .json) or a trained project")
    menu.addSeparator()
    weights = menu.addMenu("Export weights")
    for fmt in EXPORT_FORMATS:
        window.file_actions[f"export_{fmt}"] = _add(weights, fmt, partial(docs.export_weights_dialog, fmt),
                                                    tip=f"Write the current weights as {fmt}")
    window.file_actions["export_pytorch"] = _add(menu, "Export to &PyTorch…", docs.export_pytorch_dialog,
                                                 tip="Write net.py (the model, its training and a command line), "
                                                     "its data as CSV and its weights, to train on in PyTorch")
    plots = menu.addMenu("Export plot")
    for name, title in PLOT_NAMES.items():
        for kind in ("png", "svg"):
            window.file_actions[f"plot_{name}_{kind}"] = _add(plots, f"{title} ({kind.upper()})",
                                                              partial(docs.export_plot_dialog, name, kind))
    window.file_actions["history"] = _add(menu, "Export loss history (CSV)…", docs.export_history_dialog,
                                          tip="Write step, epoch, losses and accuracies as CSV")
    menu.addSeparator()
    window.file_actions["quit"] = _add(menu, "&Quit", window.close, QKeySequence.Quit)


def _fill_recent(window) -> None:
    menu = window.recent_menu
    menu.clear()
    files = window.settings.recent_files
    for path in files:
        _add(menu, Path(path).name, partial(window.documents.open_project, path), tip=path)
    if not files:
        menu.addAction("(none)").setEnabled(False)


def build_edit_menu(window) -> None:
    menu = window.menuBar().addMenu("&Edit")
    menu.addAction(window.undo.undo_action)
    menu.addAction(window.undo.redo_action)
    menu.addSeparator()
    menu.addAction(window.toolbar.reset_action)
    menu.addAction(window.toolbar.play_action)
    menu.addAction(window.toolbar.step_action)
    menu.addAction(window.toolbar.epoch_action)


def build_view_menu(window) -> None:
    menu = window.menuBar().addMenu("&View")
    for dock in window.docks.values():
        menu.addAction(dock.toggleViewAction())
    menu.addAction(window.toolbar.toggleViewAction())
    menu.addSeparator()
    _add(menu, "Reset layout", window.reset_layout, tip="Put every panel back where it started")
    menu.addSeparator()
    zoom = window.text_zoom
    window.zoom_actions = {
        "in": _add(menu, "Zoom In", zoom.zoom_in, [QKeySequence(QKeySequence.ZoomIn), QKeySequence("Ctrl+=")],
                   "Larger text everywhere, plots included (for a projector)"),
        "out": _add(menu, "Zoom Out", zoom.zoom_out, [QKeySequence(QKeySequence.ZoomOut)], "Smaller text"),
        "reset": _add(menu, "Reset Zoom", zoom.reset, [QKeySequence("Ctrl+0")], "Text at the system's size")}
    menu.addSeparator()
    theme_menu = menu.addMenu("Theme")
    group = QActionGroup(window)
    window.theme_actions = {}
    for name in THEMES:
        action = theme_menu.addAction(name.capitalize())
        action.setCheckable(True)
        action.setActionGroup(group)
        action.triggered.connect(lambda _=False, n=name: window.set_theme(n))
        window.theme_actions[name] = action


def build_help_menu(window) -> None:
    menu = window.menuBar().addMenu("&Help")
    _add(menu, "Why derivatives?", window.show_guide, QKeySequence.HelpContents,
         "How backprop, transfer-function slopes, losses and the learning rate fit together")
    _add(menu, "About", window.show_about)


def build_menus(window) -> None:
    build_file_menu(window)
    build_edit_menu(window)
    build_view_menu(window)
    build_help_menu(window)
