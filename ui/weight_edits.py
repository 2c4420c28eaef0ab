"""Weights edited by hand in the neuron view: undo history, engine and Why? tab in step.

The neuron view's weight editor (ui.weight_editor) says what the user did; this
object makes it happen:

* every committed edit is a ``SetWeight`` on the window's undo stack (ui.app_undo,
  shared with project edits), whose redo and undo send ``TrainingController.set_weight``
  with the new or the old value, so Edit > Undo (``undo_action``, Ctrl+Z) restores a
  weight through the same command that set it.  Values previewed while the slider is dragged go straight to the
  engine; the release pushes one command from the value before the drag.
* a picked edge becomes the Why? tab's weight (``WhyPanel.select_weight``), and
  the chain rule for it is asked for after every edit (the engine answers in order,
  so for the new value) and, while the editor is open, after frames (at most every
  AUTO_INTERVAL_S while training), so it follows the weight as the loss and the output
  map do.
* the history is cleared (by ui.app_undo) when it stops meaning anything: a file
  opened or Reset (fresh weights).  Project changes in between stay undoable in order.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from playground.explain import ExplainRequest

AUTO_INTERVAL_S = 0.5       # while training runs, the editor's chain rule is refreshed this often...
PAUSED_INTERVAL_S = 0.15    # ...and while a paused network's weight is dragged (each edit still asks)
MERGE_ID = 1315             # QUndoCommand.id of slider steps that one Undo takes back together


def weight_name(tensor: str, index: tuple) -> str:
    return f"{tensor}[{', '.join(map(str, index))}]"


class SetWeight(QUndoCommand):
    """``tensor``[``index``] from ``old`` to ``new`` through ``apply(tensor, index, value)``."""

    def __init__(self, apply, tensor: str, index: tuple, old: float, new: float, merge: bool = False):
        super().__init__()
        self.apply, self.tensor, self.index = apply, tensor, tuple(index)
        self.old, self.new, self.merge = old, new, merge
        self._name()

    def _name(self) -> None:
        self.setText(f"weight {weight_name(self.tensor, self.index)} = {self.new:.4g}")

    def redo(self):
        self.apply(self.tensor, self.index, self.new)

    def undo(self):
        self.apply(self.tensor, self.index, self.old)

    def id(self) -> int:
        return MERGE_ID if self.merge else -1

    def mergeWith(self, other) -> bool:
        """Slider steps on the same weight, one after another: one edit from the first old value."""
        if not (isinstance(other, SetWeight) and other.merge and (other.tensor, other.index) == (self.tensor, self.index)):
            return False
        self.new = other.new
        self._name()
        return True


class WeightEdits(QObject):
    edited = Signal()       # a weight changed by hand (an edit, its undo or redo, a dragged value)

    def __init__(self, view, controller, undo, why_panel=None, parent=None):
        """``undo``: the window's history (ui.app_undo.AppUndo), whose stack and actions these share."""
        super().__init__(parent)
        self.view, self.controller, self.why_panel = view, controller, why_panel
        self.stack, self.undo_action, self.redo_action = undo.stack, undo.undo_action, undo.redo_action
        self._asked_at = -1e9
        # On the view too, so the keys work wherever the window puts (or does not put) them in a menu.
        view.addActions([self.undo_action, self.redo_action])

        view.weight_edited.connect(self.push)
        view.weight_previewed.connect(self._preview)
        view.weight_selected.connect(self._follow)
        controller.explained.connect(view.show_explanation)
        controller.frame_ready.connect(self._on_frame)

    # -- the history ---------------------------------------------------------------------
    def push(self, tensor: str, index: tuple, old: float, new: float, merge: bool = False) -> None:
        """Set ``tensor``[``index``] to ``new`` now; Undo puts ``old`` back."""
        self.stack.push(SetWeight(self._apply, tensor, index, old, new, merge))

    def _apply(self, tensor: str, index: tuple, value: float) -> None:
        self.controller.set_weight(tensor, index, value)
        self.edited.emit()
        self._explain()             # after the edit: the engine answers in order

    def _preview(self, tensor: str, index: tuple, value: float) -> None:
        self.controller.set_weight(tensor, index, value)
        self.edited.emit()

    # -- the chain rule for the edited weight ---------------------------------------------
    def _follow(self, tensor: str, index: tuple) -> None:
        """A picked edge: the Why? tab's weight, and its chain rule for the editor."""
        node, _, kind = tensor.rpartition(".")
        if kind == "weight" and self.why_panel is not None:
            self.why_panel.select_weight(node, *index)
        self._explain()

    def _on_frame(self, _frame) -> None:
        interval = AUTO_INTERVAL_S if self.controller.is_running else PAUSED_INTERVAL_S
        if self.view.editor.isVisible() and time.monotonic() - self._asked_at >= interval:
            self._explain()

    def _explain(self) -> None:
        editor = self.view.editor
        if not editor.isVisible() or not editor.tensor.endswith(".weight"):
            return
        request = self.why_panel.current_request() if self.why_panel is not None else None
        if request is None or (request.weight, request.unit, request.source) != (editor.tensor, *editor.index):
            request = ExplainRequest(editor.tensor, *editor.index)      # the Why? tab follows another weight
        self._asked_at = time.monotonic()
        self.controller.explain(request)
