"""The data section the output map asks for when a point is clicked on or off (playground.point_edits)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data import load_dataset
from playground.point_edits import nearest_point, with_point_added, with_point_removed


def loaded(data: dict, seed: int = 3):
    """The data set of a project's data section (as playground.project passes it on)."""
    return load_dataset(data["source"], samples=data.get("samples", 500), noise=data.get("noise", 0.0),
                        train_fraction=data.get("train_fraction", 0.5), features=data.get("features", ("x1", "x2")),
                        seed=seed, added=data.get("added", ()), removed=data.get("removed", ()))


def test_added_point_lands_in_the_training_set():
    data = {"source": "moons", "samples": 50}
    new = with_point_added(data, 1.23456, -0.5, 1)
    assert new["added"] == [[1.235, -0.5, 1]] and "added" not in data       # rounded; the old one untouched
    edited = loaded(new)
    assert edited.points_train[-1].tolist() == [1.235, -0.5] and edited.y_train[-1] == 1


def test_removed_generated_point_leaves_whichever_side_it_was_on():
    data = {"source": "moons", "samples": 50}
    plain = loaded(data)
    for split, rows in (("train", plain.generated_train), ("test", plain.generated_test)):
        new = with_point_removed(data, plain, split, 4)
        assert new["removed"] == [int(rows[4])]
        edited = loaded(new)
        assert int(rows[4]) not in edited.generated_train.tolist() + edited.generated_test.tolist()
        assert len(edited.generated_train) + len(edited.generated_test) == 49


def test_removing_an_added_point_takes_it_out_of_added_and_an_empty_list_goes():
    data = with_point_added(with_point_added({"source": "xor", "samples": 20}, 1, 1, 0), 2, 2, 1)
    dataset = loaded(data)
    row = len(dataset.X_train) - 1                       # the point (2, 2)
    once = with_point_removed(data, dataset, "train", row)
    assert once["added"] == [[1.0, 1.0, 0]]
    # A second click on the same point before the rebuild: nothing more goes.
    assert with_point_removed(once, dataset, "train", row) == once
    none_left = with_point_removed(once, dataset, "train", row - 1)
    assert none_left == {"source": "xor", "samples": 20}


def test_a_generated_point_removed_twice_is_listed_once():
    data = {"source": "xor", "samples": 20}
    dataset = loaded(data)
    once = with_point_removed(data, dataset, "train", 0)
    assert with_point_removed(once, dataset, "train", 0) == once


def test_nearest_point_measures_in_screen_pixels():
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 1.0]])
    # x is stretched: one pixel is 0.1 along x and 0.01 along y.
    assert nearest_point(points, 2.5, 0.0, (0.1, 0.01)) == (1, pytest.approx(5.0))
    assert nearest_point(points, 0.0, 0.9, (0.1, 0.01)) == (2, pytest.approx(10.0))
    assert nearest_point(np.zeros((0, 2)), 0, 0, (1, 1)) == (-1, float("inf"))
