"""The project the window shows, kept in step with the training engine.

Panels ask for edits by name (``rebuild``, ``set_learning_rate``, ...); the
Qt-free ``playground.project_state.ProjectState`` checks them and remembers what
the engine has accepted; this object sends them to the controller and tells the
panels through signals.

It also keeps the graph editor's unfinished drawing (``set_drawing``): a graph that
is not a valid network yet never becomes part of the project, but it is work the
user would lose, so it counts as unsaved (``dirty``) and the autosave keeps it.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from engine.errors import ConfigError
from playground.project_history import LEARNING_RATE, OPTIMIZER, REBUILD, SCHEDULE, KeeperEdit, ProjectChange
from playground.project_state import ProjectState


class ProjectKeeper(QObject):
    changed = Signal(object)        # the project to show (after every edit, load or revert)
    loaded = Signal(object)         # a new project (opened, new, an example, recovered), after ``changed``
    failed = Signal(str)            # a user-facing reason an edit was refused
    dirty_changed = Signal(bool)
    edited = Signal(object)         # a ProjectChange the user made (not a load, an annotation, an undo or redo)
    reverted = Signal()             # the engine refused a change: the project is back to what it accepted

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.state = ProjectState()
        self.drawing: dict | None = None        # the editor's unfinished graph, {"network", "layout"}
        # The step a trained project's file holds (None for a settings-only file): training
        # past it is work the file does not have yet.
        self.trained_step: int | None = None
        self._step: int | None = None
        self._replaying = False         # an undo or redo is being applied: it is no new change
        controller.session_changed.connect(lambda info: self.state.session_built(info.project))
        controller.error.connect(self._on_error)

    @property
    def project(self):
        return self.state.project

    @property
    def dirty(self) -> bool:
        """Work not saved in the project file: changes to the project, an unfinished drawing,
        or training beyond the step a trained project's file holds."""
        return self.state.dirty or self.drawing is not None or self._trained_further()

    def _trained_further(self) -> bool:
        return self.trained_step is not None and self._step is not None and self._step != self.trained_step

    def note_step(self, step: int) -> None:
        """The weights are now those of ``step`` (every frame): may make a trained file out of date."""
        if step != self._step:
            self._after(lambda: setattr(self, "_step", step))

    def load(self, project, dirty: bool = False, state=None) -> None:
        """Show and train ``project``; ``dirty`` for work not yet saved (a recovered autosave);
        ``state`` a trained project's training state to continue from."""
        def load():
            self.state.loaded(project, dirty)
            self.trained_step = None if state is None else state.step
            self._step = self.trained_step
        self._after(load)
        self.controller.set_project(project, keep_weights=False, state=state)
        self.changed.emit(project)
        self.loaded.emit(project)

    def set_drawing(self, drawing: dict | None) -> None:
        """The editor's graph as drawn while it is not a valid network the project holds
        (None once it is, or once it is replaced)."""
        def keep():
            self.drawing = drawing
        self._after(keep)

    def rebuild(self, sections: dict, keep_weights: bool) -> bool:
        before, new = self.project, self._checked(sections)
        if new is None:
            return False
        self._after(lambda: self.state.rebuilt(new))
        self.controller.set_project(new, keep_weights=keep_weights)
        self.changed.emit(new)
        self._record(ProjectChange(before, new, REBUILD, keep_weights))
        return True

    # Tuning: the running session changes in place, its weights and optimiser state stay.
    def set_learning_rate(self, training: dict, lr: float) -> bool:
        return self._tune(training, LEARNING_RATE, lambda: self.controller.set_learning_rate(lr))

    def set_optimizer(self, training: dict, spec: dict) -> bool:
        return self._tune(training, OPTIMIZER, lambda: self.controller.set_optimizer(spec))

    def set_schedule(self, training: dict, spec: dict | None) -> bool:
        return self._tune(training, SCHEDULE, lambda: self.controller.set_schedule(spec))

    def _tune(self, training: dict, how: str, send) -> bool:
        before, new = self.project, self._checked({"training": training})
        if new is None:
            return False
        self._after(lambda: self.state.tuned(new))
        send()
        self.changed.emit(new)
        self._record(ProjectChange(before, new, how))
        return True

    def replay(self, edit: KeeperEdit) -> bool:
        """Apply an undo or redo (playground.project_history) the way the change was made;
        it is not recorded as a change of its own."""
        self._replaying = True
        try:
            if edit.how == REBUILD:
                return self.rebuild(edit.sections, edit.keep_weights)
            tune = {LEARNING_RATE: self.set_learning_rate, OPTIMIZER: self.set_optimizer,
                    SCHEDULE: self.set_schedule}[edit.how]
            return tune(edit.sections["training"], edit.value)
        finally:
            self._replaying = False

    def _record(self, change: ProjectChange) -> None:
        if not self._replaying and change.before is not None:
            self.edited.emit(change)

    def annotate(self, sections: dict) -> bool:
        """Change sections that do not affect training (the editor's ``layout``): no rebuild."""
        new = self._checked(sections)
        if new is None:
            return False
        self._after(lambda: self.state.annotated(new))
        return True

    def saved_as(self, path, trained_step: int | None = None) -> None:
        """Saved to ``path``: with the weights of ``trained_step`` (a trained project), or
        the settings alone (None)."""
        def saved():
            self.state.saved_as(path)
            self.trained_step = trained_step
        self._after(saved)
        self.changed.emit(self.project)

    def _checked(self, sections: dict):
        try:
            return self.state.checked(sections)
        except ConfigError as exc:
            self.failed.emit(str(exc))
            self.changed.emit(self.project)      # put the panels back
            return None

    def _on_error(self, message: str) -> None:
        if self.state.engine_refused():
            self.changed.emit(self.project)
            self.reverted.emit()
        self.failed.emit(message)

    def _after(self, change) -> None:
        """Apply a state change and report a change of the unsaved-work flag."""
        was = self.dirty
        change()
        if self.dirty != was:
            self.dirty_changed.emit(self.dirty)
