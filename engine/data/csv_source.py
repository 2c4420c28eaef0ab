"""Load a table from a CSV file with a header row.

Row numbers in error messages are line numbers in the file, so the header is row 1
and the first data row is row 2: the numbers a text editor or spreadsheet shows.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.errors import DataError

TASKS = ("classification", "regression")


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The stripped header and the (line number, fields) of every non-blank data row."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        # utf-8-sig drops the byte-order mark that spreadsheet programs like to write.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            rows = [(reader.line_num, row) for row in reader if any(f.strip() for f in row)]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path.name} row {reader.line_num}: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    header = [name.strip() for name in rows[0][1]]
    if all(_parse_number(name) is not None for name in header):
        raise DataError(f"{path.name} row {rows[0][0]}: expected a header row naming the columns, "
                        f"found numbers")
    for col, name in enumerate(header, start=1):
        if not name:
            raise DataError(f"{path.name} row {rows[0][0]}: column {col} has no name in the header")
        if header.index(name) != col - 1:
            raise DataError(f"{path.name} row {rows[0][0]}: column name {name!r} appears twice")
    return header, rows[1:]


def standardization(X: np.ndarray, names: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(shift, scale) per column such that (X - shift) / scale has zero mean and unit
    (population) std; a constant column is only centred (scale 1).

    Ordinary columns get the plain formulas.  A column of huge or tiny values (beyond
    1e100 or below 1e-100 in magnitude) is computed divided by its largest magnitude,
    so values near the float64 limit (1e300 and up) cannot overflow the squares or
    the sum.  A column whose differences from the mean still overflow float64, or
    whose standard deviation underflows to 0, is refused by name (``names``, else its
    position) instead of silently becoming a column of zeros.
    """
    X = np.asarray(X, dtype=np.float64)
    # Ordinary columns: the plain formulas over the whole matrix, exactly as always.
    # Their overflow on extreme columns is expected here, and those columns are redone.
    with np.errstate(over="ignore", invalid="ignore"):
        shift = X.mean(axis=0)
        std = (X - shift).std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    magnitude = np.max(np.abs(X), axis=0) if len(X) else np.zeros(X.shape[1])
    for j in np.flatnonzero((magnitude != 0) & ((magnitude < _PLAIN_RANGE[0]) | (magnitude > _PLAIN_RANGE[1]))):
        shift[j], scale[j] = _scaled_stats(X[:, j], float(magnitude[j]), _column_label(j, names))
    return shift, scale


def _column_label(j: int, names: Sequence[str] | None) -> str:
    return f"column {names[j]!r}" if names is not None else f"feature column {j + 1}"


# Between these magnitudes squares and sums of squares cannot overflow or underflow,
# so ordinary columns get exactly the plain mean and std (results unchanged).
_PLAIN_RANGE = (1e-100, 1e100)
_FLOAT64_MAX = float(np.finfo(np.float64).max)


def _scaled_stats(column: np.ndarray, magnitude: float, label: str) -> tuple[float, float]:
    """(mean, population std, or 1 for a constant column) of a column of huge or tiny values."""
    unit = column / magnitude                     # in [-1, 1]: nothing below can overflow
    mean_unit = float(unit.mean())
    deviation = unit - mean_unit
    std_unit = float(np.sqrt(np.mean(deviation * deviation)))
    if std_unit == 0.0:
        return mean_unit * magnitude, 1.0         # constant column: centred only
    # (raw - mean) / std is computed on the raw values (here and in every export), so
    # the raw differences must be finite too.  Python floats: no NumPy overflow warnings.
    if float(np.max(np.abs(deviation))) * magnitude > _FLOAT64_MAX:
        raise DataError(f"{label}: values from {column.min():.4g} to {column.max():.4g} are too far apart "
                        "to standardize in float64 (their differences overflow)")
    scale = std_unit * magnitude
    if not scale > 0.0:
        raise DataError(f"{label}: its standard deviation underflows to 0 in float64 "
                        f"(values of magnitude {magnitude:.3g}), so the column cannot be standardized")
    return mean_unit * magnitude, scale


def _standardize(X: np.ndarray, names: Sequence[str] | None = None) -> np.ndarray:
    shift, scale = standardization(X, names)
    return (X - shift) / scale


def load_csv(path, target: str, task: str, standardize: bool = False):
    """Read ``path`` and split it into features and the ``target`` column.

    Returns ``(X, y, feature_names, classes)``: X float64 [n, d] holds every column
    but the target, in file order.  For classification the target may hold strings
    or numbers; ``classes`` is the sorted tuple of distinct labels (numerically if
    all are numbers, then as ints when they are whole) and y is the int64 index into
    it.  For regression y is float64 [n, 1] and ``classes`` is ().  ``standardize``
    rescales each feature column to mean 0, std 1.
    """
    path = Path(path)
    name = path.name
    if task not in TASKS:
        raise DataError(f"data.source.task: must be 'classification' or 'regression', got {task!r}")
    header, rows = _read_rows(path)
    if target not in header:
        raise DataError(f"{name}: target column {target!r} is not in the header; "
                        f"the columns are {', '.join(header)}")
    if len(header) < 2:
        raise DataError(f"{name}: no feature columns besides the target {target!r}")
    if len(rows) < 2:
        raise DataError(f"{name}: needs at least 2 data rows, found {len(rows)}")

    t = header.index(target)
    feature_names = tuple(h for i, h in enumerate(header) if i != t)
    X = np.empty((len(rows), len(header) - 1), dtype=np.float64)
    labels: list[str] = []
    for r, (line, fields) in enumerate(rows):
        if len(fields) != len(header):
            raise DataError(f"{name} row {line}: expected {len(header)} fields, got {len(fields)}")
        values = []
        for col, text in zip(header, fields):
            text = text.strip()
            if col == target and task == "classification":
                if not text:
                    raise DataError(f"{name} row {line}, column {col!r}: the class label is empty")
                labels.append(text)
                continue
            value = _parse_number(text)
            if value is None:
                raise DataError(f"{name} row {line}, column {col!r}: {text!r} is not a number")
            if not math.isfinite(value):
                raise DataError(f"{name} row {line}, column {col!r}: {text!r} is not a finite number")
            if col == target:
                labels.append(value)
            else:
                values.append(value)
        X[r] = values

    if task == "regression":
        y = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
        classes: tuple = ()
    else:
        classes, y = _encode_classes(labels)
    if standardize:
        X = _standardize(X, feature_names)
    return X, y, feature_names, classes


def _encode_classes(labels: list[str]) -> tuple[tuple, np.ndarray]:
    """Sorted distinct labels and each row's index into them."""
    numbers = [_parse_number(label) for label in labels]
    if all(v is not None and math.isfinite(v) for v in numbers):
        # Numeric labels sort as numbers ("10" after "9"); "1" and "1.0" are one class.
        keys = [int(v) if v.is_integer() else v for v in numbers]
    else:
        keys = labels
    classes = tuple(sorted(set(keys)))
    index = {c: i for i, c in enumerate(classes)}
    return classes, np.array([index[k] for k in keys], dtype=np.int64)
