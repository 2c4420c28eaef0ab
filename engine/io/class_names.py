"""Class names as exports carry them: the data set's labels, in output order.

A classifier's output columns follow ``Dataset.classes``, the distinct labels sorted:
column k is class k, and a single (sigmoid) column is the probability of the second
class.  Exports store the labels so a reader can name a prediction without the data
set: as JSON text (a list; text labels stay strings, numeric labels numbers) under
the key ``class_names``.  A regression network has none, and nothing is written.

Labels come from a data file, so they may be long or hold quotes, newlines or any
other character.  JSON escapes them (as ASCII, so every format can hold the text),
the generated scripts take them through ``repr``, and their JSON text is capped at
``MAX_CLASS_NAMES_BYTES``, when writing and when reading.
"""
from __future__ import annotations

import json
import math
from typing import Iterable

import numpy as np

from ..errors import ConfigError

CLASS_NAMES_KEY = "class_names"             # never a tensor name: those end in .weight or .bias
MAX_CLASS_NAMES_BYTES = 2**20               # of JSON text: thousands of classes with long labels
_SHOWN_CHARS = 60                           # of a refused label, in a message


def _shown(label) -> str:
    text = repr(label)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _is_label(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, int))


def class_names_json(names: list) -> str:
    """The labels as one line of ASCII JSON (every other character escaped)."""
    return json.dumps(names)


def _check_size(text: str, where: str, error=ConfigError) -> None:
    if len(text) > MAX_CLASS_NAMES_BYTES:
        raise error(f"{where}: the class names take {len(text):,} bytes as JSON, more than the "
                    f"{MAX_CLASS_NAMES_BYTES:,} an export carries; shorten the labels")


def class_name_list(classes: Iterable | None, where: str = "the export") -> list | None:
    """The labels as a JSON-ready list (str, int or finite float), or None when there are
    none (regression, or not given).  A label of another type, or labels too long
    together, are refused naming the label or the size."""
    if classes is None:
        return None
    names = [c.item() if isinstance(c, np.generic) else c for c in classes]
    if not names:
        return None
    for name in names:
        if not _is_label(name):
            raise ConfigError(f"{where}: class label {_shown(name)} is not text or a finite number")
    try:
        text = class_names_json(names)
    except ValueError as exc:          # an integer beyond Python's digit limit for str()
        raise ConfigError(f"{where}: a class label cannot be written as JSON ({exc})") from None
    _check_size(text, where)
    return names


def check_class_count(names: list | None, width: int, where: str = "the export") -> None:
    """The labels fit the output: one per column, or two for a single probability column."""
    if names is None:
        return
    needed = 2 if width == 1 else width
    if len(names) != needed:
        columns = "1 column (the probability of the second class)" if width == 1 else f"{width} columns"
        raise ConfigError(f"{where}: the data set has {len(names)} classes, but the network's output has "
                          f"{columns}, which needs {needed}")


def parse_class_names(value, where: str, error=ConfigError) -> list:
    """Class names read from a file: JSON text (or an already parsed list), checked."""
    if isinstance(value, str):
        _check_size(value, where, error)
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise error(f"{where}: '{CLASS_NAMES_KEY}' is not JSON text") from None
    if not isinstance(value, list):
        raise error(f"{where}: '{CLASS_NAMES_KEY}' must be a list of labels")
    for name in value:
        if not _is_label(name):
            raise error(f"{where}: '{CLASS_NAMES_KEY}' holds {_shown(name)}; a label is text or a finite number")
    _check_size(class_names_json(value), where, error)
    return value
