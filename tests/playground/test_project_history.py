"""Project changes as undo history, without Qt: their names, what an undo or redo sends
to the keeper (the same method, weights kept exactly when the change kept them), and
which changes an engine refusal takes out."""
from __future__ import annotations

import copy
from pathlib import Path

from playground import edits
from playground.project import load_project
from playground.project_history import (LEARNING_RATE, OPTIMIZER, REBUILD, KeeperEdit, ProjectChange,
                                        sections_to)

SPIRAL = Path(__file__).resolve().parents[2] / "assets" / "examples" / "spiral.json"


def spiral():
    return load_project(SPIRAL)


def with_lr(project, lr):
    training = copy.deepcopy(project.training)
    training["optimizer"]["lr"] = lr
    return project.with_changes(training=training)


def test_a_learning_rate_change_undoes_and_redoes_through_set_learning_rate():
    before = spiral()
    after = with_lr(before, 0.03)
    change = ProjectChange(before, after, LEARNING_RATE)
    assert change.text == "learning rate 0.03" and not change.restarts
    assert change.undo_edit(after) == KeeperEdit(LEARNING_RATE, {"training": before.training}, value=0.01)
    assert change.redo_edit(before) == KeeperEdit(LEARNING_RATE, {"training": after.training}, value=0.03)


def test_a_rate_left_to_the_optimiser_default_is_undone_by_setting_the_optimiser():
    doc = copy.deepcopy(spiral().document)
    del doc["training"]["optimizer"]["lr"]
    before = spiral().with_changes(training=doc["training"])
    after = with_lr(before, 0.5)
    edit = ProjectChange(before, after, LEARNING_RATE).undo_edit(after)
    assert edit.how == OPTIMIZER and edit.value == {"name": "adam"}


def test_a_layer_added_restarts_training_and_so_does_its_undo():
    before = spiral()
    after = before.with_changes(network=edits.add_layer(before.document["network"]))
    change = ProjectChange(before, after, REBUILD, keep_weights=False)
    assert change.text == "4 hidden layers (restarts training)"
    edit = change.undo_edit(after)
    assert edit == KeeperEdit(REBUILD, {"network": before.document["network"]}, keep_weights=False)
    assert after.with_changes(**edit.sections).document == before.document


def test_a_change_that_kept_the_weights_is_undone_keeping_them():
    before = spiral()
    data = dict(before.data, noise=0.2)
    after = before.with_changes(data=data)
    change = ProjectChange(before, after, REBUILD, keep_weights=True)
    assert change.text == "noise 0.2" and change.undo_edit(after).keep_weights


def test_undo_keeps_a_layout_moved_since_and_clears_a_layout_the_change_added():
    before = spiral()
    layout = {"h1": [1.0, 2.0]}
    after = before.with_changes(network=edits.add_layer(before.document["network"]), layout=layout)
    moved = after.with_changes(layout={"h1": [5.0, 5.0]})     # annotate: not in the history
    edit = ProjectChange(before, after, REBUILD, False).undo_edit(moved)
    assert edit.sections == {"network": before.document["network"], "layout": {}}
    assert moved.with_changes(**edit.sections).document == {**before.document, "layout": {}}


def test_names_of_training_data_and_project_changes():
    p = spiral()
    training = copy.deepcopy(p.training)
    cases = [
        (p.with_changes(training=dict(training, batch_size=25)), "batch size 25"),
        (p.with_changes(training=dict(training, regularization={"kind": "l2", "rate": 0.001})),
         "regularisation l2 0.001"),
        (p.with_changes(training=dict(training, optimizer={"name": "sgd", "lr": 0.1})), "optimiser sgd"),
        (p.with_changes(seed=7), "seed 7"),
        (p.with_changes(dtype="float32"), "precision float32"),
        (p.with_changes(network=edits.set_hidden_activation(p.document["network"], "relu")), "activation relu"),
    ]
    for after, text in cases:
        assert ProjectChange(p, after).text == text


def test_a_change_is_in_effect_until_the_engine_refuses_it():
    before = spiral()
    after = with_lr(before, 0.03)
    change = ProjectChange(before, after, LEARNING_RATE)
    assert change.in_effect(after)
    assert change.in_effect(after.with_changes(layout={"h1": [0.0, 0.0]}))   # a layout change is not a refusal
    assert not change.in_effect(before)
    assert sections_to(after, after) == {}
