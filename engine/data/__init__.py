"""Data sources for the playground: 2-D generators, shipped sets and CSV files.

``load_dataset`` is the one entry point; it turns a project file's ``data`` section
into train/test arrays.  ``make_features`` is exported so the UI can feed a grid of
2-D points through the same feature transform when it draws a decision boundary.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.data.csv_source import TASKS, load_csv, standardization
from engine.data.features import FEATURES, check_feature_names, make_features
from engine.data.generators import GENERATORS, Generator
from engine.data.hand_points import MAX_ADDED, check_point_edits, kept, refuse_point_edits
from engine.data.shipped import SHIPPED, ShippedDataset
from engine.errors import DataError
from engine.validate import float_dtype, number

__all__ = [
    "Dataset", "load_dataset", "DEFAULT_SAMPLES", "DEFAULT_FEATURES", "source_names", "make_features", "FEATURES",
    "GENERATORS", "Generator", "SHIPPED", "ShippedDataset", "load_csv", "source_target", "MAX_ADDED",
]

_CSV_KEYS = ("csv", "target", "task", "standardize", "features", "missing")


@dataclass(frozen=True, eq=False)  # eq=False: == on arrays is ambiguous
class Dataset:
    """Train and test arrays plus what the network builder needs to know about them.

    X arrays are [n, n_features].  For classification y is int64 [n] holding the
    index into ``classes`` (the sorted original labels); for regression y is
    [n, n_outputs] and ``classes`` is ().  ``points_*`` are the raw 2-D coordinates
    of a generated set (for plotting), None for CSV and shipped sets.  ``generated_*``
    hold each row's index in the generator's order, -1 for a point added by hand
    (those are the training set's last rows, in the order of ``data.added``).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    classes: tuple
    feature_names: tuple[str, ...]
    points_train: np.ndarray | None = None
    points_test: np.ndarray | None = None
    # With ``standardize`` the network sees (raw - input_shift) / input_scale; exports
    # carry both so that other tools can be fed raw columns.  None: raw values as they are.
    input_shift: np.ndarray | None = None
    input_scale: np.ndarray | None = None
    image_shape: tuple[int, int] | None = None     # each row is an image of this shape (digits)
    generated_train: np.ndarray | None = None
    generated_test: np.ndarray | None = None

    @property
    def input_scaling(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self.input_shift is None else (self.input_shift, self.input_scale)

    def raw_inputs(self, X: np.ndarray) -> np.ndarray:
        """Rows of X as they were in the file, before standardisation (to show them as images)."""
        return X if self.input_shift is None else X * self.input_scale + self.input_shift

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        """Number of classes; 0 for regression."""
        return len(self.classes)

    @property
    def n_outputs(self) -> int:
        """Target width: y's columns for regression, the number of classes for classification."""
        return self.y_train.shape[1] if self.task == "regression" else self.n_classes


def source_names() -> tuple[str, ...]:
    """Every named source: the generators, then the shipped sets."""
    return tuple(GENERATORS) + tuple(SHIPPED)


def _check_dtype(dtype) -> np.dtype:
    return float_dtype(dtype, error=DataError)


def _check_train_fraction(train_fraction) -> float:
    return number("data.train_fraction", train_fraction, low=0.0, low_open=True, high=1.0, error=DataError)


def _check_seed(seed) -> int:
    if not isinstance(seed, numbers.Integral):
        raise DataError(f"seed: must be an integer >= 0, got {seed!r}")
    return number("seed", seed, integer=True, low=0, error=DataError)


def _read_csv_source(source: dict, base_dir, standardize: bool):
    unknown = sorted(set(source) - set(_CSV_KEYS))
    if unknown:
        raise DataError(f"data.source: unknown key {unknown[0]!r}; a CSV source takes {', '.join(_CSV_KEYS)}")
    for key in ("csv", "target", "task"):
        if not isinstance(source.get(key), str) or not source[key]:
            raise DataError(f"data.source.{key}: required, a string")
    if source["task"] not in TASKS:
        raise DataError(f"data.source.task: must be 'classification' or 'regression', got {source['task']!r}")
    standardize = source.get("standardize", standardize)
    if not isinstance(standardize, bool):
        raise DataError(f"data.source.standardize: must be true or false, got {standardize!r}")
    path = Path(source["csv"]).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    X, y, names, classes = load_csv(path, source["target"], source["task"], features=source.get("features"),
                                    missing=source.get("missing", "error"))
    return X, y, names, classes, source["task"], standardize


DEFAULT_SAMPLES = 500                   # points drawn by a generator (TF Playground's count)
DEFAULT_FEATURES = ("x1", "x2")         # the raw coordinates, no derived features


def load_dataset(source, *, samples: int = DEFAULT_SAMPLES, noise: float = 0.0, train_fraction: float = 0.5,
                 features: Sequence[str] = DEFAULT_FEATURES, seed: int = 0, base_dir=None,
                 standardize: bool = False, dtype=np.float64, added=(), removed=()) -> Dataset:
    """Build the data set a project's ``data`` section describes, split into train and test.

    ``source`` is a generator name, ``"iris"``/``"digits"``, or a dict
    ``{"csv": path, "target": column, "task": ..., "standardize": bool}`` whose
    relative path is resolved against ``base_dir`` (the project file's folder).
    ``samples``, ``noise`` and ``features`` apply to generators only;
    ``standardize`` to CSV and shipped sets only (a CSV dict's own key wins).

    The split is a permutation seeded by ``seed``; ``train_fraction == 1.0``
    trains on every row in file order and leaves the test set empty.

    ``added`` ([[x1, x2, label], ...]) and ``removed`` (generated indices) are points
    placed or deleted by hand on a generated set (engine.data.hand_points): the split
    is made on the generated points, the removed ones then leave their side of it and
    the added ones join the training set, last.
    """
    dt = _check_dtype(dtype)
    fraction = _check_train_fraction(train_fraction)
    seed = _check_seed(seed)
    points, image_shape, edits = None, None, None
    if isinstance(source, dict):
        X, y, names, classes, task, standardize = _read_csv_source(source, base_dir, standardize)
    elif isinstance(source, str) and source in GENERATORS:
        gen = GENERATORS[source]
        names = check_feature_names(features)
        # Separate streams for generation and split, so changing train_fraction
        # does not change the points themselves.
        points, y = gen.fn(samples, noise, np.random.default_rng([seed, 0]))
        X, task = make_features(points, names), gen.task
        classes = (0, 1) if task == "classification" else ()
        edits = check_point_edits(added, removed, len(points), task, len(classes))
    elif isinstance(source, str) and source in SHIPPED:
        if not isinstance(standardize, bool):
            raise DataError(f"data.standardize: must be true or false, got {standardize!r}")
        shipped = SHIPPED[source]
        X, y, names, classes = shipped.load()
        task, image_shape = shipped.task, shipped.image_shape
    else:
        raise DataError(f"data.source: unknown source {source!r}; choose one of "
                        f"{', '.join(source_names())}, or a CSV file as "
                        '{"csv": path, "target": column, "task": "classification" | "regression"}')

    if edits is None:
        refuse_point_edits(added, removed, source)
    scaling = None
    if points is None and standardize:
        scaling = standardization(X, names)
        X = (X - scaling[0]) / scaling[1]
    n = X.shape[0]
    if fraction == 1.0:
        order = np.arange(n)
        n_train = n
    else:
        order = np.random.default_rng([seed, 1]).permutation(n)
        n_train = round(fraction * n)
    if n_train < 1:
        raise DataError(f"data.train_fraction: {train_fraction!r} of {n} rows leaves no training rows")
    train, test = order[:n_train], order[n_train:]

    X = X.astype(dt, copy=False)
    y = y.astype(np.int64 if task == "classification" else dt, copy=False)
    if edits is not None:
        return _edited(X, y, points, train, test, edits, task, classes, names)
    return Dataset(
        X_train=X[train], y_train=y[train], X_test=X[test], y_test=y[test],
        task=task, classes=tuple(classes), feature_names=tuple(names),
        input_shift=None if scaling is None else scaling[0],
        input_scale=None if scaling is None else scaling[1],
        image_shape=image_shape,
    )


def _edited(X, y, points, train, test, edits, task, classes, names) -> Dataset:
    """A generated set with its hand edits: removed rows out of both sides, added ones last in training."""
    train, test = kept(train, edits.removed), kept(test, edits.removed)
    if len(train) + len(edits.points) < 1:
        raise DataError("data.removed: removes every training row; keep or add at least one training point")
    X_added = make_features(edits.points, names).astype(X.dtype, copy=False)
    added_rows = np.full(len(edits.points), -1, dtype=np.int64)
    return Dataset(
        X_train=np.concatenate([X[train], X_added]),
        y_train=np.concatenate([y[train], edits.labels.astype(y.dtype, copy=False)]),
        X_test=X[test], y_test=y[test],
        task=task, classes=tuple(classes), feature_names=tuple(names),
        points_train=np.concatenate([points[train], edits.points]), points_test=points[test],
        generated_train=np.concatenate([train, added_rows]), generated_test=test,
    )


def source_target(source, base_dir=None) -> tuple[str, int]:
    """The task of ``source`` and the number of outputs a network needs for it.

    The one place the app learns what a data set asks of the output layer: a
    generator draws a handful of points, a file is read (and checked) in full.
    """
    data = load_dataset(source, samples=8, train_fraction=1.0, base_dir=base_dir)
    return data.task, data.n_outputs
