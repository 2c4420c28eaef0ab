"""What the worker sends to the UI: an immutable frame computed from a session.

A frame carries the engine's ``Snapshot`` (weights, gradients, gradient norms),
a fresh full-data ``Evaluation`` and, for 2-D data sets, the network evaluated on a
grid over the input plane: the output (decision boundary or regression surface)
and every node's outputs (the per-neuron heatmaps).  Frames are computed in the
training engine's process, at most 60 times a second (engine_loop.FRAME_INTERVAL),
so the UI only draws.
"""
from __future__ import annotations

import copyreg
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from engine.data.features import make_features
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
    """Network outputs over a square grid of the input plane.

    ``output`` is [res, res] (row = x2 from bottom to top, column = x1 from left
    to right): the probability of class 1 for a one-unit classifier, the winning
    class index for a multi-class one, the value for regression.  ``node_outputs``
    maps each node id to [res, res, units].
    """

    extent: tuple[float, float, float, float]
    resolution: int
    output: np.ndarray
    node_outputs: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class TrainingFrame:
    snapshot: Snapshot
    evaluation: Evaluation
    steps_per_second: float
    grid: GridOutputs | None


def _grid_points(extent, resolution) -> np.ndarray:
    x1 = np.linspace(extent[0], extent[1], resolution)
    x2 = np.linspace(extent[2], extent[3], resolution)
    g1, g2 = np.meshgrid(x1, x2)
    return np.column_stack([g1.ravel(), g2.ravel()])


def compute_grid(session: TrainingSession, extent=GRID_EXTENT, resolution: int = GRID_RESOLUTION) -> GridOutputs | None:
    """Evaluate the network over the input plane (None unless the data is 2-D points)."""
    dataset = session.dataset
    if dataset.points_train is None:
        return None
    X = make_features(_grid_points(extent, resolution), dataset.feature_names).astype(session.network.dtype)
    net = session.network
    out = net.forward(X, training=False)
    if dataset.task == "classification" and out.shape[1] > 1:
        surface = np.argmax(out, axis=1).astype(np.float64)
    else:
        surface = out[:, 0].astype(np.float64)
    nodes = {}
    for step in net.plan.steps:
        value = net.node_output(step.node.id)
        nodes[step.node.id] = np.array(value, dtype=np.float64).reshape(resolution, resolution, -1)
        nodes[step.node.id].flags.writeable = False
    surface = surface.reshape(resolution, resolution)
    surface.flags.writeable = False
    return GridOutputs(extent, resolution, surface, MappingProxyType(nodes))


def compute_frame(session: TrainingSession, steps_per_second: float,
                  reuse_grid: GridOutputs | None = None) -> TrainingFrame:
    """A frame of the session now; ``reuse_grid`` passes on an earlier grid instead of
    evaluating a new one (the grid costs three times the rest of a frame)."""
    evaluation = session.evaluate()
    grid = reuse_grid if reuse_grid is not None else compute_grid(session)
    return TrainingFrame(session.snapshot(), evaluation, steps_per_second, grid)
