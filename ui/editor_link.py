"""Keeps the graph editor, the project and the training session in step.

The editor and the neuron view show the same network: an edit in the editor that
leaves the graph valid becomes a project change (``ProjectKeeper.rebuild``, weights
kept where shapes allow), and a project change from anywhere else (the +/- buttons,
File > Open, an example) is loaded into the editor.  While the drawn graph is
invalid, training is disabled and the status bar says why.
"""
from __future__ import annotations

from PySide6.QtCore import QObject

from engine.errors import ConfigError
from engine.graph import Graph, parse_network
from ui.editor.widget import NetworkEditor


def _draws(network: dict, graph: Graph) -> bool:
    """Whether the editor's ``network`` is ``graph`` (compared after parsing, so
    defaults written out or left implicit do not count as a difference)."""
    try:
        return parse_network(network) == graph
    except ConfigError:
        return False


class EditorLink(QObject):
    def __init__(self, editor: NetworkEditor, keeper, controller, play_actions, status_bar, parent=None):
        super().__init__(parent)
        self.editor, self.keeper, self.status_bar = editor, keeper, status_bar
        self.play_actions = tuple(play_actions)
        keeper.changed.connect(self._show_project)
        keeper.loaded.connect(self._show_new_project)
        editor.drawing_changed.connect(keeper.set_drawing)              # unfinished drawings are unsaved work
        controller.session_changed.connect(lambda info: editor.set_input_width(info.dataset.n_features))
        editor.network_changed.connect(self._apply)
        editor.layout_changed.connect(self._store_layout)
        editor.validity_changed.connect(self._on_validity)
        editor.status_message.connect(lambda text: status_bar.showMessage(text, 6000))

    def _show_project(self, project) -> None:
        # The editor's own edits come back here as the keeper's new project: only a
        # network that differs from the one the editor last gave or was given is loaded
        # (loading clears undo), so a change elsewhere (the learning rate) keeps an
        # unfinished drawing.  Zoom and pan stay.
        if not _draws(self.editor.held_network(), project.graph):
            self.editor.set_network(project.document["network"], project.document.get("layout", {}),
                                    keep_view=True)

    def _show_new_project(self, project) -> None:
        """Opened, new or recovered: drawn afresh (an unfinished drawing of the project
        before goes with it) and fitted to the canvas."""
        self.editor.set_network(project.document["network"], project.document.get("layout", {}))

    def _apply(self, network: dict, layout: dict) -> None:
        self.keeper.rebuild({"network": network, "layout": layout}, True)

    def _store_layout(self, layout: dict) -> None:
        self.keeper.annotate({"layout": layout})

    def _on_validity(self, ok: bool, reason: str) -> None:
        for action in self.play_actions:
            action.setEnabled(ok)
            action.setToolTip(action.text() if ok else f"Training is off until the graph is fixed: {reason}")
        if not ok:
            self.status_bar.showMessage(f"Training is disabled: {reason}")
        else:
            self.status_bar.clearMessage()
