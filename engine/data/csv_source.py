"""Load a table from a CSV file with a header row.

Row numbers in error messages are line numbers in the file, so the header is row 1
and the first data row is row 2: the numbers a text editor or spreadsheet shows.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

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


def standardization(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(shift, scale) per column such that (X - shift) / scale has zero mean and unit
    (population) std; a constant column is only centred (scale 1)."""
    shift = X.mean(axis=0)
    std = (X - shift).std(axis=0)
    return shift, np.where(std > 0, std, 1.0)


def _standardize(X: np.ndarray) -> np.ndarray:
    shift, scale = standardization(X)
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
        X = _standardize(X)
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
