"""The keeper's accept/revert state machine alone, without Qt or an engine: what the
window shows always ends as what the engine has accepted."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from engine.errors import ConfigError
from playground.project import load_project
from playground.project_state import ProjectState

CIRCLE = Path(__file__).resolve().parents[2] / "assets" / "examples" / "circle.json"


@pytest.fixture
def state():
    s = ProjectState()
    s.loaded(load_project(CIRCLE))
    return s


def with_lr(state, lr):
    training = copy.deepcopy(state.project.training)
    training["optimizer"]["lr"] = lr
    return state.checked({"training": training})


def built(state):
    """The engine builds what was sent (it receives a copy: equal, not identical)."""
    state.session_built(copy.deepcopy(state.sent))


def test_load_waits_for_the_engine_then_accepts(state):
    assert state.sent is state.project and state.accepted is None and not state.dirty
    built(state)
    assert state.accepted is state.project and state.sent is None


def test_a_refused_rebuild_reverts_to_what_the_engine_accepted(state):
    built(state)
    accepted = state.project
    bad = state.checked({"training": dict(state.project.training, loss="mse")})
    state.rebuilt(bad)
    assert state.project is bad and state.dirty
    assert state.engine_refused() is True
    assert state.project is accepted and state.sent is None
    assert state.engine_refused() is False            # nothing left to revert


def test_tuning_during_a_rebuild_is_accepted_with_it(state):
    built(state)
    rebuilt = state.checked({"seed": 5})
    state.rebuilt(rebuilt)
    tuned = with_lr(state, 0.5)
    state.tuned(tuned)
    assert state.accepted is not tuned                # the rebuild is still pending
    state.session_built(copy.deepcopy(rebuilt))
    assert state.accepted is tuned                    # the tuning went to the new session too


def test_tuning_a_running_session_is_accepted_at_once(state):
    built(state)
    tuned = with_lr(state, 0.25)
    state.tuned(tuned)
    assert state.accepted is tuned and state.dirty


def test_an_invalid_edit_is_refused_before_anything_changes(state):
    before = state.project
    with pytest.raises(ConfigError):
        with_lr(state, -1.0)
    assert state.project is before and not state.dirty


def test_save_as_clears_dirty_and_keeps_acceptance(state, tmp_path):
    built(state)
    state.tuned(with_lr(state, 0.2))
    state.saved_as(tmp_path / "p.json")
    assert not state.dirty and state.project.path == tmp_path / "p.json" and state.accepted is state.project


def test_save_as_elsewhere_keeps_the_csv_found(tmp_path):
    """A CSV beside the project is stored relative; saved into another folder the project
    must still find it (absolute), and saved beside the file it becomes relative."""
    import json
    from playground.project import load_project, save_project
    from tests.ui.conftest import EXAMPLES
    home, other = tmp_path / "home", tmp_path / "other"
    home.mkdir(), other.mkdir()
    (home / "pts.csv").write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    base = load_project(EXAMPLES / "iris.json")
    project = base.with_changes(data={"source": {"csv": "pts.csv", "target": "y", "task": "classification"},
                                      "train_fraction": 0.8})
    import dataclasses
    project = dataclasses.replace(project, path=home / "p.json")
    state = ProjectState()
    state.loaded(project)
    save_project(state.project, other / "p.json")
    state.saved_as(other / "p.json")
    stored = json.loads((other / "p.json").read_text())["data"]["source"]["csv"]
    assert stored == str((home / "pts.csv").resolve()) == state.project.data["source"]["csv"]
    assert load_project(other / "p.json").data["source"]["csv"] == stored
    save_project(state.project, home / "q.json")
    assert json.loads((home / "q.json").read_text())["data"]["source"]["csv"] == "pts.csv"
