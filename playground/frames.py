"""What the worker sends to the UI: an immutable frame computed from a session.

A frame carries the engine's ``Snapshot`` (weights, gradients, gradient norms),
a fresh full-data ``Evaluation`` and the network evaluated on a grid over a plane:
the output (decision boundary or regression surface) and every node's outputs (the
per-neuron heatmaps).  For 2-D data sets the plane is the input plane; for data with
more inputs it is a projection (engine/projection.py: the first two principal
components).  The grid also carries the outcomes on the data (confusion matrices or
predicted against actual, engine/outcomes.py): both cost a pass over many rows, so
both are re-evaluated at the grid's slower pace.  Frames are computed in the
training engine's process, at most 60 times a second (engine_loop.FRAME_INTERVAL),
so the UI only draws.
"""
from __future__ import annotations

import copyreg
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import weakref

import numpy as np

from engine.data import Dataset
from engine.data.features import make_features
from engine.outcomes import ClassOutcomes, RegressionOutcomes, session_outcomes
from engine.projection import Projection, feature_projection, pca_projection
from engine.session import Evaluation, Snapshot, TrainingSession

def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


# Snapshots and grids hand out read-only mappings, and frames cross from the engine
# process to the GUI's by pickle: rebuild them as read-only mappings there.
copyreg.pickle(MappingProxyType, lambda m: (_mapping_proxy, (dict(m),)))

GRID_EXTENT = (-6.0, 6.0, -6.0, 6.0)     # TensorFlow Playground's input square
GRID_RESOLUTION = 50


@dataclass(frozen=True)
class GridOutputs:
    """Network outputs over a square grid of a plane, and its outcomes on the data.

    ``output`` is [res, res] (row = the vertical axis from bottom to top, column =
    the horizontal axis from left to right): the probability of class 1 for a
    one-unit classifier, the winning class index for a multi-class one, the value
    for regression.  ``node_outputs`` maps each node id to [res, res, units].
    ``axes`` names the plane's axes; for a projected plane ``points_train`` and
    ``points_test`` are the data's rows projected onto it (None for 2-D data sets,
    whose points are the dataset's own).
    """

    extent: tuple[float, float, float, float]
    resolution: int
    output: np.ndarray
    node_outputs: Mapping[str, np.ndarray]
    axes: tuple[str, str] = ("x1", "x2")
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    outcomes: ClassOutcomes | RegressionOutcomes | None = None


@dataclass(frozen=True)
class TrainingFrame:
    snapshot: Snapshot
    evaluation: Evaluation
    steps_per_second: float
    grid: GridOutputs | None
    # The outcomes when there is no grid to carry them (data with a single input).
    outcomes: ClassOutcomes | RegressionOutcomes | None = None


def _grid_points(extent, resolution) -> np.ndarray:
    x1 = np.linspace(extent[0], extent[1], resolution)
    x2 = np.linspace(extent[2], extent[3], resolution)
    g1, g2 = np.meshgrid(x1, x2)
    return np.column_stack([g1.ravel(), g2.ravel()])


# One projection per data set and choice: the plane must not move while the network learns.
_projections: weakref.WeakKeyDictionary[Dataset, dict] = weakref.WeakKeyDictionary()
PCA = None      # the plane choice "first two principal components"; else a pair of input names


def has_plane(dataset: Dataset) -> bool:
    """2-D points, or at least two inputs and two rows to find a plane in."""
    return dataset.points_train is not None or (dataset.X_train.shape[1] >= 2 and dataset.X_train.shape[0] >= 2)


def plane_of(dataset: Dataset, choice: tuple[str, str] | None = PCA) -> Projection | None:
    """The projection a data set without an input plane is drawn on (None for 2-D sets):
    its principal plane, or the plane of two chosen inputs with the rest at their mean.
    Data with exactly two inputs is drawn over them; a pair that is not two of the
    data's inputs falls back to the principal plane."""
    if dataset.points_train is not None or not has_plane(dataset):
        return None
    names = dataset.feature_names
    if len(names) == 2:
        choice = tuple(names)               # two inputs are a plane already: no projection needed
    elif choice is not PCA and not (len(choice) == 2 and choice[0] != choice[1] and set(choice) <= set(names)):
        choice = PCA
    kept = _projections.setdefault(dataset, {})
    if choice not in kept:
        kept[choice] = (pca_projection(dataset.X_train) if choice is PCA
                        else feature_projection(dataset.X_train, names, *choice))
    return kept[choice]


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def compute_grid(session: TrainingSession, extent=GRID_EXTENT, resolution: int = GRID_RESOLUTION,
                 plane: tuple[str, str] | None = PCA) -> GridOutputs | None:
    """Evaluate the network over its plane: the input plane of 2-D points, else a
    projection; None for data with a single input, which has no plane."""
    dataset = session.dataset
    if not has_plane(dataset):
        return None
    projection = plane_of(dataset, plane)
    if projection is None:
        X = make_features(_grid_points(extent, resolution), dataset.feature_names)
        axes, points = ("x1", "x2"), (None, None)
    else:
        extent = projection.extent(dataset.X_train)
        X = projection.lift(_grid_points(extent, resolution))
        axes = projection.axes
        points = tuple(_readonly(projection.project(part)) for part in (dataset.X_train, dataset.X_test))
    net = session.network
    out = net.forward(X.astype(net.dtype), training=False)
    if dataset.task == "classification" and out.shape[1] > 1:
        surface = np.argmax(out, axis=1).astype(np.float64)
    else:
        surface = out[:, 0].astype(np.float64)
    nodes = {}
    for step in net.plan.steps:
        value = net.node_output(step.node.id)
        nodes[step.node.id] = _readonly(np.array(value, dtype=np.float64).reshape(resolution, resolution, -1))
    surface = _readonly(surface.reshape(resolution, resolution))
    return GridOutputs(tuple(extent), resolution, surface, MappingProxyType(nodes), axes, *points,
                       outcomes=session_outcomes(session))


def compute_frame(session: TrainingSession, steps_per_second: float,
                  reuse_grid: GridOutputs | None = None, plane: tuple[str, str] | None = PCA) -> TrainingFrame:
    """A frame of the session now; ``reuse_grid`` passes on an earlier grid instead of
    evaluating a new one (the grid costs three times the rest of a frame).  ``plane``:
    which plane data with many inputs is drawn on (``plane_of``)."""
    evaluation = session.evaluate()
    grid = reuse_grid if reuse_grid is not None else compute_grid(session, plane=plane)
    # Without a plane there is no grid, and no slower pace to keep: outcomes come every frame.
    outcomes = session_outcomes(session) if grid is None and not has_plane(session.dataset) else None
    return TrainingFrame(session.snapshot(), evaluation, steps_per_second, grid, outcomes)
