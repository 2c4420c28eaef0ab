"""Frames for data without an input plane: a projected grid and the outcomes."""
from __future__ import annotations

import numpy as np

from engine.outcomes import confusion_matrix
from playground.edits import fit_output
from playground.frames import compute_frame, plane_of
from playground.project import build_session, load_project
from tests.ui.conftest import EXAMPLES


def session_of(example: str):
    return build_session(load_project(EXAMPLES / example))


def csv_session(tmp_path, header: str, row):
    """A two-class session on a CSV of 40 rows, ``row(i)`` giving each row's text."""
    table = tmp_path / "table.csv"
    table.write_text(header + "\n" + "".join(row(i) + "\n" for i in range(40)))
    project = load_project(EXAMPLES / "iris.json").with_changes(
        data={"source": {"csv": str(table), "target": "y", "task": "classification"}, "train_fraction": 0.8})
    return build_session(project.with_changes(**fit_output(project.document, "classification", 2)))


def test_iris_frame_has_a_pca_plane_whose_output_is_the_network_on_the_lifted_inputs():
    session = session_of("iris.json")
    grid = compute_frame(session, 0.0).grid
    plane = plane_of(session.dataset)
    assert grid.axes == plane.axes and grid.axes[0].startswith("PC1")
    assert np.allclose(grid.points_train, plane.project(session.dataset.X_train))
    # a grid cell by hand: lift its centre, run the network, take the winning class
    x0, x1, y0, y1 = grid.extent
    r, c = 7, 31
    point = [[x0 + c * (x1 - x0) / (grid.resolution - 1), y0 + r * (y1 - y0) / (grid.resolution - 1)]]
    out = session.network.forward(plane.lift(point), training=False)
    assert grid.output[r, c] == np.argmax(out[0])
    assert plane_of(session.dataset) is plane                 # the plane does not move


def test_outcomes_match_a_count_by_hand():
    session = session_of("iris.json")
    for _ in range(30):
        session.step()
    outcomes = compute_frame(session, 0.0).grid.outcomes
    data = session.dataset
    predicted = np.argmax(session.network.forward(session.X_test, training=False), axis=1)
    assert np.array_equal(outcomes.test, confusion_matrix(data.y_test, predicted, 3))
    accuracy = np.trace(outcomes.test) / outcomes.test.sum()
    assert accuracy == session.evaluate().test_accuracy


def test_two_d_sets_keep_the_input_plane():
    session = session_of("spiral.json")
    grid = compute_frame(session, 0.0).grid
    assert grid.axes == ("x1", "x2") and grid.points_train is None and plane_of(session.dataset) is None


def test_one_input_data_has_no_plane_and_still_gets_frames(tmp_path):
    frame = compute_frame(csv_session(tmp_path, "a,y", lambda i: f"{i},{i % 2}"), 0.0)
    assert frame.grid is None and frame.evaluation.train_loss > 0


def test_two_chosen_inputs_make_the_plane_with_the_rest_at_their_mean():
    session = session_of("iris.json")
    names = session.dataset.feature_names
    grid = compute_frame(session, 0.0, plane=(names[2], names[0])).grid
    assert grid.axes[0].startswith(names[2]) and grid.axes[1].startswith(names[0])
    X = session.dataset.X_train
    assert np.allclose(grid.points_train, X[:, [2, 0]])
    x0, x1, y0, y1 = grid.extent
    r, c = 11, 40
    point = np.array(X.mean(axis=0))
    point[2] = x0 + c * (x1 - x0) / (grid.resolution - 1)
    point[0] = y0 + r * (y1 - y0) / (grid.resolution - 1)
    out = session.network.forward(point[None, :], training=False)
    assert grid.output[r, c] == np.argmax(out[0])
    assert compute_frame(session, 0.0, plane=("nope", names[0])).grid.axes[0].startswith("PC1")


def test_a_table_of_two_inputs_is_drawn_over_those_inputs(tmp_path):
    session = csv_session(tmp_path, "a,b,y", lambda i: f"{i % 7},{i % 5},{i % 2}")
    grid = compute_frame(session, 0.0).grid
    assert grid.axes == ("a", "b") and np.allclose(grid.points_train, session.dataset.X_train)


def test_without_a_plane_the_frame_carries_the_outcomes_itself(tmp_path):
    session = csv_session(tmp_path, "a,y", lambda i: f"{i},{i % 2}")
    frame = compute_frame(session, 0.0)
    predicted = (session.network.forward(session.X_test, training=False)[:, 0] > 0.5).astype(int)
    assert frame.grid is None
    assert np.array_equal(frame.outcomes.test, confusion_matrix(session.dataset.y_test, predicted, 2))
    assert compute_frame(session_of("iris.json"), 0.0).outcomes is None      # with a plane, the grid has them
