"""Project edits as undoable changes: what one changed, how to send it back, its name.

A ``ProjectChange`` is one edit the keeper accepted (``rebuild`` or a tuning of the
running session), holding the project before and after.  Undo sends the sections of
the project before that differ from the project shown now, through the same keeper
method (a rebuild keeps the weights exactly when the change kept them, so undoing a
change that restarted training restarts it too); redo sends those of the project
after.  Sections compared with the project shown, not with the stored one, so a
layout-only change made since (the graph editor's node positions, not in the
history) does not stop an undo.

Free of Qt: ``ui.app_undo`` turns changes into QUndoCommands.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground import edits
from playground.project import DEFAULT_BATCH_SIZE, DEFAULT_OPTIMIZER, NO_REGULARIZATION, Project

REBUILD, LEARNING_RATE, OPTIMIZER, SCHEDULE = "rebuild", "learning_rate", "optimizer", "schedule"
# What a top-level section a project may leave out means: sent when undo goes back to its absence.
_ABSENT = {"layout": {}, "seed": 0, "dtype": "float64", "note": "", "name": ""}


@dataclass(frozen=True)
class KeeperEdit:
    """What to ask the keeper: ``how`` names its method; ``sections`` for Project.with_changes;
    ``value`` the tuning's argument (a learning rate, an optimiser or schedule spec)."""
    how: str
    sections: dict
    keep_weights: bool = True
    value: Any = None


@dataclass(frozen=True)
class ProjectChange:
    before: Project
    after: Project
    how: str = REBUILD
    keep_weights: bool = True
    text: str = field(init=False)

    def __post_init__(self):
        restart = " (restarts training)" if self.restarts else ""
        object.__setattr__(self, "text", describe(self.before, self.after) + restart)

    @property
    def restarts(self) -> bool:
        """Fresh weights: undo and redo start training over as the change did."""
        return self.how == REBUILD and not self.keep_weights

    def undo_edit(self, shown: Project) -> KeeperEdit:
        return self._edit_to(self.before, shown)

    def redo_edit(self, shown: Project) -> KeeperEdit:
        return self._edit_to(self.after, shown)

    def _edit_to(self, target: Project, shown: Project) -> KeeperEdit:
        if self.how == REBUILD:
            return KeeperEdit(REBUILD, sections_to(target, shown), self.keep_weights)
        training = target.training
        if self.how == LEARNING_RATE and "lr" not in training.get("optimizer", {}):
            # A project that left the rate to the optimiser's default: set the optimiser as it was.
            return KeeperEdit(OPTIMIZER, {"training": training}, value=dict(training.get("optimizer", DEFAULT_OPTIMIZER)))
        value = {LEARNING_RATE: lambda: training["optimizer"]["lr"],
                 OPTIMIZER: lambda: dict(training.get("optimizer", DEFAULT_OPTIMIZER)),
                 SCHEDULE: lambda: training.get("schedule")}[self.how]()
        return KeeperEdit(self.how, {"training": training}, value=value)

    def in_effect(self, shown: Project) -> bool:
        """Whether ``shown`` still has this change (False once the engine refused it)."""
        return not sections_to(self.after, shown, ignore=("layout",))


def sections_to(target: Project, shown: Project, ignore=()) -> dict:
    """The top-level sections that turn ``shown`` into ``target``."""
    want, have = target.document, shown.document
    keys = [k for k in {**have, **want} if k != "format" and k not in ignore]
    sections = {k: want.get(k, _ABSENT.get(k)) for k in keys if want.get(k) != have.get(k)}
    return {k: v for k, v in sections.items() if v is not None}


# -- names ------------------------------------------------------------------------------------
def _hidden(network: dict) -> list[dict]:
    out = network.get("output")
    return [n for n in network["nodes"] if n.get("type") == "dense" and n.get("id") != out]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _network_name(before: dict, after: dict) -> str:
    old, new = _hidden(before), _hidden(after)
    if len(old) != len(new):
        return _plural(len(new), "hidden layer")
    if [n.get("units") for n in old] != [n.get("units") for n in new]:
        return "neurons " + " ".join(str(n.get("units")) for n in new)
    if edits.current_init(before) != edits.current_init(after):
        init = edits.current_init(after)
        return f"initialiser {init.get('name') if isinstance(init, dict) else init}"
    acts = [(n.get("id"), n.get("activation")) for n in after["nodes"]]
    if acts != [(n.get("id"), n.get("activation")) for n in before["nodes"]]:
        changed = [a for a, b in zip(acts, [(n.get("id"), n.get("activation")) for n in before["nodes"]]) if a != b]
        return f"activation {changed[0][1]}" if changed and changed[0][1] else "activation"
    return "network"


def _data_name(before: dict, after: dict) -> str:
    if before.get("source") != after.get("source"):
        source = after.get("source")
        return f"data set {source}" if isinstance(source, str) else "data set"
    for key, label in (("noise", "noise"), ("samples", "samples"), ("train_fraction", "training share")):
        if before.get(key) != after.get(key):
            return f"{label} {after.get(key)}"
    if before.get("features") != after.get("features"):
        return "features " + ", ".join(map(str, after.get("features") or [])) if after.get("features") else "features"
    if (before.get("added"), before.get("removed")) != (after.get("added"), after.get("removed")):
        return "points on the map"
    return "data"


def _training_name(before: dict, after: dict) -> str:
    old_opt, new_opt = before.get("optimizer", DEFAULT_OPTIMIZER), after.get("optimizer", DEFAULT_OPTIMIZER)
    if old_opt.get("name") != new_opt.get("name"):
        return f"optimiser {new_opt.get('name')}"
    if old_opt.get("lr") != new_opt.get("lr"):
        return f"learning rate {new_opt.get('lr'):g}" if isinstance(new_opt.get("lr"), (int, float)) else "learning rate"
    if old_opt != new_opt:
        return "optimiser settings"
    if before.get("schedule") != after.get("schedule"):
        schedule = after.get("schedule")
        return f"schedule {schedule.get('name')}" if isinstance(schedule, dict) else "no schedule"
    if before.get("loss") != after.get("loss"):
        return f"loss {after.get('loss')}"
    if before.get("batch_size", DEFAULT_BATCH_SIZE) != after.get("batch_size", DEFAULT_BATCH_SIZE):
        return f"batch size {after.get('batch_size', DEFAULT_BATCH_SIZE)}"
    reg = after.get("regularization", NO_REGULARIZATION)
    if before.get("regularization", NO_REGULARIZATION) != reg:
        return "no regularisation" if reg.get("kind") == "none" else f"regularisation {reg.get('kind')} {reg.get('rate'):g}"
    return "training settings"


def describe(before: Project, after: Project) -> str:
    """A short name for the change from ``before`` to ``after`` (its new value), for "Undo …"."""
    old, new = before.document, after.document
    if old.get("data") != new.get("data"):
        return _data_name(old["data"], new["data"])
    if old.get("network") != new.get("network"):
        return _network_name(old["network"], new["network"])
    if old.get("training") != new.get("training"):
        return _training_name(old["training"], new["training"])
    if old.get("seed", 0) != new.get("seed", 0):
        return f"seed {new.get('seed', 0)}"
    if old.get("dtype", "float64") != new.get("dtype", "float64"):
        return f"precision {new.get('dtype', 'float64')}"
    return "project change"
