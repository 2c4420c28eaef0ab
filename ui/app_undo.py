"""The window's one undo history: project edits and hand-edited weights, in the order made.

Every change the keeper accepts (``ProjectKeeper.edited``: data, training settings,
the +/- layer buttons, the graph editor's network) becomes a ``ProjectCommand``;
weight edits (ui.weight_edits) push their own commands onto the same stack.  Edit >
Undo and Redo (Ctrl+Z, Ctrl+Shift+Z) step through it.  Undo and redo go back through
the keeper (``ProjectKeeper.replay``), which records nothing for them.

The history starts again when it stops meaning anything: a project loaded (New, Open,
an example, a recovered autosave) or fresh weights (Reset, Load weights).  A change
the engine refuses leaves the history (``ProjectKeeper.reverted``).

The graph editor has its own undo stack and its own Ctrl+Z (within the editor).
Two actions on one key would cancel each other ("ambiguous shortcut"), so these
actions step aside (disabled) while ``yield_to`` (the graph editor) is shown.
In a panel's text box Ctrl+Z undoes the typing while there is typing not yet sent;
once the box shows the project again (after Enter, or an undo) the key reaches Edit >
Undo, as in a spreadsheet.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QLineEdit

from playground.project_history import ProjectChange


class ProjectCommand(QUndoCommand):
    """One accepted project change; it was applied before it was pushed."""

    def __init__(self, keeper, change: ProjectChange):
        super().__init__(change.text)
        self.keeper, self.change = keeper, change
        self._applied = True

    def redo(self):
        if self._applied:           # QUndoStack.push redoes: the keeper has applied it already
            self._applied = False
            return
        self.keeper.replay(self.change.redo_edit(self.keeper.project))

    def undo(self):
        self.keeper.replay(self.change.undo_edit(self.keeper.project))


class AppUndo(QObject):
    def __init__(self, keeper, controller, yield_to=None, parent=None):
        super().__init__(parent)
        self.keeper, self.yield_to = keeper, yield_to
        self._shown: dict[QLineEdit, str | None] = {}      # a panel box -> the text it showed for the project
        self.stack = QUndoStack(self)
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.Undo)
        self.undo_action.triggered.connect(self.stack.undo)
        self.redo_action = QAction("Redo", self)
        redo_keys = [QKeySequence("Ctrl+Shift+Z")]
        redo_keys += [k for k in QKeySequence.keyBindings(QKeySequence.Redo) if k not in redo_keys]   # no twins
        self.redo_action.setShortcuts(redo_keys)
        self.redo_action.triggered.connect(self.stack.redo)
        self.stack.indexChanged.connect(self._update_actions)
        if yield_to is not None:
            yield_to.installEventFilter(self)
        self._update_actions()

        keeper.edited.connect(lambda change: self.stack.push(ProjectCommand(keeper, change)))
        keeper.reverted.connect(self._drop_refused)
        keeper.loaded.connect(lambda _: self.clear())
        controller.reset_requested.connect(self.clear)

    def clear(self) -> None:
        self.stack.clear()

    def pass_committed_boxes(self, panels) -> None:
        """Ctrl+Z in these panels' text boxes reaches Edit > Undo unless typing is not sent yet."""
        for panel in panels:
            for box in panel.findChildren(QLineEdit) + panel.findChildren(QAbstractSpinBox) + \
                    panel.findChildren(QComboBox):
                box.installEventFilter(self)
                edit = box if isinstance(box, QLineEdit) else box.findChild(QLineEdit)
                if edit is not None:
                    self._shown[edit] = None
        # Queued: after the panels have shown the project (their slots run first).
        self.keeper.changed.connect(self._note_shown_texts, Qt.QueuedConnection)

    def _note_shown_texts(self, *_) -> None:
        """What each box shows for the project: text that differs is typing not sent yet."""
        for edit in self._shown:
            self._shown[edit] = edit.text()

    def _drop_refused(self) -> None:
        """The engine refused the newest changes: they leave the history without being undone
        (the keeper is back to what the engine accepted)."""
        stack = self.stack
        while stack.index() == stack.count() > 0:
            top = stack.command(stack.count() - 1)
            if not isinstance(top, ProjectCommand) or top.change.in_effect(self.keeper.project):
                break
            top.setObsolete(True)       # QUndoStack.undo deletes an obsolete command without undoing it
            stack.undo()

    def eventFilter(self, obj, event):
        kind = event.type()
        if obj is self.yield_to and kind in (QEvent.Show, QEvent.Hide):
            self._update_actions()
        elif kind == QEvent.ShortcutOverride and self._box_has_nothing_to_undo(obj, event):
            event.ignore()              # not taken by the box: the window's shortcut runs
            return True
        return False

    def _box_has_nothing_to_undo(self, obj, event) -> bool:
        edit = obj if isinstance(obj, QLineEdit) else obj.findChild(QLineEdit)
        if edit is None or not (event.matches(QKeySequence.Undo) or event.matches(QKeySequence.Redo) or
                                event.keyCombination() == QKeySequence("Ctrl+Shift+Z")[0]):
            return False
        shown = self._shown.get(edit)
        return edit.text() == shown if shown is not None else not edit.isUndoAvailable()

    def _update_actions(self, *_) -> None:
        shown = self.yield_to is not None and self.yield_to.isVisible()
        for action, can, text, verb in ((self.undo_action, self.stack.canUndo(), self.stack.undoText(), "Undo"),
                                        (self.redo_action, self.stack.canRedo(), self.stack.redoText(), "Redo")):
            action.setEnabled(can and not shown)
            action.setText(f"{verb} {text}" if can else verb)
            tip = (f"{verb} {text}" if can else f"Nothing to {verb.lower()}") + \
                  (" (the graph editor has its own Undo while it is shown)" if can and shown else "")
            action.setToolTip(tip)
            action.setStatusTip(tip)
