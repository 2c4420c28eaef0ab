"""Points added and removed by hand on a generated set (data.added / data.removed)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data import GENERATORS, MAX_ADDED, load_dataset, make_features
from engine.errors import DataError


def test_edits_remove_exactly_the_listed_points_and_append_the_added_ones():
    features = ("x1", "x2", "x1*x2", "sin(x1)")
    plain = load_dataset("spiral", samples=40, noise=0.2, features=features, seed=3)
    # The generator's own output (seed stream [seed, 0], as load_dataset draws it) says which point an index is.
    points, y = GENERATORS["spiral"].fn(40, 0.2, np.random.default_rng([3, 0]))
    removed = [int(plain.generated_train[0]), int(plain.generated_test[2]), 39]
    added = [[1.5, -2.25, 0], [0.0, 4.0, 1]]
    edited = load_dataset("spiral", samples=40, noise=0.2, features=features, seed=3, added=added, removed=removed)

    keep_train = [i for i in plain.generated_train if i not in removed]
    keep_test = [i for i in plain.generated_test if i not in removed]
    assert edited.generated_train.tolist() == keep_train + [-1, -1]
    assert edited.generated_test.tolist() == keep_test          # the other points keep their side
    expected_points = np.vstack([points[keep_train], [[1.5, -2.25], [0.0, 4.0]]])
    assert np.array_equal(edited.points_train, expected_points)
    assert np.array_equal(edited.X_train, make_features(expected_points, features))
    assert edited.y_train.tolist() == y[keep_train].tolist() + [0, 1]
    assert np.array_equal(edited.points_test, points[keep_test])
    assert edited.y_test.tolist() == y[keep_test].tolist()
    x1, x2 = 1.5, -2.25                                          # the added row's features by hand
    assert edited.X_train[-2].tolist() == [x1, x2, x1 * x2, np.sin(x1)]


def test_regression_targets_are_added_as_values():
    edited = load_dataset("plane", samples=10, added=[[1.0, 2.0, -0.75]], train_fraction=1.0)
    assert edited.y_train.shape == (11, 1) and edited.y_train[-1, 0] == -0.75
    assert edited.generated_train.tolist() == list(range(10)) + [-1]


def test_no_edits_changes_nothing():
    a = load_dataset("circle", samples=30, seed=2)
    b = load_dataset("circle", samples=30, seed=2, added=[], removed=[])
    for name in ("X_train", "y_train", "X_test", "y_test", "points_train", "points_test"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("kwargs,message", [
    ({"added": [[1, 2]]}, "data.added[0]: must be [x1, x2, label]"),
    ({"added": [[0, 0, 1], [1, "a", 0]]}, "data.added[1][1]: must be a number"),
    ({"added": [[float("inf"), 0, 0]]}, "data.added[0][0]: must be a finite number"),
    ({"added": [[1e7, 0, 0]]}, "data.added[0][0]"),
    ({"added": [[0, 0, 2]]}, "data.added[0][2]: the class must be an integer from 0 to 1"),
    ({"added": [[0, 0, True]]}, "data.added[0][2]: the class must be an integer"),
    ({"added": {"x": 1}}, "data.added: must be a list"),
    ({"added": [[0, 0, 1]] * (MAX_ADDED + 1)}, "data.added: at most 10,000 points"),
    ({"removed": [3, 30]},
     "data.removed[1]: 30 is not a generated point; with 30 samples the indices run from 0 to 29"),
    ({"removed": [-1]}, "data.removed[0]: -1 is not a generated point"),
    ({"removed": [2, 2]}, "data.removed[1]: point 2 is listed twice"),
    ({"removed": [1.0]}, "data.removed[0]: must be the index of a generated point"),
    ({"removed": 4}, "data.removed: must be a list"),
    ({"removed": list(range(30))}, "data.removed: removes every training row"),
])
def test_bad_edits_are_refused_naming_the_entry(kwargs, message):
    with pytest.raises(DataError) as caught:
        load_dataset("xor", samples=30, **kwargs)
    assert str(caught.value).startswith(message), str(caught.value)


def test_removing_every_point_but_adding_one_still_trains():
    data = load_dataset("xor", samples=30, removed=list(range(30)), added=[[1, 1, 1]])
    assert len(data.X_train) == 1 and len(data.X_test) == 0


def test_regression_value_must_be_a_number():
    with pytest.raises(DataError, match=r"data.added\[0\]\[2\]: must be a number"):
        load_dataset("plane", samples=10, added=[[0, 0, "high"]])


def test_only_generated_sets_take_edits():
    with pytest.raises(DataError, match="data.added: only a generated 2-D data set .* source 'iris'"):
        load_dataset("iris", added=[[0, 0, 1]])
    with pytest.raises(DataError, match="data.removed: only a generated"):
        load_dataset("iris", removed=[0])
    assert load_dataset("iris", added=[], removed=[]).generated_train is None
