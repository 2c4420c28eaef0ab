"""The project's ``data`` section after a point is clicked onto or off the output map.

Qt-free, so the rules are tested without a window.  The keys are those of
engine.data.hand_points: ``added`` ([[x1, x2, label], ...], extra training points)
and ``removed`` (indices of generated points in the generator's order).  An empty
list is dropped, so undoing every click gives back the section as it was.
"""
from __future__ import annotations

import copy

import numpy as np

DECIMALS = 3          # a thousandth of a unit is far below a pixel of the map; the file stays readable


def with_point_added(data: dict, x1: float, x2: float, label: int | float) -> dict:
    """``data`` with the point (x1, x2) of class index (int) or target value (float) ``label`` added."""
    label = int(label) if isinstance(label, (int, np.integer)) else float(label)
    point = [round(float(x1), DECIMALS), round(float(x2), DECIMALS), label]
    return _with(data, added=[*data.get("added", []), point])


def with_point_removed(data: dict, dataset, split: str, row: int) -> dict:
    """``data`` without row ``row`` of the ``split`` ("train" or "test") side of ``dataset``.

    A generated point is listed in ``removed``; a point added by hand leaves ``added``.
    Added points are found by their coordinates, not their position, so a second
    click made before the first one's data set is built still removes the right one.
    """
    generated = dataset.generated_train if split == "train" else dataset.generated_test
    index = int(generated[row])
    if index >= 0:
        return _with(data, removed=sorted({*data.get("removed", []), index}))
    x1, x2 = dataset.points_train[row]
    added = list(data.get("added", []))
    for k, entry in enumerate(added):
        if entry[0] == x1 and entry[1] == x2:
            return _with(data, added=added[:k] + added[k + 1:])
    return copy.deepcopy(data)          # already gone (an earlier click removed it)


def _with(data: dict, **lists) -> dict:
    new = copy.deepcopy(data)
    for key, values in lists.items():
        if values:
            new[key] = values
        else:
            new.pop(key, None)
    return new


def nearest_point(points: np.ndarray, x1: float, x2: float, pixel: tuple[float, float]) -> tuple[int, float]:
    """(row, distance in pixels) of the point of ``points`` [n, 2] nearest (x1, x2).

    ``pixel`` is the size of a screen pixel in data units along each axis, so the
    distance is what the eye sees even when the axes are scaled differently.
    Returns (-1, inf) when there are no points.
    """
    if points is None or not len(points):
        return -1, float("inf")
    d = np.hypot((points[:, 0] - x1) / pixel[0], (points[:, 1] - x2) / pixel[1])
    row = int(np.argmin(d))
    return row, float(d[row])
