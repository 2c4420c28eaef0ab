"""Points a learner added to, or removed from, a generated 2-D data set by hand.

The output map lets a learner click points in and out (as ConvNetJS does).  A project
keeps those clicks in its ``data`` section, beside the generator's settings:

* ``"added": [[x1, x2, label], ...]``: extra TRAINING points, appended after the
  generated training rows in this order.  ``label`` is a class index (0 or 1) for a
  classification set, a target value for a regression set.
* ``"removed": [i, ...]``: generated points left out, by their index in the
  generator's order (before the split), so the file stays small and every other
  point keeps its place and its side of the split.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import DataError
from engine.validate import brief, number, show

MAX_ADDED = 10_000                # hand-placed points; more is not clicking any more
COORDINATE_LIMIT = 1e6            # keeps derived features (x1^2, x1*x2) finite


@dataclass(frozen=True, eq=False)
class PointEdits:
    points: np.ndarray            # [k, 2] float64, the added points
    labels: np.ndarray            # [k] int64 class indices, or [k, 1] float64 targets
    removed: np.ndarray           # sorted int64 indices into the generated points

    @property
    def empty(self) -> bool:
        return not len(self.points) and not len(self.removed)


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _added_point(where: str, entry: Any, task: str, n_classes: int) -> tuple[float, float, float]:
    if not _is_list(entry) or len(entry) != 3:
        raise DataError(f"{where}: must be [x1, x2, label], got {show(entry)}")
    x1, x2 = (number(f"{where}[{k}]", entry[k], low=-COORDINATE_LIMIT, high=COORDINATE_LIMIT, error=DataError)
              for k in (0, 1))
    label = entry[2]
    if task == "classification":
        if isinstance(label, bool) or not isinstance(label, numbers.Integral) or not 0 <= label < n_classes:
            raise DataError(f"{where}[2]: the class must be an integer from 0 to {n_classes - 1}, "
                            f"got {show(label)}")
    else:
        label = number(f"{where}[2]", label, error=DataError)
    return float(x1), float(x2), label


def _removed(removed: Any, n_generated: int) -> np.ndarray:
    if not _is_list(removed):
        raise DataError(f"data.removed: must be a list of point indices, got {show(removed)}")
    seen: set[int] = set()
    for k, index in enumerate(removed):
        where = f"data.removed[{k}]"
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise DataError(f"{where}: must be the index of a generated point, got {show(index)}")
        if not 0 <= index < n_generated:
            raise DataError(f"{where}: {brief(index)} is not a generated point; with {n_generated} samples "
                            f"the indices run from 0 to {n_generated - 1}")
        if index in seen:
            raise DataError(f"{where}: point {index} is listed twice")
        seen.add(int(index))
    return np.array(sorted(seen), dtype=np.int64)


def check_point_edits(added: Any, removed: Any, n_generated: int, task: str, n_classes: int) -> PointEdits:
    """The checked edits, or DataError naming the entry at fault."""
    if not _is_list(added):
        raise DataError(f"data.added: must be a list of [x1, x2, label] points, got {show(added)}")
    if len(added) > MAX_ADDED:
        raise DataError(f"data.added: at most {MAX_ADDED:,} points can be added by hand, got {len(added):,}")
    rows = [_added_point(f"data.added[{k}]", entry, task, n_classes) for k, entry in enumerate(added)]
    points = np.array([r[:2] for r in rows], dtype=np.float64).reshape(-1, 2)
    labels = np.array([r[2] for r in rows], dtype=np.int64 if task == "classification" else np.float64)
    if task != "classification":
        labels = labels.reshape(-1, 1)
    return PointEdits(points, labels, _removed(removed, n_generated))


def refuse_point_edits(added: Any, removed: Any, source: Any) -> None:
    """Only generated sets take hand-placed points: anything else listing some is an error."""
    for field, value in (("added", added), ("removed", removed)):
        if not (_is_list(value) and len(value) == 0):
            raise DataError(f"data.{field}: only a generated 2-D data set takes points added or removed by "
                            f"hand; source {brief(source)} is not one")


def kept(rows: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``rows`` (generated indices) without the removed ones, order kept."""
    return rows[~np.isin(rows, removed)]
