"""Which project the window shows, and which of it the training engine has accepted.

Edits are checked here (``Project.with_changes`` validates every field) and then
either rebuild the session or tune the running one.  Building can still fail in
the engine (say, a loss that does not fit the output layer): the engine keeps its
old session and reports an error, and the state goes back to the last project the
engine accepted, so the panels never show settings that are not in effect.

Free of Qt: ``ui.project_keeper`` wires it to the controller and to signals.
"""
from __future__ import annotations


from playground.project import Project, relocated


class ProjectState:
    def __init__(self):
        self.project: Project | None = None
        self.accepted: Project | None = None    # the last project known to be in effect in the engine
        self.sent: Project | None = None        # a rebuild sent to the engine, until it confirms it
        self.dirty = False                      # changed since the last load or save

    def checked(self, sections: dict) -> Project:
        """The current project with ``sections`` changed (engine.errors.ConfigError if invalid)."""
        return self.project.with_changes(**sections)

    def loaded(self, project: Project, dirty: bool = False) -> None:
        self.project, self.sent, self.dirty = project, project, dirty

    def rebuilt(self, project: Project) -> None:
        """``project`` goes to the engine to be built."""
        self.project, self.sent, self.dirty = project, project, True

    def tuned(self, project: Project) -> None:
        """``project`` changes the running session in place (no rebuild to wait for)."""
        self.project, self.dirty = project, True
        if self.sent is None:
            self.accepted = project

    annotated = tuned           # sections training ignores (the editor's layout) behave alike

    def saved_as(self, path) -> None:
        self.project = relocated(self.project, path)       # what the file now says
        if self.sent is None:
            self.accepted = self.project
        self.dirty = False

    def session_built(self, project: Project) -> None:
        """The engine built ``project`` (a copy of what was sent: compared by value)."""
        if project == self.sent:
            # Tuning sent after this rebuild was applied to the new session too.
            self.accepted, self.sent = self.project, None

    def engine_refused(self) -> bool:
        """The engine refused the last change: back to what it accepted.  True if the
        project shown changed (the panels must be refreshed)."""
        if self.accepted is None or self.project is self.accepted:
            return False
        self.project, self.sent = self.accepted, None
        return True

