"""Tests for engine.data: generators, features, CSV loading, shipped sets, splitting."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.data import (FEATURES, GENERATORS, SHIPPED, Dataset, load_csv, load_dataset,
                         make_features)
from engine.errors import DataError


def gen(name, n=400, noise=0.0, seed=0):
    return GENERATORS[name].fn(n, noise, np.random.default_rng(seed))


# --- generators -------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_shapes_and_types(name):
    points, y = gen(name, n=101)
    assert points.shape == (101, 2) and points.dtype == np.float64
    if GENERATORS[name].task == "classification":
        assert y.shape == (101,) and y.dtype == np.int64
        assert set(np.unique(y)) == {0, 1}
    else:
        assert y.shape == (101, 1) and y.dtype == np.float64
    assert np.isfinite(points).all() and np.isfinite(y).all()
    assert GENERATORS[name].description.endswith(".")


@pytest.mark.parametrize("name", ["circle", "gaussian", "spiral", "moons"])
def test_balanced_classes(name):
    _, y = gen(name, n=400)
    assert np.bincount(y).tolist() == [200, 200]


def test_circle_rule_at_zero_noise():
    points, y = gen("circle")
    r = np.hypot(points[:, 0], points[:, 1])
    assert (r[y == 1] < 2.5).all()
    assert ((r[y == 0] >= 3.5) & (r[y == 0] <= 5.0)).all()


def test_circle_noise_flips_some_labels():
    points, y = gen("circle", n=2000, noise=0.5)
    r = np.hypot(points[:, 0], points[:, 1])
    assert 0 < np.sum((r < 2.5) != (y == 1)) < 1000


def test_xor_rule_and_padding():
    points, y = gen("xor")
    assert np.array_equal(y, (points[:, 0] * points[:, 1] >= 0).astype(np.int64))
    assert (np.abs(points) >= 0.3).all() and (np.abs(points) <= 5.3).all()
    # all four quadrants are populated
    assert len({(a, b) for a, b in np.sign(points).astype(int)}) == 4


def test_gaussian_centres_and_spread():
    points, y = gen("gaussian", n=4000)
    assert np.allclose(points[y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(points[y == 0].mean(axis=0), [-2, -2], atol=0.1)
    # noise 0 -> variance 0.5 per coordinate; noise 0.5 -> variance 4
    assert np.var(points[y == 1], axis=0) == pytest.approx([0.5, 0.5], rel=0.1)
    loud, y2 = gen("gaussian", n=4000, noise=0.5)
    assert np.var(loud[y2 == 1], axis=0) == pytest.approx([4, 4], rel=0.1)


def test_spiral_radius_and_arms():
    points, y = gen("spiral", n=400)
    r = np.hypot(points[:, 0], points[:, 1])
    assert r.min() == 0.0 and r.max() < 5.0
    i = np.arange(200)
    expected_r = i / 200 * 5
    assert np.allclose(r[y == 1], expected_r) and np.allclose(r[y == 0], expected_r)
    t = 1.75 * i / 200 * 2 * np.pi  # 1.75 turns, TF's x = r sin t, y = r cos t
    assert np.allclose(points[y == 1], np.column_stack([expected_r * np.sin(t), expected_r * np.cos(t)]))
    # the class-0 arm is the class-1 arm turned by pi: point-reflected through the origin
    assert np.allclose(points[y == 0], -points[y == 1])


def test_moons_fill_the_box():
    points, y = gen("moons", n=400)
    assert points[:, 0].min() == pytest.approx(-6) and points[:, 0].max() == pytest.approx(6)
    assert points[y == 0, 1].mean() > points[y == 1, 1].mean()


def test_checkerboard_parity():
    points, y = gen("checkerboard", n=2000)
    assert (np.abs(points) <= 6).all()
    cell = np.floor((points + 6) / 3).astype(int)
    assert np.array_equal(y, cell.sum(axis=1) % 2)
    assert np.bincount(y).min() > 800
    # every one of the 16 cells is populated
    assert len(np.unique(cell, axis=0)) == 16


def test_plane_label_is_sum_over_ten():
    points, y = gen("plane")
    assert np.allclose(y[:, 0], (points[:, 0] + points[:, 1]) / 10)
    assert (np.abs(points) <= 6).all()


def test_multi_gaussian_bumps():
    points, y = gen("multi-gaussian", n=3000)
    assert (np.abs(y) <= 1).all()
    # a point within distance 2 of a bump takes that bump's sign and 1 - d/2
    d = np.hypot(points[:, 0] - 4, points[:, 1] - 2.5)
    near = d < 1.5
    assert near.any() and np.allclose(y[near, 0], 1 - d[near] / 2)
    d = np.hypot(points[:, 0] - 0, points[:, 1] - 2.5)
    near = d < 1.5
    assert np.allclose(y[near, 0], -(1 - d[near] / 2))
    # far from every bump (the middle band between the rows' reach) the target is 0
    far = (np.abs(points[:, 1]) < 0.4)
    assert far.any() and np.all(y[far, 0] == 0)


@pytest.mark.parametrize("noise", [-0.1, 1.5, float("nan"), "a"])
def test_bad_noise_names_field(noise):
    with pytest.raises(DataError, match="data.noise"):
        load_dataset("circle", noise=noise)


@pytest.mark.parametrize("samples", [1, 0, 2.5, True])
def test_bad_samples_names_field(samples):
    with pytest.raises(DataError, match="data.samples"):
        load_dataset("xor", samples=samples)


# --- features ---------------------------------------------------------------------

def test_features_by_hand():
    points = np.array([[1.0, 2.0], [-0.5, 3.0]])
    got = make_features(points, FEATURES)
    expected = np.array([
        [1.0, 2.0, 1.0, 4.0, 2.0, math.sin(1.0), math.sin(2.0)],
        [-0.5, 3.0, 0.25, 9.0, -1.5, math.sin(-0.5), math.sin(3.0)],
    ])
    assert np.allclose(got, expected)
    assert np.array_equal(make_features(points, ["x1*x2", "x1"]), [[2.0, 1.0], [-1.5, -0.5]])


@pytest.mark.parametrize("names, culprit", [
    (["x1", "x3"], "'x3'"), ([], "at least one"), (["x1", "x1"], "more than once"), ("x1", "list"),
])
def test_feature_errors(names, culprit):
    with pytest.raises(DataError, match="data.features") as info:
        make_features(np.zeros((3, 2)), names)
    assert culprit in str(info.value)
    if culprit == "'x3'":
        assert "sin(x2)" in str(info.value)  # lists the valid names


# --- CSV ----------------------------------------------------------------------------

def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def csv_error(path, target="label", task="classification"):
    with pytest.raises(DataError) as info:
        load_csv(path, target, task)
    return str(info.value)


def test_csv_wrong_field_count_names_row(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,x\n3,4,y\n5,6\n")
    msg = csv_error(path)
    assert "data.csv row 4" in msg and "expected 3 fields, got 2" in msg


def test_csv_non_number_names_row_and_column(tmp_path):
    path = write(tmp_path, "a,petal_width,label\n1,2,x\n3,abc,y\n")
    msg = csv_error(path)
    assert "data.csv row 3" in msg and "'petal_width'" in msg and "'abc' is not a number" in msg


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_csv_non_finite(tmp_path, bad):
    msg = csv_error(write(tmp_path, f"a,b,label\n1,2,x\n3,{bad},y\n"))
    assert "row 3" in msg and "'b'" in msg and "finite" in msg


def test_csv_missing_target_lists_columns(tmp_path):
    msg = csv_error(write(tmp_path, "a,b,label\n1,2,x\n3,4,y\n"), target="species")
    assert "data.csv" in msg and "'species'" in msg and "a, b, label" in msg


def test_csv_missing_empty_headerless_short(tmp_path):
    assert "file not found" in csv_error(tmp_path / "nope.csv")
    assert "empty" in csv_error(write(tmp_path, "\n\n", "blank.csv"))
    assert "header" in csv_error(write(tmp_path, "1,2,3\n4,5,6\n", "nohead.csv"))
    assert "at least 2 data rows" in csv_error(write(tmp_path, "a,label\n1,x\n", "short.csv"))


def test_csv_regression_target_must_be_numeric(tmp_path):
    msg = csv_error(write(tmp_path, "a,y\n1,2.5\n2,big\n"), target="y", task="regression")
    assert "row 3" in msg and "'y'" in msg and "'big'" in msg


def test_csv_regression(tmp_path):
    X, y, names, classes = load_csv(write(tmp_path, "a, b ,y\n1,2,0.5\n3,4,-1\n"), "y", "regression")
    assert names == ("a", "b") and classes == ()
    assert X.dtype == np.float64 and np.array_equal(X, [[1, 2], [3, 4]])
    assert y.shape == (2, 1) and np.array_equal(y[:, 0], [0.5, -1.0])


def test_csv_string_classes_sorted(tmp_path):
    path = write(tmp_path, "label,a\nzebra,1\napple,2\nmango,3\napple,4\n")
    X, y, names, classes = load_csv(path, "label", "classification")
    assert classes == ("apple", "mango", "zebra")
    assert y.dtype == np.int64 and y.tolist() == [2, 0, 1, 0]
    assert names == ("a",) and X[:, 0].tolist() == [1, 2, 3, 4]


def test_csv_numeric_classes_sorted_numerically(tmp_path):
    path = write(tmp_path, "a,label\n1,10\n2,9\n3,-1\n4,9.0\n")
    _, y, _, classes = load_csv(path, "label", "classification")
    assert classes == (-1, 9, 10) and y.tolist() == [2, 1, 0, 1]


def test_csv_standardize(tmp_path):
    path = write(tmp_path, "a,b,c,label\n1,10,7,x\n2,30,7,y\n3,50,7,x\n6,90,7,y\n")
    X, *_ = load_csv(path, "label", "classification", standardize=True)
    assert np.allclose(X[:, :2].mean(axis=0), 0) and np.allclose(X[:, :2].std(axis=0), 1)
    assert np.array_equal(X[:, 2], [0, 0, 0, 0])  # constant column: centred, not divided by 0


def test_csv_source_relative_to_base_dir(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "u,v,cls\n" + "".join(f"{i},{i * i},{'ab'[i % 2]}\n" for i in range(10)), "sub/t.csv")
    ds = load_dataset({"csv": "sub/t.csv", "target": "cls", "task": "classification",
                       "standardize": True}, base_dir=tmp_path, train_fraction=0.8, features=["bogus"])
    assert ds.feature_names == ("u", "v") and ds.classes == ("a", "b")
    assert ds.X_train.shape == (8, 2) and ds.X_test.shape == (2, 2) and ds.points_train is None
    assert np.allclose(np.vstack([ds.X_train, ds.X_test]).mean(axis=0), 0)
    with pytest.raises(DataError, match="data.source: unknown key 'standardise'"):
        load_dataset({"csv": "t.csv", "target": "c", "task": "regression", "standardise": True})
    with pytest.raises(DataError, match="data.source.task"):
        load_dataset({"csv": "t.csv", "target": "c"})


# --- shipped sets -------------------------------------------------------------------

def test_shipped_iris():
    X, y, names, classes = SHIPPED["iris"].load()
    assert X.shape == (150, 4) and classes == ("setosa", "versicolor", "virginica")
    assert names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert X[0].tolist() == [5.1, 3.5, 1.4, 0.2]


def test_shipped_digits():
    ds = load_dataset("digits", train_fraction=1.0)
    assert ds.X_train.shape == (1797, 64) and ds.X_test.shape == (0, 64)
    assert ds.classes == tuple(range(10)) and ds.n_classes == 10 and ds.n_outputs == 10
    assert ds.X_train.min() == 0 and ds.X_train.max() == 16
    assert (ds.X_train == np.round(ds.X_train)).all()
    assert ds.feature_names[0] == "p0" and ds.feature_names[-1] == "p63"


# --- load_dataset -------------------------------------------------------------------

def test_dataset_fields_and_split():
    ds = load_dataset("spiral", samples=300, train_fraction=0.7, features=["x1", "x2", "x1*x2"])
    assert isinstance(ds, Dataset) and ds.task == "classification" and ds.classes == (0, 1)
    assert ds.X_train.shape == (210, 3) and ds.X_test.shape == (90, 3)
    assert ds.y_train.shape == (210,) and ds.y_train.dtype == np.int64
    assert ds.n_features == 3 and ds.n_classes == 2 and ds.n_outputs == 2
    assert ds.feature_names == ("x1", "x2", "x1*x2")
    assert np.array_equal(ds.X_train, make_features(ds.points_train, ds.feature_names))
    assert np.array_equal(ds.X_test[:, 2], ds.points_test[:, 0] * ds.points_test[:, 1])
    # train and test together are the whole generated set, each row once
    both = np.vstack([ds.points_train, ds.points_test])
    full, _ = GENERATORS["spiral"].fn(300, 0.0, np.random.default_rng([0, 0]))
    assert np.array_equal(np.sort(both, axis=0), np.sort(full, axis=0))


def test_same_seed_same_arrays_different_seed_differs():
    kwargs = dict(samples=200, noise=0.3, train_fraction=0.5)
    a, b = load_dataset("circle", seed=7, **kwargs), load_dataset("circle", seed=7, **kwargs)
    for field in ("X_train", "y_train", "X_test", "y_test", "points_train", "points_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    c = load_dataset("circle", seed=8, **kwargs)
    assert not np.array_equal(a.X_train, c.X_train)
    # the shipped sets' split is seeded too
    assert np.array_equal(load_dataset("iris", seed=3).y_test, load_dataset("iris", seed=3).y_test)
    assert not np.array_equal(load_dataset("iris", seed=3).y_test, load_dataset("iris", seed=4).y_test)


def test_train_fraction_one_keeps_file_order():
    ds = load_dataset("iris", train_fraction=1.0)
    X, y, _, _ = SHIPPED["iris"].load()
    assert np.array_equal(ds.X_train, X) and np.array_equal(ds.y_train, y)
    assert ds.X_test.shape == (0, 4) and ds.y_test.shape == (0,)


def test_regression_dataset_and_dtype():
    ds = load_dataset("plane", samples=50, dtype="float32", train_fraction=0.6)
    assert ds.task == "regression" and ds.classes == () and ds.n_outputs == 1
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.float32
    assert ds.y_train.shape == (30, 1) and ds.y_test.shape == (20, 1)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.01, "half", None, 0.001])
def test_bad_train_fraction_names_field(fraction):
    with pytest.raises(DataError, match="data.train_fraction"):
        load_dataset("xor", samples=100, train_fraction=fraction)


def test_unknown_source_lists_valid_names():
    with pytest.raises(DataError) as info:
        load_dataset("spirals")
    msg = str(info.value)
    assert "data.source" in msg and "'spirals'" in msg
    for name in ("spiral", "multi-gaussian", "iris", "digits"):
        assert name in msg


def test_bad_dtype_and_seed():
    with pytest.raises(DataError, match="dtype"):
        load_dataset("xor", dtype="int32")
    with pytest.raises(DataError, match="seed"):
        load_dataset("xor", seed=-1)


def test_source_target_names_the_task_and_output_width(tmp_path):
    from engine.data import source_target
    assert source_target("spiral") == ("classification", 2)
    assert source_target("plane") == ("regression", 1)
    assert source_target("iris") == ("classification", 3)
    assert source_target("digits") == ("classification", 10)
    table = tmp_path / "t.csv"
    table.write_text("a,b,y\n1,2,p\n3,4,q\n5,6,r\n7,8,p\n")
    assert source_target({"csv": "t.csv", "target": "y", "task": "classification"}, base_dir=tmp_path) == \
        ("classification", 3)
    with pytest.raises(DataError, match="unknown source"):
        source_target("nope")


def test_csv_text_features_are_one_hot_and_columns_can_be_left_out(tmp_path):
    path = write(tmp_path, "colour,size,id,label\nred,1,7,x\nblue,2,8,y\nred,3,9,x\ngreen,4,10,y\n")
    X, y, names, classes = load_csv(path, "label", "classification", features=["colour", "size"])
    assert names == ("colour=blue", "colour=green", "colour=red", "size")
    assert X.tolist() == [[0, 0, 1, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 1, 0, 4]]
    assert classes == ("x", "y") and y.tolist() == [0, 1, 0, 1]


def test_csv_missing_values_are_named_or_dropped(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,x\n3,,y\n5,6,x\n,8,y\n9,10,y\n")
    msg = csv_error(path)
    assert "row 3, column 'b': the value is missing" in msg and "2 rows" in msg
    X, y, _, _ = load_csv(path, "label", "classification", missing="drop")
    assert X.tolist() == [[1, 2], [5, 6], [9, 10]] and y.tolist() == [0, 0, 1]
    # an ignored column's gaps do not count
    X, _, names, _ = load_csv(path, "label", "classification", features=["a"], missing="drop")
    assert names == ("a",) and X[:, 0].tolist() == [1, 3, 5, 9]


def test_csv_features_and_missing_through_the_project_source(tmp_path):
    write(tmp_path, "a,b,note,label\n1,2,hi,x\n3,4,there,y\n5,,you,x\n7,8,all,y\n")
    source = {"csv": "data.csv", "target": "label", "task": "classification", "features": ["a", "b"],
              "missing": "drop"}
    data = load_dataset(source, base_dir=tmp_path, train_fraction=1.0)
    assert data.feature_names == ("a", "b") and data.X_train.shape == (3, 2)
    with pytest.raises(DataError, match="'nope' is not in the header"):
        load_dataset(dict(source, features=["nope"]), base_dir=tmp_path)
    with pytest.raises(DataError, match="data.source.missing"):
        load_dataset(dict(source, missing="guess"), base_dir=tmp_path)


def test_csv_inspect_describes_each_column(tmp_path):
    from engine.data.csv_source import inspect_csv
    table = inspect_csv(write(tmp_path, "a,b,c\n1,x,\n2,y,3\n2,x,q\n"))
    kinds = {c.name: (c.kind, c.values, c.missing_lines) for c in table.columns}
    assert kinds == {"a": ("number", (1.0, 2.0), ()), "b": ("text", ("x", "y"), ()), "c": ("mixed", ("3", "q"), (2,))}
    assert table.rows[0] == (2, ("1", "x", ""))
