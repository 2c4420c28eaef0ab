"""The projection plane for data with many inputs, and the outcome counts."""
from __future__ import annotations

import numpy as np
import pytest

from engine.outcomes import (MAX_WRONG, class_outcomes, confusion_matrix, per_class_accuracy,
                             regression_outcomes)
from engine.projection import feature_projection, pca_projection


def test_pca_plane_holds_data_that_lies_in_a_plane():
    rng = np.random.default_rng(0)
    a, b = np.array([1.0, 2.0, 0.0, -1.0]), np.array([0.0, 1.0, 3.0, 1.0])
    coeffs = rng.normal(size=(200, 2)) * [5.0, 1.0]
    X = 3.0 + coeffs @ np.stack([a, b])
    plane = pca_projection(X)
    assert np.allclose(plane.basis @ plane.basis.T, np.eye(2))           # orthonormal
    assert np.allclose(plane.lift(plane.project(X)), X)                    # nothing lost off the plane
    assert plane.axes[0].startswith("PC1 (") and plane.axes[1].startswith("PC2 (")
    share = [float(t.split("(")[1].split("%")[0]) for t in plane.axes]
    assert sum(share) == pytest.approx(100, abs=1)


def test_pca_first_axis_is_the_direction_of_largest_spread():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, 3)) * [0.1, 4.0, 1.0]
    plane = pca_projection(X)
    assert abs(plane.basis[0, 1]) > 0.99 and abs(plane.basis[1, 2]) > 0.95
    assert plane.basis[0, 1] > 0                                          # signs fixed, not arbitrary


def test_feature_plane_holds_the_other_inputs_at_their_mean():
    X = np.array([[1.0, 10.0, 100.0], [3.0, 30.0, 300.0]])
    plane = feature_projection(X, ["a", "b", "c"], "c", "a")
    assert plane.lift([[7.0, 8.0]]).tolist() == [[8.0, 20.0, 7.0]]
    with pytest.raises(ValueError, match="'z' is not an input"):
        feature_projection(X, ["a", "b", "c"], "z", "a")


def test_confusion_counts_by_hand():
    true = np.array([0, 0, 1, 1, 1, 2])
    pred = np.array([0, 1, 1, 1, 0, 2])
    m = confusion_matrix(true, pred, 3)
    assert m.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    acc = per_class_accuracy(np.array([[1, 1, 0], [1, 2, 0], [0, 0, 0]]))
    assert acc[0] == 0.5 and acc[1] == pytest.approx(2 / 3) and np.isnan(acc[2])


def test_misclassified_rows_come_from_the_test_set_when_there_is_one():
    true_test = np.arange(200) % 2
    pred_test = np.zeros(200, dtype=np.int64)
    out = class_outcomes(("a", "b"), [0, 1], [0, 1], true_test, pred_test)
    assert out.wrong_in == "test" and out.wrong_count == 100
    assert len(out.wrong_rows) == MAX_WRONG and (true_test[out.wrong_rows] == 1).all()
    assert out.test.tolist() == [[100, 0], [100, 0]]
    only_train = class_outcomes(("a", "b"), [0, 1, 1], [0, 0, 1])
    assert only_train.test is None and only_train.wrong_in == "train" and only_train.wrong_rows.tolist() == [1]


def test_regression_points_are_thinned_evenly():
    actual = np.arange(5000.0).reshape(-1, 1)
    out = regression_outcomes(actual, actual * 2)
    assert len(out.actual_train) == 2000 and out.actual_train[0, 0] == 0 and out.actual_train[-1, 0] == 4999
    assert np.array_equal(out.predicted_train, out.actual_train * 2) and out.actual_test is None
