"""Load a table from a CSV file with a header row.

Row numbers in error messages are line numbers in the file, so the header is row 1
and the first data row is row 2: the numbers a text editor or spreadsheet shows.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
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


MISSING = ("error", "drop")     # what a row with an empty cell in a used column does
MAX_CATEGORIES = 50             # distinct values a text feature may have before one-hot is refused


@dataclass(frozen=True)
class CsvColumn:
    """What a column holds, for the import dialog: numbers or text, and its gaps."""

    name: str
    kind: str                       # "number", "text" (no cell a number) or "mixed"
    values: tuple                   # distinct non-empty values, sorted (at most MAX_CATEGORIES + 1 kept)
    missing_lines: tuple[int, ...]  # file line numbers of the empty cells

    @property
    def distinct(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class CsvTable:
    """A CSV file read as text: its header, rows and a summary of each column."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]       # (file line, stripped fields)
    columns: tuple[CsvColumn, ...]

    def column(self, name: str) -> CsvColumn:
        return self.columns[self.header.index(name)]


def inspect_csv(path) -> CsvTable:
    """Read ``path`` for a preview: the rows as text and what each column holds.

    Refuses only what no choice of columns can fix: an unreadable file, a missing
    or duplicated header, rows with the wrong number of fields.
    """
    path = Path(path)
    header, rows = _read_rows(path)
    for line, fields in rows:
        if len(fields) != len(header):
            raise DataError(f"{path.name} row {line}: expected {len(header)} fields, got {len(fields)}")
    stripped = tuple((line, tuple(f.strip() for f in fields)) for line, fields in rows)
    return CsvTable(path, tuple(header), stripped,
                    tuple(_describe_column(name, j, stripped) for j, name in enumerate(header)))


def _describe_column(name: str, j: int, rows) -> CsvColumn:
    cells = [(line, fields[j]) for line, fields in rows]
    present = [text for _, text in cells if text]
    numbers = sum(_parse_number(text) is not None for text in present)
    kind = "number" if numbers == len(present) else "text" if numbers == 0 else "mixed"
    distinct: set = set()
    for text in present:
        distinct.add(_parse_number(text) if kind == "number" else text)
        if len(distinct) > MAX_CATEGORIES:
            break
    return CsvColumn(name, kind, tuple(sorted(distinct)), tuple(line for line, text in cells if not text))


def load_csv(path, target: str, task: str, standardize: bool = False, *, features: Sequence[str] | None = None,
             missing: str = "error"):
    """Read ``path`` and split it into features and the ``target`` column.

    Returns ``(X, y, feature_names, classes)``.  X float64 [n, d] holds the
    ``features`` columns (default: every column but the target) in file order; a
    feature column of text (no cell a number) is one-hot encoded into one column per
    distinct value, named ``column=value``.  For classification the target may hold
    strings or numbers; ``classes`` is the sorted tuple of distinct labels
    (numerically if all are numbers, then as ints when they are whole) and y is the
    int64 index into it.  For regression y is float64 [n, 1] and ``classes`` is ().
    A row with an empty cell in a used column is an error naming it, or with
    ``missing="drop"`` is left out.  ``standardize`` rescales each feature column to
    mean 0, std 1.
    """
    if task not in TASKS:
        raise DataError(f"data.source.task: must be 'classification' or 'regression', got {task!r}")
    return load_table(inspect_csv(path), target, task, standardize, features=features, missing=missing)


def load_table(table: CsvTable, target: str, task: str, standardize: bool = False, *,
               features: Sequence[str] | None = None, missing: str = "error"):
    """``load_csv`` on a table already read (the import dialog re-reads nothing per click)."""
    name = table.path.name
    if task not in TASKS:
        raise DataError(f"data.source.task: must be 'classification' or 'regression', got {task!r}")
    if missing not in MISSING:
        raise DataError(f"data.source.missing: must be 'error' or 'drop', got {missing!r}")
    header = table.header
    if target not in header:
        raise DataError(f"{name}: target column {target!r} is not in the header; "
                        f"the columns are {', '.join(header)}")
    used = _feature_columns(name, header, target, features)
    rows = _complete_rows(name, table, (target, *used), missing)
    if len(rows) < 2:
        raise DataError(f"{name}: needs at least 2 data rows, found {len(rows)}"
                        + (" with every used cell filled" if len(rows) < len(table.rows) else ""))

    blocks, feature_names = [], []
    for column in used:
        block, names = _feature_block(name, table, column, rows)
        blocks.append(block)
        feature_names.extend(names)
    X = np.concatenate(blocks, axis=1)
    labels = _target_values(name, table, target, task, rows)
    if task == "regression":
        y = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
        classes: tuple = ()
    else:
        classes, y = _encode_classes(labels)
    if standardize:
        X = _standardize(X, feature_names)
    return X, y, tuple(feature_names), classes


def _feature_columns(name: str, header, target: str, features) -> tuple[str, ...]:
    if features is None:
        used = tuple(h for h in header if h != target)
    else:
        if isinstance(features, str) or not all(isinstance(f, str) for f in features):
            raise DataError("data.source.features: must be a list of column names")
        for column in features:
            if column not in header:
                raise DataError(f"{name}: feature column {column!r} is not in the header; "
                                f"the columns are {', '.join(header)}")
            if column == target:
                raise DataError(f"{name}: column {column!r} cannot be both the target and a feature")
        if len(set(features)) != len(features):
            raise DataError("data.source.features: a column is listed twice")
        used = tuple(h for h in header if h in features)        # file order, as the exports expect
    if not used:
        raise DataError(f"{name}: no feature columns besides the target {target!r}")
    return used


def _complete_rows(name: str, table: CsvTable, used: Sequence[str], missing: str) -> list[int]:
    """Indices of the rows to read; an empty used cell is an error or drops its row."""
    gaps = {line: column for column in reversed(used) for line in table.column(column).missing_lines}
    if gaps and missing == "error":
        line = min(gaps)
        raise DataError(f"{name} row {line}, column {gaps[line]!r}: the value is missing "
                        f"({len(gaps)} row{'s' * (len(gaps) != 1)} have a missing value)")
    return [r for r, (line, _) in enumerate(table.rows) if line not in gaps]


def _feature_block(name: str, table: CsvTable, column: str, rows: list[int]) -> tuple[np.ndarray, list[str]]:
    j = table.header.index(column)
    info = table.column(column)
    texts = [table.rows[r][1][j] for r in rows]
    if info.kind == "text":
        if info.distinct > MAX_CATEGORIES:
            raise DataError(f"{name}, column {column!r}: text with more than {MAX_CATEGORIES} distinct values "
                            "is not a category; ignore the column or give it numbers")
        values = list(info.values)
        block = np.array([[text == v for v in values] for text in texts], dtype=np.float64)
        return block.reshape(len(texts), len(values)), [f"{column}={v}" for v in values]
    out = np.empty((len(texts), 1))
    for k, text in enumerate(texts):
        out[k, 0] = _finite(name, table.rows[rows[k]][0], column, text)
    return out, [column]


def _finite(name: str, line: int, column: str, text: str) -> float:
    value = _parse_number(text)
    if value is None:
        raise DataError(f"{name} row {line}, column {column!r}: {text!r} is not a number")
    if not math.isfinite(value):
        raise DataError(f"{name} row {line}, column {column!r}: {text!r} is not a finite number")
    return value


def _target_values(name: str, table: CsvTable, target: str, task: str, rows: list[int]) -> list:
    j = table.header.index(target)
    if task == "classification":
        return [table.rows[r][1][j] for r in rows]
    return [_finite(name, table.rows[r][0], target, table.rows[r][1][j]) for r in rows]


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
