"""TensorFlow Playground's input features, computed from raw 2-D points.

The UI evaluates the trained network on a grid of points to draw the decision
boundary; it must feed that grid through the same ``make_features`` call.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from engine.errors import DataError

_FORMULAS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}

FEATURES: tuple[str, ...] = tuple(_FORMULAS)


def check_feature_names(names: Sequence[str]) -> tuple[str, ...]:
    """Return ``names`` as a tuple, or raise DataError naming the bad entry."""
    valid = ", ".join(FEATURES)
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise DataError(f"data.features: must be a list of feature names ({valid}), got {names!r}")
    names = tuple(names)
    if not names:
        raise DataError(f"data.features: choose at least one of {valid}")
    for name in names:
        if name not in _FORMULAS:
            raise DataError(f"data.features: unknown feature {name!r}; valid features are {valid}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"data.features: {', '.join(map(repr, duplicates))} listed more than once")
    return names


def make_features(points: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` (in that order) computed from ``points`` [n, 2]; float64 [n, len(names)]."""
    names = check_feature_names(names)
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"make_features expects points of shape [n, 2], got {points.shape}")
    x1, x2 = points[:, 0], points[:, 1]
    return np.column_stack([_FORMULAS[name](x1, x2) for name in names])
